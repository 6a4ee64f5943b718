"""Colour hints on the canvas: the view side of a `ColorPoints` parameter.

Click the image to add a hint, drag a hint to move it, right-click it to remove it, double-click
it to change its colour. A new hint takes the last colour chosen (picker, palette or a
double-click), else the model's predicted colour there, else the colour under the click when it
is not gray, else the colour of new hints (`hint_color`). `ColorPalette` offers the recent colours.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QMouseEvent, QPen
from PySide6.QtWidgets import (
    QColorDialog,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QHBoxLayout,
    QToolButton,
    QWidget,
)

from translator.gui.canvas import ImageView
from translator.params import ColorPoint

MARKER_PX = 12
GRAB_PX = 9


class HintTool(QObject):
    """Places, moves and removes `ColorPoint`s on an `ImageView`; `changed(points)` fires with
    the new tuple after every completed edit (not during a drag).

    color_at(x, y) gives the colour of a new hint at image pixel (x, y).
    """

    changed = Signal(tuple)

    def __init__(self, view: ImageView, color_at: Callable[[float, float], QColor],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.color_at = color_at
        self.points: list[ColorPoint] = []
        self.markers: list[QGraphicsEllipseItem] = []
        self._dragging: int | None = None
        self.pick_color: Callable[[QColor], QColor | None] = _ask_color

    # -- state -------------------------------------------------------------------------------

    def set_points(self, points: tuple[ColorPoint, ...]) -> None:
        """Show `points` (without emitting `changed`)."""
        self.points = list(points)
        self._rebuild()

    def clear_markers(self) -> None:
        for marker in self.markers:
            self.view.scene().removeItem(marker)
        self.markers = []

    def _rebuild(self) -> None:
        self.clear_markers()
        rect = self.view.image_rect()
        for point in self.points:
            marker = QGraphicsEllipseItem(QRectF(-MARKER_PX / 2, -MARKER_PX / 2, MARKER_PX, MARKER_PX))
            marker.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            pen = QPen(QColor(255, 255, 255), 2)
            pen.setCosmetic(True)
            marker.setPen(pen)
            marker.setBrush(QBrush(QColor(*point.rgb)))
            marker.setZValue(5)
            marker.setPos(point.x * rect.width(), point.y * rect.height())
            marker.setToolTip(point.to_text())
            self.view.scene().addItem(marker)
            self.markers.append(marker)

    def _emit(self) -> None:
        self.changed.emit(tuple(self.points))

    # -- geometry ----------------------------------------------------------------------------

    def _fraction(self, pos: QPointF) -> tuple[float, float] | None:
        rect = self.view.image_rect()
        if rect.isEmpty():
            return None
        x, y = pos.x() / rect.width(), pos.y() / rect.height()
        return (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)) if 0 <= x <= 1 and 0 <= y <= 1 else None

    def hit(self, pos: QPointF) -> int | None:
        """Index of the hint within `GRAB_PX` screen pixels of image point `pos`, else None."""
        where = self.view.mapFromScene(pos)
        best, best_d = None, float(GRAB_PX)
        for index, marker in enumerate(self.markers):
            centre = self.view.mapFromScene(marker.pos())
            d = ((centre.x() - where.x()) ** 2 + (centre.y() - where.y()) ** 2) ** 0.5
            if d <= best_d:
                best, best_d = index, d
        return best

    # -- editing -----------------------------------------------------------------------------

    def add(self, pos: QPointF) -> bool:
        fraction = self._fraction(pos)
        if fraction is None:
            return False
        color = self.color_at(pos.x(), pos.y())
        self.points.append(ColorPoint(fraction[0], fraction[1], (color.red(), color.green(), color.blue())))
        self._rebuild()
        self._emit()
        return True

    def remove(self, index: int) -> None:
        del self.points[index]
        self._rebuild()
        self._emit()

    def recolor(self, index: int, color: QColor) -> None:
        point = self.points[index]
        self.points[index] = ColorPoint(point.x, point.y, (color.red(), color.green(), color.blue()))
        self._rebuild()
        self._emit()

    # -- Tool protocol -----------------------------------------------------------------------

    def press(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool:
        hit = self.hit(pos)
        if event.button() == Qt.MouseButton.RightButton:
            if hit is None:
                return False
            self.remove(hit)
            return True
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if hit is not None:
            self._dragging = hit
            return True
        return self.add(pos)

    def move(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool:
        if self._dragging is None:
            return False
        rect = self.view.image_rect()
        x = min(max(pos.x(), 0.0), rect.width())
        y = min(max(pos.y(), 0.0), rect.height())
        self.markers[self._dragging].setPos(x, y)
        return True

    def release(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool:
        if self._dragging is None:
            return False
        index, self._dragging = self._dragging, None
        marker = self.markers[index]
        rect = self.view.image_rect()
        point = self.points[index]
        self.points[index] = ColorPoint(min(max(marker.pos().x() / rect.width(), 0.0), 1.0),
                                        min(max(marker.pos().y() / rect.height(), 0.0), 1.0), point.rgb)
        self._emit()
        return True

    def double_click(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool:
        hit = self.hit(pos)
        if hit is None:
            return False
        color = self.pick_color(QColor(*self.points[hit].rgb))
        if color is not None:
            self.recolor(hit, color)
        return True


GRAY_SPREAD = 24
"""A pixel whose channels differ by less than this (of 255) is gray: no colour to keep."""


def hint_color(chosen: QColor | None, prediction: QImage | None, source: QImage | None,
               x: float, y: float, fallback: QColor) -> QColor:
    """The colour of a new hint at image pixel (x, y): `chosen` (the last colour the user picked)
    when there is one, else the prediction's pixel there (the shown result of this image, so a
    new hint first keeps what the model did), else the source's pixel when it has a colour,
    else `fallback` (a gray hint on a gray image would change nothing)."""
    if chosen is not None:
        return QColor(chosen)
    if isinstance(prediction, QImage) and prediction.valid(int(x), int(y)):
        return prediction.pixelColor(int(x), int(y))
    if isinstance(source, QImage) and source.valid(int(x), int(y)):
        pixel = source.pixelColor(int(x), int(y))
        channels = (pixel.red(), pixel.green(), pixel.blue())
        if max(channels) - min(channels) >= GRAY_SPREAD:
            return pixel
    return QColor(fallback)


PALETTE_SIZE = 8
STARTING_PALETTE = ("#d23c28", "#f08c28", "#f0d23c", "#50a03c", "#3c8cdc", "#283c96", "#e6b496", "#784628")
"""Colours offered before any was used: red, orange, yellow, green, sky, blue, skin, brown."""


class ColorPalette(QWidget):
    """A row of swatches, the most recently used colour first; `chosen(QColor)` on a click,
    `used(list)` with the new '#rrggbb' names after a colour was used (to keep them)."""

    chosen = Signal(QColor)
    used = Signal(list)

    def __init__(self, colors: Iterable[str] = STARTING_PALETTE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colors: list[str] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.buttons: list[QToolButton] = []
        for _ in range(PALETTE_SIZE):
            button = QToolButton()
            button.setFixedSize(QSize(18, 18))
            button.clicked.connect(lambda _checked=False, b=button: self.chosen.emit(QColor(b.property("color"))))
            self._layout.addWidget(button)
            self.buttons.append(button)
        self._layout.addStretch(1)
        self.set_colors(list(colors))

    def use(self, color: QColor) -> None:
        """Put `color` first (it was just used)."""
        name = QColor(color).name()
        self.set_colors([name, *(c for c in self.colors if c != name)])
        self.used.emit(list(self.colors))

    def set_colors(self, colors: list[str]) -> None:
        self.colors = [QColor(c).name() for c in colors][:PALETTE_SIZE]
        for button, name in zip(self.buttons, self.colors + [""] * PALETTE_SIZE):
            button.setVisible(bool(name))
            button.setProperty("color", name)
            button.setStyleSheet(f"background-color: {name}; border: 1px solid #888;" if name else "")
            button.setToolTip(f"New hints in {name}" if name else "")


def _ask_color(initial: QColor) -> QColor | None:
    color = QColorDialog.getColor(initial, None, "Hint colour")
    return color if color.isValid() else None
