"""Export a translator's network to ONNX, with dynamic height and width, verified against PyTorch.

What is exported is the translator's own `translate` for fixed parameter values, as one graph:
(B, 3, H, W) float32 RGB in [0, 1] -> (B, 3, H, W) in [0, 1]. So the graph includes whatever the
plugin does around its network (scaling to [-1, 1], choosing a direction) and other tools
(ONNX Runtime, OpenVINO, chaiNNer) can run it as it is. H and W must meet the model's size
requirements (`TranslatorSpec.input_requirements`, written in the card); the engine's padding
and its `work_size` rescaling happen outside the graph.

Needs the `onnx` extra (onnxruntime, for the check); torch is imported inside the functions.
"""
from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import os
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.errors import TranslatorError
from translator.spec import TaskKind, TranslatorSpec, collecting_warnings

if TYPE_CHECKING:
    from torch import nn

OPSET = 17
"""ONNX opset written (the TorchScript exporter's best-tested one)."""
TOLERANCE = 1e-4
"""Largest absolute difference from PyTorch (on the [0, 1] scale) an export may have."""
INPUT_NAME = "images"
OUTPUT_NAME = "translated"


class ExportError(TranslatorError):
    """A translator cannot be exported, or its export does not agree with PyTorch."""


@dataclass(frozen=True)
class ExportReport:
    """The outcome of one export.

    path: the .onnx file. check_size: (H, W) of the random input it was verified on.
    max_abs_diff: largest |ONNX Runtime - PyTorch| there. seconds: time of export and check.
    size_multiple, min_side: what the graph's input sides must meet.
    """

    path: Path
    check_size: tuple[int, int]
    max_abs_diff: float
    seconds: float
    size_multiple: int = 1
    min_side: int = 1


def onnxruntime_available() -> bool:
    """Whether the `onnx` extra (onnxruntime) is installed."""
    return importlib.util.find_spec("onnxruntime") is not None


def why_not_exportable(spec: TranslatorSpec, params: Mapping[str, Any]) -> str | None:
    """None when `spec` with `params` can be exported as one image-to-image graph, else the reason."""
    if not spec.task.needs_input or spec.task is TaskKind.GENERATE:
        return f"{spec.name} generates images; only image-to-image translators export"
    if spec.needs_grad:
        return f"{spec.name} optimises at run time; it cannot be one fixed graph"
    for name, value in params.items():
        empty = isinstance(value, (tuple, list)) and not value
        if not isinstance(value, (str, int, float, bool)) and value is not None and not empty:
            return (f"{spec.name}: parameter {name} ({type(value).__name__}) changes per image; "
                    f"only plain values can be fixed into a graph")
    return None


