"""Training the colorizer: the loss falls, the GAN option, grayscale photos skipped and counted."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from translator import api
from translator.plugins import Registry
from translator.store import ModelStore
from translator.training.cli import main
from translator.training.data import ImageDataset, Item, Sources, first_readable
from translator.training.losses import GANLoss
from translator_plugins import colorize
from translator_plugins.colorize import metrics
from translator_plugins.colorize.plugin import CONFIG
from translator_plugins.colorize.training import (AB_BINS, SCRATCH_CONFIG, ColorizeTrainer, ab_bin_index,
                                                  rebalance_weights, training_spec)

torch.set_num_threads(1)
TINY_OPTIONS = {"gan_weight": 0.0, "p_no_hints": 0.5, "ndf": 8, "lr": 3e-3, "betas": (0.9, 0.99), "optimizer": "adam", "size": 32, "d_steps": 1, "seed": 0}
TINY_CLI = ["--plugin", "colorize", "--from", "scratch", "--size", "32", "--load-size", "36", "--width", "4",
            "--depth", "2", "--middle", "1", "--workers", "0", "--quiet", "--device", "cpu", "--batch-size", "2"]


TINY_CONFIG = {"width": 4, "depth": 2, "middle": 1}


def context(**options) -> api.TrainContext:
    """A trainer's context; options named like a `CONFIG` parameter set the architecture."""
    names = {p.name for p in CONFIG}
    config = {**SCRATCH_CONFIG, **TINY_CONFIG, **{k: v for k, v in options.items() if k in names}}
    options = {k: v for k, v in options.items() if k not in names}
    return api.TrainContext(device=torch.device("cpu"), options={**TINY_OPTIONS, **options},
                            gan_loss=GANLoss("lsgan"), default_config=api.resolve_params(CONFIG, config), seed=0)


def colour_batch(count: int = 4, size: int = 32, seed: int = 0) -> torch.Tensor:
    low = torch.rand(count, 3, 3, 3, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)


