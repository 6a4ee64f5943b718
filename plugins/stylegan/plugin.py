"""The StyleGAN translator and its hook implementations.

`stylegan` generates from a seed (or a projected image, or saved latents), with truncation,
noise mode and style mixing with a second source, or renders a whole mixing grid. Nothing here
imports torch at import time: networks, projection and checkpoint readers load inside the callables.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator_plugins.stylegan import training
from translator_plugins.stylegan.latents import LAYERS_PATTERN

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

NAME = "stylegan"
MODELS_DIR = Path(__file__).resolve().parent / "models"
CONFIG: tuple[api.Param, ...] = (
    api.Int(name="resolution", default=256, minimum=4, maximum=4096,
            help="output side R, a power of two (from --size when training)"),
    api.Int(name="z_dim", default=512, minimum=1, maximum=4096, help="size of z (512 in the paper)"),
    api.Int(name="w_dim", default=512, minimum=1, maximum=4096, help="size of w (512 in the paper)"),
    api.Int(name="mapping_layers", default=8, minimum=1, maximum=32, help="depth of the mapping network (8)"),
    api.Float(name="mapping_lr_mul", default=0.01, minimum=1e-6, maximum=1.0,
              help="learning-rate multiplier of the mapping layers (0.01)"),
    api.Ints(name="channels", default=(), minimum=1, maximum=4096,
             help="feature maps at resolutions 4, 8, ..., R; empty: from channel_base and channel_max, or "
                  "channel_multiplier"),
    api.Int(name="channel_base", default=16384, minimum=64, maximum=1 << 20,
            help="feature maps at resolution r: min(channel_base / r, channel_max) (NVIDIA's rule)"),
    api.Int(name="channel_max", default=512, minimum=1, maximum=4096, help="widest layer (NVIDIA's rule)"),
    api.Int(name="channel_multiplier", default=0, minimum=0, maximum=16,
            help="rosinality's width table times this from 64 px up; 0: NVIDIA's rule"),
    api.Float(name="conv_clamp", default=None, minimum=0.0, maximum=1e6, optional=True,
              help="clamp activations to [-c, c] after each layer (NVIDIA's 256); none: no clamp"),
)
"""The architecture; the defaults are a fresh 256 px StyleGAN2 with NVIDIA's paper256 widths
(16384 / res, at most 512). See `networks.architecture`."""

SOURCE_FILTERS = ("*.png", "*.jpg", "*.jpeg", "*.webp", "*.bmp", "*.tif", "*.tiff", "*.npz")

PARAMS: tuple[api.Param, ...] = (
    api.Seed(name="seed", title="Picture number (seed)", default=0,
             help="each number gives another picture (source A). Technically z = "
                  "RandomState(seed).randn(1, z_dim), as the official scripts"),
    api.Float(name="truncation", title="Variety (truncation)", default=0.7, minimum=0.0, maximum=2.0,
              help="how far pictures may stray from the average one: low values give typical, clean "
                   "pictures, 1 the model's full variety, above 1 stranger ones. Technically psi, "
                   "which pulls w toward the average w (1: none, 0: the average image)"),
    api.Choice(name="noise", title="Fine texture (noise)", choices=("const", "random", "none"), default="const",
               labels=("The model's own, the same each time", "Fresh each time", "None (smoother)"),
               help="the per-pixel noise behind hair, grain and texture: the model's fixed noise, "
                    "fresh noise on every run, or none"),
    api.FilePath(name="source", title="Start from a file (A)", filters=SOURCE_FILTERS,
                 help="a picture to find in the model (projection), or saved latents (.npz), "
                      "instead of the picture number; an input image does the same"),
    api.Text(name="style_seed", title="Mix in picture number (B)", default="", pattern=r"\d*|none",
             help="the number of a second picture whose styles are mixed into A (empty: no mixing). "
                  "Technically the seed of source B"),
    api.FilePath(name="style_source", title="Mix in a file (B)", filters=SOURCE_FILTERS,
                 help="a picture to find in the model, or saved latents (.npz), as the second picture B"),
    api.Text(name="layers", title="What to take from B", default="coarse", pattern=LAYERS_PATTERN,
             help="coarse: pose and shape (the 4-8 px layers); middle: features (16-32 px); fine: "
                  "colours and texture (64 px and up); all; or FIRST-LAST w indices"),
    api.Float(name="blend", title="How much of B", default=1.0, minimum=0.0, maximum=1.0,
              help="how much of B's styles replace A's on the chosen layers (1: all of them)"),
    api.Text(name="grid", title="Mixing grid", default="", pattern=r"[0-9,\- ]*;[0-9,\- ]*|",
             help="ROW_SEEDS;COLUMN_SEEDS, e.g. 1,2,3;10-13: render the style-mixing figure instead"),
    api.Int(name="project_steps", title="Fitting steps (for a picture)", default=200, minimum=1, maximum=5000,
            help="how long to search the model for a picture given as a file: more steps fit it "
                 "closer and take longer. Technically the projection's optimisation steps"),
    api.Choice(name="project_space", title="Fit a picture", choices=("w", "w+"), default="w",
               labels=("Loosely, mixes well (w)", "Closely (w+)"),
               help="loosely: one latent for all layers, so the fitted picture mixes well with "
                    "others; closely: one per layer, nearer to the picture but it mixes less well. "
                    "Technically the projection space, w or w+"),
    api.FilePath(name="save_latents", title="Save the picture's latents to", filters=("*.npz",),
                 help="write the latents (ws) of the result to this .npz, to start from it later "
                      "(not for grids)"),
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


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    """The StyleGAN translator."""
    return [api.TranslatorSpec(
        name=NAME,
        title="StyleGAN2",
        description="Generates images from seeds (Karras et al. 2020), mixes the styles of two seeds, "
                    "images or latents over a layer range, renders style-mixing grids, projects your own "
                    "images into the latent space.",
        task=api.TaskKind.GENERATE,
        params=PARAMS,
        build=build,
        translate=translate,
        config=CONFIG,
        models_dir=MODELS_DIR,
        half_precision=False,
        needs_grad=True,
        training=training.training_spec(),
    )]


translator_claim_checkpoint = api.claim_from("translator_plugins.stylegan.checkpoints")
