from __future__ import annotations

import pytest

from translator.errors import ParameterError
from translator.params import (
    Bool,
    Choice,
    Color,
    ColorPoint,
    ColorPoints,
    Float,
    Int,
    Seed,
    Text,
    parse_assignments,
    resolve_params,
)

DECLARED = (
    Choice(name="direction", choices=("AtoB", "BtoA"), default="AtoB"),
    Int(name="steps", default=10, minimum=1, maximum=100),
    Float(name="strength", default=0.5, minimum=0.0, maximum=1.0),
    Bool(name="flip"),
    Seed(name="seed", default=7),
    Text(name="layers", default="coarse", pattern=r"coarse|middle|fine|\d+-\d+"),
    ColorPoints(name="hints"),
)


def test_defaults_fill_missing_values():
    values = resolve_params(DECLARED)
    assert values == {"direction": "AtoB", "steps": 10, "strength": 0.5, "flip": False, "seed": 7,
                      "layers": "coarse", "hints": ()}


def test_parse_from_command_line_text():
    given = parse_assignments(["direction=BtoA", "steps=0x10", "strength=0.25", "flip=yes", "seed=42",
                               "layers=2-5", "hints=0.5,0.25,#ff8000; 1,0,00ff00"])
    values = resolve_params(DECLARED, given, from_text=True)
    assert values["direction"] == "BtoA" and values["steps"] == 16 and values["strength"] == 0.25
    assert values["flip"] is True and values["seed"] == 42 and values["layers"] == "2-5"
    assert values["hints"] == (ColorPoint(0.5, 0.25, (255, 128, 0)), ColorPoint(1.0, 0.0, (0, 255, 0)))


@pytest.mark.parametrize("assignment", [
    "direction=sideways", "steps=0", "steps=1.5", "strength=nan", "strength=2", "flip=maybe",
    "seed=-1", "layers=everything", "hints=2,0,#ffffff", "hints=0,0,red",
])
def test_bad_values_name_the_parameter(assignment):
    with pytest.raises(ParameterError, match=assignment.split("=")[0]):
        resolve_params(DECLARED, parse_assignments([assignment]), from_text=True)


def test_unknown_parameter_lists_known_ones():
    with pytest.raises(ParameterError, match="known: direction, steps"):
        resolve_params(DECLARED, {"stpes": 3})


def test_assignment_without_equals_is_refused():
    with pytest.raises(ParameterError, match="key=value"):
        parse_assignments(["seed"])


def test_color_points_accept_mappings_and_round_trip_text():
    param = ColorPoints(name="hints")
    points = param.validate([{"x": 0.1, "y": 0.2, "rgb": [1, 2, 3]}])
    assert points == (ColorPoint(0.1, 0.2, (1, 2, 3)),)
    assert param.parse(points[0].to_text()) == points


def test_choice_default_must_be_a_choice():
    with pytest.raises(ValueError):
        Choice(name="x", choices=("a",), default="b")


def test_describe_is_json_friendly():
    import json

    text = json.dumps([p.describe() for p in DECLARED])
    assert '"kind": "color_points"' in text and '"minimum": 1' in text


@pytest.mark.parametrize("text", ["1.2.3,0.5,#ffffff", "1.2.3,0.5,#fff", "0.5,--1,#ffffff", "e,0.5,#000000",
                                  "0.5,0.5", "0.5,0.5,#ggg000", "nan,0.5,#000000", "inf,0,#000000"])
def test_bad_hints_are_one_clear_line(text):
    with pytest.raises(ParameterError, match=r"^parameter 'hints': ") as caught:
        ColorPoints(name="hints").parse(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [[{"x": 0.5}], [{"x": "a", "y": 0, "rgb": (1, 2, 3)}], [{"x": 0, "y": 0, "rgb": 5}],
                                   [{"x": 0, "y": 0, "rgb": (1, 2)}], [{"x": 0, "y": 0, "rgb": (1.5, 2, 3)}],
                                   [{"x": 0, "y": 0, "rgb": (float("nan"), 2, 3)}], [3], {"x": 0}])
def test_bad_hint_values_are_parameter_errors(value):
    with pytest.raises(ParameterError, match="parameter 'hints'"):
        ColorPoints(name="hints").validate(value)


def test_hint_count_is_checked_before_building_them_all():
    with pytest.raises(ParameterError, match="at most 2 allowed"):
        ColorPoints(name="hints", max_points=2).parse(";".join(["0.5,0.5,#000000"] * 10_000))
    assert ColorPoints(name="hints").validate([{"x": 1, "y": 0, "rgb": [1, 2, 3]}]) == (ColorPoint(1.0, 0.0, (1, 2, 3)),)


def test_color_accepts_hex_forms_and_normalises():
    color = Color(name="tint", default="#FFF")
    assert color.default_value == "#ffffff"
    for text, value in (("#ff8800", "#ff8800"), ("FF8800", "#ff8800"), ("#f80", "#ff8800"), (" #0a0B0c ", "#0a0b0c")):
        assert color.parse(text) == value
    assert Color.rgb("#ff8800") == (255, 136, 0)
    assert resolve_params((color,), {"tint": "#123"}, from_text=True) == {"tint": "#112233"}


@pytest.mark.parametrize("bad", ["", "#ff88", "orange", "#gg0000", "#ff88001", (255, 0, 0), None])
def test_color_refuses_anything_else_with_a_clear_error(bad):
    with pytest.raises(ParameterError, match="tint.*#rrggbb"):
        Color(name="tint").validate(bad)


def test_color_default_is_checked_when_declared():
    with pytest.raises(ValueError, match="not a colour"):
        Color(name="tint", default="red")
