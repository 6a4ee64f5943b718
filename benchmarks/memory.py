"""Peak memory of `translator apply` on big images: read, translate (tiled) and write one PNG.

    python benchmarks/memory.py [--sizes 2048,4096,8192] [--translator cyclegan] [--model NAME]
        [--tile-pixels N] [--json]

Each size runs in a fresh process that loads the plugins and the model (the bundled CycleGAN by
default), notes its resident memory (the idle process), then reads a W x W PNG of noise, runs the
engine on the CPU and writes the result, and reports its peak resident set size (VmHWM). Printed:
peak RSS, peak minus idle, and the growth in MB per extra megapixel between consecutive sizes
(targets: <= 2.5 GB at 8192^2, <= 30 MB per megapixel). Linux only (reads /proc/self/status).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(source: str, translator: str, model_name: str | None, tile_pixels: int | None) -> dict[str, Any]:
    """Runs in the measured process: returns idle and peak RSS in MB and the seconds taken."""
    from translator.engine import Engine
    from translator.imageio import read_image, write_image
    from translator.plugins import load_registry
    from translator.store import ModelStore

    registry = load_registry()
    spec = registry.translator(translator)
    _entry, model = ModelStore(registry).open(spec.name, model_name)
    engine = Engine("cpu", "fp32", tile_pixels=tile_pixels)
    idle = _rss_mb("VmRSS")
    started = time.perf_counter()
    image = read_image(source, max_pixels=1 << 30)  # the benchmark's own file, past the 16 MP default
    result = engine.run(spec, model, image)
    out = Path(source).with_name("out.png")
    write_image(out, result, overwrite=True)
    return {"idle_mb": round(idle, 1), "peak_mb": round(_rss_mb("VmHWM"), 1),
            "seconds": round(time.perf_counter() - started, 1)}


def measure(side: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    import cv2
    import numpy as np

    source = folder / f"noise{side}.png"
    rng = np.random.default_rng(side)
    small = rng.integers(0, 256, size=(side // 8, side // 8, 3), dtype=np.uint8)
    cv2.imwrite(str(source), cv2.resize(small, (side, side), interpolation=cv2.INTER_LINEAR))
    del small
    command = [sys.executable, __file__, "--child", str(source), "--translator", args.translator]
    if args.model:
        command += ["--model", args.model]
    if args.tile_pixels:
        command += ["--tile-pixels", str(args.tile_pixels)]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"memory.py: the {side}x{side} run failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    output = done.stdout
    record = json.loads(output.strip().splitlines()[-1])
    record.update(side=side, megapixels=round(side * side / 1e6, 2))
    record["above_idle_mb"] = round(record["peak_mb"] - record["idle_mb"], 1)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2048,4096,8192", help="square sides, comma-separated")
    parser.add_argument("--translator", default="cyclegan")
    parser.add_argument("--model", help="default: the translator's default (bundled) model")
    parser.add_argument("--tile-pixels", type=int)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.translator, args.model, args.tile_pixels)))
        return 0

    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for side in (int(s) for s in args.sizes.split(",")):
            record = measure(side, Path(tmp), args)
            if records:
                prev = records[-1]
                extra = record["megapixels"] - prev["megapixels"]
                record["mb_per_extra_megapixel"] = round((record["above_idle_mb"] - prev["above_idle_mb"]) / extra, 1)
            records.append(record)
            if args.json:
                print(json.dumps(record), flush=True)
            else:
                growth = record.get("mb_per_extra_megapixel")
                print(f"{side}x{side} ({record['megapixels']} MP): peak {record['peak_mb'] / 1024:.2f} GB RSS, "
                      f"{record['above_idle_mb']:.0f} MB above idle ({record['idle_mb']:.0f} MB)"
                      + (f", {growth} MB per extra MP" if growth is not None else "")
                      + f"; {record['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
