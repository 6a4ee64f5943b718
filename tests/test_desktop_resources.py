"""The desktop files in `resources/`: the launcher entry and metainfo validate, the icons are real
PNGs of their sizes, and all of them are declared as package data."""
from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import pytest

import translator_resources as res

ROOT = Path(__file__).resolve().parents[1]


def _entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(res.DESKTOP_ENTRY, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_opens_images_with_the_app():
    entry = _entry()
    assert entry["Type"] == "Application" and entry["Icon"] == res.APP_ID
    assert entry["Exec"] == "translator %F"
    mime = set(filter(None, entry["MimeType"].split(";")))
    assert {"image/png", "image/jpeg", "image/webp", "image/tiff"} <= mime


def test_metainfo_names_the_desktop_entry():
    text = res.METAINFO.read_text(encoding="utf-8")
    assert f"<id>{res.APP_ID}</id>" in text
    assert f'<launchable type="desktop-id">{res.DESKTOP_ENTRY.name}</launchable>' in text


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validate_passes():
    result = subprocess.run(["desktop-file-validate", str(res.DESKTOP_ENTRY)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_appstreamcli_validate_passes():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(res.METAINFO)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_icon_pngs_have_their_sizes_and_stay_small():
    assert res.APP_ICON_SVG.is_file()
    for size in res.ICON_SIZES:
        data = res.app_icon_png(size).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
        assert (width, height) == (size, size)
        assert len(data) < 16 * 1024


def test_desktop_files_and_icons_are_package_data():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["translator_resources"]
    files = [res.DESKTOP_ENTRY, res.METAINFO, res.APP_ICON_SVG]
    files += [res.app_icon_png(n) for n in res.ICON_SIZES]
    for path in files:
        rel = path.relative_to(res.ROOT).as_posix()
        assert any(fnmatch(rel, pattern) for pattern in patterns), f"{rel} is not package data"
