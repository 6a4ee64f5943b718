"""benchmarks/train_speed.py measures every trainable translator (here tiny, on the CPU)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_speed.py"


def test_benchmark_reports_images_per_second_for_each_trainable_plugin(capsys):
    spec = importlib.util.spec_from_file_location("train_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--size", "32", "--steps", "2", "--warmup", "1", "--device", "cpu", "--json",
                        "--set", "ngf=4", "--set", "ndf=4", "--set", "n_blocks=1"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "cyclegan" in {r["translator"] for r in records}
    for record in records:
        assert record["images_per_s"] > 0 and record["device"] == "cpu" and record["size"] == 32
