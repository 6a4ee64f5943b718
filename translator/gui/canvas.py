"""The before/after canvas: two linked image views, or one view with a draggable split line.

Big images stay smooth: each image is one `PyramidPixmapItem` that paints a pre-scaled copy
(made once per zoom octave) instead of scaling the full pixmap every frame; no numpy work runs
while zooming or panning.
"""
from __future__ import annotations

import math
from typing import Protocol

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QTabletEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedLayout,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

MIN_ZOOM = 1 / 64
MAX_ZOOM = 64.0
WHEEL_STEP = 1.25
SPLIT_GRAB_PX = 8


class Tool(Protocol):
    """Something that takes over mouse input on an `ImageView` (colour hints, sketching).

    Each handler gets the event and its position in image pixels; returning True consumes the
    event (no panning).
    """

    def press(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool: ...
    def move(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool: ...
    def release(self, view: ImageView, event: QMouseEvent, pos: QPointF) -> bool: ...


class PyramidPixmapItem(QGraphicsItem):
    """A pixmap shown at its full size in scene coordinates, painted from the pyramid level that
    best fits the current zoom (levels are halvings, made lazily and kept).

    clip_left: scene x left of which the item is not painted (the compare split), or None.
    """

    def __init__(self, pixmap: QPixmap | None = None) -> None:
        super().__init__()
        self._levels: list[QPixmap] = []
        self.clip_left: float | None = None
        self.set_pixmap(pixmap or QPixmap())

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self.prepareGeometryChange()
        self._levels = [pixmap]
        self.update()

    def pixmap(self) -> QPixmap:
        return self._levels[0]

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._levels[0].width(), self._levels[0].height())

    def level_for(self, scale: float) -> int:
        """Pyramid level to paint at `scale` device pixels per image pixel (0 = full size)."""
        if scale >= 0.5 or self._levels[0].isNull():
            return 0
        level = math.floor(math.log2(1.0 / scale))
        biggest_side = max(self._levels[0].width(), self._levels[0].height())
        return max(0, min(level, int(math.log2(max(biggest_side, 1))) - 4))

    def _level(self, index: int) -> QPixmap:
        while len(self._levels) <= index:
            prev = self._levels[-1]
            self._levels.append(prev.scaled(max(prev.width() // 2, 1), max(prev.height() // 2, 1),
                                            Qt.AspectRatioMode.IgnoreAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
        return self._levels[index]

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        full = self._levels[0]
        if full.isNull():
            return
        scale = painter.worldTransform().m11()
        pixmap = self._level(self.level_for(scale))
        rect = self.boundingRect()
        if self.clip_left is not None:
            painter.setClipRect(QRectF(self.clip_left, 0, rect.width() - self.clip_left, rect.height()),
                                Qt.ClipOperation.IntersectClip)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1.0)
        painter.drawPixmap(rect, pixmap, QRectF(pixmap.rect()))


class ImageView(QGraphicsView):
    """One zoomable, pannable view of an image (or of a before/after pair in compare mode).

    Wheel zooms around the cursor, left or middle drag pans, `fit()` and `set_zoom(1)` are the
    Ctrl+0 / Ctrl+1 actions. `view_changed` fires after every zoom or pan (for linking views).
    In compare mode the after image is painted right of a vertical split line that can be
    dragged; `split` is its position as a fraction of the width.
    """

    view_changed = Signal()
    split_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tool: Tool | None = None
        self.setScene(QGraphicsScene(self))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(48, 48, 48))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # files dropped here go to the window, which opens them
        self.viewport().setAcceptDrops(False)
        self.base = PyramidPixmapItem()
        self.overlay = PyramidPixmapItem()
        self.overlay.setZValue(1)
        self.scene().addItem(self.base)
        self.scene().addItem(self.overlay)
        self.split_line = QGraphicsLineItem()
        pen = QPen(QColor(255, 255, 255), 2)
        pen.setCosmetic(True)
        self.split_line.setPen(pen)
        self.split_line.setZValue(2)
        self.scene().addItem(self.split_line)
        self._compare = False
        self.split = 0.5
        self._fit_mode = True
        self._pan_from: QPointF | None = None
        self._dragging_split = False
        self._set_compare_items()

    # -- content -----------------------------------------------------------------------------

    def set_images(self, base: QPixmap | None, overlay: QPixmap | None = None) -> None:
        """Show `base` (and `overlay`, the after image in compare mode). The zoom and pan are
        kept when the size is unchanged; a new size fits the view when fit mode is on."""
        old = self.image_rect()
        self.base.set_pixmap(base or QPixmap())
        self.overlay.set_pixmap(overlay or QPixmap())
        rect = self.image_rect()
        self.scene().setSceneRect(rect.adjusted(-rect.width(), -rect.height(), rect.width(), rect.height()))
        self._set_compare_items()
        if rect != old and (self._fit_mode or old.isEmpty()):
            self.fit()

    def image_rect(self) -> QRectF:
        rect = self.base.boundingRect()
        if rect.isEmpty():
            rect = self.overlay.boundingRect()
        return rect

    def has_image(self) -> bool:
        return not self.image_rect().isEmpty()

    # -- compare mode ------------------------------------------------------------------------

    @property
    def compare(self) -> bool:
        return self._compare

    def set_compare(self, on: bool) -> None:
        self._compare = bool(on)
        self._set_compare_items()

    def set_split(self, fraction: float) -> None:
        """Move the split line to `fraction` of the image width (clamped to [0, 1])."""
        self.split = min(max(float(fraction), 0.0), 1.0)
        self._set_compare_items()
        self.split_changed.emit(self.split)

    def _set_compare_items(self) -> None:
        rect = self.image_rect()
        show = self._compare and not self.overlay.pixmap().isNull()
        self.overlay.setVisible(show)
        self.split_line.setVisible(show)
        x = rect.width() * self.split
        self.overlay.clip_left = x if show else None
        self.split_line.setLine(x, 0, x, rect.height())
        self.overlay.update()

    # -- zoom and pan ------------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom to `factor` device pixels per image pixel, keeping the scene point under the
        viewport point `anchor` (default: the viewport centre) in place."""
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        anchor = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        scene_point = self.mapToScene(anchor.toPoint())
        self._fit_mode = False
        self.setTransform(self.transform().fromScale(factor, factor))
        delta = self.mapToScene(anchor.toPoint()) - scene_point
        self._scroll_scene(delta)
        self.view_changed.emit()

    def fit(self) -> None:
        """Fit the whole image into the view (Ctrl+0)."""
        rect = self.image_rect()
        if rect.isEmpty() or self.viewport().width() < 2 or self.viewport().height() < 2:
            self._fit_mode = True
            return
        factor = min(self.viewport().width() / rect.width(), self.viewport().height() / rect.height())
        self.setTransform(self.transform().fromScale(factor, factor))
        self.centerOn(rect.center())
        self._fit_mode = True
        self.view_changed.emit()

    def center(self) -> QPointF:
        """The scene point at the viewport centre."""
        return self.mapToScene(self.viewport().rect().center())

    def set_state(self, zoom: float, center: QPointF, fit_mode: bool = False) -> None:
        """Show `center` at the viewport centre at `zoom`, without emitting `view_changed`."""
        self.blockSignals(True)
        try:
            self.setTransform(self.transform().fromScale(zoom, zoom))
            self.centerOn(center)
            self._fit_mode = fit_mode
        finally:
            self.blockSignals(False)

    def _scroll_scene(self, delta: QPointF) -> None:
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        hbar.setValue(round(hbar.value() - delta.x() * self.zoom))
        vbar.setValue(round(vbar.value() - delta.y() * self.zoom))

    def pan(self, dx: float, dy: float) -> None:
        """Move the image by (dx, dy) device pixels."""
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        hbar.setValue(round(hbar.value() - dx))
        vbar.setValue(round(vbar.value() - dy))
        self._fit_mode = False
        self.view_changed.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * WHEEL_STEP ** steps, event.position())
        event.accept()

    # -- mouse -------------------------------------------------------------------------------

    def image_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def _near_split(self, event: QMouseEvent) -> bool:
        if not self.split_line.isVisible():
            return False
        x = self.mapFromScene(QPointF(self.image_rect().width() * self.split, 0)).x()
        return abs(event.position().x() - x) <= SPLIT_GRAB_PX

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._near_split(event):
            self._dragging_split = True
            event.accept()
            return
        if self.tool is not None and event.button() != Qt.MouseButton.MiddleButton \
                and self.tool.press(self, event, self.image_pos(event)):
            event.accept()
            return
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging_split:
            width = self.image_rect().width()
            if width > 0:
                self.set_split(self.image_pos(event).x() / width)
            event.accept()
            return
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan(delta.x(), delta.y())
            event.accept()
            return
        if self.tool is not None and self.tool.move(self, event, self.image_pos(event)):
            event.accept()
            return
        cursor = Qt.CursorShape.SplitHCursor if self._near_split(event) else Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(cursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging_split or self._pan_from is not None:
            self._dragging_split = False
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        if self.tool is not None and self.tool.release(self, event, self.image_pos(event)):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        handler = getattr(self.tool, "double_click", None)
        if handler is not None and handler(self, event, self.image_pos(event)):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        handler = getattr(self.tool, "tablet", None)
        if handler is not None and isinstance(event, QTabletEvent):
            pos = self.mapToScene(event.position().toPoint())
            if handler(self, event, pos):
                event.accept()
                return True
        return super().viewportEvent(event)


class ViewLink:
    """Keeps several `ImageView`s at the same zoom and centre: a zoom or pan in one is applied
    to the others."""

    def __init__(self, *views: ImageView) -> None:
        self.views = list(views)
        self._busy = False
        for view in self.views:
            view.view_changed.connect(lambda v=view: self.sync_from(v))

    def sync_from(self, source: ImageView) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            for view in self.views:
                if view is not source:
                    view.set_state(source.zoom, source.center(), source._fit_mode)
        finally:
            self._busy = False


class ElidedLabel(QLabel):
    """A one-line label that elides its text ("After: cyclegan [photo2pa...") where it does
    not fit instead of clipping it; the full text is its tooltip. `text()` is the full text."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def shown_text(self) -> str:
        """The text as it fits the label now."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        QFrame.paintEvent(self, event)  # the frame and the style sheet's background, no text
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  self.palette(), self.isEnabled(), self.shown_text(), self.foregroundRole())


class Canvas(QWidget):
    """Before and after side by side with linked zoom and pan, or (compare mode, key C) one
    view with a draggable split line. With only a result (a generator), the after pane alone.

    `before` is the view tools (colour hints, sketching) attach to.
    """

    compare_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.before = ImageView(self)
        self.after = ImageView(self)
        self.link = ViewLink(self.before, self.after)
        self._before_pixmap: QPixmap | None = None
        self._after_pixmap: QPixmap | None = None
        self.placeholder = QLabel("Drop images here, or open them with Ctrl+O")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setObjectName("canvasPlaceholder")

        self.before_label = ElidedLabel("Before")
        self.after_label = ElidedLabel("After")
        panes = QHBoxLayout()
        panes.setSpacing(2)
        panes.setContentsMargins(0, 0, 0, 0)
        self.panes: list[QWidget] = []
        for label, view in ((self.before_label, self.before), (self.after_label, self.after)):
            pane = QWidget()
            column = QVBoxLayout(pane)
            column.setSpacing(0)
            column.setContentsMargins(0, 0, 0, 0)
            label.setObjectName("paneLabel")
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            column.addWidget(label)
            column.addWidget(view, 1)
            panes.addWidget(pane, 1)
            self.panes.append(pane)
        self.after_pane = self.panes[1]
        views = QWidget()
        views.setLayout(panes)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(views)
        self._compare = False

    # -- content -----------------------------------------------------------------------------

    def set_images(self, before: QPixmap | None, after: QPixmap | None) -> None:
        """Show an original (None for a generator) and its result (None: not run yet)."""
        self._before_pixmap, self._after_pixmap = before, after
        self._refresh()

    def set_after(self, after: QPixmap | None) -> None:
        self._after_pixmap = after
        self._refresh()

    @property
    def before_pixmap(self) -> QPixmap | None:
        return self._before_pixmap

    @property
    def after_pixmap(self) -> QPixmap | None:
        return self._after_pixmap

    def _refresh(self) -> None:
        before, after = self._before_pixmap, self._after_pixmap
        empty = before is None and after is None
        self._stack.setCurrentIndex(0 if empty else 1)
        if empty:
            return
        compare = self._compare and before is not None and after is not None
        only_after = before is None
        self.before.set_images(after if only_after else before, after if compare else None)
        self.before.set_compare(compare)
        self.after.set_images(None if (compare or only_after) else after)
        self.after_pane.setVisible(not compare and not only_after)
        self.before_label.setText("Result" if only_after else
                                  ("Before | After (drag the line)" if compare else "Before"))
        self.after_label.setText("After" if after is not None else "After (not run yet)")
        self.link.sync_from(self.before)

    # -- actions -----------------------------------------------------------------------------

    @property
    def compare(self) -> bool:
        return self._compare

    def set_compare(self, on: bool) -> None:
        if on != self._compare:
            self._compare = on
            self._refresh()
            self.compare_changed.emit(on)

    def toggle_compare(self) -> None:
        self.set_compare(not self._compare)

    def fit(self) -> None:
        self.before.fit()
        self.link.sync_from(self.before)

    def actual_size(self) -> None:
        self.before.set_zoom(1.0)
