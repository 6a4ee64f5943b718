"""How long a cancel can wait, against the tile size, for a translator on the CPU.

    python benchmarks/cancel_latency.py [--translator cyclegan] [--size 1280]
        [--tiles 1280,1024,768,640,512,384] [--device cpu]

The engine polls `cancel.is_set()` between tiles and before every submodule's forward
(`translator.engine.cancel_hooks`), and a layer cannot be interrupted, so the longest time
between two polls is how long a press of Esc can wait. For each tile side this runs the
translator's default model over one `--size` x `--size` test image with tiles of at most
side^2 pixels (after one small warm-up run) and prints the longest gap between polls
(`worst_gap_s`), the run's time (`total_s`), that time per megapixel the network computed,
overlaps included (`s_per_mp`), and the pixels computed for a 4000 x 2667 photo as a ratio to
its own size (`photo_work`, from the tile plan: the cost of the overlaps). The total-time cost
of a tile size is about photo_work x s_per_mp; on a loaded machine s_per_mp is noisy, the work
ratio is exact.
"""
from __future__ import annotations

import argparse
import itertools
import time
from typing import Any


class PollClock:
    """A `Cancellable` that is never set and remembers when it was asked."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def is_set(self) -> bool:
        self.times.append(time.perf_counter())
        return False

    def worst_gap(self, end: float) -> float:
        marks = [*self.times, end]
        return max((b - a for a, b in itertools.pairwise(marks)), default=0.0)


PHOTO = (2667, 4000)


def work(spec: Any, height: int, width: int, side: int) -> float:
    """Pixels the network computes for a `height` x `width` image with tiles of side^2, as a
    ratio to the image's pixels."""
    from translator.engine import tile_plan

    multiple = max(int(spec.size_multiple), 1)
    height, width = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    if height * width <= side * side:
        return 1.0
    _overlap, tiles = tile_plan(spec, height, width, side * side)
    return sum(t.height * t.width for t in tiles) / (height * width)


def measure(spec: Any, model: Any, image: Any, side: int, device: str) -> dict[str, Any]:
    from translator.engine import Engine

    engine = Engine(device=device, precision="fp32", tile_pixels=side * side)
    clock = PollClock()
    start = time.perf_counter()
    engine.run(spec, model, image, cancel=clock)
    end = time.perf_counter()
    computed = work(spec, image.height, image.width, side) * image.height * image.width / 1e6
    return {"tile": f"{side}^2", "worst_gap_s": round(clock.worst_gap(end), 3),
            "total_s": round(end - start, 2), "s_per_mp": round((end - start) / computed, 2),
            "photo_work": round(work(spec, *PHOTO, side), 3), "polls": len(clock.times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--translator", default="cyclegan")
    parser.add_argument("--size", type=int, default=1280)
    parser.add_argument("--tiles", default="1280,1024,768,640,512,384")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from translator.plugins import load_registry
    from translator.store import ModelStore
    from translator.testing import make_image

    registry = load_registry()
    spec = registry.translator(args.translator)
    entry = ModelStore(registry).default(spec.name)
    model = ModelStore(registry).load(entry) if entry is not None else spec.build(dict(spec.default_config))
    image = make_image(args.size, args.size, pattern="gradient")
    measure(spec, model, make_image(256, 256), 256, args.device)  # warm-up: placing, first allocations
    for side in (int(s) for s in args.tiles.split(",")):
        record = measure(spec, model, image, side, args.device)
        print(" ".join(f"{k}={v}" for k, v in record.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
