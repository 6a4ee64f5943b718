"""Icons, the style sheet and the sample images that ship with the app, as Qt objects.

The files live in the top-level `resources/` folder (installed as `translator_resources`).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PySide6.QtGui import QIcon
from translator_resources import ICONS, SAMPLES, STYLE_SHEET


def icon(name: str) -> QIcon:
    """The icon `icons/<name>.svg`, or an empty icon when there is none."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def style_sheet() -> str:
    return STYLE_SHEET.read_text(encoding="utf-8") if STYLE_SHEET.is_file() else ""


@dataclass(frozen=True)
class Sample:
    """A sample: an image (None for a generator that needs none), the translator it is meant
    for and the parameters to run it with."""

    path: Path | None
    title: str
    translator: str
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def samples() -> tuple[Sample, ...]:
    """The samples listed in `samples/samples.json` whose files exist (entries without a
    "file" are generator samples: a translator and its "params")."""
    index = SAMPLES / "samples.json"
    if not index.is_file():
        return ()
    found = []
    for entry in json.loads(index.read_text(encoding="utf-8")):
        path = SAMPLES / entry["file"] if entry.get("file") else None
        if path is None or path.is_file():
            found.append(Sample(path, entry["title"], entry["translator"], entry.get("description", ""),
                                dict(entry.get("params", {}))))
    return tuple(found)
