"""Edge-aware hint spreading: one hint colours its own region and not the other, for every network;
guided upsampling keeps edges; bad input is a clear error."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from translator import api
from translator.image import Image
from translator_plugins import colorize
from translator_plugins.colorize import hints, lab, plugin, propagate

torch.set_num_threads(1)
RED = (220, 30, 30)


def two_regions(width: int = 96, height: int = 64, seed: int = 0) -> Image:
    """Gray image: a dark left half (L about 35) and a light right half (L about 70), mild noise."""
    rng = np.random.default_rng(seed)
    gray = np.where(np.arange(width)[None, :] < width // 2, 0.28, 0.68) + rng.normal(0, 0.01, (height, width))
    rgb = np.repeat(gray.clip(0, 1)[..., None], 3, axis=2).astype(np.float32)
    return Image(rgb=rgb, grayscale=True)


def chroma(image: Image) -> torch.Tensor:
    """(2, H, W) ab of an image."""
    return lab.rgb_to_lab(torch.from_numpy(image.rgb).permute(2, 0, 1)[None])[0, 1:]


@pytest.fixture
def spec(plugin_registry):
    return plugin_registry(colorize).translator("colorize")


@pytest.mark.parametrize("config", [
    {"architecture": "unet", "width": 4, "depth": 2, "middle": 1, "hints": False, "upsample": "resize"},
    {"architecture": "eccv16"},  # its network ignores hints
    {"architecture": "siggraph17"},
], ids=["unet", "eccv16", "siggraph17"])
def test_one_hint_colours_its_own_region_and_not_the_other(spec, run_translator, config):
    torch.manual_seed(0)
    model = plugin.build(config).eval()
    image = two_regions()
    point = api.ColorPoint(x=0.2, y=0.3, rgb=RED)
    plain = chroma(run_translator(spec, image, model=model, working_size=64))
    hinted = chroma(run_translator(spec, image, model=model, working_size=64, hints=(point,)))
    change = hinted - plain  # (2, H, W) in ab units
    want = lab.rgb_to_lab(torch.tensor(RED, dtype=torch.float32).view(1, 3, 1, 1) / 255)[0, 1:, 0, 0]
    left, right = change[:, :, :44], change[:, :, 52:]  # the halves, two pixels off the edge
    at_point = hinted[:, 19, 19]
    assert float(at_point[0]) > 0.6 * float(want[0])  # red at the point
    # the whole dark half turns red, even its far corners ...
    assert float(left[0].min()) > 0.5 * float(change[0, 19, 19]) > 0
    # ... and the light half keeps the network's own colours
    assert float(right.abs().max()) < 0.05 * float(change[0, 19, 19])


def test_hints_give_no_square_and_no_halo(spec, run_translator):
    """On an even gray image a hint's colour falls off smoothly: no step between neighbours."""
    model = plugin.build({"architecture": "eccv16"}).eval()
    flat = Image(rgb=np.full((64, 64, 3), 0.5, np.float32), grayscale=True)
    torch.manual_seed(0)
    point = api.ColorPoint(x=0.5, y=0.5, rgb=RED)
    change = (chroma(run_translator(spec, flat, model=model, working_size=64, hints=(point,)))
              - chroma(run_translator(spec, flat, model=model, working_size=64)))
    steps = max(float(change[0].diff(dim=0).abs().max()), float(change[0].diff(dim=1).abs().max()))
    assert steps < 0.1 * float(change[0, 32, 32])
    assert float(change[0].min()) > 0  # no ring of the opposite colour around the point


def test_without_hints_the_automatic_colours_pass_unchanged():
    lightness = torch.rand(2, 1, 16, 20) * 100
    automatic = torch.randn(2, 2, 16, 20)
    hint_ab, mask = hints.hint_maps((), 2, 16, 20)
    assert propagate.spread_corrections(lightness, automatic, hint_ab, mask) is automatic


def test_hint_pixels_get_their_colour_in_a_batch():
    lightness = torch.full((2, 1, 24, 24), 50.0)
    automatic = torch.zeros(2, 2, 24, 24)
    points = (api.ColorPoint(x=0.5, y=0.5, rgb=(0, 0, 255)),)
    hint_ab, mask = hints.hint_maps(points, 2, 24, 24)
    spread = propagate.spread_corrections(lightness, automatic, hint_ab, mask)
    assert spread.shape == (2, 2, 24, 24)
    assert torch.allclose(spread[:, :, 12, 12], hint_ab[:, :, 12, 12], atol=1.0)
    assert torch.allclose(spread[0], spread[1])


def test_guided_upsampling_puts_colour_edges_on_lightness_edges():
    full = torch.zeros(1, 1, 64, 64)
    full[..., 33:] = 80.0  # an edge between columns 32 and 33 at full size
    small = lab.resize(full, (16, 16))
    source = (small > 40).float() * 50.0  # chroma that changes with the lightness
    sharp = propagate.guided_upsample(source, small, full)
    blurred = lab.resize(source, (64, 64))
    assert sharp.shape == (1, 1, 64, 64)
    assert float(sharp[0, 0, 10, 32]) < 10 and float(sharp[0, 0, 10, 33]) > 45  # the step is on the edge
    assert float(blurred[0, 0, 10, 32]) > 25 and float(blurred[0, 0, 10, 33]) < 45  # plain resizing bleeds


@pytest.mark.parametrize(("args", "message"), [
    ((torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8), torch.zeros(1, 1, 8, 8)), "L must"),
    ((torch.zeros(1, 1, 8, 8), torch.zeros(1, 2, 8, 9), torch.zeros(1, 2, 8, 8), torch.zeros(1, 1, 8, 8)), "differ"),
])
def test_bad_shapes_are_clear_errors(args, message):
    with pytest.raises(ValueError, match=message):
        propagate.spread_corrections(*args)
