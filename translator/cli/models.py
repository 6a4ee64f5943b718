"""`translator models list|import|remove|available|get|export`: the model store, the catalog of
published models and ONNX export from the command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from translator.params import parse_assignments


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("models", help="list, import, download and remove models",
                            description="Manage the model store (bundled, trained and imported models).")
    models = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    listing = models.add_parser("list", help="list models")
    listing.add_argument("--plugin", help="only this translator's models")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)

    importing = models.add_parser(
        "import", help="import a weights file (.pth, .pt, .safetensors)",
        description="Import a weights file. The plugin detects the architecture from the file's keys, "
                    "the converted weights are verified to load, then stored as safetensors with a "
                    "model card. Files are never unpickled beyond plain tensors.")
    importing.add_argument("file", type=Path, help="weights file")
    importing.add_argument("--plugin", help="plugin (or translator) the file is for; default: ask all")
    importing.add_argument("--name", help="model name (default: the file's stem)")
    importing.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                           help="plugin import option, e.g. direction=BtoA or pair_with=MODEL")
    importing.set_defaults(run=run_import)

    removing = models.add_parser("remove", help="remove a user model")
    removing.add_argument("name", help="model name (NAME or TRANSLATOR/NAME)")
    removing.add_argument("--plugin", help="translator the model belongs to")
    removing.set_defaults(run=run_remove)

    available = models.add_parser(
        "available", help="list the published models that can be downloaded",
        description="List the catalog of published models (from every plugin), each marked installed or not.")
    available.add_argument("--plugin", help="only this plugin's models")
    available.add_argument("--json", action="store_true", help="print JSON")
    available.set_defaults(run=run_available)

    getting = models.add_parser(
        "get", help="download and install published models",
        description="Download catalog models (resuming interrupted downloads), verify their size and sha256, "
                    "import them like `models import` and store them with a model card that records the "
                    "address, hash, licence and date.")
    getting.add_argument("names", nargs="+", metavar="NAME", help="catalog name (NAME or PLUGIN/NAME)")
    getting.add_argument("--force", action="store_true", help="download and install again even when installed")
    getting.set_defaults(run=run_get)

    from translator.cli import export

    export.add_parser(models)


def _store() -> Any:
    from translator.plugins import load_registry
    from translator.store import ModelStore

    return ModelStore(load_registry())


def run_list(args: argparse.Namespace) -> int:
    store = _store()
    translator = store.registry.translator(args.plugin).name if args.plugin else None
    entries = store.list(translator)
    broken = store.broken(translator)
    if args.json:
        print(json.dumps([e.describe() for e in entries] + [b.describe() for b in broken], indent=2))
        return 0
    if translator is not None and not store.registry.translator(translator).weights:
        print(f"{translator} is a filter without weights: it runs without a model")
    elif not entries and not broken:
        print("no models")
    for entry in entries:
        title = entry.card.title if entry.card.title != entry.name else ""
        print(f"{entry.translator}/{entry.name:<24} {entry.kind:<9} {title}")
    for item in broken:
        hint = "" if item.bundled else f" (remove with `translator models remove {item.translator}/{item.name}`)"
        print(f"{item.translator}/{item.name:<24} {'broken':<9} {item.reason}{hint}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    store = _store()
    entry = store.import_file(args.file, plugin=args.plugin, name=args.name,
                              options=parse_assignments(args.options))
    print(f"imported {args.file.name} as {entry.translator}/{entry.name}")
    if entry.card.description:
        print(f"  {entry.card.description}")
    bad = _nonfinite_tensors(entry.weights)
    if bad:
        print(f"translator: warning: {entry.translator}/{entry.name}: {len(bad)} weight tensor(s) hold "
              f"NaN or infinite values ({', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}); "
              f"its results will be unusable", file=sys.stderr)
    return 0


def _nonfinite_tensors(weights: Path) -> list[str]:
    """Names of the floating-point tensors of a safetensors file that hold NaN or infinity."""
    import torch
    from safetensors import safe_open

    bad = []
    with safe_open(str(weights), framework="pt") as handle:
        for key in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
            tensor = handle.get_tensor(key)
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                bad.append(key)
    return bad


def run_remove(args: argparse.Namespace) -> int:
    store = _store()
    translator = store.registry.translator(args.plugin).name if args.plugin else None
    entry = store.remove(args.name, translator)
    print(f"removed {entry.translator}/{entry.name}")
    return 0


def run_available(args: argparse.Namespace) -> int:
    from translator.catalog import installed, load_catalog

    store = _store()
    plugin = _plugin_name(store.registry, args.plugin) if args.plugin else None
    catalog = load_catalog(store.registry)
    entries = catalog.for_plugin(plugin)
    marks = {e.qualified: installed(store, e) is not None for e in entries}
    if args.json:
        print(json.dumps([{**e.describe(), "installed": marks[e.qualified]} for e in entries], indent=2))
        return 0
    for problem in catalog.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not entries:
        print("no published models")
    for entry in entries:
        state = "installed" if marks[entry.qualified] else ("unsupported" if not entry.supported else "-")
        print(f"{entry.qualified:<34} {state:<11} {entry.size_text():>10}  {entry.title}")
        print(f"{'':<34} expects {entry.expects}; {entry.resolution}; licence: {entry.licence}")
        if not entry.supported:
            print(f"{'':<34} not supported: {entry.reason}")
    return 0


def run_get(args: argparse.Namespace) -> int:
    from translator.catalog import install, load_catalog

    store = _store()
    catalog = load_catalog(store.registry)
    entries = [catalog.find(name) for name in args.names]  # every name is checked before downloading
    failed = 0
    for entry in entries:
        bars: dict[str, Any] = {}
        try:
            result = install(store, entry, force=args.force, progress=_progress_bars(bars),
                             waiting=lambda entry=entry: print(f"waiting for another download of "
                                                               f"{entry.qualified}...", file=sys.stderr))
        except Exception as exc:
            from translator.errors import TranslatorError

            if not isinstance(exc, TranslatorError) or len(entries) == 1:
                raise
            print(f"error: {entry.qualified}: {exc}", file=sys.stderr)
            failed += 1
            continue
        finally:
            for bar in bars.values():
                bar.close()
        model = result.model
        if result.downloaded:
            print(f"installed {entry.qualified} as {model.translator}/{model.name} "
                  f"(sha256 {model.card.source.get('sha256', '')[:16]}..., licence: {entry.licence})")
        else:
            print(f"{entry.qualified} is already installed as {model.translator}/{model.name} "
                  "(--force downloads it again)")
    return 2 if failed else 0


def _progress_bars(bars: dict[str, Any]) -> Any:
    """A progress callback drawing one tqdm bar (bytes, speed) per file on stderr."""
    from tqdm import tqdm

    def progress(filename: str, done: int, total: int | None) -> None:
        bar = bars.get(filename)
        if bar is None:
            bar = bars[filename] = tqdm(total=total, initial=done, unit="B", unit_scale=True,
                                        unit_divisor=1024, desc=filename, file=sys.stderr, leave=True)
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return progress


def _plugin_name(registry: Any, name: str) -> str:
    """A plugin's name from its own name or its translator's; raises `PluginError`."""
    if name in registry.plugins:
        return name
    return registry.owner(registry.translator(name).name)
