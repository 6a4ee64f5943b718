"""translator.api.filters.guided_upsample: the fast guided filter enlarges along the guide's edges."""
from __future__ import annotations

import kornia
import pytest
import torch

from translator.api.filters import guided_upsample


def _step(height: int, width: int, column: int) -> torch.Tensor:
    """(1, 1, H, W): 0 left of `column`, 1 from it on."""
    image = torch.zeros(1, 1, height, width)
    image[..., column:] = 1.0
    return image


def test_an_edge_lands_on_the_full_size_guide_edge_where_bilinear_blurs_it():
    guide = _step(64, 64, 29)  # the edge sits between low-resolution pixels 7 and 8 (of 16)
    small = kornia.geometry.transform.resize(guide, (16, 16), interpolation="area")
    colour = torch.cat([0.2 + 0.6 * small, 0.9 - 0.5 * small], dim=1)  # two channels follow the edge
    sharp = guided_upsample(colour, small, guide, radius=2, eps=1e-4)
    blurred = kornia.geometry.transform.resize(colour, (64, 64), interpolation="bilinear")
    truth = torch.cat([0.2 + 0.6 * guide, 0.9 - 0.5 * guide], dim=1)
    assert sharp.shape == (1, 2, 64, 64) and sharp.dtype == torch.float32
    sharp_error, blurred_error = (sharp - truth).abs().mean(), (blurred - truth).abs().mean()
    assert sharp_error < 0.003 and blurred_error > 0.01  # measured 0.0003 against 0.0145
    # across the edge the guided result jumps within one full-size pixel
    assert (sharp[0, 0, 32, 28] - 0.2).abs() < 0.02 and (sharp[0, 0, 32, 29] - 0.8).abs() < 0.02


def test_same_size_is_the_source_and_bad_shapes_are_refused():
    source = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    guide = torch.rand(1, 1, 8, 8)
    assert torch.equal(guided_upsample(source, guide, guide, radius=2, eps=1e-3), source.float())
    with pytest.raises(ValueError, match="guide must be"):
        guided_upsample(source, torch.rand(1, 3, 8, 8), guide, radius=2, eps=1e-3)
    with pytest.raises(ValueError, match="differ in size"):
        guided_upsample(source, torch.rand(1, 1, 4, 4), torch.rand(1, 1, 16, 16), radius=2, eps=1e-3)
