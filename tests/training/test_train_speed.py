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
                        "--set", "ngf=4", "--set", "ndf=4", "--set", "n_blocks=1", "--set", "num_downs=5",
                        "--set", "channel_base=256", "--set", "channel_max=16", "--set", "z_dim=16",
                        "--set", "w_dim=16", "--set", "mapping_layers=2", "--batch-size", "2"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["translator"] for r in records} >= {"cyclegan", "pix2pix", "colorize", "stylegan"}
    for record in records:
        assert record["images_per_s"] > 0 and record["device"] == "cpu" and record["size"] == 32
