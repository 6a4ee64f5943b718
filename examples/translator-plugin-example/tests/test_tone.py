"""Tests of the trainable `tone` translator: its bundled model and a short training run."""
from __future__ import annotations

import numpy as np
import translator_plugin_example as plugin
from translator_plugin_example import tone


def test_the_bundled_model_is_found_and_warms_colours(model_store, image_factory, run_translator):
    store = model_store(plugin)
    assert [e.name for e in store.list("tone")] == ["warm"]
    entry, network = store.open("tone")
    assert entry.bundled and entry.card.config == {"hidden": 16}
    image = image_factory(32, 24, pattern="gradient")
    result = run_translator(store.registry.translator("tone"), image, model=network)
    red_gain = result.rgb[..., 0].mean() - image.rgb[..., 0].mean()
    blue_gain = result.rgb[..., 2].mean() - image.rgb[..., 2].mean()
    assert red_gain > 0.02 and blue_gain < -0.02


def test_strength_zero_keeps_the_image(model_store, image_factory, run_translator):
    store = model_store(plugin)
    _, network = store.open("tone")
    image = image_factory(20, 10, pattern="noise")
    kept = run_translator(store.registry.translator("tone"), image, model=network, strength=0.0)
    assert np.allclose(kept.rgb, image.rgb, atol=2e-3)


def test_a_fresh_network_is_the_identity(plugin_registry, image_factory, run_translator):
    spec = plugin_registry(plugin).translator("tone")
    image = image_factory(12, 9, pattern="noise")
    assert np.allclose(run_translator(spec, image).rgb, image.rgb, atol=1e-6)


def test_training_a_few_steps_exports_a_model(plugin_registry, train_translator, model_store, image_factory,
                                              run_translator):
    registry = plugin_registry(plugin)
    entry = train_translator(registry, "tone", steps=3, lambda_l1=2.0)
    assert entry.card.config == dict(tone.SPEC.default_config) and entry.card.training["steps"] == 3
    store = model_store(plugin)
    network = store.load(store.get(entry.name, "tone"))
    result = run_translator(registry.translator("tone"), image_factory(16, 16), model=network)
    assert result.rgb.shape == (16, 16, 3)


def test_fine_tuning_starts_from_the_bundled_model(plugin_registry, train_translator):
    entry = train_translator(plugin_registry(plugin), "tone", steps=1, **{"from": "bundled"})
    assert entry.card.source["from"] == "warm"
