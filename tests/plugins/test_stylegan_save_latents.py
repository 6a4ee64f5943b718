"""stylegan `save_latents=`: atomic, never onto a source file of the run, no folders created."""
from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import torch
from translator_plugins.stylegan import latents, networks, plugin

from translator.errors import DataError, ParameterError
from translator.params import resolve_params
from translator.spec import RunContext

CTX = RunContext(device=torch.device("cpu"), dtype=torch.float32)


@pytest.fixture(scope="module")
def model() -> networks.Generator:
    torch.manual_seed(0)
    return networks.build({"resolution": 16, "z_dim": 8, "w_dim": 8, "mapping_layers": 1,
                           "channel_base": 64, "channel_max": 8}).eval()


def params(**given):
    return resolve_params(plugin.PARAMS, given)


def test_save_latents_refuses_to_replace_a_source_file(model, tmp_path):
    source = latents.save_latents(tmp_path / "source.npz", latents.seed_ws(model, [1], 1.0)[0])
    before = source.read_bytes()
    with pytest.raises(ParameterError, match="refusing to replace a source file"):
        plugin.translate(model, None, params(source=str(source), save_latents=str(source)), CTX)
    with pytest.raises(ParameterError, match="refusing to replace a source file"):
        plugin.translate(model, None, params(style_source=str(source), style_seed="",
                                             save_latents=str(tmp_path / "." / "source.npz")), CTX)
    assert source.read_bytes() == before


def test_save_latents_creates_no_folders(model, tmp_path):
    target = tmp_path / "not" / "there" / "w.npz"
    with pytest.raises(ParameterError, match="does not exist"):
        plugin.translate(model, None, params(seed=2, save_latents=str(target)), CTX)
    assert not (tmp_path / "not").exists()


def test_save_latents_is_atomic(model, tmp_path, monkeypatch):
    target = latents.save_latents(tmp_path / "w.npz", latents.seed_ws(model, [1], 1.0)[0])
    before = target.read_bytes()
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.handle, name)

    monkeypatch.setattr(latents.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(DataError, match="No space left on device"):
        latents.save_latents(target, latents.seed_ws(model, [2], 1.0)[0])
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]
    monkeypatch.undo()
    plugin.translate(model, None, params(seed=2, save_latents=str(target)), CTX)
    with np.load(target) as data:
        assert data["w"].shape == (1, model.num_ws, 8)
