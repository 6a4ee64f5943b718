"""Model picker tooltips and the models dialog (list with cards, remove user models)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from translator.gui.dialogs import ModelsDialog
from translator.store import ModelCard

pytestmark = pytest.mark.gui


def _save(window, name: str, title: str) -> None:
    card = ModelCard(name=name, plugin="fake", translator="echo", config={}, title=title,
                     source={"kind": "trained"}, training={"steps": 12, "device": "CPU"},
                     metrics={"psnr": 21.5})
    window.store.save(card, {})


def test_model_picker_lists_user_models_with_their_card(make_window):
    window = make_window()
    _save(window, "mine", "My echo")
    window.translator_picker.select("dream")
    window.translator_picker.select("echo")
    picker = window.model_picker
    assert picker.count() == 1 and picker.current_model() == "mine"
    tooltip = picker.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert "My echo" in tooltip and "12 steps" in tooltip and "psnr 21.5" in tooltip


def test_models_dialog_shows_cards_and_removes_user_models(make_window, qtbot, monkeypatch):
    window = make_window()
    _save(window, "mine", "My echo")
    dialog = ModelsDialog(window.store, window)
    qtbot.addWidget(dialog)
    echo = next(dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())
                if "[echo]" in dialog.tree.topLevelItem(i).text(0))
    assert echo.childCount() == 1
    dialog.tree.setCurrentItem(echo.child(0))
    assert "My echo" in dialog.card.toPlainText() and dialog.remove_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(dialog.removed):
        dialog.remove_button.click()
    assert window.store.list("echo") == []
