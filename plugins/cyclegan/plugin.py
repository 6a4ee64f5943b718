"""The CycleGAN translator and its hook implementations.

Nothing here imports torch at import time (the app starts fast): the networks and the checkpoint
converter are imported inside the callables.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator_plugins.cyclegan import training

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

NAME = "cyclegan"
MODELS_DIR = Path(__file__).resolve().parent / "models"
DIRECTIONS = ("AtoB", "BtoA")

CONFIG: tuple[api.Param, ...] = (
    api.Int(name="ngf", default=64, minimum=1, maximum=1024,
            help="generator width, channels of its first layer (64 in the paper)"),
    api.Int(name="ndf", default=64, minimum=1, maximum=1024,
            help="discriminator width, channels of its first layer (training only)"),
    api.Int(name="n_blocks", default=9, minimum=0, maximum=64,
            help="residual blocks per generator, 9 for 256 px, 6 for 128 px"),
    api.Int(name="n_layers_d", default=3, minimum=1, maximum=8,
            help="strided layers of the PatchGAN discriminator, 3: 70x70 patches (training only)"),
    api.Choice(name="norm", choices=("instance", "batch", "none"), default="instance",
               help="normalisation layers (instance in the paper)"),
    api.Bool(name="use_dropout", default=False, help="dropout 0.5 inside the residual blocks"),
    api.Subset(name="directions", choices=DIRECTIONS, default=DIRECTIONS,
               help="the generators the model holds: AtoB (G) and/or BtoA (F)"),
    api.Choice(name="upsample", choices=("transposed", "resize"), default="transposed",
               help="generator upsampling: transposed (the paper's) or resize (bilinear + conv, no checkerboard)"),
    api.Choice(name="down_padding", choices=("zeros", "reflect"), default="zeros",
               help="padding of the generator's stride-2 convolutions: zeros (the paper's) or reflect (no "
                    "dark stripe along the top and left edges)"),
)
"""The architecture, defaults the paper's (imported reference files use it): 9-block generators
both ways, 70x70 PatchGAN. See `networks`."""

TILE_OVERLAP = 96
"""Context per tile side: an output pixel of the 9-block generator sees 84 input pixels to each
side (`networks.receptive_radius(9)`); 96 covers it and keeps tiles on the 4-pixel grid of the two
stride-2 layers."""

SIZE_REQUIREMENTS = api.SizeRequirements(minimum=8, multiple=4)
"""Sides the generator runs on: multiples of 4 (two stride-2 layers), at least 8 (its
1/4-resolution blocks reflect-pad by one pixel). The engine pads and crops back."""

DIRECTION = api.Choice(
    name="direction", title="Direction", choices=DIRECTIONS, default="AtoB",
    labels=("Photo -> painting", "Painting -> photo"),
    help="which way to translate: with the bundled model a photo into a painting, or a painting "
         "back into a photo; an imported model goes between its own two kinds of picture (for "
         "horse2zebra, horse -> zebra). Technically AtoB runs generator G (domain A to B), BtoA "
         "generator F (B to A)")


def build(config: Mapping[str, Any]) -> nn.Module:
    """A fresh `networks.CycleGAN` (float32, CPU) holding the generators `config` names (see `CONFIG`)."""
    from translator_plugins.cyclegan import networks

    return networks.build(config)


def translate(model: nn.Module, images: Tensor, params: Mapping[str, Any], ctx: api.RunContext) -> Tensor:
    """(B, 3, H, W) in [0, 1], sides meeting `SIZE_REQUIREMENTS` -> translated (B, 3, H, W) in [0, 1].

    Raises `TranslatorError` when the model lacks the generator of `params["direction"]`.
    """
    ctx.check_cancelled()
    return model(images.to(ctx.dtype), params["direction"])


def prepare_tiling(model: nn.Module, preview: Tensor, params: Mapping[str, Any],
                   ctx: api.RunContext) -> AbstractContextManager[None]:
    """Freeze every instance norm of the chosen generator to the statistics of `preview`
    ((1, 3, h, w) in [0, 1], the whole image scaled down), so that all tiles are normalised alike.
    """
    from translator.api.layers import frozen_instance_norm

    generator = model.generator(params["direction"])
    return frozen_instance_norm(generator, lambda: generator(preview.to(ctx.dtype) * 2 - 1))


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    """The CycleGAN translator."""
    return [api.TranslatorSpec(
        name=NAME,
        title="CycleGAN",
        description="Unpaired translation between two image domains, both ways (Zhu et al. 2017): "
                    "for example photo <-> painting. Any image size.",
        task=api.TaskKind.TWO_WAY,
        params=(DIRECTION,),
        build=build,
        translate=translate,
        config=CONFIG,
        models_dir=MODELS_DIR,
        size_multiple=SIZE_REQUIREMENTS.multiple,
        size_requirements=lambda model: SIZE_REQUIREMENTS,
        tileable=True,
        tile_overlap=TILE_OVERLAP,
        prepare_tiling=prepare_tiling,
        training=training.training_spec(),
    )]


translator_claim_checkpoint = api.claim_from("translator_plugins.cyclegan.checkpoints")
