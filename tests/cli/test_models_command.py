"""`translator models list|import|remove` end to end, with a plugin installed as a package."""
from __future__ import annotations

import json
import os

import torch

from translator.cli.main import main

TOY = '''
from translator import api

def _build(config):
    import torch
    return torch.nn.Conv2d(3, 3, 1)

@api.hookimpl
def translator_translators():
    return [api.TranslatorSpec(name="toy", title="Toy", description="", build=_build,
                               task=api.TaskKind.IMAGE_TO_IMAGE, translate=lambda m, x, p, c: m(x))]

@api.hookimpl
def translator_claim_checkpoint(checkpoint, context):
    tensors = checkpoint.tensors()
    if set(tensors) != {"weight", "bias"}:
        return None
    return api.CheckpointClaim(translator="toy", config={}, state_dict=tensors, description="a toy conv")
'''


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_import_list_remove(fake_distribution, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_distribution("translator-toyplug", "toyplug", TOY, entry="toyplug")
    path = tmp_path / "net.pth"
    torch.save(torch.nn.Conv2d(3, 3, 1).state_dict(), path)
    assert main(["models", "import", str(path), "--plugin", "toyplug", "--name", "first"]) == 0
    assert "imported net.pth as toy/first" in capsys.readouterr().out
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["translator"], m["name"], m["kind"]) for m in listed if m["translator"] == "toy"] == [
        ("toy", "first", "imported")]
    assert all(m["kind"] == "bundled" for m in listed if m["translator"] != "toy")
    assert main(["models", "remove", "toy/first"]) == 0
    assert main(["models", "list", "--plugin", "toyplug"]) == 0
    assert "no models" in capsys.readouterr().out


def test_import_of_code_running_pickle_fails_cleanly(fake_distribution, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_distribution("translator-toyplug", "toyplug", TOY, entry="toyplug")
    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(3, 3, 1, 1), "bias": _Evil()}, path)
    assert main(["models", "import", str(path)]) == 2
    assert "refused" in capsys.readouterr().err
    assert not (tmp_path / "pwned.txt").exists()


def test_unknown_model_and_plugin_errors(capsys):
    assert main(["models", "remove", "nothing-here"]) == 2
    assert "no model named 'nothing-here'" in capsys.readouterr().err
    assert main(["models", "list", "--plugin", "nope"]) == 2
    assert "no translator or plugin named 'nope'" in capsys.readouterr().err
