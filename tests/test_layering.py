"""Layering rules: the core never imports Qt, plugins import only the public plugin API, and
start-up modules do not import torch."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "qtpy", "pytestqt")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def test_core_never_imports_qt_or_plugins():
    offenders = []
    for path in (ROOT / "translator").rglob("*.py"):
        if "gui" in path.relative_to(ROOT / "translator").parts:
            continue
        for name in _imports(path):
            if _top(name) in QT_MODULES or _top(name) == "translator_plugins":
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, offenders


def test_plugins_import_only_the_public_api():
    offenders = []
    for path in (ROOT / "plugins").rglob("*.py"):
        for name in _imports(path):
            if _top(name) in QT_MODULES:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
            if _top(name) == "translator" and name not in ("translator", "translator.api") \
                    and not name.startswith("translator.api."):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, offenders


def test_rules_catch_violations(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from translator.store import ModelStore\nfrom PySide6 import QtCore\n")
    assert "translator.store" in _imports(bad) and "PySide6" in _imports(bad)


def test_startup_modules_do_not_import_torch_or_qt():
    code = ("import sys, translator.api, translator.plugins, translator.cli.main, translator.store; "
            "translator.plugins.load_registry(); "
            "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]; print(bad); "
            "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
