"""Two processes with DistributedDataParallel (gloo, CPU) through `torchrun -m`-style launching."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from translator.training.checkpoint import load_checkpoint

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_two_process_ddp_keeps_the_ranks_in_sync_and_only_rank_0_writes(tmp_path, unpaired, tiny_cyclegan,
                                                                         translator_home):
    a, b = unpaired(4)
    out = tmp_path / "ranks"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DDP_OUT": str(out)}
    args = [*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--name", "ddp", "--steps", "3",
            "--sample-every", "3", "--save-every", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(WORKER),
         *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["code"] == 0 and r["world"] == 2 for r in ranks)
    assert set(ranks[0]["wrapped"].values()) == {"DistributedDataParallel"}
    for name in ("G_AB", "G_BA", "D_A", "D_B"):
        # each rank saw other images; equal weights mean the gradients were averaged
        assert ranks[0]["sums"][name] == ranks[1]["sums"][name], name
    run = tmp_path / "runs" / "ddp"
    assert load_checkpoint(run / "last.pt")["step"] == 3
    assert len(list((run / "samples").glob("*.png"))) == 1
    assert (translator_home / "models" / "cyclegan" / "ddp.safetensors").is_file()
    lines = (run / "metrics.csv").read_text().splitlines()
    assert len(lines) == 4  # a header and one row per step: rank 1 wrote nothing
