"""The session's state: open images, their run history, the result cache, loaded models.

Nothing here imports Qt, so all of it is tested without a QApplication.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from translator.image import Image

_ids = itertools.count(1)


def freeze(value: Any) -> Hashable:
    """A hashable, order-independent form of a parameter value or a params dict."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, freeze(vars(value)))
    return value


def image_nbytes(image: Image) -> int:
    """Memory held by an image's pixel arrays."""
    return int(image.rgb.nbytes + (image.alpha.nbytes if image.alpha is not None else 0))


@dataclass(eq=False)
class RunRecord:
    """One finished run on an image: what ran, with what, how long it took, and its result.

    model: the model's name, or None for a network without weights.
    seconds: wall time of the run, model loading included.
    """

    translator: str
    model: str | None
    params: dict[str, Any]
    seconds: float
    result: Image
    finished: float = field(default_factory=time.time)
    view: Any = None
    """A display form of the result made by the GUI (a QImage), kept with it."""
    warnings: tuple[str, ...] = ()
    """What the translator said about the input (`RunContext.warn`), shown in the status bar."""
    labelled: tuple[str, ...] | None = None
    """The parameters worth naming in `label()` (None: every one that is set)."""

    def label(self) -> str:
        """One line for the history list: the parameters in `labelled` that are set."""
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items()
                          if not _empty(v) and (self.labelled is None or k in self.labelled))
        model = f" [{self.model}]" if self.model else ""
        return f"{self.translator}{model} {shown} ({self.seconds:.1f} s)".replace("  ", " ")


@dataclass(eq=False)
class OpenImage:
    """An image open in the app.

    path: the file it came from (None for pasted images, sketches and generated slots).
    revision: grows whenever the pixels change (a sketch being drawn), so cached results of
        older pixels are never shown for the new ones.
    image: None only for the input-less slot of a GENERATE translator.
    """

    name: str
    image: Image | None
    path: Path | None = None
    id: int = field(default_factory=lambda: next(_ids))
    revision: int = 0
    history: list[RunRecord] = field(default_factory=list)
    view: Any = None
    """A display form of the pixels made by the GUI (a QImage), kept with them."""
    thumb: Any = None
    """A small display form for lists (a QImage), None until made."""
    sketch: Any = None
    """The sketch document when this image is a drawing on the sketch pad."""
    placed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Values of parameters placed on this picture (colour hints), per translator name."""

    def replace_pixels(self, image: Image) -> None:
        """New pixels (for example a sketch that changed): bumps the revision."""
        self.image = image
        self.revision += 1
        self.view = None
        self.thumb = None


class ImageList:
    """The open images in order, with a current one."""

    def __init__(self) -> None:
        self._items: list[OpenImage] = []
        self.current_index: int = -1

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[OpenImage]:
        return iter(self._items)

    def __getitem__(self, index: int) -> OpenImage:
        return self._items[index]

    @property
    def current(self) -> OpenImage | None:
        if 0 <= self.current_index < len(self._items):
            return self._items[self.current_index]
        return None

    def add(self, item: OpenImage) -> tuple[OpenImage, bool]:
        """Append `item` unless an image from the same file is already open.

        Returns the item now in the list and whether it was added (False: the existing one).
        """
        if item.path is not None:
            for existing in self._items:
                if existing.path is not None and _same_file(existing.path, item.path):
                    return existing, False
        self._items.append(item)
        return item, True

    def index_of(self, item: OpenImage) -> int:
        return next(i for i, x in enumerate(self._items) if x is item)

    def remove(self, index: int) -> OpenImage:
        """Close one image; the current index stays on a neighbour."""
        item = self._items.pop(index)
        if self.current_index >= len(self._items):
            self.current_index = len(self._items) - 1
        return item


class ResultCache:
    """Finished results keyed by (image id, revision, translator, model, parameters).

    Bounded by total pixel memory: the least recently used results go first.
    """

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, RunRecord] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(item: OpenImage | None, translator: str, model: str | None,
            params: Mapping[str, Any]) -> Hashable:
        """The cache key of running `translator` with `model` and `params` on `item`."""
        image_key = (item.id, item.revision) if item is not None and item.image is not None else None
        return (image_key, translator, model, freeze(params))

    def get(self, key: Hashable) -> RunRecord | None:
        record = self._items.get(key)
        if record is not None:
            self._items.move_to_end(key)
        return record

    def put(self, key: Hashable, record: RunRecord) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= image_nbytes(old.result)
        self._items[key] = record
        self._bytes += image_nbytes(record.result)
        while self._bytes > self.max_bytes and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= image_nbytes(dropped.result)

    def drop_image(self, item: OpenImage) -> None:
        """Forget every result of a closed image."""
        for key in [k for k in self._items if k[0] is not None and k[0][0] == item.id]:
            self._bytes -= image_nbytes(self._items.pop(key).result)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes


class ModelCache:
    """Loaded networks by (translator, model name), shared by worker threads.

    `get(translator, model, opener)` returns the cached network or calls `opener()` (which
    returns `(model_name, network)`), once per key even when two threads ask together. Keeps at
    most `capacity` networks (least recently used dropped).
    """

    def __init__(self, capacity: int = 3) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, str | None], tuple[str | None, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, translator: str, model: str | None,
            opener: Callable[[], tuple[str | None, Any]]) -> tuple[str | None, Any]:
        key = (translator, model)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            value = opener()
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _empty(value: Any) -> bool:
    """An unset text, path or point list: left out of history labels."""
    return value is None or (isinstance(value, (str, tuple, list)) and not value)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, tuple):
        if not value:
            return "none"
        return f"{len(value)} point{'s' if len(value) > 1 else ''}" if hasattr(value[0], "rgb") else str(list(value))
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."
