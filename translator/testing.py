"""pytest fixtures for plugin authors, registered through the `pytest11` entry point.

Installed with Translator, so a plugin's own test suite gets them without imports::

    def test_my_translator(plugin_registry, image_factory, run_translator):
        registry = plugin_registry(my_plugin_module)
        spec = registry.translator("my-translator")
        result = run_translator(spec, image_factory(64, 48), strength=0.5)
        assert result.rgb.shape == (48, 64, 3)

Fixtures: `plugin_registry` (a registry holding only the plugins you give it), `image_factory`
(tiny deterministic images), `run_translator` (runs a translator through the real engine on the
CPU), `model_store` (a model store in a temporary folder), `train_translator` (a few training
steps through `translator-train`, into that store) and `translator_home` (the temporary
`TRANSLATOR_HOME` every other fixture sets, so a test never reads or writes the user's models).
"""
from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from translator.image import Image
    from translator.plugins import Registry
    from translator.spec import TranslatorSpec
    from translator.store import ModelEntry, ModelStore


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
def translator_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder set as `TRANSLATOR_HOME` for this test (models, runs, settings)."""
    home = tmp_path_factory.mktemp("translator-home")
    monkeypatch.setenv("TRANSLATOR_HOME", str(home))
    return home


@pytest.fixture
def image_factory() -> Callable[..., Image]:
    """`image_factory(width, height, pattern="gradient", alpha=False, seed=0) -> Image`."""
    return make_image


@pytest.fixture
def plugin_registry(translator_home: Path) -> Callable[..., Registry]:
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
def run_translator(translator_home: Path) -> Callable[..., Image]:
    """`run_translator(spec, image, model=None, **params) -> Image`: the real engine on the CPU.

    Without `model`, the network is built from `spec.default_config` (untrained)."""
    from translator.engine import Engine

    engine = Engine(device="cpu", precision="fp32")

    def run(spec: TranslatorSpec, image: Image | None, model: Any = None, **params: Any) -> Image:
        network = model if model is not None else spec.build(dict(spec.default_config)).eval()
        return engine.run(spec, network, image, params)

    return run


@pytest.fixture
def model_store(translator_home: Path, plugin_registry: Callable[..., Registry]) -> Callable[..., ModelStore]:
    """`model_store(*plugins, builtins=False) -> ModelStore` with its home in `translator_home`."""
    from translator.store import ModelStore

    def factory(*plugins: object, builtins: bool = False) -> ModelStore:
        return ModelStore(plugin_registry(*plugins, builtins=builtins), home=translator_home)

    return factory


@pytest.fixture
def train_translator(translator_home: Path, tmp_path: Path) -> Callable[..., ModelEntry]:
    """`train_translator(registry, translator, data=None, *, steps=2, size=32, batch_size=1,
    **options) -> ModelEntry`: a short CPU run of `translator-train --plugin TRANSLATOR`, exported
    to the model store in `translator_home` (open it with `model_store` or `ModelStore(registry)`).

    data: a folder (SINGLE, PAIRED) or a pair of folders (UNPAIRED); without it, four noise
    images of `size` px are written in the layout the translator's `DataKind` needs. options:
    the translator's training options and shared options, by name (`lambda_l1=10`,
    `gan_loss="hinge"`), given as `--name value`. Raises `TranslatorError` with the command's
    error message when training fails.
    """
    from translator.errors import TranslatorError
    from translator.training.cli import main as train_main
    from translator.training.spec import DataKind

    def train(registry: Registry, translator: str, data: Path | tuple[Path, Path] | None = None, *,
              steps: int = 2, size: int = 32, batch_size: int = 1, **options: Any) -> ModelEntry:
        from translator.store import ModelStore

        spec = registry.translator(translator)
        if spec.training is None:
            raise TranslatorError(f"{spec.name} declares no TrainingSpec: it cannot be trained")
        kind = spec.training.data
        if data is None:
            data = _noise_data(tmp_path / "train-data", kind, size)
        name = f"{spec.name}-test-{len(list((translator_home / 'runs').glob('*'))) + 1}"
        argv = ["--plugin", spec.name, "--name", name, "--steps", str(steps), "--size", str(size),
                "--load-size", str(size), "--batch-size", str(batch_size), "--device", "cpu",
                "--precision", "fp32", "--workers", "0", "--quiet", "--out", str(translator_home / "runs")]
        if kind is DataKind.UNPAIRED:
            data_a, data_b = data  # type: ignore[misc]
            argv += ["--data-a", str(data_a), "--data-b", str(data_b)]
        else:
            argv += ["--data", str(data)]
        for key, value in options.items():
            argv += [f"--{key.replace('_', '-')}", *_option_texts(value)]
        errors = io.StringIO()
        with contextlib.redirect_stderr(errors):
            try:
                status = train_main(argv, registry=registry)
            except SystemExit as exc:  # argparse refused an option
                status = exc.code if isinstance(exc.code, int) else 2
        if status != 0:
            raise TranslatorError(f"translator-train {' '.join(argv)} failed ({status}): {errors.getvalue().strip()}")
        return ModelStore(registry, home=translator_home).get(name, spec.name)

    return train


def _noise_data(root: Path, kind: Any, size: int) -> Path | tuple[Path, Path]:
    """Four noise images per folder in the layout of `kind` (a `DataKind`)."""
    from translator.imageio import write_image
    from translator.training.spec import DataKind

    folders = {DataKind.UNPAIRED: ("A", "B"), DataKind.PAIRED: ("A", "B"), DataKind.SINGLE: ("",)}[kind]
    for index, folder in enumerate(folders):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for number in range(4):
            image = make_image(size, size, pattern="noise", seed=10 * index + number)
            write_image(root / folder / f"{number}.png", image, overwrite=True)
    if kind is DataKind.UNPAIRED:
        return root / "A", root / "B"
    return root


def _option_texts(value: Any) -> list[str]:
    """A value as command-line words: sequences (`betas=(0.5, 0.99)`) give one word each."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
