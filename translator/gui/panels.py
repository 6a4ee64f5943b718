"""Pickers of the side panel: translator (by plugin), model, device and precision."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPaintEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QWidget

from translator.device import PRECISIONS, DeviceInfo
from translator.plugins import Registry
from translator.store import ModelEntry

ERROR_ROLE = Qt.ItemDataRole.UserRole + 1
MIN_CHARS = 10
"""The narrowest an elided picker gets, in average characters."""


class ElidedComboBox(QComboBox):
    """A combo box as wide as its longest entry where there is room, narrower where there is
    not: then the current entry is elided ("Photo <-> pa...") instead of clipped. Its tooltip is
    the full entry and the entry's own tooltip; the list opens as wide as its longest entry."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentIndexChanged.connect(self._update_tooltip)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().averageCharWidth() * MIN_CHARS + 40), hint.height())

    def shown_text(self) -> str:
        """The current entry as it fits the box (elided at the right when it does not)."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideRight, field.width())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def showPopup(self) -> None:
        view = self.view()
        view.setMinimumWidth(max(self.width(), view.sizeHintForColumn(0) + 2 * view.frameWidth() + 24))
        super().showPopup()

    def _update_tooltip(self, _index: int = 0) -> None:
        text = self.currentText()
        own = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole) if self.currentIndex() >= 0 else None
        self.setToolTip(f"{text}\n\n{own}" if own else text)


class TranslatorPicker(ElidedComboBox):
    """Every plugin's translators; a broken plugin is a greyed-out entry with its error as the
    tooltip. `current_name()` is the chosen translator's name (None when there is none)."""

    translator_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = QStandardItemModel(self)
        self.setModel(self._model)
        self.currentIndexChanged.connect(lambda _i: self.translator_changed.emit(self.current_name()))

    def set_registry(self, registry: Registry, select: str | None = None) -> None:
        self.blockSignals(True)
        try:
            self._model.clear()
            translators = registry.translators
            for info in sorted(registry.plugins.values(), key=lambda p: p.name):
                names = [t for t in info.translators if t in translators]
                for name in names:
                    spec = translators[name]
                    label = spec.title if len(names) == 1 and spec.title else f"{spec.title or name}"
                    item = QStandardItem(f"{label}  [{name}]")
                    item.setData(name, Qt.ItemDataRole.UserRole)
                    item.setToolTip(f"{spec.description}\nplugin {info.name} {info.version} ({info.source})")
                    self._model.appendRow(item)
                if info.broken:
                    item = QStandardItem(f"{info.name}  (broken)")
                    item.setEnabled(False)
                    item.setData(None, Qt.ItemDataRole.UserRole)
                    item.setData(info.error, ERROR_ROLE)
                    item.setToolTip(f"plugin {info.name} is broken:\n{info.error}")
                    self._model.appendRow(item)
            index = self.find_translator(select) if select else -1
            if index < 0:
                index = next((i for i in range(self._model.rowCount())
                              if self._model.item(i).isEnabled()), -1)
            self.setCurrentIndex(index)
        finally:
            self.blockSignals(False)
        self._update_tooltip()
        self.translator_changed.emit(self.current_name())

    def find_translator(self, name: str) -> int:
        for row in range(self._model.rowCount()):
            if self._model.item(row).data(Qt.ItemDataRole.UserRole) == name:
                return row
        return -1

    def select(self, name: str) -> bool:
        index = self.find_translator(name)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0

    def current_name(self) -> str | None:
        item = self._model.item(self.currentIndex()) if self.currentIndex() >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item is not None and item.isEnabled() else None

    def item(self, row: int) -> QStandardItem:
        return self._model.item(row)


class ModelPicker(ElidedComboBox):
    """Models of one translator (bundled, trained, imported), each with its model card as the
    tooltip. `current_model()` is the chosen model's name, or None for "the default"."""

    def set_entries(self, entries: Sequence[ModelEntry], default: str | None = None,
                    select: str | None = None) -> None:
        self.blockSignals(True)
        try:
            self.clear()
            if not entries:
                self.addItem("(no model: the untrained network)", None)
                self.setItemData(0, "This translator has no model yet: import or train one.",
                                 Qt.ItemDataRole.ToolTipRole)
            for entry in entries:
                title = entry.card.title or entry.name
                suffix = " - default" if entry.name == default else ""
                self.addItem(f"{title} ({entry.kind}){suffix}", entry.name)
                self.setItemData(self.count() - 1, entry.card.summary(), Qt.ItemDataRole.ToolTipRole)
            wanted = select if select is not None else default
            index = self.findData(wanted) if wanted is not None else -1
            self.setCurrentIndex(max(index, 0))
        finally:
            self.blockSignals(False)
        self.currentIndexChanged.emit(self.currentIndex())

    def current_model(self) -> str | None:
        return self.currentData()


class DevicePicker(QComboBox):
    """Each device torch can use (CUDA devices with their memory, then the CPU)."""

    def set_devices(self, devices: Sequence[DeviceInfo], select: str | None = None) -> None:
        self.blockSignals(True)
        try:
            self.clear()
            for info in devices:
                self.addItem(info.title if info.name == "cpu" else f"{info.name}: {info.title}", info.name)
            index = self.findData(select) if select else -1
            self.setCurrentIndex(max(index, 0))
        finally:
            self.blockSignals(False)

    def current_device(self) -> str:
        return self.currentData() or "cpu"


class PrecisionPicker(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItems(list(PRECISIONS))
        self.setToolTip("auto: half precision on GPUs where the translator allows it, fp32 on the CPU")

    def current_precision(self) -> str:
        return self.currentText()
