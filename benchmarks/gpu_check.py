"""The GPU check: everything on the CUDA path, in one command, in under 8 minutes.

    python benchmarks/gpu_check.py [--quick] [--dry-run] [--skip tests,agreement,latency,tiles,training]

Sections (each row of the table names its section):
  tests      the test suite's CUDA-marked tests (`pytest -m cuda`); passed / failed / skipped;
  agreement  fp16 against fp32 through the engine for every built-in translator (max and mean
             absolute difference on the [0, 1] scale);
  latency    each image translator's network (random weights, the plugin's default config) at
             512^2 and 1024^2 in fp32, fp16, fp16 + channels_last and fp16 + torch.compile;
             ratio to fp32 (target: fp16 <= 0.4x for the resnet and U-Net generators);
  tiles      the tile size the engine picks from free memory for an 8192^2 image, and that image
             run through the bundled CycleGAN in fp16 (seconds, peak GPU memory);
  training   images per second of each trainable plugin's training step with AMP.
Prints one table; when $OUT is set, also writes it to $OUT/gpu_check.md and the rows to
$OUT/gpu_check.json. Exits 2 at once, with a one-line message, when no CUDA device is available.

--dry-run runs every section on the CPU with tiny sizes, so that the script is known to work
before a GPU session: the CUDA tests are run (and skip), "half" precision is float32 in the
engine and bfloat16 in the latency loop, torch.compile is left out (compiling on the CPU takes
minutes), and the tiles section forces small tiles. Its figures say nothing about a GPU; the
table's title says it was a dry run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTIONS = ("tests", "agreement", "latency", "tiles", "training")
VARIANTS = ("fp32", "fp16", "fp16+channels_last", "fp16+compile")
DRY_VARIANTS = ("fp32", "bf16", "bf16+channels_last")
"""The latency variants of --dry-run (the CPU has no fast float16; compiling takes minutes)."""
DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
BUDGET_S = {"tests": 120, "agreement": 60, "latency": 150, "tiles": 60, "training": 60}
"""Soft time limit of each section in seconds (a section stops starting new work past it)."""


@dataclass
class Row:
    """One line of the table."""

    section: str
    item: str
    value: str
    note: str = ""


def require_cuda() -> str:
    """The name of CUDA device 0; raises SystemExit(2) with a clear message when there is none."""
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device is available (torch "
                         f"{torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); run it on a GPU machine")
    return torch.cuda.get_device_name(0)


def render(rows: Iterable[Row], title: str) -> str:
    """The rows as one Markdown table under `title`."""
    rows = list(rows)
    header = ("section", "item", "value", "note")
    cells = [header] + [(r.section, r.item, r.value, r.note) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    line = lambda c: "| " + " | ".join(v.ljust(w) for v, w in zip(c, widths)) + " |"  # noqa: E731
    out = [f"## {title}", "", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(c) for c in cells[1:]]
    return "\n".join(out) + "\n"


def parse_pytest_summary(text: str) -> dict[str, int]:
    """Counts from pytest's last summary line ("3 passed, 1 skipped, 2 deselected in 4.0s")."""
    counts: dict[str, int] = {}
    for line in reversed(text.strip().splitlines()):
        if " in " in line and any(w in line for w in ("passed", "failed", "skipped", "deselected", "error")):
            for part in line.strip("= ").split(" in ")[0].split(","):
                words = part.strip().split()
                if len(words) >= 2 and words[0].isdigit():
                    counts[words[1].rstrip("s")] = int(words[0])
            break
    return counts


def timed(fn: Callable[[], Any], sync: Callable[[], None], repeat: int) -> float:
    """Best of `repeat` runs of `fn`, in seconds, after one warm-up."""
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - started)
    return best


# -- sections ------------------------------------------------------------------------------------

def cuda_test_files() -> list[str]:
    """The test files that mark tests `pytest.mark.cuda` (what --dry-run collects: the whole suite
    takes minutes to collect on a small CPU)."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                  if "pytest.mark.cuda" in p.read_text(encoding="utf-8"))


def check_tests(paths: list[str] | None = None) -> list[Row]:
    """`pytest -m cuda` over `paths` (default: the whole suite). Without CUDA, as in --dry-run, the
    same command runs and the tests report themselves skipped."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "cuda", "-rs",
               *(paths or ["tests"])]
    done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=BUDGET_S["tests"] * 2)
    counts = parse_pytest_summary(done.stdout)
    value = ", ".join(f"{v} {k}" for k, v in counts.items() if k != "deselected") or "no result"
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    note = "; ".join(skipped)[:200] if skipped else ("ok" if done.returncode == 0 else f"exit {done.returncode}")
    return [Row("tests", "pytest -m cuda", value, note)]


