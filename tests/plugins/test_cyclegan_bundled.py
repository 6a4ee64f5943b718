"""The bundled photo <-> painting model: packaged, documented, loads, paints, and tiles closely."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from translator.engine import Engine
from translator.imageio import read_image
from translator.plugins import load_registry
from translator.store import ModelStore

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "landscape.png"


@pytest.fixture(scope="module")
def bundled():
    registry = load_registry()
    store = ModelStore(registry)
    entry = store.get("photo2painting", "cyclegan")
    return registry.translator("cyclegan"), entry, store.load(entry)


def test_card_and_file(bundled):
    _, entry, _ = bundled
    assert entry.bundled and entry.weights.stat().st_size <= 25 * 1024 * 1024
    card = entry.card
    assert set(card.config["directions"]) == {"AtoB", "BtoA"}
    for key in ("data", "steps", "time_s", "device"):
        assert card.training[key], key
    assert "photos" in card.training["data"]["A"] and "paintings" in card.training["data"]["B"]
    metrics = card.metrics
    assert metrics["cycle_psnr_db_heldout_photos"] > metrics["cycle_psnr_db_heldout_photos_untrained"] + 5


def test_paints_and_returns(bundled):
    spec, _, model = bundled
    photo = read_image(SAMPLE)
    engine = Engine("cpu", "fp32")
    painted = engine.run(spec, model, photo, {"direction": "AtoB"})
    back = engine.run(spec, model, painted, {"direction": "BtoA"})
    assert np.abs(painted.rgb - photo.rgb).mean() > 0.03  # it changes the picture
    psnr = 10 * np.log10(1 / np.mean((back.rgb - photo.rgb) ** 2))
    assert psnr > 16, psnr  # and the way back recovers it


def test_tiles_match_the_whole_image(bundled):
    """Tiles of at most 40,000 px over a 384x256 image (2 tiles, the norm statistics from a preview
    at half size). Measured on the 0-1 scale: max 0.098, mean 0.0057 for the transposed-conv model;
    max 0.102, mean 0.0112 for the resize-conv model bundled on 2026-12-01; max 0.100, mean 0.0189 for
    the one bundled on 2026-12-02 (its outputs lean more on the instance-norm statistics, which the
    half-size preview only approximates: the tiles come out slightly darker, -0.014 to -0.023 per
    channel; each tile's own statistics would differ less on average, 0.0117, but leave seams, max
    0.146)."""
    spec, _, model = bundled
    photo = read_image(SAMPLE)
    whole = Engine("cpu", "fp32").run(spec, model, photo)
    tiled = Engine("cpu", "fp32", tile_pixels=200 * 200).run(spec, model, photo)
    difference = np.abs(tiled.rgb - whole.rgb)
    assert difference.max() < 0.12 and difference.mean() < 0.025
