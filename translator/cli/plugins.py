"""`translator plugins [--json]`: each plugin's name, version, source, translators (with their
parameters) and errors."""
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
            traits = ", ".join(t for t, on in (("trainable", translator["trainable"]),
                                               ("no weights", not translator["weights"])) if on)
            print(f"    {translator['name']:<16} {translator['task']:<18} {translator['title']}"
                  + (f" ({traits})" if traits else ""))
            for param in translator["params"]:
                print(f"        {param_line(param)}")
        if plugin["error"]:
            print(f"    error: {plugin['error']}")
            for line in (plugin.get("detail") or "").splitlines():
                print(f"      {line}")
    if not described:
        print("no plugins installed")
    return 0


def param_line(param: dict[str, Any]) -> str:
    """One parameter in plain text: `name (kind) = default, range or choices: help`, from
    `Param.describe()`."""
    default = param.get("default")
    text = f"{param['name']} ({param['kind']})"
    if default not in (None, "", [], ()):
        text += f" = {_plain(default)}"
    if "minimum" in param and "maximum" in param:
        text += f", {_plain(param['minimum'])} to {_plain(param['maximum'])}"
        if param.get("step") not in (None, 1):
            text += f" step {_plain(param['step'])}"
    if param.get("choices"):
        text += f", one of {'|'.join(param['choices'])}"
    if param.get("pattern"):
        text += f", matching {param['pattern']}"
    if param.get("filters"):
        text += f", files {' '.join(param['filters'])}"
    if param.get("help"):
        text += f": {param['help']}"
    return text


def _plain(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)
