"""Typed parameter declarations a translator (or a training loop) shows to its users.

A UI generates its controls from these: `Choice` -> combo box, `Int`/`Float` -> slider with a
spin box, `Seed` -> spin box with a random button, `Bool` -> check box, `Color` -> colour button,
`ColorPoints` -> clicks on the canvas with a colour picker, `Text` -> line edit, `FilePath` -> file
chooser. The CLI parses
`--param key=value` with `Param.parse`. Values are always normalised by `Param.validate` before a
translator sees them.
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from translator.errors import ParameterError

SEED_MAX = 2**32 - 1


@dataclass(frozen=True, kw_only=True)
class Param:
    """Base of all parameter declarations.

    name: identifier used on the command line (`--param name=value`) and as dict key.
    title: short label for a UI; defaults to the name.
    help: one sentence shown as tooltip and in `--help`.
    """

    name: str
    title: str = ""
    help: str = ""

    kind = "param"

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    @property
    def default_value(self) -> Any:
        return getattr(self, "default")

    def parse(self, text: str) -> Any:
        """Convert a command-line string into a validated value; raises `ParameterError`."""
        return self.validate(text)

    def validate(self, value: Any) -> Any:
        """Return the normalised value or raise `ParameterError` naming the parameter."""
        return value

    def describe(self) -> dict[str, Any]:
        """A JSON-able description (used by `translator plugins --json` and docs)."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "title": self.label}
        for key, value in vars(self).items():
            if key not in ("name", "title"):
                out[key] = _jsonable(value)
        return out

    def _fail(self, value: Any, why: str) -> ParameterError:
        return ParameterError(f"parameter {self.name!r}: {value!r} {why}")


@dataclass(frozen=True, kw_only=True)
class Choice(Param):
    """One of a fixed set of strings.

    labels: what a UI shows for each choice, in the same order (the choices themselves stay the
        values on the command line); empty: the choices.
    """

    choices: tuple[str, ...]
    default: str
    labels: tuple[str, ...] = ()
    kind = "choice"

    def __post_init__(self) -> None:
        if self.default not in self.choices:
            raise ValueError(f"default {self.default!r} of {self.name!r} is not among {self.choices}")
        if self.labels and len(self.labels) != len(self.choices):
            raise ValueError(f"{self.name!r} has {len(self.labels)} labels for {len(self.choices)} choices")

    def label_of(self, choice: str) -> str:
        """What a UI shows for `choice`."""
        return self.labels[self.choices.index(choice)] if self.labels else choice

    def validate(self, value: Any) -> str:
        if value not in self.choices:
            raise self._fail(value, f"is not one of {', '.join(self.choices)}")
        return str(value)


