"""The frozen app's entry point (PyInstaller runs this file as `translator`).

Before the command line runs, `site-packages/` beside the executable joins the import path, so
third-party plugins installed there (`pip install --target BUNDLE/site-packages PLUGIN`, with a
Python of the bundle's version) are found through their entry points like in a normal install.
"""
from __future__ import annotations

import sys
from pathlib import Path

PLUGIN_FOLDER = "site-packages"


def _add_plugin_folder() -> None:
    folder = Path(sys.executable).resolve().parent / PLUGIN_FOLDER
    if folder.is_dir() and str(folder) not in sys.path:
        sys.path.append(str(folder))


if __name__ == "__main__":
    _add_plugin_folder()
    from translator.cli.main import main

    sys.exit(main())
