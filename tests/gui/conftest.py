"""GUI test setup: tiny fake translators and a main-window factory over injected core objects."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gui_fakes import FakePlugin


@pytest.fixture
def write_png(tmp_path: Path) -> Callable[..., Path]:
    """`write_png(name, width=40, height=30, seed=0, folder=tmp_path)` -> path of a noise PNG."""
    import cv2

    def write(name: str, width: int = 40, height: int = 30, seed: int = 0, folder: Path | None = None) -> Path:
        folder = folder or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)
        path = folder / name
        cv2.imwrite(str(path), pixels)
        return path

    return write


@pytest.fixture
def make_window(qtbot: Any, plugin_registry: Callable[..., Any], tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """`make_window(*plugins, settings_file=None)`: a shown `MainWindow` over a registry of the
    fake plugins, a store in tmp_path and a CPU engine. Jobs are cancelled and awaited on teardown."""
    from PySide6.QtCore import QSettings

    from translator.engine import Engine
    from translator.gui.main_window import MainWindow
    from translator.store import ModelStore

    made: list[MainWindow] = []

    def make(*plugins: object, settings_file: Path | None = None) -> MainWindow:
        registry = plugin_registry(*(plugins or (FakePlugin(),)))
        store = ModelStore(registry, home=tmp_path / "home")
        settings = QSettings(str(settings_file or tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(registry=registry, store=store, engine=Engine(device="cpu", precision="fp32"),
                            settings=settings)
        qtbot.addWidget(window)
        if settings_file is None:
            window.resize(1000, 600)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.runner.cancel_all()
        window.runner.wait(10000)


@pytest.fixture
def open_images(qtbot: Any) -> Callable[..., list[Any]]:
    """`open_images(window, paths)`: open and wait for the background reading; the new items."""

    def open_(window: Any, paths: list[Path]) -> list[Any]:
        with qtbot.waitSignal(window.images_opened, timeout=10000) as blocker:
            window.open_paths(paths)
        return blocker.args[0]

    return open_


@pytest.fixture
def run_wait(qtbot: Any) -> Callable[..., Any]:
    """`run_wait(window)`: Ctrl+Return and wait for the outcome (a RunRecord or an exception)."""

    def run(window: Any, timeout: int = 10000) -> Any:
        with qtbot.waitSignal(window.run_finished, timeout=timeout) as blocker:
            window.run_action.trigger()
        return blocker.args[0]

    return run
