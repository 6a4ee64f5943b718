"""What the engine tells a waiting user: cancel inside a tile, tile counts with the time left."""
from __future__ import annotations

import threading
import time

import pytest
import torch
from torch import nn

from translator import api
from translator.engine import (
    CPU_TILE_PIXELS,
    INTERACTIVE_CPU_TILE_PIXELS,
    Engine,
    TileClock,
    cancel_hooks,
    format_duration,
)
from translator.errors import Cancelled
from translator.testing import make_image


class Sleepy(nn.Module):
    """A layer that takes `seconds` per call: a stand-in for a slow convolution on a big tile."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds)
        return x


class SlowNet(nn.Module):
    """Twenty slow layers in a nested block: one forward takes about 20 * `seconds`."""

    def __init__(self, seconds: float = 0.2) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.body = nn.Sequential(*[nn.Sequential(Sleepy(seconds)) for _ in range(20)])

    def forward(self, x):
        return self.body(x) * self.scale


def _spec(**overrides) -> api.TranslatorSpec:
    fields = dict(name="slow", title="Slow", description="test", task=api.TaskKind.IMAGE_TO_IMAGE,
                  build=lambda config: SlowNet(), translate=lambda m, x, p, c: m(x),
                  tileable=True, tile_overlap=0)
    fields.update(overrides)
    return api.TranslatorSpec(**fields)


def test_cancel_acts_within_a_layer_inside_one_big_tile():
    model = SlowNet(0.2)  # 4 s for the one tile
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        Engine("cpu", "fp32", tile_pixels=512 * 512).run(_spec(), model, make_image(256, 256), cancel=cancel)
    took = time.monotonic() - start - 0.3
    timer.cancel()
    assert took < 1.0
    # the hooks are gone afterwards: the model runs whole again without a cancel
    assert all(not m._forward_pre_hooks for m in model.modules())


def test_cancel_hooks_are_removed_after_a_failure_and_absent_without_cancel():
    model = SlowNet(0.0)
    with cancel_hooks(model, None):
        assert all(not m._forward_pre_hooks for m in model.modules())
    with pytest.raises(RuntimeError), cancel_hooks(model, threading.Event()):
        assert all(m._forward_pre_hooks for m in model.modules())
        raise RuntimeError("boom")
    assert all(not m._forward_pre_hooks for m in model.modules())


def test_a_cancel_set_before_the_run_stops_it_at_once():
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        Engine("cpu", "fp32").run(_spec(), SlowNet(1.0), make_image(8, 8), cancel=cancel)


def test_an_interactive_cpu_engine_works_in_smaller_tiles():
    """The app's engine keeps every layer short (a cancel acts within about a second on the
    CPU); `translator apply`'s engine keeps the larger, faster tiles."""
    shapes: dict[str, list[tuple[int, int]]] = {"plain": [], "interactive": []}
    image = make_image(1000, 700)
    assert INTERACTIVE_CPU_TILE_PIXELS < 1000 * 700 <= CPU_TILE_PIXELS
    for kind, engine in (("plain", Engine("cpu", "fp32")), ("interactive", Engine("cpu", "fp32", interactive=True))):
        spec = _spec(translate=lambda m, x, p, c, k=kind: shapes[k].append(tuple(x.shape[-2:])) or x)
        out = engine.run(spec, SlowNet(0.0), image)
        assert (out.height, out.width) == (700, 1000)
    assert shapes["plain"] == [(700, 1000)]
    assert len(shapes["interactive"]) > 1
    assert all(h * w <= INTERACTIVE_CPU_TILE_PIXELS for h, w in shapes["interactive"])


def test_tiled_progress_counts_tiles_and_estimates_the_time_left():
    messages = []
    Engine("cpu", "fp32", tile_pixels=32 * 32).run(
        _spec(build=lambda c: SlowNet(0.0)), SlowNet(0.001), make_image(64, 64),
        progress=lambda f, m: messages.append(m))
    tiles = [m for m in messages if m.startswith("tile ")]
    assert tiles[0] == "tile 1 of 4"
    assert tiles[1].startswith("tile 2 of 4, about ") and tiles[1].endswith(" s left")
    assert tiles[-1].startswith("tile 4 of 4")


def test_tile_clock_estimates_from_the_mean_tile_time():
    now = [0.0]
    clock = TileClock(12, now=lambda: now[0])
    assert clock.label(0) == "tile 1 of 12"
    now[0] = 4.0
    clock.done(2)
    assert clock.label(2) == "tile 3 of 12, about 20 s left"


@pytest.mark.parametrize("seconds, text", [(0.2, "1 s"), (4.4, "4 s"), (23, "25 s"), (170, "3 min"),
                                           (3900, "1 h 5 min")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_a_big_image_gives_a_quick_preview_at_full_size_before_the_full_run():
    from translator.engine import PREVIEW_PIXELS

    seen, order = [], []

    def translate(model, images, params, ctx):
        seen.append(images.shape[-2] * images.shape[-1])
        return 1 - images

    spec = _spec(translate=translate, tileable=False)
    image = make_image(1400, 700, pattern="gradient")
    messages = []
    result = Engine("cpu", "fp32").run(spec, SlowNet(0.0), image, preview=lambda p: order.append(p),
                                       progress=lambda f, m: messages.append((f, m)))
    assert len(order) == 1 and order[0].rgb.shape == image.rgb.shape
    assert seen[0] <= PREVIEW_PIXELS * 1.01 and seen[1] == 1400 * 700
    assert float(abs(order[0].rgb - result.rgb).mean()) < 0.01  # a smooth image: the preview is close
    # small images run once, without a preview
    order.clear()
    Engine("cpu", "fp32").run(spec, SlowNet(0.0), make_image(64, 64), preview=order.append)
    assert order == []
