"""Sketch pad (strokes, eraser, undo/redo, live re-run), colour hints on the canvas, batch in
the window and dropping a weights file."""
from __future__ import annotations

import numpy as np
import pytest
from gui_fakes import RECEIVED
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor
from test_canvas import drag, mouse
from test_main_window import drop

from translator.batch import BatchItem
from translator.gui.sketch import SketchDocument
from translator.imageio import read_image
from translator.params import ColorPoint

pytestmark = pytest.mark.gui


def at(view, x: float, y: float) -> QPointF:
    """Viewport position of image pixel (x, y)."""
    return QPointF(view.mapFromScene(QPointF(x, y)))


def inked(rgb: np.ndarray, y: int, x0: int, x1: int) -> bool:
    """Every column x0..x1 has dark ink within 5 rows of y."""
    return bool((rgb[y - 5:y + 6, x0:x1].min(axis=(0, 2)) < 0.2).all())


def test_sketch_strokes_undo_redo_and_eraser(make_window):
    window = make_window()
    item = window.new_sketch()
    doc: SketchDocument = item.sketch
    assert window.sketch_bar.isVisible() and window.canvas.before.tool is not None
    assert float(item.image.rgb.min()) == 1.0  # a blank white page
    view = window.canvas.before
    window.sketch_bar.width_spin.setValue(6)
    drag(view, at(view, 100, 100), at(view, 300, 100))
    assert len(doc.strokes) == 1 and item.revision == 1
    assert inked(item.image.rgb, 100, 120, 280) and float(item.image.rgb[200:, :].min()) == 1.0
    drag(view, at(view, 100, 300), at(view, 300, 300))
    window.undo_action.trigger()
    assert len(doc.strokes) == 1 and float(item.image.rgb[290:310].min()) == 1.0
    window.redo_action.trigger()
    assert len(doc.strokes) == 2 and inked(item.image.rgb, 300, 150, 250)
    window.sketch_bar.eraser_button.click()
    window.sketch_bar.width_spin.setValue(30)
    drag(view, at(view, 80, 100), at(view, 320, 100))
    assert float(item.image.rgb[90:110].min()) == 1.0  # erased back to the page
    window.undo_action.trigger()
    assert inked(item.image.rgb, 100, 120, 280)


def test_sketch_reruns_after_a_pause(make_window, qtbot):
    window = make_window()
    window.translator_picker.select("echo")
    item = window.new_sketch()
    view = window.canvas.before
    with qtbot.waitSignal(window.run_finished, timeout=5000) as blocker:
        drag(view, at(view, 50, 50), at(view, 200, 220))
    record = blocker.args[0]
    np.testing.assert_allclose(record.result.rgb, 1 - item.image.rgb, atol=1e-5)
    assert window.shown_record is record
    drawn = window.canvas.before_pixmap.toImage()
    drag(view, at(view, 60, 300), at(view, 250, 300))  # the next stroke shows at once, beside the result
    assert window.canvas.before_pixmap.toImage() != drawn and window.shown_record is record
    assert "out of date" in window.canvas.after_label.text()


def test_new_sketch_picks_a_translator_made_for_drawings(make_window):
    from gui_fakes import DrawingPlugin, FakePlugin

    window = make_window(FakePlugin(), DrawingPlugin())
    window.translator_picker.select("echo")
    window.new_sketch()
    assert window.spec.name == "lines" and window.translator_picker.current_name() == "lines"


def test_draw_over_an_opened_image(make_window, open_images, write_png):
    window = make_window()
    (source,) = open_images(window, [write_png("photo.png", width=64, height=48)])
    sketch = window.draw_over_current()
    assert sketch.image.rgb.shape == (48, 64, 3)
    np.testing.assert_allclose(sketch.image.rgb, source.image.rgb, atol=1 / 255)


