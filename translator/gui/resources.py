"""Icons, the style sheet and the sample images that ship with the app, as Qt objects.

The files live in the top-level `resources/` folder (installed as `translator_resources`).
"""
from __future__ import annotations

import json
from functools import lru_cache

from PySide6.QtGui import QIcon
from translator_resources import ICONS, SAMPLES, STYLE_SHEET

from translator.samples import Sample


def icon(name: str) -> QIcon:
    """The icon `icons/<name>.svg`, or an empty icon when there is none."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def style_sheet() -> str:
    return STYLE_SHEET.read_text(encoding="utf-8") if STYLE_SHEET.is_file() else ""


@lru_cache(maxsize=1)
def samples() -> tuple[Sample, ...]:
    """The samples listed in `samples/samples.json` whose files exist (entries without a
    "file" are generator samples: a translator and its "params")."""
    index = SAMPLES / "samples.json"
    if not index.is_file():
        return ()
    found = []
    for entry in json.loads(index.read_text(encoding="utf-8")):
        image = SAMPLES / entry["file"] if entry.get("file") else None
        if image is None or image.is_file():
            found.append(Sample(image=image, title=entry["title"], translator=entry["translator"],
                                description=entry.get("description", ""),
                                params=dict(entry.get("params", {}))))
    return tuple(found)
