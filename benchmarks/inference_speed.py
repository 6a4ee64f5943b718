"""Inference speed and tiling fidelity of every image translator through the engine.

    python benchmarks/inference_speed.py [--translator NAME ...] [--size 1024x768]
        [--tile-pixels N] [--device auto|cpu|cuda] [--precision auto|fp32|fp16|bf16]
        [--repeat 2] [--json]

For each translator with an input image: its default model (bundled, else a fresh network of
`default_config`), a noise-and-gradient test image of `--size`, the time of a whole-image run and
of a tiled run (tiles of `--tile-pixels`, default a quarter of the image), and the largest
absolute difference between the two results (0-1 scale). `network_s` is the translator's own
`translate` on a prepared tensor of the same (padded) size, and `whole_vs_network` the ratio of
the engine's whole-image time to it (the engine's overhead: conversions, padding, checks).
GENERATE translators are timed once.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any


def bench(spec: Any, model: Any, *, width: int, height: int, tile_pixels: int, device: str, precision: str,
          repeat: int) -> dict[str, Any]:
    import numpy as np

    from translator.engine import Engine
    from translator.testing import make_image

    record: dict[str, Any] = {"translator": spec.name}
    if not spec.task.needs_input:
        engine = Engine(device, precision)
        record["generate_s"] = _best(lambda: engine.run(spec, model, None), repeat)
        return record
    image = make_image(width, height, pattern="gradient")
    noise = make_image(width, height, pattern="noise")
    image = image.with_rgb((0.8 * image.rgb + 0.2 * noise.rgb).astype(np.float32))
    whole_engine = Engine(device, precision, tile_pixels=width * height)
    tiled_engine = Engine(device, precision, tile_pixels=tile_pixels)
    whole = whole_engine.run(spec, model, image)
    tiled = tiled_engine.run(spec, model, image)
    network_s = _best(_network_run(spec, model, whole_engine, width, height), repeat)
    record.update(
        size=f"{width}x{height}",
        device=str(whole_engine.device),
        whole_s=_best(lambda: whole_engine.run(spec, model, image), repeat),
        tiled_s=_best(lambda: tiled_engine.run(spec, model, image), repeat) if spec.tileable else None,
        tile_pixels=tile_pixels if spec.tileable else None,
        tiled_max_abs_diff=float(np.abs(whole.rgb - tiled.rgb).max()) if spec.tileable else None,
        tiled_mean_abs_diff=float(np.abs(whole.rgb - tiled.rgb).mean()) if spec.tileable else None,
        network_s=network_s,
    )
    record["whole_vs_network"] = round(record["whole_s"] / max(network_s, 1e-9), 3)
    return record


def _network_run(spec: Any, model: Any, engine: Any, width: int, height: int) -> Any:
    """A plain forward: `spec.translate` on a prepared tensor of the engine's padded size."""
    import torch

    from translator.params import resolve_params
    from translator.spec import RunContext

    needs = spec.input_requirements(model)
    dtype = next(model.parameters()).dtype if any(True for _ in model.parameters()) else torch.float32
    images = torch.rand(1, 3, needs.padded_side(height), needs.padded_side(width), device=engine.device, dtype=dtype)
    params = resolve_params(spec.params, {})
    ctx = RunContext(device=engine.device, dtype=dtype)

    def run() -> None:
        with torch.inference_mode():
            spec.translate(model, images, params, ctx)
        if engine.device.type == "cuda":
            torch.cuda.synchronize(engine.device)

    return run


def _best(run: Any, repeat: int) -> float:
    times = []
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(min(times), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--translator", action="append", default=[])
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--tile-pixels", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from translator.errors import TranslatorError
    from translator.plugins import load_registry
    from translator.store import ModelStore

    width, height = (int(v) for v in args.size.lower().split("x"))
    registry = load_registry()
    store = ModelStore(registry)
    names = args.translator or sorted(registry.translators)
    records = []
    for name in names:
        spec = registry.translator(name)
        entry = store.default(spec.name)
        model = store.load(entry) if entry is not None else spec.build(dict(spec.default_config))
        try:
            record = bench(spec, model, width=width, height=height,
                           tile_pixels=args.tile_pixels or max(width * height // 4, 64 * 64),
                           device=args.device, precision=args.precision, repeat=args.repeat)
        except TranslatorError as exc:
            record = {"translator": name, "error": str(exc)}
        record["model"] = entry.name if entry is not None else "untrained default"
        records.append(record)
        if not args.json:
            print(" ".join(f"{k}={v}" for k, v in record.items()), flush=True)
    if args.json:
        print(json.dumps(records, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
