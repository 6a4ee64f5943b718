"""Filters without weights (`TranslatorSpec(weights=False)`): no models, no imports, no training."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from translator import api
from translator.errors import ModelNotFoundError
from translator.store import ModelStore


def _build(config):
    import torch

    return torch.nn.Identity()


def _invert(model, images, params, ctx):
    return 1.0 - images


def _spec(**extra) -> api.TranslatorSpec:
    return api.TranslatorSpec(name="invert", title="Invert", description="1 - x", task=api.TaskKind.IMAGE_TO_IMAGE,
                              build=_build, translate=_invert, weights=False, **extra)


class Filters:
    __name__ = "filters"

    @api.hookimpl
    def translator_translators(self):
        return [_spec()]

    @api.hookimpl
    def translator_claim_checkpoint(self, checkpoint, context):
        return api.CheckpointClaim(translator="invert", config={}, state_dict={})


def test_weight_free_filter_runs_without_a_model(plugin_registry, tmp_path):
    registry = plugin_registry(Filters())
    store = ModelStore(registry, home=tmp_path)
    entry, model = store.open("invert")
    assert entry is None and not model.training
    assert store.list("invert") == [] and store.default("invert") is None
    assert registry.translators["invert"].describe()["weights"] is False


def test_a_model_named_for_a_filter_is_refused(plugin_registry, tmp_path):
    store = ModelStore(plugin_registry(Filters()), home=tmp_path)
    (tmp_path / "models" / "invert").mkdir(parents=True)
    with pytest.raises(ModelNotFoundError, match="without weights"):
        store.open("invert", "anything")


def test_a_claim_for_a_filter_marks_the_claiming_plugin_broken(plugin_registry, tmp_path):
    import torch
    from safetensors.torch import save_file

    registry = plugin_registry(Filters())
    path = tmp_path / "w.safetensors"
    save_file({"x": torch.zeros(1)}, str(path))
    with pytest.raises(api.CheckpointError, match="without weights"):
        registry.claim_checkpoint(api.CheckpointFile(Path(path)), None)
    assert registry.plugins["filters"].broken


def test_weight_free_with_training_or_bundled_models_is_refused():
    training = api.TrainingSpec(data=api.DataKind.SINGLE, make_trainer=lambda ctx: None)
    with pytest.raises(ValueError, match="cannot have training"):
        _spec(training=training)
    with pytest.raises(ValueError, match="cannot have models_dir"):
        _spec(models_dir=Path("models"))


def test_apply_and_models_list_with_a_filter(plugin_registry, tmp_path, monkeypatch, capsys):
    import cv2

    from translator.cli import main as cli_main

    registry = plugin_registry(Filters())
    monkeypatch.setattr("translator.plugins.load_registry", lambda *a, **k: registry)
    monkeypatch.setenv("TRANSLATOR_HOME", str(tmp_path / "home"))
    image = tmp_path / "in.png"
    cv2.imwrite(str(image), np.full((8, 8, 3), 200, np.uint8))
    assert cli_main.main(["apply", "--plugin", "invert", str(image), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    out = cv2.imread(str(next((tmp_path / "out").iterdir())))
    assert int(out[0, 0, 0]) == 55
    assert cli_main.main(["apply", "--plugin", "invert", "--model", "x", str(image), "-o",
                          str(tmp_path / "out2"), "--quiet"]) == 2
    assert "without weights" in capsys.readouterr().err
    assert cli_main.main(["models", "list", "--plugin", "invert"]) == 0
    assert "filter without weights" in capsys.readouterr().out
