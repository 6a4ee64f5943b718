"""The StyleGAN translator and its hook implementations.

`stylegan` generates from a seed (or a projected image, or saved latents), with truncation,
noise mode and style mixing with a second source, or renders a whole mixing grid. Nothing here
imports torch at import time: networks, projection and checkpoint readers load inside the callables.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator_plugins.stylegan.latents import LAYERS_PATTERN

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

NAME = "stylegan"
MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_CONFIG: Mapping[str, Any] = {
    "resolution": 256, "z_dim": 512, "w_dim": 512, "mapping_layers": 8, "mapping_lr_mul": 0.01,
    "channel_base": 16384, "channel_max": 512, "conv_clamp": None,
}
"""A fresh 256 px StyleGAN2 (NVIDIA's paper256 widths: 16384 / res, at most 512)."""

SOURCE_FILTERS = ("*.png", "*.jpg", "*.jpeg", "*.webp", "*.bmp", "*.tif", "*.tiff", "*.npz")

PARAMS: tuple[api.Param, ...] = (
    api.Seed(name="seed", title="Seed", default=0,
             help="source A: z = RandomState(seed).randn(1, z_dim), as the official scripts"),
    api.Float(name="truncation", title="Truncation psi", default=0.7, minimum=0.0, maximum=2.0,
              help="pull w toward the average w (1: none, 0: the average image)"),
    api.Choice(name="noise", title="Noise", choices=("const", "random", "none"), default="const",
               help="per-pixel noise: the model's fixed noise, fresh noise, or none"),
    api.FilePath(name="source", title="Source A file", filters=SOURCE_FILTERS,
                 help="an image to project, or latents (.npz), instead of the seed; an input image also does"),
    api.Text(name="style_seed", title="Style seed (B)", default="", pattern=r"\d*|none",
             help="source B seed whose styles are mixed into A (empty: no mixing)"),
    api.FilePath(name="style_source", title="Source B file", filters=SOURCE_FILTERS,
                 help="an image to project, or latents (.npz), as source B"),
    api.Text(name="layers", title="Layers from B", default="coarse", pattern=LAYERS_PATTERN,
             help="coarse (4-8 px: pose, shape), middle (16-32 px), fine (64 px+: colours), all, or FIRST-LAST w indices"),
    api.Float(name="blend", title="Blend", default=1.0, minimum=0.0, maximum=1.0,
              help="how much of B's styles replace A's on the chosen layers"),
    api.Text(name="grid", title="Mixing grid", default="", pattern=r"[0-9,\- ]*;[0-9,\- ]*|",
             help="ROW_SEEDS;COLUMN_SEEDS, e.g. 1,2,3;10-13: render the style-mixing figure instead"),
    api.Int(name="project_steps", title="Projection steps", default=200, minimum=1, maximum=5000,
            help="optimisation steps when a source is an image"),
    api.Choice(name="project_space", title="Projection space", choices=("w", "w+"), default="w",
               help="w: one latent for all layers (mixes well); w+: one per layer (closer fit)"),
    api.FilePath(name="save_latents", title="Save latents to", filters=("*.npz",),
                 help="write the ws of the result to this .npz (not for grids)"),
)


def build(config: Mapping[str, Any]) -> nn.Module:
    """A fresh `networks.Generator` (float32, CPU) of `config`."""
    from translator_plugins.stylegan import networks

    return networks.build(config)


def translate(model: nn.Module, images: Tensor | None, params: Mapping[str, Any], ctx: api.RunContext) -> Tensor:
    """Generate (1, 3, R, R) in [0, 1] (or (B, ...) when B input images are projected as source A),
    or the mixing grid (1, 3, (1 + rows) R, (1 + cols) R). See `generate.run`."""
    from translator_plugins.stylegan import generate

    return generate.run(model, images, params, ctx)


def _training_spec() -> api.TrainingSpec | None:
    try:
        training = importlib.import_module("translator_plugins.stylegan.training")
    except ModuleNotFoundError as exc:
        if exc.name != "translator_plugins.stylegan.training":
            raise
        return None
    return training.training_spec()


def spec() -> api.TranslatorSpec:
    """The StyleGAN translator."""
    return api.TranslatorSpec(
        name=NAME,
        title="StyleGAN2",
        description="Generates images from seeds (Karras et al. 2020), mixes the styles of two seeds, "
                    "images or latents over a layer range, renders style-mixing grids, projects your own "
                    "images into the latent space.",
        task=api.TaskKind.GENERATE,
        params=PARAMS,
        build=build,
        translate=translate,
        default_config=DEFAULT_CONFIG,
        models_dir=MODELS_DIR,
        size_multiple=1,
        tileable=False,
        half_precision=False,
        needs_grad=True,
        training=_training_spec(),
    )


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    return [spec()]


@api.hookimpl
def translator_claim_checkpoint(checkpoint: api.CheckpointFile,
                                context: api.ImportContext) -> api.CheckpointClaim | None:
    """rosinality `.pt` and NVIDIA `.pkl` StyleGAN2 generators (see `checkpoints.claim`)."""
    from translator_plugins.stylegan import checkpoints

    return checkpoints.claim(checkpoint, context)
