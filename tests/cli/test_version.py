"""`translator --version` and `python -m translator`: versions printed without starting the GUI."""
from __future__ import annotations

import os
import subprocess
import sys

import PySide6
import torch

from translator import __version__


def test_version_prints_app_torch_qt_and_devices_without_a_gui():
    # A platform that cannot start: if --version created the application, it would fail.
    env = dict(os.environ, QT_QPA_PLATFORM="no-such-platform")
    result = subprocess.run([sys.executable, "-m", "translator", "--version"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"translator {__version__}"
    assert any(line.startswith(f"torch {torch.__version__} (") for line in lines)
    assert any(line.startswith("Qt 6.") and f"PySide6 {PySide6.__version__}" in line for line in lines)
    devices = next(line for line in lines if line.startswith("devices: "))
    assert "cpu" in devices


def test_python_dash_m_translator_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "translator", "plugins", "--json"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"cyclegan"' in result.stdout
