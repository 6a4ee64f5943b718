"""`translator plugins [--json]`: each plugin's name, version, source, translators and errors."""
from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("plugins", help="list plugins, their translators and load errors",
                            description="List every plugin: name, version, source (built-in or "
                                        "package), translators, hooks and load errors.")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from translator.plugins import load_registry

    registry = load_registry()
    described = registry.describe()
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    for plugin in described:
        status = "BROKEN" if plugin["error"] else "ok"
        print(f"{plugin['name']} {plugin['version']} ({plugin['source']}) [{status}]")
        for translator in plugin["translators"]:
            print(f"    {translator['name']:<16} {translator['task']:<18} {translator['title']}")
        if plugin["error"]:
            print(f"    error: {plugin['error']}")
            for line in (plugin.get("detail") or "").splitlines():
                print(f"      {line}")
    if not described:
        print("no plugins installed")
    return 0
