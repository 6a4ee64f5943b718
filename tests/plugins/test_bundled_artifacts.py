"""No checkerboard in the bundled generators: a smooth, slightly noisy sky-like image goes through
each bundled CycleGAN direction and the bundled pix2pix model, and the spectral artifact ratio of
the output (`translator.api.metrics`: peak power at 1/4 and 1/2 cycles per pixel over the
spectrum's median) is measured.

The transposed-convolution models bundled before scored 4,800-9,500 (CycleGAN) and about 36,000
(pix2pix); real photos score about 1-70. The resize-convolution models score 106-227 (measured
2026-12-01, seeds 0 and 4): no visible checkerboard, but their outputs of this input are so smooth
that the spectrum's median is tiny and faint regular structure still stands out. The issue's goal
of at most 100 is not met yet (strict xfail: it fails loudly once a retrained model meets it).
pix2pix is measured at its training size (128 px): bigger inputs are run at that size and the
output enlarged bilinearly, which the measure sees as periodic (7,900 at 256 px).
"""
from __future__ import annotations

import pytest

from translator.api.metrics import smooth_noisy_image, spectral_artifact_ratio
from translator.engine import Engine
from translator.image import Image
from translator.plugins import load_registry
from translator.store import ModelStore

NO_CHECKERBOARD = 1000.0
GOAL = 100.0
CASES = [("cyclegan", "photo2painting", {"direction": "AtoB"}, 256),
         ("cyclegan", "photo2painting", {"direction": "BtoA"}, 256),
         ("pix2pix", "objects-sketch2photo", {}, 128)]
IDS = ["cyclegan-AtoB", "cyclegan-BtoA", "pix2pix"]


@pytest.fixture(scope="module")
def ratios() -> dict[str, float]:
    store = ModelStore(load_registry(third_party=False))
    engine = Engine("cpu", "fp32")
    out = {}
    for (translator, model, params, size), name in zip(CASES, IDS):
        entry = store.get(model, translator)
        assert entry.bundled and entry.card.config["upsample"] == "resize"
        sky = Image(rgb=smooth_noisy_image(size, size, seed=0))
        result = engine.run(store.registry.translator(translator), store.load(entry), sky, params)
        out[name] = spectral_artifact_ratio(result.rgb)
    return out


@pytest.mark.parametrize("name", IDS)
def test_bundled_generator_has_no_checkerboard(ratios, name):
    assert ratios[name] <= NO_CHECKERBOARD


@pytest.mark.xfail(strict=True, reason="issue 11 goal (ratio <= 100) not met by the CPU-trained models: 106-227")
def test_bundled_generators_meet_the_goal(ratios):
    assert max(ratios.values()) <= GOAL, ratios
