"""Network layers the GAN plugins share: norms that can be frozen for tiled inference, the
reference initialisation, resize-then-convolve upsampling and the PatchGAN discriminator.

Imports torch (import this module only where a network is built). Every layer works on
(B, C, H, W) float tensors; the GAN networks keep their activations in [-1, 1].
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from translator.errors import ParameterError

NORMS = ("instance", "batch", "none")
UPSAMPLE = ("transposed", "resize")
"""How a generator doubles its resolution: "transposed" (a stride-2 transposed convolution, the
published CycleGAN and pix2pix layouts) or "resize" (bilinear x2 then a stride-1 convolution:
Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016; no uneven
kernel overlap, so no checkerboard)."""


class InstanceNorm(nn.InstanceNorm2d):
    """Instance normalisation without affine parameters or running statistics (as the reference
    CycleGAN and pix2pix code). (B, C, H, W) -> (B, C, H, W).

    `frozen` (None normally): per-channel (mean, var), each (C,), to normalise with instead of
    each image's own statistics; set by `frozen_instance_norm` so that the tiles of one image
    are all normalised alike.
    """

    def __init__(self, channels: int) -> None:
        super().__init__(channels, affine=False, track_running_stats=False)
        self.frozen: tuple[Tensor, Tensor] | None = None

    def forward(self, x: Tensor) -> Tensor:
        if self.frozen is None:
            return super().forward(x)
        mean, var = (s.to(device=x.device, dtype=x.dtype).view(1, -1, 1, 1) for s in self.frozen)
        return (x - mean) * torch.rsqrt(var + self.eps)


def make_norm(norm: str, channels: int) -> nn.Module:
    """The normalisation layer named by `norm`: "instance" (`InstanceNorm`), "batch" (affine,
    running statistics) or "none" (identity). Raises `ParameterError` for another name."""
    if norm == "instance":
        return InstanceNorm(channels)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ParameterError(f"unknown norm {norm!r}; use one of {', '.join(NORMS)}")


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """The reference initialisation, in place: conv weights ~ N(0, gain), biases 0, batch-norm
    scales ~ N(1, gain) and shifts 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


class ResizeConv(nn.Module):
    """Upsampling without checkerboards: bilinear x2, then a padded stride-1 convolution.

    (B, c_in, H, W) -> (B, c_out, 2H, 2W). `kernel` odd; `padding_mode` "reflect" (no dark
    border) or "zeros". The convolution is `conv` (weights (c_out, c_in, k, k)).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, *, bias: bool = True,
                 padding_mode: str = "reflect") -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ParameterError(f"ResizeConv needs an odd kernel, got {kernel}")
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, padding_mode=padding_mode, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        # what `self.conv(up)` computes, but the upsampled tensor is released once padded: the two
        # (4x the input's size each) are not held at once beside the convolution's own copies
        up = nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        conv = self.conv
        if conv.padding_mode == "zeros":
            return conv(up)
        pad = conv.kernel_size[0] // 2
        padded = nn.functional.pad(up, (pad, pad, pad, pad), mode=conv.padding_mode)
        del up
        return nn.functional.conv2d(padded, conv.weight, conv.bias, conv.stride, 0, conv.dilation, conv.groups)


def upsample_conv(kind: str, c_in: int, c_out: int, *, bias: bool, transposed_kernel: int) -> nn.Module:
    """A x2 upsampling convolution: `kind` "transposed" gives the published layout
    (`nn.ConvTranspose2d` with `transposed_kernel` 3 or 4, stride 2, exact 2H x 2W output),
    "resize" a `ResizeConv` (3x3, reflection padded). Raises `ParameterError` for another kind."""
    if kind == "transposed":
        if transposed_kernel == 3:
            return nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1, bias=bias)
        return nn.ConvTranspose2d(c_in, c_out, transposed_kernel, stride=2, padding=1, bias=bias)
    if kind == "resize":
        return ResizeConv(c_in, c_out, 3, bias=bias)
    raise ParameterError(f"unknown upsampling {kind!r}; use one of {', '.join(UPSAMPLE)}")


class PatchDiscriminator(nn.Module):
    """The PatchGAN discriminator (the reference's NLayerDiscriminator; Isola et al. 2017).

    (B, in_channels, H, W) in [-1, 1] -> (B, 1, H', W') logits, one per overlapping patch
    (70x70 for n_layers 3; H' = H/8 - 2 for H a multiple of 8). Layers: C(ndf) without norm,
    then C(2ndf), C(4ndf), ... (widths capped at 8ndf) with norm, all 4x4 with LeakyReLU 0.2,
    the last of them at stride 1, then a 4x4 convolution to one channel. A convolution followed
    by batch norm has no bias (the norm's shift replaces it); every other one has.
    Use in_channels 3 for CycleGAN, 6 (input beside output) for conditional pix2pix.
    """

    def __init__(self, ndf: int = 64, n_layers: int = 3, norm: str = "instance", in_channels: int = 3) -> None:
        super().__init__()
        bias = norm != "batch"
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        channels = ndf
        for n in range(1, n_layers + 1):
            out = ndf * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(channels, out, 4, stride=stride, padding=1, bias=bias),
                       make_norm(norm, out), nn.LeakyReLU(0.2, True)]
            channels = out
        layers.append(nn.Conv2d(channels, 1, 4, padding=1))
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


@torch.no_grad()
def measure_instance_norm(module: nn.Module, run: Callable[[], object]) -> dict[InstanceNorm, tuple[Tensor, Tensor]]:
    """Per-channel (mean, var) of the input of every `InstanceNorm` in `module` while `run()` runs.

    Statistics are averaged over the batch, in float32, each (C,); biased variance, as the layer
    uses. Layers `run()` does not reach are absent.
    """
    stats: dict[InstanceNorm, tuple[Tensor, Tensor]] = {}

    def record(layer: nn.Module, args: tuple[Tensor, ...]) -> None:
        x = args[0].float()
        stats[layer] = (x.mean(dim=(0, 2, 3)), x.var(dim=(2, 3), unbiased=False).mean(dim=0))

    handles = [m.register_forward_pre_hook(record) for m in module.modules() if isinstance(m, InstanceNorm)]
    if not handles:
        return stats
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return stats


@contextmanager
def frozen_instance_norm(module: nn.Module, run: Callable[[], object]) -> Iterator[None]:
    """Within the context, every `InstanceNorm` of `module` normalises with the statistics its
    input had while `run()` ran (a forward pass on a preview of the whole image) instead of each
    input's own, so that the tiles of one image agree. A no-op for networks without instance
    norm (batch norm at inference does not depend on the input's statistics).
    """
    stats = measure_instance_norm(module, run)
    try:
        for layer, frozen in stats.items():
            layer.frozen = frozen
        yield
    finally:
        for layer in stats:
            layer.frozen = None


def load_matching(module: nn.Module, state: dict[str, Tensor]) -> list[str]:
    """Copy into `module` every tensor of `state` whose name and shape match one of its own;
    returns the sorted names of `module`'s state it did not receive (they keep their values).

    For warm starts across layouts, for example a generator whose upsampling layers changed:
    the encoder and residual blocks are copied, the new layers stay freshly initialised.
    """
    own = module.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    module.load_state_dict(matching, strict=False)
    return sorted(set(own) - set(matching))