def check_agreement(registry: Any, store: Any, device: str = "cuda", low: str = "fp16",
                    size: tuple[int, int] = (256, 192)) -> list[Row]:
    """`low` against fp32 through the engine for every translator, on a (width, height) gradient."""
    import numpy as np
    import torch

    from translator.engine import Engine
    from translator.testing import make_image

    rows = []
    image = make_image(*size, pattern="gradient")
    for name in sorted(registry.translators):
        spec = registry.translator(name)
        try:
            _entry, model = store.open(name)
        except Exception:  # no bundled model: a fresh network of the default config
            model = spec.build(dict(spec.default_config)).eval()
        given = image if spec.task.needs_input else None
        params = {"steps": 2} if spec.needs_grad and any(p.name == "steps" for p in spec.params) else {}
        try:
            torch.manual_seed(0)
            ref = Engine(device, "fp32").run(spec, model, given, params)
            torch.manual_seed(0)
            half = Engine(device, low).run(spec, model, given, params)
            diff = np.abs(ref.rgb - half.rgb)
            rows.append(Row("agreement", f"{name} {low} vs fp32", f"max {diff.max():.4f}", f"mean {diff.mean():.5f}"))
        except Exception as exc:
            rows.append(Row("agreement", f"{name} {low} vs fp32", "error", f"{type(exc).__name__}: {exc}"[:120]))
    return rows


def check_latency(registry: Any, sizes: tuple[int, ...], device: str = "cuda",
                  variants: tuple[str, ...] = VARIANTS, repeat: int = 5) -> list[Row]:
    import torch

    from translator.params import resolve_params
    from translator.spec import RunContext

    dev = torch.device(device)
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    rows = []
    started = time.perf_counter()
    for name in sorted(registry.translators):
        spec = registry.translator(name)
        if not spec.task.needs_input or spec.needs_grad:
            continue
        model = spec.build(dict(spec.default_config)).eval().to(dev)
        params = resolve_params(spec.params, {})  # the translator's defaults (a direction, a working size)
        for size in sizes:
            base = None
            for variant in variants:
                if time.perf_counter() - started > BUDGET_S["latency"]:
                    rows.append(Row("latency", f"{name} {size}^2 {variant}", "skipped", "section time budget"))
                    continue
                dtype = getattr(torch, DTYPES[variant.split("+")[0]])
                net = model.to(dtype=dtype)
                if "channels_last" in variant:
                    net = net.to(memory_format=torch.channels_last)
                runner = torch.compile(net) if "compile" in variant else net
                ctx = RunContext(device=dev, dtype=dtype)
                # padded to the model's size needs, as the engine does (a U-Net wants multiples)
                images = spec.input_requirements(model).pad(torch.rand(1, 3, size, size, device=dev, dtype=dtype))
                if "channels_last" in variant:
                    images = images.contiguous(memory_format=torch.channels_last)

                def forward() -> None:
                    with torch.inference_mode():
                        spec.translate(runner, images, params, ctx)  # noqa: B023 (called at once)

                try:
                    seconds = timed(forward, sync, repeat)
                except Exception as exc:
                    rows.append(Row("latency", f"{name} {size}^2 {variant}", "error", f"{type(exc).__name__}"))
                    continue
                finally:
                    model.to(memory_format=torch.contiguous_format)
                base = seconds if variant == "fp32" else base
                ratio = f"{seconds / base:.2f}x fp32" if base else ""
                rows.append(Row("latency", f"{name} {size}^2 {variant}", f"{seconds * 1000:.1f} ms", ratio))
        model.to("cpu", torch.float32)
    return rows


def check_tiles(registry: Any, store: Any, side: int, device: str = "cuda", precision: str = "fp16",
                tile_pixels: int | None = None) -> list[Row]:
    """The tile size the engine picks on `device` (or `tile_pixels`, forced) and a `side`^2 image
    through the bundled CycleGAN in tiles of it."""
    import numpy as np
    import torch

    from translator.engine import Engine
    from translator.image import Image

    spec = registry.translator("cyclegan")
    _entry, model = store.open("cyclegan")
    engine = Engine(device, precision, tile_pixels=tile_pixels)
    cuda = engine.device.type == "cuda"
    budget = engine._tile_budget()
    if cuda:
        free = f"{torch.cuda.mem_get_info(engine.device)[0] / 2**30:.1f} GiB free"
    source = free if cuda else ("forced" if tile_pixels else "CPU default")
    rows = [Row("tiles", f"tile size ({source})", f"{budget:,} px", f"{int(budget ** 0.5)} px square")]
    image = Image(np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8))
    if cuda:
        torch.cuda.reset_peak_memory_stats(engine.device)
    started = time.perf_counter()
    result = engine.run(spec, model, image)
    if cuda:
        torch.cuda.synchronize(engine.device)
    seconds = time.perf_counter() - started
    if result.pixels.shape != image.pixels.shape:
        raise RuntimeError(f"the tiled result is {result.pixels.shape}, not {image.pixels.shape}")
    peak = f"peak {torch.cuda.max_memory_allocated(engine.device) / 2**30:.1f} GiB; " if cuda else ""
    rows.append(Row("tiles", f"cyclegan {side}^2 {precision}", f"{seconds:.1f} s",
                    f"{peak}tiles of {engine.tile_pixels or budget:,} px"))
    return rows


