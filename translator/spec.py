"""What a plugin declares: translators, their task kind, and the context a run gets.

Nothing here imports torch at module import time; tensor types are for type checkers only.
"""
from __future__ import annotations

import contextvars
import enum
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from translator.errors import Cancelled, ParameterError
from translator.params import Param, resolve_params

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

    from translator.training.spec import TrainingSpec


class TaskKind(str, enum.Enum):
    """What a translator does with its inputs; UIs and the engine adapt to it."""

    IMAGE_TO_IMAGE = "image-to-image"
    """One image in, one image out of the same size (pix2pix)."""
    TWO_WAY = "two-way-unpaired"
    """One image in, translated A->B or B->A as chosen by a `direction` parameter (CycleGAN)."""
    IMAGE_WITH_HINTS = "image-with-hints"
    """One image in plus sparse user hints given as a `ColorPoints` parameter (colorize)."""
    GENERATE = "generate"
    """No image needed: generates from seeds/latents; zero, one or two image sources given as
    `FilePath` parameters or as inputs (StyleGAN style mixing and projection)."""

    @property
    def needs_input(self) -> bool:
        return self is not TaskKind.GENERATE


class Cancellable(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class SizeRequirements:
    """What a network needs of the sides of every input it gets (like spandrel's).

    minimum: smallest side in pixels. multiple: every side a multiple of this.
    The engine pads each input (`pad`) to meet them and crops the result back, so a translator's
    `translate` never sees a size its network cannot take.
    """

    minimum: int = 1
    multiple: int = 1

    def __post_init__(self) -> None:
        for name in ("minimum", "multiple"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SizeRequirements.{name} must be an integer >= 1, got {value!r}")

    def padded_side(self, side: int) -> int:
        """The smallest side >= `side` that meets the requirements."""
        return -(-max(side, self.minimum) // self.multiple) * self.multiple

    def combined(self, other: SizeRequirements) -> SizeRequirements:
        """Requirements meeting both: the larger minimum, the least common multiple."""
        return SizeRequirements(minimum=max(self.minimum, other.minimum),
                                multiple=math.lcm(self.multiple, other.multiple))

    def pad(self, images: Tensor) -> Tensor:
        """(B, C, H, W) padded at the bottom and right to meet the requirements: reflected where
        the image is big enough, else replicated (edge pixels); `images` itself when it meets
        them. Crop the result back with `[..., :H, :W]`."""
        import torch.nn.functional as F

        height, width = images.shape[-2:]
        pad_h = self.padded_side(height) - height
        pad_w = self.padded_side(width) - width
        if not pad_h and not pad_w:
            return images
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        return F.pad(images, (0, pad_w, 0, pad_h), mode=mode)


@dataclass
class RunContext:
    """Handed to `TranslatorSpec.translate` for one call.

    device: where the model and the input tensor live.
    dtype: the floating dtype of the model's weights (float32, float16 or bfloat16).
    tiled: the input is one tile of a larger image (the engine tiles big images of tileable
        translators): image-wide work (statistics, rescaling) must not be done per tile, where
        the tiles would disagree with each other (see `PrepareTilingFn` for shared state).
    """

    device: torch.device
    dtype: torch.dtype
    on_progress: Callable[[float, str], None] | None = None
    cancel: Cancellable | None = None
    tiled: bool = False

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress of this call, `fraction` in [0, 1]."""
        if self.on_progress is not None:
            self.on_progress(min(max(float(fraction), 0.0), 1.0), message)

    def check_cancelled(self) -> None:
        """Raise `Cancelled` when the user asked to stop; call it between expensive steps."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cancelled")

    def warn(self, message: str) -> None:
        """Tell the user something about this input without failing, for example that it does not
        look like what the model expects (one line). `translator apply` prints it, the app shows
        it in its status bar; repeats within one run (tiles) are reported once."""
        sink = _WARNING_SINK.get()
        if sink is not None:
            sink(str(message))


_WARNING_SINK: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "translator_warning_sink", default=None)


@contextmanager
def collecting_warnings(sink: Callable[[str], None] | None) -> Iterator[None]:
    """Within the context (in this thread), `RunContext.warn(message)` calls `sink(message)`,
    each distinct message once. Used by the engine around one run."""
    seen: set[str] = set()

    def once(message: str) -> None:
        if sink is not None and message not in seen:
            seen.add(message)
            sink(message)

    token = _WARNING_SINK.set(once)
    try:
        yield
    finally:
        _WARNING_SINK.reset(token)


TranslateFn = Callable[["nn.Module", "Tensor | None", Mapping[str, Any], RunContext], "Tensor"]
"""translate(model, images, params, ctx) -> images.

images: float tensor (B, 3, H, W), RGB in [0, 1], on `ctx.device` (None for GENERATE without an
input). Returns float tensor (B, 3, H', W') in [0, 1]; H' = H and W' = W for every task but
GENERATE. `params` are validated values of the translator's `params`. For image tasks, H and W
meet `TranslatorSpec.input_requirements(model)` (the engine pads and crops back).
"""

CheckInputFn = Callable[["Tensor", Mapping[str, Any]], "str | None"]
"""check_input(image, params) -> warning or None.

image: float tensor (1, 3, H, W), RGB in [0, 1], on the CPU: the whole input, subsampled (nearest
pixels, so thin lines stay lines) to at most 1024 px on its longer side. params: the validated
parameter values. Return one line telling the user the input is not what the model expects (for
example "this looks like a photo, not a line drawing"), or None. Called by the engine before the
network runs, also when the network runs as an exported graph, where `translate` never runs.
"""

WorkSizeFn = Callable[["nn.Module", Mapping[str, Any]], int]
"""work_size(model, params) -> the longest side, in pixels, the network should see a whole image
at (typically the size it was trained at), or 0 for the image's own size. The engine shrinks a
whole image whose longer side is bigger (bilinear, antialiased, aspect ratio kept) before padding
it to the size requirements, and enlarges the result back; tiles run at their own size.
"""

EnlargeFn = Callable[["Tensor", "Tensor", "Tensor"], "Tensor"]
"""enlarge(out, shrunk, images) -> out at the size of `images`.

After a `work_size` shrink: `out` is the translation of `shrunk` (both (B, 3, h, w)), `images` the
whole input (B, 3, H, W), all in [0, 1]; returns (B, 3, H, W) (the engine clamps it to [0, 1]).
For an enlargement that follows the input's edges (a guided filter); the default is bilinear.
"""

PrepareTilingFn = Callable[
    ["nn.Module", "Tensor", Mapping[str, Any], RunContext], AbstractContextManager[Any]
]
"""prepare_tiling(model, preview, params, ctx) -> context manager.

Called by the engine before it runs an image as tiles, with `preview` the whole image scaled to
fit the memory budget, (1, 3, h, w) in [0, 1], padded to meet the model's size requirements
(`TranslatorSpec.input_requirements`), and `ctx.tiled` True. Inside the returned context every tile must be
processed with the same image-wide state (for example InstanceNorm statistics measured on the
preview), so tiles agree with each other and show no seams.
"""


MAX_NAME_LENGTH = 64
NAME_PATTERN = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_NAME_LENGTH - 1}}}")
"""What a translator name may be: it is typed on the command line and used in file names."""


