"""The left-hand panel: the open images with thumbnails, and the history of the current one."""
from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QSplitter, QVBoxLayout, QWidget

from translator.params import jsonable
from translator.session.state import OpenImage, RunRecord

THUMB_PX = 72


class ImagesPanel(QSplitter):
    """`image_list` (one row per open image, in the session's order) over `history_list`
    (newest run first; each row holds its `RunRecord` as user data)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.image_list = QListWidget()
        self.image_list.setIconSize(QPixmap(THUMB_PX, THUMB_PX).size())
        self.image_list.setObjectName("imageList")
        self.history_list = QListWidget()
        self.history_list.setObjectName("historyList")
        self.history_list.setWordWrap(True)
        self.addWidget(_titled("Images", self.image_list))
        self.addWidget(_titled("History", self.history_list))
        self.setSizes([400, 200])

    def add_image(self, item: OpenImage) -> None:
        entry = QListWidgetItem(item.name)
        size = f"{item.image.width}x{item.image.height}" if item.image is not None else ""
        entry.setToolTip(f"{item.path or item.name}\n{size}")
        self.image_list.addItem(entry)
        self.set_thumbnail(self.image_list.count() - 1, item.thumb)

    def set_thumbnail(self, row: int, thumb: QImage | None) -> None:
        entry = self.image_list.item(row)
        if entry is not None:
            entry.setIcon(QIcon(QPixmap.fromImage(thumb)) if isinstance(thumb, QImage) else QIcon())

    def remove_image(self, row: int) -> None:
        self.image_list.blockSignals(True)
        self.image_list.takeItem(row)
        self.image_list.blockSignals(False)

    def highlight(self, row: int) -> None:
        """Mark `row` (-1: none) as the image shown, without emitting `currentRowChanged`."""
        self.image_list.blockSignals(True)
        if row < 0:
            self.image_list.setCurrentRow(-1)
            self.image_list.clearSelection()
        else:
            self.image_list.setCurrentRow(row, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.image_list.blockSignals(False)

    def set_history(self, records: Sequence[RunRecord]) -> None:
        self.history_list.clear()
        for record in reversed(records):
            entry = QListWidgetItem(record.label())
            entry.setData(Qt.ItemDataRole.UserRole, record)
            entry.setToolTip(json.dumps(jsonable(record.params), indent=1))
            self.history_list.addItem(entry)


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addWidget(QLabel(f"<b>{title}</b>"))
    layout.addWidget(widget, 1)
    return box
