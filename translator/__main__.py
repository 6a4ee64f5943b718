"""`python -m translator`: the same as the `translator` command."""
from __future__ import annotations

import sys

from translator.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
