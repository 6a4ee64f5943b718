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


def test_the_card_is_readable_text_with_data_steps_device_metrics_licence_and_source(make_window, qtbot):
    from translator_plugins.cyclegan import plugin as cyclegan

    window = make_window(cyclegan)
    dialog = ModelsDialog(window.store, window)
    qtbot.addWidget(dialog)
    cycle = next(dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())
                 if "[cyclegan]" in dialog.tree.topLevelItem(i).text(0))
    dialog.tree.setCurrentItem(cycle.child(0))
    text = dialog.card.toPlainText()
    card = window.store.get("photo2painting", "cyclegan").card
    psnr = card.metrics["cycle_psnr_db_heldout_photos"]
    spread = card.metrics["cycle_psnr_db_heldout_photos_std"]
    for words in ("Photo <-> painting", "cyclegan model photo2painting, bundled with the app", "Learnt from",
                  "shared/datasets/paintings", f"{card.training['steps']} steps",
                  f"{round(card.training['time_s'] / 60)} min", "on CPU (2 cores", "Measured",
                  "Cycle PSNR (dB) held-out photos", f"{psnr:.4g} +- {spread:.2g}", "licence: the app's licence",
                  "made by packaging/recipes/train_cyclegan.py", "photo2painting.safetensors"):
        assert words in text, words
    assert "{" not in text and "cycle_psnr_db" not in text  # no raw dump
    # sized to content: the full names beside the card, as far as the screen allows
    from translator.gui.dialogs import CARD_WIDTH_PX

    dialog.show()
    qtbot.waitExposed(dialog)
    wanted = dialog._tree_width() + CARD_WIDTH_PX + 40
    screen = dialog.screen().availableGeometry().width()
    assert dialog.width() == min(wanted, int(screen * 0.9))
    assert dialog.split.sizes()[0] >= min(dialog._tree_width(), int((dialog.width() - 40) * 0.55)) - 2
    assert dialog.tree.header().sectionSize(0) >= dialog.tree.sizeHintForColumn(0)


def test_long_names_are_elided_with_the_full_name_as_tooltip(make_window, qtbot):
    from translator.gui.canvas import ElidedLabel

    window = make_window()
    long_title = "A very long model title that no side panel can show in full"
    _save(window, "long", long_title)
    window.translator_picker.select("dream")
    window.translator_picker.select("echo")
    picker = window.model_picker
    picker.resize(140, picker.height())
    shown = picker.shown_text()
    assert shown.endswith("…") and long_title.startswith(shown[:-1])
    assert picker.toolTip().startswith(long_title) and "trained" in picker.toolTip()
    assert picker.sizeHint().width() > picker.fontMetrics().horizontalAdvance(long_title)
    assert picker.minimumSizeHint().width() < 200
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.setText("After: " + long_title)
    label.resize(120, 20)
    assert label.shown_text().endswith("…") and label.toolTip() == "After: " + long_title
    assert label.text() == "After: " + long_title and label.minimumSizeHint().width() == 0
