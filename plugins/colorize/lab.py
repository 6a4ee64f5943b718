"""CIE Lab handling with kornia: the network sees lightness L, predicts the chroma ab.

Conventions (those of Zhang et al.'s networks): L in [0, 100], a and b roughly in [-110, 110];
the networks take `(L - L_CENT) / L_NORM` and `ab / AB_NORM`. The output image keeps the input's
own L at full resolution; only ab is predicted at a working size and resized, so fine detail is
never lost (`colorize_rgb` does all of it).

Every function takes batched tensors (B, C, H, W) and computes in float32.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

L_CENT = 50.0
L_NORM = 100.0
AB_NORM = 110.0
GAMUT_STEPS = 10
"""Bisection steps of `fit_gamut`: chroma is fitted to within 2**-10 of the largest in-gamut scale."""
GAMUT_EPS = 1e-4
"""RGB values this far outside [0, 1] count as in gamut (float error of the conversions)."""


def _check(x: Tensor, channels: int, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} must be (B, {channels}, H, W), got {tuple(x.shape)}")


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB (B, 3, H, W) in [0, 1] -> Lab (B, 3, H, W): L in [0, 100], ab about [-110, 110]."""
    import kornia

    _check(rgb, 3, "rgb")
    return kornia.color.rgb_to_lab(rgb.float().clamp(0.0, 1.0))


def lightness(rgb: Tensor) -> Tensor:
    """sRGB (B, 3, H, W) in [0, 1] -> L (B, 1, H, W) in [0, 100]: the image "converted to gray"."""
    return rgb_to_lab(rgb)[:, :1]


def lab_to_rgb(lightness_: Tensor, ab: Tensor, *, clip: bool = True) -> Tensor:
    """L (B, 1, H, W) and ab (B, 2, H, W) -> sRGB (B, 3, H, W), clipped to [0, 1] unless `clip` is False."""
    import kornia
    import torch

    _check(lightness_, 1, "L")
    _check(ab, 2, "ab")
    return kornia.color.lab_to_rgb(torch.cat([lightness_.float(), ab.float()], dim=1), clip=clip)


def normalize_l(lightness_: Tensor) -> Tensor:
    """L in [0, 100] -> the networks' input, about [-0.5, 0.5]."""
    return (lightness_ - L_CENT) / L_NORM


def normalize_ab(ab: Tensor) -> Tensor:
    """ab in Lab units -> about [-1, 1]."""
    return ab / AB_NORM


def unnormalize_ab(ab: Tensor) -> Tensor:
    """About [-1, 1] -> ab in Lab units."""
    return ab * AB_NORM


def working_shape(height: int, width: int, size: int, multiple: int) -> tuple[int, int]:
    """The shape a network runs at: the longer side scaled to `size`, the aspect ratio kept, both
    sides rounded to a multiple of `multiple` (at least one multiple)."""
    if height < 1 or width < 1 or size < 1 or multiple < 1:
        raise ValueError(f"bad working shape request {height}x{width}, size {size}, multiple {multiple}")
    scale = size / max(height, width)

    def side(n: int) -> int:
        return max(multiple, round(n * scale / multiple) * multiple)

    return side(height), side(width)


def resize(x: Tensor, shape: tuple[int, int]) -> Tensor:
    """Bilinear resize of (B, C, H, W) to `shape` (antialiased when shrinking); identity if equal."""
    import kornia

    if tuple(x.shape[-2:]) == tuple(shape):
        return x
    return kornia.geometry.transform.resize(x, shape, interpolation="bilinear", antialias=True)


def fit_gamut(lightness_: Tensor, ab: Tensor, *, steps: int = GAMUT_STEPS) -> Tensor:
    """Scale the chroma ab of each pixel down (never up) until the colour lies inside sRGB.

    The hue and, above all, L are kept: a gray colour (ab = 0) with L in [0, 100] always lies
    inside the gamut, so for each pixel the largest scale in [0, 1] is found by bisection. Only
    pixels outside the gamut are worked on. Returns the fitted ab (B, 2, H, W).
    """
    import torch

    _check(lightness_, 1, "L")
    _check(ab, 2, "ab")
    lightness_, ab = lightness_.float(), ab.float()
    rgb = lab_to_rgb(lightness_, ab, clip=False)
    outside = ((rgb < -GAMUT_EPS) | (rgb > 1.0 + GAMUT_EPS)).any(dim=1, keepdim=True)  # (B, 1, H, W)
    if not bool(outside.any()):
        return ab
    chosen = outside[:, 0]  # (B, H, W)
    pixels_ab = ab.permute(0, 2, 3, 1)[chosen]  # (N, 2)
    bad_l = lightness_[:, 0][chosen].view(1, 1, -1, 1)  # (1, 1, N, 1)
    bad_ab = pixels_ab.t().reshape(1, 2, -1, 1)  # (1, 2, N, 1)
    low = torch.zeros_like(bad_l)  # scales known to be inside the gamut
    high = torch.ones_like(bad_l)  # scales known to be outside
    for _ in range(steps):
        mid = (low + high) / 2
        test = lab_to_rgb(bad_l, bad_ab * mid, clip=False)
        inside = ((test >= -GAMUT_EPS) & (test <= 1.0 + GAMUT_EPS)).all(dim=1, keepdim=True)
        low = torch.where(inside, mid, low)
        high = torch.where(inside, high, mid)
    fitted = ab.permute(0, 2, 3, 1).clone()  # (B, H, W, 2)
    fitted[chosen] = pixels_ab * low.view(-1, 1)
    return fitted.permute(0, 3, 1, 2).contiguous()


def colorize_rgb(lightness_: Tensor, ab: Tensor, *, saturation: float = 1.0) -> Tensor:
    """Recombine full-resolution L (B, 1, H, W) with predicted ab (B, 2, h, w) of any working size.

    ab is resized to (H, W), multiplied by `saturation`, and fitted into the sRGB gamut without
    touching L. Returns sRGB (B, 3, H, W) in [0, 1] whose L equals the input's.
    """
    ab = resize(ab.float(), tuple(lightness_.shape[-2:])) * float(saturation)
    return lab_to_rgb(lightness_, fit_gamut(lightness_, ab)).clamp(0.0, 1.0)
