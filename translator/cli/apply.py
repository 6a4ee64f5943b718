"""`translator apply`: run a translator headless over files and folders.

A failing file is reported and skipped, the batch goes on; the exit status is 1 if any failed.
A plugin failing on one file is not yet broken: three failures in a row mark it so. The batch
stops early only when the output cannot take any more files (disk full, read-only), and says so.
With `--overwrite`, outputs of the same run never replace each other.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.errors import PluginError, TranslatorError
from translator.params import parse_assignments, resolve_params

if TYPE_CHECKING:
    from translator.batch import ItemResult

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

    from translator.batch import BatchItem, run_batch
    from translator.engine import Engine
    from translator.imageio import find_images
    from translator.plugins import load_registry

    registry = load_registry()
    spec = registry.translator(args.plugin)
    params = resolve_params(spec.params, parse_assignments(args.param), from_text=True)

    missing = [p for p in args.inputs if not p.exists()]
    unlisted = [f"{p}: not a file or folder (a device or pipe?); skipped" for p in args.inputs
                if p.exists() and not (p.is_file() or p.is_dir())]
    files = find_images([p for p in args.inputs if p.exists()],
                        on_error=lambda path, why: unlisted.append(f"{path}: {why}"))
    for path in missing:
        print(f"translator: {path}: no such file or folder", file=sys.stderr)
    for line in unlisted:
        print(f"translator: {line}", file=sys.stderr)
    if not files and spec.task.needs_input:
        print("translator: error: no input images found", file=sys.stderr)
        return 1 if args.inputs else 2
    _prepare_out(args.out)
    entry, model = _open_model(registry, spec.name, args.model)
    engine = Engine(device=args.device, precision=args.precision, tile_pixels=args.tile_pixels,
                    backend=args.backend)

    tag = spec.name if entry is None else f"{spec.name}-{entry.name}"
    owner = registry.owner(spec.name)
    items = ([BatchItem(label=path.name, path=path) for path in files] if files
             else [BatchItem(label=tag, name=_generated_name(params))])
    bar = tqdm(total=len(items), unit="image", disable=args.quiet, file=sys.stderr)

    def run_one(image: Any, progress: Any, warn: Any) -> Any:
        return _translate(engine, spec, model, image, params, warn=warn, progress=progress)

    def on_item(result: ItemResult) -> None:
        label = result.item.label
        for message in result.warnings:
            bar.write(f"translator: {label}: warning: {message}", file=sys.stderr)
        if result.error is None:
            registry.plugin_succeeded(owner)
            bar.write(f"{label} -> {result.target}") if not args.quiet else None
        else:
            bar.write(f"translator: {label}: {result.message}", file=sys.stderr)
            if isinstance(result.error, PluginError) and registry.plugin_failed(
                    owner, result.error.__cause__ or result.error):
                bar.write(f"translator: plugin {owner!r} marked broken after "
                          f"{registry.STRIKES} failures in a row", file=sys.stderr)
        bar.update(1)

    def progress(fraction: float, message: str) -> None:
        bar.set_postfix_str(message.split(": ", 1)[-1][:40], refresh=False)

    report = run_batch(items, run_one, args.out, spec.name, args.format, overwrite=args.overwrite,
                       on_item=on_item, progress=progress)
    bar.close()
    total = len(items) + len(missing) + len(unlisted)
    failures = len(missing) + len(unlisted) + len(report.errors) + report.not_tried
    if report.stopped is not None and report.not_tried:
        print(f"translator: stopped early: {args.out}: {report.stopped}; {report.not_tried} input(s) not tried",
              file=sys.stderr)
    if failures:
        print(f"translator: {failures} of {total} input(s) failed", file=sys.stderr)
    return 1 if failures else 0


def _prepare_out(out: Path) -> None:
    """Create the output folder (and its parents); raises `TranslatorError` when it cannot be
    created or written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise TranslatorError(f"-o {out}: is a file, not a folder") from None
    except NotADirectoryError:
        raise TranslatorError(f"-o {out}: cannot be created, a part of the path is a file") from None
    except OSError as exc:
        raise TranslatorError(f"-o {out}: cannot be created ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise TranslatorError(f"-o {out}: the folder is not writable")


def _open_model(registry: Any, translator: str, name: str | None) -> tuple[Any, Any]:
    """The model to run; a plugin that fails while building it is marked broken (a failure at
    load time) and `PluginError` raised."""
    from translator.store import ModelStore

    try:
        return ModelStore(registry).open(translator, name)
    except TranslatorError:
        raise
    except Exception as exc:  # noqa: BLE001 - the plugin's build, not ours
        registry.mark_broken(registry.owner(translator), exc)
        raise PluginError(f"{translator}: cannot build its network ({type(exc).__name__}: {exc})") from exc


def _translate(engine: Any, spec: Any, model: Any, image: Any, params: dict[str, Any],
               warn: Any = None, progress: Any = None) -> Any:
    """`engine.run` (its warnings about the input go to `warn`, its progress to `progress`), with
    anything else a plugin raises (even `SystemExit`; only Ctrl+C still stops the batch) as
    `PluginError`."""
    try:
        return engine.run(spec, model, image, params, warn=warn, progress=progress)
    except (TranslatorError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - a plugin must not end the batch
        raise PluginError(f"{spec.name} failed: {type(exc).__name__}: {exc}") from exc


def _generated_name(params: dict[str, Any]) -> str:
    """The file name a generator's output is named after: its seed, if it has one."""
    seed = params.get("seed")
    return f"seed{seed}.png" if seed is not None else "generated.png"
