"""Pixmaps of open images and results, made once and kept for the last few shown."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtGui import QImage, QPixmap

from translator.gui.convert import to_qimage
from translator.session.state import RunRecord


class PixmapCache:
    """`get(obj)`: the pixmap of an `OpenImage`'s pixels (per revision) or of a `RunRecord`'s
    result; the object's `view` (a QImage) is made when missing. Keeps `capacity` pixmaps."""

    def __init__(self, capacity: int = 12) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, tuple[object, QPixmap, int]] = OrderedDict()

    def get(self, obj: Any) -> QPixmap:
        key = id(obj)
        revision = getattr(obj, "revision", 0)
        cached = self._items.get(key)
        if cached is not None and cached[0] is obj and cached[2] == revision:
            self._items.move_to_end(key)
            return cached[1]
        if not isinstance(obj.view, QImage):
            obj.view = to_qimage(obj.result if isinstance(obj, RunRecord) else obj.image)
        pixmap = QPixmap.fromImage(obj.view)
        self._items[key] = (obj, pixmap, revision)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return pixmap
