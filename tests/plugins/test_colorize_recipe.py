"""packaging/recipes/train_colorize.py end to end on the CPU with a tiny budget and tiny fake data:
it splits by source, trains with the real translator-train, measures and writes weights and card."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "packaging" / "recipes" / "train_colorize.py"


def fake_shared(root: Path) -> Path:
    """shared/datasets/photos with 4 'gcompris' photos (3 train, 1 calibrates the chroma) and 2
    'opencv' photos (held out), and shared/datasets/objects with 3 object photos (not used)."""
    rng = np.random.default_rng(0)
    names = {"photos": ("gcompris_a", "gcompris_b", "gcompris_c", "gcompris_d", "opencv_e", "opencv_f"),
             "objects": ("birds_a", "cats_b", "tools_c")}
    for folder, files in names.items():
        (root / "datasets" / folder).mkdir(parents=True)
        for name in files:
            rgb = cv2.resize(rng.random((4, 4, 3)).astype(np.float32), (150, 136), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(root / "datasets" / folder / f"{name}.jpg"), (rgb.clip(0, 1) * 255).astype(np.uint8))
    return root


@pytest.mark.slow
def test_recipe_runs_on_the_cpu_with_a_tiny_budget(tmp_path):
    shared = fake_shared(tmp_path / "shared")
    out = tmp_path / "models"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(RECIPE), "--shared", str(shared), "--work", str(tmp_path / "work"),
                           "--out", str(out), "--steps", "2", "--device", "cpu", "--threads", "1"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((out / "photos-unet.json").read_text())
    assert (out / "photos-unet.safetensors").stat().st_size > 0
    assert card["training"]["steps"] == 2 and "preset cpu" in card["training"]["device"]
    assert "3 gcompris photos" in card["training"]["data"]["image"]
    assert card["metrics"]["heldout_photos"] == 2  # the two photos of the held-out source
    assert card["metrics"]["chroma_calibration_images"] == 1  # a tenth of the gcompris photos, at least one
    assert card["config"]["hints"] is False and card["config"]["upsample"] == "resize"
    for key in ("heldout_psnr_db", "heldout_psnr_db_gray_baseline", "heldout_colourfulness_ours_std",
                "heldout_psnr_db_10_hints", "heldout_ssim"):
        assert np.isfinite(card["metrics"][key])
    assert not (ROOT / "plugins" / "colorize" / "models" / "photos-unet.json").samefile(out / "photos-unet.json")
