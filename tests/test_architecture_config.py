"""Architecture configs declared once as parameters (`TranslatorSpec.config`): model cards are
validated against them, `default_config` derives from them, `translator-train` offers them as
options for networks trained from scratch and refuses them when fine-tuning."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from translator import api
from translator.errors import ParameterError
from translator.plugins import load_registry
from translator.store import ModelCard, ModelStore
from translator.training.cli import architecture_options, build_parser, resolve
from translator.training.config import TrainConfig
from translator.training.loop import architecture
from translator.training.spec import TrainingSpec

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


@pytest.fixture(scope="module")
def registry():
    return load_registry(third_party=False)


@pytest.mark.parametrize("card", sorted(PLUGINS.glob("*/models/*.json")), ids=lambda p: p.stem)
def test_every_bundled_card_validates_and_loads(registry, card):
    data = json.loads(card.read_text(encoding="utf-8"))
    spec = registry.translator(data["translator"])
    config = spec.resolve_config(data["config"], source=f"model card {card.stem!r}")
    assert set(config) == {p.name for p in spec.config}
    assert {k: v for k, v in config.items() if k in data["config"]} == {
        k: tuple(v) if isinstance(v, list) else v for k, v in data["config"].items()}
    model = ModelStore(registry).load(ModelStore(registry).get(card.stem, spec.name))  # strict weights
    assert not model.training


def test_default_config_is_the_parameters_defaults(registry):
    for spec in registry.translators.values():
        assert spec.default_config == {p.name: p.describe()["default"] for p in spec.config}
        json.dumps(spec.default_config)  # JSON-able, as model cards store it
        assert spec.resolve_config(spec.default_config) == spec.resolve_config(None)


def test_a_bad_card_config_is_one_error_naming_the_card(registry, tmp_path):
    store = ModelStore(registry)
    entry = store.get("photo2painting", "cyclegan")
    card = ModelCard(**{**entry.card.to_dict(), "name": "broken", "source": {"kind": "trained"},
                        "config": {**entry.card.config, "ngf": "wide", "colour": 1}})
    _, state = store.load_state("photo2painting")
    saved = store.save(card, state)
    with pytest.raises(ParameterError, match=r"model card 'broken': cyclegan config: unknown parameter\(s\) colour"):
        store.load(saved)
    card = ModelCard(**{**card.to_dict(), "name": "narrow", "config": {**entry.card.config, "n_blocks": -2}})
    with pytest.raises(ParameterError, match=r"model card 'narrow': cyclegan config: parameter 'n_blocks': -2 is "
                                             r"outside \[0, 64\]"):
        store.load(store.save(card, state))


def test_new_parameter_types():
    subset = api.Subset(name="directions", choices=("AtoB", "BtoA"), default=("AtoB", "BtoA"))
    assert subset.validate(["BtoA", "AtoB"]) == ("AtoB", "BtoA") and subset.parse("BtoA") == ("BtoA",)
    for bad in ([], "AtoB", ["AtoC"], 3):
        with pytest.raises(ParameterError, match="'directions'"):
            subset.validate(bad)
    ints = api.Ints(name="channels", minimum=1, maximum=512)
    assert ints.parse("64, 32,16") == (64, 32, 16) and ints.validate([8.0]) == (8,)
    for bad in ([0], [1.5], "8", [True]):
        with pytest.raises(ParameterError, match="'channels'"):
            ints.validate(bad)
    clamp = api.Float(name="clamp", default=None, minimum=0, maximum=10, optional=True)
    assert clamp.validate(None) is None and clamp.parse("none") is None and clamp.parse("2") == 2.0
    with pytest.raises(ParameterError):
        api.Float(name="x", default=1.0, minimum=0, maximum=10).validate(None)


def _args(spec, *argv):
    return resolve(build_parser(spec).parse_args(["--plugin", spec.name, *argv]), spec, spec.name)


def test_translator_train_offers_the_config_as_architecture_options(registry, capsys):
    spec = registry.translator("pix2pix")
    assert [p.name for p in architecture_options(spec)] == ["ngf", "num_downs", "norm", "use_dropout", "upsample"]
    assert not {"ngf", "num_downs", "upsample"} & {p.name for p in spec.training.options}  # declared once
    with pytest.raises(SystemExit):
        build_parser(spec).parse_args(["--plugin", "pix2pix", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "pix2pix architecture (from scratch; fine-tuning may change upsample)" in help_text
    assert "--upsample {transposed,resize}" in help_text and "(default: resize)" in help_text
    config = _args(spec, "--ngf", "8", "--num-downs", "6")
    assert config.config_options == {"ngf": 8, "num_downs": 6}
    assert TrainConfig.from_dict(config.to_dict()).config_options == {"ngf": 8, "num_downs": 6}  # resumable
    fine_tune, scratch = architecture(spec, config, None)
    assert fine_tune is None and scratch == {**spec.default_config, "ngf": 8, "num_downs": 6, "upsample": "resize"}
    with pytest.raises(SystemExit):
        build_parser(spec).parse_args(["--plugin", "pix2pix", "--num-downs", "4"])
    assert "'num_downs': 4 is outside [5, 10]" in capsys.readouterr().err


def test_architecture_options_are_an_error_when_fine_tuning(registry):
    spec = registry.translator("cyclegan")
    entry = ModelStore(registry).get("photo2painting", "cyclegan")
    tuned, _ = architecture(spec, _args(spec, "--ndf", "16", "--upsample", "transposed"), entry)
    assert tuned == {**spec.resolve_config(entry.card.config), "ndf": 16, "upsample": "transposed"}
    with pytest.raises(ParameterError, match="--n-blocks, --ngf: the architecture of a network trained from "
                                             "scratch; fine-tuning photo2painting keeps its own. Add --from scratch"):
        architecture(spec, _args(spec, "--ngf", "8", "--n-blocks", "2"), entry)


def test_training_defaults_are_said_once(registry):
    config = TrainConfig(plugin="x", name="x")
    for name in ("steps", "batch_size", "size", "lr", "betas", "optimizer", "gan_loss", "d_steps"):
        assert getattr(config, name) == getattr(TrainingSpec, name)
    cyclegan = registry.translator("cyclegan")
    resolved = _args(cyclegan)
    assert (resolved.steps, resolved.lr, resolved.size) == (200_000, TrainingSpec.lr, TrainingSpec.size)
    assert build_parser(None).format_help().count(f"(default: {TrainingSpec.steps})") == 1
