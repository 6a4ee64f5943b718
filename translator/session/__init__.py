"""The app's session model, without Qt: what is open, what is chosen, what has run.

`Session` owns the state and the operations; `session.events` tells views what changed (see
`translator.session.model.EVENTS`); a `Runner` runs its slow work in the background.
"""
from __future__ import annotations

from translator.session.events import Event, Events
from translator.session.model import EVENTS, MemorySettings, Session
from translator.session.runner import Runner, ThreadRunner
from translator.session.state import ImageList, ModelCache, OpenImage, ResultCache, RunRecord

__all__ = [
           "EVENTS",
           "Event",
           "Events",
           "ImageList",
           "MemorySettings",
           "ModelCache",
           "OpenImage",
           "ResultCache",
           "RunRecord",
           "Runner",
           "Session",
           "ThreadRunner",
]
