"""Tests of the sepia filter, using the fixtures Translator installs for plugin authors."""
from __future__ import annotations

import numpy as np
import pytest
import translator_plugin_example as plugin

from translator import api


def test_plugin_registers_both_translators(plugin_registry):
    registry = plugin_registry(plugin)
    assert {"sepia", "tone"} <= set(registry.translators)
    assert not registry.plugins["translator_plugin_example"].broken


def test_full_strength_tones_and_zero_keeps(plugin_registry, image_factory, run_translator):
    spec = plugin_registry(plugin).translator("sepia")
    image = image_factory(40, 30, pattern="noise")
    kept = run_translator(spec, image, strength=0.0)
    toned = run_translator(spec, image, strength=1.0)
    assert np.allclose(kept.rgb, image.rgb, atol=1e-6)
    assert toned.rgb.shape == image.rgb.shape
    # sepia output has red >= green >= blue everywhere
    assert (toned.rgb[..., 0] >= toned.rgb[..., 1] - 1e-6).all()
    assert (toned.rgb[..., 1] >= toned.rgb[..., 2] - 1e-6).all()


def test_paper_colour_multiplies_the_toned_image(plugin_registry, image_factory, run_translator):
    spec = plugin_registry(plugin).translator("sepia")
    image = image_factory(16, 12, pattern="noise")
    white = run_translator(spec, image, paper="#ffffff")
    red = run_translator(spec, image, paper="#f00")
    assert np.allclose(red.rgb[..., 1:], 0.0, atol=1e-6)
    assert np.allclose(red.rgb[..., 0], white.rgb[..., 0], atol=1e-6)


def test_bad_values_are_refused(plugin_registry, image_factory, run_translator):
    spec = plugin_registry(plugin).translator("sepia")
    with pytest.raises(api.ParameterError):
        run_translator(spec, image_factory(8, 8), strength=2.0)
    with pytest.raises(api.ParameterError):
        run_translator(spec, image_factory(8, 8), paper="sepia")


def test_the_filter_needs_no_model(model_store):
    store = model_store(plugin)
    entry, network = store.open("sepia")
    assert entry is None and not network.training and store.list("sepia") == []


def test_the_sample_is_usable(plugin_registry):
    registry = plugin_registry(plugin)
    [(owner, sample)] = registry.samples()
    assert owner == "translator_plugin_example" and sample.translator == "sepia"
    pixels = sample.image()
    assert pixels.shape == (192, 256, 3) and pixels.dtype == np.uint8
