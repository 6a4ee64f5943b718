"""CycleGAN networks (Zhu et al. 2017, arXiv 1703.10593, appendix 7.2).

Generator, in the paper's notation: c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-3 (with
ngf = 64), tanh output. Discriminator: the 70x70 PatchGAN C64-C128-C256-C512 (ndf = 64, 3
strided layers), one logit per overlapping patch.

Every network works in [-1, 1]; `CycleGAN` converts from and to the API's [0, 1]. Instance
normalisation is affine-free and keeps no running statistics, as in the reference
implementation; its statistics can be frozen for tiled inference (`api.layers.frozen_instance_norm`).
Our module names differ from the reference's `model.N` Sequential; `checkpoints.py` maps them.

Two layout options go beyond the paper, for the models we train ourselves: `upsample="resize"`
(bilinear x2 then a 3x3 convolution instead of the transposed convolutions, which leave a
checkerboard; Odena et al. 2016) and `down_padding="reflect"` (the two stride-2 convolutions
pad by reflection instead of zeros: a stride-2 3x3 convolution on an even side only ever reads
the padding on the top and left, so zero padding there prints a dark stripe along those edges).
Imported reference files use the published layout ("transposed", "zeros"), the defaults.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn
from translator_plugins.cyclegan.plugin import CONFIG, DIRECTIONS

from translator import api
from translator.api.layers import (
    InstanceNorm,
    PatchDiscriminator,
    init_weights,
    make_norm,
    upsample_conv,
)

__all__ = ["CycleGAN", "ResnetGenerator", "ResnetBlock", "InstanceNorm", "PatchDiscriminator",
           "build", "build_generator", "build_discriminator", "receptive_radius"]

GENERATOR_NAMES = {"AtoB": "G_AB", "BtoA": "G_BA"}
"""Attribute of `CycleGAN` holding the generator of each direction (G: A->B, F: B->A in the paper)."""


class ConvUnit(nn.Module):
    """pad -> conv -> norm -> activation: one layer of the paper's notation (c7s1-k, dk, uk, Ck)."""

    def __init__(self, conv: nn.Module, norm: nn.Module, act: nn.Module, pad: int = 0) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(pad) if pad else nn.Identity()
        self.conv = conv
        self.norm = norm
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(self.pad(x))))


class ResnetBlock(nn.Module):
    """Rk: two 3x3 convolutions (reflection padded) with k filters and a skip connection.

    (B, k, H, W) -> (B, k, H, W). Dropout 0.5 after the first ReLU when `use_dropout`.
    """

    def __init__(self, channels: int, norm: str, use_dropout: bool) -> None:
        super().__init__()
        bias = norm != "batch"
        self.pad1 = nn.ReflectionPad2d(1)
        self.conv1 = nn.Conv2d(channels, channels, 3, bias=bias)
        self.norm1 = make_norm(norm, channels)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.5) if use_dropout else nn.Identity()
        self.pad2 = nn.ReflectionPad2d(1)
        self.conv2 = nn.Conv2d(channels, channels, 3, bias=bias)
        self.norm2 = make_norm(norm, channels)

    def forward(self, x: Tensor) -> Tensor:
        y = self.dropout(self.relu(self.norm1(self.conv1(self.pad1(x)))))
        return x + self.norm2(self.conv2(self.pad2(y)))


