"""`translator-train --time-limit`: the run ends and exports when its wall-clock budget is spent,
and the learning-rate decay follows the budget (time or steps, whichever runs out first)."""
from __future__ import annotations

import csv
import time as real_time

import pytest

from translator.training import loop
from translator.training.cli import main


def test_progress_step_follows_the_further_of_steps_and_time():
    assert loop.progress_step(5, 100, 999.0, None) == 5          # no budget: the step
    assert loop.progress_step(5, 100, 30.0, 60.0) == 50          # half the time: half the steps
    assert loop.progress_step(80, 100, 30.0, 60.0) == 80         # steps ahead of the clock
    assert loop.progress_step(5, 100, 600.0, 60.0) == 99         # past the budget: the last step


class _Clock:
    """A stand-in for the `time` module whose perf_counter advances one second per call."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now

    def __getattr__(self, name: str):
        return getattr(real_time, name)


def test_time_limit_ends_the_run_exports_and_decays_the_lr(tmp_path, unpaired, tiny_cyclegan, monkeypatch):
    monkeypatch.setattr(loop, "time", _Clock())
    a, b = unpaired(4)
    code = main([*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--name", "budget", "--steps", "100000",
                 "--time-limit", "0.5", "--sample-every", "0", "--save-every", "0"])
    assert code == 0
    with open(tmp_path / "runs" / "budget" / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert 2 < len(rows) < 30                                     # 30 fake seconds, not 100000 steps
    lrs = [float(row["lr"]) for row in rows]
    assert lrs[0] == pytest.approx(2e-4)                           # cyclegan: constant for the first half
    assert lrs[-1] < 0.5 * lrs[0] and lrs == sorted(lrs, reverse=True)
    from translator.plugins import load_registry
    from translator.store import ModelStore

    entry = ModelStore(load_registry()).get("budget", "cyclegan")
    assert entry.card.training["steps"] == len(rows)


def test_time_limit_must_be_positive(capsys, unpaired):
    a, b = unpaired(2)
    assert main(["--plugin", "cyclegan", "--data-a", str(a), "--data-b", str(b), "--steps", "1",
                 "--time-limit", "0"]) == 2
    assert "--time-limit must be a positive number of minutes" in capsys.readouterr().err


def test_time_limit_is_listed_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["--plugin", "cyclegan", "--help"])
    assert "--time-limit MINUTES" in capsys.readouterr().out

