"""packaging/recipes/evaluate.py: it holds out exactly what the recipes hold out."""
from __future__ import annotations

import sys
from pathlib import Path

RECIPES = Path(__file__).resolve().parents[2] / "packaging" / "recipes"
sys.path.insert(0, str(RECIPES))

import bundled  # noqa: E402
import evaluate  # noqa: E402


def test_held_out_matches_the_recipes_split(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(25):
        (data / f"img_{i:02d}.png").write_bytes(b"")  # names only: find() matches by extension
    train_dir, held = bundled.split_held_out(data, tmp_path / "work", "train")
    assert evaluate.held_out(data) == held and len(held) == 2
    assert sorted(p.name for p in train_dir.iterdir()) == sorted(p.name for p in bundled.find(data) if p not in held)
