"""No checkerboard in the bundled generators: a smooth, slightly noisy sky-like image goes through
each bundled CycleGAN direction and the bundled pix2pix model, and images of the bundled StyleGAN
are generated; the spectral artifact ratio of each output (`translator.api.metrics`: the power at
1/4 and 1/2 cycles per pixel over the spectrum just beside it) must be at most 100.

Measured 2026-12-02 (seed 0): the resize-convolution CycleGAN 1.2 (AtoB) and 1.7 (BtoA), pix2pix
2.6 at its 128 px training size and 2.8 at 256 px, StyleGAN at most 1.7 over 16 seeds; the
transposed-convolution models bundled before scored 280 and 372 (CycleGAN) and 874 (pix2pix,
128 px), so the test fails on them. (The first form of the measure divided by the median of the
whole spectrum, which also scores plain smoothing: these smooth outputs scored 69-292 on it.)
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from translator.api.metrics import smooth_noisy_image, spectral_artifact_ratio
from translator.engine import Engine
from translator.image import Image
from translator.plugins import load_registry
from translator.store import ModelStore

GOAL = 100.0
CASES = [("cyclegan", "photo2painting", {"direction": "AtoB"}, 256),
         ("cyclegan", "photo2painting", {"direction": "BtoA"}, 256),
         ("pix2pix", "objects-sketch2photo", {}, 128),
         ("pix2pix", "objects-sketch2photo", {}, 256)]
IDS = ["cyclegan-AtoB", "cyclegan-BtoA", "pix2pix-128", "pix2pix-256"]
STYLEGAN_SEEDS = range(8)


@pytest.fixture(scope="module")
def store() -> ModelStore:
    return ModelStore(load_registry(third_party=False))


@pytest.mark.parametrize(("translator", "model", "params", "size"), CASES, ids=IDS)
def test_bundled_translators_make_no_periodic_artifacts(store, translator, model, params, size):
    entry = store.get(model, translator)
    assert entry.bundled and entry.card.config["upsample"] == "resize"
    sky = Image(rgb=smooth_noisy_image(size, size, seed=0))
    result = Engine("cpu", "fp32").run(store.registry.translator(translator), store.load(entry), sky, params)
    assert spectral_artifact_ratio(result.rgb) <= GOAL


def test_bundled_stylegan_makes_no_periodic_artifacts(store):
    from translator_plugins.stylegan.latents import seed_to_z

    model = store.load(store.get("objects64", "stylegan")).eval()
    z = torch.from_numpy(np.concatenate([seed_to_z(s, model.config.z_dim) for s in STYLEGAN_SEEDS])).float()
    with torch.no_grad():
        images = ((model(z, 1.0, "const") + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1).numpy()
    assert max(spectral_artifact_ratio(image) for image in images) <= GOAL
