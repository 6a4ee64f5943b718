"""The bundled colorize model: no periodic artifacts, and 10 true-colour hints gain over gray.

The held-out figures on real photos (another source than the training photos) are measured by
packaging/recipes/train_colorize.py and stated in the model card; here the same measures run on
synthetic images so the suite needs no data set.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from translator import api
from translator.api.metrics import psnr, smooth_noisy_image, spectral_artifact_ratio
from translator.image import Image
from translator_plugins import colorize
from translator_plugins.colorize import lab

torch.set_num_threads(1)


@pytest.fixture
def bundled(plugin_registry, model_store):
    spec = plugin_registry(colorize).translator("colorize")
    entry, model = model_store(colorize).open("colorize")
    assert entry is not None and entry.bundled
    return spec, entry, model


def test_no_periodic_artifacts_on_a_smooth_noisy_sky(bundled, run_translator):
    spec, _, model = bundled
    sky = Image(rgb=smooth_noisy_image())
    assert spectral_artifact_ratio(run_translator(spec, sky, model=model).rgb) <= 100
    # the lightness is the input's own: doubled chroma makes an artifact of the colours stand out more
    assert spectral_artifact_ratio(run_translator(spec, sky, model=model, saturation=2.0).rgb) <= 100


def patchwork(seed: int, width: int = 128, height: int = 96) -> np.ndarray:
    """A photo-like test picture: 6 Voronoi cells, each its own colour, shaded, mildly noisy."""
    rng = np.random.default_rng(seed)
    centres = rng.random((6, 2)) * (height, width)
    colours = rng.uniform(0.1, 0.9, (6, 3))
    ys, xs = np.mgrid[0:height, 0:width]
    cell = np.argmin((ys[..., None] - centres[:, 0]) ** 2 + (xs[..., None] - centres[:, 1]) ** 2, axis=2)
    shade = 0.85 + 0.15 * np.sin(xs / 17.0)[..., None]
    image = colours[cell] * shade + rng.normal(0, 0.01, (height, width, 3))
    return image.clip(0, 1).astype(np.float32)


def true_colour_points(rgb: np.ndarray, seed: int, count: int = 10) -> tuple[api.ColorPoint, ...]:
    """`count` points at seeded random places, each the true mean colour of the 5x5 patch there."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    points = []
    for _ in range(count):
        row, col = int(rng.integers(0, height)), int(rng.integers(0, width))
        patch = rgb[max(row - 2, 0):row + 3, max(col - 2, 0):col + 3].reshape(-1, 3).mean(axis=0)
        points.append(api.ColorPoint((col + 0.5) / width, (row + 0.5) / height,
                                     tuple(int(c) for c in np.clip(patch * 255 + 0.5, 0, 255))))
    return tuple(points)


def test_ten_true_colour_hints_gain_3_db_over_gray(bundled, run_translator):
    """Measured with the bundled model (2026-12-02): +7.0 dB here (4.2, 8.6, 8.2); on the 51 held-out photos of
    other sources the recipe measured 23.8 dB with 10 hints against 19.7 dB for gray (+4.2 dB)."""
    spec, entry, model = bundled
    gains = []
    for seed in range(3):
        truth = patchwork(seed)
        gray_rgb = lab.lab_to_rgb(lab.lightness(torch.from_numpy(truth).permute(2, 0, 1)[None]),
                                  torch.zeros(1, 2, *truth.shape[:2]))[0].permute(1, 2, 0).numpy()
        hinted = run_translator(spec, Image(rgb=gray_rgb, grayscale=True), model=model,
                                hints=true_colour_points(truth, seed))
        gains.append(psnr(hinted.rgb, truth) - psnr(gray_rgb, truth))
    assert np.mean(gains) >= 3.0, gains
    card = entry.card.metrics
    assert card["heldout_psnr_db_10_hints"] >= card["heldout_psnr_db_gray_baseline"] + 3.0


def test_card_automatic_colours_beat_gray_and_keep_half_the_colourfulness(bundled):
    """The recipe's held-out figures (51 photos of other sources than the training photos): the
    automatic colours score above the gray image and keep at least half the truth's colourfulness.
    Measured 2026-12-02: 19.68 dB against 19.65 (27 of 51 above), colourfulness 29.4 against 56.2."""
    card = bundled[1].card.metrics
    assert card["heldout_psnr_db"] > card["heldout_psnr_db_gray_baseline"]
    assert card["heldout_colourfulness_ours"] >= 0.5 * card["heldout_colourfulness_truth"]
