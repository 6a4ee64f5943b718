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
