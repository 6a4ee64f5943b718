"""An example Translator plugin: the template to copy for your own.

Two translators: `sepia`, a filter without weights, and `tone`, a small trainable network with a
bundled model. The entry point (`translator.plugins` in pyproject.toml) names this module, so it
holds the hook implementations. It imports only `translator.api`, the public plugin API.
"""
from __future__ import annotations

from typing import Any

from translator import api
from translator_plugin_example import sepia, tone

TRANSLATOR_API = 2
"""The plugin API version this plugin is written for (Translator refuses it when it has an older one)."""


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    return [sepia.SPEC, tone.SPEC]


def gradient() -> Any:
    """A 256 x 192 colour ramp, (H, W, 3) uint8, for the Samples menu."""
    import numpy as np

    ys, xs = np.mgrid[0:192, 0:256]
    rgb = np.stack([xs / 255, ys / 191, 1 - xs / 510 - ys / 382], axis=-1)
    return (rgb * 255).round().astype(np.uint8)


@api.hookimpl
def translator_samples() -> list[api.Sample]:
    return [api.Sample(title="Colour ramp (example)", translator="sepia", image=gradient,
                       params={"strength": 0.8}, description="A colour ramp to try the sepia filter on.")]
