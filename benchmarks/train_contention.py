"""Training under CPU contention: a tiny CycleGAN training step alone and with a second run beside it.

    python benchmarks/train_contention.py [--size 32] [--steps 6] [--rounds 2] [--json]

Runs `benchmarks/train_speed.py` (the training step `translator-train` runs, with the same thread
defaults) as separate processes: one alone, then two at the same time, alternating `--rounds`
times so that other load on the machine biases both alike. Prints the seconds per step of each and
the ratio concurrent / alone; a well-behaved default stays near 2x on a fully used machine (two
jobs share the cores) and far below the 30x of oversubscribed spinning threads.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _command(size: int, steps: int) -> list[str]:
    return [sys.executable, str(HERE / "train_speed.py"), "--plugin", "cyclegan", "--size", str(size),
            "--batch-size", "1", "--steps", str(steps), "--warmup", "1", "--device", "cpu", "--json"]


def _seconds_per_step(outputs: list[str]) -> list[float]:
    records = [json.loads(line) for text in outputs for line in text.splitlines() if line.startswith("{")]
    return [r["seconds"] / r["steps"] for r in records]


def run_jobs(count: int, size: int, steps: int) -> list[float]:
    """Start `count` training processes at once; seconds per step of each."""
    procs = [subprocess.Popen(_command(size, steps), stdout=subprocess.PIPE, text=True) for _ in range(count)]
    outputs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError("a training process failed")
    return _seconds_per_step(outputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from translator.device import available_cores, default_loader_workers

    alone: list[float] = []
    together: list[float] = []
    for _ in range(args.rounds):
        alone += run_jobs(1, args.size, args.steps)
        together += run_jobs(2, args.size, args.steps)
    record = {"cores": available_cores(), "loader_workers": default_loader_workers(),
              "alone_s_per_step": round(statistics.median(alone), 3),
              "concurrent_s_per_step": round(statistics.median(together), 3),
              "worst_concurrent_s_per_step": round(max(together), 3)}
    record["ratio"] = round(record["concurrent_s_per_step"] / record["alone_s_per_step"], 2)
    record["worst_ratio"] = round(record["worst_concurrent_s_per_step"] / record["alone_s_per_step"], 2)
    if args.json:
        print(json.dumps(record))
    else:
        print(f"{record['cores']} cores: {record['alone_s_per_step']} s/step alone, "
              f"{record['concurrent_s_per_step']} s/step with a second run ({record['ratio']}x; "
              f"worst {record['worst_ratio']}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
