"""The plugin registry: loading, isolation of broken plugins, translator lookup, claims."""
from __future__ import annotations

import types

import pytest

from translator import api
from translator.errors import CheckpointError, PluginError
from translator.plugins import load_registry

GOOD_PLUGIN = '''
from translator import api

def _build(config):
    import torch
    return torch.nn.Identity()

def _translate(model, images, params, ctx):
    return images

@api.hookimpl
def translator_translators():
    return [api.TranslatorSpec(name="thirdparty-identity", title="Identity", description="d",
                               task=api.TaskKind.IMAGE_TO_IMAGE, build=_build, translate=_translate)]
'''


def _plugin(name: str = "toy", translators=("toy",), claim=None) -> types.SimpleNamespace:
    def build(config):
        import torch

        return torch.nn.Identity()

    specs = [api.TranslatorSpec(name=t, title=t, description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                                build=build, translate=lambda m, x, p, c: x)
             for t in translators]
    ns = types.SimpleNamespace(__name__=name)
    ns.translator_translators = api.hookimpl(lambda: specs)
    if claim is not None:
        ns.translator_claim_checkpoint = api.hookimpl(claim)
    return ns


def test_builtins_are_registered_through_the_entry_point_group():
    registry = load_registry()
    assert {"cyclegan", "pix2pix", "colorize", "stylegan"} <= set(registry.plugins)
    assert all(registry.plugins[name].source == "built-in" for name in ("cyclegan", "pix2pix"))


def test_third_party_package_is_loaded_and_listed(fake_distribution):
    fake_distribution("translator-plugin-good", "tp_good", GOOD_PLUGIN, entry="good")
    registry = load_registry()
    info = registry.plugins["good"]
    assert info.source == "package" and info.version == "1.2.3" and not info.broken
    assert info.translators == ["thirdparty-identity"]
    assert registry.translator("good").name == "thirdparty-identity"


def test_autoload_can_be_disabled(fake_distribution, monkeypatch):
    fake_distribution("translator-plugin-good", "tp_good", GOOD_PLUGIN, entry="good")
    monkeypatch.setenv("TRANSLATOR_DISABLE_PLUGIN_AUTOLOAD", "1")
    registry = load_registry()
    assert "good" not in registry.plugins
    assert "cyclegan" in registry.plugins


def test_plugin_failing_to_import_is_marked_broken_and_others_work(fake_distribution):
    fake_distribution("translator-plugin-good", "tp_good", GOOD_PLUGIN, entry="good")
    fake_distribution("translator-plugin-bad", "tp_bad", "raise RuntimeError('boom at import')", entry="bad")
    registry = load_registry()
    assert registry.plugins["bad"].broken
    assert "boom at import" in registry.plugins["bad"].error
    assert not registry.plugins["good"].broken
    assert "thirdparty-identity" in registry.translators
    with pytest.raises(PluginError, match="broken"):
        registry.translator("bad")


def test_misspelt_hook_is_reported(plugin_registry):
    bad = types.SimpleNamespace(__name__="typo")
    bad.translator_translater = api.hookimpl(lambda: [])
    registry = plugin_registry(bad, _plugin("fine"))
    assert registry.plugins["typo"].broken and "translator_translater" in registry.plugins["typo"].error
    assert "toy" in registry.translators


def test_hook_raising_marks_only_that_plugin_broken(plugin_registry):
    bad = types.SimpleNamespace(__name__="raiser")

    def translators():
        raise ValueError("no translators today")

    bad.translator_translators = api.hookimpl(translators)
    registry = plugin_registry(bad, _plugin("fine"))
    assert "no translators today" in registry.plugins["raiser"].error
    assert list(registry.translators) == ["toy"]


def test_hook_returning_wrong_type_is_broken(plugin_registry):
    bad = types.SimpleNamespace(__name__="wrong")
    bad.translator_translators = api.hookimpl(lambda: ["not a spec"])
    registry = plugin_registry(bad)
    assert "TranslatorSpec" in registry.plugins["wrong"].error


def test_duplicate_translator_name_keeps_the_first(plugin_registry):
    registry = plugin_registry(_plugin("first"), _plugin("second"))
    assert registry.owner("toy") == "first"
    assert "already provided" in registry.plugins["second"].error


def test_mark_broken_withdraws_translators(plugin_registry):
    registry = plugin_registry(_plugin("p", translators=("a", "b")))
    registry.mark_broken("p", RuntimeError("crashed in inference"))
    assert registry.translators == {}
    assert "crashed in inference" in registry.plugins["p"].error


def test_translator_lookup_errors_list_what_exists(plugin_registry):
    registry = plugin_registry(_plugin("p", translators=("a", "b")))
    with pytest.raises(PluginError, match="several translators: a, b"):
        registry.translator("p")
    with pytest.raises(PluginError, match="available: a, b"):
        registry.translator("nope")


def test_claim_is_firstresult_and_respects_the_asked_plugin(plugin_registry, tmp_path):
    calls = []

    def claim_none(checkpoint, context):
        calls.append("none")
        return None

    def claim_yes(checkpoint, context):
        calls.append("yes")
        return api.CheckpointClaim(translator="y", config={}, state_dict={})

    registry = plugin_registry(_plugin("yes", ("y",), claim_yes), _plugin("no", ("n",), claim_none))
    checkpoint = api.CheckpointFile(tmp_path / "x.pth")
    assert registry.claim_checkpoint(checkpoint, None).translator == "y"
    calls.clear()
    with pytest.raises(CheckpointError, match="not recognised by plugin 'no'"):
        registry.claim_checkpoint(checkpoint, "no")
    assert calls == ["none"]


def test_claim_hook_crash_marks_plugin_broken(plugin_registry, tmp_path):
    def crash(checkpoint, context):
        raise KeyError("bug")

    registry = plugin_registry(_plugin("crashy", ("c",), crash))
    with pytest.raises(CheckpointError, match="not recognised"):
        registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), None)
    assert registry.plugins["crashy"].broken


def test_describe_lists_translators_and_params(plugin_registry):
    described = plugin_registry(_plugin("p")).describe()
    assert described[0]["name"] == "p" and described[0]["translators"][0]["name"] == "toy"
    assert described[0]["hooks"] == ["translator_translators"]
