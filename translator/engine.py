"""The inference engine: runs any translator on one image, on any device, at any size.

`Engine.run` is the single way the app, `translator apply` and the test fixtures run a model. It
takes care of what every translator would otherwise repeat: device and precision, inference
mode, padding to the translator's and the model's size requirements, tiling of big images with seamless blending
(and the translator's image-wide tiling state), retries with smaller tiles when the GPU runs out
of memory, a retry in float32 when half precision overflows, alpha channels, progress and cancel.
A plugin's failure surfaces as `PluginError` (the registry can then mark the plugin broken); the
engine itself keeps working.

torch is imported when an engine is made, not when this module is imported.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from translator import device as devices
from translator.errors import Cancelled, DeviceError, PluginError, TranslatorError
from translator.image import Image, quantize, to_float
from translator.params import resolve_params
from translator.spec import (
    Cancellable,
    RunContext,
    SizeRequirements,
    TaskKind,
    TranslatorSpec,
    collecting_warnings,
)
from translator.tiling import Tile, band_rows, blend_weights, plan_tiles, tile_side

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

ProgressFn = Callable[[float, str], None]

CPU_TILE_PIXELS = 1280 * 1280
"""Largest tile on the CPU: memory of the host, not speed, is the limit there. The bundled
CycleGAN (ngf 32) needs about 1.2 GB of activations on a 1280^2 tile (1.7 GB at 1536^2): an
8192^2 image peaks at 2.13 GB in all (2.76 GB with 1536^2 tiles; `benchmarks/memory.py`).
Smaller tiles cost speed (more overlap recomputed): 1024^2 took 1.16x the time at 2048^2."""
INTERACTIVE_CPU_TILE_PIXELS = 768 * 768
"""Largest tile on the CPU for an `interactive` engine (the app): a layer cannot be interrupted,
and the slowest layer of the bundled CycleGAN takes about 1.2 s on a 768^2 tile on a loaded
2-core CPU (4.4 s on 1280^2, the `CPU_TILE_PIXELS` of a batch), so a cancel acts within about a second; the price is more
overlap, about 1.4 x the work of `CPU_TILE_PIXELS` on a 4000 x 2667 photo
(`benchmarks/cancel_latency.py`)."""
PREVIEW_PIXELS = 640 * 640
"""Size of the quick first result `Engine.run(preview=...)` gives of a big image."""
MIN_TILE_PIXELS = 32 * 32
"""Out-of-memory retries stop below this tile size."""
BYTES_PER_PIXEL = 12_000
"""Rough peak activation memory per pixel of a 256-channel GAN generator in float32, used to pick
the first tile size on a GPU from its free memory (out-of-memory retries correct it)."""


class Engine:
    """Runs translators.

    device: "auto" (CUDA, then Apple's GPU, then CPU), "cpu", "cuda", "cuda:N" or "mps".
    precision: "auto" (fp16 on GPUs for translators that allow it), "fp32", "fp16" or "bf16".
    tile_pixels: largest tile, in pixels; None picks one from the device's free memory (on the
        CPU `CPU_TILE_PIXELS`, or `INTERACTIVE_CPU_TILE_PIXELS` when `interactive`).
    interactive: the engine serves someone waiting to cancel (the app) rather than throughput
        (`translator apply`): on the CPU it works in smaller tiles, so that a cancel acts within
        about a second.
    backend: "torch" (default), "onnxruntime" (the translator's graph exported and run in ONNX
        Runtime; CPU, float32) or "auto" (whichever measured faster here for the model and size,
        see `translator.onnx_backend`). Tiles that share image-wide state always run in PyTorch.
    On the CPU, torch's intra-op threads are set to the available cores (`device.default_threads`).
    Raises `DeviceError` for a device, precision or backend that is not available here.
    """

    def __init__(self, device: str = "auto", precision: str = "auto", tile_pixels: int | None = None,
                 backend: str = "torch", *, interactive: bool = False) -> None:
        if precision not in devices.PRECISIONS:
            raise DeviceError(f"unknown precision {precision!r}; use one of {', '.join(devices.PRECISIONS)}")
        if tile_pixels is not None and tile_pixels < MIN_TILE_PIXELS:
            raise DeviceError(f"tile size {tile_pixels} pixels is below the minimum of {MIN_TILE_PIXELS}")
        self.device = devices.resolve_device(device)
        self.precision = precision
        devices.resolve_dtype(precision, self.device)  # refuse fp16 on the CPU now, not mid-batch
        self.tile_pixels = tile_pixels
        self.interactive = interactive
        from translator.onnx_backend import check_backend

        self.backend = check_backend(backend)
        self._onnx: Any = None
        if self.device.type == "cpu":
            devices.configure_cpu_threads()

    def __repr__(self) -> str:
        return (f"Engine(device={str(self.device)!r}, precision={self.precision!r}, "
                f"tile_pixels={self.tile_pixels}, backend={self.backend!r}, interactive={self.interactive})")

    # -- public --------------------------------------------------------------------------------

    def run(self, spec: TranslatorSpec, model: nn.Module, image: Image | None,
            params: Mapping[str, Any] | None = None, *, progress: ProgressFn | None = None,
            cancel: Cancellable | None = None, warn: Callable[[str], None] | None = None,
            preview: Callable[[Image], None] | None = None) -> Image:
        """Translate `image` (None for a generator without input) with `model` and `params`.

        params: values of the translator's parameters (missing ones take their defaults).
        progress(fraction in [0, 1], message) is called from this thread; for tiled images the
        message is "tile N of M" with an estimate of the time left. `cancel.is_set()` is polled
        between tiles, by the translator, and (PyTorch backend) before every submodule's forward,
        so a cancel acts within one layer even inside a big tile; ONNX Runtime runs a tile as one
        call, so there it acts between tiles. warn(message) receives, once each, the
        warnings the translator gives about this input (`RunContext.warn`). preview(result): when
        given and the input has more than twice `PREVIEW_PIXELS`, the translator first runs on the
        input scaled down to about `PREVIEW_PIXELS`, and `preview` gets that result enlarged to
        the input's size before the full-size run starts (a quick first look; its progress is
        reported as "preview: ..." at fraction 0). Returns the result with the input's alpha
        (when the size is unchanged). Raises `Cancelled`, `ParameterError`, `DeviceError` (out
        of memory even at the smallest tile), `PluginError` (the translator itself failed) or
        another `TranslatorError` a translator raised on purpose (bad input for it).
        """
        import torch

        values = resolve_params(spec.params, params or {})
        if image is None and spec.task.needs_input:
            raise TranslatorError(f"{spec.name} needs an input image")
        report = progress or (lambda fraction, message: None)
        dtype = devices.resolve_dtype(self.precision, self.device, half_allowed=spec.half_precision)
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        self._place(spec, model, dtype, report)
        try:
            with collecting_warnings(warn), cancel_hooks(model, cancel):
                if image is not None and spec.check_input is not None:
                    _check_input(spec, image, values)
                if preview is not None and image is not None and spec.task.needs_input and (
                        image.height * image.width > 2 * PREVIEW_PIXELS):
                    small = _shrunk(image, PREVIEW_PIXELS)
                    quick = self._run_with_precision(spec, model, small, values, dtype,
                                                     lambda _f, m: report(0.0, f"preview: {m}"), cancel)
                    preview(image.with_rgb(_enlarged(quick, image.height, image.width)))
                pixels = self._run_with_precision(spec, model, image, values, dtype, report, cancel)
        except TranslatorError:
            raise
        except Exception as exc:
            if devices.is_out_of_memory(exc):
                devices.empty_cache(self.device)
                raise DeviceError(f"{spec.name}: out of memory on {self.device}; try a smaller image, "
                                  f"smaller tiles or the CPU") from exc
            raise PluginError(f"{spec.name} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            if dtype != torch.float32 or self.device.type != "cpu":
                devices.empty_cache(self.device)
        report(1.0, "done")
        if image is None:
            return Image(pixels)
        return image.with_rgb(pixels)

    # -- steps ---------------------------------------------------------------------------------

    def _place(self, spec: TranslatorSpec, model: nn.Module, dtype: torch.dtype,
               report: ProgressFn | None = None) -> None:
        """Move `model` to the engine's device and `dtype`, in eval mode (in place; cheap when it
        is already there). report(0, message) hears a move that actually happens."""
        try:
            first = next(model.parameters(), None)
            if first is None or first.device != self.device or first.dtype != dtype:
                if report is not None and first is not None:
                    report(0.0, f"moving the model to {self.device} ({str(dtype).removeprefix('torch.')})")
                model.to(device=self.device, dtype=dtype)
            model.eval()
        except Exception as exc:
            if devices.is_out_of_memory(exc):
                model.to("cpu")
                devices.empty_cache(self.device)
                raise DeviceError(f"{spec.name}: the model does not fit in the memory of {self.device}") from exc
            raise PluginError(f"{spec.name}: cannot move the model to {self.device}: {exc}") from exc

    def _run_with_precision(self, spec: TranslatorSpec, model: nn.Module, image: Image | None,
                            params: Mapping[str, Any], dtype: torch.dtype, report: ProgressFn,
                            cancel: Cancellable | None) -> np.ndarray:
        """Run once; if half precision produced NaN or infinity, once more in float32.

        Returns (H, W, 3) planes of the input's dtype (float32 for generators)."""
        import torch

        pixels, finite = self._run_at(spec, model, image, params, dtype, report, cancel)
        if finite:
            return pixels
        if dtype == torch.float32:
            raise PluginError(f"{spec.name} produced NaN or infinite values")
        report(0.0, "half precision overflowed; running again in float32")
        self._place(spec, model, torch.float32)
        try:
            pixels, finite = self._run_at(spec, model, image, params, torch.float32, report, cancel)
        finally:
            self._place(spec, model, dtype)
        if not finite:
            raise PluginError(f"{spec.name} produced NaN or infinite values")
        return pixels

    def _run_at(self, spec: TranslatorSpec, model: nn.Module, image: Image | None, params: Mapping[str, Any],
                dtype: torch.dtype, report: ProgressFn, cancel: Cancellable | None) -> tuple[np.ndarray, bool]:
        """(H, W, 3) result planes and whether every value the network produced was finite."""
        import torch

        grad = torch.enable_grad() if spec.needs_grad else torch.inference_mode()
        with grad:
            if image is None or spec.task is TaskKind.GENERATE:
                ctx = RunContext(device=self.device, dtype=dtype, on_progress=report, cancel=cancel)
                ctx.check_cancelled()
                given = None if image is None else _to_tensor(image.pixels, self.device, dtype)
                rgb = _to_numpy(self._translate(spec, model, given, params, ctx))
                return rgb, bool(np.isfinite(rgb).all())
            return self._run_image(spec, model, image, params, dtype, report, cancel)

    def _run_image(self, spec: TranslatorSpec, model: nn.Module, image: Image, params: Mapping[str, Any],
                   dtype: torch.dtype, report: ProgressFn, cancel: Cancellable | None) -> tuple[np.ndarray, bool]:
        """An input image, whole or as tiles, with out-of-memory retries at smaller tiles."""
        multiple = max(int(spec.size_multiple), 1)
        budget = self._tile_budget()
        while True:
            try:
                if not spec.tileable or image.height * image.width <= budget:
                    return self._run_whole(spec, model, image, params, dtype, report, cancel, multiple)
                return self._run_tiled(spec, model, image, params, dtype, report, cancel, multiple, budget)
            except TranslatorError:
                raise
            except Exception as exc:
                if not devices.is_out_of_memory(exc) or not spec.tileable:
                    raise
                devices.empty_cache(self.device)
                pixels = min(budget, image.height * image.width) // 2
                if pixels < MIN_TILE_PIXELS:
                    raise DeviceError(f"{spec.name}: out of memory on {self.device} even with tiles of "
                                      f"{MIN_TILE_PIXELS} pixels; try the CPU") from exc
                budget = pixels
                self.tile_pixels = budget  # remember for the next images of a batch
                report(0.0, f"out of memory; retrying with tiles of {tile_side(budget, multiple)} px")

    def _run_whole(self, spec: TranslatorSpec, model: nn.Module, image: Image, params: Mapping[str, Any],
                   dtype: torch.dtype, report: ProgressFn, cancel: Cancellable | None,
                   multiple: int) -> tuple[np.ndarray, bool]:
        ctx = RunContext(device=self.device, dtype=dtype, on_progress=report, cancel=cancel)
        ctx.check_cancelled()
        tensor = _to_tensor(image.pixels, self.device, dtype)
        padded = SizeRequirements(multiple=multiple).pad(tensor)
        work = int(spec.work_size(model, params)) if spec.work_size is not None else 0
        height, width = padded.shape[-2:]
        if 0 < work < max(height, width):
            scale = work / max(height, width)
            small = (max(1, round(height * scale)), max(1, round(width * scale)))
            shrunk = _resize(padded, small)
            out = self._forward(spec, model, shrunk, params, ctx)
            out = (spec.enlarge(out, shrunk, padded) if spec.enlarge is not None
                   else _resize(out, (height, width))).clamp(0, 1)
        else:
            out = self._forward(spec, model, padded, params, ctx)
        rgb = _to_numpy(out[..., :image.height, :image.width])
        return rgb, bool(np.isfinite(rgb).all())  # one tile's worth: kept in float32, unrounded

    def _run_tiled(self, spec: TranslatorSpec, model: nn.Module, image: Image, params: Mapping[str, Any],
                   dtype: torch.dtype, report: ProgressFn, cancel: Cancellable | None, multiple: int,
                   budget: int) -> tuple[np.ndarray, bool]:
        """Tiles read from the image's own planes and converted to floats one at a time; finished
        rows of tiles are blended and written into planes of the input's dtype (uint8 for an
        8-bit file), so memory holds the input, the output and one band of float rows, whatever
        the image's height. (A whole-image run, at most one tile big, returns float32.)"""
        planes = _pad_planes(image.pixels, multiple)
        height, width = planes.shape[:2]
        overlap, tiles = tile_plan(spec, height, width, budget)
        setup = contextlib.nullcontext()
        if spec.prepare_tiling is not None:
            report(0.0, f"measuring the whole image at preview size before {len(tiles)} tiles")
            preview = _to_tensor(_preview(planes, budget, multiple), self.device, dtype)
            ctx = RunContext(device=self.device, dtype=dtype, cancel=cancel, tiled=True)
            setup = spec.prepare_tiling(model, spec.input_requirements(model).pad(preview), params, ctx)
        result = np.empty((image.height, image.width, 3), dtype=image.pixels.dtype)
        finite = True
        rows = band_rows(tiles)
        carry: tuple[np.ndarray, np.ndarray] | None = None
        index = 0
        with setup:
            clock = TileClock(len(tiles))  # after the preview pass, which is no tile
            for number, (y0, y1, row) in enumerate(rows):
                total = np.zeros((y1 - y0, width, 3), dtype=np.float32)
                weight = np.zeros((y1 - y0, width, 1), dtype=np.float32)
                if carry is not None:
                    total[:len(carry[0])] += carry[0]
                    weight[:len(carry[1])] += carry[1]
                for tile in row:
                    label = clock.label(index)
                    ctx = RunContext(device=self.device, dtype=dtype, cancel=cancel, tiled=True,
                                     on_progress=_scaled(report, index, len(tiles), label))
                    ctx.check_cancelled()
                    ctx.progress(0.0, label)
                    patch = _to_tensor(planes[tile.y0:tile.y1, tile.x0:tile.x1], self.device, dtype)
                    out = self._forward(spec, model, patch, params, ctx, shared_state=spec.prepare_tiling is not None)
                    rgb = _to_numpy(out)
                    finite = finite and bool(np.isfinite(rgb).all())
                    w = blend_weights(tile, height, width, overlap)[..., None]
                    total[:, tile.x0:tile.x1] += rgb * w
                    weight[:, tile.x0:tile.x1] += w
                    index += 1
                    clock.done(index)
                stop = rows[number + 1][0] if number + 1 < len(rows) else y1
                _finish_rows(total, weight, result, y0, min(stop, image.height) - y0)
                carry = (total[stop - y0:].copy(), weight[stop - y0:].copy())
                del total, weight
        return result, finite

    def _forward(self, spec: TranslatorSpec, model: nn.Module, images: Tensor, params: Mapping[str, Any],
                 ctx: RunContext, *, shared_state: bool = False) -> Tensor:
        """`images` padded to the model's size requirements, through the translator on the
        engine's backend (PyTorch for tiles that share image-wide state, and wherever "auto"
        measured PyTorch faster), cropped back to the size of `images`."""
        height, width = images.shape[-2:]
        padded = spec.input_requirements(model).pad(images)
        out = None
        if self.backend != "torch" and not shared_state:
            session = self._onnx_session(spec, model, padded, params, ctx)
            if session is not None:
                ctx.check_cancelled()
                out = self._onnx.run(session, padded)
        if out is None:
            out = self._translate(spec, model, padded, params, ctx)
        _check_shape(spec, out, padded)
        return out[..., :height, :width]

    def _onnx_session(self, spec: TranslatorSpec, model: nn.Module, images: Tensor,
                      params: Mapping[str, Any], ctx: RunContext) -> Any:
        """The ONNX Runtime session to use, or None for PyTorch. Raises `DeviceError` when the
        backend was asked for by name and cannot serve, `ExportError` when the export fails."""
        from translator.onnx_backend import OnnxBackend

        if self._onnx is None:
            self._onnx = OnnxBackend()
        reason = self._onnx.supports(spec, params, self.device, ctx.dtype)
        if reason:
            if self.backend == "onnxruntime":
                raise DeviceError(f"backend onnxruntime: {reason}")
            return None
        if self.backend == "auto":
            choice = self._onnx.choose(spec, model, params, images,
                                       lambda x: self._translate(spec, model, x, params, ctx))
            if choice == "torch":
                return None
        height, width = images.shape[-2:]
        return self._onnx.session(spec, model, params, height, width)

    def _translate(self, spec: TranslatorSpec, model: nn.Module, images: Tensor | None,
                   params: Mapping[str, Any], ctx: RunContext) -> Tensor:
        import torch

        out = spec.translate(model, images, params, ctx)
        if not isinstance(out, torch.Tensor) or out.ndim != 4 or out.shape[1] != 3:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise PluginError(f"{spec.name} returned {shape}; expected a (B, 3, H, W) tensor")
        return out

    def _tile_budget(self) -> int:
        if self.tile_pixels is not None:
            return self.tile_pixels
        free = devices.free_memory(self.device)
        if free is None:
            return INTERACTIVE_CPU_TILE_PIXELS if self.interactive and self.device.type == "cpu" else CPU_TILE_PIXELS
        return max(MIN_TILE_PIXELS, min(4096 * 4096, int(free * 0.8) // BYTES_PER_PIXEL))


# -- tensors -----------------------------------------------------------------------------------

def _to_tensor(planes: np.ndarray, device: torch.device, dtype: torch.dtype) -> Tensor:
    """(H, W, 3) uint8, uint16 or float32 planes -> (1, 3, H, W) tensor in [0, 1]."""
    import torch

    if planes.dtype == np.uint8:
        tensor = torch.from_numpy(np.ascontiguousarray(planes)).to(device)
        return tensor.permute(2, 0, 1)[None].to(dtype=torch.float32).mul_(1.0 / 255.0).to(dtype)
    floats = to_float(np.ascontiguousarray(planes))
    return torch.from_numpy(floats).permute(2, 0, 1)[None].to(device=device, dtype=dtype)


def _to_numpy(images: Tensor) -> np.ndarray:
    """First image of a (B, 3, H, W) tensor -> (H, W, 3) float32, clipped to [0, 1] (NaN kept)."""
    array = images[0].detach().float().permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(np.clip(array, 0.0, 1.0), dtype=np.float32)


def _resize(images: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize of (B, C, H, W) to `size`, antialiased when shrinking."""
    import kornia

    shrink = size[0] < images.shape[-2] or size[1] < images.shape[-1]
    return kornia.geometry.transform.resize(images, size, interpolation="bilinear", antialias=shrink)


FINISH_ROWS = 64
"""Rows blended and rounded at a time, so the temporaries stay small however wide the image."""


def _finish_rows(total: np.ndarray, weight: np.ndarray, result: np.ndarray, top: int, count: int) -> None:
    """Divide the first `count` rows of a band's weighted sums by their weights (in place) and
    write them, rounded to `result`'s dtype, into `result[top:top + count]`."""
    width = result.shape[1]
    for start in range(0, max(count, 0), FINISH_ROWS):
        stop = min(count, start + FINISH_ROWS)
        sums = total[start:stop, :width]
        np.divide(sums, np.maximum(weight[start:stop, :width], 1e-8), out=sums)
        quantize(sums, result.dtype, out=result[top + start:top + stop])


def _pad_planes(planes: np.ndarray, multiple: int) -> np.ndarray:
    """Pad bottom and right to a multiple of `multiple` like `SizeRequirements.pad` (reflect where
    possible, else edge), in the planes' own dtype; the array itself when no padding is needed."""
    height, width = planes.shape[:2]
    pad_h = -height % multiple
    pad_w = -width % multiple
    if not pad_h and not pad_w:
        return planes
    mode = "reflect" if pad_h < height and pad_w < width else "edge"
    return np.pad(planes, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)


def _preview(planes: np.ndarray, budget: int, multiple: int) -> np.ndarray:
    """The whole image scaled down to fit `budget` pixels (area averaging), on the size grid, as
    (h, w, 3) float32 in [0, 1]."""
    import cv2

    height, width = planes.shape[:2]
    scale = min(1.0, math.sqrt(budget / (height * width)))
    size = (max(multiple, round(height * scale) // multiple * multiple),
            max(multiple, round(width * scale) // multiple * multiple))
    if size == (height, width):
        return to_float(planes)
    return to_float(cv2.resize(planes, (size[1], size[0]), interpolation=cv2.INTER_AREA))


def _shrunk(image: Image, pixels: int) -> Image:
    """`image` scaled down (area averaging) to about `pixels` pixels, in its own dtype."""
    import cv2

    scale = math.sqrt(pixels / (image.height * image.width))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return Image(cv2.resize(image.pixels, size, interpolation=cv2.INTER_AREA), bit_depth=image.bit_depth)


def _enlarged(planes: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w, 3) result planes enlarged (bilinear) to (height, width, 3) float32 in [0, 1]."""
    import cv2

    return np.clip(cv2.resize(to_float(planes), (width, height), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def _check_shape(spec: TranslatorSpec, out: Tensor, given: Tensor) -> None:
    if tuple(out.shape[-2:]) != tuple(given.shape[-2:]):
        raise PluginError(f"{spec.name} returned {tuple(out.shape[-2:])} for an input of "
                          f"{tuple(given.shape[-2:])}; an image translator must keep the size")


def _scaled(report: ProgressFn, index: int, count: int, label: str) -> ProgressFn:
    """Map a tile's own progress into the whole image's (`label` when the translator gives no
    message of its own)."""

    def scaled(fraction: float, message: str) -> None:
        report((index + fraction) / count, message or label)

    return scaled


class TileClock:
    """Progress labels of a tiled run: "tile 3 of 12, about 20 s left".

    The estimate is the mean time of the finished tiles times the tiles left (the first tile's
    label has none); `now` is a monotonic clock in seconds, replaceable in tests.
    """

    def __init__(self, count: int, now: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self._now = now
        self._start = now()
        self._finished = 0
        self._elapsed = 0.0

    def done(self, finished: int) -> None:
        """`finished` tiles are done by now."""
        self._finished = finished
        self._elapsed = self._now() - self._start

    def label(self, index: int) -> str:
        """The label of tile `index` (0-based) as it starts."""
        text = f"tile {index + 1} of {self.count}"
        if self._finished <= 0:
            return text
        left = self._elapsed / self._finished * (self.count - self._finished)
        return f"{text}, about {format_duration(left)} left"


def format_duration(seconds: float) -> str:
    """A rounded duration for people: "4 s", "50 s", "3 min", "1 h 5 min"."""
    seconds = max(float(seconds), 0.0)
    if seconds < 10:
        return f"{max(round(seconds), 1)} s"
    if seconds < 60:
        return f"{round(seconds / 5) * 5} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def tile_plan(spec: TranslatorSpec, height: int, width: int, budget: int) -> tuple[int, list[Tile]]:
    """The overlap (pixels of context per side) and the tiles of at most about `budget` pixels
    `spec` runs on a `height` x `width` image (both multiples of `spec.size_multiple`; a tile
    still holds three overlaps and a multiple when `budget` is smaller)."""
    multiple = max(int(spec.size_multiple), 1)
    overlap = -(-max(int(spec.tile_overlap), 0) // multiple) * multiple
    side = max(tile_side(budget, multiple), 3 * overlap + multiple)
    return overlap, plan_tiles(height, width, side=side, overlap=overlap, multiple=multiple)


@contextlib.contextmanager
def cancel_hooks(model: nn.Module, cancel: Cancellable | None) -> Iterator[None]:
    """Within the context, every submodule of `model` checks `cancel` before its forward and
    raises `Cancelled` when it is set, so a long forward stops within one layer. The hooks are
    removed on exit; none are installed without a `cancel`."""
    if cancel is None:
        yield
        return

    def check(_module: nn.Module, _inputs: Any) -> None:
        if cancel.is_set():
            raise Cancelled("cancelled")

    handles = [module.register_forward_pre_hook(check) for module in model.modules()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


CHECK_INPUT_SIDE = 1024
"""The longest side of the image `TranslatorSpec.check_input` looks at."""


def _check_input(spec: TranslatorSpec, image: Image, params: Mapping[str, Any]) -> None:
    """Report (`RunContext.warn`) what `spec.check_input` says about `image`."""
    import cv2
    import torch

    rgb = image.rgb
    height, width = rgb.shape[:2]
    scale = min(1.0, CHECK_INPUT_SIDE / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_NEAREST)
    tensor = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
    message = spec.check_input(tensor, params)
    if message:
        RunContext(device=torch.device("cpu"), dtype=torch.float32).warn(str(message))
