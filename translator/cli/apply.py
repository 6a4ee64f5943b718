"""`translator apply`: run a translator headless over files and folders.

A failing file is reported and skipped, the batch goes on; the exit status is 1 if any failed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from translator.errors import PluginError, TranslatorError
from translator.params import parse_assignments, resolve_params

FORMATS = ("png", "jpg", "webp", "tif", "bmp")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "apply", help="run a translator over images, headless",
        description="Run a translator over image files and folders (recursively) and write the results "
                    "to OUTDIR as <stem>_<translator>.<format>. Generators (e.g. stylegan) need no input.")
    parser.add_argument("inputs", nargs="*", type=Path, metavar="INPUT", help="image files or folders")
    parser.add_argument("--plugin", required=True, help="translator (or plugin) name")
    parser.add_argument("--model", help="model name (default: the translator's default model)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="translator parameter; see `translator plugins` for each one's names")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime"),
                        help="auto (default): ONNX Runtime where it measured faster on this device "
                             "(needs the onnx extra), else PyTorch")
    parser.add_argument("--tile-pixels", type=int, default=None,
                        help="largest tile in pixels (default: from the device's memory)")
    parser.add_argument("-o", "--out", type=Path, required=True, metavar="OUTDIR", help="output folder")
    parser.add_argument("--format", choices=FORMATS, default="png", help="output format (default png)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from translator.engine import Engine
    from translator.imageio import find_images, read_image, suggest_output_path, write_image
    from translator.plugins import load_registry
    from translator.store import ModelStore

    registry = load_registry()
    spec = registry.translator(args.plugin)
    params = resolve_params(spec.params, parse_assignments(args.param), from_text=True)
    entry, model = ModelStore(registry).open(spec.name, args.model)
    engine = Engine(device=args.device, precision=args.precision, tile_pixels=args.tile_pixels,
                    backend=args.backend)

    missing = [p for p in args.inputs if not p.exists()]
    files = find_images([p for p in args.inputs if p.exists()])
    for path in missing:
        print(f"translator: {path}: no such file or folder", file=sys.stderr)
    if not files and spec.task.needs_input:
        print("translator: error: no input images found", file=sys.stderr)
        return 1 if args.inputs else 2

    args.out.mkdir(parents=True, exist_ok=True)
    tag = spec.name if entry is None else f"{spec.name}-{entry.name}"
    jobs: list[Path | None] = list(files) if files else [None]
    failures = len(missing)
    bar = tqdm(jobs, unit="image", disable=args.quiet, file=sys.stderr)
    for path in bar:
        label = path.name if path is not None else tag
        bar.set_postfix_str(label[:40])
        try:
            image = read_image(path) if path is not None else None
            result = engine.run(spec, model, image, params)
            stem_source = path if path is not None else Path(_generated_stem(spec.name, params))
            target = suggest_output_path(stem_source, args.out, spec.name, args.format)
            if args.overwrite:
                target = args.out / f"{stem_source.stem}_{spec.name}.{args.format}"
            write_image(target, result, overwrite=args.overwrite, protected=files)
            bar.write(f"{label} -> {target}") if not args.quiet else None
        except PluginError as exc:
            registry.mark_broken(registry.owner(spec.name), exc.__cause__ or exc)
            bar.write(f"translator: {label}: {exc}", file=sys.stderr)
            return 1
        except TranslatorError as exc:
            failures += 1
            bar.write(f"translator: {label}: {exc}", file=sys.stderr)
    bar.close()
    if failures:
        print(f"translator: {failures} of {len(jobs) + len(missing)} input(s) failed", file=sys.stderr)
    return 1 if failures else 0


def _generated_stem(translator: str, params: dict[str, Any]) -> str:
    seed = params.get("seed")
    return f"seed{seed}.png" if seed is not None else "generated.png"
