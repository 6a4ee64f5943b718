"""The engine's ONNX Runtime backend: exported graphs cached on disk, and a measured choice of backend.

A translator's `translate` for fixed parameter values is exported once per model, parameter
values and size class (see `size_class`) into the user cache folder (`cache_dir`), verified
against PyTorch (`onnx_export.TOLERANCE`), and run in ONNX Runtime's CPU provider. "auto" times
both backends on the first input of a size class, interleaved, and remembers the faster one in
`choices.json` beside the graphs (keyed by the library versions and thread count too), so the
choice is measured on this machine, never assumed.

Only the CPU in float32 is served; everything else stays with PyTorch.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.errors import DeviceError
from translator.onnx_export import (INPUT_NAME, ExportError, export_onnx, make_session, onnxruntime_available,
                                    why_not_exportable)
from translator.spec import TranslatorSpec

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnxruntime")
"""Names of the engine's backends; "auto" is whichever measured faster here."""
MIN_CLASS = 256
"""Smallest size class: inputs up to 256 px a side share one graph and one measurement."""
TIMING_ROUNDS = 3
"""Interleaved timed runs of each backend when "auto" measures."""
CACHE_ENV = "TRANSLATOR_CACHE"


def cache_dir() -> Path:
    """`$TRANSLATOR_CACHE`, else `$TRANSLATOR_HOME/cache`, else the platform's user cache folder,
    plus `onnx/`."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser() / "onnx"
    home = os.environ.get("TRANSLATOR_HOME")
    if home:
        return Path(home).expanduser() / "cache" / "onnx"
    import platformdirs

    return Path(platformdirs.user_cache_dir("translator", appauthor=False)) / "onnx"


def size_class(height: int, width: int) -> int:
    """The power of two at or above the longer side (at least `MIN_CLASS`): inputs of one class
    share an exported graph and a timing."""
    side = max(int(height), int(width), MIN_CLASS)
    return 1 << (side - 1).bit_length()


def check_backend(name: str) -> str:
    """`name` when it is a known backend; raises `DeviceError` otherwise, or when "onnxruntime" is
    asked for and not installed."""
    if name not in BACKENDS:
        raise DeviceError(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")
    if name == "onnxruntime" and not onnxruntime_available():
        raise DeviceError("backend onnxruntime is not installed: pip install 'image-translator[onnx]'")
    return name


_DIGESTS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def model_digest(model: nn.Module) -> str:
    """A short hash of `model`'s class and weights (computed once per module object)."""
    cached = _DIGESTS.get(model)
    if cached is not None:
        return cached
    digest = hashlib.blake2b(digest_size=10)
    digest.update(type(model).__qualname__.encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    value = digest.hexdigest()
    _DIGESTS[model] = value
    return value


def _params_key(params: Mapping[str, Any]) -> str:
    text = json.dumps(dict(params), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


class OnnxBackend:
    """Cached ONNX Runtime sessions and backend choices for one engine (thread-safe).

    folder: where graphs and `choices.json` live (default: `cache_dir()`).
    threads: ONNX Runtime intra-op threads (default: `translator.device.default_threads()`).
    """

    def __init__(self, folder: Path | None = None, threads: int | None = None) -> None:
        self.folder = folder or cache_dir()
        self.threads = threads
        self._sessions: dict[str, Any] = {}
        self._choices: dict[str, str] = {}
        self._failed: dict[str, ExportError] = {}
        self._lock = threading.Lock()

    def key(self, spec: TranslatorSpec, model: nn.Module, params: Mapping[str, Any], height: int, width: int) -> str:
        """File stem of the graph for this translator, model, parameters and size class."""
        return f"{spec.name}-{model_digest(model)}-{_params_key(params)}-s{size_class(height, width)}"

    def session(self, spec: TranslatorSpec, model: nn.Module, params: Mapping[str, Any],
                height: int, width: int) -> Any:
        """The ONNX Runtime session for an input of `height` x `width`, exporting (and verifying)
        the graph on first use. Raises `ExportError`."""
        key = self.key(spec, model, params, height, width)
        with self._lock:
            if key in self._sessions:
                return self._sessions[key]
            if key in self._failed:  # a failed export is not tried again for every image
                raise self._failed[key]
            path = self.folder / f"{key}.onnx"
            if not path.exists():
                side = size_class(height, width)
                needs = spec.input_requirements(model)
                multiple = needs.multiple
                example = (min(height, side), min(width, side))
                check = (example[0], max(needs.padded_side(1), example[1] - multiple * max(1, 16 // multiple)))
                try:
                    report = export_onnx(spec, model, params, path, example_size=example, check_size=check,
                                         threads=self.threads)
                except ExportError as exc:
                    self._failed[key] = exc
                    raise
                log.info("exported %s in %.1f s (max difference %.1e)", path.name, report.seconds,
                         report.max_abs_diff)
            session = make_session(path, threads=self.threads)
            self._sessions[key] = session
            return session

    def run(self, session: Any, images: torch.Tensor) -> torch.Tensor:
        """Run `session` on a (B, 3, H, W) float32 CPU tensor; returns the same layout."""
        import numpy as np
        import torch

        array = np.ascontiguousarray(images.detach().to("cpu", torch.float32).numpy())
        return torch.from_numpy(session.run(None, {INPUT_NAME: array})[0])

    def supports(self, spec: TranslatorSpec, params: Mapping[str, Any], device: torch.device,
                 dtype: torch.dtype) -> str | None:
        """None when this backend can run `spec` here, else the reason it cannot."""
        import torch

        if not onnxruntime_available():
            return "onnxruntime is not installed"
        if device.type != "cpu" or dtype != torch.float32:
            return "the ONNX Runtime backend runs on the CPU in float32 only"
        return why_not_exportable(spec, params)

    def choose(self, spec: TranslatorSpec, model: nn.Module, params: Mapping[str, Any],
               images: torch.Tensor, torch_forward: Any) -> str:
        """"torch" or "onnxruntime", whichever runs `images`' size class faster here: measured once
        (interleaved, `TIMING_ROUNDS` each, on `images`) and remembered on disk."""
        height, width = images.shape[-2:]
        key = f"{self.key(spec, model, params, height, width)}|{self._environment()}"
        if key in self._choices:
            return self._choices[key]
        stored = self._load_choices()
        if key in stored and stored[key].get("backend") in ("torch", "onnxruntime"):
            self._choices[key] = stored[key]["backend"]
            return self._choices[key]
        try:
            session = self.session(spec, model, params, height, width)
        except ExportError as exc:
            log.warning("%s; using PyTorch", exc)
            choice, timing = "torch", {"error": str(exc)}
        else:
            timing = measure(lambda: torch_forward(images), lambda: self.run(session, images))
            choice = "onnxruntime" if timing["onnxruntime_s"] < timing["torch_s"] else "torch"
        self._choices[key] = choice
        stored = self._load_choices()
        stored[key] = {"backend": choice, **timing, "size": [int(height), int(width)],
                       "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self._save_choices(stored)
        return choice

    # -- the remembered choices --------------------------------------------------------------

    def _environment(self) -> str:
        import onnxruntime
        import torch

        from translator.device import default_threads

        return f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, " \
               f"{self.threads or default_threads()} threads"

    def _load_choices(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "choices.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_choices(self, data: dict[str, Any]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temp = self.folder / f".choices.{os.getpid()}.json"
            temp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(temp, self.folder / "choices.json")
        except OSError as exc:  # a read-only cache only costs a measurement next time
            log.warning("cannot remember the backend choice in %s: %s", self.folder, exc)


def measure(torch_run: Any, ort_run: Any, rounds: int = TIMING_ROUNDS) -> dict[str, float]:
    """Best-of-`rounds` seconds of two callables, run alternately after one warm-up each, so
    that other load on the machine biases both alike."""
    import torch

    times: dict[str, list[float]] = {"torch_s": [], "onnxruntime_s": []}
    with torch.inference_mode():
        torch_run()
        ort_run()
        for _ in range(rounds):
            for name, run in (("torch_s", torch_run), ("onnxruntime_s", ort_run)):
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
    return {name: round(min(values), 4) for name, values in times.items()}

