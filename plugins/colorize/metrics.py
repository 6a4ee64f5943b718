"""Measurements of colorization: colourfulness, PSNR and SSIM, and the grayscale test of training.

Colourfulness is the metric of Hasler and Suesstrunk (2003), "Measuring colourfulness in natural
images": with rg = R - G and yb = (R + G) / 2 - B on 8-bit values,
M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2). 0 is gray; they rate
15 "slightly", 33 "moderately" and 59 "quite" colourful.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

GRAY_COLOURFULNESS = 3.0
"""Images below this colourfulness count as grayscale (JPEG noise keeps a gray one near 1)."""


def colourfulness(rgb: Tensor) -> Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> (B,) Hasler-Suesstrunk colourfulness (8-bit scale)."""
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"rgb must be (B, 3, H, W), got {tuple(rgb.shape)}")
    red, green, blue = (rgb.float() * 255.0).unbind(dim=1)
    rg = (red - green).flatten(1)
    yb = (0.5 * (red + green) - blue).flatten(1)
    spread = (rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False)).sqrt()
    mean = (rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2).sqrt()
    return spread + 0.3 * mean


def psnr(output: Tensor, target: Tensor) -> Tensor:
    """(B, 3, H, W) in [0, 1] each -> (B,) PSNR in dB, per image (capped at 100 dB for equal images)."""
    mse = (output.float() - target.float()).pow(2).flatten(1).mean(dim=1)
    return (10.0 * (1.0 / mse.clamp_min(1e-10)).log10()).clamp_max(100.0)


def ssim(output: Tensor, target: Tensor) -> Tensor:
    """(B, 3, H, W) in [0, 1] each -> (B,) mean SSIM over pixels and channels (kornia, 11x11 window)."""
    import kornia

    return kornia.metrics.ssim(output.float(), target.float(), 11).flatten(1).mean(dim=1)


def reject_grayscale(image: Tensor) -> str | None:
    """`TrainingSpec.reject` for colorization: "grayscale" for a uint8 (3, H, W) image without
    colour (colourfulness under `GRAY_COLOURFULNESS`), else None."""
    score = colourfulness(image[None].float() / 255.0)
    return "grayscale" if float(score[0]) < GRAY_COLOURFULNESS else None
