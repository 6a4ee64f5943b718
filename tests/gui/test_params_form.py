"""Parameter controls generated from each Param type: values round-trip and reach the form."""
from __future__ import annotations

import pytest

from translator import api
from translator.gui.params_form import (
    BoolControl,
    ChoiceControl,
    ColorControl,
    ColorPointsControl,
    FilePathControl,
    NumberControl,
    ParamForm,
    SeedControl,
    TextControl,
    control_for,
)
from translator.params import SEED_MAX

pytestmark = pytest.mark.gui

PARAMS = (
    api.Choice(name="mode", choices=("a", "b", "c"), default="b", help="the mode"),
    api.Int(name="count", default=4, minimum=-5, maximum=20, step=1),
    api.Int(name="huge", default=0, minimum=0, maximum=10**6, step=1),
    api.Float(name="gain", default=0.5, minimum=0.0, maximum=2.0, step=0.05),
    api.Bool(name="on", default=True),
    api.Seed(name="seed", default=3),
    api.Text(name="label", default="x"),
    api.FilePath(name="file", default="", filters=("*.npz",)),
    api.ColorPoints(name="hints"),
    api.Color(name="tint", default="#f80"),
)
KINDS = (ChoiceControl, NumberControl, NumberControl, NumberControl, BoolControl, SeedControl, TextControl,
         FilePathControl, ColorPointsControl, ColorControl)
VALUES = {
    "mode": "c", "count": -3, "huge": 999_999, "gain": 1.25, "on": False, "seed": SEED_MAX,
    "label": "hello world", "file": "/tmp/latent.npz",
    "hints": (api.ColorPoint(0.25, 0.5, (255, 0, 10)), api.ColorPoint(1.0, 0.0, (1, 2, 3))),
    "tint": "#0a1b2c",
}


@pytest.fixture
def form(qtbot):
    widget = ParamForm()
    qtbot.addWidget(widget)
    widget.set_params(PARAMS)
    return widget


def test_each_param_type_gets_its_control(form):
    for param, kind in zip(PARAMS, KINDS):
        assert type(form.controls[param.name]) is kind
        assert type(control_for(param)) is kind
    tip = form.controls["mode"].toolTip()  # rich text, so Qt wraps it; the technical name last
    assert tip.startswith("<qt>the mode") and "--param mode=" in tip


def test_defaults_then_values_round_trip(form):
    assert form.values() == {p.name: p.default_value for p in PARAMS}
    form.set_values(VALUES)
    assert form.values() == VALUES
    rebuilt = ParamForm()
    rebuilt.set_params(PARAMS, VALUES)
    assert rebuilt.values() == VALUES


def test_slider_and_spin_box_stay_in_step(form, qtbot):
    gain = form.controls["gain"]
    with qtbot.waitSignal(form.changed):
        gain.slider.setValue(gain.slider.maximum())
    assert gain.spin.value() == pytest.approx(2.0) and form.values()["gain"] == pytest.approx(2.0)
    gain.spin.setValue(0.5)
    assert gain.slider.value() == gain._to_slider(0.5)
    count = form.controls["count"]
    count.slider.setValue(0)
    assert form.values()["count"] == -5


def test_seed_random_button_picks_a_valid_seed(form):
    seed = form.controls["seed"]
    seen = set()
    for _ in range(5):
        seed.random_button.click()
        seen.add(form.values()["seed"])
    assert len(seen) > 1 and all(0 <= s <= SEED_MAX for s in seen)


def test_invalid_values_are_refused_or_skipped(form):
    with pytest.raises(api.ParameterError):
        form.set_values({"gain": 5.0})
    form.set_values({"gain": 5.0, "unknown": 1, "mode": "zzz"}, strict=False)
    assert form.values()["gain"] == 0.5 and form.values()["mode"] == "b"



def test_color_button_opens_a_dialog_and_shows_the_colour(form, qtbot, monkeypatch):
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QColorDialog

    tint = form.controls["tint"]
    assert form.values()["tint"] == "#ff8800" and tint.button.text() == "#ff8800"
    asked = []

    def pick(initial, parent, title):
        asked.append(initial.name())
        return QColor("#123456")

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(pick))
    with qtbot.waitSignal(form.changed):
        tint.button.click()
    assert asked == ["#ff8800"]
    assert form.values()["tint"] == "#123456" and "#123456" in tint.button.styleSheet()
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a: QColor()))  # cancelled
    tint.button.click()
    assert form.values()["tint"] == "#123456"


def test_choices_show_their_labels_and_keep_their_values(qtbot):
    param = api.Choice(name="direction", choices=("AtoB", "BtoA"), default="AtoB",
                       labels=("Photo -> painting", "Painting -> photo"), help="which way " * 40)
    form = ParamForm()
    qtbot.addWidget(form)
    form.set_params([param], {"direction": "BtoA"})
    control = form.controls["direction"]
    assert control.combo.currentText() == "Painting -> photo" and control.value() == "BtoA"
    control.combo.setCurrentIndex(0)
    assert form.values() == {"direction": "AtoB"}
    label = form._form.labelForField(control)
    assert label.wordWrap() and "--param direction=" in label.toolTip()
    with pytest.raises(ValueError, match="2 labels for 3 choices"):
        api.Choice(name="x", choices=("a", "b", "c"), default="a", labels=("A", "B"))


def test_the_built_in_plugins_speak_an_artists_words():
    from translator_plugins.cyclegan.plugin import DIRECTION
    from translator_plugins.stylegan.plugin import PARAMS

    assert DIRECTION.label_of("AtoB") == "Photo -> painting" and DIRECTION.choices == ("AtoB", "BtoA")
    titles = {p.name: p.label for p in PARAMS}
    assert titles["truncation"] == "Variety (truncation)"
    assert "psi" in next(p.help for p in PARAMS if p.name == "truncation")  # the technical name stays
