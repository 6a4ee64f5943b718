"""`translator models export NAME --format onnx [-o FILE]`: a model as a standalone ONNX graph."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from translator.params import parse_assignments, resolve_params

FORMATS = ("onnx",)


def add_parser(models: Any) -> None:
    """Register `export` among the `models` actions."""
    parser = models.add_parser(
        "export", help="export a model to ONNX",
        description="Export a model's translation (its network with the translator's own pre- and "
                    "post-processing, for fixed parameter values) as an ONNX graph with dynamic height "
                    "and width: input and output (B, 3, H, W) float32 RGB in [0, 1]. The graph is "
                    "checked against PyTorch on a random input and a JSON card is written beside it. "
                    "Needs the onnx extra (pip install 'image-translator[onnx]').")
    parser.add_argument("name", help="model name (NAME or TRANSLATOR/NAME)")
    parser.add_argument("--plugin", help="translator the model belongs to")
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="output format (default onnx)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="output file (default: ./<translator>-<name>.onnx)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="translator parameter fixed into the graph (e.g. direction=BtoA)")
    parser.add_argument("--size", type=int, default=256, metavar="PX",
                        help="side of the square input the graph is traced at (default 256)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from translator.errors import TranslatorError
    from translator.onnx_export import export_onnx, write_card
    from translator.plugins import load_registry
    from translator.store import ModelStore

    store = ModelStore(load_registry())
    translator = store.registry.translator(args.plugin).name if args.plugin else None
    entry = store.get(args.name, translator)
    spec = store.registry.translator(entry.translator)
    params = resolve_params(spec.params, parse_assignments(args.param), from_text=True)
    target = args.output or Path(f"{entry.translator}-{entry.name}.onnx")
    if target.suffix.lower() != ".onnx":
        raise TranslatorError(f"{target}: an ONNX file must end in .onnx")
    if target.exists() and not args.overwrite:
        raise TranslatorError(f"{target}: already exists (use --overwrite)")
    model = store.load(entry)
    report = export_onnx(spec, model, params, target, example_size=(args.size, args.size))
    card = write_card(report, spec, model_name=entry.name, params=params, source_card=entry.card.to_dict())
    print(f"exported {entry.translator}/{entry.name} to {report.path} (checked on a "
          f"{report.check_size[0]}x{report.check_size[1]} input: max difference {report.max_abs_diff:.1e}; "
          f"card {card.name})")
    return 0
