"""Background work for the GUI: a function run on a QThreadPool with progress and cancel.

The function gets `progress(fraction, message)` and a `threading.Event` it may poll (the engine
takes it as `cancel`). Its result or exception arrives in the GUI thread through queued signals,
so an exception never vanishes and never kills the app.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

TaskFn = Callable[[Callable[[float, str], None], threading.Event], Any]


class TaskSignals(QObject):
    """progress(fraction, message); done(result); failed(exception); finished() always last."""

    progress = Signal(float, str)
    done = Signal(object)
    failed = Signal(object)
    finished = Signal()


class Task(QRunnable):
    """One background job. Keep a reference (the pool does not own it) until `finished`.

    Progress is throttled to at most one signal every `min_interval` seconds (plus the last one),
    so a chatty translator cannot flood the event loop.
    """

    def __init__(self, fn: TaskFn, *, name: str = "task", min_interval: float = 0.05) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.name = name
        self.cancel_event = threading.Event()
        self.signals = TaskSignals()
        self._min_interval = min_interval
        self._last_progress = 0.0
        self.running = True

    def cancel(self) -> None:
        self.cancel_event.set()

    def _progress(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last_progress >= self._min_interval or fraction >= 1.0:
            self._last_progress = now
            self.signals.progress.emit(float(fraction), str(message))

    def run(self) -> None:  # runs in a pool thread
        try:
            result = self.fn(self._progress, self.cancel_event)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
            if not isinstance(exc, Exception):
                log.error("task %s: %s", self.name, "".join(traceback.format_exception(exc)))
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)
        finally:
            self.running = False
            self.signals.finished.emit()


class _Relay(QObject):
    """Lives in the GUI thread and calls the plain-Python callbacks of one task there.

    Signals connected to a bound slot of a QObject are queued into that object's thread; a
    lambda would not be, so every callback goes through one of these.
    """

    def __init__(self, task: Task, on_done: Callable[[Any], None] | None,
                 on_failed: Callable[[BaseException], None] | None,
                 on_progress: Callable[[float, str], None] | None,
                 on_finished: Callable[[], None] | None, parent: QObject) -> None:
        super().__init__(parent)
        self._callbacks = (on_done, on_failed, on_progress, on_finished)
        task.signals.done.connect(self._done)
        task.signals.failed.connect(self._failed)
        task.signals.progress.connect(self._progress)
        task.signals.finished.connect(self._finished)
        self.finished_callback: Callable[[], None] | None = None

    @Slot(object)
    def _done(self, result: Any) -> None:
        if self._callbacks[0] is not None:
            self._callbacks[0](result)

    @Slot(object)
    def _failed(self, exc: Any) -> None:
        if self._callbacks[1] is not None:
            self._callbacks[1](exc)
        else:
            log.error("background task failed: %s", exc)

    @Slot(float, str)
    def _progress(self, fraction: float, message: str) -> None:
        if self._callbacks[2] is not None:
            self._callbacks[2](fraction, message)

    @Slot()
    def _finished(self) -> None:
        try:
            if self._callbacks[3] is not None:
                self._callbacks[3]()
        finally:
            if self.finished_callback is not None:
                self.finished_callback()


class TaskRunner(QObject):
    """Starts tasks on its own thread pool and keeps them alive until they finish."""

    def __init__(self, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._tasks: set[Task] = set()
        self._relays: set[_Relay] = set()

    def start(self, fn: TaskFn, *, name: str = "task",
              on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[float, str], None] | None = None,
              on_finished: Callable[[], None] | None = None) -> Task:
        task = Task(fn, name=name)
        relay = _Relay(task, on_done, on_failed, on_progress, on_finished, self)

        def forget() -> None:
            self._tasks.discard(task)
            self._relays.discard(relay)
            relay.deleteLater()

        relay.finished_callback = forget
        self._tasks.add(task)
        self._relays.add(relay)
        self.pool.start(task)
        return task

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every task's function has returned (for shutdown); their queued signals
        are delivered when the event loop runs next."""
        return self.pool.waitForDone(msecs)
