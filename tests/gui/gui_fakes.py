"""Fake translators for the GUI tests: tiny, deterministic, some slow, some failing."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from translator import api

RECEIVED: dict[str, dict[str, Any]] = {}
"""The params each fake translator last received, by translator name."""


def _identity(config: Mapping[str, Any]) -> Any:
    import torch

    return torch.nn.Identity()


def _echo(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    """Inverts the image, mixed by `strength`; records the params it got."""
    RECEIVED["echo"] = dict(params)
    return images * (1 - params["strength"]) + (1 - images) * params["strength"]


def _slow(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    """Sleeps `steps` x 25 ms, checking for cancel and reporting progress between steps."""
    steps = params["steps"]
    for step in range(steps):
        ctx.check_cancelled()
        time.sleep(0.025)
        ctx.progress((step + 1) / steps, f"step {step + 1}")
    return 1 - images


def _refuse(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    raise api.TranslatorError("this image is too dark for me")


def _dream(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    """A 24x32 image whose colour depends on the seed."""
    import torch

    generator = torch.Generator().manual_seed(int(params["seed"]))
    colour = torch.rand(1, 3, 1, 1, generator=generator)
    return colour.expand(1, 3, 24, 32).clone()


def _hints(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    """Gray input, each hint's colour painted in a 3x3 block at its point."""
    RECEIVED["hinted"] = dict(params)
    out = images.mean(dim=1, keepdim=True).expand_as(images).clone()
    height, width = out.shape[-2:]
    for point in params["hints"]:
        x, y = min(int(point.x * width), width - 1), min(int(point.y * height), height - 1)
        for channel, value in enumerate(point.rgb):
            out[:, channel, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = value / 255.0
    return out


ALL_PARAMS = (
    api.Float(name="strength", default=1.0, minimum=0.0, maximum=1.0, step=0.01),
    api.Int(name="size", default=3, minimum=1, maximum=9),
    api.Choice(name="mode", choices=("soft", "hard"), default="soft"),
    api.Bool(name="flip", default=False),
    api.Seed(name="seed", default=7),
    api.Text(name="note", default="hello"),
    api.FilePath(name="latent", default="", filters=("*.npz",)),
)


def _spec(name: str, translate: Callable[..., Any], *, task: api.TaskKind = api.TaskKind.IMAGE_TO_IMAGE,
          params: tuple[api.Param, ...] = (), takes_drawing: bool = False) -> api.TranslatorSpec:
    return api.TranslatorSpec(name=name, title=name.capitalize(), description=f"fake {name}", task=task,
                              build=_identity, translate=translate, params=params,
                              tileable=True, tile_overlap=4, takes_drawing=takes_drawing)


class FakePlugin:
    """Working fake translators."""

    __name__ = "fake"

    @api.hookimpl
    def translator_translators(self) -> list[api.TranslatorSpec]:
        return [
            _spec("echo", _echo, params=ALL_PARAMS),
            _spec("slow", _slow, params=(api.Int(name="steps", default=40, minimum=1, maximum=1000),)),
            _spec("refuse", _refuse),
            _spec("dream", _dream, task=api.TaskKind.GENERATE, params=(api.Seed(name="seed", default=1),)),
            _spec("hinted", _hints, task=api.TaskKind.IMAGE_WITH_HINTS,
                  params=(api.ColorPoints(name="hints"),)),
        ]


class DrawingPlugin:
    """A translator made for line drawings (`takes_drawing`): inverts them."""

    __name__ = "drawing"

    @api.hookimpl
    def translator_translators(self) -> list[api.TranslatorSpec]:
        return [_spec("lines", lambda model, images, params, ctx: 1 - images, takes_drawing=True)]


class CrashPlugin:
    """A plugin whose translator raises an unexpected exception (a bug): it gets disabled."""

    __name__ = "crashy"

    @api.hookimpl
    def translator_translators(self) -> list[api.TranslatorSpec]:
        def crash(model: Any, images: Any, params: Any, ctx: Any) -> Any:
            raise RuntimeError("boom")

        return [_spec("crash", crash)]


class ImportFailsPlugin:
    """Stands for a plugin that failed to load (marked broken by the registry)."""

    __name__ = "badhook"

    @api.hookimpl
    def translator_translators(self) -> list[api.TranslatorSpec]:
        raise ValueError("cannot find my weights folder")


class ClaimingPlugin(FakePlugin):
    """The fake translators plus an import hook that claims files holding an `echo.marker`."""

    @api.hookimpl
    def translator_claim_checkpoint(self, checkpoint: api.CheckpointFile,
                                    context: api.ImportContext) -> api.CheckpointClaim | None:
        if checkpoint.suffix != ".safetensors" or "echo.marker" not in checkpoint.load():
            return None
        return api.CheckpointClaim(translator="echo", config={}, state_dict={}, description="a marked echo")
