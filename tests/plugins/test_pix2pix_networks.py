"""The pix2pix networks: sizes of the paper, shapes, dropout placement, skip connections, config checks."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from translator.errors import ParameterError
from translator.plugins import load_registry
from translator_plugins.pix2pix import networks

torch.set_num_threads(1)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_generator_and_discriminator_sizes():
    with torch.device("meta"):
        generator = networks.UnetGenerator(ngf=64, num_downs=8)
        discriminator = networks.build_discriminator(ndf=64, n_layers=3)
    assert count(generator) == 54_413_955
    assert count(discriminator) == 2_768_705  # C64-C128-C256-C512 on 6 channels
    assert discriminator.model[0].in_channels == 6


def test_encoder_and_decoder_widths_follow_the_paper():
    with torch.device("meta"):
        generator = networks.UnetGenerator(ngf=64, num_downs=8)
    assert [d.conv.out_channels for d in generator.down] == [64, 128, 256, 512, 512, 512, 512, 512]
    # decoder inputs from the innermost level out: 512, then 1024 (with the skips) ... 128
    assert [u.conv.in_channels for u in reversed(generator.up)] == [512, 1024, 1024, 1024, 1024, 512, 256, 128]
    assert isinstance(generator.down[0].act, nn.Identity) and isinstance(generator.down[1].act, nn.LeakyReLU)
    assert isinstance(generator.down[0].norm, nn.Identity) and isinstance(generator.down[-1].norm, nn.Identity)
    assert all(isinstance(d.norm, nn.BatchNorm2d) for d in generator.down[1:-1])
    assert isinstance(generator.up[0].out, nn.Tanh) and generator.up[0].conv.bias is not None
    assert all(u.conv.bias is None for u in generator.up[1:]) and generator.down[0].conv.bias is None


@pytest.mark.parametrize(("num_downs", "dropout_levels"), [(8, [4, 5, 6]), (7, [4, 5]), (5, [])])
def test_dropout_sits_in_the_inner_decoder_levels(num_downs, dropout_levels):
    with torch.device("meta"):
        generator = networks.UnetGenerator(ngf=4, num_downs=num_downs)
        plain = networks.UnetGenerator(ngf=4, num_downs=num_downs, use_dropout=False)
    assert [i for i, u in enumerate(generator.up) if isinstance(u.out, nn.Dropout)] == dropout_levels
    assert not any(isinstance(m, nn.Dropout) for m in plain.modules())


@pytest.mark.parametrize(("batch", "height", "width"), [(1, 32, 32), (2, 64, 32), (3, 32, 96)])
def test_shapes_and_range(batch, height, width):
    torch.manual_seed(0)
    generator = networks.UnetGenerator(ngf=4, num_downs=5).eval()
    discriminator = networks.build_discriminator(ndf=4, n_layers=3)
    x = torch.rand(batch, 3, height, width) * 2 - 1
    with torch.no_grad():
        y = generator(x)
        logits = discriminator(torch.cat([x, y], dim=1))
    assert y.shape == x.shape and y.abs().max() <= 1
    assert logits.shape == (batch, 1, height // 8 - 2, width // 8 - 2)


def test_eval_mode_is_deterministic_and_train_mode_uses_dropout():
    torch.manual_seed(0)
    generator = networks.UnetGenerator(ngf=4, num_downs=6)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        generator.eval()
        assert torch.equal(generator(x), generator(x))
        generator.train()
        assert not torch.equal(generator(x), generator(x))


def test_output_pixels_depend_most_on_the_input_nearby_through_the_skips():
    torch.manual_seed(0)
    generator = networks.UnetGenerator(ngf=4, num_downs=5, norm="none").eval()
    x = (torch.rand(1, 3, 64, 64) * 2 - 1).requires_grad_(True)
    generator(x)[0, :, 40, 20].sum().backward()
    support = x.grad.abs().sum(dim=(0, 1))
    near = support[37:44, 17:24].mean()
    far = torch.cat([support[:24].flatten(), support[:, 40:].flatten()]).mean()
    assert near > 10 * far > 0


def test_inference_model_works_in_unit_range():
    torch.manual_seed(0)
    model = networks.build({"ngf": 4, "num_downs": 5}).eval()
    images = torch.rand(2, 3, 32, 64)
    with torch.no_grad():
        out = model(images)
        expected = (model.G(images * 2 - 1) + 1) / 2
    assert out.shape == images.shape and 0 <= out.min() and out.max() <= 1
    assert torch.allclose(out, expected, atol=1e-6)
    assert model.config["num_downs"] == 5  # inputs padded to multiples of 32


@pytest.mark.parametrize(("config", "message"), [
    ({"ngf": 0}, "'ngf': 0 is outside [1, 1024]"),
    ({"num_downs": 4}, "'num_downs': 4 is outside [5, 10]"),
    ({"num_downs": True}, "'num_downs': True is not an integer"),
    ({"norm": "group"}, "'norm': 'group' is not one of batch, instance, none"),
    ({"size": -1}, "'size': -1 is outside [0, 65536]"),
    ({"use_dropout": "yes"}, "'use_dropout': 'yes' is not a boolean"),
    ({"n_blocks": 9}, "unknown parameter(s) n_blocks; known: ngf, num_downs"),
])
def test_bad_configs_are_refused(config, message):
    with pytest.raises(ParameterError) as error:
        networks.build(config)
    assert message in str(error.value)
    spec = load_registry(third_party=False).translator("pix2pix")
    with pytest.raises(ParameterError, match="model card 'x': pix2pix config: ") as error:
        spec.resolve_config(config, source="model card 'x'")
    assert message in str(error.value)
