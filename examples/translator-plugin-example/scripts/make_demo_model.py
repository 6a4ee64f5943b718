"""Rebuild the bundled demonstration model `translator_plugin_example/models/warm.*`.

    python scripts/make_demo_model.py            # about a minute on a laptop CPU

Writes 64 pairs of synthetic images (A: smooth random colours, B: the same warmed up: red up,
blue down), trains `tone` on them with `translator-train` in a temporary TRANSLATOR_HOME, and
copies the exported model and its card into the package, where the model store finds it as a
bundled model (`TranslatorSpec.models_dir`) and `pyproject.toml` ships it (package-data).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

MODELS = Path(__file__).resolve().parents[1] / "translator_plugin_example" / "models"
NAME = "warm"


def warm(rgb: np.ndarray) -> np.ndarray:
    """The mapping the model learns: float (H, W, 3) in [0, 1] -> warmer colours."""
    return np.clip(rgb * np.array([1.15, 1.0, 0.8]) + np.array([0.05, 0.02, 0.0]), 0.0, 1.0)


def write_pairs(root: Path, count: int = 64, size: int = 96) -> None:
    rng = np.random.default_rng(0)
    for folder in ("A", "B"):
        (root / folder).mkdir(parents=True)
    for index in range(count):
        coarse = rng.random((4, 4, 3))
        rgb = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size), Image.BILINEAR),
                         dtype=np.float64) / 255
        for folder, pixels in (("A", rgb), ("B", warm(rgb))):
            Image.fromarray((pixels * 255).round().astype(np.uint8)).save(root / folder / f"{index:03d}.png")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_pairs(root / "data")
        env = dict(os.environ, TRANSLATOR_HOME=str(root / "home"))
        command = ["translator-train", "--plugin", "tone", "--data", str(root / "data"), "--name", NAME,
                   "--steps", "300", "--size", "64", "--device", "cpu", "--seed", "0", "--quiet"]
        subprocess.run(command, env=env, check=True)
        store = root / "home" / "models" / "tone"
        MODELS.mkdir(exist_ok=True)
        shutil.copyfile(store / f"{NAME}.safetensors", MODELS / f"{NAME}.safetensors")
        card = json.loads((store / f"{NAME}.json").read_text(encoding="utf-8"))
        card.update(title="Warm tone (demo)", description="Warms colours up (red up, blue down); learnt in 300 "
                    "steps from 64 synthetic pairs by scripts/make_demo_model.py.",
                    source={"kind": "bundled", "script": "scripts/make_demo_model.py"})
        card["training"]["command"] = ["PAIRS" if word == str(root / "data") else word for word in command]
        card["training"]["data"] = {"A": "64 synthetic smooth colour images", "B": "the same, warmed up"}
        (MODELS / f"{NAME}.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODELS / NAME}.safetensors and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
