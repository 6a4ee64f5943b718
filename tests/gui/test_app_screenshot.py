"""`run_app` as `translator --screenshot OUT.png IMAGE` runs it: real plugin loading in the
background, the image opened, one run, a PNG of the window, exit status 0."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from translator.gui import resources
from translator.imageio import read_image

pytestmark = pytest.mark.gui

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "translator-plugin-example"


def test_screenshot_opens_runs_and_saves_the_window(fake_distribution, write_png, tmp_path, qapp):
    from translator.gui.app import run_app

    source = (EXAMPLE / "translator_plugin_example" / "__init__.py").read_text()
    fake_distribution("translator-plugin-example", "translator_plugin_example", source, entry="example-sepia")
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
        assert sample.path is None or read_image(sample.path).width > 0
    assert "paneLabel" in resources.style_sheet()