def test_colour_points_placed_moved_removed_reach_the_translator(make_window, open_images, run_wait,
                                                                  write_png, qtbot):
    window = make_window()
    window.translator_picker.select("hinted")
    (item,) = open_images(window, [write_png("gray.png", width=40, height=30)])
    view = window.canvas.before
    control = window.param_form.color_points_control()
    assert view.tool is window.hint_tool
    mouse(view, QEvent.Type.MouseButtonPress, at(view, 10.5, 5.5))
    mouse(view, QEvent.Type.MouseButtonRelease, at(view, 10.5, 5.5))
    (first,) = control.value()
    assert first.x == pytest.approx(10.5 / 40, abs=0.02) and first.y == pytest.approx(5.5 / 30, abs=0.02)
    pixel = item.view.pixelColor(10, 5)
    assert first.rgb == (pixel.red(), pixel.green(), pixel.blue())  # the colour under the click
    control.set_color(QColor(0, 255, 0))
    mouse(view, QEvent.Type.MouseButtonPress, at(view, 30.5, 20.5))
    mouse(view, QEvent.Type.MouseButtonRelease, at(view, 30.5, 20.5))
    assert control.value()[1].rgb == (0, 255, 0)
    drag(view, at(view, 10.5, 5.5), at(view, 20.5, 15.5))
    moved = control.value()[0]
    assert moved.x == pytest.approx(20.5 / 40, abs=0.02) and moved.rgb == first.rgb
    window.hint_tool.pick_color = lambda initial: QColor(0, 0, 255)
    point = at(view, 20.5, 15.5)
    mouse(view, QEvent.Type.MouseButtonDblClick, point)
    assert control.value()[0].rgb == (0, 0, 255)
    record = run_wait(window)
    assert RECEIVED["hinted"]["hints"] == control.value()
    np.testing.assert_allclose(record.result.rgb[15, 20], [0, 0, 1], atol=1e-5)
    np.testing.assert_allclose(record.result.rgb[20, 30], [0, 1, 0], atol=1e-5)
    mouse(view, QEvent.Type.MouseButtonPress, at(view, 30.5, 20.5), Qt.MouseButton.RightButton)
    assert len(control.value()) == 1
    control.clear_button.click()
    assert control.value() == () and window.hint_tool.markers == []
    window.param_form.set_values({"hints": (ColorPoint(0.5, 0.5, (9, 9, 9)),)})
    assert len(window.hint_tool.markers) == 1


def test_batch_over_open_images_and_a_bad_file(make_window, open_images, write_png, tmp_path, qtbot):
    window = make_window()
    window.translator_picker.select("echo")
    open_images(window, [write_png("a.png", seed=1), write_png("b.png", seed=2)])
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    items = window.open_batch_items() + [BatchItem(label="bad.png", path=bad)]
    with qtbot.waitSignal(window.batch_finished, timeout=10000) as blocker:
        window.start_batch(items, tmp_path / "out", "webp")
    report = blocker.args[0]
    assert sorted(p.name for p in report.written) == ["a_echo.webp", "b_echo.webp"]
    assert [label for label, _ in report.errors] == ["bad.png"]
    assert any("1 failed" in m for m in window.messages.texts("error"))
    assert window.batch_report_box.isVisible() and not window.batch_report_box.isModal()
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.run_action.isEnabled()


def test_batch_reuses_cached_results_and_names_the_image_at_work(make_window, open_images, write_png, tmp_path,
                                                                  qtbot, run_wait, monkeypatch):
    window = make_window()
    window.translator_picker.select("echo")
    opened = open_images(window, [write_png("a.png", seed=1), write_png("b.png", seed=2)])
    window.image_list.setCurrentRow(window.images.index_of(opened[0]))
    cached = run_wait(window)
    engine = window.session.engine("cpu", "fp32")
    runs, messages = [], []
    real_run = engine.run
    monkeypatch.setattr(engine, "run", lambda spec, model, image, *a, **k: runs.append(image) or real_run(
        spec, model, image, *a, **k))
    window.session.events.progress.connect(lambda fraction, message: messages.append(message))
    with qtbot.waitSignal(window.batch_finished, timeout=10000) as blocker:
        window.start_batch(window.open_batch_items(), tmp_path / "out", "png")
    report = blocker.args[0]
    assert runs == [opened[1].image] and report.reused == 1 and len(report.written) == 2
    np.testing.assert_allclose(read_image(tmp_path / "out" / "a_echo.png").rgb, cached.result.rgb, atol=1 / 255)
    assert any(m.startswith("image 2 of 2: b.png") for m in messages) and not any("3 of 2" in m for m in messages)
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)


def test_dropping_an_unknown_weights_file_reports_it(make_window, tmp_path, qtbot):
    window = make_window()
    weights = tmp_path / "mystery.safetensors"
    weights.write_bytes(b"not safetensors at all")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(weights))])
    drop(window, mime)
    qtbot.waitUntil(lambda: any("mystery.safetensors" in m for m in window.messages.texts("error")),
                    timeout=5000)
    assert len(window.images) == 0


