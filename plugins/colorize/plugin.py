"""The colorize translator and its hook implementations.

The input (any image; colour is first converted to gray) is reduced to its CIE Lab lightness L.
The network sees L at a working size (the longer side `working_size`, aspect ratio kept), with
the user's colour points as hint patches if it follows hints, and predicts ab there. The colour
points then correct that prediction edge-aware, for every model (`propagate`): each point's
wish spreads over the region of even lightness it sits in and stops at edges. ab is brought to
the full image along the full-resolution lightness edges (a guided filter), scaled by
`saturation` and recombined with the input's own L, with the chroma of out-of-gamut pixels
reduced so L stays exactly as it was. Big images are therefore cheap, and the translator is not
tiled (the network needs the whole image for context).

Nothing here imports torch at import time (the app starts fast).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator_plugins.colorize import training

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

NAME = "colorize"
MODELS_DIR = Path(__file__).resolve().parent / "models"
CONFIG: tuple[api.Param, ...] = (
    api.Choice(name="architecture", choices=("unet", "eccv16", "siggraph17"), default="unet",
               help="unet (ours), eccv16 or siggraph17 (Zhang et al.'s; the other keys do not apply to them)"),
    api.Int(name="width", default=32, minimum=1, maximum=512,
            help="U-Net width, channels of its first level; level i has width * 2**min(i, 3)"),
    api.Int(name="depth", default=3, minimum=1, maximum=6,
            help="U-Net downsamplings; the working size is a multiple of 2**depth"),
    api.Int(name="middle", default=2, minimum=0, maximum=16,
            help="dilated 3x3 convolutions at the lowest resolution (image-wide context)"),
    api.Bool(name="hints", default=True,
             help="the U-Net takes hints itself; without, it learns automatic colours and the translator "
                  "spreads hints edge-aware"),
    api.Choice(name="upsample", choices=("transpose", "resize"), default="transpose",
               help="U-Net upsampling: resize-convolution, or transposed convolution (may leave a checkerboard)"),
    api.Float(name="chroma", default=1.0, minimum=0.01, maximum=4.0,
              help="scale of the U-Net's predicted ab, fitted after training (1 keeps it as trained)"),
)
"""The architecture. The defaults are those of the first user-guided U-Nets (model cards written
before a key existed load as they did); the networks trained now learn automatic colours with
resize-convolutions (`training.SCRATCH_CONFIG`). See `networks`."""

HINTS = api.ColorPoints(
    name="hints", title="Colour hints",
    help="colour points 'x,y,#rrggbb;...' (x, y in [0, 1] of the width and height): the colour "
         "wanted there, spread over the region of even lightness around it")
SATURATION = api.Float(
    name="saturation", title="Colour strength", default=1.0, minimum=0.0, maximum=2.0, step=0.05,
    help="0 gives the gray image, 1 the colours as predicted, 2 twice as strong. Technically the "
         "saturation, a factor on the chroma")
WORKING_SIZE = api.Int(
    name="working_size", title="Colour detail (working size)", default=256, minimum=64, maximum=1024,
    step=32, help="the size, in pixels of the longer side, at which colours are chosen: larger "
                  "follows small things closer, smaller is faster; the result keeps the image's "
                  "full detail either way")


def build(config: Mapping[str, Any]) -> nn.Module:
    """A fresh network (float32, CPU) of the architecture `config` names (see `networks.build`)."""
    from translator_plugins.colorize import networks

    return networks.build(config)


def translate(model: nn.Module, images: Tensor, params: Mapping[str, Any], ctx: api.RunContext) -> Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> colorized (B, 3, H, W) in [0, 1] with the input's lightness.

    Networks that follow hints see them too; for every network the hints then correct its colours
    edge-aware (`propagate.spread_corrections`, at most `propagate.SOLVE_SIZE` px).
    """
    import torch
    from translator_plugins.colorize import hints, lab, propagate

    if torch.jit.is_tracing():
        raise api.TranslatorError(
            f"{NAME} shrinks each image to its working size with an antialiasing filter sized by the "
            f"image's own factor, which one graph for every size cannot do; it runs in PyTorch only")
    ctx.check_cancelled()
    lightness = lab.lightness(images)  # (B, 1, H, W), full resolution
    batch, _, height, width = lightness.shape
    size = int(params["working_size"])
    shape = lab.working_shape(height, width, size, int(model.size_multiple))
    small = lab.resize(lightness, shape).clamp(0.0, 100.0)
    points = tuple(params["hints"])
    hint_ab, hint_mask = hints.hint_maps(points if model.follows_hints else (), batch, *shape, device=images.device)
    ab = model(small.to(ctx.dtype), hint_ab.to(ctx.dtype), hint_mask.to(ctx.dtype)).float()
    ctx.check_cancelled()
    full_ab = propagate.guided_upsample(ab, small, lightness)
    if points:
        solve = lab.working_shape(height, width, min(size, propagate.SOLVE_SIZE), 1)
        solve_l = lab.resize(small, solve)
        solve_ab = lab.resize(ab, solve)
        wanted_ab, wanted_mask = hints.hint_maps(points, batch, *solve, device=images.device)
        change = propagate.spread_corrections(solve_l, solve_ab, wanted_ab, wanted_mask) - solve_ab
        full_ab = full_ab + propagate.guided_upsample(change, solve_l, lightness)
        ctx.check_cancelled()
    return lab.colorize_rgb(lightness, full_ab, saturation=float(params["saturation"]))


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    """The colorize translator."""
    return [api.TranslatorSpec(
        name=NAME,
        title="Colorize",
        description="Black and white to colour (Zhang et al. 2016, 2017): predicts the colours of a "
                    "gray or colour image, guided by colour points you place. The image keeps its own "
                    "lightness and full detail.",
        task=api.TaskKind.IMAGE_WITH_HINTS,
        params=(HINTS, SATURATION, WORKING_SIZE),
        build=build,
        translate=translate,
        config=CONFIG,
        models_dir=MODELS_DIR,
        training=training.training_spec(),
    )]


translator_claim_checkpoint = api.claim_from("translator_plugins.colorize.checkpoints")
