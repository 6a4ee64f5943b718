"""The right-hand panel: translator, model, device, precision, parameters, Run and Cancel."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QVBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

from translator.gui.panels import DevicePicker, ModelPicker, PrecisionPicker, TranslatorPicker
from translator.gui.params_form import ParamForm
from translator.spec import TranslatorSpec

MIN_WIDTH = 300


class SidePanel(QScrollArea):
    """The controls of the current translator. Widgets only: the window connects them to the
    session and fills them from it (`show_translator`, `show_models`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.translator_picker = TranslatorPicker()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("description")
        self.model_picker = ModelPicker()
        self.import_button = QPushButton("Import model...")
        self.catalog_hint = QLabel()
        self.catalog_hint.setObjectName("catalogHint")
        self.catalog_hint.setWordWrap(True)
        self.catalog_hint.hide()
        self.device_picker = DevicePicker()
        self.device_picker.addItem("loading...", None)
        self.precision_picker = PrecisionPicker()
        self.params_title = QLabel("<b>Parameters</b>")
        self.param_form = ParamForm()
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the translator on the current image (Ctrl+Return)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)

        panel = QWidget()
        form = QFormLayout(panel)
        form.addRow("Translator", self.translator_picker)
        form.addRow(self.description)
        model_row = QVBoxLayout()  # the picker gets the whole width for long model names
        model_row.addWidget(self.model_picker)
        import_line = QHBoxLayout()
        import_line.addStretch(1)
        import_line.addWidget(self.import_button)
        model_row.addLayout(import_line)
        form.addRow("Model", model_row)
        self._model_row = (form, model_row)
        form.addRow(self.catalog_hint)
        form.addRow("Device", self.device_picker)
        form.addRow("Precision", self.precision_picker)
        form.addRow(self.params_title)
        form.addRow(self.param_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.progress)
        self.setWidgetResizable(True)
        self.setWidget(panel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(MIN_WIDTH)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """(QScrollArea filters its widget's events) a new layout of the panel: `fit_width`."""
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self.fit_width)  # once the panel's layout has settled
        return super().eventFilter(watched, event)

    def fit_width(self) -> None:
        """At least `MIN_WIDTH` wide and as wide as the controls ask (there is no horizontal
        scrolling, so a narrower panel would cut them off), with room for the vertical scroll bar."""
        scroll_bar = self.verticalScrollBar().sizeHint().width()
        needed = self.widget().sizeHint().width() + 2 * self.frameWidth() + scroll_bar
        self.setMinimumWidth(max(MIN_WIDTH, needed))

    def show_translator(self, spec: TranslatorSpec | None, params: dict[str, Any]) -> None:
        """Select `spec` in the picker (without signals) and rebuild the parameter form."""
        self.translator_picker.blockSignals(True)
        if spec is None or not self.translator_picker.select(spec.name):
            self.translator_picker.setCurrentIndex(-1)
        self.translator_picker.blockSignals(False)
        self.description.setText(spec.description if spec is not None else "")
        self.param_form.blockSignals(True)
        self.param_form.set_params(spec.params if spec is not None else (), params)
        self.param_form.blockSignals(False)
        self.params_title.setVisible(bool(spec is not None and spec.params))

    def show_models(self, entries: Sequence[Any], default: str | None, selected: str | None,
                    published: int, *, weights: bool = True) -> None:
        """Fill the model picker (without signals); point at the catalog when the only models
        installed are bundled demonstrations and `published` ones exist. `weights` False (a
        filter without weights): the whole Model row is hidden."""
        form, row = self._model_row
        form.setRowVisible(row, weights)
        self.model_picker.blockSignals(True)
        self.model_picker.set_entries(entries, default, selected)
        self.model_picker.blockSignals(False)
        self.catalog_hint.setText(
            f"Only the bundled demonstration model is installed. The catalog has {published} published "
            f"models of the paper's authors: <a href=\"catalog\">Models &gt; Get models...</a>")
        self.catalog_hint.setVisible(published > 0 and bool(entries) and all(e.bundled for e in entries))

    def show_busy(self, busy: bool, can_run: bool) -> None:
        self.run_button.setEnabled(can_run and not busy)
        self.cancel_button.setEnabled(busy)
        if not busy:
            self.progress.setValue(0)
