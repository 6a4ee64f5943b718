"""StyleGAN2 networks (Karras et al. 2020, arXiv 1912.04958), pure PyTorch.

Generator = mapping network f: z -> w (pixel norm of z, an MLP of equalized-lr linear layers with
a learning-rate multiplier of 0.01) and synthesis network g: a learned constant 4x4 input, then
per resolution a modulated/demodulated 3x3 convolution that upsamples (transposed convolution +
FIR [1, 3, 3, 1] blur), a second 3x3 one, per-pixel noise with a learned strength after each,
and a to-RGB 1x1 modulated convolution whose outputs are summed over resolutions (the "skip"
architecture, figure 7b). Every weight uses the equalized learning rate (scaled at run time by
He's constant). The generator tracks the average w for truncation.

Discriminator: from-RGB, residual blocks (two 3x3 convolutions, blur + stride-2 downsampling, a
1x1 skip), minibatch standard deviation, a 3x3 convolution and two fully connected layers.

Images are (B, 3, R, R) in about [-1, 1]. Module names follow NVIDIA's stylegan2-ada-pytorch
(`mapping.fc0`, `synthesis.b8.conv0`, ...), so that `checkpoints.py` maps both reference layouts
one to one. Fixed FIR filters are non-persistent buffers, not part of state dicts.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from translator_plugins.stylegan.plugin import CONFIG

from translator import api

NOISE_MODES = ("const", "random", "none")
FIR = (1.0, 3.0, 3.0, 1.0)
"""The binomial filter of the paper's up- and downsampling."""
LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)


# -- configuration ---------------------------------------------------------------------------

