"""The pix2pix translator and its hook implementations.

Nothing here imports torch at import time (the app starts fast): the networks and the checkpoint
converter are imported inside the callables.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator_plugins.pix2pix import training

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

NAME = "pix2pix"
MODELS_DIR = Path(__file__).resolve().parent / "models"
MIN_LEVELS = 5
"""The U-Net has at least 5 levels (its outer four have fixed widths ngf..8ngf, then the innermost)."""
MAX_LEVELS = 10

CONFIG: tuple[api.Param, ...] = (
    api.Int(name="ngf", default=64, minimum=1, maximum=1024,
            help="generator width, channels of the first encoder layer (64 in the paper)"),
    api.Int(name="num_downs", default=8, minimum=MIN_LEVELS, maximum=MAX_LEVELS,
            help="U-Net levels, each halving the size: 7 for 128 px training, 8 for 256 px; inputs are "
                 "padded to multiples of 2**num_downs"),
    api.Choice(name="norm", choices=("batch", "instance", "none"), default="batch",
               help="normalisation layers (batch in the paper)"),
    api.Bool(name="use_dropout", default=True, help="dropout 0.5 in the inner decoder levels (the paper's noise z)"),
    api.Int(name="size", default=256, minimum=0, maximum=65_536,
            help="side of the images it was trained on; bigger inputs can run at that size (work_at); 0: unknown"),
    api.Choice(name="upsample", choices=("transposed", "resize"), default="transposed",
               help="decoder upsampling: transposed (the paper's) or resize (bilinear + conv, no checkerboard)"),
)
"""The architecture, defaults the paper's 256 px generator (imported reference files): U-Net,
8 levels, ngf 64, batch norm. See `networks`."""

SIZE_MULTIPLE = 32
"""The grid of every pix2pix model: 2**5, the multiple of the smallest U-Net (5 levels). Whole
images are padded to it and tiles aligned on it; a model needs multiples of its own 2**num_downs
(256 for the published 8-level ones, see `size_requirements`), which the engine pads each input to
(and crops back). A grid smaller than that keeps training crops of 64 or 128 px legal for the
shallower U-Nets trained at those sizes."""

TILE_OVERLAP = 128
"""Context per tile side. With batch norm in eval mode (running statistics), or instance norm
frozen by `prepare_tiling`, every tile is normalised alike, so only the receptive field matters: an 8-level U-Net nominally sees the whole
tile, but its output depends mostly on the nearest ~100 pixels, which 128 covers (tiles are then
at least 3 * 128 + 32 px wide)."""

INVERT = api.Bool(
    name="invert", title="Light lines on dark", default=False,
    help="invert the input first: for drawings with light lines on a dark background (chalk, "
         "scans of negatives); the model expects dark lines on white")


WORK_AT = api.Choice(
    name="work_at", title="Size to work at", choices=("model", "image"), default="model",
    labels=("The model's size (shapes as it learnt them)", "The image's own size (more detail)"),
    help="the model's size: a drawing bigger than the pictures the model learnt from is shrunk to "
         "their size, translated and enlarged back, so the model sees things as big as it learnt "
         "them (the reference tests this way); the image's own size: translated as it is, with "
         "more detail but shapes the model may not recognise")


def build(config: Mapping[str, Any]) -> nn.Module:
    """A fresh `networks.Pix2Pix` (float32, CPU) for `config` (see `CONFIG`)."""
    from translator_plugins.pix2pix import networks

    return networks.build(config)


def size_requirements(model: nn.Module) -> api.SizeRequirements:
    """A U-Net of n levels takes sides that are multiples of 2**n."""
    return api.SizeRequirements(multiple=2 ** model.config["num_downs"])


def work_size(model: nn.Module, params: Mapping[str, Any]) -> int:
    """With `work_at` "model", the model's training size (the engine shrinks bigger whole images
    to it and enlarges the result back); else 0, the image's own size."""
    return int(model.config["size"]) if params.get("work_at", "model") == "model" else 0


def translate(model: nn.Module, images: Tensor, params: Mapping[str, Any], ctx: api.RunContext) -> Tensor:
    """(B, 3, H, W) in [0, 1], sides meeting `size_requirements(model)` -> translated (B, 3, H, W)
    in [0, 1]. Runs the model as the engine gives it (eval mode: batch-norm running statistics,
    no dropout).
    """
    ctx.check_cancelled()
    images = images.to(ctx.dtype)
    if params.get("invert", False):
        images = 1 - images
    return model(images)


PHOTO_WARNING = ("this looks like a photo, not a line drawing: the model turns drawings (dark lines on "
                 "white) into photos, so expect a poor result")


def check_input(image: Tensor, params: Mapping[str, Any]) -> str | None:
    """`PHOTO_WARNING` when the input (1, 3, H, W) in [0, 1] is clearly a photo rather than a
    drawing (`sketches.looks_like_photo`, after `invert`)."""
    from translator_plugins.pix2pix.sketches import looks_like_photo

    if params.get("invert", False):
        image = 1 - image
    return PHOTO_WARNING if looks_like_photo(image) else None


GUIDE_RADIUS = 2
"""Box radius, in model-size pixels, of the guided filter that enlarges the output."""
GUIDE_EPS = 4e-4
"""Its regularisation, in gray levels of [0, 1] squared: input edges above ~0.02 are followed."""


def enlarge(out: Tensor, shrunk: Tensor, images: Tensor) -> Tensor:
    """The model's output `out` for `shrunk` (both (B, 3, h, w)) at the size of the input `images`
    (B, 3, H, W) (the engine's `work_size` step: a whole image bigger than the training size ran
    shrunk), by the fast guided filter on the input's gray levels (`api.filters`): the
    output's edges land on the drawing's full-size lines, where a plain bilinear enlargement blurs
    them."""
    from translator.api.filters import guided_upsample

    gray = images.float().mean(dim=1, keepdim=True)
    small = shrunk.float().mean(dim=1, keepdim=True)
    return guided_upsample(out, small, gray, radius=GUIDE_RADIUS, eps=GUIDE_EPS).to(out.dtype)


def prepare_tiling(model: nn.Module, preview: Tensor, params: Mapping[str, Any],
                   ctx: api.RunContext) -> AbstractContextManager[None]:
    """For instance-norm U-Nets (imported ones may have them), every instance norm is frozen to
    the statistics it sees on `preview` ((1, 3, h, w) in [0, 1], the whole image scaled down), so
    that all tiles are normalised alike; batch norm in eval mode needs nothing.
    """
    from translator.api.layers import frozen_instance_norm

    images = preview.to(ctx.dtype)
    if params.get("invert", False):
        images = 1 - images
    return frozen_instance_norm(model.G, lambda: model(images))


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    """The pix2pix translator."""
    return [api.TranslatorSpec(
        name=NAME,
        title="pix2pix",
        description="Paired image-to-image translation (Isola et al. 2017): a line drawing in, a "
                    "photo out, or any A to B mapping learnt from aligned pairs. Any image size.",
        task=api.TaskKind.IMAGE_TO_IMAGE,
        params=(WORK_AT, INVERT),
        build=build,
        translate=translate,
        check_input=check_input,
        takes_drawing=True,
        config=CONFIG,
        models_dir=MODELS_DIR,
        size_multiple=SIZE_MULTIPLE,
        size_requirements=size_requirements,
        work_size=work_size,
        enlarge=enlarge,
        tileable=True,
        tile_overlap=TILE_OVERLAP,
        prepare_tiling=prepare_tiling,
        training=training.training_spec(),
    )]


translator_claim_checkpoint = api.claim_from("translator_plugins.pix2pix.checkpoints")
