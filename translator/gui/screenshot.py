"""`translator --screenshot OUT.png [IMAGE] [--plugin NAME] [--param k=v]`: open, run once (the
named translator with those parameters, else the current one), render the window to a PNG, exit.

Used for the README's screenshots (`packaging/tools/make_screenshots.py`) and as a smoke test of the
whole app: plugins load, the image opens, the translator runs in the worker, the result shows.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from translator.errors import ParameterError
from translator.gui.main_window import MainWindow

SIZE = (1280, 800)
"""Window size of a screenshot, whatever the saved geometry."""


class ScreenshotJob(QObject):
    """Drives a `MainWindow` through ready -> images opened -> run -> grab; `finished` at the
    end, with `status` 0 when everything worked and 1 otherwise (the PNG is written anyway)."""

    finished = Signal()

    def __init__(self, window: MainWindow, out: Path, *, expect_images: bool, translator: str | None = None,
                 params: dict[str, Any] | None = None, timeout_s: float = 600) -> None:
        super().__init__(window)
        self.window = window
        self.out = out
        self.expect_images = expect_images
        self.translator = translator
        self.params = params or {}
        self.status = 1
        self._ready = False
        self._opened = not expect_images
        self._done = False
        self._error: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(timeout_s * 1000))
        self._timer.timeout.connect(lambda: self._fail("timed out"))

    def start(self) -> None:
        self.window.resize(*SIZE)
        self.window.ready.connect(self._on_ready)
        self.window.images_opened.connect(self._on_opened)
        self.window.run_finished.connect(self._on_run)
        self._timer.start()
        if self.window.is_ready:
            self._on_ready()

    def _on_ready(self) -> None:
        self._ready = True
        if self.translator and not self.window.translator_picker.select(self.translator):
            known = ", ".join(sorted(self.window.registry.translators)) or "none"
            self._error = f"no translator named {self.translator!r}; available: {known}"
        elif self.params:
            try:
                self.window.param_form.set_values(self._values())
            except ParameterError as exc:
                self._error = str(exc)
        self._maybe_run()

    def _values(self) -> dict[str, Any]:
        """The given params checked against the current translator's: strings (from `--param
        k=v`) parsed, other values validated; raises `ParameterError`."""
        declared = {p.name: p for p in self.window.param_form.params}
        unknown = sorted(set(self.params) - set(declared))
        if unknown:
            raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; known: "
                                 f"{', '.join(declared) or 'none'}")
        return {name: declared[name].parse(value) if isinstance(value, str) else declared[name].validate(value)
                for name, value in self.params.items()}

    def _on_opened(self, items: list) -> None:
        self._opened = True
        self._maybe_run()

    def _maybe_run(self) -> None:
        if not (self._ready and self._opened) or self._done:
            return
        if self._error is not None:  # reported once the images are open: no worker outlives the window
            self._fail(self._error)
            return
        spec = self.window.spec
        if spec is None or (spec.task.needs_input and self.window.images.current is None):
            self._grab(ok=spec is not None and not self.expect_images)
            return
        if self.window.run_current() is None and not self._done:
            self._grab(ok=self.window.shown_record is not None)

    def _on_run(self, outcome: Any) -> None:
        if isinstance(outcome, BaseException):
            print(f"translator: screenshot: the run failed: {outcome}", file=sys.stderr)
        self._grab(ok=not isinstance(outcome, BaseException))

    def _fail(self, why: str) -> None:
        print(f"translator: screenshot: {why}", file=sys.stderr)
        self._grab(ok=False)

    def _grab(self, *, ok: bool) -> None:
        if self._done:
            return
        self._done = True
        self._timer.stop()
        QTimer.singleShot(200, lambda: self._save(ok))

    def _save(self, ok: bool) -> None:
        self.window.canvas.fit()
        pixmap = self.window.grab()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if not pixmap.save(str(self.out), "PNG"):
            print(f"translator: screenshot: cannot write {self.out}", file=sys.stderr)
            ok = False
        self.status = 0 if ok else 1
        self.window.close()
        self.finished.emit()
