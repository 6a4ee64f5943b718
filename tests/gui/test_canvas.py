"""The before/after canvas: linked zoom and pan, fit and 100%, the compare split, big images."""
from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import QApplication

from translator.gui.canvas import Canvas, PyramidPixmapItem

pytestmark = pytest.mark.gui


def solid(width: int, height: int, color: QColor) -> QPixmap:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(color)
    return QPixmap.fromImage(image)


@pytest.fixture
def canvas(qtbot):
    widget = Canvas()
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_images(solid(400, 300, QColor("red")), solid(400, 300, QColor("blue")))
    return widget


def mouse(view, kind: QEvent.Type, pos: QPointF, button=Qt.MouseButton.LeftButton) -> None:
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(kind, pos, view.viewport().mapToGlobal(pos.toPoint()).toPointF(), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def drag(view, start: QPointF, end: QPointF, button=Qt.MouseButton.LeftButton) -> None:
    mouse(view, QEvent.Type.MouseButtonPress, start, button)
    for step in range(1, 5):
        mouse(view, QEvent.Type.MouseMove, start + (end - start) * (step / 4), button)
    mouse(view, QEvent.Type.MouseButtonRelease, end, button)


def same_place(a, b) -> bool:
    return abs(a.zoom - b.zoom) < 1e-9 and (a.center() - b.center()).manhattanLength() <= 2.0 / a.zoom + 0.01


def test_wheel_zoom_is_applied_to_both_views(canvas):
    before, after = canvas.before, canvas.after
    old = before.zoom
    pos = QPointF(60, 50)
    wheel = QWheelEvent(pos, before.viewport().mapToGlobal(pos.toPoint()).toPointF(), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    scene_under_cursor = before.mapToScene(pos.toPoint())
    QApplication.sendEvent(before.viewport(), wheel)
    assert before.zoom == pytest.approx(old * 1.25 ** 2)
    assert same_place(before, after)
    moved = before.mapToScene(pos.toPoint()) - scene_under_cursor
    assert moved.manhattanLength() < 2 / before.zoom  # zoomed around the cursor


def test_drag_pans_both_views(canvas):
    canvas.actual_size()
    before, after = canvas.before, canvas.after
    start_center = after.center()
    drag(after, QPointF(100, 100), QPointF(160, 130))
    assert (after.center() - start_center - QPointF(-60, -30)).manhattanLength() < 2
    assert same_place(before, after)


def test_fit_and_actual_size(canvas):
    canvas.actual_size()
    assert canvas.before.zoom == pytest.approx(1.0) and canvas.after.zoom == pytest.approx(1.0)
    canvas.fit()
    view = canvas.before
    expected = min(view.viewport().width() / 400, view.viewport().height() / 300)
    assert view.zoom == pytest.approx(expected)
    assert same_place(canvas.before, canvas.after)
    assert (view.center() - QPointF(200, 150)).manhattanLength() < 1.5


def test_compare_mode_split_line_can_be_dragged(canvas, qtbot):
    canvas.set_compare(True)
    view = canvas.before
    assert not canvas.after.isVisible() and view.split_line.isVisible()
    qtbot.wait(10)
    assert view.width() > 0.9 * canvas.width()  # the one view takes the whole canvas

    def colour_at(x_fraction: float) -> QColor:
        frame = view.viewport().grab().toImage()
        point = view.mapFromScene(QPointF(400 * x_fraction, 150))
        return frame.pixelColor(point)

    assert colour_at(0.25) == QColor("red") and colour_at(0.75) == QColor("blue")
    line_x = view.mapFromScene(QPointF(200, 150))
    target = view.mapFromScene(QPointF(100, 150))
    drag(view, QPointF(line_x), QPointF(target))
    assert view.split == pytest.approx(0.25, abs=0.02)
    assert colour_at(0.2) == QColor("red") and colour_at(0.3) == QColor("blue")
    canvas.toggle_compare()
    assert canvas.after.isVisible() and not view.split_line.isVisible()


def test_big_image_paints_from_a_reduced_pyramid_level(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(1000, 500)
    canvas.show()
    qtbot.waitExposed(canvas)
    big = solid(4000, 3000, QColor(10, 200, 30))
    canvas.set_images(big, big)
    item: PyramidPixmapItem = canvas.before.base
    assert item.level_for(canvas.before.zoom) >= 2  # fit zoom ~0.1: a 1/4 or smaller copy
    canvas.before.viewport().repaint()
    start = time.perf_counter()
    for step in range(10):
        canvas.before.pan(5, 3)
        canvas.before.viewport().repaint()
        canvas.after.viewport().repaint()
    per_frame = (time.perf_counter() - start) / 10
    assert per_frame < 0.1, f"{per_frame * 1000:.0f} ms per frame"
