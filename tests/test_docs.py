"""Documentation keeps up with the code: every hook and public API name is documented."""
from __future__ import annotations

import inspect
from pathlib import Path

from translator import api, hookspecs

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _hooks() -> list[str]:
    return [name for name, obj in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("translator_")]


def test_every_hook_has_a_documented_section_with_an_example():
    text = DOC.read_text(encoding="utf-8")
    assert _hooks(), "no hooks found"
    for hook in _hooks():
        heading = f"### `{hook}`"
        assert heading in text, f"{hook} is not documented in docs/plugins.md"
        section = text.split(heading, 1)[1].split("\n### ", 1)[0]
        assert "```python" in section and f"def {hook}" in section, f"{hook} has no example"


def test_every_public_api_name_is_documented():
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in api.__all__ if name != "API_VERSION" and f"`{name}" not in text]
    assert not missing, f"undocumented in docs/plugins.md: {missing}"
