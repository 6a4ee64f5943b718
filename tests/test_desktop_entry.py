"""`translator --install-desktop-entry` / `--uninstall-desktop-entry` in a temporary XDG data folder."""
from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from translator import desktop
from translator.cli.main import main
from translator_resources import APP_ID, ICON_SIZES


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def _read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_install_writes_entry_and_icons_then_uninstall_removes_them(xdg, capsys):
    assert main(["--install-desktop-entry"]) == 0
    entry_path = xdg / "applications" / f"{APP_ID}.desktop"
    assert str(entry_path) in capsys.readouterr().out
    entry = _read_entry(entry_path)
    command = shlex.split(entry["Exec"].replace("\\\\", "\\"))
    assert command[-1] == "%F"
    assert Path(command[0]).is_absolute() and Path(command[0]).exists()
    assert "image/png" in entry["MimeType"] and entry["Icon"] == APP_ID
    assert (xdg / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    for size in ICON_SIZES:
        assert (xdg / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(entry_path)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout

    assert main(["--uninstall-desktop-entry"]) == 0
    assert f"removed {len(desktop.installed_files(xdg))} files" in capsys.readouterr().out
    assert not any(path.exists() for path in desktop.installed_files(xdg))
    assert main(["--uninstall-desktop-entry"]) == 0
    assert "no desktop entry was installed" in capsys.readouterr().out


def test_data_home_defaults_to_local_share(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME")
    assert desktop.data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the spec says: ignore relative values
    assert desktop.data_home() == tmp_path / ".local" / "share"


def test_exec_line_quotes_paths_with_spaces_and_specials():
    assert desktop.exec_line(["/opt/translator/translator"]) == "/opt/translator/translator %F"
    line = desktop.exec_line(["/home/a b/.venv/bin/python", "-m", "translator"])
    assert line == '"/home/a b/.venv/bin/python" -m translator %F'
    assert desktop.exec_line(["/x/$HOME"]) == '"/x/\\\\$HOME" %F'


def test_entry_text_points_tryexec_at_the_command():
    text = desktop.entry_text(["/opt/app/translator"])
    assert "\nExec=/opt/app/translator %F\n" in text and "\nTryExec=/opt/app/translator\n" in text


def test_install_into_an_unwritable_place_is_a_clear_error(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert main(["--install-desktop-entry"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("translator: error: cannot install the desktop entry") and "Traceback" not in err
