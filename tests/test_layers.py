"""The shared GAN layers in translator.api.layers."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from translator.api import layers
from translator.api.metrics import smooth_noisy_image, spectral_artifact_ratio
from translator.errors import ParameterError

torch.set_num_threads(1)


@pytest.mark.parametrize(("batch", "height", "width"), [(1, 4, 4), (2, 6, 10)])
def test_resize_conv_doubles_the_size(batch, height, width):
    up = layers.ResizeConv(3, 5)
    out = up(torch.rand(batch, 3, height, width))
    assert out.shape == (batch, 5, 2 * height, 2 * width)
    assert up.conv.weight.shape == (5, 3, 3, 3)
    with pytest.raises(ParameterError, match="odd kernel"):
        layers.ResizeConv(3, 5, 4)


def test_upsample_conv_layouts():
    x = torch.rand(1, 4, 8, 8)
    for kernel in (3, 4):
        transposed = layers.upsample_conv("transposed", 4, 2, bias=False, transposed_kernel=kernel)
        assert isinstance(transposed, nn.ConvTranspose2d) and transposed(x).shape == (1, 2, 16, 16)
    assert isinstance(layers.upsample_conv("resize", 4, 2, bias=True, transposed_kernel=4), layers.ResizeConv)
    with pytest.raises(ParameterError, match="unknown upsampling"):
        layers.upsample_conv("pixelshuffle", 4, 2, bias=True, transposed_kernel=4)


def _spectral_ratio_of_a_random_decoder(kind: str) -> float:
    """Two x2 upsamplings of a smooth noisy image shrunk 4x, with shared random weights."""
    torch.manual_seed(0)
    net = nn.Sequential(layers.upsample_conv(kind, 3, 8, bias=True, transposed_kernel=4), nn.ReLU(),
                        layers.upsample_conv(kind, 8, 3, bias=True, transposed_kernel=4))
    layers.init_weights(net, gain=0.2)
    image = torch.from_numpy(smooth_noisy_image(64, 64, seed=1)).permute(2, 0, 1)[None]
    with torch.no_grad():
        out = net(nn.functional.avg_pool2d(image, 4))[0].mean(0)
    out = (out - out.min()) / (out.max() - out.min())
    return spectral_artifact_ratio(out.numpy())


def test_resize_convolution_has_no_checkerboard_where_transposed_has():
    """Untrained decoders on a 4x upsampled (so nearly band-limited) image, whose spectrum's median
    is tiny: measured 0.3 (resize) against 1.9e6 (transposed)."""
    resize = _spectral_ratio_of_a_random_decoder("resize")
    assert _spectral_ratio_of_a_random_decoder("transposed") > 1000 * resize


def test_make_norm_and_init_weights():
    assert isinstance(layers.make_norm("instance", 4), layers.InstanceNorm)
    assert isinstance(layers.make_norm("batch", 4), nn.BatchNorm2d)
    assert isinstance(layers.make_norm("none", 4), nn.Identity)
    with pytest.raises(ParameterError, match="unknown norm"):
        layers.make_norm("group", 4)
    net = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64))
    layers.init_weights(net, gain=0.02)
    with torch.no_grad():
        assert abs(float(net[0].weight.std()) - 0.02) < 0.005 and float(net[0].bias.abs().max()) == 0
        assert abs(float(net[1].weight.mean()) - 1) < 0.01


@pytest.mark.parametrize(("norm", "in_channels", "size"), [("instance", 3, 64), ("batch", 6, 32)])
def test_patch_discriminator(norm, in_channels, size):
    d = layers.PatchDiscriminator(ndf=4, n_layers=3, norm=norm, in_channels=in_channels)
    out = d(torch.rand(2, in_channels, size, size))
    assert out.shape == (2, 1, size // 8 - 2, size // 8 - 2)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    normed = convs[1:-1]
    assert all((c.bias is None) == (norm == "batch") for c in normed)
    assert convs[0].bias is not None and convs[-1].bias is not None


def test_frozen_instance_norm_and_no_op_without_instance_norm():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), layers.InstanceNorm(4))
    preview, other = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16) * 3
    with torch.no_grad():
        with layers.frozen_instance_norm(net, lambda: net(preview)):
            frozen = net(other)
        own = net(other)
    assert not torch.allclose(frozen, own, atol=1e-3)
    assert net[1].frozen is None
    plain = nn.Sequential(nn.Conv2d(3, 4, 3))
    with layers.frozen_instance_norm(plain, lambda: pytest.fail("nothing to measure")):
        pass


def test_load_matching_copies_what_fits_and_reports_the_rest():
    source = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ConvTranspose2d(4, 2, 4, 2, 1))
    target = nn.Sequential(nn.Conv2d(3, 4, 3), layers.ResizeConv(4, 2))
    fresh = target[1].conv.weight.clone()
    missing = layers.load_matching(target, source.state_dict())
    assert missing == ["1.conv.bias", "1.conv.weight"]
    assert torch.equal(target[0].weight, source[0].weight)
    assert torch.equal(target[1].conv.weight, fresh)