class ResnetGenerator(nn.Module):
    """The CycleGAN generator: (B, 3, H, W) in [-1, 1] -> (B, 3, H, W) in [-1, 1].

    H and W should be multiples of 4 (two stride-2 downsamplings); other sizes give 4*ceil(H/4).
    stem = c7s1-ngf, down = d(2ngf), d(4ngf), blocks = R(4ngf) x n_blocks,
    up = u(2ngf), u(ngf), head = c7s1-3 with tanh. `upsample` and `down_padding`: see
    `plugin.CONFIG` (the defaults are the paper's layout). Convolutions before a batch norm have no bias
    (as in the reference). 11,378,179 parameters for ngf 64, 9 blocks, instance norm.
    Receptive field: `receptive_radius(n_blocks)` pixels to each side (84 for 9 blocks).
    """

    def __init__(self, ngf: int = 64, n_blocks: int = 9, norm: str = "instance", use_dropout: bool = False,
                 in_channels: int = 3, out_channels: int = 3, *, upsample: str = "transposed",
                 down_padding: str = "zeros") -> None:
        super().__init__()
        bias = norm != "batch"
        self.stem = ConvUnit(nn.Conv2d(in_channels, ngf, 7, bias=bias), make_norm(norm, ngf),
                             nn.ReLU(inplace=True), pad=3)
        self.down = nn.Sequential(*(
            ConvUnit(nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1, bias=bias,
                               padding_mode="reflect" if down_padding == "reflect" else "zeros"),
                     make_norm(norm, ngf * m * 2), nn.ReLU(inplace=True))
            for m in (1, 2)
        ))
        self.blocks = nn.Sequential(*(ResnetBlock(ngf * 4, norm, use_dropout) for _ in range(n_blocks)))
        self.up = nn.Sequential(*(
            ConvUnit(upsample_conv(upsample, ngf * m, ngf * m // 2, bias=bias, transposed_kernel=3),
                     make_norm(norm, ngf * m // 2), nn.ReLU(inplace=True))
            for m in (4, 2)
        ))
        self.head = ConvUnit(nn.Conv2d(ngf, out_channels, 7), nn.Identity(), nn.Tanh(), pad=3)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.up(self.blocks(self.down(self.stem(x)))))


class CycleGAN(nn.Module):
    """The inference model: the generators of the directions in `config["directions"]`.

    config: validated values of `plugin.CONFIG`, every key present.
    Attributes `G_AB` (A -> B) and/or `G_BA` (B -> A), each a `ResnetGenerator`.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self.config = dict(config)
        self.directions: tuple[str, ...] = tuple(config["directions"])
        for direction in self.directions:
            setattr(self, GENERATOR_NAMES[direction], build_generator(config))

    def generator(self, direction: str) -> ResnetGenerator:
        """The generator translating `direction`; raises `TranslatorError` when the model lacks it."""
        if direction not in DIRECTIONS:
            raise api.ParameterError(f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
        if direction not in self.directions:
            raise api.TranslatorError(
                f"this CycleGAN model only translates {' and '.join(self.directions)}, not "
                f"{direction}; import the other generator with `--set pair_with=MODEL` to get both")
        return getattr(self, GENERATOR_NAMES[direction])

    def forward(self, images: Tensor, direction: str = "AtoB") -> Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 3, H, W) in [0, 1], H and W multiples of 4."""
        return self.generator(direction)(images * 2 - 1).add(1).mul(0.5).clamp(0, 1)


def build(config: Mapping[str, Any]) -> CycleGAN:
    """A freshly initialised float32 CPU `CycleGAN` for a config dict (checked against
    `plugin.CONFIG`, missing keys at their defaults; raises `ParameterError`)."""
    return CycleGAN(api.resolve_params(CONFIG, config))


def build_generator(config: Mapping[str, Any]) -> ResnetGenerator:
    """One freshly initialised generator for validated `config` values (for trainers)."""
    return ResnetGenerator(config["ngf"], config["n_blocks"], config["norm"], config["use_dropout"],
                           upsample=config["upsample"], down_padding=config["down_padding"])


def build_discriminator(config: Mapping[str, Any]) -> PatchDiscriminator:
    """One freshly initialised PatchGAN discriminator for validated `config` values (for trainers)."""
    return PatchDiscriminator(config["ndf"], config["n_layers_d"], config["norm"], in_channels=3)


def receptive_radius(n_blocks: int, upsample: str = "transposed") -> int:
    """How far, in input pixels, an output pixel of a `ResnetGenerator` sees to each side.

    12 + 8 * n_blocks (84 for 9 blocks) for the paper's layout: the stem and downsampling reach
    6 px, each 3x3 conv at 1/4 resolution 4 px, the two transposed convs 2 + 1 px, the 7x7 head
    3 px; "resize" upsampling reaches 6 px further (the bilinear taps and the 3x3 convolutions at
    1/2 and full resolution: 9 px in all where the transposed convolutions reach 3). Measured from the gradient support in the tests. With instance norm
    every pixel also affects the statistics.
    """
    return 12 + 8 * n_blocks + (6 if upsample == "resize" else 0)
