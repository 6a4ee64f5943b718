"""What the window tells a waiting user: the status after a cancel, hints that run by themselves."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_the_status_clears_after_a_cancel(make_window, open_images, write_png, qtbot):
    window = make_window()
    window.translator_picker.select("slow")
    window.param_form.controls["steps"].set_value(1000)
    open_images(window, [write_png("in.png")])
    with qtbot.waitSignal(window.run_finished, timeout=10000):
        window.run_action.trigger()
        qtbot.waitUntil(lambda: window.progress.value() > 0, timeout=5000)
        window.cancel_action.trigger()
        assert window.statusBar().currentMessage() == "Cancelling..."
    qtbot.waitUntil(lambda: not window.busy)
    qtbot.wait(50)  # progress signals queued before the end are delivered
    assert window.statusBar().currentMessage() == "Cancelled"


def _gray_apple(path, size: int = 96) -> None:
    """A mid-gray disc (the apple) on a light gray background."""
    import cv2
    import numpy as np

    pixels = np.full((size, size, 3), 210, np.uint8)
    cv2.circle(pixels, (size // 2, size // 2), size // 3, (110, 110, 110), -1)
    cv2.imwrite(str(path), pixels)


def test_one_click_with_a_red_hint_turns_the_gray_apple_red_without_run(make_window, open_images,
                                                                      tmp_path, qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QColor
    from test_canvas import mouse
    from test_tools import at
    from translator_plugins.colorize import plugin as colorize

    window = make_window(colorize)
    window.translator_picker.select("colorize")
    _gray_apple(tmp_path / "apple.png")
    open_images(window, [tmp_path / "apple.png"])
    control = window.param_form.color_points_control()
    control.palette.chosen.emit(QColor(220, 30, 30))  # a red from the palette
    view = window.canvas.before
    with qtbot.waitSignal(window.run_finished, timeout=30000) as blocker:
        mouse(view, QEvent.Type.MouseButtonPress, at(view, 48.5, 48.5))
        mouse(view, QEvent.Type.MouseButtonRelease, at(view, 48.5, 48.5))
    record = blocker.args[0]
    assert control.value()[0].rgb == (220, 30, 30)
    rgb = record.result.rgb.astype(float)
    red = rgb[..., 0] - rgb[..., 1:].mean(axis=-1)
    assert red[30:66, 30:66].mean() > 0.1  # the apple is red all over, not only at the click
    assert red[25, 48] > 0.1 and red[70, 48] > 0.1
    assert abs(red[:6, :6].mean()) < red[30:66, 30:66].mean() / 2  # the background is not
    assert window.shown_record is record


def test_new_hints_take_the_prediction_then_the_last_colour_and_fill_the_palette(make_window, open_images,
                                                                               run_wait, write_png):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QColor
    from test_canvas import mouse
    from test_tools import at

    window = make_window()
    window.translator_picker.select("hinted")
    open_images(window, [write_png("gray.png", width=40, height=30)])
    control = window.param_form.color_points_control()
    control.live.setChecked(False)
    record = run_wait(window)
    view = window.canvas.before
    mouse(view, QEvent.Type.MouseButtonPress, at(view, 20.5, 15.5))
    mouse(view, QEvent.Type.MouseButtonRelease, at(view, 20.5, 15.5))
    predicted = record.view.pixelColor(20, 15)
    assert control.value()[0].rgb == (predicted.red(), predicted.green(), predicted.blue())
    window.hint_tool.pick_color = lambda initial: QColor(0, 0, 255)
    mouse(view, QEvent.Type.MouseButtonDblClick, at(view, 20.5, 15.5))
    assert control.chosen_color() == QColor(0, 0, 255) and control.palette.colors[0] == "#0000ff"
    mouse(view, QEvent.Type.MouseButtonPress, at(view, 5.5, 5.5))
    mouse(view, QEvent.Type.MouseButtonRelease, at(view, 5.5, 5.5))
    assert control.value()[1].rgb == (0, 0, 255)  # the last colour used
    control.palette.buttons[3].click()
    assert control.chosen_color() == QColor(control.palette.colors[0])
    control.auto_button.click()
    assert control.chosen_color() is None


def test_choosing_a_sample_image_opens_and_runs_it(make_window, write_png, qtbot):
    from translator.gui import resources

    window = make_window()
    sample = resources.Sample(image=write_png("sample.png"), title="A sample", translator="echo", params={"strength": 0.5})
    with qtbot.waitSignal(window.run_finished, timeout=10000) as blocker:
        window.open_sample(sample)
    record = blocker.args[0]
    assert record.translator == "echo" and record.params["strength"] == 0.5
    assert window.images.current.path == sample.image and window.shown_record is record
    with qtbot.waitSignal(window.run_finished, timeout=10000) as again:  # open again: the cached result
        window.open_sample(sample)
    assert again.args[0] is record and len(window.images) == 1


def test_the_stylegan_sample_generates_without_an_image(make_window, qtbot):
    from translator_plugins.stylegan import plugin as stylegan

    from translator.gui import resources

    (sample,) = [s for s in resources.samples() if s.translator == "stylegan"]
    assert sample.image is None and sample.params["seed"] == 5
    window = make_window(stylegan)
    with qtbot.waitSignal(window.run_finished, timeout=60000) as blocker:
        window.open_sample(sample)
    record = blocker.args[0]
    assert record.translator == "stylegan" and record.params["seed"] == 5
    assert record.result.width == 64 and window.canvas.after_pixmap is not None


def test_loading_a_model_shows_its_progress_in_the_status(make_window, open_images, write_png, qtbot):
    from translator.store import ModelCard

    window = make_window()
    window.store.save(ModelCard(name="mine", plugin="fake", translator="echo", config={},
                                source={"kind": "trained"}), {})
    window.translator_picker.select("dream")
    window.translator_picker.select("echo")
    open_images(window, [write_png("in.png")])
    heard = []
    window.statusBar().messageChanged.connect(heard.append)
    with qtbot.waitSignal(window.run_finished, timeout=10000):
        window.run_action.trigger()
    assert any(m.startswith("Loading model mine... ") and "%" in m for m in heard), heard


def test_a_big_image_shows_a_preview_first_then_the_full_result(make_window, open_images, write_png, qtbot):
    window = make_window()
    window.translator_picker.select("slow")
    window.param_form.controls["steps"].set_value(20)  # 0.5 s per pass
    open_images(window, [write_png("big.png", width=1200, height=800)])
    previews = []
    window.preview_ready.connect(lambda item, view: previews.append((item, view.size().toTuple())))
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.run_action.trigger()
        qtbot.waitUntil(lambda: bool(previews), timeout=10000)
        assert window.canvas.after_label.text().startswith("After: a quick preview")
    assert previews == [(window.images.current, (1200, 800))]
    assert window.shown_record is blocker.args[0] and "preview" not in window.canvas.after_label.text()


def test_a_first_click_on_a_gray_image_takes_a_colour_not_the_gray(make_window, open_images, tmp_path):
    from PySide6.QtCore import QEvent
    from test_canvas import mouse
    from test_tools import at

    window = make_window()
    window.translator_picker.select("hinted")
    _gray_apple(tmp_path / "apple.png")
    open_images(window, [tmp_path / "apple.png"])
    control = window.param_form.color_points_control()
    control.live.setChecked(False)
    view = window.canvas.before
    mouse(view, QEvent.Type.MouseButtonPress, at(view, 48.5, 48.5))
    mouse(view, QEvent.Type.MouseButtonRelease, at(view, 48.5, 48.5))
    (point,) = control.value()
    assert point.rgb == (control.color.red(), control.color.green(), control.color.blue())
    assert max(point.rgb) - min(point.rgb) > 100


def test_hints_follow_their_image_in_the_window(make_window, open_images, write_png, qtbot):
    from translator.params import ColorPoint

    window = make_window()
    window.translator_picker.select("hinted")
    a, b = open_images(window, [write_png("a.png", seed=1), write_png("b.png", seed=2)])
    window.select_image(a)
    control = window.param_form.color_points_control()
    control.live.setChecked(False)
    hints = (ColorPoint(0.25, 0.5, (255, 0, 0)),)
    control.set_value(hints)
    qtbot.waitUntil(lambda: window.session.params["hints"] == hints, timeout=2000)
    window.select_image(b)
    assert control.value() == () and window.hint_tool.points == [] and not window.busy
    window.select_image(a)
    assert control.value() == hints and tuple(window.hint_tool.points) == hints
