"""What `translator --version` prints: the app, Python, torch, Qt and the compute devices.

Imports torch and Qt's core module only when called (no QApplication: nothing is shown).
"""
from __future__ import annotations

import platform
import sys

from translator import __version__


def version_report() -> str:
    """Several lines, one per component; a component that fails to import says why."""
    frozen = " (desktop bundle)" if getattr(sys, "frozen", False) else ""
    lines = [f"translator {__version__}", f"Python {platform.python_version()}{frozen}"]
    torch_lines = _torch_lines()
    lines += [torch_lines[0], _qt_line(), *torch_lines[1:]]
    return "\n".join(lines)


def _torch_lines() -> list[str]:
    """The torch line, then the devices line (when torch imports)."""
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return [f"torch: not available ({type(exc).__name__}: {exc})"]
    if torch.version.cuda:
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        build = f"CUDA {torch.version.cuda}" + (f", cuDNN {cudnn}" if cudnn else "")
    elif getattr(torch.version, "hip", None):
        build = f"ROCm {torch.version.hip}"
    else:
        build = "CPU-only build"
    from translator.device import list_devices

    devices = ", ".join(f"{d.name} ({d.title})" if d.name != "cpu" else "cpu" for d in list_devices())
    return [f"torch {torch.__version__} ({build})", f"devices: {devices}"]


def _qt_line() -> str:
    try:
        import PySide6
        from PySide6.QtCore import qVersion
    except Exception as exc:  # noqa: BLE001
        return f"Qt: not available ({type(exc).__name__}: {exc})"
    return f"Qt {qVersion()} (PySide6 {PySide6.__version__})"
