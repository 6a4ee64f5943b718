"""`translator models list|import|remove|export`: the model store from the command line."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from translator.params import parse_assignments


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("models", help="list, import and remove models",
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
    if args.json:
        print(json.dumps([e.describe() for e in entries], indent=2))
        return 0
    if not entries:
        print("no models")
    for entry in entries:
        title = entry.card.title if entry.card.title != entry.name else ""
        print(f"{entry.translator}/{entry.name:<24} {entry.kind:<9} {title}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    store = _store()
    entry = store.import_file(args.file, plugin=args.plugin, name=args.name,
                              options=parse_assignments(args.options))
    print(f"imported {args.file.name} as {entry.translator}/{entry.name}")
    if entry.card.description:
        print(f"  {entry.card.description}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    store = _store()
    translator = store.registry.translator(args.plugin).name if args.plugin else None
    entry = store.remove(args.name, translator)
    print(f"removed {entry.translator}/{entry.name}")
    return 0
