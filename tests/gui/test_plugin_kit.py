"""What the app does with the author kit: weight-free filters, plugin samples, Color parameters."""
from __future__ import annotations

import numpy as np
import pytest
from gui_fakes import FakePlugin

from translator import api

pytestmark = pytest.mark.gui


def _build(config):
    import torch

    return torch.nn.Identity()


def _tint(model, images, params, ctx):
    r, g, b = api.Color.rgb(params["color"])
    import torch

    color = torch.tensor([r, g, b], dtype=images.dtype, device=images.device).view(1, 3, 1, 1) / 255
    return images * color


def _stripes():
    return np.tile(np.array([[[0, 0, 0]], [[255, 255, 255]]], np.uint8), (4, 6, 1))


def _broken_factory():
    raise OSError("lost my pixels")


class KitPlugin:
    __name__ = "kit"

    @api.hookimpl
    def translator_translators(self):
        return [api.TranslatorSpec(name="tint", title="Tint", description="multiplies by a colour",
                                   task=api.TaskKind.IMAGE_TO_IMAGE, build=_build, translate=_tint,
                                   default_config={}, weights=False,
                                   params=(api.Color(name="color", default="#ffffff"),))]

    @api.hookimpl
    def translator_samples(self):
        return [api.Sample(title="Stripes", translator="tint", image=_stripes, params={"color": "#00ff00"},
                           description="black and white stripes"),
                api.Sample(title="Broken", translator="tint", image=_broken_factory)]


def _visible_model_row(window) -> bool:
    return window.model_picker.isVisibleTo(window) and window.import_button.isVisibleTo(window)


def test_a_filter_without_weights_shows_no_model_picker(make_window):
    window = make_window(FakePlugin(), KitPlugin())
    window.translator_picker.select("echo")
    assert _visible_model_row(window)
    window.translator_picker.select("tint")
    assert window.spec.name == "tint" and not _visible_model_row(window)
    window.translator_picker.select("echo")
    assert _visible_model_row(window)


def test_plugin_samples_follow_the_built_in_ones_and_open_with_their_params(make_window, run_wait):
    window = make_window(FakePlugin(), KitPlugin())
    actions = [a for a in window.samples_menu.actions() if not a.isSeparator()]
    titles = [a.text() for a in actions]
    assert titles[-2:] == ["Stripes  [tint]", "Broken  [tint]"]
    assert len(titles) > 2 and window.samples_menu.actions()[-3].isSeparator()
    window.translator_picker.select("echo")
    actions[-2].trigger()
    assert window.spec.name == "tint" and window.param_form.values() == {"color": "#00ff00"}
    assert window.images.current.name == "Stripes 1" and window.images.current.image.width == 6
    record = run_wait(window)
    assert np.allclose(record.result.rgb[1, 0], (0.0, 1.0, 0.0))


def test_a_failing_sample_factory_marks_its_plugin_broken(make_window):
    window = make_window(FakePlugin(), KitPlugin())
    next(a for a in window.samples_menu.actions() if a.text().startswith("Broken")).trigger()
    assert window.registry.plugins["kit"].broken and "lost my pixels" in window.registry.plugins["kit"].error
    assert "tint" not in window.registry.translators
    assert not any("[tint]" in a.text() for a in window.samples_menu.actions())
