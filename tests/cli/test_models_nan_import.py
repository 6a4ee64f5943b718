"""Importing weights that hold NaN or infinity works but warns."""
from __future__ import annotations

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
    return api.CheckpointClaim(translator="toy", config={}, state_dict=tensors)
'''


def test_importing_nan_weights_warns(fake_distribution, tmp_path, capsys):
    fake_distribution("translator-toyplug", "toyplug", TOY, entry="toyplug")
    state = torch.nn.Conv2d(3, 3, 1).state_dict()
    torch.save(state, tmp_path / "fine.pth")
    assert main(["models", "import", str(tmp_path / "fine.pth"), "--plugin", "toyplug"]) == 0
    assert "warning" not in capsys.readouterr().err
    state["weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, tmp_path / "nan.pth")
    assert main(["models", "import", str(tmp_path / "nan.pth"), "--plugin", "toyplug"]) == 0
    captured = capsys.readouterr()
    assert "imported nan.pth as toy/nan" in captured.out
    assert "toy/nan: 1 weight tensor(s) hold NaN or infinite values (weight)" in captured.err
