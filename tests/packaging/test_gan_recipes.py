"""The CycleGAN and pix2pix bundled-model recipes end to end on the CPU with a tiny budget: a
fake shared data folder of small generated images, one step per training stage, the held-out
evaluation, and the model plus card written to --out (never over the bundled models)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "packaging" / "recipes"


def _images(folder: Path, count: int, size: int, seed: int, on_white: bool = False) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        if on_white:
            image = np.full((size, size, 3), 255, np.uint8)
            colour = tuple(int(c) for c in rng.integers(0, 200, 3))
            cv2.circle(image, (size // 2, size // 2), size // 3, colour, -1)
        else:
            image = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"img{i:02d}.png"), image)


def _run(recipe: str, tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "out"
    command = [sys.executable, str(RECIPES / recipe), "--shared", str(tmp_path / "shared"), "--work",
               str(tmp_path / "work"), "--out", str(out), "--device", "cpu", "--preset", "cpu", "--steps", "1",
               *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    cards = list(out.glob("*.json"))
    assert len(cards) == 1 and cards[0].with_suffix(".safetensors").is_file()
    return json.loads(cards[0].read_text(encoding="utf-8"))


@pytest.mark.slow
def test_cyclegan_recipe_on_the_cpu(tmp_path):
    _images(tmp_path / "shared" / "datasets" / "photos", 10, 72, seed=0)
    _images(tmp_path / "shared" / "datasets" / "paintings", 4, 72, seed=1)
    card = _run("train_cyclegan.py", tmp_path)
    assert card["name"] == "photo2painting" and card["config"]["upsample"] == "resize"
    stages = card["training"]["stages"]
    assert len(stages) >= 1 and len(card["training"]["commands"]) == len(stages)
    assert card["training"]["steps"] == len(stages)  # one step per stage
    assert card["metrics"]["heldout_photos"] == 1
    assert {"cycle_psnr_db_heldout_photos", "artifact_ratio_smooth_noisy_AtoB"} <= set(card["metrics"])


@pytest.mark.slow
def test_pix2pix_recipe_on_the_cpu(tmp_path):
    _images(tmp_path / "shared" / "datasets" / "objects", 10, 128, seed=2, on_white=True)
    card = _run("train_pix2pix.py", tmp_path)
    assert card["name"] == "objects-sketch2photo" and card["config"]["upsample"] == "resize"
    assert card["training"]["steps"] == 1
    metrics = card["metrics"]
    assert metrics["heldout_photos"] == 1
    assert {"heldout_psnr_db_canny", "heldout_psnr_db_xdog_drawing_baseline", "artifact_ratio_smooth_noisy_128px"} \
        <= set(metrics)
