"""The CUDA path: tiled fp16 runs into integer planes, tile size from free memory, AMP training.
Skipped without a CUDA device; `benchmarks/gpu_check.py` runs them on one."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from translator.engine import Engine
from translator.image import Image
from translator.plugins import load_registry

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
TINY = {"ngf": 8, "ndf": 8, "n_blocks": 2, "n_layers_d": 2, "norm": "instance", "use_dropout": False,
        "directions": ["AtoB"]}


def test_cyclegan_fp16_tiles_match_fp32_on_the_cpu():
    spec = load_registry().translator("cyclegan")
    torch.manual_seed(0)
    model = spec.build(TINY).eval()
    image = Image(np.random.default_rng(0).integers(0, 256, (300, 260, 3), dtype=np.uint8))
    reference = Engine("cpu", "fp32", tile_pixels=128 * 128).run(spec, model, image)
    half = Engine("cuda", "fp16", tile_pixels=128 * 128).run(spec, model, image)
    assert half.pixels.dtype == np.uint8
    assert np.abs(half.rgb - reference.rgb).max() < 3e-2


def test_the_first_tile_comes_from_free_memory():
    engine = Engine("cuda", "fp16")
    budget = engine._tile_budget()
    free = torch.cuda.mem_get_info()[0]
    assert 32 * 32 <= budget <= free


def test_amp_training_steps_run(tmp_path):
    import cv2

    from translator.training.cli import main

    rng = np.random.default_rng(0)
    for domain in ("A", "B"):
        (tmp_path / domain).mkdir()
        for index in range(2):
            cv2.imwrite(str(tmp_path / domain / f"{index}.png"), rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    code = main(["--plugin", "cyclegan", "--from", "scratch", "--size", "32", "--load-size", "36", "--ngf", "4",
                 "--ndf", "4", "--n-blocks", "1", "--n-layers-d", "2", "--workers", "0", "--quiet", "--device",
                 "cuda", "--steps", "2", "--data-a", str(tmp_path / "A"), "--data-b", str(tmp_path / "B"),
                 "--out", str(tmp_path / "runs"), "--name", "amp", "--sample-every", "0"])
    assert code == 0
