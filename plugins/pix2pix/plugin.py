"""The pix2pix translator and its hook implementations.

Nothing here imports torch at import time (the app starts fast): the networks and the checkpoint
converter are imported inside the callables.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

NAME = "pix2pix"
MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_CONFIG: Mapping[str, Any] = {"ngf": 64, "num_downs": 8, "norm": "batch", "use_dropout": True,
                                     "size": 256, "upsample": "transposed"}
"""The paper's 256 px generator (`networks.Pix2PixConfig`): U-Net, 8 levels, ngf 64, batch norm."""

SIZE_MULTIPLE = 32
"""What the engine pads inputs to: 2**5, the multiple of the smallest U-Net (5 levels). A model
needs multiples of its own 2**num_downs (256 for the published 8-level ones), so `translate` pads
further (and crops back); a smaller engine multiple keeps training crops of 64 or 128 px legal for
the shallower U-Nets trained at those sizes."""

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
    name="work_at", title="Work at", choices=("model", "image"), default="model",
    help="model: shrink an image bigger than the model's training size to that size, translate and "
         "enlarge the result, so that the model sees things as big as it learnt them (the "
         "reference tests this way); image: translate at the image's own size")


def build(config: Mapping[str, Any]) -> nn.Module:
    """A fresh `networks.Pix2Pix` (float32, CPU) for `config` (see `networks.Pix2PixConfig`)."""
    from translator_plugins.pix2pix import networks

    return networks.build(config)


def translate(model: nn.Module, images: Tensor, params: Mapping[str, Any], ctx: api.RunContext) -> Tensor:
    """(B, 3, H, W) in [0, 1] -> translated (B, 3, H, W) in [0, 1].

    With `work_at` "model", an image whose longer side exceeds the model's training size is
    shrunk to it first and the result enlarged back (not when tiled: see `prepare_tiling`). Sides that are not multiples of the model's
    2**num_downs are padded here and cropped back. Runs the model as the engine gives it (eval
    mode: batch-norm running statistics, no dropout).
    """

    import torch

    ctx.check_cancelled()
    images = images.to(ctx.dtype)
    if params.get("invert", False):
        images = 1 - images
    height, width = images.shape[-2:]
    size = model.config.size
    at_model_size = params.get("work_at", "model") == "model" and not getattr(model, "tiled", False)
    if at_model_size and size > 0 and torch.jit.is_tracing():
        raise api.TranslatorError(
            f"{NAME}: work_at=model shrinks each image bigger than the model's {size} px by a factor of "
            f"its own, which one graph for every size cannot do; export (or run on ONNX Runtime) with "
            f"work_at=image")
    if at_model_size and 0 < size < max(height, width):
        scale = size / max(height, width)
        small = (max(1, round(height * scale)), max(1, round(width * scale)))
        out = _run_padded(model, _resize(images, small))
        return _resize(out, (height, width)).clamp(0, 1)
    return _run_padded(model, images)


PHOTO_WARNING = ("this looks like a photo, not a line drawing: the model turns drawings (dark lines on "
                 "white) into photos, so expect a poor result")


def check_input(image: Tensor, params: Mapping[str, Any]) -> str | None:
    """`PHOTO_WARNING` when the input (1, 3, H, W) in [0, 1] is clearly a photo rather than a
    drawing (`sketches.looks_like_photo`, after `invert`)."""
    from translator_plugins.pix2pix.sketches import looks_like_photo

    if params.get("invert", False):
        image = 1 - image
    return PHOTO_WARNING if looks_like_photo(image) else None


def _run_padded(model: nn.Module, images: Tensor) -> Tensor:
    """The model on (B, 3, H, W) padded bottom and right to its multiple (reflect, or replicate
    where the image is too small to reflect), cropped back.

    The padding is index arithmetic on the sizes (no Python branch on them), so that an ONNX export
    traces one graph that pads any height and width as PyTorch does."""
    import torch

    height, width = images.shape[-2:]
    multiple = model.config.size_multiple
    pad_h, pad_w = (multiple - height % multiple) % multiple, (multiple - width % multiple) % multiple
    if not torch.jit.is_tracing() and not pad_h and not pad_w:
        return model(images)
    reflect = torch.as_tensor((pad_h < height) & (pad_w < width), device=images.device)
    rows = _pad_index(height, pad_h, reflect, images.device)
    cols = _pad_index(width, pad_w, reflect, images.device)
    padded = images.index_select(-2, rows).index_select(-1, cols)
    return model(padded)[..., :height, :width]


def _pad_index(length: Any, pad: Any, reflect: Tensor, device: Any) -> Tensor:
    """Source indices of a side of `length` padded at the end by `pad`: the side itself, then its
    reflection (without repeating the edge) where `reflect`, else copies of the last index."""
    import torch

    index = torch.arange(length + pad, device=device)
    last = torch.as_tensor(length, device=device) - 1
    beyond = torch.where(reflect, 2 * last - index, last)
    return torch.where(index <= last, index, beyond)


def _resize(images: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize of (B, 3, H, W) to `size`, antialiased when shrinking."""
    import kornia

    shrink = size[0] < images.shape[-2] or size[1] < images.shape[-1]
    return kornia.geometry.transform.resize(images, size, interpolation="bilinear", antialias=shrink)


def prepare_tiling(model: nn.Module, preview: Tensor, params: Mapping[str, Any],
                   ctx: api.RunContext) -> AbstractContextManager[None]:
    """Tiles run at their own size whatever `work_at` says (shrinking each tile on its own would
    make them disagree). For instance-norm U-Nets (imported ones may have them), every instance
    norm is frozen to the statistics it sees on `preview` ((1, 3, h, w) in [0, 1], the whole image
    scaled down), so that all tiles are normalised alike; batch norm in eval mode needs nothing.
    """
    from translator.api.layers import frozen_instance_norm

    images = preview.to(ctx.dtype)
    if params.get("invert", False):
        images = 1 - images
    return _tiling(model, frozen_instance_norm(model.G, lambda: _run_padded(model, images)))


@contextmanager
def _tiling(model: nn.Module, frozen: AbstractContextManager[None]) -> Iterator[None]:
    model.tiled = True
    try:
        with frozen:
            yield
    finally:
        model.tiled = False


def _training_spec() -> api.TrainingSpec:
    """`training.training_spec()` (that module imports torch only when training starts)."""
    from translator_plugins.pix2pix import training

    return training.training_spec()


def spec() -> api.TranslatorSpec:
    """The pix2pix translator."""
    return api.TranslatorSpec(
        name=NAME,
        title="pix2pix",
        description="Paired image-to-image translation (Isola et al. 2017): a line drawing in, a "
                    "photo out, or any A to B mapping learnt from aligned pairs. Any image size.",
        task=api.TaskKind.IMAGE_TO_IMAGE,
        params=(WORK_AT, INVERT),
        build=build,
        translate=translate,
        check_input=check_input,
        default_config=DEFAULT_CONFIG,
        models_dir=MODELS_DIR,
        size_multiple=SIZE_MULTIPLE,
        tileable=True,
        tile_overlap=TILE_OVERLAP,
        prepare_tiling=prepare_tiling,
        training=_training_spec(),
    )


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    return [spec()]


@api.hookimpl
def translator_claim_checkpoint(checkpoint: api.CheckpointFile, plugin: str | None,
                                context: api.ImportContext) -> api.CheckpointClaim | None:
    """Reference pix2pix U-Net generator files (see `checkpoints.claim`)."""
    if plugin not in (None, NAME):
        return None
    from translator_plugins.pix2pix import checkpoints

    return checkpoints.claim(checkpoint, plugin, context)
