"""The bundled StyleGAN model: its card, the store, `translator apply` without input."""
from __future__ import annotations

import cv2
import numpy as np
import torch
from translator_plugins.stylegan import plugin

from translator.cli.main import main
from translator.plugins import load_registry
from translator.store import ModelStore

torch.set_num_threads(1)


def test_bundled_model_loads_with_its_card():
    store = ModelStore(load_registry())
    entry = store.default("stylegan")
    assert entry is not None and entry.bundled and entry.name == "objects64"
    card = entry.card
    assert card.config["resolution"] == 64 and card.training["device"].startswith("CPU")
    assert "held out" in card.training["data"]["image"]
    metrics = card.metrics
    assert metrics["heldout_swd_x1e3_floor_mean"] < metrics["heldout_swd_x1e3_trained_mean"]
    assert metrics["heldout_swd_x1e3_trained_mean"] < metrics["heldout_swd_x1e3_untrained_mean"]
    assert entry.weights.stat().st_size < 30_000_000
    model = store.load(entry)
    assert model(torch.randn(1, 64)).shape == (1, 3, 64, 64)
    assert (plugin.MODELS_DIR / "objects64.safetensors").exists()


def test_apply_generates_mixes_and_renders_a_grid_without_input(tmp_path):
    out = tmp_path / "out"
    assert main(["apply", "--plugin", "stylegan", "--param", "seed=3", "--param", "style_seed=4",
                 "--param", "layers=fine", "--device", "cpu", "--quiet", "-o", str(out)]) == 0
    image = cv2.imread(str(out / "seed3_stylegan.png"))
    assert image.shape == (64, 64, 3)
    assert main(["apply", "--plugin", "stylegan", "--param", "seed=5", "--param", "grid=1,2;3-5",
                 "--device", "cpu", "--quiet", "-o", str(out)]) == 0
    grid = cv2.imread(str(out / "seed5_stylegan.png"))
    assert grid.shape == (3 * 64, 4 * 64, 3)
    assert np.all(grid[:64, :64] == 255)
    assert main(["apply", "--plugin", "stylegan", "--param", "layers=50-60", "--param", "style_seed=1",
                 "--device", "cpu", "--quiet", "-o", str(out)]) == 1
