"""The CycleGAN translator and its hook implementations.

Nothing here imports torch at import time (the app starts fast): the networks and the checkpoint
converter are imported inside the callables.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

NAME = "cyclegan"
MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_CONFIG: Mapping[str, Any] = {
    "ngf": 64, "ndf": 64, "n_blocks": 9, "n_layers_d": 3, "norm": "instance", "use_dropout": False,
    "directions": ["AtoB", "BtoA"], "upsample": "transposed", "down_padding": "zeros",
}
"""The paper's architecture (`networks.CycleGANConfig`): 9-block generators both ways, 70x70 PatchGAN."""

TILE_OVERLAP = 96
"""Context per tile side: an output pixel of the 9-block generator sees 84 input pixels to each
side (`networks.receptive_radius(9)`); 96 covers it and keeps tiles on the 4-pixel grid of the two
stride-2 layers."""

MIN_SIZE = 8
"""Smallest side the generator runs on: its 1/4-resolution blocks reflect-pad by one pixel."""

DIRECTION = api.Choice(
    name="direction", title="Direction", choices=("AtoB", "BtoA"), default="AtoB",
    labels=("Photo -> painting", "Painting -> photo"),
    help="which way to translate: with the bundled model a photo into a painting, or a painting "
         "back into a photo; an imported model goes between its own two kinds of picture (for "
         "horse2zebra, horse -> zebra). Technically AtoB runs generator G (domain A to B), BtoA "
         "generator F (B to A)")


def build(config: Mapping[str, Any]) -> nn.Module:
    """A fresh `networks.CycleGAN` (float32, CPU) holding the generators `config` names."""
    from translator_plugins.cyclegan import networks

    return networks.build(config)


def translate(model: nn.Module, images: Tensor, params: Mapping[str, Any], ctx: api.RunContext) -> Tensor:
    """(B, 3, H, W) in [0, 1], H and W multiples of 4 -> translated (B, 3, H, W) in [0, 1].

    Sides under `MIN_SIZE` are padded (replicate) and cropped back. Raises `TranslatorError` when
    the model lacks the generator of `params["direction"]`.
    """
    ctx.check_cancelled()
    height, width = images.shape[-2:]
    return model(_pad_small(images.to(ctx.dtype)), params["direction"])[..., :height, :width]


def prepare_tiling(model: nn.Module, preview: Tensor, params: Mapping[str, Any],
                   ctx: api.RunContext) -> AbstractContextManager[None]:
    """Freeze every instance norm of the chosen generator to the statistics of `preview`
    ((1, 3, h, w) in [0, 1], the whole image scaled down), so that all tiles are normalised alike.
    """
    from translator.api.layers import frozen_instance_norm

    generator = model.generator(params["direction"])
    return frozen_instance_norm(generator, lambda: generator(_pad_small(preview.to(ctx.dtype)) * 2 - 1))


def _pad_small(images: Tensor) -> Tensor:
    """Replicate-pad bottom and right so that both sides are at least `MIN_SIZE`."""
    import torch.nn.functional as F

    height, width = images.shape[-2:]
    if min(height, width) >= MIN_SIZE:
        return images
    return F.pad(images, (0, max(MIN_SIZE - width, 0), 0, max(MIN_SIZE - height, 0)), mode="replicate")


def _training_spec() -> api.TrainingSpec | None:
    """`training.training_spec()` when the package has its training module, else None.

    That module must not import torch at import time: it is imported when plugins load.
    """
    try:
        training = importlib.import_module("translator_plugins.cyclegan.training")
    except ModuleNotFoundError as exc:
        if exc.name != "translator_plugins.cyclegan.training":
            raise
        return None
    return training.training_spec()


def spec() -> api.TranslatorSpec:
    """The CycleGAN translator."""
    return api.TranslatorSpec(
        name=NAME,
        title="CycleGAN",
        description="Unpaired translation between two image domains, both ways (Zhu et al. 2017): "
                    "for example photo <-> painting. Any image size.",
        task=api.TaskKind.TWO_WAY,
        params=(DIRECTION,),
        build=build,
        translate=translate,
        default_config=DEFAULT_CONFIG,
        models_dir=MODELS_DIR,
        size_multiple=4,
        tileable=True,
        tile_overlap=TILE_OVERLAP,
        prepare_tiling=prepare_tiling,
        training=_training_spec(),
    )


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    return [spec()]


@api.hookimpl
def translator_claim_checkpoint(checkpoint: api.CheckpointFile,
                                context: api.ImportContext) -> api.CheckpointClaim | None:
    """Reference CycleGAN generator files (see `checkpoints.claim`)."""
    from translator_plugins.cyclegan import checkpoints

    return checkpoints.claim(checkpoint, context)
