"""Image-quality measures shared by plugins, tests and the bundled-model recipes.

NumPy only (no torch). Images are float arrays in [0, 1], (H, W) gray or (H, W, 3) RGB.
"""
from __future__ import annotations

import numpy as np

PEAK_FREQUENCIES = (0.25, 0.5)
"""Cycles per pixel where the upsampling artifacts of stride-2 (and stride-4) layers show."""
BESIDE_FIRST = 4
"""Nearest distance in bins of the spectrum that `spectral_artifact_ratio` compares a peak with
(the Hann window spreads a pure frequency over about 2 bins)."""


def _gray(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image, dtype=np.float64)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = array[..., :3] @ np.array([0.299, 0.587, 0.114])
    if array.ndim != 2:
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {tuple(np.shape(image))}")
    if min(array.shape) < 16:
        raise ValueError(f"image of {array.shape[1]}x{array.shape[0]} px is too small to measure (16 px at least)")
    return array


def spectral_artifact_ratio(image: np.ndarray) -> float:
    """How far periodic artifacts (checkerboards, stripes every 2 or 4 px) stand out.

    The Hann-windowed power spectrum of the image's luminance is taken. At each artifact frequency
    (fy, fx) with fy, fx in {0, 1/4, 1/2} cycles per pixel (not both 0) the peak, the largest power
    over its bin and the 8 neighbouring bins, is compared with the spectrum beside it: in each of
    the four axis directions, the median of the same 3x3 maxima `BESIDE_FIRST` to `reach` bins away
    (reach = max(8, side / 16)). The result is the largest peak over the largest of those four
    medians: a periodic pattern is a narrow peak above its neighbourhood, whatever the slope of the
    spectrum. Clean outputs and photos score about 1-5; a period-4 ripple of amplitude 0.003 on
    `smooth_noisy_image(256, 256)` about 100; transposed-convolution checkerboards hundreds to
    tens of thousands.

    Dividing by the median of the whole spectrum instead (the first form of this measure) scored
    any smoothing as an artifact: a Gaussian blur of 1 px of that test image scored 211, of 1.5 px
    26,903, because a smooth image has almost no power at high frequencies.

    image: (H, W) or (H, W, 3) float array in [0, 1], at least 16 px each side.
    Raises ValueError for other shapes.
    """
    gray = _gray(image)
    height, width = gray.shape
    window = np.outer(np.hanning(height), np.hanning(width))
    power = np.abs(np.fft.fft2((gray - gray.mean()) * window)) ** 2
    peaks = np.max([np.roll(power, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
    reach = max(8, min(height, width) // 16)
    frequencies = (0.0, *PEAK_FREQUENCIES)
    worst = 0.0
    for fy in frequencies:
        for fx in frequencies:
            if fy == 0.0 and fx == 0.0:
                continue
            row, col = round(fy * height) % height, round(fx * width) % width
            peak = float(peaks[row, col])
            beside = max(float(np.median([peaks[(row + dy * k) % height, (col + dx * k) % width]
                                          for k in range(BESIDE_FIRST, reach + 1)]))
                         for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)))
            if beside <= 0.0:
                if peak > 0.0:
                    return float("inf")
                continue
            worst = max(worst, peak / beside)
    return worst


def smooth_noisy_image(height: int = 256, width: int = 256, *, noise: float = 0.02,
                       seed: int = 0) -> np.ndarray:
    """A sky-like test input: a smooth two-axis colour gradient with mild Gaussian noise.

    Returns (height, width, 3) float32 in [0, 1]. Periodic artifacts of a network show plainly on it
    (see `spectral_artifact_ratio`).
    """
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    top = np.array([0.35, 0.55, 0.85])
    bottom = np.array([0.80, 0.85, 0.95])
    image = top * (1 - y[..., None]) + bottom * y[..., None] + 0.05 * (x[..., None] - 0.5)
    image = image + rng.normal(0.0, noise, size=(height, width, 3))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two same-shape float images in [0, 1] (inf when equal)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0.0 else 10.0 * float(np.log10(1.0 / mse))
