"""How a session runs slow work: a runner starts `fn(progress, cancel)` in the background.

A GUI passes a runner that delivers the callbacks in its own thread (`translator.gui.workers.
TaskRunner`); scripts and tests use `ThreadRunner`, whose callbacks run in the thread that calls
its `process()` or `wait()`.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
TaskFn = Callable[[Progress, threading.Event], Any]


class Task(Protocol):
    """A started job: `cancel()` asks it to stop at its next check."""

    def cancel(self) -> None: ...


class Runner(Protocol):
    """Starts `fn(progress, cancel_event)` in the background and returns its `Task`.

    Exactly one of `on_done(result)` and `on_failed(exception)` is called, then `on_finished()`;
    `on_progress(fraction, message)` any number of times before them.
    """

    def start(self, fn: TaskFn, *, name: str = "task",
              on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[float, str], None] | None = None,
              on_finished: Callable[[], None] | None = None) -> Task: ...


class ThreadTask:
    """A job on its own daemon thread."""

    def __init__(self, thread: threading.Thread, cancel_event: threading.Event) -> None:
        self.thread = thread
        self.cancel_event = cancel_event

    def cancel(self) -> None:
        self.cancel_event.set()


class ThreadRunner:
    """A `Runner` on plain threads for scripts and tests. The work runs in a thread per job;
    its callbacks wait in a queue until the owner's thread calls `process()` or `wait()`, so
    they run in that one thread, like a GUI's event loop would run them."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._running = 0

    def start(self, fn: TaskFn, *, name: str = "task",
              on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[float, str], None] | None = None,
              on_finished: Callable[[], None] | None = None) -> ThreadTask:
        cancel_event = threading.Event()
        post = self._queue.put

        def failed(exc: BaseException) -> None:
            if on_failed is not None:
                on_failed(exc)
            else:
                log.error("task %s failed: %s", name, exc)

        def finished() -> None:
            self._running -= 1
            if on_finished is not None:
                on_finished()

        def progress(fraction: float, message: str = "") -> None:
            if on_progress is not None:
                post((on_progress, (float(fraction), str(message))))

        def body() -> None:
            try:
                result = fn(progress, cancel_event)
            except BaseException as exc:  # noqa: BLE001 - handed to on_failed, never lost
                post((failed, (exc,)))
            else:
                if on_done is not None:
                    post((on_done, (result,)))
            finally:
                post((finished, ()))

        self._running += 1
        thread = threading.Thread(target=body, name=name, daemon=True)
        thread.start()
        return ThreadTask(thread, cancel_event)

    @property
    def busy(self) -> bool:
        return self._running > 0

    def process(self, timeout: float = 0.0) -> int:
        """Run the callbacks that are waiting (blocking up to `timeout` seconds for the first);
        returns how many ran."""
        count = 0
        try:
            callback, args = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            while True:
                callback(*args)
                count += 1
                callback, args = self._queue.get_nowait()
        except queue.Empty:
            return count

    def wait(self, timeout: float = 30.0) -> bool:
        """Process callbacks until every job (and every job they start) is over; False when
        some are still running after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self._running > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.process(min(left, 0.1))
        self.process()
        return True
