"""Edge-aware image filters the plugins share (imports torch and kornia: import it where used).

`guided_upsample` enlarges a low-resolution result along the edges of a full-resolution guide:
colorize brings its chroma to full size along the lightness, pix2pix its output along the input
drawing. Tensors are (B, C, H, W) floats.
"""
from __future__ import annotations

import kornia
from torch import Tensor


def guided_upsample(source: Tensor, guide: Tensor, full_guide: Tensor, *, radius: int, eps: float) -> Tensor:
    """Bring `source` (B, C, h, w) to the size of `full_guide` (B, 1, H, W) along its edges.

    The fast guided filter (He and Sun 2015): per low-resolution window of side 2 * radius + 1,
    source ~ a * guide + b with `guide` (B, 1, h, w) the guide at the source's size; a and b are
    averaged, resized bilinearly and applied to the full guide, so edges land on the full guide's
    edges instead of a blurred band. `eps` (in the guide's units squared) sets which guide edges
    are followed: those of contrast above about sqrt(eps). Returns (B, C, H, W) float32; `source`
    itself (as float32) when the sizes already agree. Raises ValueError for other shapes.
    """
    for tensor, name in ((guide, "guide"), (full_guide, "full guide")):
        if tensor.ndim != 4 or tensor.shape[1] != 1:
            raise ValueError(f"{name} must be (B, 1, H, W), got {tuple(tensor.shape)}")
    if source.ndim != 4 or source.shape[-2:] != guide.shape[-2:]:
        raise ValueError(f"source {tuple(source.shape)} and guide {tuple(guide.shape)} differ in size")
    if source.shape[-2:] == full_guide.shape[-2:]:
        return source.float()
    side = min(2 * radius + 1, *source.shape[-2:])
    side -= 1 - side % 2

    def box(x: Tensor) -> Tensor:
        return kornia.filters.box_blur(x, (side, side), border_type="replicate")

    source, guide = source.float(), guide.float()
    mean_guide, mean_source = box(guide), box(source)
    covariance = box(guide * source) - mean_guide * mean_source
    variance = box(guide * guide) - mean_guide**2
    slope = covariance / (variance + eps)
    offset = mean_source - slope * mean_guide
    shape = tuple(full_guide.shape[-2:])

    def resize(x: Tensor) -> Tensor:
        return kornia.geometry.transform.resize(x, shape, interpolation="bilinear", antialias=True)

    return resize(box(slope)) * full_guide.float() + resize(box(offset))


__all__ = ["guided_upsample"]
