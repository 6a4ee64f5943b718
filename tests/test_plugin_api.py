"""The plugin contract checked where it is written: spec names, the declared plugin API version,
and hook calls through pluggy that keep each plugin's failures to itself."""
from __future__ import annotations

import sys
import types

import pytest

from translator import api
from translator.errors import CheckpointError
from translator.plugins import load_registry


def _spec(name: str = "toy", **changes: object) -> api.TranslatorSpec:
    fields = {"title": name, "description": "", "task": api.TaskKind.IMAGE_TO_IMAGE,
              "build": lambda config: None, "translate": lambda m, x, p, c: x}
    return api.TranslatorSpec(name=name, **{**fields, **changes})


def _plugin(name: str, *, spec_name: str | None = None, claim=None, declared: object = None):
    ns = types.SimpleNamespace(__name__=name)
    ns.translator_translators = api.hookimpl(lambda: [_spec(spec_name or f"{name}-t")])
    if claim is not None:
        ns.translator_claim_checkpoint = api.hookimpl(claim)
    if declared is not None:
        ns.TRANSLATOR_API = declared
    return ns


@pytest.mark.parametrize("name", ["Bad Name!", "", "-dash-first", "UPPER", "a/b", "x" * 65, 7])
def test_a_spec_with_a_bad_name_is_refused_when_created(name):
    with pytest.raises(ValueError, match="lowercase letters, digits"):
        _spec(name)


@pytest.mark.parametrize("name", ["sepia", "a", "pix2pix-v2", "my_filter", "9lives", "x" * 64])
def test_good_names_are_accepted(name):
    assert _spec(name).name == name


@pytest.mark.parametrize("weights", [True, False])
def test_build_must_be_callable_also_for_a_filter_without_weights(weights):
    with pytest.raises(TypeError, match="build must be a function"):
        _spec("net", build=None, weights=weights)


def test_a_plugin_whose_spec_is_refused_is_broken_and_the_others_load(plugin_registry):
    registry = plugin_registry(_plugin("bad", spec_name="Bad Name!"), _plugin("good"))
    assert "ValueError" in registry.plugins["bad"].error and "lowercase" in registry.plugins["bad"].error
    assert list(registry.translators) == ["good-t"]


def test_builtins_declare_this_api_version():
    registry = load_registry(third_party=False)
    for name in ("cyclegan", "pix2pix", "colorize", "stylegan"):
        assert registry.pm.get_plugin(name).TRANSLATOR_API == api.API_VERSION
        assert not registry.plugins[name].broken


def test_a_plugin_needing_a_newer_api_is_refused_in_one_line(plugin_registry):
    newer = api.API_VERSION + 1
    registry = plugin_registry(_plugin("future", declared=newer), _plugin("now", declared=api.API_VERSION),
                               _plugin("undeclared"))
    assert registry.plugins["future"].error == (
        f"plugin future needs Translator plugin API {newer}, this Translator has {api.API_VERSION}; "
        "upgrade Translator or install an older version of the plugin")
    assert registry.plugins["future"].translators == [] and "future-t" not in registry.translators
    assert {"now-t", "undeclared-t"} <= set(registry.translators)
    described = {p["name"]: p for p in registry.describe()}
    assert described["now"]["api"] == api.API_VERSION and described["undeclared"]["api"] is None


@pytest.mark.parametrize("declared", ["2", 0, True, 2.0])
def test_a_declaration_that_is_not_a_version_is_refused(plugin_registry, declared):
    registry = plugin_registry(_plugin("odd", declared=declared))
    assert "is not a plugin API version" in registry.plugins["odd"].error


def test_a_claim_hook_of_api_1_gets_a_hint(plugin_registry):
    def old_claim(checkpoint, plugin, context):
        return None

    registry = plugin_registry(_plugin("old", claim=old_claim, declared=1))
    error = registry.plugins["old"].error
    assert "translator_claim_checkpoint" in error and "'plugin'" in error
    assert f"written for plugin API 1? this Translator has plugin API {api.API_VERSION}" in error


def _claim_of(translator: str):
    return lambda checkpoint, context: api.CheckpointClaim(translator=translator, config={}, state_dict={})


def test_a_crashing_claim_hook_does_not_hide_the_next_plugins_answer(plugin_registry, tmp_path):
    def crash(checkpoint, context):
        raise RuntimeError("bug")

    # the last registered plugin is asked first (pluggy's order)
    registry = plugin_registry(_plugin("good", claim=_claim_of("good-t")), _plugin("crashy", claim=crash))
    assert registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), None).translator == "good-t"
    assert registry.plugins["crashy"].error == "RuntimeError: bug" and not registry.plugins["good"].broken
    with pytest.raises(CheckpointError, match="plugin 'crashy' is broken: RuntimeError: bug"):
        registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), "crashy")


def test_a_checkpoint_error_is_the_answer_of_the_plugin_that_owns_the_file(plugin_registry, tmp_path):
    def refuse(checkpoint, context):
        raise CheckpointError("x.pth looks like mine but is damaged")

    registry = plugin_registry(_plugin("other", claim=_claim_of("other-t")), _plugin("owner", claim=refuse))
    with pytest.raises(CheckpointError, match="looks like mine but is damaged"):
        registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), None)
    assert not registry.plugins["owner"].broken
    # naming a plugin asks only that one, by plugin or translator name
    assert registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), "other-t").translator == "other-t"


def test_a_catalog_hook_that_raises_breaks_only_its_plugin(plugin_registry):
    def boom():
        raise OSError("no network")

    broken = _plugin("offline")
    broken.translator_model_catalog = api.hookimpl(boom)
    fine = _plugin("fine")
    fine.translator_model_catalog = api.hookimpl(lambda: [])  # noqa: PIE807 - pluggy marks the function
    registry = plugin_registry(fine, broken)
    assert registry.model_catalog() == [("fine", [])]
    assert registry.plugins["offline"].error == "OSError: no network"


def test_claim_from_imports_the_converter_only_when_a_file_is_offered(plugin_registry, tmp_path, monkeypatch):
    (tmp_path / "lazy_converter_mod.py").write_text(
        "from translator import api\n"
        "def claim(checkpoint, context):\n"
        "    if checkpoint.path.suffix != '.pth':\n"
        "        return None\n"
        "    return api.CheckpointClaim(translator='lazy-t', config={}, state_dict={})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazy_converter_mod", raising=False)
    plugin = _plugin("lazy")
    plugin.translator_claim_checkpoint = api.claim_from("lazy_converter_mod")
    registry = plugin_registry(plugin)
    assert "lazy_converter_mod" not in sys.modules
    assert registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), None).translator == "lazy-t"
    assert "lazy_converter_mod" in sys.modules
    with pytest.raises(CheckpointError, match="x.bin: not recognised"):
        registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.bin"), None)
    assert not registry.plugins["lazy"].broken


def test_claim_from_a_missing_module_breaks_only_its_plugin_when_called(plugin_registry, tmp_path):
    plugin = _plugin("missing")
    plugin.translator_claim_checkpoint = api.claim_from("no_such_converter_module_xyz")
    registry = plugin_registry(_plugin("good", claim=_claim_of("good-t")), plugin)
    assert not registry.plugins["missing"].broken
    assert registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), None).translator == "good-t"
    assert "no_such_converter_module_xyz" in registry.plugins["missing"].error


@pytest.mark.parametrize("module", ["", "a..b", "my-plugin.checkpoints", "a.b:claim"])
def test_claim_from_refuses_a_name_that_is_not_a_module(module):
    with pytest.raises(ValueError, match="dotted module name"):
        api.claim_from(module)
