"""CycleGAN networks: sizes from the paper, shapes, config checks and frozen instance norm."""
from __future__ import annotations

import pytest
import torch

from translator.errors import ParameterError, TranslatorError
from translator.params import resolve_params
from translator_plugins.cyclegan import networks
from translator_plugins.cyclegan.plugin import CONFIG
from translator_plugins.cyclegan.networks import (
    CycleGAN,
    PatchDiscriminator,
    ResnetGenerator,
    receptive_radius,
)
from translator.api.layers import frozen_instance_norm, init_weights

torch.set_num_threads(1)


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("n_blocks", "expected"), [(9, 11_378_179), (6, 7_837_699)])
def test_generator_parameter_count_matches_the_reference(n_blocks, expected):
    with torch.device("meta"):
        generator = ResnetGenerator(ngf=64, n_blocks=n_blocks)
    assert _count(generator) == expected


def test_discriminator_is_the_70px_patchgan_of_the_reference():
    with torch.device("meta"):
        assert _count(PatchDiscriminator(ndf=64, n_layers=3)) == 2_764_737
    d = PatchDiscriminator(ndf=4)
    logits = d(torch.randn(2, 3, 64, 48))
    assert logits.shape == (2, 1, 64 // 8 - 2, 48 // 8 - 2)


@pytest.mark.parametrize(("batch", "height", "width"), [(1, 16, 16), (2, 20, 32), (1, 36, 12)])
def test_generator_keeps_the_size_and_range(batch, height, width):
    generator = ResnetGenerator(ngf=4, n_blocks=1).eval()
    x = torch.rand(batch, 3, height, width) * 2 - 1
    y = generator(x)
    assert y.shape == x.shape
    assert y.abs().max() <= 1.0


def test_instance_norm_has_no_parameters_or_buffers():
    keys = ResnetGenerator(ngf=4, n_blocks=2).state_dict()
    assert all(".conv" in key for key in keys), [k for k in keys if ".conv" not in k]
    assert "blocks.1.conv2.bias" in keys


def test_batch_norm_convolutions_have_no_bias():
    keys = ResnetGenerator(ngf=4, n_blocks=1, norm="batch").state_dict()
    assert "stem.conv.bias" not in keys and "stem.norm.running_mean" in keys
    assert "head.conv.bias" in keys  # the output conv always has a bias, as in the reference


def test_dropout_is_active_only_in_training_mode():
    generator = ResnetGenerator(ngf=4, n_blocks=2, use_dropout=True)
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    generator.train()
    assert not torch.equal(generator(x), generator(x))
    generator.eval()
    assert torch.equal(generator(x), generator(x))


def test_weights_follow_the_reference_initialisation():
    generator = ResnetGenerator(ngf=16, n_blocks=1)
    weight = generator.blocks[0].conv1.weight
    assert abs(weight.std().item() - 0.02) < 0.002
    assert torch.count_nonzero(generator.blocks[0].conv1.bias) == 0


@pytest.mark.parametrize(("n_blocks", "upsample"), [(0, "transposed"), (1, "transposed"), (2, "transposed"),
                                                    (1, "resize")])
def test_receptive_radius_matches_the_gradient_support(n_blocks, upsample):
    # Without normalisation each output pixel depends only on a window of the input.
    # Weights large enough that no window is all dead ReLUs, small enough that tanh does not saturate.
    torch.manual_seed(0)
    generator = ResnetGenerator(ngf=8, n_blocks=n_blocks, norm="none", upsample=upsample)
    init_weights(generator, 0.05)
    reach = 0
    for centre in (44, 45, 46, 47):  # every phase of the 4-pixel grid
        x = torch.randn(1, 3, 96, 96, requires_grad=True)
        generator(x)[0, :, centre, centre].sum().backward()
        rows = torch.nonzero(x.grad[0].abs().sum(dim=(0, 2)))[:, 0]
        reach = max(reach, centre - rows.min().item(), rows.max().item() - centre)
    assert reach == receptive_radius(n_blocks, upsample)


def test_config_defaults_are_the_paper_and_bad_values_are_refused():
    config = resolve_params(CONFIG, {})
    assert [config[k] for k in ("ngf", "n_blocks", "norm", "use_dropout")] == [64, 9, "instance", False]
    assert config["directions"] == ("AtoB", "BtoA")
    assert resolve_params(CONFIG, {"directions": ["BtoA", "AtoB"]})["directions"] == ("AtoB", "BtoA")
    for bad in ({"norm": "group"}, {"n_blocks": -1}, {"ngf": 0}, {"ngf": 8.5}, {"use_dropout": "no"},
                {"directions": []}, {"directions": "AtoB"}, {"directions": ["AtoC"]}, {"width": 3},
                {"upsample": "deconv"}, {"down_padding": "circular"}):
        with pytest.raises(ParameterError):
            networks.build(bad)


def test_model_holds_the_generators_its_config_names():
    model = networks.build({"ngf": 4, "n_blocks": 1, "directions": ["BtoA"]})
    assert isinstance(model, CycleGAN)
    assert {key.split(".")[0] for key in model.state_dict()} == {"G_BA"}
    with pytest.raises(TranslatorError, match="only translates BtoA"):
        model.generator("AtoB")
    out = model.eval()(torch.rand(1, 3, 16, 16), "BtoA")
    assert out.shape == (1, 3, 16, 16) and 0 <= out.min() and out.max() <= 1


def test_frozen_statistics_of_the_same_image_change_nothing():
    generator = ResnetGenerator(ngf=4, n_blocks=2).eval()
    x = torch.rand(1, 3, 32, 40) * 2 - 1
    with torch.no_grad():
        expected = generator(x)
        with frozen_instance_norm(generator, lambda: generator(x)):
            frozen = generator(x)
    assert torch.allclose(frozen, expected, atol=1e-5)
    assert all(m.frozen is None for m in generator.modules() if isinstance(m, networks.InstanceNorm))


def test_a_tile_with_frozen_statistics_equals_the_crop_of_the_whole_image():
    torch.manual_seed(0)
    generator = ResnetGenerator(ngf=4, n_blocks=2).eval()
    radius = receptive_radius(2)  # 28
    image = torch.rand(1, 3, 128, 128) * 2 - 1
    top, left = 32, 36  # on the 4-pixel grid of the stride-2 layers
    with torch.no_grad():
        whole = generator(image)
        tile = image[:, :, top:, left:]
        own_stats = generator(tile)
        with frozen_instance_norm(generator, lambda: generator(image)):
            frozen = generator(tile)
    inner = (slice(None), slice(None), slice(radius, None), slice(radius, None))
    crop = whole[:, :, top:, left:][inner]
    # Pixels further than the receptive radius from the tile's inner edges see the same input.
    assert torch.allclose(frozen[inner], crop, atol=1e-5), (frozen[inner] - crop).abs().max()
    # ...which they do not with each tile's own statistics: that is what freezing is for.
    assert (own_stats[inner] - crop).abs().max() > 1e-3


def test_resize_layout_keeps_size_and_the_encoder_shapes():
    """The layout we train: resize-convolution upsampling, reflection-padded downsampling. Every
    layer but the upsampling has the paper layout's shape (so a warm start can copy them)."""
    config = resolve_params(CONFIG, {"ngf": 4, "n_blocks": 1, "upsample": "resize", "down_padding": "reflect"})
    model = networks.build(config).eval()
    assert resolve_params(CONFIG, model.config) == config
    out = model(torch.rand(1, 3, 20, 28), "AtoB")
    assert out.shape == (1, 3, 20, 28)
    ours = model.G_AB.state_dict()
    paper = ResnetGenerator(ngf=4, n_blocks=1).state_dict()
    assert "up.0.conv.conv.weight" in ours and "up.0.conv.weight" in paper
    assert ours["up.0.conv.conv.weight"].shape == (8, 16, 3, 3)
    shared = {k for k in paper if not k.startswith("up.")}
    assert all(ours[k].shape == paper[k].shape for k in shared)
    assert model.G_AB.down[0].conv.padding_mode == "reflect"


def test_reflect_padding_removes_the_zero_border_on_top_and_left():
    """A stride-2 3x3 convolution on an even side reads the padding only on the top and left: with
    zeros there, a constant image gives a different first row/column than the rest."""
    torch.manual_seed(0)
    flat = torch.full((1, 3, 32, 32), 0.5)
    for padding, uneven in (("zeros", True), ("reflect", False)):
        generator = ResnetGenerator(ngf=4, n_blocks=0, norm="none", down_padding=padding).eval()
        out = generator.down(generator.stem(flat))
        edge = (out[..., 0, :].sub(out[..., 4, :]).abs().max() + out[..., :, 0].sub(out[..., :, 4]).abs().max())
        assert (edge > 1e-4) == uneven, padding
