"""The main window end to end with fake translators: open, drop, run, cancel, errors, cache,
history, save, generators and the responsiveness of the event loop while a model runs."""
from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from gui_fakes import RECEIVED, CrashPlugin, FakePlugin, ImportFailsPlugin
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from translator import api
from translator.errors import Cancelled, PluginError
from translator.imageio import read_image
from translator.session.state import RunRecord

pytestmark = pytest.mark.gui


def drop(widget, mime: QMimeData) -> None:
    """What a real drag and drop delivers: DragEnter, then Drop."""
    point = QPoint(50, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime,
                                              Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


def test_open_files_and_a_folder_with_a_corrupt_file(make_window, open_images, write_png, tmp_path):
    window = make_window()
    folder = tmp_path / "folder"
    write_png("a.png", folder=folder, seed=1)
    write_png("b.png", folder=folder, seed=2)
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    single = write_png("single.png", seed=3)
    items = open_images(window, [folder, single])
    assert sorted(i.name for i in items) == ["a.png", "b.png", "single.png"]
    assert window.image_list.count() == 3
    errors = window.messages.texts("error")
    assert len(errors) == 1 and "1 file" in errors[0] and "broken.png" in errors[0]
    assert window.canvas.before.has_image()
    # opening the same file again does not duplicate it
    assert open_images(window, [single]) == []
    assert window.image_list.count() == 3


def test_missing_path_gives_a_message(make_window, open_images, tmp_path):
    window = make_window()
    open_images(window, [tmp_path / "nope.png"])
    assert any("no such file" in m or "Could not open" in m for m in window.messages.texts("error"))


def test_drop_event_with_file_urls_loads_images(make_window, write_png, qtbot):
    window = make_window()
    paths = [write_png("x.png", seed=4), write_png("y.png", seed=5)]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    with qtbot.waitSignal(window.images_opened, timeout=10000) as blocker:
        drop(window, mime)
    assert [i.name for i in blocker.args[0]] == ["x.png", "y.png"]
    assert window.images.current.name == "x.png"


def test_drop_of_raw_png_data_and_paste(make_window, write_png, qtbot):
    window = make_window()
    data = write_png("raw.png", width=12, height=10).read_bytes()
    mime = QMimeData()
    mime.setData("image/png", data)
    drop(window, mime)
    assert window.images.current.name == "Dropped 1"
    assert window.images.current.image.rgb.shape == (10, 12, 3)
    garbage = QMimeData()
    garbage.setData("image/png", b"not a png")
    drop(window, garbage)
    assert len(window.images) == 1 and window.messages.texts("error")
    pasted = QMimeData()  # the clipboard takes ownership: a fresh object, not one Python still uses
    pasted.setData("image/png", data)
    QApplication.clipboard().setMimeData(pasted)
    window.paste_action.trigger()
    QApplication.clipboard().clear()
    assert window.images.current.name == "Pasted 1"


def test_run_puts_a_different_image_in_the_after_pane(make_window, open_images, run_wait, write_png):
    window = make_window()
    assert window.translator_picker.select("echo")
    open_images(window, [write_png("in.png")])
    record = run_wait(window)
    assert isinstance(record, RunRecord)
    before = window.images.current.image.rgb
    assert record.result.rgb.shape == before.shape
    np.testing.assert_allclose(record.result.rgb, 1 - before, atol=1e-5)
    assert window.canvas.after_pixmap is not None and not window.canvas.after_pixmap.isNull()
    assert window.canvas.after_pixmap.toImage() != window.canvas.before_pixmap.toImage()
    assert window.history_list.count() == 1
    assert window.save_action.isEnabled()


def test_parameter_controls_change_what_the_translator_receives(make_window, open_images, run_wait, write_png):
    window = make_window()
    window.translator_picker.select("echo")
    open_images(window, [write_png("in.png")])
    run_wait(window)
    assert RECEIVED["echo"] == {"strength": 1.0, "size": 3, "mode": "soft", "flip": False, "seed": 7,
                                "note": "hello", "latent": ""}
    controls = window.param_form.controls
    controls["strength"].spin.setValue(0.25)
    controls["size"].slider.setValue(controls["size"]._to_slider(8))
    controls["mode"].combo.setCurrentText("hard")
    controls["flip"].check.setChecked(True)
    controls["seed"].spin.setValue(123456)
    controls["note"].set_value("hi")
    first = window.shown_record
    assert window.canvas.after_pixmap is not None and window.shown_record is first  # result kept
    assert "out of date" in window.canvas.after_label.text()
    record = run_wait(window)
    assert RECEIVED["echo"] == {"strength": 0.25, "size": 8, "mode": "hard", "flip": True, "seed": 123456,
                                "note": "hi", "latent": ""}
    np.testing.assert_allclose(record.result.rgb, 0.75 * window.images.current.image.rgb + 0.25
                               * (1 - window.images.current.image.rgb), atol=1e-5)


def test_cache_hit_when_switching_back(make_window, open_images, run_wait, write_png):
    window = make_window()
    window.translator_picker.select("echo")
    open_images(window, [write_png("a.png", seed=1), write_png("b.png", seed=2)])
    window.image_list.setCurrentRow(0)
    first = run_wait(window)
    window.image_list.setCurrentRow(1)
    second = run_wait(window)
    assert second is not first
    window.image_list.setCurrentRow(0)
    assert window.shown_record is first  # shown at once from the cache
    again = run_wait(window)  # Ctrl+Return with the same settings: the cached record, no new run
    assert again is first and len(window.images.current.history) == 1
    window.param_form.controls["strength"].spin.setValue(0.5)
    changed = run_wait(window)
    window.param_form.controls["strength"].spin.setValue(1.0)
    assert window.shown_record is first and changed is not first


def test_cancel_stops_a_slow_translator(make_window, open_images, write_png, qtbot):
    window = make_window()
    window.translator_picker.select("slow")
    window.param_form.controls["steps"].set_value(1000)  # 25 s unless cancelled
    open_images(window, [write_png("in.png")])
    started = time.monotonic()
    with qtbot.waitSignal(window.run_finished, timeout=10000) as blocker:
        window.run_action.trigger()
        qtbot.waitUntil(lambda: window.progress.value() > 0, timeout=5000)
        window.cancel_action.trigger()
    assert isinstance(blocker.args[0], Cancelled)
    assert time.monotonic() - started < 5
    assert window.shown_record is None and "Cancelled" in window.messages.texts("info")
    qtbot.waitUntil(lambda: not window.busy)
    assert window.run_action.isEnabled()


def test_event_loop_never_stalls_while_a_slow_translator_runs(make_window, open_images, write_png, qtbot):
    window = make_window()
    window.translator_picker.select("slow")
    window.param_form.controls["steps"].set_value(40)  # about 1 s of work in the worker
    open_images(window, [write_png("in.png", width=256, height=256)])
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.run_action.trigger()
    timer.stop()
    assert isinstance(blocker.args[0], RunRecord)
    gaps = np.diff(ticks)
    assert len(ticks) > 30
    assert gaps.max() < 0.1, f"event loop stalled for {gaps.max() * 1000:.0f} ms"


def test_translator_error_is_shown_and_the_app_keeps_working(make_window, open_images, run_wait, write_png):
    window = make_window()
    window.translator_picker.select("refuse")
    open_images(window, [write_png("in.png")])
    outcome = run_wait(window)
    assert "too dark" in str(outcome)
    assert any("too dark" in m for m in window.messages.texts("error"))
    window.translator_picker.select("echo")
    assert isinstance(run_wait(window), RunRecord)


def test_crashing_plugin_is_disabled_and_others_keep_working(make_window, open_images, run_wait, write_png):
    window = make_window(FakePlugin(), CrashPlugin(), ImportFailsPlugin())
    picker = window.translator_picker
    rows = [picker.item(r) for r in range(picker.count())]
    bad = [r for r in rows if not r.isEnabled()]
    assert len(bad) == 1 and "cannot find my weights folder" in bad[0].toolTip()
    assert picker.select("crash")
    open_images(window, [write_png("in.png")])
    for _ in range(window.registry.STRIKES - 1):  # a failure is reported; the plugin stays usable
        assert isinstance(run_wait(window), PluginError)
        assert picker.find_translator("crash") != -1
    outcome = run_wait(window)
    assert isinstance(outcome, PluginError)
    assert any("boom" in m for m in window.messages.texts("error"))
    assert any("times in a row" in m for m in window.messages.texts("error"))
    assert picker.find_translator("crash") == -1  # withdrawn, the plugin shows as broken
    assert any("crashy" in picker.item(r).text() and not picker.item(r).isEnabled()
               for r in range(picker.count()))
    picker.select("echo")
    assert isinstance(run_wait(window), RunRecord)


def test_a_batch_counts_plain_exceptions_per_file_and_disables_the_plugin_after_strikes(
        make_window, open_images, write_png, tmp_path, qtbot):
    window = make_window(FakePlugin(), CrashPlugin())
    window.translator_picker.select("crash")
    strikes = window.registry.STRIKES
    open_images(window, [write_png(f"{i}.png", seed=i) for i in range(strikes + 1)])
    with qtbot.waitSignal(window.batch_finished, timeout=10000) as blocker:
        window.start_batch(window.open_batch_items(), tmp_path / "out")
    report = blocker.args[0]
    assert len(report.errors) == strikes + 1 and report.stopped is None  # every file tried and reported
    assert all("boom" in why for _, why in report.errors)
    assert sum("times in a row" in m for m in window.messages.texts("error")) == 1
    assert window.registry.plugins["crashy"].broken
    assert window.translator_picker.find_translator("crash") == -1


def test_a_plugin_whose_build_raises_fails_runs_and_is_disabled_after_strikes(make_window, open_images,
                                                                               run_wait, write_png):
    class BuildFails:
        __name__ = "nobuild"

        @api.hookimpl
        def translator_translators(self):
            def build(config):
                raise RuntimeError("no weights folder")

            return [api.TranslatorSpec(name="nobuild", title="No build", description="", build=build,
                                       task=api.TaskKind.IMAGE_TO_IMAGE, translate=lambda m, x, p, c: x)]

    window = make_window(FakePlugin(), BuildFails())
    window.translator_picker.select("nobuild")
    open_images(window, [write_png("in.png")])
    for _ in range(window.registry.STRIKES):
        outcome = run_wait(window)
        assert isinstance(outcome, PluginError) and "RuntimeError: no weights folder" in str(outcome)
    assert window.registry.plugins["nobuild"].broken
    assert window.translator_picker.find_translator("nobuild") == -1


def test_generator_runs_without_an_image(make_window, run_wait):
    window = make_window()
    window.translator_picker.select("dream")
    record = run_wait(window)
    assert isinstance(record, RunRecord) and record.result.rgb.shape == (24, 32, 3)
    assert window.canvas.before_pixmap is None and window.canvas.after_pixmap is not None
    assert not window.canvas.after.isVisible()  # only the result pane
    assert window.images.current is None or window.images[0].name == "Generated"
    window.param_form.controls["seed"].set_value(2)
    other = run_wait(window)
    assert not np.allclose(other.result.rgb, record.result.rgb)
    assert len(window.session.generated.history) == 2


def test_generator_with_a_photo_open(make_window, open_images, run_wait, write_png, qtbot):
    window = make_window()
    open_images(window, [write_png("photo.png")])
    assert window.image_list.currentRow() == 0
    window.translator_picker.select("dream")
    assert window.canvas.placeholder.text().startswith("Press Run")  # not "Drop images here"
    assert window.canvas.before_pixmap is None and window.image_list.currentRow() == -1
    record = run_wait(window)
    generated = window.images.index_of(window.session.generated)
    assert window.image_list.currentRow() == generated  # the image shown is the one highlighted
    seed = window.param_form.values()["seed"]
    with qtbot.waitSignal(window.run_finished, timeout=10000) as blocker:
        window.param_form.controls["seed"].random_button.click()  # a new seed, and a run
    assert blocker.args[0] is not record and blocker.args[0].params["seed"] != seed
    assert window.history_list.item(0).text().startswith(f"dream seed={blocker.args[0].params['seed']} (")
    window.translator_picker.select("echo")
    assert window.image_list.currentRow() == 0 and window.canvas.before_pixmap is not None
    assert window.canvas.placeholder.text().startswith("Drop images here")


def test_help_menu_and_zoom_in_the_status_bar(make_window, open_images, write_png):
    window = make_window()
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[-1] == "&Help"
    from translator.gui.help import shortcuts_text, versions_text

    text = shortcuts_text(window.actions())
    assert "Ctrl+Return" in text and "Run" in text and "Esc" in text
    assert "running on: cpu (fp32)" in versions_text("cpu", "fp32")
    open_images(window, [write_png("in.png", width=400, height=300)])
    window.actual_action.trigger()
    assert window.zoom_label.text() == "100%"
    window.fit_action.trigger()
    assert window.zoom_label.text() == f"{window.canvas.before.zoom * 100:.0f}%" != "100%"


def test_history_click_shows_that_result(make_window, open_images, run_wait, write_png):
    window = make_window()
    window.translator_picker.select("echo")
    open_images(window, [write_png("in.png")])
    first = run_wait(window)
    window.param_form.controls["strength"].spin.setValue(0.0)
    second = run_wait(window)
    assert window.history_list.count() == 2 and window.shown_record is second
    oldest = window.history_list.item(1)  # newest first
    window.history_list.itemClicked.emit(oldest)
    assert window.shown_record is first


def test_save_result_keeps_alpha_and_never_replaces_the_input(make_window, open_images, run_wait, tmp_path):
    import cv2

    window = make_window()
    window.translator_picker.select("echo")
    source = tmp_path / "alpha.png"
    rgba = np.dstack([np.full((8, 10, 3), 40, np.uint8), np.full((8, 10), 128, np.uint8)])
    cv2.imwrite(str(source), rgba)
    open_images(window, [source])
    run_wait(window)
    out = window.save_result(tmp_path / "out" / "alpha_echo.png")
    saved = read_image(out)
    assert saved.alpha is not None and abs(float(saved.alpha.mean()) - 128 / 255) < 0.01
    np.testing.assert_allclose(saved.rgb, 1 - 40 / 255, atol=1 / 255)
    assert window.save_result(tmp_path / "out" / "alpha_echo.jpg") is not None
    before = source.read_bytes()
    assert window.save_result(source, overwrite=True) is None
    assert source.read_bytes() == before and any("input" in m for m in window.messages.texts("error"))
    written = window.save_all(tmp_path / "all")
    assert [p.name for p in written] == ["alpha_echo.png"]


def test_settings_persist_translator_params_and_geometry(make_window, tmp_path):
    settings_file = tmp_path / "persist.ini"
    window = make_window(settings_file=settings_file)
    window.translator_picker.select("echo")
    window.param_form.controls["strength"].spin.setValue(0.3)
    window.resize(790, 570)
    window.close()
    again = make_window(settings_file=settings_file)
    assert again.spec.name == "echo"
    assert again.param_form.values()["strength"] == pytest.approx(0.3)
    assert any(m.startswith("Restored from last session for Echo: Strength = 0.3") for m in again.messages.texts("info"))
    other = next(name for name in again.registry.translators if name != "echo")
    again.translator_picker.select(other)  # the message was about echo: it goes
    assert not any(m.startswith("Restored from last session") for m in again.messages.texts("info"))
    assert again.height() == 570  # the offscreen screen is 800 px wide: only the height is free


def test_drop_on_the_canvas_reaches_the_window(make_window, write_png, qtbot):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(write_png("on-canvas.png")))])
    with qtbot.waitSignal(window.images_opened, timeout=10000) as blocker:
        drop(window.canvas.before.viewport(), mime)
    assert [i.name for i in blocker.args[0]] == ["on-canvas.png"]
