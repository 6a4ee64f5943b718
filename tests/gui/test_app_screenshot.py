"""`run_app` as `translator --screenshot OUT.png IMAGE` runs it: real plugin loading in the
background, the image opened, one run, a PNG of the window, exit status 0."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from translator.gui import resources
from translator.imageio import read_image

pytestmark = pytest.mark.gui



def test_screenshot_opens_runs_and_saves_the_window(example_distribution, write_png, tmp_path, qapp):
    from translator.gui.app import run_app

    out = tmp_path / "shot.png"
    try:
        status = run_app([write_png("photo.png", width=64, height=48)], screenshot=out, translator="sepia",
                         params={"strength": 0.5})
    finally:
        qapp.setStyleSheet("")
    assert status == 0
    shot = read_image(out)
    assert shot.width >= 640 and shot.height >= 400
    assert (Path(os.environ["TRANSLATOR_HOME"]) / "settings.ini").is_file()


def test_resources_exist():
    for name in ("app", "open", "save", "run", "cancel", "compare", "fit", "actual", "sketch"):
        assert not resources.icon(name).isNull(), name
    samples = resources.samples()
    assert {s.translator for s in samples} >= {"pix2pix", "colorize", "cyclegan"}
    for sample in samples:
        assert sample.image is None or read_image(sample.image).width > 0
    assert "paneLabel" in resources.style_sheet()


TINT = """
from translator import api

def _build(config):
    import torch
    return torch.nn.Identity()

def _tint(model, images, params, ctx):
    import torch
    color = torch.tensor(api.Color.rgb(params["color"]), dtype=images.dtype, device=images.device)
    return images * color.view(1, 3, 1, 1) / 255

@api.hookimpl
def translator_translators():
    return [api.TranslatorSpec(name="tint", title="Tint", description="d", task=api.TaskKind.IMAGE_TO_IMAGE,
                               build=_build, translate=_tint, default_config={}, weights=False,
                               params=(api.Color(name="color", default="#ffffff"),))]
"""


def test_screenshot_command_picks_the_translator_and_its_params(fake_distribution, write_png, tmp_path, qapp,
                                                                capsys):
    from translator.cli.main import main

    fake_distribution("translator-plugin-tint", "tp_tint", TINT, entry="tint")
    image = str(write_png("photo.png", width=64, height=48))
    try:
        assert main(["--screenshot", str(tmp_path / "ok.png"), image, "--plugin", "tint",
                     "--param", "color=#f80"]) == 0
        assert main(["--screenshot", str(tmp_path / "bad.png"), image, "--plugin", "tint",
                     "--param", "color=orange"]) == 1
        assert "'orange' is not a colour" in capsys.readouterr().err
        assert main(["--screenshot", str(tmp_path / "none.png"), image, "--plugin", "nothing"]) == 1
        assert "no translator named 'nothing'" in capsys.readouterr().err
    finally:
        qapp.setStyleSheet("")
    assert read_image(tmp_path / "ok.png").width >= 640
    with pytest.raises(SystemExit):
        main(["--plugin", "tint", image])
