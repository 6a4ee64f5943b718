"""Colorize: Lab handling, hint maps, simulated hints, colourfulness and the grayscale test."""
from __future__ import annotations

import pytest
import torch

from translator import api
from translator_plugins.colorize import hints, lab, metrics

torch.set_num_threads(1)


def smooth_rgb(batch: int = 2, height: int = 24, width: int = 20, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    low = torch.rand(batch, 3, 3, 3, generator=generator)
    return torch.nn.functional.interpolate(low, size=(height, width), mode="bilinear", align_corners=False)


def test_lab_round_trip_returns_the_colours():
    rgb = smooth_rgb()
    converted = lab.rgb_to_lab(rgb)
    assert converted.shape == rgb.shape
    assert 0.0 <= float(converted[:, 0].min()) and float(converted[:, 0].max()) <= 100.0
    back = lab.lab_to_rgb(converted[:, :1], converted[:, 1:])
    assert (back - rgb).abs().max().item() < 1e-4


def test_gray_has_no_chroma_and_keeps_its_lightness():
    gray = torch.linspace(0, 1, 30).view(1, 1, 5, 6).expand(1, 3, 5, 6)
    converted = lab.rgb_to_lab(gray)
    assert converted[:, 1:].abs().max().item() < 1e-2
    assert (lab.lab_to_rgb(converted[:, :1], torch.zeros(1, 2, 5, 6)) - gray).abs().max().item() < 1e-4


def test_colorize_keeps_the_input_lightness_exactly():
    rgb = smooth_rgb(height=33, width=17)
    lightness = lab.lightness(rgb)
    wild_ab = torch.randn(2, 2, 8, 8, generator=torch.Generator().manual_seed(1)) * 120  # far out of gamut
    out = lab.colorize_rgb(lightness, wild_ab, saturation=1.5)
    assert out.shape == rgb.shape
    assert 0.0 <= out.min().item() and out.max().item() <= 1.0
    assert (lab.lightness(out) - lightness).abs().max().item() < 0.05  # L units of 0..100


def test_fit_gamut_only_reduces_chroma_of_out_of_gamut_pixels():
    lightness = torch.tensor([[[[50.0, 50.0, 95.0]]]])
    ab = torch.tensor([[[[10.0, 100.0, 80.0]], [[-5.0, 100.0, -80.0]]]])
    fitted = lab.fit_gamut(lightness, ab)
    assert torch.equal(fitted[..., 0], ab[..., 0])  # in gamut: untouched
    for i in (1, 2):
        scale = fitted[0, :, 0, i] / ab[0, :, 0, i]
        assert 0.0 < scale[0].item() < 1.0 and scale[0].item() == pytest.approx(scale[1].item(), rel=1e-5)  # hue kept
        rgb = lab.lab_to_rgb(lightness[..., i:i + 1], fitted[..., i:i + 1], clip=False)
        assert rgb.min().item() > -1e-3 and rgb.max().item() < 1 + 1e-3
        # and the largest such chroma, within the bisection's precision
        wider = lab.lab_to_rgb(lightness[..., i:i + 1], fitted[..., i:i + 1] * 1.01, clip=False)
        assert wider.min().item() < -1e-4 or wider.max().item() > 1 + 1e-4


def test_saturation_zero_gives_the_gray_image():
    rgb = smooth_rgb()
    lightness = lab.lightness(rgb)
    out = lab.colorize_rgb(lightness, torch.full((2, 2, 4, 4), 30.0), saturation=0.0)
    assert (out - lab.lab_to_rgb(lightness, torch.zeros(2, 2, 24, 20))).abs().max().item() < 1e-6
    assert (out[:, 0] - out[:, 1]).abs().max().item() < 1e-3


@pytest.mark.parametrize(("height", "width", "size", "multiple", "expected"), [
    (480, 640, 256, 8, (192, 256)), (640, 480, 256, 16, (256, 192)), (1, 1, 256, 8, (256, 256)),
    (1000, 10, 256, 8, (256, 8)), (37, 23, 64, 16, (64, 32))])
def test_working_shape_keeps_the_aspect_ratio_on_the_grid(height, width, size, multiple, expected):
    assert lab.working_shape(height, width, size, multiple) == expected


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        lab.rgb_to_lab(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match=r"ab must be \(B, 2, H, W\)"):
        lab.colorize_rgb(torch.rand(1, 1, 4, 4), torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError):
        lab.working_shape(0, 5, 256, 8)


def test_hint_maps_paint_the_colour_of_each_point_at_its_place():
    red = api.ColorPoint(x=0.25, y=0.75, rgb=(255, 0, 0))
    blue = api.ColorPoint(x=1.0, y=0.0, rgb=(0, 0, 255))
    ab, mask = hints.hint_maps((red, blue), 2, 64, 128)
    assert ab.shape == (2, 2, 64, 128) and mask.shape == (2, 1, 64, 128)
    radius = hints.patch_radius(64, 128)
    assert radius == 1
    side = 2 * radius + 1
    assert mask[0, 0].sum().item() == side * side + (radius + 1) * (radius + 1)  # blue is clipped at the corner
    red_ab = lab.rgb_to_lab(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))[0, 1:, 0, 0]
    assert torch.allclose(ab[1, :, 48, 32], red_ab)
    assert mask[1, 0, 48, 32] == 1 and mask[1, 0, 48, 32 + side] == 0
    assert ab[0, 1, 0, 127].item() < -50  # blue: strongly negative b
    empty_ab, empty_mask = hints.hint_maps((), 1, 8, 8)
    assert not empty_ab.any() and not empty_mask.any()


