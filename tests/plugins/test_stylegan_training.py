"""Training StyleGAN2 through `translator-train`: a few steps run and export; fine-tuning; ADA."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from translator_plugins.stylegan import training

from translator.training.cli import main

torch.set_num_threads(1)
SMALL = ["--size", "16", "--batch-size", "4", "--workers", "0", "--quiet", "--device", "cpu",
         "--r1-interval", "2", "--pl-weight", "2", "--augment-p", "0.5", "--sample-every", "2"]
ARCHITECTURE = ["--channel-base", "64", "--channel-max", "8", "--z-dim", "8", "--w-dim", "8", "--mapping-layers", "2"]
"""A tiny network trained from scratch (fine-tuning keeps the model's architecture)."""


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (20, 20, 3), dtype=np.uint8))
    return folder


def test_a_few_steps_train_export_and_fine_tune(images, tmp_path, translator_home):
    from translator.plugins import load_registry
    from translator.store import ModelStore

    out = tmp_path / "runs"
    assert main(["--plugin", "stylegan", "--data", str(images), "--steps", "4", "--name", "tiny", "--out", str(out),
                 "--from", "scratch", *SMALL, *ARCHITECTURE]) == 0
    store = ModelStore(load_registry())
    entry = store.get("tiny", "stylegan")
    assert entry.card.config["resolution"] == 16 and entry.card.training["steps"] == 4
    model = store.load(entry)
    assert model(torch.randn(2, 8)).shape == (2, 3, 16, 16)
    assert list((out / "tiny" / "samples").glob("*.png"))
    assert main(["--plugin", "stylegan", "--data", str(images), "--steps", "2", "--name", "tuned", "--out", str(out),
                 "--from", "tiny", *SMALL]) == 0
    assert store.get("tuned", "stylegan").card.source["from"] == "tiny"
    # fine-tuning needs the model's resolution
    assert main(["--plugin", "stylegan", "--data", str(images), "--steps", "2", "--name", "bad", "--out", str(out),
                 "--from", "tiny", *SMALL[:0], "--size", "32", *SMALL[2:]]) == 2


def test_ada_probability_follows_the_overfitting_heuristic():
    ada = training.AdaptiveAugment(p=0.5, target=0.6, kimg=1.0, interval=4)
    for _ in range(4):
        ada.observe(torch.ones(8, 1))           # D sure of every real image: r_t = 1 > 0.6
        ada.step(8)
    assert ada.last_rt == 1.0 and ada.p == pytest.approx(0.5 + 8 * 4 / 1000)
    for _ in range(4):
        ada.observe(-torch.ones(8, 1))          # r_t = -1 < 0.6: less augmentation
        ada.step(8)
    assert ada.p == pytest.approx(0.5)
    state = ada.state_dict()
    other = training.AdaptiveAugment()
    other.load_state_dict(state)
    assert other.p == ada.p


def test_augmentation_is_differentiable_and_respects_p():
    x = (torch.rand(6, 3, 16, 16) * 2 - 1).requires_grad_(True)
    assert training.AdaptiveAugment(p=0.0)(x) is x
    y = training.AdaptiveAugment(p=1.0)(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def half_life(beta: float, batch: int) -> float:
    """The half-life in images that an EMA weight `beta` per `batch` images stands for."""
    return batch * np.log(0.5) / np.log(beta)


def test_ema_half_life_ramps_up_with_the_images_seen_then_holds():
    beta = training.ema_beta
    assert beta(16, 0, 5.0, 0.05) == 0.0                      # the first update copies G
    # StyleGAN2-ADA: half-life min(ema_kimg * 1000, rampup * images seen)
    assert half_life(beta(16, 16_000, 5.0, 0.05), 16) == pytest.approx(800)
    assert half_life(beta(16, 16_000, 5.0, 0.15), 16) == pytest.approx(2400)
    assert half_life(beta(16, 1_000_000, 5.0, 0.05), 16) == pytest.approx(5000)   # capped at ema_kimg
    assert half_life(beta(16, 0, 5.0, 0.0), 16) == pytest.approx(5000)            # no ramp-up
    assert beta(16, 16_000, 0.0, 0.05) == 0.0                 # no EMA: G itself
    # the weight of the old average grows with the images seen, never beyond the cap's
    betas = [beta(16, n, 5.0, 0.05) for n in range(0, 200_000, 16_000)]
    assert betas == sorted(betas) and betas[-1] == pytest.approx(0.5 ** (16 / 5000))
    with pytest.raises(ValueError, match="batch"):
        beta(0, 16, 5.0, 0.05)


def test_ema_ramp_up_is_an_option_and_the_first_update_copies_g(images, tmp_path, translator_home):
    from translator.plugins import load_registry
    from translator.store import ModelStore

    out = tmp_path / "runs"
    assert main(["--plugin", "stylegan", "--data", str(images), "--steps", "1", "--name", "copy", "--out", str(out),
                 "--from", "scratch", "--ema-rampup", "0.3", "--ema-kimg", "1000", *SMALL, *ARCHITECTURE]) == 0
    saved = json.loads((out / "copy" / "options.json").read_text(encoding="utf-8"))["options"]
    assert saved["plugin_options"]["ema_rampup"] == 0.3
    # after one step the exported average is the trained G (rampup * 0 images seen = no memory)
    checkpoint = torch.load(out / "copy" / "last.pt", weights_only=True)
    g, g_ema = checkpoint["networks"]["G"], checkpoint["networks"]["G_ema"]
    assert all(torch.equal(g[f"generator.{k}"] if f"generator.{k}" in g else g[k], v) for k, v in g_ema.items())
    assert ModelStore(load_registry()).get("copy", "stylegan").card.training["steps"] == 1
