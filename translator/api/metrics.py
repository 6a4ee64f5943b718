"""Image-quality measures shared by plugins, tests and the bundled-model recipes.

NumPy only (no torch). Images are float arrays in [0, 1], (H, W) gray or (H, W, 3) RGB.
"""
from __future__ import annotations

import numpy as np

PEAK_FREQUENCIES = (0.25, 0.5)
"""Cycles per pixel where the upsampling artifacts of stride-2 (and stride-4) layers show."""


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

    The Hann-windowed power spectrum of the image's luminance is taken; the result is the largest
    power at the frequencies (fy, fx) with fy, fx in {0, 1/4, 1/2} cycles per pixel (not both 0),
    each taken as the maximum over its bin and the 8 neighbouring bins, divided by the median
    power of the whole spectrum. Natural photos and smooth images score about 1-100; a
    transposed-convolution checkerboard scores in the thousands or more.

    image: (H, W) or (H, W, 3) float array in [0, 1], at least 16 px each side.
    Raises ValueError for other shapes.
    """
    gray = _gray(image)
    height, width = gray.shape
    window = np.outer(np.hanning(height), np.hanning(width))
    power = np.abs(np.fft.fft2((gray - gray.mean()) * window)) ** 2
    median = float(np.median(power))
    if median <= 0.0:
        return 0.0 if float(power.max()) <= 0.0 else float("inf")
    frequencies = (0.0, *PEAK_FREQUENCIES)
    peak = 0.0
    for fy in frequencies:
        for fx in frequencies:
            if fy == 0.0 and fx == 0.0:
                continue
            row, col = round(fy * height) % height, round(fx * width) % width
            rows = [(row + d) % height for d in (-1, 0, 1)]
            cols = [(col + d) % width for d in (-1, 0, 1)]
            peak = max(peak, float(power[np.ix_(rows, cols)].max()))
    return peak / median


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
