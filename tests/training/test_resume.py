"""Ctrl+C saves a checkpoint; `--resume` continues exactly as an uninterrupted run."""
from __future__ import annotations

import csv
import os
import signal

import pytest
import torch

from translator.training.checkpoint import load_checkpoint
from translator.training.cli import main


def _losses(path):
    with path.open(newline="") as fh:
        return [{k: v for k, v in row.items() if k not in ("time_s", "images_per_s")} for row in csv.DictReader(fh)]


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("extra", [[], ["--gan-loss", "wgan-gp", "--d-steps", "2"]], ids=["lsgan", "wgan-gp"])
def test_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path, unpaired, tiny_cyclegan, monkeypatch, extra):
    # wgan-gp draws its interpolation weights from torch's global generator, so it also checks
    # that the random states are restored.
    a, b = unpaired(3)  # 3 images, batches of 2: the interruption falls inside an epoch
    common = [*tiny_cyclegan, *extra, "--data-a", str(a), "--data-b", str(b), "--steps", "6", "--save-every", "100",
              "--sample-every", "2", "--pool-size", "2", "--batch-size", "2", "--seed", "3"]
    runs = tmp_path / "runs"
    assert main([*common, "--name", "straight"]) == 0

    from translator_plugins.cyclegan.training import CycleGANTrainer

    original = CycleGANTrainer.train_step

    def step_then_ctrl_c(self, batch, step):
        losses = original(self, batch, step)
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl+C during step 3
        return losses

    with monkeypatch.context() as patch:  # not monkeypatch.undo(): that would drop TRANSLATOR_HOME too
        patch.setattr(CycleGANTrainer, "train_step", step_then_ctrl_c)
        assert main([*common, "--name", "cut"]) == 130
    assert load_checkpoint(runs / "cut" / "last.pt")["step"] == 3
    assert len(_losses(runs / "cut" / "metrics.csv")) == 3

    assert main(["--resume", "cut", "--out", str(runs)]) == 0
    straight, resumed = _losses(runs / "straight" / "metrics.csv"), _losses(runs / "cut" / "metrics.csv")
    assert [r["step"] for r in resumed] == [str(s) for s in range(1, 7)]
    assert resumed == straight  # every loss and lr, to 6 significant digits
    end_a, end_b = load_checkpoint(runs / "straight" / "last.pt"), load_checkpoint(runs / "cut" / "last.pt")
    for part in ("networks", "optimizers", "trainer", "augment", "rng"):
        assert _same(end_a[part], end_b[part]), part  # bit for bit


def test_resume_picks_the_latest_run_and_may_extend_it(tmp_path, unpaired, tiny_cyclegan):
    a, b = unpaired(2)
    common = [*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--sample-every", "0"]
    assert main([*common, "--name", "short", "--steps", "2"]) == 0
    assert main(["--resume", "--out", str(tmp_path / "runs"), "--steps", "3"]) == 0
    assert load_checkpoint(tmp_path / "runs" / "short" / "last.pt")["step"] == 3
    assert main([*common, "--name", "short", "--steps", "2"]) == 2  # no silent overwrite of a run
