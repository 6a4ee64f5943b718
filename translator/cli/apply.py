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
    from translator.failures import output_failure
    from translator.imageio import find_images, read_image, suggest_output_path, write_image
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
    jobs: list[Path | None] = list(files) if files else [None]
    failures = len(missing) + len(unlisted)
    taken: set[str] = set()  # outputs of this run, never replaced by a later input of it
    stopped: str | None = None
    done = 0
    bar = tqdm(jobs, unit="image", disable=args.quiet, file=sys.stderr)
    for path in bar:
        label = path.name if path is not None else tag
        bar.set_postfix_str(label[:40])
        done += 1
        try:
            image = read_image(path) if path is not None else None
            result = _translate(engine, spec, model, image, params,
                                warn=lambda message, name=label: bar.write(
                                    f"translator: {name}: warning: {message}", file=sys.stderr))
            stem_source = path if path is not None else Path(_generated_stem(spec.name, params))
            target = _target(stem_source, args, spec.name, taken, suggest_output_path)
            write_image(target, result, overwrite=args.overwrite, protected=files)
            taken.add(target.name.casefold())
            registry.plugin_succeeded(owner)
            bar.write(f"{label} -> {target}") if not args.quiet else None
        except PluginError as exc:
            failures += 1
            bar.write(f"translator: {label}: {exc}", file=sys.stderr)
            if registry.plugin_failed(owner, exc.__cause__ or exc):
                bar.write(f"translator: plugin {owner!r} marked broken after "
                          f"{registry.STRIKES} failures in a row", file=sys.stderr)
        except (TranslatorError, OSError) as exc:
            failures += 1
            stopped = output_failure(exc)
            reason = exc if isinstance(exc, TranslatorError) else f"{exc.strerror or exc}"
            bar.write(f"translator: {label}: {reason}", file=sys.stderr)
            if stopped is not None:
                break
    bar.close()
    total = len(jobs) + len(missing) + len(unlisted)
    if stopped is not None and done < len(jobs):
        print(f"translator: stopped early: {args.out}: {stopped}; {len(jobs) - done} input(s) not tried",
              file=sys.stderr)
        failures += len(jobs) - done
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
               warn: Any = None) -> Any:
    """`engine.run` (its warnings about the input go to `warn`), with anything else a plugin
    raises (even `SystemExit`; only Ctrl+C still stops the batch) as `PluginError`."""
    try:
        return engine.run(spec, model, image, params, warn=warn)
    except (TranslatorError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - a plugin must not end the batch
        raise PluginError(f"{spec.name} failed: {type(exc).__name__}: {exc}") from exc


def _target(source: Path, args: argparse.Namespace, translator: str, taken: set[str],
            suggest: Any) -> Path:
    """Where one result goes: `<stem>_<translator>.<format>`; with `--overwrite` that name even
    when it exists, unless an earlier input of this run wrote it (then `-2`, `-3`, ...)."""
    if not args.overwrite:
        return suggest(source, args.out, translator, args.format)
    stem = source.stem or "image"
    candidate, number = f"{stem}_{translator}.{args.format}", 2
    while candidate.casefold() in taken:
        candidate = f"{stem}_{translator}-{number}.{args.format}"
        number += 1
    return args.out / candidate


def _generated_stem(translator: str, params: dict[str, Any]) -> str:
    seed = params.get("seed")
    return f"seed{seed}.png" if seed is not None else "generated.png"
