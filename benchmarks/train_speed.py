"""Training speed of every trainable translator: images per second of `Trainer.train_step`.

    python benchmarks/train_speed.py [--plugin NAME ...] [--size 256] [--batch-size B]
        [--steps 10] [--warmup 2] [--device auto|cpu|cuda] [--precision auto|fp32|bf16|fp16]
        [--set name=value ...] [--json]

Each translator with a `TrainingSpec` gets a trainer built as `translator-train` builds it (the
paper's options unless `--set` changes them, from scratch), fed random in-memory batches of its
data kind, so the numbers measure the networks and the optimiser steps, not image decoding.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def bench(spec: Any, *, size: int, batch_size: int | None, steps: int, warmup: int, device_name: str,
          precision: str, overrides: dict[str, str]) -> dict[str, Any]:
    """Time `steps` train steps after `warmup` ones; returns a JSON-able record."""
    import torch

    from translator.params import resolve_params
    from translator.training.context import TrainContext
    from translator.training.loop import pick_amp_dtype, pick_device
    from translator.training.losses import GANLoss
    from translator.training.spec import DataKind

    training = spec.training
    device = pick_device(device_name)
    amp_dtype = pick_amp_dtype(precision, device)
    known = {p.name for p in training.options}
    plugin_options = resolve_params(training.options, {k: v for k, v in overrides.items() if k in known},
                                    from_text=True)
    architecture = {p.name for p in spec.config}
    given = resolve_params([p for p in spec.config if p.name in overrides],
                           {k: v for k, v in overrides.items() if k in architecture}, from_text=True)
    config = spec.resolve_config({**training.scratch_config, **given}, source="--set")
    batch = batch_size or training.batch_size
    options = {**plugin_options, "lr": training.lr, "betas": training.betas, "optimizer": training.optimizer,
               "gan_loss": training.gan_loss, "d_steps": training.d_steps, "batch_size": batch, "size": size,
               "seed": 0, "steps": steps + warmup}
    torch.manual_seed(0)
    ctx = TrainContext(device=device, options=options, gan_loss=GANLoss(training.gan_loss), amp_dtype=amp_dtype,
                       default_config=config, channels_last=device.type == "cuda",
                       scaler=torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None)
    trainer = training.make_trainer(ctx)
    keys = ("image",) if training.data is DataKind.SINGLE else ("A", "B")
    memory = torch.channels_last if ctx.channels_last else torch.contiguous_format
    batches = [{k: torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=memory) for k in keys}
               for _ in range(2)]

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for step in range(warmup):
        trainer.train_step(batches[step % 2], step)
    sync()
    started = time.perf_counter()
    for step in range(steps):
        trainer.train_step(batches[step % 2], warmup + step)
    sync()
    elapsed = time.perf_counter() - started
    record = {"translator": spec.name, "device": str(device), "device_name": _device_name(device),
              "precision": str(amp_dtype).replace("torch.", "") if amp_dtype else "fp32", "size": size,
              "batch_size": batch, "steps": steps, "seconds": round(elapsed, 3),
              "images_per_s": round(steps * batch / elapsed, 3), "options": overrides}
    if device.type == "cuda":
        record["peak_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    return record


def _device_name(device: Any) -> str:
    import platform

    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugin", action="append", help="translator(s) to measure (default: every trainable one)")
    parser.add_argument("--size", type=int, default=256, help="training crop in pixels (default: 256)")
    parser.add_argument("--batch-size", type=int, help="default: each plugin's paper default")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default: 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default: 2)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the available cores)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a plugin training option (e.g. n_blocks=6); ignored by plugins without it")
    parser.add_argument("--json", action="store_true", help="one JSON record per line")
    args = parser.parse_args(argv)

    from translator.device import configure_cpu_threads
    from translator.params import parse_assignments
    from translator.plugins import load_registry

    configure_cpu_threads(args.threads)  # default: the available cores, as translator-train does
    registry = load_registry()
    names = args.plugin or sorted(n for n, s in registry.translators.items() if s.training is not None)
    overrides = parse_assignments(args.set)
    for name in names:
        spec = registry.translator(name)
        if spec.training is None:
            print(f"{name}: not trainable", file=sys.stderr)
            continue
        record = bench(spec, size=args.size, batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
                       device_name=args.device, precision=args.precision, overrides=overrides)
        if args.json:
            print(json.dumps(record))
        else:
            print(f"{record['translator']:>10}: {record['images_per_s']:8.2f} images/s  ({record['device_name']}, "
                  f"{record['precision']}, {record['size']} px, batch {record['batch_size']}, "
                  f"{record['steps']} steps in {record['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
