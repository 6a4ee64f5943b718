"""`python -m translator.training ...` and `torchrun --nproc-per-node N -m translator.training ...`:
the same as `translator-train` (each torchrun process trains its share; rank 0 writes)."""
from __future__ import annotations

import sys

from translator.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
