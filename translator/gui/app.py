"""Starting the app: `run_app(paths, screenshot=...)` is what `translator [IMAGE ...]` calls.

The window is shown first; plugins, PyTorch and the device list load afterwards in a worker,
with a status message, so the window appears quickly.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from translator import __version__
from translator_resources import APP_ID

SETTINGS_FILE = "settings.ini"


def app_settings() -> QSettings:
    """The app's preferences, in an INI file in Translator's user data folder (or
    `$TRANSLATOR_HOME`), beside the user's models."""
    from translator.store import user_home

    home = user_home()
    home.mkdir(parents=True, exist_ok=True)
    return QSettings(str(home / SETTINGS_FILE), QSettings.Format.IniFormat)


def make_application() -> QApplication:
    """The QApplication (created once), named, with the app icon and style sheet.

    Raises `QtPlatformError` when Qt's platform plugin misses a system library (see
    `translator.gui.qt_platform`)."""
    from translator.gui import resources

    app = QApplication.instance()
    if app is None:
        from translator.gui.qt_platform import create_application

        app = create_application(sys.argv[:1])
    app.setApplicationName("Translator")
    app.setOrganizationName("translator")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # ties windows to the installed .desktop entry (Wayland app id)
    app.setWindowIcon(resources.icon("app"))
    app.setStyleSheet(resources.style_sheet())
    return app


def run_app(paths: Sequence[str | Path] = (), screenshot: str | Path | None = None, *,
            translator: str | None = None, params: dict | None = None) -> int:
    """Show the main window with `paths` (images and folders) open; returns the exit status.

    screenshot: open the images, run the current translator once (or `translator`, with
    `params`), save a PNG of the window there and exit (0 when the run worked, 1 otherwise).
    Without a display it renders offscreen.
    """
    if screenshot is not None and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application()
    from translator.gui.main_window import MainWindow

    window = MainWindow(settings=app_settings())
    window.show()
    QTimer.singleShot(0, window.start)
    if paths:
        QTimer.singleShot(0, lambda: window.open_paths([Path(p) for p in paths]))
    if screenshot is None:
        return int(app.exec())
    from translator.gui.screenshot import ScreenshotJob

    # A local event loop, not app.exec()/quit(): quitting the application would stop every later
    # event loop of this process (run_app may be called again, e.g. by tests and scripts).
    app.setQuitOnLastWindowClosed(False)
    loop = QEventLoop()
    job = ScreenshotJob(window, Path(screenshot), expect_images=bool(paths), translator=translator,
                        params=params)
    job.finished.connect(loop.quit)
    job.start()
    loop.exec()
    window.deleteLater()
    return job.status