SMALL_TRAINING = {"pix2pix": {"num_downs": "5"}}
"""Training options for crops under 256 px (--quick, --dry-run): the default 8-level U-Net needs 256."""


def check_training(registry: Any, size: int, steps: int, device: str = "cuda", batch_size: int | None = None,
                   warmup: int = 2) -> list[Row]:
    """Training images per second of every trainable plugin (AMP as "auto" picks it on `device`)."""
    sys.path.insert(0, str(HERE))
    from train_speed import bench  # the same measurement as benchmarks/train_speed.py

    rows = []
    for name in sorted(n for n, s in registry.translators.items() if s.training is not None):
        try:
            record = bench(registry.translator(name), size=size, batch_size=batch_size, steps=steps, warmup=warmup,
                           device_name=device, precision="auto",
                           overrides=SMALL_TRAINING.get(name, {}) if size < 256 else {})
            rows.append(Row("training", f"{name} {size}px AMP {record['precision']}",
                            f"{record['images_per_s']:.1f} img/s", f"batch {record['batch_size']}, "
                            f"peak {record.get('peak_memory_gib', '?')} GiB"))
        except Exception as exc:
            rows.append(Row("training", f"{name} {size}px AMP", "error", f"{type(exc).__name__}: {exc}"[:120]))
    return rows


def dry_run_steps(registry: Any, store: Any) -> list[tuple[str, Callable[[], list[Row]]]]:
    """The sections of --dry-run: the same functions on the CPU, tiny."""
    return [
        ("tests", lambda: check_tests(cuda_test_files())),
        ("agreement", lambda: check_agreement(registry, store, device="cpu", low="fp32", size=(40, 32))),
        ("latency", lambda: check_latency(registry, (32,), device="cpu", variants=DRY_VARIANTS, repeat=1)),
        ("tiles", lambda: check_tiles(registry, store, 320, device="cpu", precision="fp32", tile_pixels=300 * 300)),
        ("training", lambda: check_training(registry, 32, 1, device="cpu", batch_size=1, warmup=1)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer steps")
    parser.add_argument("--dry-run", action="store_true",
                        help="every section on the CPU with tiny sizes (no GPU figures): checks the script itself")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip ({', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if args.dry_run:
        gpu = "CPU dry run (no GPU figures)"
    else:
        try:
            gpu = require_cuda()
        except SystemExit as exc:
            print(exc, file=sys.stderr)
            return 2

    import torch

    from translator.plugins import load_registry
    from translator.store import ModelStore

    registry = load_registry()
    store = ModelStore(registry)
    started = time.perf_counter()
    rows: list[Row] = []
    if args.dry_run:
        steps = dry_run_steps(registry, store)
    else:
        steps = [
            ("tests", check_tests),
            ("agreement", lambda: check_agreement(registry, store)),
            ("latency", lambda: check_latency(registry, (256, 512) if args.quick else (512, 1024))),
            ("tiles", lambda: check_tiles(registry, store, 2048 if args.quick else 8192)),
            ("training", lambda: check_training(registry, 128 if args.quick else 256, 5 if args.quick else 20)),
        ]
    for section, step in steps:
        if section in skip:
            continue
        section_started = time.perf_counter()
        try:
            rows += step()
        except Exception as exc:
            rows.append(Row(section, "section failed", "error", f"{type(exc).__name__}: {exc}"[:160]))
        rows.append(Row(section, "section time", f"{time.perf_counter() - section_started:.0f} s"))
        print(f"gpu_check: {section} done", file=sys.stderr, flush=True)
    title = (f"GPU check: {gpu}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
             f"{time.strftime('%Y-%m-%d', time.gmtime())}, {time.perf_counter() - started:.0f} s")
    table = render(rows, title)
    print(table)
    out = os.environ.get("OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "gpu_check.md").write_text(table, encoding="utf-8")
        (Path(out) / "gpu_check.json").write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