def test_simulated_hints_hold_the_mean_true_colour_of_their_patch():
    ab = lab.rgb_to_lab(smooth_rgb(batch=3, height=64, width=48))[:, 1:]
    hint_ab, mask = hints.simulate_hints(ab, torch.Generator().manual_seed(3), count=10)
    assert mask.shape == (3, 1, 64, 48)
    assert all(mask[i].sum() > 0 for i in range(3))
    assert not hint_ab[mask.expand_as(hint_ab) == 0].any()
    # every hinted value is close to the true colour there (a patch mean of a smooth image)
    inside = mask.expand_as(ab) > 0
    assert (hint_ab[inside] - ab[inside]).abs().max().item() < 15
    again = hints.simulate_hints(ab, torch.Generator().manual_seed(3), count=10)
    assert torch.equal(again[0], hint_ab) and torch.equal(again[1], mask)


def test_simulated_hint_counts_include_none():
    ab = torch.zeros(64, 2, 16, 16)
    _, mask = hints.simulate_hints(ab, torch.Generator().manual_seed(0), p_none=0.5)
    hinted = (mask.flatten(1).sum(dim=1) > 0).float().mean().item()
    assert 0.25 < hinted < 0.75
    _, none = hints.simulate_hints(ab, torch.Generator().manual_seed(0), p_none=1.0)
    assert not none.any()


def test_colourfulness_and_the_grayscale_test():
    gray = torch.rand(1, 1, 16, 16).expand(1, 3, 16, 16)
    assert metrics.colourfulness(gray).item() == pytest.approx(0.0, abs=1e-3)
    colourful = smooth_rgb(batch=1, height=16, width=16)
    assert metrics.colourfulness(colourful).item() > 20
    assert metrics.reject_grayscale((gray[0] * 255).to(torch.uint8)) == "grayscale"
    assert metrics.reject_grayscale((colourful[0] * 255).to(torch.uint8)) is None
    with pytest.raises(ValueError):
        metrics.colourfulness(torch.rand(1, 1, 4, 4))


def test_psnr_and_ssim_per_image():
    truth = smooth_rgb()
    noisy = truth.clone()
    noisy[0] = (noisy[0] + 0.05).clamp(0, 1)
    psnr = metrics.psnr(noisy, truth)
    assert psnr.shape == (2,) and psnr[1].item() == 100.0 and 20 < psnr[0].item() < 30
    ssim = metrics.ssim(noisy, truth)
    assert ssim[1].item() == pytest.approx(1.0, abs=1e-5) and ssim[0].item() < 1.0
