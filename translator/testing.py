"""pytest fixtures for plugin authors, registered through the `pytest11` entry point.

Installed with Translator, so a plugin's own test suite gets them without imports::

    def test_my_translator(plugin_registry, image_factory, run_translator):
        registry = plugin_registry(my_plugin_module)
        spec = registry.translator("my-translator")
        result = run_translator(spec, image_factory(64, 48), strength=0.5)
        assert result.rgb.shape == (48, 64, 3)

Fixtures: `plugin_registry` (a registry holding only the plugins you give it), `image_factory`
(tiny deterministic images), `run_translator` (runs a translator through the real engine on the
CPU), `model_store` (a model store in a temporary folder).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from translator.image import Image
    from translator.plugins import Registry
    from translator.spec import TranslatorSpec
    from translator.store import ModelStore


def make_image(width: int, height: int, *, pattern: str = "gradient", alpha: bool = False,
               seed: int = 0) -> Image:
    """A small deterministic test image.

    pattern: "gradient" (smooth colour ramps), "noise" (uniform noise), "checker" (8 px squares)
    or "gray" (a grayscale ramp).
    """
    from translator.image import Image

    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u = xs / max(width - 1, 1)
    v = ys / max(height - 1, 1)
    if pattern == "gradient":
        rgb = np.stack([u, v, 1.0 - 0.5 * (u + v)], axis=-1)
    elif pattern == "noise":
        rgb = np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)
    elif pattern == "checker":
        on = ((xs // 8 + ys // 8) % 2).astype(np.float32)
        rgb = np.stack([on, 1.0 - on, 0.5 * np.ones_like(on)], axis=-1)
    elif pattern == "gray":
        rgb = np.repeat(((u + v) / 2)[..., None], 3, axis=-1)
    else:
        raise ValueError(f"unknown pattern {pattern!r}")
    mask = (0.25 + 0.75 * u).astype(np.float32) if alpha else None
    return Image(rgb=np.ascontiguousarray(rgb, dtype=np.float32), alpha=mask,
                 grayscale=pattern == "gray")


@pytest.fixture
def image_factory() -> Callable[..., Image]:
    """`image_factory(width, height, pattern="gradient", alpha=False, seed=0) -> Image`."""
    return make_image


@pytest.fixture
def plugin_registry() -> Callable[..., Registry]:
    """`plugin_registry(*plugins, builtins=False)`: a fresh registry holding the given plugin
    modules or objects (named after their module), plus the built-ins when asked."""
    from translator.plugins import Registry

    def factory(*plugins: object, builtins: bool = False) -> Registry:
        registry = Registry()
        if builtins:
            registry.load_entry_points(third_party=False)
        for plugin in plugins:
            name = getattr(plugin, "__name__", type(plugin).__name__).rsplit(".", 1)[-1]
            registry.register(plugin, name)
        return registry

    return factory


@pytest.fixture
def run_translator() -> Callable[..., Image]:
    """`run_translator(spec, image, model=None, **params) -> Image`: the real engine on the CPU.

    Without `model`, the network is built from the config's defaults (untrained)."""
    from translator.engine import Engine

    engine = Engine(device="cpu", precision="fp32")

    def run(spec: TranslatorSpec, image: Image | None, model: Any = None, **params: Any) -> Image:
        network = model if model is not None else spec.build(spec.resolve_config(None)).eval()
        return engine.run(spec, network, image, params)

    return run


@pytest.fixture
def model_store(tmp_path: Path, plugin_registry: Callable[..., Registry]) -> Callable[..., ModelStore]:
    """`model_store(*plugins, builtins=False) -> ModelStore` with its home in a temporary folder."""
    from translator.store import ModelStore

    def factory(*plugins: object, builtins: bool = False) -> ModelStore:
        return ModelStore(plugin_registry(*plugins, builtins=builtins), home=tmp_path / "translator-home")

    return factory
