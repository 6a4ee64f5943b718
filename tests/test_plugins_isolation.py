"""Hostile third-party plugins: exits at import, name clashes with built-ins, hooks returning the
wrong thing, and how a broken plugin is reported (one line per command, detail on request)."""
from __future__ import annotations

import json
import logging
import types

import pytest

from translator import api
from translator.cli.main import main
from translator.errors import CheckpointError
from translator.plugins import load_registry

CLASHING_TRANSLATOR = '''
from translator import api

def _build(config):
    import torch
    return torch.nn.Identity()

@api.hookimpl
def translator_translators():
    return [api.TranslatorSpec(name="cyclegan", title="Impostor", description="d",
                               task=api.TaskKind.IMAGE_TO_IMAGE, build=_build,
                               translate=lambda m, x, p, c: x)]
'''


@pytest.mark.parametrize("body", ["import sys\nsys.exit(1)", "raise SystemExit('bye')",
                                  "class Odd(BaseException):\n    pass\nraise Odd('odd')"])
def test_exit_or_base_exception_at_import_is_contained(fake_distribution, body):
    fake_distribution("translator-plugin-exit", "tp_exit", body, entry="exiter")
    registry = load_registry()
    info = registry.plugins["exiter"]
    assert info.broken and info.error.startswith("import failed:")
    assert {"cyclegan", "pix2pix", "colorize", "stylegan"} <= set(registry.translators)


def test_exit_at_import_does_not_end_a_command(fake_distribution, capsys):
    fake_distribution("translator-plugin-exit", "tp_exit", "import sys\nsys.exit(1)", entry="exiter")
    assert main(["models", "list"]) == 0
    assert "cyclegan/" in capsys.readouterr().out


def test_builtin_wins_a_translator_name_clash_and_the_third_party_is_reported(fake_distribution):
    fake_distribution("translator-plugin-aaa", "tp_aaa", CLASHING_TRANSLATOR, entry="aaa-impostor")
    registry = load_registry()
    assert registry.owner("cyclegan") == "cyclegan"
    assert registry.translator("cyclegan").title != "Impostor"
    assert not registry.plugins["cyclegan"].broken
    impostor = registry.plugins["aaa-impostor"]
    assert impostor.broken and "already provided by plugin 'cyclegan' (built-in)" in impostor.error


def test_builtin_wins_a_plugin_name_clash(fake_distribution):
    fake_distribution("translator-plugin-evil", "tp_evil", CLASHING_TRANSLATOR, entry="cyclegan")
    registry = load_registry()
    assert registry.plugins["cyclegan"].source == "built-in" and not registry.plugins["cyclegan"].broken
    assert registry.translator("cyclegan").title != "Impostor"
    reported = registry.plugins["cyclegan (translator-plugin-evil)"]
    assert reported.broken and "taken by the built-in plugin" in reported.error


def _claiming(name: str, result: object) -> types.SimpleNamespace:
    ns = types.SimpleNamespace(__name__=name)
    ns.translator_translators = api.hookimpl(lambda: [
        api.TranslatorSpec(name=f"{name}-t", title=name, description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                           build=lambda c: None, translate=lambda m, x, p, c: x)])
    ns.translator_claim_checkpoint = api.hookimpl(lambda checkpoint, context: result)
    return ns


@pytest.mark.parametrize("bad", ["a string", {"translator": "x"},
                                 api.CheckpointClaim(translator="nowhere", config={}, state_dict={})])
def test_a_bad_claim_result_marks_only_its_plugin_broken(plugin_registry, tmp_path, bad):
    good_claim = api.CheckpointClaim(translator="good-t", config={}, state_dict={})
    # registered last = asked first, so the bad result comes before the good plugin's answer
    registry = plugin_registry(_claiming("good", good_claim), _claiming("bad", bad))
    checkpoint = api.CheckpointFile(tmp_path / "x.pth")
    assert registry.claim_checkpoint(checkpoint, None) is good_claim
    assert registry.plugins["bad"].broken and not registry.plugins["good"].broken
    with pytest.raises(CheckpointError, match="bad"):
        plugin_registry(_claiming("bad", bad)).claim_checkpoint(checkpoint, None)


def test_system_exit_in_a_hook_is_contained(plugin_registry, tmp_path):
    def leave(checkpoint, context):
        raise SystemExit(0)

    quitter = _claiming("quitter", None)
    quitter.translator_claim_checkpoint = api.hookimpl(leave)
    registry = plugin_registry(quitter)
    with pytest.raises(CheckpointError, match="SystemExit"):
        registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), None)
    assert registry.plugins["quitter"].broken


def test_broken_plugin_is_one_line_per_command_and_plugins_shows_the_detail(fake_distribution, caplog,
                                                                            capsys):
    fake_distribution("translator-plugin-bad", "tp_bad",
                      "def helper():\n    raise RuntimeError('boom\\nsecond line')\nhelper()", entry="bad")
    with caplog.at_level(logging.WARNING):
        assert main(["models", "list"]) == 0
    lines = [r.getMessage() for r in caplog.records if "bad" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0] and "boom" in lines[0]
    assert "Traceback" not in capsys.readouterr().err
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "bad 1.2.3 (package) [BROKEN]" in out
    assert "Traceback" in out and "helper()" in out and "second line" in out
    assert main(["plugins", "--json"]) == 0
    described = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert "helper" in described["bad"]["detail"]


def test_a_plugin_naming_two_translators_alike_is_broken(plugin_registry):
    twice = types.SimpleNamespace(__name__="twice")
    spec = _claiming("x", None).translator_translators()[0]
    twice.translator_translators = api.hookimpl(lambda: [spec, spec])
    registry = plugin_registry(twice, _claiming("fine", None))
    assert "same name twice" in registry.plugins["twice"].error
    assert list(registry.translators) == ["fine-t"]


def test_a_claim_whose_attributes_raise_is_contained(plugin_registry, tmp_path):
    class Sneaky(api.CheckpointClaim):
        @property
        def translator(self):
            raise SystemExit("from a property")

    registry = plugin_registry(_claiming("sneaky", object.__new__(Sneaky)))
    with pytest.raises(CheckpointError, match="unusable claim"):
        registry.claim_checkpoint(api.CheckpointFile(tmp_path / "x.pth"), None)
    assert registry.plugins["sneaky"].broken
