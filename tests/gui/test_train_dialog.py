"""Models > Train...: a tiny CycleGAN run started from the dialog shows progress and a loss
point, its model lands in the model picker, selected; bad folders get translator-train's message."""
from __future__ import annotations

import gc
import re
import time

import numpy as np
import pytest

TINY = "--load-size 36 --ngf 4 --ndf 4 --n-blocks 1 --n-layers-d 2 --workers 0 --sample-every 2 --seed 0"


def _images(folder, count, seed):
    import cv2

    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i}.png"), (rng.random((40, 40, 3)) * 255).astype(np.uint8))


@pytest.fixture
def real_window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from translator.engine import Engine
    from translator.gui.main_window import MainWindow
    from translator.plugins import load_registry
    from translator.store import ModelStore

    registry = load_registry()
    window = MainWindow(registry=registry, store=ModelStore(registry), settings=QSettings(
        str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), engine=Engine(device="cpu", precision="fp32"))
    qtbot.addWidget(window)
    window.show()
    yield window
    dialog = getattr(window, "train_dialog", None)
    if dialog is not None:
        dialog.shutdown()
    window.runner.cancel_all()
    window.runner.wait(10000)


@pytest.fixture
def folders(tmp_path):
    """Two folders of three 40 x 40 noise images (domains A and B)."""
    a, b = tmp_path / "a", tmp_path / "b"
    _images(a, 3, 1)
    _images(b, 3, 2)
    return a, b


def _dialog(window, folders, *, name="tiny", steps=4):
    """The window's Train dialog filled in for a tiny CPU CycleGAN on `folders` (A, B)."""
    a, b = folders
    dialog = window.show_train_dialog()
    dialog.plugin_picker.setCurrentIndex(dialog.plugin_picker.findData("cyclegan"))
    dialog._folder_edits["data_a"].setText(str(a))
    dialog._folder_edits["data_b"].setText(str(b))
    dialog.base_picker.setCurrentIndex(dialog.base_picker.findData("scratch"))
    dialog.size.setValue(32)
    dialog.name_edit.setText(name)
    dialog.device_picker.setCurrentText("cpu")
    dialog.extra_edit.setText(TINY)
    dialog.steps.setValue(steps)
    return dialog


def test_bad_folder_gets_the_cli_message(real_window, qtbot, tmp_path):
    dialog = _dialog(real_window, (tmp_path / "missing", tmp_path / "missing"))
    assert dialog.start()                                   # the check runs in a thread
    assert not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: "no such folder" in dialog.status.text(), timeout=10000)
    assert f"--data-a {tmp_path / 'missing'}: no such folder" in dialog.status.text()
    assert dialog.process is None and dialog.start_button.isEnabled()


@pytest.mark.slow
def test_a_tiny_run_from_the_dialog_lands_in_the_model_picker(real_window, qtbot, folders):
    from PySide6.QtCore import QTimer

    assert "Train..." in [action.text().replace("&", "") for action in real_window.actions()]
    dialog = _dialog(real_window, folders)
    qtbot.waitExposed(dialog)
    qtbot.wait(200)                                         # first paint of the window and dialog done

    gaps, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    ticker = QTimer(interval=10)
    ticker.timeout.connect(tick)
    ticker.start()
    gc.disable()  # a full collection of this test process's objects takes ~200 ms; the dialog is measured
    try:
        with qtbot.waitSignal(dialog.model_ready, timeout=120000) as ready:
            assert dialog.start()
    finally:
        gc.enable()
        ticker.stop()
    assert dialog.plot.point_count() >= 4                   # curve points of each loss
    assert (dialog.progress.value(), dialog.progress.maximum()) == (4, 4), dialog.status.text()
    assert not dialog.sample.pixmap().isNull()              # the latest sample grid
    assert ready.args[0].name == "tiny"
    assert real_window.spec.name == "cyclegan"
    assert real_window.model_picker.current_model() == "tiny"
    print(f"longest event-loop gap during the run: {max(gaps) * 1000:.0f} ms over {len(gaps)} ticks")
    assert max(gaps) < 0.1, f"{max(gaps) * 1000:.0f} ms"    # the event loop never stalls


@pytest.mark.slow
def test_pause_resume_and_cancel_from_the_dialog(real_window, qtbot, folders):
    from translator.training.loop import runs_dir

    dialog = _dialog(real_window, folders, name="paused", steps=100000)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.progress.value() >= 2, timeout=60000)
    with qtbot.waitSignal(dialog.state_changed, timeout=60000, check_params_cb=lambda s: s == "paused"):
        dialog.pause()
    assert (runs_dir() / "paused" / "last.pt").is_file()
    assert dialog.resume_button.isEnabled()
    step = dialog.progress.value()
    dialog.resume()
    qtbot.waitUntil(lambda: dialog.progress.value() >= step + 2, timeout=60000)
    with qtbot.waitSignal(dialog.state_changed, timeout=30000, check_params_cb=lambda s: s == "cancelled"):
        dialog.cancel()
    assert not (runs_dir() / "paused").exists()             # cancel discards the run


@pytest.mark.slow
def test_measure_speed_estimates_the_time_and_leaves_nothing(real_window, qtbot, folders):
    from translator.training.loop import runs_dir

    dialog = _dialog(real_window, folders, name="", steps=600)
    assert "No earlier run" in dialog.estimate.text()
    assert dialog.measure()
    assert not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.probe is not None, timeout=10000)
    qtbot.waitUntil(lambda: dialog.probe is None, timeout=90000)
    assert re.search(r"About .* on cpu \(.* images/s, measured over \d+ steps at 32 px\)",
                     dialog.estimate.text())
    assert dialog.start_button.isEnabled()
    assert not runs_dir().exists() or not any(runs_dir().iterdir())     # the probe left no run
    assert real_window.store.list("cyclegan") == [e for e in real_window.store.list("cyclegan") if e.bundled]
