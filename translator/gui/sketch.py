"""The sketch pad: draw (and erase) strokes on a blank page or over an image, with undo/redo.

`SketchDocument` holds the page: a background (white, or the image drawn over) and an ink layer
re-rendered from the list of strokes, so undo and redo are exact. `SketchTool` draws on an
`ImageView` with the mouse or a tablet (pen pressure scales the width).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QPointingDevice,
    QTabletEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QWidget,
)

from translator.gui.canvas import ImageView, PyramidPixmapItem
from translator.gui.convert import from_qimage
from translator.image import Image

DEFAULT_SIZE = (512, 512)


@dataclass
class Stroke:
    """One pen or eraser stroke: points (x, y, pressure in [0, 1]) in image pixels."""

    width: float
    eraser: bool
    color: tuple[int, int, int] = (0, 0, 0)
    points: list[tuple[float, float, float]] = field(default_factory=list)


class SketchDocument(QObject):
    """A drawing: `changed` fires after each finished stroke, undo, redo and clear."""

    changed = Signal()

    def __init__(self, background: QImage | None = None, size: tuple[int, int] = DEFAULT_SIZE,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if background is None:
            background = QImage(size[0], size[1], QImage.Format.Format_RGB32)
            background.fill(QColor(255, 255, 255))
        self.background = background.convertToFormat(QImage.Format.Format_RGB32)
        self.layer = QImage(self.background.size(), QImage.Format.Format_ARGB32_Premultiplied)
        self.layer.fill(Qt.GlobalColor.transparent)
        self.strokes: list[Stroke] = []
        self.redo_stack: list[Stroke] = []
        self.current: Stroke | None = None
        self.pen_width = 4.0
        self.eraser = False

    @property
    def width(self) -> int:
        return self.background.width()

    @property
    def height(self) -> int:
        return self.background.height()

    # -- drawing -----------------------------------------------------------------------------

    def begin(self, x: float, y: float, pressure: float = 1.0, *, eraser: bool | None = None) -> None:
        """Start a stroke at (x, y); `eraser` overrides the document's pen/eraser choice."""
        self.current = Stroke(width=self.pen_width, eraser=self.eraser if eraser is None else eraser)
        self.current.points.append((x, y, pressure))
        self._paint_segment(self.current, len(self.current.points) - 1)

    def extend(self, x: float, y: float, pressure: float = 1.0) -> None:
        if self.current is None:
            return
        self.current.points.append((x, y, pressure))
        self._paint_segment(self.current, len(self.current.points) - 1)

    def end(self) -> None:
        if self.current is None:
            return
        self.strokes.append(self.current)
        self.current = None
        self.redo_stack.clear()
        self.changed.emit()

    def undo(self) -> bool:
        if not self.strokes:
            return False
        self.redo_stack.append(self.strokes.pop())
        self._render()
        self.changed.emit()
        return True

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        self.strokes.append(self.redo_stack.pop())
        self._render()
        self.changed.emit()
        return True

    def clear(self) -> None:
        if not self.strokes:
            return
        self.redo_stack = list(reversed(self.strokes))
        self.strokes = []
        self._render()
        self.changed.emit()

    def _render(self) -> None:
        self.layer.fill(Qt.GlobalColor.transparent)
        for stroke in self.strokes:
            for index in range(len(stroke.points)):
                self._paint_segment(stroke, index)

    def _paint_segment(self, stroke: Stroke, index: int) -> None:
        """Paint the segment ending at point `index` (a dot for the first point)."""
        x1, y1, p1 = stroke.points[index]
        x0, y0, _ = stroke.points[index - 1] if index > 0 else (x1, y1, p1)
        painter = QPainter(self.layer)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if stroke.eraser:
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
        pen = QPen(QColor(*stroke.color), max(stroke.width * max(p1, 0.05), 0.5),
                   Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(QPointF(x0, y0), QPointF(x1, y1))
        painter.end()

    # -- output ------------------------------------------------------------------------------

    def composite(self) -> QImage:
        """The page as the translator sees it: the ink over the background (RGB32)."""
        out = self.background.copy()
        painter = QPainter(out)
        painter.drawImage(0, 0, self.layer)
        painter.end()
        return out

    def to_image(self) -> Image:
        return from_qimage(self.composite(), keep_alpha=False)


class SketchTool(QObject):
    """Draws on a `SketchDocument` shown in an `ImageView`.

    While a stroke is drawn, the view shows the background plus the live ink layer; when it
    ends the document emits `changed` and the owner shows the new composite.
    """

    def __init__(self, view: ImageView, document: SketchDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.document = document
        self.ink = PyramidPixmapItem()
        self.ink.setZValue(1.5)
        self.ink.setVisible(False)
        view.scene().addItem(self.ink)
        self._background = QPixmap.fromImage(document.background)
        self._before: QPixmap | None = None
        self._tablet_down = False

    def detach(self) -> None:
        self.view.scene().removeItem(self.ink)

    def _start(self, pos: QPointF, pressure: float, eraser: bool | None = None) -> None:
        self._before = self.view.base.pixmap()
        self.view.base.set_pixmap(self._background)
        self.document.begin(pos.x(), pos.y(), pressure, eraser=eraser)
        self.ink.setVisible(True)
        self._refresh_ink()

    def _continue(self, pos: QPointF, pressure: float) -> None:
        self.document.extend(pos.x(), pos.y(), pressure)
        self._refresh_ink()

    def _finish(self) -> None:
        self.ink.setVisible(False)
        if self._before is not None:
            self.view.base.set_pixmap(self._before)
        self._before = None
        self.document.end()

    def _refresh_ink(self) -> None:
        self.ink.set_pixmap(QPixmap.fromImage(self.document.layer))

    # -- Tool protocol -----------------------------------------------------------------------

    def press(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self._tablet_down:
            return False
        self._start(pos, 1.0)
        return True

    def move(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool:
        if self.document.current is None or self._tablet_down:
            return False
        self._continue(pos, 1.0)
        return True

    def release(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool:
        if self.document.current is None or self._tablet_down:
            return False
        self._finish()
        return True

    def tablet(self, view: ImageView, event: QTabletEvent, pos: QPointF) -> bool:
        """Pen input: pressure scales the stroke width; the pen's eraser end erases."""
        kind = event.type()
        pressure = float(event.pressure()) or 1.0
        if kind == QTabletEvent.Type.TabletPress:
            self._tablet_down = True
            flipped = event.pointerType() == QPointingDevice.PointerType.Eraser
            self._start(pos, pressure, eraser=True if flipped else None)
        elif kind == QTabletEvent.Type.TabletMove and self.document.current is not None:
            self._continue(pos, pressure)
        elif kind == QTabletEvent.Type.TabletRelease and self.document.current is not None:
            self._finish()
            self._tablet_down = False
        else:
            return False
        return True


class SketchBar(QWidget):
    """Pen width, pen/eraser, undo, redo, clear and "live" (re-run after a pause) for a sketch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.document: SketchDocument | None = None
        layout.addWidget(QLabel("Pen width"))
        self.width_spin = QSpinBox()
        self.width_spin.setRange(1, 64)
        self.width_spin.setValue(4)
        self.width_spin.valueChanged.connect(self._set_width)
        layout.addWidget(self.width_spin)
        self.pen_button = QToolButton()
        self.pen_button.setText("Pen")
        self.pen_button.setCheckable(True)
        self.pen_button.setChecked(True)
        self.eraser_button = QToolButton()
        self.eraser_button.setText("Eraser")
        self.eraser_button.setCheckable(True)
        self.pen_button.clicked.connect(lambda: self.set_eraser(False))
        self.eraser_button.clicked.connect(lambda: self.set_eraser(True))
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo")
        self.undo_button.setToolTip("Undo the last stroke (Ctrl+Z)")
        self.redo_button = QToolButton()
        self.redo_button.setText("Redo")
        self.redo_button.setToolTip("Redo (Ctrl+Shift+Z)")
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.undo_button.clicked.connect(lambda: self.document and self.document.undo())
        self.redo_button.clicked.connect(lambda: self.document and self.document.redo())
        self.clear_button.clicked.connect(lambda: self.document and self.document.clear())
        for button in (self.pen_button, self.eraser_button, self.undo_button, self.redo_button,
                       self.clear_button):
            layout.addWidget(button)
        self.live = QCheckBox("Live")
        self.live.setToolTip("Run the translator again a moment after the drawing changes")
        self.live.setChecked(True)
        layout.addWidget(self.live)
        layout.addStretch(1)

    def set_document(self, document: SketchDocument | None) -> None:
        self.document = document
        if document is not None:
            document.pen_width = float(self.width_spin.value())
            document.eraser = self.eraser_button.isChecked()

    def _set_width(self, value: int) -> None:
        if self.document is not None:
            self.document.pen_width = float(value)

    def set_eraser(self, on: bool) -> None:
        self.pen_button.setChecked(not on)
        self.eraser_button.setChecked(on)
        if self.document is not None:
            self.document.eraser = on
