"""`python -m translator.train` / `torchrun -m translator.train`: same as `translator-train`."""
from __future__ import annotations

import sys

from translator.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
