"""StyleGAN2 networks: shapes at several resolutions, channel tables, filters, discriminator."""
from __future__ import annotations

import pytest
import torch
from translator_plugins.stylegan import networks

from translator.errors import ParameterError

torch.set_num_threads(1)


def tiny(resolution: int, **extra) -> networks.StyleGANConfig:
    return networks.architecture({"resolution": resolution, "z_dim": 8, "w_dim": 12,
                                                 "mapping_layers": 2, "channel_base": 128, "channel_max": 16,
                                                 **extra})


@pytest.mark.parametrize("resolution", [4, 8, 16, 32, 64])
def test_mapping_and_synthesis_shapes(resolution):
    config = tiny(resolution)
    G = networks.Generator(config)
    z = torch.randn(3, 8)
    w = G.mapping(z)
    assert w.shape == (3, 12)
    ws = G.ws(z, psi=0.5)
    assert ws.shape == (3, config.num_ws, 12) and config.num_ws == 2 * resolution.bit_length() - 4
    img = G.synthesis(ws, "random")
    assert img.shape == (3, 3, resolution, resolution)
    assert G.synthesis.layers()[-1].resolution == resolution
    D = networks.Discriminator(config)
    assert D(img).shape == (3, 1)


def test_channel_tables_follow_the_references():
    assert networks.nvidia_channels(1024) == [512, 512, 512, 512, 512, 256, 128, 64, 32]
    assert networks.nvidia_channels(256, 16384) == [512, 512, 512, 512, 256, 128, 64]
    assert networks.rosinality_channels(256, 2) == [512, 512, 512, 512, 512, 256, 128]
    config = networks.architecture({"resolution": 64, "channel_multiplier": 1})
    assert config.channels == (512, 512, 512, 512, 256)
    assert networks.StyleGANConfig().resolution == 256 and networks.StyleGANConfig().num_ws == 14


@pytest.mark.parametrize("bad", [{"resolution": 48}, {"resolution": 16, "channels": [8, 8]}, {"z_dim": 0},
                                 {"width": 3}])
def test_bad_configs_are_parameter_errors(bad):
    with pytest.raises(ParameterError):
        networks.architecture(bad)


def test_config_round_trips_through_json_dict():
    config = tiny(32, conv_clamp=256)
    assert networks.architecture(config.to_dict()) == config


def test_truncation_pulls_toward_w_avg_and_noise_modes_differ():
    G = networks.Generator(tiny(16)).eval()
    G.mapping.w_avg.normal_()
    for layer in G.synthesis.layers():
        layer.noise_strength.data.fill_(0.5)
    z = torch.randn(2, 8)
    with torch.no_grad():
        assert torch.allclose(G.ws(z, 0.0), G.mapping.w_avg.expand(2, G.num_ws, -1))
        const1, const2 = G(z, 1.0, "const"), G(z, 1.0, "const")
        rand1, rand2 = G(z, 1.0, "random"), G(z, 1.0, "random")
        none = G(z, 1.0, "none")
    assert torch.equal(const1, const2)
    assert not torch.allclose(rand1, rand2) and not torch.allclose(const1, none)
    with pytest.raises(ParameterError, match="noise mode"):
        G(z, 1.0, "loud")


def test_upfirdn_keeps_a_constant_image_constant_inside():
    x = torch.ones(1, 2, 8, 8)
    kernel = networks.fir_kernel()
    up = networks.upfirdn2d(x, kernel, up=2, pad=(2, 1), gain=4.0)
    assert up.shape == (1, 2, 16, 16) and torch.allclose(up[..., 2:-2, 2:-2], torch.ones(1, 2, 12, 12))
    down = networks.upfirdn2d(x, kernel, down=2, pad=(1, 1))
    assert down.shape == (1, 2, 4, 4)


def test_minibatch_stddev_appends_one_feature():
    x = torch.randn(8, 5, 4, 4)
    y = networks.minibatch_stddev(x, 4)
    assert y.shape == (8, 6, 4, 4) and torch.equal(y[:, :5], x)
    assert networks.minibatch_stddev(torch.randn(3, 5, 4, 4), 4).shape == (3, 6, 4, 4)


def test_state_dict_holds_no_fixed_filters():
    keys = networks.Generator(tiny(16)).state_dict()
    assert not [k for k in keys if "fir" in k]
    assert "mapping.w_avg" in keys and "synthesis.b16.conv0.noise_const" in keys


def test_small_64px_model_is_cheap():
    config = networks.architecture({"resolution": 64, "z_dim": 64, "w_dim": 64, "mapping_layers": 4,
                                                   "channel_base": 1024, "channel_max": 64})
    G = networks.Generator(config)
    assert sum(p.numel() for p in G.parameters()) < 1_000_000
