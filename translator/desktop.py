"""Desktop integration on Linux: the app's launcher entry and icon in the user's XDG data folder.

`install_desktop_entry()` writes `applications/<APP_ID>.desktop` (its `Exec` line pointing at the
running installation, its `MimeType` listing the image types the app opens, so "Open with
Translator" appears in file managers) and the icon under `icons/hicolor/`, in
`$XDG_DATA_HOME` (default `~/.local/share`). `uninstall_desktop_entry()` removes exactly those files.
Both raise `TranslatorError` when a file cannot be written or removed. No Qt here.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from translator.errors import TranslatorError
from translator_resources import APP_ICON_SVG, APP_ID, DESKTOP_ENTRY, ICON_SIZES, app_icon_png

# Characters that make the desktop-entry spec require an Exec argument to be quoted.
_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def data_home() -> Path:
    """`$XDG_DATA_HOME` when it is set to an absolute path, else `~/.local/share`."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def launcher_command() -> list[str]:
    """The command that starts this installation of the app: the frozen executable, the
    `translator` script beside this Python, the one on PATH, or `python -m translator`."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.executable).parent / "translator"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    found = shutil.which("translator")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "translator"]


def exec_line(command: Sequence[str]) -> str:
    """`command` as the value of an `Exec` key (quoted per the desktop-entry spec) plus `%F`."""
    def quote(arg: str) -> str:
        if arg and not (set(arg) & _RESERVED):
            return arg
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        return f'"{inner}"'

    # The value is also a desktop-entry string, whose escape rules double each backslash again.
    return " ".join(quote(arg).replace("\\", "\\\\") for arg in command) + " %F"


def entry_text(command: Sequence[str]) -> str:
    """The packaged `.desktop` entry with its `Exec` and `TryExec` lines set for `command`."""
    lines = []
    for line in DESKTOP_ENTRY.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + exec_line(command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0]
        lines.append(line)
    return "\n".join(lines) + "\n"


def installed_files(home: Path | None = None) -> list[Path]:
    """The files `install_desktop_entry` writes under `home` (default `data_home()`)."""
    home = data_home() if home is None else home
    icons = home / "icons" / "hicolor"
    return ([home / "applications" / f"{APP_ID}.desktop", icons / "scalable" / "apps" / f"{APP_ID}.svg"]
            + [icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in ICON_SIZES])


def install_desktop_entry(home: Path | None = None, command: Sequence[str] | None = None) -> list[Path]:
    """Write the launcher entry and the icons under `home` (default `data_home()`); returns the
    files written. `command` defaults to `launcher_command()`."""
    home = data_home() if home is None else home
    command = list(command or launcher_command())
    entry, svg, *pngs = installed_files(home)
    try:
        for path in (entry, svg, *pngs):
            path.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(entry_text(command), encoding="utf-8")
        shutil.copyfile(APP_ICON_SVG, svg)
        for size, png in zip(ICON_SIZES, pngs):
            shutil.copyfile(app_icon_png(size), png)
    except OSError as exc:
        raise TranslatorError(f"cannot install the desktop entry in {home}: {exc}") from exc
    _refresh_caches(home)
    return [entry, svg, *pngs]


def uninstall_desktop_entry(home: Path | None = None) -> list[Path]:
    """Remove what `install_desktop_entry` wrote under `home`; returns the files removed."""
    home = data_home() if home is None else home
    removed = []
    for path in installed_files(home):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise TranslatorError(f"cannot remove {path}: {exc}") from exc
        removed.append(path)
    _refresh_caches(home)
    return removed


def _refresh_caches(home: Path) -> None:
    """Update the MIME and icon caches when their tools exist (best effort: desktops also rescan)."""
    for tool, folder in (("update-desktop-database", home / "applications"),
                         ("gtk-update-icon-cache", home / "icons" / "hicolor")):
        exe = shutil.which(tool)
        if exe is None or not folder.is_dir():
            continue
        args = [exe, "-q", str(folder)]
        if tool == "gtk-update-icon-cache":
            args.insert(2, "-t")  # write the cache although the theme has no index.theme
        try:
            subprocess.run(args, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            pass