@dataclass(frozen=True, kw_only=True)
class Int(Param):
    """An integer in [minimum, maximum]."""

    default: int
    minimum: int
    maximum: int
    step: int = 1
    kind = "int"

    def parse(self, text: str) -> int:
        try:
            return self.validate(int(text, 0))
        except ValueError:
            raise self._fail(text, "is not an integer") from None

    def validate(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise self._fail(value, "is not an integer")
        value = int(value)
        if not self.minimum <= value <= self.maximum:
            raise self._fail(value, f"is outside [{self.minimum}, {self.maximum}]")
        return value


@dataclass(frozen=True, kw_only=True)
class Float(Param):
    """A real number in [minimum, maximum]."""

    default: float
    minimum: float
    maximum: float
    step: float = 0.01
    kind = "float"

    def parse(self, text: str) -> float:
        try:
            return self.validate(float(text))
        except ValueError:
            raise self._fail(text, "is not a number") from None

    def validate(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self._fail(value, "is not a finite number")
        if not self.minimum <= value <= self.maximum:
            raise self._fail(value, f"is outside [{self.minimum}, {self.maximum}]")
        return float(value)


@dataclass(frozen=True, kw_only=True)
class Bool(Param):
    """On or off."""

    default: bool = False
    kind = "bool"

    def parse(self, text: str) -> bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise self._fail(text, "is not a boolean (use true/false)")

    def validate(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self._fail(value, "is not a boolean")
        return value


@dataclass(frozen=True, kw_only=True)
class Seed(Param):
    """A random seed in [0, 2**32 - 1]; UIs offer a 'random' button."""

    default: int = 0
    kind = "seed"

    def parse(self, text: str) -> int:
        try:
            return self.validate(int(text, 0))
        except ValueError:
            raise self._fail(text, "is not an integer seed") from None

    def validate(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
            raise self._fail(value, f"is not a seed in [0, {SEED_MAX}]")
        return value


@dataclass(frozen=True, kw_only=True)
class Text(Param):
    """Free text, optionally checked against a regular expression (full match)."""

    default: str = ""
    pattern: str | None = None
    kind = "text"

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._fail(value, "is not text")
        if self.pattern is not None and value and not re.fullmatch(self.pattern, value):
            raise self._fail(value, f"does not match {self.pattern}")
        return value


@dataclass(frozen=True, kw_only=True)
class FilePath(Param):
    """A path to a file (an image, a latent `.npz`, ...); empty string means 'none'.

    filters: glob patterns a file chooser offers, e.g. ("*.png", "*.jpg", "*.npz").
    """

    default: str = ""
    filters: tuple[str, ...] = ()
    kind = "file"

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._fail(value, "is not a path")
        return value


_HEX_COLOR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True, kw_only=True)
class Color(Param):
    """One colour, given as `#rrggbb` (also `rrggbb` or `#rgb`); the value is `#rrggbb`, lowercase.

    `Color.rgb(value)` turns a value into its 8-bit (r, g, b).
    """

    default: str = "#000000"
    kind = "color"

    def __post_init__(self) -> None:
        if not isinstance(self.default, str) or _HEX_COLOR.fullmatch(self.default) is None:
            raise ValueError(f"default {self.default!r} of {self.name!r} is not a colour like '#ff8800'")

    @property
    def default_value(self) -> str:
        return self.validate(self.default)

    def validate(self, value: Any) -> str:
        match = _HEX_COLOR.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise self._fail(value, "is not a colour: use #rrggbb (e.g. #ff8800), rrggbb or #rgb")
        digits = match.group(1).lower()
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return "#" + digits

    @staticmethod
    def rgb(value: str) -> tuple[int, int, int]:
        """The 8-bit (r, g, b) of a validated `#rrggbb` value."""
        return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


@dataclass(frozen=True)
class ColorPoint:
    """A colour hint at a point of the image.

    x, y: position as a fraction of the image width and height, each in [0, 1].
    rgb: the colour, 8-bit sRGB.
    """

    x: float
    y: float
    rgb: tuple[int, int, int]

    def to_text(self) -> str:
        return f"{self.x:.4g},{self.y:.4g},#{self.rgb[0]:02x}{self.rgb[1]:02x}{self.rgb[2]:02x}"


_POINT = re.compile(r"\s*([0-9.eE+-]+)\s*,\s*([0-9.eE+-]+)\s*,\s*#?([0-9a-fA-F]{6})\s*")


@dataclass(frozen=True, kw_only=True)
class ColorPoints(Param):
    """A list of colour hints; on the CLI `x,y,#rrggbb;x,y,#rrggbb` with x, y in [0, 1]."""

    default: tuple[ColorPoint, ...] = ()
    max_points: int = 256
    kind = "color_points"

    def parse(self, text: str) -> tuple[ColorPoint, ...]:
        points = []
        for part in filter(None, (p.strip() for p in text.split(";"))):
            match = _POINT.fullmatch(part)
            if match is None:
                raise self._fail(part[:60], "is not a colour point 'x,y,#rrggbb' (e.g. 0.5,0.25,#ff8000)")
            try:
                x, y = float(match.group(1)), float(match.group(2))
            except ValueError:
                raise self._fail(part[:60], "is not a colour point: x and y must be numbers in [0, 1]") \
                    from None
            hexa = match.group(3)
            rgb = (int(hexa[0:2], 16), int(hexa[2:4], 16), int(hexa[4:6], 16))
            points.append(ColorPoint(x, y, rgb))
            if len(points) > self.max_points:
                raise self._fail(len(points), f"points given, at most {self.max_points} allowed")
        return self.validate(tuple(points))

    def validate(self, value: Any) -> tuple[ColorPoint, ...]:
        if not isinstance(value, Iterable) or isinstance(value, (str, bytes, Mapping)):
            raise self._fail(value, "is not a list of colour points")
        points = []
        for point in value:
            if len(points) >= self.max_points:
                raise self._fail(len(points) + 1, f"points given, at most {self.max_points} allowed")
            point = self._point(point)
            if not (0.0 <= point.x <= 1.0 and 0.0 <= point.y <= 1.0):
                raise self._fail(point, "lies outside the image (x and y must be in [0, 1])")
            points.append(point)
        return tuple(points)

    def _point(self, point: Any) -> ColorPoint:
        """A `ColorPoint` (or a mapping with x, y, rgb) checked and normalised; raises `ParameterError`."""
        try:
            if isinstance(point, Mapping):
                point = ColorPoint(point["x"], point["y"], point["rgb"])
            if not isinstance(point, ColorPoint):
                raise TypeError
            x, y, rgb = point.x, point.y, tuple(point.rgb)
            if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in (x, y, *rgb)):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            raise self._fail(point, "is not a colour point (x, y in [0, 1], rgb three 0..255 values)") from None
        if len(rgb) != 3 or any(not math.isfinite(c) or c != int(c) or not 0 <= c <= 255 for c in rgb):
            raise self._fail(point, "has a colour outside 0..255")
        return ColorPoint(float(x), float(y), (int(rgb[0]), int(rgb[1]), int(rgb[2])))


def resolve_params(
    declared: Iterable[Param], given: Mapping[str, Any] | None = None, *, from_text: bool = False
) -> dict[str, Any]:
    """Complete `given` with defaults and validate every value.

    from_text: values are command-line strings to parse. Raises `ParameterError` for an unknown
    name (listing the known ones) or a bad value.
    """
    declared = tuple(declared)
    by_name = {p.name: p for p in declared}
    given = dict(given or {})
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        known = ", ".join(by_name) or "none"
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; known: {known}")
    values: dict[str, Any] = {}
    for param in declared:
        if param.name in given:
            raw = given[param.name]
            values[param.name] = param.parse(raw) if from_text else param.validate(raw)
        else:
            values[param.name] = param.default_value
    return values


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """Split `key=value` strings (as given to `--param`); raises `ParameterError` on a bad one."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"{item!r} is not of the form key=value")
        out[key.strip()] = value
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, ColorPoint):
        return {"x": value.x, "y": value.y, "rgb": list(value.rgb)}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


__all__ = [
    "Param", "Choice", "Int", "Float", "Bool", "Seed", "Text", "FilePath", "Color", "ColorPoint",
    "ColorPoints", "resolve_params", "parse_assignments", "SEED_MAX",
]
