"""The bundled pix2pix model on what the app's sketch pad hands it (a white page with strokes)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from translator.engine import Engine
from translator.plugins import load_registry
from translator.store import ModelStore

pytestmark = pytest.mark.gui


def test_a_drawing_on_the_sketch_pad_becomes_a_picture(qtbot):
    from translator.gui.sketch import SketchDocument

    torch.set_num_threads(1)
    document = SketchDocument()
    document.pen_width = 4.0
    for points in ([(150, 300), (256, 120), (362, 300), (150, 300)], [(200, 300), (200, 420)],
                   [(312, 300), (312, 420)]):
        document.begin(*points[0])
        for point in points[1:]:
            document.extend(*point)
        document.end()
    drawing = document.to_image()
    assert drawing.rgb.shape == (512, 512, 3)
    assert (drawing.rgb < 0.5).mean() > 0.005 and (drawing.rgb > 0.9).mean() > 0.9

    registry = load_registry(third_party=False)
    entry, model = ModelStore(registry).open("pix2pix")
    assert entry is not None and entry.bundled
    result = Engine(device="cpu", precision="fp32").run(registry.translator("pix2pix"), model, drawing, {})
    assert result.rgb.shape == (512, 512, 3) and np.isfinite(result.rgb).all()
    inside = result.rgb[220:290, 220:290]  # the triangle's inside: filled in, no longer white paper
    assert inside.mean() < 0.85 and inside.std() > 0.02
    assert result.rgb[:60, :60].mean() > 0.95  # the empty page stays white (an untrained net gives grey)