def translate_module(spec: TranslatorSpec, model: nn.Module, params: Mapping[str, Any]) -> nn.Module:
    """`spec.translate(model, x, params)` on the CPU in float32, as a module of one input."""
    import torch

    from translator.spec import RunContext

    ctx = RunContext(device=torch.device("cpu"), dtype=torch.float32)
    fixed = dict(params)

    class Translate(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return spec.translate(self.model, images, fixed, ctx)

    return Translate().eval()


def export_onnx(spec: TranslatorSpec, model: nn.Module, params: Mapping[str, Any], path: str | Path, *,
                example_size: tuple[int, int] = (256, 256), check_size: tuple[int, int] | None = None,
                tolerance: float = TOLERANCE, threads: int | None = None) -> ExportReport:
    """Write `spec.translate(model, ., params)` to `path` as ONNX and check it.

    The graph is traced at `example_size` (H, W) with dynamic batch, height and width, then run in
    ONNX Runtime on a random input of `check_size` (default: the example size plus one size step
    in width, so the dynamic shapes are exercised) and compared with PyTorch. The model is moved
    to the CPU in float32. The file appears only once it passed. Raises `ExportError` when the
    translator cannot be exported, the exporter fails or the results differ by more than
    `tolerance`.
    """
    import torch

    reason = why_not_exportable(spec, params)
    if reason:
        raise ExportError(reason)
    if not onnxruntime_available():
        raise ExportError("exporting needs onnxruntime to check the graph: pip install 'image-translator[onnx]'")
    needs = spec.input_requirements(model)
    multiple = needs.multiple
    example = tuple(needs.padded_side(int(s)) for s in example_size)
    check = check_size or (example[0], example[1] + multiple * max(1, 32 // multiple))
    started = time.perf_counter()
    path = Path(path)
    model.to(device="cpu", dtype=torch.float32)
    module = translate_module(spec, model, params)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".onnx.part", dir=path.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        generator = torch.Generator().manual_seed(0)
        # the random trace and check inputs are not the user's image: what the translator says about
        # them (`RunContext.warn`, e.g. "looks like a photo") is dropped
        with torch.inference_mode(), warnings.catch_warnings(), collecting_warnings(None):
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(
                    module, (torch.rand(1, 3, *example, generator=generator),), str(temp), dynamo=False,
                    opset_version=OPSET, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                    dynamic_axes={INPUT_NAME: {0: "batch", 2: "height", 3: "width"},
                                  OUTPUT_NAME: {0: "batch", 2: "height", 3: "width"}})
            except TranslatorError as exc:  # the translator's own word on why it cannot be traced
                raise ExportError(str(exc)) from exc
            except Exception as exc:
                raise ExportError(f"{spec.name}: the ONNX exporter failed: {type(exc).__name__}: "
                                  f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from exc
            probe = torch.rand(1, 3, *check, generator=generator)
            expected = module(probe).float().numpy()
        session = make_session(temp, threads=threads)
        got = session.run(None, {INPUT_NAME: probe.numpy()})[0]
        if got.shape != expected.shape:
            raise ExportError(f"{spec.name}: the ONNX graph returned {got.shape} for {tuple(probe.shape)}; "
                              f"PyTorch returned {expected.shape}")
        import numpy as np

        diff = float(np.abs(got - expected).max())
        if not diff <= tolerance:
            raise ExportError(f"{spec.name}: the ONNX graph differs from PyTorch by {diff:.2e} "
                              f"(more than {tolerance:.0e}) on a {check[0]}x{check[1]} input")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600; a shared graph follows the umask
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return ExportReport(path=path, check_size=(int(check[0]), int(check[1])), max_abs_diff=diff,
                        seconds=round(time.perf_counter() - started, 2), size_multiple=multiple,
                        min_side=needs.minimum)


def make_session(path: str | Path, *, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session for the graph at `path`, with `threads` intra-op threads
    (default: `translator.device.default_threads()`)."""
    import onnxruntime as ort

    from translator.device import default_threads

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or default_threads())
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def write_card(report: ExportReport, spec: TranslatorSpec, *, model_name: str | None,
               params: Mapping[str, Any], source_card: Mapping[str, Any] | None = None) -> Path:
    """A JSON card beside the .onnx file (same stem): what the graph is, its input and output, the
    parameters fixed into it and how it was checked. Returns its path."""
    import torch

    card = {
        "format": "onnx",
        "opset": OPSET,
        "translator": spec.name,
        "model": model_name,
        "title": (source_card or {}).get("title", model_name or spec.name),
        "description": (source_card or {}).get("description", spec.description),
        "input": {"name": INPUT_NAME, "shape": ["batch", 3, "height", "width"], "dtype": "float32",
                  "range": [0.0, 1.0], "colour": "RGB",
                  "size_multiple": report.size_multiple, "min_side": report.min_side},
        "output": {"name": OUTPUT_NAME, "shape": ["batch", 3, "height", "width"], "dtype": "float32",
                   "range": [0.0, 1.0], "colour": "RGB"},
        "params": dict(params),
        "config": (source_card or {}).get("config"),
        "training": (source_card or {}).get("training"),
        "licence": (source_card or {}).get("licence") or (source_card or {}).get("license"),
        "check": {"size": list(report.check_size), "max_abs_diff": report.max_abs_diff,
                  "tolerance": TOLERANCE, "against": f"PyTorch {torch.__version__} (CPU, float32)"},
        "exported": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = report.path.with_suffix(".json")
    path.write_text(json.dumps(card, indent=2, default=str) + "\n", encoding="utf-8")
    return path
