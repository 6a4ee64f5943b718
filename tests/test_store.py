"""The model store: user and bundled models, import of foreign files, removal."""
from __future__ import annotations

import json
import types

import pytest
import torch
from safetensors.torch import save_file

from translator import api
from translator.errors import CheckpointError, ModelNotFoundError, TranslatorError
from translator.store import ModelCard


def _build(config):
    return torch.nn.Conv2d(3, 3, int(config.get("kernel", 1)))


def _claim(checkpoint, context):
    if checkpoint.suffix not in (".pth", ".pt"):
        return None
    tensors = checkpoint.tensors()
    if "net.weight" not in tensors:
        return None
    kernel = tensors["net.weight"].shape[-1]
    state = {k.removeprefix("net."): v for k, v in tensors.items()}
    return api.CheckpointClaim(translator="toy", config={"kernel": kernel}, state_dict=state,
                               description=f"detected a {kernel}x{kernel} conv")


def _plugin(models_dir=None):
    ns = types.SimpleNamespace(__name__="toyplugin")
    spec = api.TranslatorSpec(name="toy", title="Toy", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                              build=_build, translate=lambda m, x, p, c: m(x),
                              config=(api.Int(name="kernel", default=1, minimum=1, maximum=9),),
                              models_dir=models_dir)
    ns.translator_translators = api.hookimpl(lambda: [spec])
    ns.translator_claim_checkpoint = api.hookimpl(_claim)
    return ns


def _card(name="mine", **extra):
    extra.setdefault("source", {"kind": "trained"})
    return ModelCard(name=name, plugin="toyplugin", translator="toy", config={"kernel": 1}, **extra)


def test_save_list_load_round_trip_in_fp16(model_store):
    store = model_store(_plugin())
    net = _build({"kernel": 1})
    entry = store.save(_card(training={"steps": 3, "device": "cpu"}), net.state_dict())
    assert entry.weights.parent == store.models_dir / "toy" and entry.card.sha256
    assert [e.name for e in store.list()] == ["mine"]
    loaded = store.load(store.get("mine"))
    assert torch.allclose(loaded.weight, net.weight.half().float())
    assert loaded.weight.dtype == torch.float32 and not loaded.training
    card = json.loads(entry.card_path.read_text())
    assert card["translator"] == "toy" and card["source"]["kind"] == "trained"
    assert "3 steps" in entry.card.summary()


def test_save_refuses_to_replace_without_overwrite(model_store):
    store = model_store(_plugin())
    store.save(_card(), _build({}).state_dict())
    with pytest.raises(TranslatorError, match="already exists"):
        store.save(_card(), _build({}).state_dict())


def test_import_detects_converts_and_verifies(model_store, tmp_path):
    store = model_store(_plugin())
    net = _build({"kernel": 3})
    path = tmp_path / "downloaded model.pth"
    torch.save({f"net.{k}": v for k, v in net.state_dict().items()}, path)
    entry = store.import_file(path)
    assert entry.card.config == {"kernel": 3} and entry.card.source["file"] == path.name
    assert entry.card.description == "detected a 3x3 conv"
    assert torch.equal(store.load(entry).weight, net.weight)  # imports keep float32


def test_import_refuses_unknown_and_unsafe_files(model_store, tmp_path):
    store = model_store(_plugin())
    unknown = tmp_path / "other.pth"
    torch.save({"something.else": torch.zeros(1)}, unknown)
    with pytest.raises(CheckpointError, match="not recognised"):
        store.import_file(unknown)
    evil = tmp_path / "evil.pth"
    torch.save({"net.weight": torch.zeros(3, 3, 1, 1), "x": types.SimpleNamespace()}, evil)
    with pytest.raises(CheckpointError, match="refused"):
        store.import_file(evil)
    assert store.list() == []


def test_import_of_unfitting_weights_is_refused(model_store, tmp_path):
    store = model_store(_plugin())
    path = tmp_path / "bad.pth"
    torch.save({"net.weight": torch.zeros(3, 3, 1, 1), "net.bias": torch.zeros(5)}, path)
    fits = r"bad.pth: does not fit the network: wrong shape bias \(5,\) \(expected \(3,\)\)"
    with pytest.raises(CheckpointError, match=fits):
        store.import_file(path)


def test_bundled_models_are_listed_first_and_cannot_be_removed(model_store, tmp_path):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    save_file({k: v.contiguous() for k, v in _build({}).state_dict().items()}, str(bundled / "demo.safetensors"))
    (bundled / "demo.json").write_text(json.dumps(_card("demo", source={"kind": "bundled"}).to_dict()))
    (bundled / "broken.safetensors").write_bytes(b"junk")
    (bundled / "broken.json").write_text("{not json")
    store = model_store(_plugin(models_dir=bundled))
    store.save(_card("mine"), _build({}).state_dict())
    assert [(e.name, e.kind) for e in store.list()] == [("demo", "bundled"), ("mine", "trained")]
    assert store.default("toy").name == "demo"
    with pytest.raises(TranslatorError, match="bundled"):
        store.remove("demo")
    store.remove("toy/mine")
    assert [e.name for e in store.list()] == ["demo"]


def test_open_needs_a_model_for_trainable_networks(model_store):
    store = model_store(_plugin())
    with pytest.raises(ModelNotFoundError, match="translator-train --plugin toy"):
        store.open("toy")
    store.save(_card(), _build({}).state_dict())
    entry, model = store.open("toy")
    assert entry.name == "mine" and isinstance(model, torch.nn.Conv2d)
    with pytest.raises(ModelNotFoundError, match="available: toy/mine"):
        store.open("toy", "nope")


def test_loading_reports_its_stages_with_a_percentage(model_store):
    store = model_store(_plugin())
    store.save(_card(), _build({"kernel": 1}).state_dict())
    heard = []
    entry, _ = store.open("toy", "mine", progress=lambda f, m: heard.append((f, m)))
    assert entry.name == "mine"
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert heard[0][1] == "Loading model mine... 0% (reading the weights)"
    assert "Loading model mine... 40% (building the network)" in [m for _, m in heard]


def test_the_engine_reports_a_move_to_another_dtype():
    from translator.engine import Engine
    from translator.testing import make_image

    heard = []
    spec = _plugin().translator_translators()[0]
    model = _build({"kernel": 1}).to(torch.float64)
    Engine("cpu", "fp32").run(spec, model, make_image(4, 4), progress=lambda f, m: heard.append(m))
    assert heard[0] == "moving the model to cpu (float32)"
    heard.clear()
    Engine("cpu", "fp32").run(spec, model, make_image(4, 4), progress=lambda f, m: heard.append(m))
    assert not any("moving" in m for m in heard)
