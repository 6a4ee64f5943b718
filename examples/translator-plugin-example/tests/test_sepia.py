"""Tests of the example plugin, using the fixtures Translator installs for plugin authors."""
from __future__ import annotations

import numpy as np
import pytest

import translator_plugin_example as plugin


def test_plugin_registers_its_translator(plugin_registry):
    registry = plugin_registry(plugin)
    assert "sepia" in registry.translators
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


def test_strength_out_of_range_is_refused(plugin_registry, image_factory, run_translator):
    from translator.errors import ParameterError

    spec = plugin_registry(plugin).translator("sepia")
    with pytest.raises(ParameterError):
        run_translator(spec, image_factory(8, 8), strength=2.0)
