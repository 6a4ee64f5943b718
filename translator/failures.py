"""When one failure in a batch means every further file would fail the same way.

A batch over many files reports each failing file and goes on (`translator apply`, the app's
batch). The one exception is a failure of the output itself: a full disk (or quota) or a
read-only file system fails every further write, so trying the rest only repeats the message.
"""
from __future__ import annotations

import errno
import os

_FATAL_ERRNOS = {errno.ENOSPC: "no space left on device", errno.EROFS: "read-only file system"}
if hasattr(errno, "EDQUOT"):
    _FATAL_ERRNOS[errno.EDQUOT] = "disk quota exceeded"


def output_failure(exc: BaseException) -> str | None:
    """Why every further output would fail like `exc` ("no space left on device", ...), else None.

    Looks at `exc`, its causes and contexts for an `OSError` with such an errno, and at the
    messages for the operating system's text of it (errors re-raised as `TranslatorError`
    keep only the text).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FATAL_ERRNOS:
            return _FATAL_ERRNOS[current.errno]
        text = str(current).lower()
        for number, reason in _FATAL_ERRNOS.items():
            if os.strerror(number).lower() in text or reason in text:
                return reason
        current = current.__cause__ or current.__context__
    return None
