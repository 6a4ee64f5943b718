"""CycleGAN through `translator-train`: it learns, writes its run folder, exports a loadable model."""
from __future__ import annotations

import csv
import json

import cv2
import torch

from translator.checkpoints import read_safetensors
from translator.plugins import load_registry
from translator.store import ModelStore, build_with_weights
from translator.training.checkpoint import load_checkpoint
from translator.training.cli import main


def _rows(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_tiny_run_lowers_the_cycle_loss_and_exports_a_loadable_model(tmp_path, unpaired, tiny_cyclegan):
    a, b = unpaired(4)
    code = main([*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--name", "tiny", "--steps", "40",
                 "--lr", "0.002", "--sample-every", "20", "--save-every", "20", "--decay-steps", "0"])
    assert code == 0
    run = tmp_path / "runs" / "tiny"
    rows = _rows(run / "metrics.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 41))
    cycle = [float(r["cycle_A"]) + float(r["cycle_B"]) for r in rows]
    assert sum(cycle[-5:]) < 0.7 * sum(cycle[:5]), cycle
    assert {"G_AB", "G_BA", "D_A", "D_B", "idt_A", "idt_B", "images_per_s", "lr"} <= set(rows[0])

    grid = cv2.imread(str(run / "samples" / "step_0000040.png"))
    assert grid.shape == (6 * 32, 4 * 32, 3)  # rows real A, fake B, rec A, real B, fake A, rec B; 4 images
    options = json.loads((run / "options.json").read_text())
    assert options["command"][:3] == ["translator-train", "--plugin", "cyclegan"]
    assert options["options"]["plugin_options"]["lambda_cycle"] == 10.0

    store = ModelStore(load_registry())
    entry = store.get("tiny", "cyclegan")
    card = json.loads(entry.card_path.read_text())
    assert card["source"]["kind"] == "trained" and card["source"]["run"] == str(run)
    assert card["training"]["steps"] == 40 and card["training"]["data"]["A"]["images"] == 4
    assert card["config"]["ngf"] == 4 and len(card["sha256"]) == 64
    state = read_safetensors(entry.weights)
    assert all(t.dtype == torch.float16 for t in state.values())
    spec = store.registry.translator("cyclegan")
    model = build_with_weights(spec.build, card["config"], state, label="tiny")  # strict load
    trained = load_checkpoint(run / "last.pt")["networks"]["G_AB"]
    assert torch.allclose(model.G_AB.stem.conv.weight, trained["stem.conv.weight"], atol=1e-3)
    with torch.no_grad():
        out = model(torch.rand(1, 3, 32, 32), "AtoB")
    assert out.shape == (1, 3, 32, 32) and 0 <= float(out.min()) and float(out.max()) <= 1


def test_fine_tuning_starts_from_a_stored_model(tmp_path, unpaired, tiny_cyclegan, capsys):
    a, b = unpaired(2)
    assert main([*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--name", "base", "--steps", "1",
                 "--sample-every", "0"]) == 0
    base = read_safetensors(ModelStore(load_registry()).get("base", "cyclegan").weights)
    args = [arg for arg in tiny_cyclegan if arg != "scratch"]
    args[args.index("--from") + 1:args.index("--from") + 1] = ["base"]
    args += ["--data-a", str(a), "--data-b", str(b), "--name", "tuned", "--steps", "1", "--lr", "1e-12",
             "--sample-every", "0"]
    args = [a for i, a in enumerate(args) if a not in ("--ngf", "--n-blocks") and args[i - 1] not in ("--ngf", "--n-blocks")]
    # an architecture option of a network trained from scratch is an error when fine-tuning
    assert main([*args, "--ngf", "8"]) == 2
    assert "--ngf: the architecture of a network trained from scratch; fine-tuning base keeps its own" \
        in capsys.readouterr().err
    assert main(args) == 0
    store = ModelStore(load_registry())
    tuned = store.get("tuned", "cyclegan")
    assert tuned.card.config["ngf"] == 4 and tuned.card.source["from"] == "base"
    state = read_safetensors(tuned.weights)
    assert all(torch.allclose(state[k].float(), v.float(), atol=1e-3) for k, v in base.items())


def test_wgan_gp_with_several_d_steps_runs(tmp_path, unpaired, tiny_cyclegan):
    a, b = unpaired(2)
    assert main([*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--name", "wgan", "--steps", "2",
                 "--gan-loss", "wgan-gp", "--d-steps", "2", "--optimizer", "rmsprop", "--batch-size", "2",
                 "--sample-every", "0", "--lambda-identity", "0"]) == 0
    rows = _rows(tmp_path / "runs" / "wgan" / "metrics.csv")
    assert len(rows) == 2 and "idt_A" not in rows[0]


def test_mixed_precision_path_runs_with_autocast_and_a_grad_scaler():
    # CUDA is not needed to exercise the code path: CPU autocast (bfloat16) and a CPU GradScaler.
    from translator_plugins.cyclegan.training import OPTIONS, CycleGANTrainer

    from translator.plugins import load_registry
    from translator.training.context import TrainContext
    from translator.training.losses import GANLoss

    options = {p.name: p.default_value for p in OPTIONS}
    options.update(pool_size=2, lr=2e-4, betas=(0.5, 0.999), optimizer="adam", d_steps=2)
    spec = load_registry().translator("cyclegan")
    ctx = TrainContext(device=torch.device("cpu"), options=options, gan_loss=GANLoss("wgan-gp"),
                       amp_dtype=torch.bfloat16, scaler=torch.amp.GradScaler("cpu", init_scale=8.0),
                       default_config=spec.resolve_config({"ngf": 4, "ndf": 4, "n_blocks": 1, "n_layers_d": 2}))
    trainer = CycleGANTrainer(ctx)
    before = [p.detach().clone() for p in trainer.G_AB.parameters()]
    batch = {"A": torch.rand(2, 3, 32, 32), "B": torch.rand(2, 3, 32, 32)}
    for step in range(2):
        losses = trainer.train_step(batch, step)
        assert all(torch.isfinite(torch.tensor(v)) for v in losses.values()), losses
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G_AB.parameters(), strict=True))
    assert all(p.dtype == torch.float32 for p in trainer.G_AB.parameters())  # weights stay float32
    rows = trainer.samples(batch)
    assert len(rows) == 6 and all(r.dtype == torch.float32 and r.shape == (2, 3, 32, 32) for r in rows)
    pool = trainer.state_dict()["pool_A"]["images"]
    assert pool.shape[0] == 2
