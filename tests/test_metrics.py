"""The shared image-quality measures in translator.api.metrics."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from translator.api.metrics import psnr, smooth_noisy_image, spectral_artifact_ratio


def test_smooth_noisy_image_scores_low():
    image = smooth_noisy_image(128, 160, seed=3)
    assert image.shape == (128, 160, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert spectral_artifact_ratio(image) < 100


@pytest.mark.parametrize("period", [2, 4])
def test_faint_periodic_pattern_scores_high(period):
    image = smooth_noisy_image(128, 128)
    yy, xx = np.mgrid[:128, :128]
    pattern = ((yy // (period // 2)) % 2) ^ ((xx // (period // 2)) % 2)
    assert spectral_artifact_ratio(image + 0.03 * pattern[..., None]) > 300
    assert spectral_artifact_ratio(image + 0.003 * pattern[..., None]) < 100  # invisible at 1/255 steps


@pytest.mark.parametrize("sigma", [1.0, 1.5, 2.0, 3.0])
def test_smoothing_is_not_an_artifact(sigma):
    """A blurred image has almost no power at high frequencies; only a peak above its neighbours
    counts (the whole-spectrum median once scored these 211 to 3,300,000)."""
    blurred = cv2.GaussianBlur(smooth_noisy_image(256, 256), (0, 0), sigma)
    assert spectral_artifact_ratio(blurred) < 10
    ripple = 0.01 * np.sin(np.pi / 2 * np.arange(256))[None, :, None]  # period 4 px, 1 % amplitude
    assert spectral_artifact_ratio(blurred + ripple) > 300


def test_gray_input_and_bad_shapes():
    assert spectral_artifact_ratio(smooth_noisy_image(64, 64)[..., 0]) < 100
    assert spectral_artifact_ratio(np.zeros((32, 32))) == 0.0
    with pytest.raises(ValueError, match="too small"):
        spectral_artifact_ratio(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="shape"):
        spectral_artifact_ratio(np.zeros((4, 32, 32)))


def test_psnr():
    a = np.zeros((4, 4, 3))
    assert psnr(a, a) == float("inf")
    assert psnr(a, a + 0.1) == pytest.approx(20.0)
    with pytest.raises(ValueError):
        psnr(a, np.zeros((4, 4)))
