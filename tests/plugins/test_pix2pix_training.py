"""pix2pix through `translator-train`: paired folders, photos alone with `--sketches auto`,
export to the model store, fine-tuning, and the data option the engine grew for it."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from translator.checkpoints import read_safetensors
from translator.errors import DataError
from translator.plugins import load_registry
from translator.store import ModelStore, build_with_weights
from translator.training.checkpoint import load_checkpoint
from translator.training.cli import main
from translator.training.context import TrainContext
from translator.training.data import make_sources
from translator.training.losses import GANLoss
from translator.training.spec import DataKind
from translator_plugins.pix2pix.training import OPTIONS, Pix2PixTrainer, derives_input

TINY = ["--plugin", "pix2pix", "--from", "scratch", "--size", "32", "--load-size", "36", "--ngf", "4",
        "--ndf", "4", "--num-downs", "5", "--n-layers-d", "2", "--workers", "0", "--quiet", "--device", "cpu"]
"""A pix2pix small enough for a CPU test: a 5-level U-Net of ~30k parameters, 32 px crops."""


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def write_photos(folder: Path, count: int, *, seed: int = 0, size: tuple[int, int] = (40, 48),
                 transform=None) -> list[Path]:
    """`count` smooth random colour images (optionally passed through `transform`, RGB float)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    height, width = size
    for i in range(count):
        low = rng.random((4, 4, 3)).astype(np.float32)
        rgb = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        if transform is not None:
            rgb = transform(rgb)
        path = folder / f"img_{i:03d}.png"
        cv2.imwrite(str(path), cv2.cvtColor((rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def paired(root: Path, count: int = 4) -> Path:
    """A/ holds images, B/ their colour negatives (same names)."""
    write_photos(root / "A", count, seed=1)
    write_photos(root / "B", count, seed=1, transform=lambda rgb: 1 - rgb)
    return root


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def trainer_options(**overrides) -> dict:
    options = {p.name: p.default_value for p in OPTIONS}
    options.update(ndf=4, n_layers_d=2, lr=2e-4, betas=(0.5, 0.999), optimizer="adam", d_steps=1, size=32)
    options.update(overrides)
    return options


def make_trainer(**overrides) -> Pix2PixTrainer:
    spec = load_registry(third_party=False).translator("pix2pix")
    ctx = TrainContext(device=torch.device("cpu"), options=trainer_options(**overrides),
                       gan_loss=GANLoss("non-saturating"),
                       default_config=spec.resolve_config({"ngf": 4, "num_downs": 5, "upsample": "resize"}))
    return Pix2PixTrainer(ctx)


def test_training_spec_has_the_papers_defaults():
    spec = load_registry(third_party=False).translator("pix2pix")
    training = spec.training
    assert training.data is DataKind.PAIRED and training.gan_loss == "non-saturating"
    assert training.lr == 2e-4 and training.betas == (0.5, 0.999) and training.batch_size == 1
    defaults = {p.name: p.default_value for p in training.options}
    assert defaults == {"lambda_l1": 100.0, "ndf": 64, "n_layers_d": 3, "sketches": "off"}
    # the architecture options come from the translator's config; a new network upsamples by resizing
    assert training.architecture_options == ("ngf", "num_downs", "norm", "use_dropout", "upsample")
    assert training.fine_tune_options == ("upsample",) and training.scratch_config == {"upsample": "resize"}
    assert training.input_from_target is derives_input
    assert derives_input({"sketches": "auto"}) and not derives_input({"sketches": "off"})


def test_paired_run_lowers_the_l1_loss_and_exports_a_loadable_model(tmp_path):
    data = paired(tmp_path / "pairs")
    out = tmp_path / "runs"
    code = main([*TINY, "--data", str(data), "--out", str(out), "--name", "tiny", "--steps", "40",
                 "--lr", "0.002", "--decay-steps", "0", "--sample-every", "20", "--save-every", "20"])
    assert code == 0
    run = out / "tiny"
    metrics = rows(run / "metrics.csv")
    assert [int(r["step"]) for r in metrics] == list(range(1, 41))
    assert {"G_GAN", "G_L1", "D"} <= set(metrics[0])
    l1 = [float(r["G_L1"]) for r in metrics]
    assert sum(l1[-5:]) < 0.7 * sum(l1[:5]), l1
    grid = cv2.imread(str(run / "samples" / "step_0000040.png"))
    assert grid.shape == (3 * 32, 4 * 32, 3)  # rows input, output, target; 4 images

    store = ModelStore(load_registry())
    entry = store.get("tiny", "pix2pix")
    card = json.loads(entry.card_path.read_text())
    assert card["config"] == {"ngf": 4, "num_downs": 5, "norm": "batch", "use_dropout": True, "size": 32,
                              "upsample": "resize"}  # from scratch: no checkerboard
    assert card["training"]["data"]["A"]["images"] == 4 and card["training"]["gan_loss"] == "non-saturating"
    state = read_safetensors(entry.weights)
    assert all(t.dtype == torch.float16 for t in state.values() if t.is_floating_point())
    spec = store.registry.translator("pix2pix")
    model = build_with_weights(spec.build, card["config"], state, label="tiny")  # strict load
    trained = load_checkpoint(run / "last.pt")["networks"]["G"]
    assert torch.allclose(model.G.down[0].conv.weight, trained["down.0.conv.weight"], atol=1e-3)
    assert torch.allclose(model.G.down[1].norm.running_var, trained["down.1.norm.running_var"], rtol=1e-3)
    with torch.no_grad():
        result = model(torch.rand(1, 3, 32, 64))
    assert result.shape == (1, 3, 32, 64) and 0 <= float(result.min()) and float(result.max()) <= 1


def test_sketches_auto_trains_from_a_folder_of_photos(tmp_path):
    photos = tmp_path / "photos"
    write_photos(photos / "nested", 3)
    out = tmp_path / "runs"
    code = main([*TINY, "--data", str(photos), "--sketches", "auto", "--out", str(out), "--name", "sketchy",
                 "--steps", "3", "--batch-size", "2", "--sample-every", "3"])
    assert code == 0
    grid = cv2.imread(str(out / "sketchy" / "samples" / "step_0000003.png"))
    assert grid.shape == (3 * 32, 3 * 32, 3)
    drawings = grid[:32].astype(np.float32) / 255  # the first row: line drawings of the photos
    assert (drawings > 0.9).mean() > 0.5
    card = ModelStore(load_registry()).get("sketchy", "pix2pix").card
    assert card.training["data"] == {"B": {"folder": str(photos), "images": 3}}


def test_sketches_of_a_step_do_not_depend_on_anything_but_the_seed_and_step():
    trainer = make_trainer(sketches="auto")
    photos = {"B": torch.rand(2, 3, 32, 32)}
    assert torch.equal(trainer.inputs(photos, 5), trainer.inputs(photos, 5))
    assert not torch.equal(trainer.inputs(photos, 5), trainer.inputs(photos, 6))


def test_paired_training_without_inputs_says_what_to_do():
    with pytest.raises(DataError, match="--sketches auto"):
        make_trainer().train_step({"B": torch.rand(1, 3, 32, 32)}, 0)


def test_crop_size_must_fit_the_unet(tmp_path, capsys):
    data = paired(tmp_path / "pairs", 2)
    code = main([*TINY, "--num-downs", "6", "--data", str(data), "--out", str(tmp_path / "runs"),
                 "--name", "bad", "--steps", "1"])
    assert code == 2
    assert "--size 32 must be a multiple of 64 for a 6-level U-Net" in capsys.readouterr().err


def test_fine_tuning_keeps_the_stored_architecture(tmp_path, capsys):
    data = paired(tmp_path / "pairs", 2)
    out = tmp_path / "runs"
    assert main([*TINY, "--data", str(data), "--out", str(out), "--name", "base", "--steps", "1",
                 "--sample-every", "0"]) == 0
    base = read_safetensors(ModelStore(load_registry()).get("base", "pix2pix").weights)
    args = [arg for arg in TINY if arg != "scratch"]
    args[args.index("--from") + 1:args.index("--from") + 1] = ["base"]
    for flag in ("--ngf", "--num-downs"):
        del args[args.index(flag):args.index(flag) + 2]
    args += ["--data", str(data), "--out", str(out), "--name", "tuned", "--steps", "1", "--lr", "1e-12",
             "--sample-every", "0"]
    assert main([*args, "--ngf", "8"]) == 2  # the architecture of a new network: refused when fine-tuning
    assert "--ngf: the architecture of a network trained from scratch" in capsys.readouterr().err
    assert main([*args, "--upsample", "resize"]) == 0  # the upsampling layout may change
    tuned = ModelStore(load_registry()).get("tuned", "pix2pix")
    assert tuned.card.config["ngf"] == 4 and tuned.card.source["from"] == "base"
    state = read_safetensors(tuned.weights)
    weights = [k for k in base if "running" not in k and "batches" not in k]
    assert all(torch.allclose(state[k].float(), base[k].float(), atol=1e-3) for k in weights)


def test_wgan_gp_and_several_d_steps_run():
    trainer = make_trainer(d_steps=2)
    trainer.ctx.gan_loss = GANLoss("wgan-gp")
    before = [p.detach().clone() for p in trainer.D.parameters()]
    losses = trainer.train_step({"A": torch.rand(2, 3, 32, 32), "B": torch.rand(2, 3, 32, 32)}, 0)
    assert set(losses) == {"G_GAN", "G_L1", "D"} and all(np.isfinite(list(losses.values())))
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.D.parameters()))


# -- the engine's photos-only data for PAIRED translators ------------------------------------

def test_target_only_sources_take_a_plain_folder_or_the_target_side(tmp_path):
    photos = tmp_path / "photos"
    write_photos(photos, 3)
    sources = make_sources(DataKind.PAIRED, data=str(photos), target_only=True)
    assert list(sources.items) == ["B"] and sources.counts() == {"B": 3} and not sources.paired
    assert all(item.split is None for item in sources.items["B"])  # whole images, not halves

    pairs = paired(tmp_path / "pairs", 2)
    write_photos(pairs / "A", 3, seed=5)  # one more input than targets
    b_side = make_sources(DataKind.PAIRED, data=str(pairs), target_only=True)
    assert b_side.folders == {"B": str(pairs / "B")} and b_side.counts() == {"B": 2}
    a_side = make_sources(DataKind.PAIRED, data=str(pairs), direction="BtoA", target_only=True)
    assert a_side.folders == {"B": str(pairs / "A")} and a_side.counts() == {"B": 3}
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        make_sources(DataKind.PAIRED, data=str(tmp_path / "empty"), target_only=True)


def test_without_sketches_a_plain_folder_is_read_as_side_by_side_pairs(tmp_path):
    photos = tmp_path / "photos"
    write_photos(photos, 2)
    sources = make_sources(DataKind.PAIRED, data=str(photos))
    assert sources.paired and [item.split for item in sources.items["A"]] == ["left", "left"]
