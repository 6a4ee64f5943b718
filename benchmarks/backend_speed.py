"""Ours against a plain PyTorch forward of the same weights: the engine's backends, ONNX Runtime,
torch.compile and oneDNN bfloat16, on the CPU, interleaved in one process.

    python benchmarks/backend_speed.py [--size 512] [--rounds 5] [--n-blocks 9] [--ngf 64]
        [--compile] [--bf16] [--json]

The network is a CycleGAN resnet generator (the paper's resnet_9blocks by default) with random
weights (seed 0); the input a (size x size) 8-bit image. Each round runs, one after the other:
  eager    the generator's own forward in inference mode on a prepared (1, 3, H, W) tensor
           (the reference: what any PyTorch user would write);
  auto     `Engine(backend="auto").run(...)`, what `translator apply --backend auto` runs per
           image, conversions from and to 8-bit included (its one-off export and measurement
           happen before the timed rounds, into a temporary cache unless --cache is given);
  torch    `Engine(backend="torch").run(...)`;
  ort      the exported graph in ONNX Runtime alone;
  compile  torch.compile(generator) (with --compile; compiled before the timed rounds);
  bf16     the generator in bfloat16 through oneDNN (with --bf16; its error is printed too).
Printed: the best time of each and its ratio to eager (done-when target: auto <= 0.85x).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    from translator.device import default_threads
    from translator.engine import Engine
    from translator.image import Image
    from translator.onnx_backend import OnnxBackend
    from translator.plugins import load_registry

    spec = load_registry().translator("cyclegan")
    config = {**spec.default_config, "ngf": args.ngf, "n_blocks": args.n_blocks, "directions": ["AtoB"]}
    torch.manual_seed(0)
    model = spec.build(config).eval()
    generator = model.generator("AtoB")
    rng = np.random.default_rng(0)
    pixels = (rng.random((args.size // 8, args.size // 8, 3)) * 255).astype(np.uint8)
    pixels = np.kron(pixels, np.ones((8, 8, 1), dtype=np.uint8))[:args.size, :args.size]
    image = Image(np.ascontiguousarray(pixels))
    tensor = torch.from_numpy(image.rgb).permute(2, 0, 1)[None].contiguous() * 2 - 1
    params = {"direction": "AtoB"}

    auto = Engine("cpu", "fp32", backend="auto")
    plain = Engine("cpu", "fp32", backend="torch")
    auto.run(spec, model, image, params)  # export, check and measure once (cached)
    backend = OnnxBackend()
    session = backend.session(spec, model, params, args.size, args.size)
    floats = torch.from_numpy(image.rgb).permute(2, 0, 1)[None].contiguous()

    def eager() -> None:
        with torch.inference_mode():
            generator(tensor)

    runs: dict[str, Callable[[], Any]] = {
        "eager": eager,
        "auto": lambda: auto.run(spec, model, image, params),
        "torch": lambda: plain.run(spec, model, image, params),
        "ort": lambda: backend.run(session, floats),
    }
    errors: dict[str, float] = {}
    with torch.inference_mode():
        reference = generator(tensor)
    if args.compile:
        compiled = torch.compile(generator)
        with torch.inference_mode():
            errors["compile"] = float((compiled(tensor) - reference).abs().max())

        def run_compiled() -> None:
            with torch.inference_mode():
                compiled(tensor)

        runs["compile"] = run_compiled
    if args.bf16:
        import copy

        half = copy.deepcopy(generator).to(torch.bfloat16)
        low = tensor.to(torch.bfloat16)
        with torch.inference_mode():
            errors["bf16"] = float((half(low).float() - reference).abs().max())

        def run_bf16() -> None:
            with torch.inference_mode():
                half(low)

        runs["bf16"] = run_bf16
    for fn in runs.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    best = {name: min(values) for name, values in times.items()}
    choice = next(iter(backend._load_choices().values()), {})
    return {
        "machine": f"{_cpu_name()}, {default_threads()} threads", "torch": torch.__version__,
        "network": f"resnet_{args.n_blocks}blocks ngf {args.ngf}", "size": args.size, "rounds": args.rounds,
        "best_s": {k: round(v, 4) for k, v in best.items()},
        "ratio_to_eager": {k: round(v / best["eager"], 3) for k, v in best.items()},
        "auto_chose": choice.get("backend"), "max_abs_error_vs_eager_on_[-1,1]": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n-blocks", type=int, default=9)
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    parser.add_argument("--bf16", action="store_true", help="also time bfloat16 through oneDNN")
    parser.add_argument("--cache", help="graph cache folder to use and keep (default: a temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRANSLATOR_CACHE"] = args.cache or tmp
        record = run(args)
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"{record['network']} at {record['size']}^2 on {record['machine']} (torch {record['torch']}), "
          f"best of {record['rounds']} interleaved rounds; auto chose {record['auto_chose']}")
    for name, seconds in record["best_s"].items():
        print(f"  {name:>8}: {seconds:7.3f} s  {record['ratio_to_eager'][name]:5.2f}x eager")
    for name, error in record["max_abs_error_vs_eager_on_[-1,1]"].items():
        print(f"  {name:>8}: max abs difference from eager {error:.1e} (on the network's [-1, 1] scale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
