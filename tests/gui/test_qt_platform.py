"""First-run help: when Qt's platform plugin cannot start, one line names what is missing."""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from translator.gui import qt_platform

pytestmark = pytest.mark.gui


def _start_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    unset = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "translator"], capture_output=True, text=True,
                          env=environ, cwd=tmp_path, timeout=120)


def _assert_one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == qt_platform.EXIT_STATUS, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("translator: error: the Qt platform plugin")
    assert "Traceback" not in result.stderr
    return lines[0]


def test_loader_errors_name_the_library():
    error = "libxcb-cursor.so.0: cannot open shared object file: No such file or directory"
    assert qt_platform.missing_library(error) == "libxcb-cursor.so.0"
    assert qt_platform.missing_library("/x/libqxcb.so: invalid ELF header") is None


def test_message_names_debian_and_fedora_packages():
    line = qt_platform.missing_library_message("libxcb-cursor.so.0")
    assert "libxcb-cursor.so.0" in line and "sudo apt install libxcb-cursor0" in line
    assert "sudo dnf install xcb-util-cursor" in line and "\n" not in line
    unknown = qt_platform.missing_library_message("libunheard-of.so.3")
    assert "apt-file search libunheard-of.so.3" in unknown and "dnf provides" in unknown


def test_fatal_messages_are_summarised():
    qt_says = ['From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin.',
               'Could not load the Qt platform plugin "xcb" in "" even though it was found.']
    assert "sudo apt install libxcb-cursor0" in qt_platform.describe_fatal(qt_says, env={"DISPLAY": ":0"})
    no_display = qt_platform.describe_fatal(['Could not load the Qt platform plugin "xcb" in ""'], env={})
    assert "cannot connect to a display" in no_display
    # with every library present and no display, Qt still adds its xcb-cursor hint
    told = qt_platform.describe_fatal(["could not connect to display ", *qt_says], env={"DISPLAY": ":9"})
    assert "cannot connect to a display (DISPLAY=':9')" in told and "apt install" not in told
    unknown = qt_platform.describe_fatal(['Could not find the Qt platform plugin "nosuch" in ""'], env={})
    assert '"nosuch" was not found' in unknown


def test_requested_platform():
    assert qt_platform.requested_platform({"QT_QPA_PLATFORM": "offscreen"}) == "offscreen"
    assert qt_platform.requested_platform({"QT_QPA_PLATFORM": "xcb:nomitshm;wayland"}) == "xcb"
    if sys.platform.startswith("linux"):
        assert qt_platform.requested_platform({}) == "xcb"
        session = {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}
        assert qt_platform.requested_platform(session) == "wayland"


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("cc") is None,
                    reason="needs Linux and a C compiler to build a plugin with a missing dependency")
def test_plugin_with_a_missing_library_gives_one_line(tmp_path):
    """A platform plugin in QT_QPA_PLATFORM_PLUGIN_PATH that needs a library the system lacks."""
    build = tmp_path / "build"
    build.mkdir()
    (build / "dep.c").write_text("int translator_test_dep(void) { return 1; }\n")
    (build / "plugin.c").write_text("int translator_test_dep(void);\n"
                                    "int f(void) { return translator_test_dep(); }\n")
    dep = build / "libtranslator-test-missing.so.1"
    subprocess.run(["cc", "-shared", "-fPIC", "-Wl,-soname,libtranslator-test-missing.so.1", "-o", str(dep),
                    str(build / "dep.c")], check=True)
    platforms = tmp_path / "platforms"
    platforms.mkdir()
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(platforms / "libqxcb.so"), str(build / "plugin.c"),
                    str(dep)], check=True)
    dep.unlink()  # now the plugin's dependency is missing, as libxcb-cursor0 is on a fresh system
    line = _assert_one_clear_line(_start_app(tmp_path, QT_QPA_PLATFORM="xcb",
                                             QT_QPA_PLATFORM_PLUGIN_PATH=str(platforms)))
    assert "libtranslator-test-missing.so.1" in line and "apt-file search" in line


def test_xcb_without_a_display_gives_one_line(tmp_path):
    """The real xcb plugin: a missing system library if this machine lacks one, else no display."""
    folders = qt_platform.plugin_folders()
    plugin = next((f / "libqxcb.so" for f in folders if (f / "libqxcb.so").is_file()), None)
    if plugin is None:
        pytest.skip("this Qt has no xcb plugin")
    try:
        ctypes.CDLL(str(plugin))
        missing = None
    except OSError as exc:
        missing = qt_platform.missing_library(str(exc))
    line = _assert_one_clear_line(_start_app(tmp_path, QT_QPA_PLATFORM="xcb"))
    if missing:
        assert missing in line and "sudo apt install" in line and "sudo dnf install" in line
    else:
        assert "cannot connect to a display" in line


def test_unknown_platform_gives_one_line_from_qts_fatal_error(tmp_path):
    line = _assert_one_clear_line(_start_app(tmp_path, QT_QPA_PLATFORM="nosuch"))
    assert '"nosuch" was not found' in line