@dataclass(frozen=True, kw_only=True)
class TranslatorSpec:
    """One translator a plugin contributes.

    name: unique id (`--plugin NAME` on the CLI), lowercase letters, digits, '-' and '_'
        (`NAME_PATTERN`; checked on creation).
    title, description: for humans.
    task: what it does with inputs (see `TaskKind`).
    params: the parameters a UI shows, with defaults.
    config: the architecture of the network as parameters (widths, depths, norm, upsampling...):
        a model card's "config" is validated against them (unknown keys, types, ranges), missing
        keys take their defaults, and `translator-train` offers each as an option (`--ngf`) for
        networks trained from scratch. `default_config` is their defaults.
    build: validated config -> freshly initialised network (CPU, float32); the store loads
        weights into it.
    weights: False for a filter whose network has nothing to learn or load (every value comes
        from the config defaults and the parameters): the store keeps no models for it and runs
        `build(default_config)`, the app shows no model picker, and it cannot have `training`
        or `models_dir`.
    translate: runs a batch (see `TranslateFn`).
    models_dir: folder holding bundled models (`NAME.safetensors` beside `NAME.json` cards).
    size_multiple: the grid of every model of the translator: whole images are padded (reflect)
        to a multiple of it and cropped back, tiles start and end on it (so tiles see the same
        downsampling grid and show no seams), training crops (`--size`) are multiples of it.
    size_requirements: optional model -> `SizeRequirements` for what one loaded network needs
        beyond `size_multiple` (pix2pix: multiples of 2**num_downs, from its config). The engine
        pads every input of `translate` (whole image, tile, tiling preview) to meet them and
        crops the result back; an ONNX export is traced and checked on such sizes.
    work_size: optional scale at which whole images run (see `WorkSizeFn`).
    enlarge: optional way back from that scale (see `EnlargeFn`; default bilinear).
    tileable: each output pixel depends on a bounded neighbourhood, so big images may be tiled.
    tile_overlap: context in pixels each tile borrows from its neighbours (blended away).
    prepare_tiling: optional image-wide state for tiles (see `PrepareTilingFn`).
    half_precision: the network may run in fp16/bf16 on accelerators.
    needs_grad: translate optimises something (projection); run without inference mode.
    training: how `translator-train` fine-tunes it, or None if it cannot be trained.
    check_input: optional cheap look at an input before it runs (see `CheckInputFn`): a message
        returned is reported as a warning about that input, whatever backend runs the network.
    takes_drawing: made for line drawings: the app's "New sketch" picks this translator.
    """

    name: str
    title: str
    description: str
    task: TaskKind
    build: Callable[[Mapping[str, Any]], nn.Module]
    translate: TranslateFn
    config: tuple[Param, ...] = ()
    weights: bool = True
    params: tuple[Param, ...] = ()
    models_dir: Path | None = None
    size_multiple: int = 1
    size_requirements: Callable[[nn.Module], SizeRequirements] | None = None
    work_size: WorkSizeFn | None = None
    enlarge: EnlargeFn | None = None
    tileable: bool = False
    tile_overlap: int = 32
    prepare_tiling: PrepareTilingFn | None = None
    half_precision: bool = True
    needs_grad: bool = False
    training: TrainingSpec | None = None
    check_input: CheckInputFn | None = None
    takes_drawing: bool = False

    def __post_init__(self) -> None:
        """Checks the declaration itself, so a mistake shows where the spec is written.

        Raises `ValueError` for a name that is not lowercase letters, digits, '-' and '_'
        (starting with a letter or digit, at most `MAX_NAME_LENGTH` long) and for a filter with
        `training` or `models_dir`; `TypeError` for a `build` that is not callable (a filter with
        `weights=False` builds its network from `default_config` too).
        """
        if not isinstance(self.name, str) or not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(f"translator name {self.name!r:.80} must be lowercase letters, digits, '-' and '_' "
                             f"(starting with a letter or digit, at most {MAX_NAME_LENGTH} long)")
        if not callable(self.build):
            raise TypeError(f"translator {self.name!r}: build must be a function config -> network "
                             "(a filter without weights too: it builds its network from default_config)")
        if not self.weights and self.training is not None:
            raise ValueError(f"translator {self.name!r}: weights=False (a filter) cannot have training")
        if not self.weights and self.models_dir is not None:
            raise ValueError(f"translator {self.name!r}: weights=False (a filter) cannot have models_dir")

    @property
    def default_config(self) -> dict[str, Any]:
        """The architecture of a fresh network: every `config` parameter at its default (JSON-able)."""
        return {p.name: p.describe()["default"] for p in self.config}

    def resolve_config(self, config: Mapping[str, Any] | None, *, source: str = "") -> dict[str, Any]:
        """`config` (a model card's, a checkpoint's, a trainer's) validated against `self.config`
        and completed with the defaults. Raises `ParameterError` naming `source` (e.g. the model
        card), the translator and the bad key."""
        where = f"{source}: " if source else ""
        if config is not None and not isinstance(config, Mapping):
            raise ParameterError(f"{where}{self.name} config is {type(config).__name__}, not a mapping")
        try:
            return resolve_params(self.config, config or {})
        except ParameterError as exc:
            raise ParameterError(f"{where}{self.name} config: {exc}") from None

    def input_requirements(self, model: nn.Module) -> SizeRequirements:
        """What every input of `translate` with `model` meets: `size_multiple` combined with the
        model's own `size_requirements`."""
        grid = SizeRequirements(multiple=max(int(self.size_multiple), 1))
        if self.size_requirements is None:
            return grid
        return grid.combined(self.size_requirements(model))

    def describe(self) -> dict[str, Any]:
        """JSON-able summary for `translator plugins --json`."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "task": self.task.value,
            "params": [p.describe() for p in self.params],
            "config": [p.describe() for p in self.config],
            "trainable": self.training is not None,
            "weights": self.weights,
            "takes_drawing": self.takes_drawing,
        }
