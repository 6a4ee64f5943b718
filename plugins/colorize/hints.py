"""Sparse colour hints as the networks take them: an ab map and a mask (Zhang et al. 2017, 3.1).

`hint_maps` turns the user's colour points into small square patches at the working size;
`simulate_hints` draws the random hints the network is trained with (section 3.3 of the paper:
a random number of points, including none, each a small square patch holding the mean ab of the
ground truth there).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from translator import api

if TYPE_CHECKING:
    import torch
    from torch import Tensor


def patch_radius(height: int, width: int) -> int:
    """Half the side of a user hint's square patch at a working size: 2 (5x5) at 256 px."""
    return max(1, round(max(height, width) / 128))


def point_pixel(point: api.ColorPoint, height: int, width: int) -> tuple[int, int]:
    """(row, column) of the pixel a point with x, y in [0, 1] falls in."""
    return min(int(point.y * height), height - 1), min(int(point.x * width), width - 1)


def hint_maps(points: Sequence[api.ColorPoint], batch: int, height: int, width: int, *,
              device: torch.device | None = None) -> tuple[Tensor, Tensor]:
    """User colour points -> (ab (B, 2, H, W) in Lab units, mask (B, 1, H, W) in {0, 1}).

    Each point paints a square of side 2 * `patch_radius` + 1 with the ab of its sRGB colour;
    a later point wins where patches overlap. Without points both maps are zero.
    """
    import torch

    from translator_plugins.colorize import lab

    ab = torch.zeros(batch, 2, height, width, device=device)
    mask = torch.zeros(batch, 1, height, width, device=device)
    if not points:
        return ab, mask
    colours = torch.tensor([p.rgb for p in points], dtype=torch.float32, device=device) / 255.0
    chroma = lab.rgb_to_lab(colours.view(-1, 3, 1, 1))[:, 1:, 0, 0]  # (N, 2)
    radius = patch_radius(height, width)
    for point, value in zip(points, chroma):
        row, col = point_pixel(point, height, width)
        rows = slice(max(row - radius, 0), row + radius + 1)
        cols = slice(max(col - radius, 0), col + radius + 1)
        ab[:, :, rows, cols] = value.view(1, 2, 1, 1)
        mask[:, :, rows, cols] = 1.0
    return ab, mask


def simulate_hints(ab: Tensor, generator: torch.Generator, *, p_none: float = 0.5, p_geometric: float = 0.125,
                   max_points: int = 32, count: int | None = None) -> tuple[Tensor, Tensor]:
    """Random training hints taken from the true chroma ab (B, 2, H, W).

    Per image: no hint with probability `p_none`, else 1 + Geometric(`p_geometric`) points
    (at most `max_points`); `count` fixes the number instead (the model card's "10 hints").
    Each point is a square patch (side 1 to 9 px at 256 px, scaled with the image) at a
    uniformly drawn place, holding the patch's mean true ab. `generator` is a CPU generator, so
    the draws are reproducible and can be checkpointed. Returns (hint ab, mask) like `hint_maps`.
    """
    import torch

    batch, _, height, width = ab.shape
    hint_ab = torch.zeros_like(ab)
    mask = torch.zeros(batch, 1, height, width, device=ab.device, dtype=ab.dtype)
    largest = max(1, round(9 * max(height, width) / 256))
    for i in range(batch):
        n = count if count is not None else _draw_count(generator, p_none, p_geometric, max_points)
        for _ in range(n):
            side = int(torch.randint(1, largest + 1, (1,), generator=generator))
            top = int(torch.randint(0, max(height - side, 0) + 1, (1,), generator=generator))
            left = int(torch.randint(0, max(width - side, 0) + 1, (1,), generator=generator))
            rows, cols = slice(top, top + side), slice(left, left + side)
            hint_ab[i, :, rows, cols] = ab[i, :, rows, cols].mean(dim=(1, 2), keepdim=True)
            mask[i, :, rows, cols] = 1.0
    return hint_ab, mask


def _draw_count(generator: torch.Generator, p_none: float, p_geometric: float, max_points: int) -> int:
    import torch

    u = torch.rand(2, generator=generator, dtype=torch.float64).tolist()
    if u[0] < p_none:
        return 0
    # inverse CDF of the geometric distribution on {0, 1, ...}
    extra = int(math.floor(math.log(max(1.0 - u[1], 1e-12)) / math.log(1.0 - p_geometric)))
    return min(1 + extra, max_points)