def test_tablet_pressure_scales_the_stroke_and_the_eraser_end_erases(make_window):
    from PySide6.QtGui import QInputDevice, QPointingDevice, QPointingDeviceUniqueId, QTabletEvent
    from PySide6.QtWidgets import QApplication

    window = make_window()
    item = window.new_sketch()
    view = window.canvas.before
    window.sketch_bar.width_spin.setValue(20)

    def pen(pointer: QPointingDevice.PointerType) -> QPointingDevice:
        return QPointingDevice("pen", 1, QInputDevice.DeviceType.Stylus, pointer,
                               QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
                               1, 3, "", QPointingDeviceUniqueId())

    def stroke(device: QPointingDevice, y: float, pressure: float) -> None:
        for kind, x in ((QEvent.Type.TabletPress, 100), (QEvent.Type.TabletMove, 200),
                        (QEvent.Type.TabletMove, 300), (QEvent.Type.TabletRelease, 300)):
            pos = at(view, x, y)
            buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
            event = QTabletEvent(kind, device, pos, view.viewport().mapToGlobal(pos), pressure, 0, 0, 0, 0, 0,
                                 Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, buttons)
            QApplication.sendEvent(view.viewport(), event)

    stroke(pen(QPointingDevice.PointerType.Pen), 100, 0.25)  # 5 px wide
    stroke(pen(QPointingDevice.PointerType.Pen), 300, 1.0)   # 20 px wide
    assert len(item.sketch.strokes) == 2 and item.sketch.strokes[0].points[1][2] == pytest.approx(0.25)
    dark = (item.image.rgb.mean(axis=2) < 0.5)
    thin, thick = dark[80:120, 200].sum(), dark[280:320, 200].sum()
    assert 3 <= thin <= 7 and 17 <= thick <= 23
    stroke(pen(QPointingDevice.PointerType.Eraser), 300, 1.0)
    assert item.sketch.strokes[-1].eraser and not item.sketch.eraser
    assert float(item.image.rgb[295:306, 150:250].min()) > 0.95  # erased (antialiased rims aside)


def test_dropping_a_weights_file_imports_it_as_a_model(make_window, tmp_path, qtbot):
    import torch
    from gui_fakes import ClaimingPlugin
    from safetensors.torch import save_file

    window = make_window(ClaimingPlugin())
    weights = tmp_path / "my-echo.safetensors"
    save_file({"echo.marker": torch.zeros(1)}, str(weights))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(weights))])
    with qtbot.waitSignal(window.models_changed, timeout=5000):
        drop(window, mime)
    assert window.spec.name == "echo" and window.model_picker.current_model() == "my-echo"
    assert [e.name for e in window.store.list("echo")] == ["my-echo"]
    assert any("Imported my-echo.safetensors" in m for m in window.messages.texts("info"))


def test_recent_hint_colours_come_back_next_session(make_window, tmp_path):
    settings_file = tmp_path / "palette.ini"
    window = make_window(settings_file=settings_file)
    window.translator_picker.select("hinted")
    control = window.param_form.color_points_control()
    starting = list(control.palette.colors)
    control.set_color(QColor(1, 2, 3))
    control.palette.chosen.emit(QColor(starting[2]))  # a swatch clicked: it goes first
    used = [starting[2], "#010203"]
    assert control.palette.colors[:2] == used
    window.close()
    again = make_window(settings_file=settings_file)
    again.translator_picker.select("hinted")
    palette = again.param_form.color_points_control().palette
    assert palette.colors[:2] == used and len(palette.colors) == len(starting)
    assert again.param_form.color_points_control().chosen_color() is None  # hints still take the prediction


def test_a_damaged_saved_palette_is_ignored(make_window, tmp_path):
    from PySide6.QtCore import QSettings

    from translator.gui.canvas_tools import PALETTE_KEY
    from translator.gui.hints import STARTING_PALETTE

    settings_file = tmp_path / "bad.ini"
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    settings.setValue(PALETTE_KEY, "not a colour,#zzzzzz")
    settings.sync()
    window = make_window(settings_file=settings_file)
    window.translator_picker.select("hinted")
    assert window.param_form.color_points_control().palette.colors == list(STARTING_PALETTE)


def test_the_side_panel_widens_to_show_every_control(qtbot):
    """The colour-hint controls of the built-in colorize are wider than the panel's least width:
    the panel widens instead of cutting them off (it does not scroll sideways)."""
    from translator_plugins.colorize.plugin import translator_translators

    from translator.gui.side_panel import MIN_WIDTH, SidePanel

    (spec,) = translator_translators()

    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_translator(spec, {})
    qtbot.wait(100)  # the panel's layout settles
    panel.resize(MIN_WIDTH, 600)  # as narrow as a user may make it

    def fits() -> bool:
        inner = panel.widget()
        return MIN_WIDTH < inner.minimumSizeHint().width() <= inner.width() <= panel.viewport().width()

    qtbot.waitUntil(fits, timeout=3000)
