"""Plain-Python events: a model announces changes, views connect callables to them.

    >>> events = Events("result")
    >>> seen = []
    >>> events.result.connect(seen.append)
    >>> events.result.emit(3)
    >>> seen
    [3]

No threads are involved: `emit` calls every connected callable at once, in the caller's thread.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Event:
    """One kind of change; callables connected to it are called with `emit`'s arguments."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call `callback(*args)` on every `emit(*args)`; returns it (usable as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling `callback`; raises `ValueError` when it was not connected."""
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every connected callable in connection order. A callable that raises does not
        stop the others: its exception is logged."""
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception:
                log.exception("listener of %s failed", self.name)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} listener(s))"


class Events:
    """A fixed set of named events: `Events("a", "b").a` is an `Event`; unknown names raise
    `AttributeError`, so a misspelt event is an error, not a silent no-op."""

    def __init__(self, *names: str) -> None:
        for name in names:
            setattr(self, name, Event(name))
        self.names = names
