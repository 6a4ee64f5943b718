"""`translator_samples()`: plugins add Samples-menu entries; bad results are reported like other hooks."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from translator import api
from translator.errors import PluginError
from translator.samples import made_image


def _build(config):
    import torch

    return torch.nn.Identity()


def _same(model, images, params, ctx):
    return images


SPEC = api.TranslatorSpec(name="tint", title="Tint", description="d", task=api.TaskKind.IMAGE_TO_IMAGE,
                          build=_build, translate=_same, default_config={}, weights=False,
                          params=(api.Color(name="color", default="#ff0000"),))


def _stripes():
    return np.tile(np.array([[[0, 0, 0]], [[255, 255, 255]]], np.uint8), (4, 6, 1))


class Samples:
    __name__ = "samples_plugin"

    def __init__(self, samples):
        self._samples = samples

    @api.hookimpl
    def translator_translators(self):
        return [SPEC]

    @api.hookimpl
    def translator_samples(self):
        return self._samples


def test_good_samples_are_collected_and_bad_entries_left_out(plugin_registry, tmp_path, caplog):
    image = tmp_path / "photo.png"
    image.write_bytes(b"not checked here")
    good = [api.Sample(title="Stripes", translator="tint", image=_stripes, params={"color": "#00f"}),
            api.Sample(title="Photo", translator="tint", image=image)]
    bad = [api.Sample(title="Elsewhere", translator="nope", image=_stripes),
           api.Sample(title="Gone", translator="tint", image=tmp_path / "missing.png"),
           api.Sample(title="Odd colour", translator="tint", image=_stripes, params={"color": "blue"})]
    registry = plugin_registry(Samples(good + bad))
    with caplog.at_level(logging.WARNING):
        found = registry.samples()
    assert found == [("samples_plugin", good[0]), ("samples_plugin", good[1])]
    assert "unknown translator 'nope'" in caplog.text and "missing.png is not a file" in caplog.text
    assert "'blue' is not a colour" in caplog.text
    assert not registry.plugins["samples_plugin"].broken


@pytest.mark.parametrize("result", [["not a sample"], 42])
def test_a_hook_returning_the_wrong_type_marks_the_plugin_broken(plugin_registry, result):
    registry = plugin_registry(Samples(result))
    assert registry.samples() == []
    assert registry.plugins["samples_plugin"].broken and "tint" not in registry.translators


def test_a_raising_hook_marks_the_plugin_broken(plugin_registry):
    class Raising(Samples):
        @api.hookimpl
        def translator_samples(self):
            raise RuntimeError("no samples today")

    registry = plugin_registry(Raising([]))
    assert registry.samples() == []
    assert "no samples today" in registry.plugins["samples_plugin"].error


def test_factory_images_are_checked():
    image = made_image(api.Sample(title="s", translator="tint", image=_stripes))
    assert image.width == 6 and image.height == 8 and image.rgb[1, 0, 0] == 1.0
    floats = made_image(api.Sample(title="f", translator="tint", image=lambda: np.full((2, 3, 3), 2.0, np.float32)))
    assert floats.rgb.max() == 1.0
    for bad in (lambda: np.zeros((4, 4), np.uint8), lambda: "pixels", lambda: np.zeros((4, 4, 3), np.int64),
                lambda: np.full((2, 2, 3), np.nan, np.float32)):
        with pytest.raises(PluginError, match="sample 'b'"):
            made_image(api.Sample(title="b", translator="tint", image=bad))
