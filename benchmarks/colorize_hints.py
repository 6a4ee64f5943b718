"""Speed of colorize with and without colour hints (the edge-aware spreading is the extra cost).

    python benchmarks/colorize_hints.py [--size 1155x866] [--hints 0 1 10] [--device cpu] [--repeat 2] [--json]

The bundled colorize model on a noise-and-gradient image of `--size` (default about 1 megapixel)
through the engine, with 0, 1 and 10 colour points at seeded places: the best time of `--repeat`
runs each, and its ratio to the run without hints. The target is an interactive app: a
1-megapixel image with hints well under 2 s on a laptop CPU (the spreading solves at most
`propagate.SOLVE_SIZE` px on the longer side).
"""
from __future__ import annotations

import argparse
import json
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1155x866")
    parser.add_argument("--hints", type=int, nargs="+", default=[0, 1, 10])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import numpy as np

    from translator import api
    from translator.engine import Engine
    from translator.plugins import load_registry
    from translator.store import ModelStore
    from translator.testing import make_image

    width, height = (int(v) for v in args.size.split("x"))
    registry = load_registry()
    spec = registry.translator("colorize")
    entry, model = ModelStore(registry).open("colorize")
    image = make_image(width, height, pattern="gradient")
    noise = make_image(width, height, pattern="noise")
    image = image.with_rgb((0.8 * image.rgb + 0.2 * noise.rgb).astype(np.float32))
    engine = Engine(args.device, "fp32")
    rng = np.random.default_rng(0)
    records = []
    for count in args.hints:
        points = tuple(api.ColorPoint(float(x), float(y), (200, 60, 40)) for x, y in rng.random((count, 2)))
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            engine.run(spec, model, image, {"hints": points})
            best = min(best, time.perf_counter() - started)
        records.append({"model": entry.name, "size": args.size, "hints": count, "seconds": round(best, 3)})
    base = next((r["seconds"] for r in records if r["hints"] == 0), None)
    for record in records:
        if base:
            record["ratio_to_no_hints"] = round(record["seconds"] / base, 2)
        print(json.dumps(record) if args.json else
              f"{record['model']} {record['size']} with {record['hints']} hint(s): {record['seconds']:.2f} s"
              + (f" ({record['ratio_to_no_hints']}x without hints)" if base else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
