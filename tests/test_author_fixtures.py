"""The pytest fixtures for plugin authors: a private TRANSLATOR_HOME and `train_translator`."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from translator import api
from translator.errors import TranslatorError

pytest_plugins = ["pytester"]


def _build(config):
    import torch

    return torch.nn.Conv2d(3, 3, 1)


def _run(model, images, params, ctx):
    return model(images).clamp(0, 1)


class TinyTrainer:
    """A 1x1 convolution fitted to map A to B with an L1 loss (no adversary)."""

    def __init__(self, ctx: api.TrainContext) -> None:
        import torch

        self.ctx = ctx
        self.net = ctx.wrap(_build({}))
        self.opt = ctx.make_optimizer(self.net.parameters())
        self.l1 = torch.nn.L1Loss()

    def networks(self):
        return {"G": self.net}

    def optimizers(self):
        return {"G": self.opt}

    def train_step(self, batch, step):
        with self.ctx.autocast():
            loss = self.l1(self.net(batch["A"]), batch["B"]) * self.ctx.options["weight"]
        self.ctx.backward(loss)
        self.ctx.step(self.opt)
        return {"l1": loss.item()}

    def samples(self, batch):
        return [batch["A"], self.net(batch["A"]).clamp(0, 1), batch["B"]]

    def export(self):
        return self.ctx.unwrap(self.net), {}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class TinyPlugin:
    __name__ = "tiny"

    @api.hookimpl
    def translator_translators(self):
        return [api.TranslatorSpec(
            name="tiny", title="Tiny", description="a 1x1 convolution", task=api.TaskKind.IMAGE_TO_IMAGE,
            build=_build, translate=_run, default_config={},
            training=api.TrainingSpec(data=api.DataKind.PAIRED, make_trainer=TinyTrainer,
                                      options=(api.Float(name="weight", default=1.0, minimum=0.0, maximum=10.0),)))]


def test_train_translator_exports_a_model_into_the_private_store(plugin_registry, train_translator,
                                                                 translator_home, model_store):
    registry = plugin_registry(TinyPlugin())
    entry = train_translator(registry, "tiny", steps=3, weight=2.0, betas=(0.9, 0.99))
    assert entry.translator == "tiny" and not entry.bundled
    assert Path(entry.weights).is_relative_to(translator_home)
    assert [e.name for e in model_store(TinyPlugin()).list("tiny")] == [entry.name]
    assert train_translator(registry, "tiny", steps=1).name != entry.name


def test_train_translator_reports_the_command_error(plugin_registry, train_translator):
    with pytest.raises(TranslatorError, match="weight.*outside"):
        train_translator(plugin_registry(TinyPlugin()), "tiny", weight=50.0)


def test_fixtures_isolate_translator_home_without_a_conftest(pytester):
    """A plugin's own suite (no conftest) gets a private TRANSLATOR_HOME from the fixtures."""
    pytester.makepyfile(test_home="""
        import os

        def test_home(model_store, translator_home):
            store = model_store()
            assert os.environ["TRANSLATOR_HOME"] == str(translator_home) == str(store.home)
            assert "translator-home" in str(translator_home)
    """)
    outside = os.environ.get("TRANSLATOR_HOME")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert os.environ.get("TRANSLATOR_HOME") == outside
