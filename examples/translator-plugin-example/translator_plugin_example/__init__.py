"""An example Translator plugin: sepia toning with a strength slider.

It is deliberately small but complete: one translator with a parameter, a network (here with no
trainable weights, so it needs no model file), and a batch function. It imports only
`translator.api`, the public plugin API. Copy this package to start your own plugin.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from translator import api

# Rows map linear RGB to sepia RGB (the classic Microsoft sepia matrix).
SEPIA = (
    (0.393, 0.769, 0.189),
    (0.349, 0.686, 0.168),
    (0.272, 0.534, 0.131),
)


def build(config: Mapping[str, Any]) -> Any:
    """A fresh network for `config` (float32, CPU). Imports torch lazily so the app starts fast."""
    import torch
    from torch import nn

    class SepiaTone(nn.Module):
        """(B, 3, H, W) in [0, 1] -> sepia-toned (B, 3, H, W) in [0, 1]."""

        def __init__(self, matrix: tuple[tuple[float, ...], ...]) -> None:
            super().__init__()
            self.register_buffer("matrix", torch.tensor(matrix, dtype=torch.float32), persistent=False)

        def forward(self, images: torch.Tensor, strength: float) -> torch.Tensor:
            toned = torch.einsum("oc,bchw->bohw", self.matrix.to(images.dtype), images)
            return torch.lerp(images, toned, strength).clamp(0.0, 1.0)

    return SepiaTone(config.get("matrix", SEPIA))


def translate(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    """Run a batch: images (B, 3, H, W) in [0, 1] on ctx.device; params are validated values."""
    ctx.check_cancelled()
    return model(images, params["strength"])


@api.hookimpl
def translator_translators() -> list[api.TranslatorSpec]:
    return [
        api.TranslatorSpec(
            name="sepia",
            title="Sepia tone",
            description="Old-photo sepia toning (example plugin).",
            task=api.TaskKind.IMAGE_TO_IMAGE,
            params=(
                api.Float(name="strength", title="Strength", default=1.0, minimum=0.0, maximum=1.0,
                          help="0 keeps the image, 1 is full sepia"),
            ),
            build=build,
            translate=translate,
            tileable=True,  # each output pixel depends only on the same input pixel
            tile_overlap=0,
        )
    ]
