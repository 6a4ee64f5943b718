"""Controls generated from a translator's parameter declarations (`translator.params`).

Choice -> combo box, Int/Float -> slider with a spin box, Seed -> spin box with a random button,
Bool -> check box, Color -> a colour button opening a colour dialog, Text -> line edit,
FilePath -> line edit with a chooser, ColorPoints -> a list
of hints placed by clicking on the canvas, with a colour picker. `ParamForm.values()` returns
exactly what the translator receives (validated by `resolve_params`).
"""
from __future__ import annotations

import html
import random
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from translator.gui.hints import ColorPalette
from translator.params import (
    SEED_MAX,
    Bool,
    Choice,
    Color,
    ColorPoint,
    ColorPoints,
    FilePath,
    Float,
    Int,
    Param,
    Seed,
    Text,
    resolve_params,
)

SLIDER_STEPS = 1000


class ParamControl(QWidget):
    """One parameter's control: `value()` / `set_value()` and a `changed` signal."""

    changed = Signal()

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setToolTip(param_tooltip(param))
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError


class ChoiceControl(ParamControl):
    def __init__(self, param: Choice, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox()
        for choice in param.choices:
            self.combo.addItem(param.label_of(choice), choice)
            self.combo.setItemData(self.combo.count() - 1, f"{param.name}={choice}", Qt.ItemDataRole.ToolTipRole)
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self._layout.addWidget(self.combo)
        self.set_value(param.default)

    def value(self) -> str:
        return str(self.combo.currentData())

    def set_value(self, value: Any) -> None:
        self.combo.setCurrentIndex(max(self.combo.findData(str(value)), 0))


class NumberControl(ParamControl):
    """Int or Float: a slider over [minimum, maximum] beside a spin box, kept in step."""

    def __init__(self, param: Int | Float, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.is_int = isinstance(param, Int)
        if self.is_int:
            self.spin: QSpinBox | QDoubleSpinBox = QSpinBox()
            self.spin.setRange(max(int(param.minimum), -(2**31)), min(int(param.maximum), 2**31 - 1))
            self.spin.setSingleStep(int(param.step))
        else:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(_decimals(float(param.step)))
            self.spin.setRange(float(param.minimum), float(param.maximum))
            self.spin.setSingleStep(float(param.step))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        span = float(param.maximum) - float(param.minimum)
        self._steps = int(min(span / float(param.step), SLIDER_STEPS)) if span > 0 else 1
        self._steps = max(self._steps, 1)
        self.slider.setRange(0, self._steps)
        self._layout.addWidget(self.slider, 3)
        self._layout.addWidget(self.spin, 1)
        self._syncing = False
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)
        self.set_value(param.default)

    def _to_slider(self, value: float) -> int:
        lo, hi = float(self.param.minimum), float(self.param.maximum)
        return round((value - lo) / (hi - lo) * self._steps) if hi > lo else 0

    def _from_slider(self, position: int) -> None:
        if self._syncing:
            return
        lo, hi = float(self.param.minimum), float(self.param.maximum)
        value = lo + (hi - lo) * position / self._steps
        self._syncing = True
        self.spin.setValue(round(value) if self.is_int else value)
        self._syncing = False
        self.changed.emit()

    def _from_spin(self, value: float) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.slider.setValue(self._to_slider(value))
        self._syncing = False
        self.changed.emit()

    def value(self) -> int | float:
        return int(self.spin.value()) if self.is_int else float(self.spin.value())

    def set_value(self, value: Any) -> None:
        self._syncing = True
        self.spin.setValue(value)
        self.slider.setValue(self._to_slider(float(self.spin.value())))
        self._syncing = False
        self.changed.emit()


class SeedControl(ParamControl):
    """A seed in [0, 2**32 - 1] (a zero-decimal double spin box: QSpinBox stops at 2**31 - 1)
    with a button that picks a random one."""

    def __init__(self, param: Seed, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(0)
        self.spin.setRange(0, SEED_MAX)
        self.spin.valueChanged.connect(lambda _v: self.changed.emit())
        self.random_button = QToolButton()
        self.random_button.setText("Random")
        self.random_button.setToolTip("Pick a random seed")
        self.random_button.clicked.connect(self.randomise)
        self._layout.addWidget(self.spin, 1)
        self._layout.addWidget(self.random_button)
        self.set_value(param.default)

    def randomise(self) -> None:
        self.set_value(random.randint(0, SEED_MAX))

    def value(self) -> int:
        return int(self.spin.value())

    def set_value(self, value: Any) -> None:
        self.spin.setValue(float(value))


class BoolControl(ParamControl):
    def __init__(self, param: Bool, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox()
        self.check.toggled.connect(lambda _v: self.changed.emit())
        self._layout.addWidget(self.check)
        self.set_value(param.default)

    def value(self) -> bool:
        return self.check.isChecked()

    def set_value(self, value: Any) -> None:
        self.check.setChecked(bool(value))


class TextControl(ParamControl):
    def __init__(self, param: Text, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit()
        self.edit.editingFinished.connect(self.changed.emit)
        self._layout.addWidget(self.edit)
        self.set_value(param.default)

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, value: Any) -> None:
        self.edit.setText(str(value))


class FilePathControl(ParamControl):
    def __init__(self, param: FilePath, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("none")
        self.edit.editingFinished.connect(self.changed.emit)
        self.browse = QToolButton()
        self.browse.setText("...")
        self.browse.setToolTip("Choose a file")
        self.browse.clicked.connect(self.choose)
        self._layout.addWidget(self.edit, 1)
        self._layout.addWidget(self.browse)
        self.set_value(param.default)

    def choose(self) -> None:
        filters = " ".join(self.param.filters)
        name_filter = f"{self.param.label} ({filters});;All files (*)" if filters else "All files (*)"
        path, _ = QFileDialog.getOpenFileName(self, self.param.label, self.edit.text(), name_filter)
        if path:
            self.set_value(path)
            self.changed.emit()

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, value: Any) -> None:
        self.edit.setText(str(value))


class ColorControl(ParamControl):
    """A button showing the colour (and its `#rrggbb`) that opens a colour dialog."""

    def __init__(self, param: Color, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self._value = ""
        self.button = QPushButton()
        self.button.setToolTip(param.help or "Choose a colour")
        self.button.clicked.connect(self.choose)
        self._layout.addWidget(self.button, 1)
        self.set_value(param.default_value)

    def choose(self) -> None:
        color = QColorDialog.getColor(QColor(self._value), self, self.param.label)
        if color.isValid():
            self.set_value(color.name())

    def value(self) -> str:
        return self._value

    def set_value(self, value: Any) -> None:
        value = self.param.validate(value)
        if value == self._value:
            return
        self._value = value
        text = "#000000" if QColor(value).lightness() > 127 else "#ffffff"
        self.button.setText(value)
        self.button.setStyleSheet(f"background-color: {value}; color: {text};")
        self.changed.emit()


class ColorPointsControl(ParamControl):
    """Colour hints: placed, moved and removed on the canvas (see `HintTool`); here the count,
    the colour for new hints (a picker and a palette of recent colours), a button to clear them
    and whether the translator runs again by itself a moment after each change (`live`).

    color: the colour new hints take when `pick_from_image` is False (the last one chosen);
    with `pick_from_image` True they take the predicted colour at the click (`hint_color`).
    """

    def __init__(self, param: ColorPoints, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self._points: tuple[ColorPoint, ...] = ()
        self.color = QColor(220, 60, 40)
        self.pick_from_image = True
        self.count = QLabel()
        self.color_button = QPushButton("Colour...")
        self.color_button.setToolTip("Colour of new hints (until one is chosen, a new hint takes the "
                                     "predicted colour under the click)")
        self.color_button.clicked.connect(self.choose_color)
        self.auto_button = QToolButton()
        self.auto_button.setText("Auto")
        self.auto_button.setToolTip("New hints take the predicted colour under the click again")
        self.auto_button.clicked.connect(self.use_predicted)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.clicked.connect(lambda: self.set_value(()))
        self.palette = ColorPalette()
        self.palette.chosen.connect(self.set_color)
        self.live = QCheckBox("Run after each change")
        self.live.setToolTip("Run the translator again a moment after a hint is added, moved, "
                             "recoloured or removed")
        self.live.setChecked(True)
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        top = QWidget()
        buttons = QHBoxLayout(top)
        buttons.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.count, 1), (self.color_button, 0), (self.auto_button, 0),
                                (self.clear_button, 0)):
            buttons.addWidget(widget, stretch)
        for widget in (top, self.palette, self.live):
            column.addWidget(widget)
        self._layout.addWidget(box, 1)
        self.setToolTip(param_tooltip(param, "Click the image to add a hint, drag one to move it, "
                                             "right-click to remove it, double-click to change its colour."))
        self.set_value(param.default)

    def choose_color(self) -> None:
        color = QColorDialog.getColor(self.color, self, "Colour of new hints")
        if color.isValid():
            self.set_color(color)

    def set_color(self, color: QColor) -> None:
        """New hints take `color` from now on; it goes first in the palette."""
        self.color = QColor(color)
        self.pick_from_image = False
        self.color_button.setStyleSheet(f"background-color: {self.color.name()};")
        self.palette.use(self.color)

    def use_predicted(self) -> None:
        """New hints take the predicted colour under the click again."""
        self.pick_from_image = True
        self.color_button.setStyleSheet("")

    def chosen_color(self) -> QColor | None:
        """The colour the user chose for new hints, None while they take the predicted one."""
        return None if self.pick_from_image else QColor(self.color)

    def value(self) -> tuple[ColorPoint, ...]:
        return self._points

    def set_value(self, value: Any) -> None:
        points = self.param.validate(value)
        if points == self._points and self.count.text():
            return
        recolored = _recolored(self._points, points)
        self._points = points
        self.count.setText(f"{len(points)} hint(s)")
        if recolored is not None:  # a hint given a new colour: new hints take it too
            self.set_color(recolored)
        self.changed.emit()


def _recolored(old: tuple[ColorPoint, ...], new: tuple[ColorPoint, ...]) -> QColor | None:
    """The new colour when `new` is `old` with exactly one hint recoloured in place, else None."""
    if len(old) != len(new):
        return None
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    if len(changed) != 1:
        return None
    a, b = changed[0]
    return QColor(*b.rgb) if (a.x, a.y) == (b.x, b.y) and a.rgb != b.rgb else None


_CONTROLS: dict[type, type[ParamControl]] = {
    Choice: ChoiceControl, Int: NumberControl, Float: NumberControl, Seed: SeedControl,
    Bool: BoolControl, Color: ColorControl, Text: TextControl, FilePath: FilePathControl, ColorPoints: ColorPointsControl,
}


def control_for(param: Param) -> ParamControl:
    """The control for one parameter declaration; raises TypeError for an unknown kind."""
    for kind in type(param).__mro__:
        if kind in _CONTROLS:
            return _CONTROLS[kind](param)
    raise TypeError(f"no control for parameter type {type(param).__name__}")


class ParamForm(QWidget):
    """A form of controls for a translator's parameters; `changed` fires on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self.controls: dict[str, ParamControl] = {}
        self.params: tuple[Param, ...] = ()

    def set_params(self, params: Sequence[Param], values: Mapping[str, Any] | None = None) -> None:
        """Rebuild the controls for `params`, starting from `values` where they are valid."""
        while self._form.rowCount():
            self._form.removeRow(0)
        self.controls = {}
        self.params = tuple(params)
        for param in self.params:
            control = control_for(param)
            control.changed.connect(self.changed.emit)
            label = QLabel(param.label)
            label.setWordWrap(True)
            label.setToolTip(param_tooltip(param))
            self._form.addRow(label, control)
            self.controls[param.name] = control
        if values:
            self.set_values(values, strict=False)

    def values(self) -> dict[str, Any]:
        """Validated values of every parameter (raises `ParameterError` for a bad one)."""
        return resolve_params(self.params, {n: c.value() for n, c in self.controls.items()})

    def set_values(self, values: Mapping[str, Any], *, strict: bool = True) -> None:
        """Show `values`; unknown names and invalid values raise unless `strict` is False."""
        for name, value in values.items():
            control = self.controls.get(name)
            if control is None:
                if strict:
                    raise KeyError(name)
                continue
            try:
                control.set_value(control.param.validate(value))
            except Exception:
                if strict:
                    raise

    def color_points_control(self) -> ColorPointsControl | None:
        return next((c for c in self.controls.values() if isinstance(c, ColorPointsControl)), None)


def param_tooltip(param: Param, extra: str = "") -> str:
    """A parameter's help in rich text (so Qt wraps it at a readable width), then `extra`, then
    its technical name as the command line takes it."""
    parts = [html.escape(text) for text in (param.help, extra) if text]
    parts.append(f"<i>command line: --param {html.escape(param.name)}=...</i>")
    return "<qt>" + "<br><br>".join(parts) + "</qt>"


def _decimals(step: float) -> int:
    text = f"{step:.10f}".rstrip("0")
    return max(2, min(len(text.split(".")[1]) if "." in text else 0, 6))
