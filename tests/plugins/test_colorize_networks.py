"""Colorize networks: shapes, configs, the spread-hint prior of our U-Net, the critic."""
from __future__ import annotations

import json

import pytest
import torch

from translator import api
from translator_plugins.colorize import networks

torch.set_num_threads(1)


@pytest.mark.parametrize("config", [{"architecture": "unet", "width": 4, "depth": 2, "middle": 1},
                                    {"architecture": "unet", "width": 4, "depth": 4, "middle": 0},
                                    {"architecture": "unet", "width": 4, "depth": 3, "middle": 1, "hints": False,
                                     "upsample": "resize"}])
@pytest.mark.parametrize(("height", "width"), [(16, 16), (32, 48), (64, 16)])
def test_unet_maps_lightness_and_hints_to_ab(config, height, width):
    model = networks.build(config).eval()
    if height % model.size_multiple or width % model.size_multiple:
        pytest.skip("not on the network's grid")
    lightness = torch.rand(2, 1, height, width) * 100
    with torch.no_grad():
        ab = model(lightness, torch.zeros(2, 2, height, width), torch.zeros(2, 1, height, width))
    assert ab.shape == (2, 2, height, width)
    assert ab.abs().max().item() <= networks.AB_NORM


@pytest.mark.parametrize("architecture", ["eccv16", "siggraph17"])
def test_official_networks_keep_the_working_size(architecture):
    model = networks.build({"architecture": architecture}).eval()
    assert model.size_multiple == 8
    with torch.no_grad():
        ab = model(torch.rand(1, 1, 24, 40) * 100, torch.zeros(1, 2, 24, 40), torch.zeros(1, 1, 24, 40))
    assert ab.shape == (1, 2, 24, 40)


@pytest.mark.parametrize(("config", "message"), [
    ({"architecture": "resnet"}, "not one of unet, eccv16, siggraph17"),
    ({"width": 0}, "'width': 0 is outside"), ({"depth": 2.5}, "'depth': 2.5 is not an integer"),
    ({"colour": 1}, r"unknown parameter\(s\) colour"), ({"hints": "yes"}, "'hints': 'yes' is not a boolean"),
    ({"chroma": 0}, "'chroma': 0 is outside"), ({"upsample": "pixelshuffle"}, "not one of transpose, resize")])
def test_bad_configs_are_parameter_errors(config, message):
    with pytest.raises(api.ParameterError, match=message):
        networks.build(config)


def colorize_spec():
    from translator.plugins import load_registry

    return load_registry(third_party=False).translator("colorize")


def test_config_round_trip_and_official_architectures_need_no_other_keys():
    spec = colorize_spec()
    config = spec.resolve_config({"width": 8, "depth": 2, "middle": 0})
    assert spec.resolve_config(json.loads(json.dumps(config))) == config
    assert spec.resolve_config({"architecture": "eccv16"})["architecture"] == "eccv16"
    with torch.device("meta"):
        assert isinstance(networks.build({"architecture": "eccv16"}), networks.ECCV16)


def test_an_automatic_unet_ignores_hints_and_upsamples_without_transposed_convolutions():
    model = networks.build({"width": 4, "depth": 2, "middle": 1, "hints": False, "upsample": "resize"}).eval()
    assert not model.follows_hints and model.in_channels == 1
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.modules())
    lightness = torch.rand(1, 1, 16, 16) * 100
    with torch.no_grad():
        assert torch.equal(model(lightness), model(lightness, torch.ones(1, 2, 16, 16), torch.ones(1, 1, 16, 16)))
    muted = networks.build({"width": 4, "depth": 2, "middle": 1, "hints": False, "upsample": "resize", "chroma": 0.5})
    muted.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.allclose(muted.eval()(lightness), 0.5 * model(lightness))
    older = networks.build({"width": 4, "depth": 2, "middle": 1})  # a config written before the new keys
    assert older.follows_hints and isinstance(older.ups[0], torch.nn.ConvTranspose2d)


def test_spread_hints_follow_lightness_and_fade_with_distance():
    lightness = torch.full((1, 1, 64, 64), 20.0)
    lightness[..., 32:] = 80.0  # a dark left half, a bright right half
    ab = torch.zeros(1, 2, 64, 64)
    mask = torch.zeros(1, 1, 64, 64)
    ab[:, 0, 20:25, 27:32], ab[:, 1, 20:25, 27:32], mask[..., 20:25, 27:32] = 50.0, -30.0, 1.0  # dark side
    spread, confidence = networks.spread_hints(lightness, ab, mask)
    assert spread.shape == (1, 2, 64, 64) and confidence.shape == (1, 1, 64, 64)
    assert torch.allclose(spread[0, :, 22, 24], torch.tensor([50.0, -30.0]), atol=1e-3)
    assert confidence[0, 0, 22, 29].item() == 1.0 and 0.3 < confidence[0, 0, 22, 23].item() < 1.0
    assert confidence[0, 0, 22, 36].item() < 0.01  # across the edge: another lightness
    assert confidence[0, 0, 60, 28].item() == 0.0  # out of reach
    empty, none = networks.spread_hints(lightness, torch.zeros_like(ab), torch.zeros_like(mask))
    assert not empty.any() and not none.any()


def test_patch_discriminator_scores_patches():
    critic = networks.PatchDiscriminator(ndf=8, n_layers=3)
    assert critic(torch.rand(2, 3, 64, 64)).shape == (2, 1, 6, 6)
