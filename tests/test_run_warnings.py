"""`RunContext.warn`: a translator's warnings about an input reach the caller of `Engine.run`
once each, and `translator apply` prints them."""
from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from translator import api
from translator.cli.main import main
from translator.engine import Engine
from translator.spec import RunContext, collecting_warnings
from translator.testing import make_image


def _warning_spec(**overrides) -> api.TranslatorSpec:
    def translate(model, images, params, ctx):
        if float(images.mean()) > 0.0:
            ctx.warn("not what this model expects")
        ctx.warn(f"side {images.shape[-1]}")
        return images

    fields = dict(name="warner", title="Warner", description="test", task=api.TaskKind.IMAGE_TO_IMAGE,
                  build=lambda config: nn.Identity(), translate=translate,
                  tileable=True, tile_overlap=8)
    fields.update(overrides)
    return api.TranslatorSpec(**fields)


def test_warnings_reach_the_caller_once_each_even_over_tiles():
    warnings: list[str] = []
    image = make_image(150, 150)
    result = Engine("cpu", "fp32", tile_pixels=64 * 64).run(_warning_spec(), nn.Identity(), image,
                                                             warn=warnings.append)
    assert np.allclose(result.rgb, image.rgb)
    assert warnings[0] == "not what this model expects"
    assert warnings.count("not what this model expects") == 1
    assert len(warnings) == len(set(warnings)) > 1  # one "side N" per distinct tile width


def test_without_a_listener_warnings_are_dropped_and_runs_do_not_leak_into_each_other():
    engine = Engine("cpu", "fp32")
    engine.run(_warning_spec(), nn.Identity(), make_image(16, 16))  # no listener: no error
    first: list[str] = []
    engine.run(_warning_spec(), nn.Identity(), make_image(16, 16), warn=first.append)
    second: list[str] = []
    engine.run(_warning_spec(), nn.Identity(), make_image(16, 16), warn=second.append)
    assert first == second == ["not what this model expects", "side 16"]
    ctx = RunContext(device=torch.device("cpu"), dtype=torch.float32)
    ctx.warn("outside any run")  # dropped
    seen: list[str] = []
    with collecting_warnings(seen.append):
        ctx.warn("inside")
        ctx.warn("inside")
    ctx.warn("after")
    assert seen == ["inside"]


def test_apply_prints_the_pix2pix_photo_warning(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    drawing = np.full((64, 64, 3), 255, np.uint8)
    cv2.circle(drawing, (32, 32), 20, (0, 0, 0), 2)
    cv2.imwrite(str(folder / "drawing.png"), drawing)
    yy, xx = np.mgrid[:64, :64]
    photo = np.dstack([xx * 4, yy * 4, np.full((64, 64), 90)]).astype(np.uint8)
    cv2.imwrite(str(folder / "photo.png"), photo)
    code = main(["apply", "--plugin", "pix2pix", "--device", "cpu", "--quiet", "--out", str(tmp_path / "out"),
                 str(folder)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "photo.png: warning: this looks like a photo, not a line drawing" in err
    assert "drawing.png: warning" not in err
    assert len(list((tmp_path / "out").iterdir())) == 2
