"""Dialogs: the batch set-up and the models manager."""
from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTextBrowser,
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
        self.store = store
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Kind"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.currentItemChanged.connect(self._show_card)
        self.card = QTextBrowser()
        self.card.setOpenExternalLinks(True)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.tree)
        self.split.addWidget(self.card)
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
        layout.addWidget(self.split, 1)
        layout.addLayout(buttons)
        self.refresh()
        self.split.setStretchFactor(1, 1)
        self.resize(self._tree_width() + CARD_WIDTH_PX + 40, 480)

    def _tree_width(self) -> int:
        """The width that shows every model's full name and kind."""
        columns = sum(max(self.tree.sizeHintForColumn(i), self.tree.header().sectionSizeHint(i))
                      for i in range(self.tree.columnCount()))
        return columns + self.tree.frameWidth() * 2 + self.tree.verticalScrollBar().sizeHint().width() + 8

    def showEvent(self, event: QShowEvent) -> None:
        """Sized to content: the names in full beside a readable card, within the screen."""
        super().showEvent(event)
        tree = self._tree_width()
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        width = max(self.width(), tree + CARD_WIDTH_PX + 40)
        if screen is not None:
            width = min(width, int(screen.width() * 0.9))
        self.resize(width, self.height())
        tree = min(tree, int((width - 40) * 0.55))  # on a small screen the card keeps its share
        self.split.setSizes([tree, width - 40 - tree])

    def refresh(self) -> None:
        self.tree.clear()
        for name, spec in sorted(self.store.registry.translators.items()):
            parent = QTreeWidgetItem([f"{spec.title or name} [{name}]", ""])
            self.tree.addTopLevelItem(parent)
            for entry in self.store.list(name):
                child = QTreeWidgetItem([entry.card.title or entry.name, entry.kind])
                child.setData(0, Qt.ItemDataRole.UserRole, entry)
                child.setToolTip(0, f"{entry.card.title or entry.name} ({entry.translator}/{entry.name})")
                parent.addChild(child)
            parent.setExpanded(True)
        self.tree.resizeColumnToContents(1)
        self._show_card(self.tree.currentItem())

    def _entry(self, item: QTreeWidgetItem | None) -> Any:
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _show_card(self, item: QTreeWidgetItem | None, _previous: Any = None) -> None:
        entry = self._entry(item)
        self.card.setHtml(card_html(entry.card, entry.weights) if entry is not None else "")
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


CARD_WIDTH_PX = 460
"""Width of the model card pane when the Models dialog opens."""

_KINDS = {"bundled": "bundled with the app", "trained": "trained on this computer",
          "imported": "imported from a file", "downloaded": "downloaded from its authors' release"}
_WORDS = {"heldout": "held-out", "psnr": "PSNR", "ssim": "SSIM", "db": "(dB)", "swd": "SWD",
          "x1e3": "(x 1000)", "atob": "A -> B", "btoa": "B -> A", "px": "px"}


def metric_label(key: str) -> str:
    """A metric's key in words: "heldout_psnr_db_10_hints" -> "Held-out PSNR (dB) 10 hints"."""
    text = " ".join(_WORDS.get(word.lower(), word) for word in key.split("_") if word)
    return text[:1].upper() + text[1:]


def card_html(card: Any, weights: Path | None = None) -> str:
    """A model card (`store.ModelCard`) as readable HTML: what it is, the data it learnt from,
    how it was trained (steps, time, device), what was measured, its source and licence, and
    its file. Every value from the card is escaped."""
    e = html.escape
    out = [f"<h3>{e(card.title or card.name)}</h3>",
           f"<p>{e(card.translator)} model <b>{e(card.name)}</b>, {e(_KINDS.get(card.kind, card.kind))}</p>"]
    if card.description:
        out.append(f"<p>{e(card.description)}</p>")
    training = card.training or {}
    data = training.get("data")
    if data:
        items = data.items() if isinstance(data, Mapping) else [("", data)]
        out.append("<h4>Learnt from</h4><ul>" + "".join(
            f"<li>{e(str(k)) + ': ' if k and k != 'image' else ''}{e(str(v))}</li>" for k, v in items) + "</ul>")
    facts = card.training_facts()
    if facts:
        out.append("<h4>Training</h4><p>" + e(", ".join(facts)) + "</p>")
    rows, notes = _metric_rows(card.metrics or {})
    if rows:
        out.append("<h4>Measured</h4><table cellspacing='0' cellpadding='2'>" + "".join(
            f"<tr><td>{e(label)}</td><td align='right'>&nbsp;&nbsp;{e(value)}</td></tr>" for label, value in rows)
            + "</table>")
    out.extend(f"<p><i>{e(note)}</i></p>" for note in notes)
    out.append("<h4>Source</h4><p>" + "<br>".join(e(line) for line in _source_lines(card)) + "</p>")
    details = [f"file: {weights}" if weights is not None else "", f"created {card.created}" if card.created else "",
               f"sha256 {card.sha256[:16]}..." if card.sha256 else ""]
    out.append("<p><small>" + "<br>".join(e(d) for d in details if d) + "</small></p>")
    return "".join(out)


def _metric_rows(metrics: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(label, value) rows, a "_std" metric folded into its mean as "20.0 +- 4.9", and the
    metrics that are text (notes)."""
    rows, notes = [], []
    for key, value in metrics.items():
        if key.endswith("_std") and key[:-4] in metrics:
            continue
        if isinstance(value, str):
            notes.append(f"{metric_label(key)}: {value}")
            continue
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        spread = metrics.get(f"{key}_std")
        if isinstance(spread, (int, float)):
            shown += f" +- {spread:.2g}"
        rows.append((metric_label(key), shown))
    return rows, notes


def _source_lines(card: Any) -> list[str]:
    source = card.source or {}
    lines = []
    if source.get("url"):
        lines.append(f"downloaded from {source['url']}")
    if source.get("file"):
        lines.append(f"imported from {source['file']}")
    if source.get("script"):
        lines.append(f"made by {source['script']}")
    if source.get("run"):
        lines.append(f"training run {source['run']}")
    fallback = {"bundled": "the app's licence", "trained": "as the images it was trained on"}
    licence = source.get("licence") or fallback.get(card.kind, "not stated")
    lines.append(f"licence: {licence}")
    return lines
