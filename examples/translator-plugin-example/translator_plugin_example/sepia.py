"""A weight-free filter: sepia toning with a strength slider and a paper colour.

`weights=False` tells Translator that the network has nothing to learn or load: the model store
keeps no models for it and the app shows no model picker. `build` still returns an `nn.Module`
(here holding a fixed colour matrix as a buffer) so that the engine can move it to a device and
tile big images.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from translator import api

SEPIA = (
    (0.393, 0.769, 0.189),
    (0.349, 0.686, 0.168),
    (0.272, 0.534, 0.131),
)
"""Rows map RGB to sepia RGB (the classic Microsoft sepia matrix)."""


def build(config: Mapping[str, Any]) -> Any:
    """The filter as a module (float32, CPU). Imports torch lazily so the app starts fast."""
    import torch
    from torch import nn

    class SepiaTone(nn.Module):
        """(B, 3, H, W) in [0, 1] -> sepia-toned (B, 3, H, W) in [0, 1]."""

        def __init__(self, matrix: tuple[tuple[float, ...], ...]) -> None:
            super().__init__()
            self.register_buffer("matrix", torch.tensor(matrix, dtype=torch.float32), persistent=False)

        def forward(self, images: torch.Tensor, strength: float, paper: torch.Tensor) -> torch.Tensor:
            toned = torch.einsum("oc,bchw->bohw", self.matrix.to(images.dtype), images) * paper
            return torch.lerp(images, toned, strength).clamp(0.0, 1.0)

    return SepiaTone(config.get("matrix", SEPIA))


def translate(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    """Run a batch: images (B, 3, H, W) in [0, 1] on ctx.device; params are validated values."""
    import torch

    ctx.check_cancelled()
    paper = torch.tensor(api.Color.rgb(params["paper"]), dtype=images.dtype, device=images.device) / 255
    return model(images, params["strength"], paper.view(1, 3, 1, 1))


SPEC = api.TranslatorSpec(
    name="sepia",
    title="Sepia tone",
    description="Old-photo sepia toning (example plugin).",
    task=api.TaskKind.IMAGE_TO_IMAGE,
    params=(
        api.Float(name="strength", title="Strength", default=1.0, minimum=0.0, maximum=1.0,
                  help="0 keeps the image, 1 is full sepia"),
        api.Color(name="paper", title="Paper", default="#ffffff",
                  help="colour of the paper the toned image is multiplied by (white: none)"),
    ),
    build=build,
    translate=translate,
    default_config={},
    weights=False,  # a filter: no model file, no model picker
    tileable=True,  # each output pixel depends only on the same input pixel
    tile_overlap=0,
)
