"""Folder throughput: the batch loop against the network's own time on the same images.

    python benchmarks/folder_throughput.py [--count 6] [--size 512] [--rounds 2]
        [--translator cyclegan] [--model NAME] [--backend torch] [--json]

Writes `count` PNGs of `size` x `size` (smooth noise, like a photo's detail) into a temporary
folder and loads the translator's model (the bundled CycleGAN by default) on the CPU. Each
round runs, one after the other, in this process:
  network     `Engine.run` on each image, already decoded (no file I/O): the time to beat;
  overlapped  `translator.batch.run_batch` over the folder, as `translator apply` and the app
              run it (the next images decoded and the results written in background threads);
  serial      the same loop with `lookahead=0` (read, run, write, one after the other).
Printed: the best total of each over the rounds and the throughput ratio network / batch
(target: overlapped >= 0.9), and whether both loops wrote byte-identical files.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _write_inputs(folder: Path, count: int, size: int) -> list[Path]:
    import cv2
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        rng = np.random.default_rng(index)
        small = rng.integers(0, 256, size=(size // 4, size // 4, 3), dtype=np.uint8)
        path = folder / f"photo{index:03d}.png"
        cv2.imwrite(str(path), cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC))
        paths.append(path)
    return paths


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    import torch

    from translator.batch import LOOKAHEAD, items_from_paths, run_batch
    from translator.engine import Engine
    from translator.imageio import read_image
    from translator.plugins import load_registry
    from translator.store import ModelStore

    registry = load_registry()
    spec = registry.translator(args.translator)
    entry, model = ModelStore(registry).open(spec.name, args.model)
    engine = Engine("cpu", "fp32", backend=args.backend)
    paths = _write_inputs(tmp / "in", args.count, args.size)
    decoded = [read_image(path) for path in paths]
    items = items_from_paths([tmp / "in"])

    def run_one(image: Any, progress: Any, warn: Any) -> Any:
        return engine.run(spec, model, image, warn=warn)

    def network() -> None:
        for image in decoded:
            engine.run(spec, model, image)

    def batch(name: str, lookahead: int, round_: int) -> None:
        outputs[name] = tmp / f"{name}{round_}"
        report = run_batch(items, run_one, outputs[name], spec.name, lookahead=lookahead)
        if report.errors or len(report.written) != len(items):
            raise RuntimeError(f"batch failed: {report.summary()}: {report.errors[:3]}")

    outputs: dict[str, Path] = {}
    engine.run(spec, model, decoded[0])  # warm-up: first-call allocations, backend set-up
    times: dict[str, list[float]] = {"network": [], "overlapped": [], "serial": []}
    for round_ in range(args.rounds):
        runs = {"network": network, "overlapped": lambda r=round_: batch("overlapped", LOOKAHEAD, r),
                "serial": lambda r=round_: batch("serial", 0, r)}
        order = list(runs)
        order = order[round_ % 3:] + order[:round_ % 3]  # rotate, so no mode always runs first
        for name in order:
            started = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - started)
    best = {name: min(values) for name, values in times.items()}
    return {
        "translator": spec.name, "model": entry.name if entry is not None else None, "backend": args.backend,
        "count": args.count, "size": args.size, "rounds": args.rounds, "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "best_s": {name: round(value, 3) for name, value in best.items()},
        "all_s": {name: [round(v, 3) for v in values] for name, values in times.items()},
        "per_image_s": {name: round(value / args.count, 3) for name, value in best.items()},
        "throughput_ratio": {name: round(best["network"] / best[name], 3) for name in ("overlapped", "serial")},
        "identical_outputs": _digests(outputs["overlapped"]) == _digests(outputs["serial"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=6, help="images in the folder")
    parser.add_argument("--size", type=int, default=512, help="side of each square image")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--translator", default="cyclegan")
    parser.add_argument("--model", help="default: the translator's default (bundled) model")
    parser.add_argument("--backend", default="torch", choices=("torch", "onnxruntime", "auto"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.count < 1 or args.size < 8 or args.rounds < 1:
        parser.error("--count and --rounds must be at least 1, --size at least 8")
    with tempfile.TemporaryDirectory() as tmp:
        record = run(args, Path(tmp))
    if args.json:
        print(json.dumps(record))
    else:
        _print_table(record)
    return 0


def _print_table(record: dict[str, Any]) -> None:
    print(f"{record['translator']} [{record['model']}] ({record['backend']}), {record['count']} PNGs of "
          f"{record['size']}^2, {record['machine']}, best of {record['rounds']} interleaved rounds")
    for name, seconds in record["best_s"].items():
        ratio = f"  network / batch {record['throughput_ratio'][name]:.2f}" if name != "network" else ""
        print(f"  {name:>10}: {seconds:7.2f} s ({record['per_image_s'][name]:.3f} s per image){ratio}")
    print(f"  overlapped and serial outputs byte-identical: {record['identical_outputs']}")


if __name__ == "__main__":
    sys.exit(main())
