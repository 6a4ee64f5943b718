"""Models > Get models...: the catalog dialog downloads from a loopback server, selects the new
model, cancels; the panel hint when only the bundled demonstration model exists."""
from __future__ import annotations

import pytest
from catalog_server import LoopbackServer, jz_generator_bytes

pytestmark = pytest.mark.gui


@pytest.fixture
def server(monkeypatch):
    srv = LoopbackServer()
    from translator_plugins.cyclegan import catalog

    monkeypatch.setattr(catalog, "BASE", srv.base)
    yield srv
    srv.stop()


@pytest.fixture
def window(qtbot, plugin_registry, tmp_path):
    from PySide6.QtCore import QSettings

    from translator.engine import Engine
    from translator.gui.main_window import MainWindow
    from translator.store import ModelStore

    registry = plugin_registry(builtins=True)
    win = MainWindow(registry=registry, store=ModelStore(registry, home=tmp_path / "home"),
                     engine=Engine(device="cpu", precision="fp32"),
                     settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.runner.cancel_all()
    win.runner.wait(10000)


def _dialog(window, qtbot):
    models_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Models")
    assert window.get_models_action in models_menu.actions()
    dialog = window.show_catalog_dialog()
    qtbot.addWidget(dialog)
    return dialog


def test_the_dialog_downloads_and_selects_the_model_and_the_hint_names_the_catalog(window, qtbot, server):
    server.add("horse2zebra.pth", jz_generator_bytes(1))
    server.add("zebra2horse.pth", jz_generator_bytes(2))
    window.translator_picker.select("cyclegan")
    assert window.side_panel.catalog_hint.isVisible() and "Get models" in window.side_panel.catalog_hint.text()
    dialog = _dialog(window, qtbot)
    item = dialog.item_for("cyclegan/horse2zebra")
    assert item is not None and item.text(4) == "" and "BSD" in item.text(2) and "horses" in item.text(3)
    assert dialog.item_for("stylegan/cifar10").isDisabled()
    dialog.tree.setCurrentItem(item)
    assert "photos of horses" in dialog.details.toPlainText()
    with qtbot.waitSignal(dialog.installed, timeout=60000) as blocker:
        dialog.download_button.click()
    assert blocker.args[0].name == "horse2zebra"
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    assert window.translator_picker.current_name() == "cyclegan"
    assert window.model_picker.current_model() == "horse2zebra"
    assert dialog.item_for("cyclegan/horse2zebra").text(4) == "installed"
    assert "Installed" in dialog.status.text()
    assert not window.side_panel.catalog_hint.isVisible()


def test_a_download_can_be_cancelled(window, qtbot, server):
    body = jz_generator_bytes(3)
    server.add("style_monet.pth", body, chunk_delay_s=0.2)
    dialog = _dialog(window, qtbot)
    dialog.tree.setCurrentItem(dialog.item_for("cyclegan/style_monet"))
    dialog.download_button.click()
    assert dialog.busy and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=20000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20000)
    assert "cancelled" in dialog.status.text()
    assert [m for m in window.store.list("cyclegan") if not m.bundled] == []
