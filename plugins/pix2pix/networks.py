"""pix2pix networks (Isola et al. 2017, arXiv 1611.07004, section 3.2 and appendix 6.1).

Generator: the U-Net. With ngf = 64 and 8 levels, in the paper's notation (Ck: conv-norm-ReLU
with k filters, CDk: the same with dropout 0.5; 4x4 convolutions, stride 2):

    encoder  C64-C128-C256-C512-C512-C512-C512-C512     (LeakyReLU 0.2, no norm on C64)
    decoder  CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128   (ReLU; widths count the skips)

then a convolution to 3 channels and tanh. Level i of the encoder is concatenated to the decoder
input of the same level (the skip connections). Every convolution before a batch norm has no bias.
As in the reference implementation, the innermost level has no norm in the encoder, and dropout
sits in the `num_downs - 5` decoder levels just outside the innermost one (3 for 8 levels).

Discriminator: the conditional 70x70 PatchGAN C64-C128-C256-C512 on concat(input, output).

Networks work in [-1, 1]; `Pix2Pix` converts from and to the API's [0, 1]. Our module names
(`down.i`, `up.i`) differ from the reference's nested `model.model.1.model.3...`;
`checkpoints.py` maps them.

`upsample="resize"` replaces the decoder's 4x4 transposed convolutions, which leave a
checkerboard, by bilinear x2 and a 3x3 convolution (Odena et al. 2016); the models we train use
it, imported reference files keep the published "transposed" layout (the default).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from translator_plugins.pix2pix.plugin import CONFIG, MAX_LEVELS, MIN_LEVELS

from translator import api
from translator.api.layers import (
    InstanceNorm,
    PatchDiscriminator,
    frozen_instance_norm,
    init_weights,
    make_norm,
    upsample_conv,
)

__all__ = ["Pix2Pix", "UnetGenerator", "MIN_LEVELS", "MAX_LEVELS", "InstanceNorm", "PatchDiscriminator",
           "frozen_instance_norm", "build", "build_generator", "build_discriminator"]


class Down(nn.Module):
    """One encoder level: [LeakyReLU 0.2] -> conv 4x4 stride 2 -> [norm].

    (B, c_in, H, W) -> (B, c_out, H/2, W/2). The outermost level has neither activation nor
    norm (it sees the image), the innermost no norm (its output is 1x1 at the training size).
    """

    def __init__(self, c_in: int, c_out: int, *, act: bool, norm: str | None, bias: bool) -> None:
        super().__init__()
        self.act = nn.LeakyReLU(0.2) if act else nn.Identity()
        self.conv = nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)
        self.norm = make_norm(norm, c_out) if norm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.conv(self.act(x)))


class Up(nn.Module):
    """One decoder level: ReLU -> x2 upsampling conv -> norm [-> dropout 0.5], or for the
    outermost level ReLU -> upsampling conv (with bias) -> tanh. The upsampling conv is a 4x4
    stride-2 transposed conv (`upsample` "transposed") or bilinear x2 and a 3x3 conv ("resize").

    (B, c_in, H, W) -> (B, c_out, 2H, 2W).
    """

    def __init__(self, c_in: int, c_out: int, *, outermost: bool, norm: str, bias: bool,
                 dropout: bool, upsample: str = "transposed") -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.conv = upsample_conv(upsample, c_in, c_out, bias=bias or outermost, transposed_kernel=4)
        self.norm = nn.Identity() if outermost else make_norm(norm, c_out)
        self.out = nn.Tanh() if outermost else nn.Dropout(0.5) if dropout else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.norm(self.conv(self.act(x))))


def level_widths(ngf: int, num_downs: int) -> list[int]:
    """Output channels of encoder level i: ngf, 2ngf, 4ngf, then 8ngf for every deeper level."""
    return [ngf * min(2**i, 8) for i in range(num_downs)]


class UnetGenerator(nn.Module):
    """The pix2pix U-Net: (B, 3, H, W) in [-1, 1] -> (B, 3, H, W) in [-1, 1].

    H and W must be multiples of 2**num_downs. `down[i]` and `up[i]` are level i (0 outermost);
    the decoder input of level i < num_downs - 1 is concat(encoder output i, decoder output i+1).
    54,413,955 parameters for ngf 64, 8 levels, batch norm (the published models). `upsample`:
    see `plugin.CONFIG`.
    """

    def __init__(self, ngf: int = 64, num_downs: int = 8, norm: str = "batch", use_dropout: bool = True,
                 in_channels: int = 3, out_channels: int = 3, *, upsample: str = "transposed") -> None:
        super().__init__()
        if num_downs < MIN_LEVELS:
            raise api.ParameterError(f"a U-Net needs at least {MIN_LEVELS} levels, got {num_downs}")
        bias = norm == "instance"  # the reference's rule: no bias before batch norm (nor without norm)
        widths = level_widths(ngf, num_downs)
        innermost = num_downs - 1
        self.down = nn.ModuleList(
            Down(in_channels if i == 0 else widths[i - 1], widths[i], act=i > 0,
                 norm=None if i in (0, innermost) else norm, bias=bias)
            for i in range(num_downs))
        self.up = nn.ModuleList(
            Up(widths[i] * (1 if i == innermost else 2), out_channels if i == 0 else widths[i - 1],
               outermost=i == 0, norm=norm, bias=bias,
               dropout=use_dropout and MIN_LEVELS - 1 <= i < innermost, upsample=upsample)
            for i in range(num_downs))
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        x = self.up[-1](skips.pop())  # the innermost level
        for up in reversed(self.up[:-1]):
            x = up(torch.cat([skips.pop(), x], dim=1))
        return x


class Pix2Pix(nn.Module):
    """The inference model: attribute `G`, a `UnetGenerator` for `config` (validated values of
    `plugin.CONFIG`, every key present)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self.config = dict(config)
        self.G = build_generator(config)

    def forward(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1], H and W multiples of 2**num_downs -> (B, 3, H, W) in [0, 1]."""
        return self.G(images * 2 - 1).add(1).mul(0.5).clamp(0, 1)


def build(config: Mapping[str, Any]) -> Pix2Pix:
    """A freshly initialised float32 CPU `Pix2Pix` for a config dict (checked against
    `plugin.CONFIG`, missing keys at their defaults; raises `ParameterError`)."""
    return Pix2Pix(api.resolve_params(CONFIG, config))


def build_generator(config: Mapping[str, Any]) -> UnetGenerator:
    """One freshly initialised U-Net for validated `config` values (for trainers)."""
    return UnetGenerator(config["ngf"], config["num_downs"], config["norm"], config["use_dropout"],
                         upsample=config["upsample"])


def build_discriminator(ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> PatchDiscriminator:
    """One freshly initialised conditional PatchGAN (6 input channels) for trainers."""
    return PatchDiscriminator(ndf, n_layers, norm, in_channels=6)
