"""No checkerboard in the bundled generators: a smooth, slightly noisy sky-like image goes through
each bundled CycleGAN direction and the bundled pix2pix model, and the spectral artifact ratio of
the output (`translator.api.metrics`: peak power at 1/4 and 1/2 cycles per pixel over the
spectrum's median) is measured.

The transposed-convolution models bundled before scored 4,800-9,500 (CycleGAN) and about 36,000
(pix2pix); real photos score about 1-70. The resize-convolution models score 69 (CycleGAN AtoB),
292 (BtoA) and 223 (pix2pix at its 128 px training size) (measured 2026-12-02, seed 0): no
visible checkerboard, but their outputs of this input are so smooth that the spectrum's median is
tiny and faint regular structure still stands out. The issue's goal of at most 100 is a strict
xfail where it is not met yet (it fails loudly once a retrained model meets it).
pix2pix runs bigger inputs at 128 px and enlarges the output with a guided filter on the input
(`pix2pix.plugin._enlarge`): 13 at 256 px (a bilinear enlargement scored about 7,900).
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
         ("pix2pix", "objects-sketch2photo", {}, 128),
         ("pix2pix", "objects-sketch2photo", {}, 256)]
IDS = ["cyclegan-AtoB", "cyclegan-BtoA", "pix2pix-128", "pix2pix-256"]
GOAL_NOT_MET = {"cyclegan-BtoA": 292, "pix2pix-128": 223}
"""Cases whose ratio is still above `GOAL`, with the measured ratio."""


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


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=f"issue 11 goal (ratio <= 100) not met: "
                                                                   f"{GOAL_NOT_MET[name]} measured"))
    if name in GOAL_NOT_MET else name for name in IDS])
def test_bundled_generators_meet_the_goal(ratios, name):
    assert ratios[name] <= GOAL
