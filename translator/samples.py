"""Samples-menu entries: an image and the translator (with parameters) it is meant for.

The app's built-in samples (`resources/samples/samples.json`) and a plugin's
`translator_samples()` entries are both `Sample`s; `checked_samples` keeps the usable ones of a
plugin and says why it left the others out. No Qt here: the app's Samples menu shows them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.errors import ParameterError, PluginError
from translator.params import resolve_params

if TYPE_CHECKING:
    from translator.image import Image
    from translator.spec import TranslatorSpec

MAX_SAMPLE_SIDE = 8192
"""Longest side, in pixels, of an image a sample factory may return."""


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One entry of the app's Samples menu.

    title: the menu text. translator: the name of the translator it opens with.
    image: an image file (`Path`), or a factory `() -> array` returning (H, W, 3) RGB, uint8 or
        float32 in [0, 1], called when the entry is chosen; None for a generator's sample, which
        needs no image (choosing it runs the generator with `params`).
    params: parameter values set when the entry is chosen (checked against the translator's
        `params`; the others keep their current values).
    description: one sentence shown as the entry's tooltip.
    """

    title: str
    translator: str
    image: Path | Callable[[], Any] | None
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


def checked_samples(plugin: str, samples: Iterable[object],
                    translators: Mapping[str, TranslatorSpec]) -> tuple[list[Sample], list[str]]:
    """(usable samples, one problem line per left-out entry) of a plugin's `translator_samples()`.

    Raises `PluginError` when an item is not a `Sample` (the hook returned the wrong type).
    Entries for an unknown translator, with a missing image file or bad params are left out.
    """
    usable: list[Sample] = []
    problems: list[str] = []
    for sample in samples:
        if not isinstance(sample, Sample):
            raise PluginError(f"translator_samples returned {type(sample).__name__}, not Sample")
        where = f"plugin {plugin!r}: sample {sample.title!r}"
        spec = translators.get(sample.translator)
        if spec is None:
            problems.append(f"{where} is for unknown translator {sample.translator!r}; left out")
            continue
        if not sample.title or not isinstance(sample.title, str):
            problems.append(f"{where} has no title; left out")
            continue
        if sample.image is None and spec.task.needs_input:
            problems.append(f"{where} has no image, but {spec.name!r} needs one; left out")
            continue
        if sample.image is not None and not callable(sample.image) and not Path(sample.image).is_file():
            problems.append(f"{where}: image {sample.image} is not a file; left out")
            continue
        try:
            resolve_params(spec.params, sample.params)
        except ParameterError as exc:
            problems.append(f"{where}: {exc}; left out")
            continue
        usable.append(sample)
    return usable, problems


def made_image(sample: Sample) -> Image:
    """The image a sample's factory makes, checked; raises `PluginError` for a bad result."""
    import numpy as np

    from translator.image import Image

    pixels = sample.image()  # type: ignore[operator]
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3 \
            or pixels.dtype not in (np.uint8, np.float32) or min(pixels.shape[:2]) < 1 \
            or max(pixels.shape[:2]) > MAX_SAMPLE_SIDE:
        what = f"{pixels.dtype} array {pixels.shape}" if isinstance(pixels, np.ndarray) else type(pixels).__name__
        raise PluginError(f"sample {sample.title!r}: the factory returned {what}, not an (H, W, 3) uint8 or "
                          f"float32 array of at most {MAX_SAMPLE_SIDE} px a side")
    if pixels.dtype == np.float32:
        if not np.isfinite(pixels).all():
            raise PluginError(f"sample {sample.title!r}: the factory returned non-finite pixels")
        pixels = np.clip(pixels, 0.0, 1.0)
    return Image(np.ascontiguousarray(pixels))
