"""Dialogs: the batch set-up and the models manager."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from translator.errors import TranslatorError

FORMATS = ("png", "jpg", "webp", "tif")


class BatchDialog(QDialog):
    """Choose the batch input (all open images or a folder), the output folder and format."""

    def __init__(self, parent: QWidget | None, *, open_count: int, settings: QSettings) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.settings = settings
        self.all_open = QRadioButton(f"All open images ({open_count})")
        self.from_folder = QRadioButton("A folder:")
        self.all_open.setEnabled(open_count > 0)
        (self.all_open if open_count else self.from_folder).setChecked(True)
        self.source = QLineEdit(str(settings.value("last_open_dir", "")))
        self.out_dir = QLineEdit(str(settings.value("last_batch_dir", "")))
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        form = QFormLayout(self)
        form.addRow(self.all_open)
        form.addRow(self.from_folder, self._with_browse(self.source))
        form.addRow("Output folder", self._with_browse(self.out_dir))
        form.addRow("Format", self.format)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _with_browse(self, edit: QLineEdit) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton("...")
        button.clicked.connect(lambda: self._browse(edit))
        row.addWidget(button)
        return box

    def _browse(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", edit.text())
        if folder:
            edit.setText(folder)

    def _accept(self) -> None:
        if not self.out_dir.text().strip():
            QMessageBox.warning(self, "Batch", "Choose an output folder.")
            return
        if self.from_folder.isChecked() and not Path(self.source.text()).is_dir():
            QMessageBox.warning(self, "Batch", "Choose an input folder that exists.")
            return
        self.accept()

    def choice(self) -> tuple[Path | None, Path, str]:
        """(input folder, or None for the open images; output folder; format)."""
        source = Path(self.source.text()) if self.from_folder.isChecked() else None
        return source, Path(self.out_dir.text()), self.format.currentText()


class ModelsDialog(QDialog):
    """Models per translator with their model cards; import a file, remove user models."""

    import_requested = Signal()
    removed = Signal(str)

    def __init__(self, store: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(760, 460)
        self.store = store
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Kind"])
        self.tree.currentItemChanged.connect(self._show_card)
        self.card = QPlainTextEdit()
        self.card.setReadOnly(True)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tree)
        split.addWidget(self.card)
        split.setSizes([320, 440])
        self.import_button = QPushButton("Import...")
        self.import_button.clicked.connect(self.import_requested.emit)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_current)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.tree.clear()
        for name, spec in sorted(self.store.registry.translators.items()):
            parent = QTreeWidgetItem([f"{spec.title or name} [{name}]", ""])
            self.tree.addTopLevelItem(parent)
            for entry in self.store.list(name):
                child = QTreeWidgetItem([entry.card.title or entry.name, entry.kind])
                child.setData(0, Qt.ItemDataRole.UserRole, entry)
                child.setToolTip(0, entry.card.summary())
                parent.addChild(child)
            parent.setExpanded(True)
        self._show_card(self.tree.currentItem())

    def _entry(self, item: QTreeWidgetItem | None) -> Any:
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _show_card(self, item: QTreeWidgetItem | None, _previous: Any = None) -> None:
        entry = self._entry(item)
        self.card.setPlainText(entry.card.summary() + f"\n\nfile: {entry.weights}" if entry is not None else "")
        self.remove_button.setEnabled(entry is not None and not entry.bundled)

    def remove_current(self) -> None:
        entry = self._entry(self.tree.currentItem())
        if entry is None:
            return
        answer = QMessageBox.question(self, "Remove model", f"Delete the model {entry.name!r}?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.remove(entry.name, entry.translator)
        except TranslatorError as exc:
            QMessageBox.warning(self, "Remove model", str(exc))
            return
        self.removed.emit(entry.name)
        self.refresh()