def nvidia_channels(resolution: int, channel_base: int = 32768, channel_max: int = 512) -> list[int]:
    """Channels per resolution 4, 8, ..., `resolution` as NVIDIA computes them:
    min(channel_base // res, channel_max)."""
    return [min(channel_base // (2 ** i), channel_max) for i in range(2, _log2(resolution) + 1)]


def rosinality_channels(resolution: int, channel_multiplier: int = 2) -> list[int]:
    """Channels per resolution 4 ... `resolution` of rosinality's stylegan2-pytorch table."""
    table = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
    out = []
    for i in range(2, _log2(resolution) + 1):
        res = 2 ** i
        out.append(table[res] * (channel_multiplier if res >= 64 else 1))
    return out


def _log2(resolution: int) -> int:
    log = round(math.log2(resolution)) if resolution > 0 else 0
    if resolution < 4 or 2 ** log != resolution:
        raise api.ParameterError(f"resolution {resolution} must be a power of two, at least 4")
    return log


@dataclass(frozen=True)
class StyleGANConfig:
    """Architecture of a StyleGAN2 generator (and its training discriminator).

    resolution: output side R (a power of two >= 4).
    z_dim, w_dim: latent sizes (512 in the paper).
    mapping_layers: depth of the mapping MLP (8 in the paper).
    mapping_lr_mul: learning-rate multiplier of the mapping layers (0.01).
    channels: feature maps at resolutions 4, 8, ..., R (log2(R) - 1 numbers).
    conv_clamp: clamp activations to [-c, c] after each layer (NVIDIA's 256), None for no clamp.
    """

    resolution: int = 256
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_lr_mul: float = 0.01
    channels: tuple[int, ...] = field(default_factory=lambda: tuple(nvidia_channels(256, 16384)))
    conv_clamp: float | None = None

    def __post_init__(self) -> None:
        levels = _log2(self.resolution) - 1
        if len(self.channels) != levels:
            raise api.ParameterError(f"channels lists {len(self.channels)} widths, a {self.resolution} px "
                                     f"model needs {levels} (resolutions 4 to {self.resolution})")
        for name in ("z_dim", "w_dim", "mapping_layers"):
            if int(getattr(self, name)) < 1:
                raise api.ParameterError(f"{name} must be positive, got {getattr(self, name)}")
        if any(int(c) < 1 for c in self.channels):
            raise api.ParameterError(f"channels must be positive, got {list(self.channels)}")

    @property
    def num_ws(self) -> int:
        """Number of w vectors the synthesis network takes: 2 log2(R) - 2."""
        return 2 * _log2(self.resolution) - 2

    @property
    def resolutions(self) -> list[int]:
        return [2 ** i for i in range(2, _log2(self.resolution) + 1)]

    def width(self, res: int) -> int:
        return int(self.channels[_log2(res) - 2])

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able config of model cards (channels listed explicitly)."""
        out = asdict(self)
        out["channels"] = list(self.channels)
        return out


def architecture(config: Mapping[str, Any]) -> StyleGANConfig:
    """The structure a config describes: `config` checked against `plugin.CONFIG` (missing keys
    at their defaults), `channels` derived when not listed (`channel_multiplier`: rosinality's
    table, else NVIDIA's `channel_base` / `channel_max` rule). Raises `ParameterError`."""
    values = api.resolve_params(CONFIG, config)
    resolution = values["resolution"]
    channels = values["channels"]
    if not channels:
        if values["channel_multiplier"]:
            channels = rosinality_channels(resolution, values["channel_multiplier"])
        else:
            channels = nvidia_channels(resolution, values["channel_base"], values["channel_max"])
    return StyleGANConfig(resolution=resolution, z_dim=values["z_dim"], w_dim=values["w_dim"],
                          mapping_layers=values["mapping_layers"], mapping_lr_mul=values["mapping_lr_mul"],
                          channels=tuple(channels), conv_clamp=values["conv_clamp"])


# -- building blocks -------------------------------------------------------------------------

def fir_kernel(taps: Sequence[float] = FIR) -> Tensor:
    """The separable 2-D filter of `taps`, normalised to sum 1, (k, k)."""
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[:, None] * k[None, :]
    return k / k.sum()


def upfirdn2d(x: Tensor, kernel: Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0),
              gain: float = 1.0) -> Tensor:
    """Upsample (zero insertion), pad, FIR filter, downsample; as the references' `upfirdn2d`.

    x: (B, C, H, W); kernel: (k, k), applied as a true convolution to every channel;
    pad: (before, after), the same on both axes; gain: multiplies the kernel (up**2 keeps the
    mean when upsampling). Returns (B, C, (H*up + pad0 + pad1 - k + 1) // down, ...).
    """
    b, c, h, w = x.shape
    if up > 1:
        spread = x.new_zeros(b, c, h * up, w * up)
        spread[:, :, ::up, ::up] = x
        x = spread
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    weight = (kernel.flip(0, 1) * gain).to(x.dtype)[None, None].expand(c, 1, *kernel.shape)
    x = F.conv2d(x, weight, groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


def bias_act(x: Tensor, bias: Tensor | None, act: str = "lrelu", clamp: float | None = None) -> Tensor:
    """x + bias (per channel, dim 1), then leaky ReLU (slope 0.2) times sqrt(2) for "lrelu",
    then clamped to [-clamp, clamp] if given."""
    if bias is not None:
        x = x + bias.to(x.dtype).reshape(1, -1, *([1] * (x.ndim - 2)))
    if act == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


class EqualLinear(nn.Module):
    """Fully connected layer with equalized learning rate: y = x W^T (lr_mul / sqrt(in)) + b lr_mul.

    weight: (out, in) initialised N(0, 1) / lr_mul; bias: (out,) initialised `bias_init`.
    """

    def __init__(self, in_features: int, out_features: int, *, bias_init: float = 0.0, lr_mul: float = 1.0,
                 act: str = "linear") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        """(B, in) -> (B, out)."""
        x = x @ (self.weight * self.weight_gain).t().to(x.dtype)
        return bias_act(x, self.bias * self.lr_mul, self.act)


class EqualConv2d(nn.Module):
    """Convolution with equalized learning rate, optionally with FIR blur + stride-2 downsampling.

    weight: (out, in, k, k) ~ N(0, 1), scaled by 1 / sqrt(in k k) at run time.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, down: bool = False,
                 bias: bool = True, act: str = "lrelu") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.down = down
        self.act = act
        self.kernel_size = kernel_size
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, in, H, W) -> (B, out, H, W), or (B, out, H/2, W/2) when `down`."""
        weight = (self.weight * self.weight_gain).to(x.dtype)
        if self.down:
            p = (len(FIR) - 2) + (self.kernel_size - 1)
            x = upfirdn2d(x, self.fir, pad=((p + 1) // 2, p // 2))
            x = F.conv2d(x, weight, stride=2)
        else:
            x = F.conv2d(x, weight, padding=self.kernel_size // 2)
        return bias_act(x, self.bias, self.act)


class ModulatedConv2d(nn.Module):
    """The paper's modulated convolution (section 2.2, eq. 1-3).

    A style s = A(w) (affine layer, bias initialised to 1) scales the input channels of the
    weight, w'_ijk = s_i w_ijk; with demodulation each output channel is then normalised,
    w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + 1e-8). Run as one grouped convolution per batch.
    `up`: transposed convolution with stride 2, then the FIR blur (gain 4).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int, *,
                 demodulate: bool = True, up: bool = False) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.demodulate = demodulate
        self.up = up
        self.padding = kernel_size // 2
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        """x (B, in, H, W), w (B, w_dim) -> (B, out, H, W), or (B, out, 2H, 2W) when `up`."""
        b, c_in, h, wid = x.shape
        styles = self.affine(w)                                                   # [B, I]
        weight = self.weight[None] * self.weight_gain * styles[:, None, :, None, None]  # [B, O, I, k, k]
        if self.demodulate:
            weight = weight * (weight.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
        c_out, k = weight.shape[1], weight.shape[-1]
        x = x.reshape(1, b * c_in, h, wid)
        weight = weight.to(x.dtype)
        if self.up:
            weight = weight.transpose(1, 2).reshape(b * c_in, c_out, k, k)       # [B*I, O, k, k]
            x = F.conv_transpose2d(x, weight, stride=2, groups=b)
            x = x.reshape(b, c_out, *x.shape[-2:])
            return upfirdn2d(x, self.fir, pad=(1, 1), gain=4.0)
        x = F.conv2d(x, weight.reshape(b * c_out, c_in, k, k), padding=self.padding, groups=b)
        return x.reshape(b, c_out, *x.shape[-2:])


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution, per-pixel noise times a learned strength, bias, leaky ReLU.

    noise_const: the fixed noise image (R, R) of noise mode "const".
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *,
                 up: bool = False, conv_clamp: float | None = None) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.resolution = resolution
        self.conv_clamp = conv_clamp

    def forward(self, x: Tensor, w: Tensor, noise_mode: str = "const", noise: Tensor | None = None) -> Tensor:
        """x (B, in, H, W), w (B, w_dim) -> (B, out, R, R). `noise` (B or 1, 1, R, R) overrides the mode."""
        x = self.conv(x, w)
        if noise is None and noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device, dtype=x.dtype)
        elif noise is None and noise_mode == "const":
            noise = self.noise_const
        if noise is not None:
            x = x + noise.to(x.dtype) * self.noise_strength.to(x.dtype)
        return bias_act(x, self.bias, "lrelu", self.conv_clamp)


class ToRGB(nn.Module):
    """1x1 modulated convolution without demodulation, plus bias: features -> RGB."""

    def __init__(self, in_channels: int, w_dim: int, *, conv_clamp: float | None = None) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))
        self.conv_clamp = conv_clamp

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        """(B, C, H, W), (B, w_dim) -> (B, 3, H, W)."""
        return bias_act(self.conv(x, w), self.bias, "linear", self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution R: [conv0 (upsampling)], conv1, to-RGB added to the upsampled image.

    The 4x4 block starts from the learned constant and has no conv0. Takes the w's at indices
    [first, first + num_conv + 1) of the synthesis network's ws (the to-RGB w is shared with
    the next block's conv0).
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *,
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.resolution = resolution
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True,
                                        conv_clamp=conv_clamp)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, conv_clamp=conv_clamp)
        self.torgb = ToRGB(out_channels, w_dim, conv_clamp=conv_clamp)
        self.num_conv = 1 if resolution == 4 else 2
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def layers(self) -> list[SynthesisLayer]:
        return [self.conv1] if self.resolution == 4 else [self.conv0, self.conv1]

    def forward(self, x: Tensor | None, img: Tensor | None, ws: Tensor, noise_mode: str = "const",
                noises: Sequence[Tensor | None] | None = None) -> tuple[Tensor, Tensor]:
        """x: features (B, C, R/2, R/2) (None at 4x4); img: RGB so far (B, 3, R/2, R/2) or None;
        ws: (B, num_conv + 1, w_dim). Returns features (B, C', R, R) and RGB (B, 3, R, R)."""
        noises = noises if noises is not None else [None] * self.num_conv
        if self.resolution == 4:
            x = self.const[None].expand(ws.shape[0], -1, -1, -1).to(ws.dtype)
            x = self.conv1(x, ws[:, 0], noise_mode, noises[0])
        else:
            x = self.conv0(x, ws[:, 0], noise_mode, noises[0])
            x = self.conv1(x, ws[:, 1], noise_mode, noises[1])
        y = self.torgb(x, ws[:, self.num_conv])
        if img is not None:
            img = upfirdn2d(img, self.fir, up=2, pad=(2, 1), gain=4.0)
            y = y + img
        return x, y


class MappingNetwork(nn.Module):
    """f: z -> w. Pixel norm of z, then `num_layers` equalized-lr linear layers with leaky ReLU
    and learning-rate multiplier `lr_mul`. w_avg: running average of w (for truncation)."""

    def __init__(self, z_dim: int, w_dim: int, num_layers: int = 8, lr_mul: float = 0.01) -> None:
        super().__init__()
        self.z_dim, self.w_dim = z_dim, w_dim
        features = [z_dim] + [w_dim] * num_layers
        for i in range(num_layers):
            setattr(self, f"fc{i}", EqualLinear(features[i], features[i + 1], lr_mul=lr_mul, act="lrelu"))
        self.num_layers = num_layers
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: Tensor) -> Tensor:
        """z (B, z_dim) -> w (B, w_dim)."""
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x


class SynthesisNetwork(nn.Module):
    """g: ws (B, num_ws, w_dim) -> image (B, 3, R, R); blocks `b4`, `b8`, ..., `bR`."""

    def __init__(self, config: StyleGANConfig) -> None:
        super().__init__()
        self.resolution = config.resolution
        self.num_ws = config.num_ws
        previous = 0
        for res in config.resolutions:
            width = config.width(res)
            setattr(self, f"b{res}", SynthesisBlock(previous, width, config.w_dim, res,
                                                    conv_clamp=config.conv_clamp))
            previous = width

    def blocks(self) -> list[SynthesisBlock]:
        return [getattr(self, f"b{2 ** i}") for i in range(2, _log2(self.resolution) + 1)]

    def layers(self) -> list[SynthesisLayer]:
        """Every noise-taking layer, in order (the order of `forward`'s `noises`)."""
        return [layer for block in self.blocks() for layer in block.layers()]

    def forward(self, ws: Tensor, noise_mode: str = "const", noises: Sequence[Tensor] | None = None) -> Tensor:
        """ws (B, num_ws, w_dim) -> (B, 3, R, R). `noises`: one (B or 1, 1, r, r) per layer."""
        if ws.ndim != 3 or ws.shape[1] != self.num_ws:
            raise api.ParameterError(f"synthesis needs ws of shape (B, {self.num_ws}, w_dim), got {tuple(ws.shape)}")
        if noise_mode not in NOISE_MODES:
            raise api.ParameterError(f"noise mode {noise_mode!r} is not one of {', '.join(NOISE_MODES)}")
        x = img = None
        first, layer = 0, 0
        for block in self.blocks():
            block_noises = None if noises is None else noises[layer:layer + block.num_conv]
            x, img = block(x, img, ws[:, first:first + block.num_conv + 1], noise_mode, block_noises)
            first += block.num_conv
            layer += block.num_conv
        return img


class Generator(nn.Module):
    """The StyleGAN2 generator G = g(f(z)); the inference model of the `stylegan` translator."""

    def __init__(self, config: StyleGANConfig) -> None:
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config.z_dim, config.w_dim, config.mapping_layers, config.mapping_lr_mul)
        self.synthesis = SynthesisNetwork(config)

    @property
    def num_ws(self) -> int:
        return self.config.num_ws

    def ws(self, z: Tensor, psi: float = 1.0) -> Tensor:
        """z (B, z_dim) -> ws (B, num_ws, w_dim), truncated toward w_avg: w_avg + psi (w - w_avg)."""
        w = self.mapping(z)
        if psi != 1.0:
            w = self.mapping.w_avg.to(w.dtype).lerp(w, psi)
        return w[:, None].expand(-1, self.num_ws, -1)

    def forward(self, z: Tensor, psi: float = 1.0, noise_mode: str = "const") -> Tensor:
        """z (B, z_dim) -> images (B, 3, R, R) in about [-1, 1]."""
        return self.synthesis(self.ws(z, psi), noise_mode)

    @torch.no_grad()
    def update_w_avg(self, samples: int = 10_000, seed: int = 0) -> Tensor:
        """Set `mapping.w_avg` to the mean w of `samples` seeded z's (for files that lack it)."""
        generator = torch.Generator().manual_seed(seed)
        device = self.mapping.w_avg.device
        total = torch.zeros(self.config.w_dim, dtype=torch.float64)
        for start in range(0, samples, 1000):
            z = torch.randn(min(1000, samples - start), self.config.z_dim, generator=generator).to(device)
            total += self.mapping(z).double().sum(0).cpu()
        self.mapping.w_avg.copy_((total / samples).float())
        return self.mapping.w_avg


class DiscriminatorBlock(nn.Module):
    """Residual block: 3x3 conv, 3x3 conv with downsampling, 1x1 downsampling skip; (x + skip) / sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, down=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, down=True, bias=False, act="linear")

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C', H/2, W/2)."""
        return (self.conv1(self.conv0(x)) + self.skip(x)) / math.sqrt(2.0)


def minibatch_stddev(x: Tensor, group_size: int = 4) -> Tensor:
    """Appends one feature map: the standard deviation of each feature over groups of up to
    `group_size` samples, averaged over features and pixels (Karras et al. 2018, 3).
    (B, C, H, W) -> (B, C + 1, H, W); B must be divisible by the group size used."""
    b, c, h, w = x.shape
    g = min(group_size, b)
    while b % g:
        g -= 1
    y = x.reshape(g, -1, c, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()   # [B/g, C, H, W]
    y = y.mean(dim=[1, 2, 3]).reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """Residual discriminator: (B, 3, R, R) in [-1, 1] -> one logit per image (B, 1)."""

    def __init__(self, config: StyleGANConfig, mbstd_group: int = 4) -> None:
        super().__init__()
        self.resolution = config.resolution
        self.frgb = EqualConv2d(3, config.width(config.resolution), 1)
        for res in reversed(config.resolutions[1:]):
            setattr(self, f"b{res}", DiscriminatorBlock(config.width(res), config.width(res // 2)))
        c4 = config.width(4)
        self.mbstd_group = mbstd_group
        self.conv = EqualConv2d(c4 + 1, c4, 3)
        self.fc = EqualLinear(c4 * 16, c4, act="lrelu")
        self.out = EqualLinear(c4, 1)

    def forward(self, img: Tensor) -> Tensor:
        if img.ndim != 4 or img.shape[1] != 3 or img.shape[-1] != self.resolution or img.shape[-2] != self.resolution:
            raise api.ParameterError(f"discriminator needs (B, 3, {self.resolution}, {self.resolution}), "
                                     f"got {tuple(img.shape)}")
        x = self.frgb(img)
        res = self.resolution
        while res > 4:
            x = getattr(self, f"b{res}")(x)
            res //= 2
        x = self.conv(minibatch_stddev(x, self.mbstd_group))
        return self.out(self.fc(x.flatten(1)))


def build(config: Mapping[str, Any]) -> Generator:
    """A fresh generator (float32, CPU) from a config dict (see `architecture`)."""
    return Generator(architecture(config))
