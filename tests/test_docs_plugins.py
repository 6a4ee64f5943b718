"""docs/plugins.md is the plugin authors' reference: it fails here when the code grows something
the document does not name with its signature (hooks, spec fields, parameter types, contexts)."""
from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from translator import api, hookspecs

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(heading: str) -> str:
    """The text under a `## ` or `### ` heading, up to the next heading of any level."""
    text = _text()
    assert heading in text, f"docs/plugins.md has no section {heading!r}"
    body = text.split(heading, 1)[1]
    ends = [i for i in (body.find("\n## "), body.find("\n### ")) if i >= 0]
    return body[: min(ends)] if ends else body


def _hooks() -> list[str]:
    return [name for name, obj in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("translator_")]


def hook_signature(name: str) -> str:
    """`translator_x(arg: Type, ...) -> Result`, as the hookspec declares it."""
    signature = inspect.signature(getattr(hookspecs, name))
    args = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{name}({args}) -> {signature.return_annotation}"


def call_signature(name: str, function: object) -> str:
    """`name(arg, arg=default)`: a method without `self`, no annotations."""
    parts = []
    for param in inspect.signature(function).parameters.values():
        if param.name == "self":
            continue
        parts.append(param.name if param.default is inspect.Parameter.empty else f"{param.name}={param.default!r}")
    return f"{name}({', '.join(parts)})"


def constructor(cls: type) -> str:
    """`Int(name, default, minimum, maximum, step=1)`: required fields, then the ones with defaults;
    `title` and `help`, which every parameter has, are left out."""
    required, optional = [], []
    for field in dataclasses.fields(cls):
        if field.name in ("title", "help"):
            continue
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            required.append(field.name)
        else:
            default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            optional.append(f"{field.name}={default!r}")
    return f"{cls.__name__}({', '.join(required + optional)})"


def _public_methods(cls: type) -> list[tuple[str, object]]:
    """Public functions and static methods defined by the class itself."""
    found = []
    for name, member in vars(cls).items():
        member = member.__func__ if isinstance(member, staticmethod) else member
        if not name.startswith("_") and inspect.isfunction(member):
            found.append((name, member))
    return found


def _fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if not f.name.startswith("_")]


PARAM_TYPES = [getattr(api, name) for name in api.__all__
               if isinstance(getattr(api, name), type) and issubclass(getattr(api, name), api.Param)
               and getattr(api, name) is not api.Param]


def test_every_hook_has_a_section_with_its_signature_and_an_example():
    assert len(_hooks()) >= 4
    for hook in _hooks():
        section = _section(f"### `{hook}`")
        assert f"`{hook_signature(hook)}`" in section, f"{hook}: signature `{hook_signature(hook)}` not in its section"
        assert "Result rule" in section, f"{hook}: its result rule is not stated"
        assert "```python" in section and f"def {hook}" in section, f"{hook} has no example"


@pytest.mark.parametrize("cls, heading", [
    (api.TranslatorSpec, "### `TranslatorSpec` fields"),
    (api.TrainingSpec, "### `TrainingSpec` fields"),
    (api.Sample, "### `translator_samples`"),
])
def test_every_field_is_a_row_of_its_table(cls, heading):
    section = _section(heading)
    missing = [f.name for f in _fields(cls) if f"| `{f.name}` |" not in section]
    assert not missing, f"{cls.__name__} fields missing from {heading!r}: {missing}"


@pytest.mark.parametrize("cls, heading", [
    (api.RunContext, "### `RunContext`"),
    (api.TrainContext, "### `TrainContext`"),
])
def test_every_context_field_and_method_is_documented_with_its_signature(cls, heading):
    section = _section(heading)
    missing = [f.name for f in _fields(cls) if f"`{f.name}`" not in section]
    for name, member in _public_methods(cls):
        wanted = f"`{call_signature(name, member)}`"
        if wanted not in section:
            missing.append(wanted)
    properties = [name for name, member in vars(cls).items() if isinstance(member, property)]
    missing += [name for name in properties if f"`{name}`" not in section]
    assert not missing, f"{cls.__name__}: missing from {heading!r}: {missing}"


def test_every_trainer_method_is_documented_with_its_signature():
    section = _section("### The `Trainer` protocol")
    missing = [call_signature(name, member) for name, member in _public_methods(api.Trainer)
               if f"`{call_signature(name, member)}`" not in section]
    assert not missing, f"Trainer methods missing: {missing}"


def test_every_parameter_type_is_documented_with_its_constructor():
    assert {cls.__name__ for cls in PARAM_TYPES} >= {"Choice", "Int", "Float", "Bool", "Seed", "Text",
                                                      "FilePath", "Color", "ColorPoints"}
    section = _section("## Parameters")
    missing = [constructor(cls) for cls in PARAM_TYPES if f"`{constructor(cls)}`" not in section]
    assert not missing, f"parameter types missing with their constructor: {missing}"
    for common in ("name", "title", "help"):
        assert f"`{common}`" in section


def test_every_public_api_name_is_documented():
    text = _text()
    missing = [name for name in api.__all__ if f"`{name}" not in text and f"api.{name}" not in text]
    assert not missing, f"undocumented in docs/plugins.md: {missing}"


def test_the_helpers_render_what_the_document_shows():
    """The renderings the checks above look for, on known declarations."""
    assert constructor(api.Int) == "Int(name, default, minimum, maximum, step=1)"
    assert call_signature("make_optimizer", api.TrainContext.make_optimizer) == "make_optimizer(params, role='G')"
    assert hook_signature("translator_translators") == "translator_translators() -> list[TranslatorSpec]"