def write(folder: Path, count: int, *, gray: bool = False, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        rgb = cv2.resize(rng.random((3, 3, 3)).astype(np.float32), (48, 40), interpolation=cv2.INTER_CUBIC)
        if gray:
            rgb = np.repeat(rgb.mean(axis=2, keepdims=True), 3, axis=2)
        name = f"{'gray' if gray else 'colour'}_{i}.png"
        cv2.imwrite(str(folder / name), (rgb.clip(0, 1) * 255).astype(np.uint8))


def test_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    trainer = ColorizeTrainer(context(p_no_hints=1.0))  # the same input every step: a smooth descent
    batch = {"image": colour_batch(2, 16)}
    losses = [trainer.train_step(batch, step)["ab"] for step in range(20)]
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    model, config = trainer.export()
    assert config == {"architecture": "unet", "width": 4, "depth": 2, "middle": 1, "hints": False,
                      "upsample": "resize", "chroma": 1.0}
    assert not model.training
    rows = trainer.samples(batch)
    assert len(rows) == 4 and all(r.shape == (2, 3, 16, 16) for r in rows)
    assert all(0.0 <= float(r.min()) and float(r.max()) <= 1.0 for r in rows)
    assert trainer.ctx.unwrap(trainer.G).training  # samples leave the network in training mode


def test_fine_tuning_learns_raw_chroma_and_keeps_the_calibrated_scale():
    from translator_plugins.colorize import networks

    torch.manual_seed(0)
    config = api.resolve_params(CONFIG, {**SCRATCH_CONFIG, **TINY_CONFIG, "chroma": 0.5})
    start = networks.build(config).eval()
    ctx = context(p_no_hints=1.0)
    ctx = api.TrainContext(device=ctx.device, options=ctx.options, gan_loss=ctx.gan_loss,
                           default_config=ctx.default_config, seed=0, initial_model=start, initial_config=config)
    trainer = ColorizeTrainer(ctx)
    assert trainer.ctx.unwrap(trainer.G).chroma == 1.0  # the loss sees the full range of ab
    lightness = torch.rand(1, 1, 16, 16) * 100
    net = trainer.ctx.unwrap(trainer.G).eval()
    with torch.no_grad():
        assert torch.allclose(net(lightness) * 0.5, start(lightness), atol=1e-5)
    net.train()
    model, exported = trainer.export()
    assert exported["chroma"] == 0.5 and model.chroma == 0.5


def test_a_hint_network_trains_too():
    torch.manual_seed(0)
    trainer = ColorizeTrainer(context(hints=True, upsample="transpose", rebalance=0.0))
    losses = trainer.train_step({"image": colour_batch(2, 16)}, 0)
    assert np.isfinite(losses["ab"]) and trainer.export()[1]["hints"] is True
    assert len(trainer.samples({"image": colour_batch(2, 16)})) == 4


def test_rebalancing_weighs_rare_colours_more():
    counts = torch.zeros(AB_BINS * AB_BINS, dtype=torch.float64)
    gray, red = ab_bin_index(torch.zeros(1, 2, 1, 1)), ab_bin_index(torch.tensor([60.0, 40.0]).view(1, 2, 1, 1))
    counts[:200] = 1.0  # a spread of colours seen once
    counts[gray.item()] = 990
    counts[red.item()] = 10
    weights = rebalance_weights(counts, 0.5)
    assert weights[red.item()] > 10 * weights[gray.item()]
    prior = counts / counts.sum()
    assert abs(float((weights.double() * prior).sum()) - 1.0) < 0.25  # 1 on average over the smoothed data
    assert torch.equal(rebalance_weights(counts, 0.0), torch.ones(AB_BINS * AB_BINS))


def test_histogram_of_colours_seen_is_part_of_the_state():
    trainer = ColorizeTrainer(context(rebalance=0.5))
    trainer.train_step({"image": colour_batch(2, 16)}, 0)
    assert float(trainer.ab_counts.sum()) == 2 * 16 * 16
    again = ColorizeTrainer(context(rebalance=0.5))
    again.load_state_dict(trainer.state_dict())
    assert torch.equal(again.ab_counts, trainer.ab_counts)


def test_gan_term_trains_a_critic_and_state_round_trips():
    torch.manual_seed(0)
    trainer = ColorizeTrainer(context(gan_weight=0.5))
    assert set(trainer.networks()) == {"G", "D"} and set(trainer.optimizers()) == {"G", "D"}
    losses = trainer.train_step({"image": colour_batch(2)}, 0)
    assert set(losses) == {"ab", "G_gan", "D"} and all(np.isfinite(v) for v in losses.values())
    state = trainer.state_dict()
    again = ColorizeTrainer(context(gan_weight=0.5))
    again.load_state_dict(state)
    assert torch.equal(again.hint_generator.get_state(), trainer.hint_generator.get_state())


def test_size_must_fit_the_network():
    with pytest.raises(api.ParameterError, match="multiple of 4"):
        ColorizeTrainer(context(size=30))


def test_grayscale_files_are_rejected_with_their_reason(tmp_path):
    write(tmp_path, 2)
    write(tmp_path, 1, gray=True)
    files = sorted(tmp_path.glob("*.png"))  # colour_0, colour_1, gray_0
    sources = Sources({"image": [Item(p) for p in files]}, paired=False, folders={"image": str(tmp_path)})
    dataset = ImageDataset(sources, max_side=None, reject=metrics.reject_grayscale)
    item = dataset[{"image": 2}]
    assert item["_rejected"] == [[str(files[2]), "grayscale"]]
    assert item["image"].shape == (3, 40, 48)  # replaced by the next usable image
    only_gray = Sources({"image": [Item(files[2])]}, paired=False, folders={"image": "grays"})
    with pytest.raises(api.DataError, match="could be read and used"):
        first_readable(only_gray, 4, max_side=None, reject=metrics.reject_grayscale)


def test_translator_train_skips_grayscale_photos_with_a_count(tmp_path, capsys):
    data = tmp_path / "photos"
    write(data, 3)
    write(data, 2, gray=True, seed=1)
    registry = Registry()
    registry.register(colorize, "colorize")
    assert main(["--data", str(data), "--steps", "4", "--out", str(tmp_path / "runs"), "--name", "tiny",
                 *TINY_CLI], registry=registry) == 0
    assert "skipped 2 grayscale image file(s)" in capsys.readouterr().err
    entry = ModelStore(registry).get("tiny", "colorize")
    assert entry.card.training["skipped"] == {"grayscale": 2}
    assert entry.card.config == {"architecture": "unet", "width": 4, "depth": 2, "middle": 1, "hints": False,
                                 "upsample": "resize", "chroma": 1.0}
    assert json.loads(entry.card_path.read_text())["training"]["data"]["image"]["images"] == 5
    assert not ModelStore(registry).load(entry).follows_hints  # automatic colours; hints are spread outside
    assert list((tmp_path / "runs" / "tiny" / "samples").glob("*.png"))


def test_training_spec_defaults():
    spec = training_spec()
    assert spec.data is api.DataKind.SINGLE and spec.reject is metrics.reject_grayscale
    assert {p.name for p in spec.options} >= {"gan_weight", "p_no_hints"}
    assert spec.architecture_options == ("width", "depth", "middle", "hints", "upsample")
    assert spec.scratch_config == {"hints": False, "upsample": "resize"}
    assert next(p for p in spec.options if p.name == "gan_weight").default == 0.0


def test_translator_train_help_lists_the_colorize_options(capsys):
    registry = Registry()
    registry.register(colorize, "colorize")
    with pytest.raises(SystemExit):
        main(["--plugin", "colorize", "--help"], registry=registry)
    out = capsys.readouterr().out
    assert "--gan-weight" in out and "--p-no-hints" in out and "--width" in out
