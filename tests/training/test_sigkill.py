"""A run killed with SIGKILL at any moment leaves its last checkpoint loadable and resumable."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from translator.training.checkpoint import load_checkpoint
from translator.training.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _wait_for(predicate, proc, timeout=90.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"training exited early:\n{proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_sigkill_during_save_heavy_training_leaves_a_loadable_checkpoint(tmp_path, unpaired, tiny_cyclegan):
    a, b = unpaired(3)
    runs = tmp_path / "runs"
    checkpoint = runs / "killed" / "last.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    commands = [
        [*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--name", "killed", "--steps", "100000",
         "--save-every", "1", "--sample-every", "0", "--n-blocks", "2"],
        ["--resume", "killed", "--out", str(runs)],
    ]
    last_step = 0
    for round_, args in enumerate(commands):
        proc = subprocess.Popen([sys.executable, "-m", "translator.training", *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            # let it write a few checkpoints, then kill it at an arbitrary moment (most of the
            # time of a step goes into writing the checkpoint)
            _wait_for(lambda done=last_step: checkpoint.exists() and load_checkpoint(checkpoint)["step"] > done + 2,
                      proc)
            time.sleep(0.037 * (round_ + 1))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL
        state = load_checkpoint(checkpoint)  # weights_only=True, complete
        assert state["step"] > last_step
        last_step = state["step"]

    assert main(["--resume", "killed", "--out", str(runs), "--steps", str(last_step + 1)]) == 0
    assert load_checkpoint(checkpoint)["step"] == last_step + 1
    assert not list(checkpoint.parent.glob(".last.pt.*.tmp"))  # leftovers of the kill are cleaned

