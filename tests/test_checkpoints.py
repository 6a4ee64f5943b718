"""Weights files are read without ever running code from them."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

from translator.checkpoints import CheckpointFile, flatten_tensors, restricted_unpickle
from translator.errors import CheckpointError


class _Payload:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_torch_zip_pickle_with_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(2), "payload": _Payload(marker)}, path)
    with pytest.raises(CheckpointError, match="refused"):
        CheckpointFile(path).load()
    assert not marker.exists()


def test_legacy_raw_pickle_with_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(_Payload(marker), protocol=2))
    with pytest.raises(CheckpointError):
        CheckpointFile(path).load()
    assert not marker.exists()


def test_plain_state_dict_loads_and_flattens(tmp_path):
    path = tmp_path / "ok.pth"
    torch.save({"g_ema": {"a.weight": torch.ones(3)}, "step": 5}, path)
    tensors = CheckpointFile(path).tensors()
    assert list(tensors) == ["g_ema.a.weight"] and tensors["g_ema.a.weight"].sum() == 3


def test_safetensors_round_trip(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "ok.safetensors"
    save_file({"w": torch.arange(4.0)}, str(path))
    assert torch.equal(CheckpointFile(path).load()["w"], torch.arange(4.0))


@pytest.mark.parametrize("name, content", [
    ("empty.pth", b""),
    ("text.pth", b"this is not a checkpoint"),
    ("truncated.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{\"w\":"),
])
def test_corrupt_files_give_clear_errors(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=name):
        CheckpointFile(path).load()


def test_unknown_suffix_and_missing_file(tmp_path):
    other = tmp_path / "weights.h5"
    other.write_bytes(b"x")
    with pytest.raises(CheckpointError, match="unsupported weights format .h5"):
        CheckpointFile(other).load()
    with pytest.raises(CheckpointError, match="no such file"):
        CheckpointFile(tmp_path / "missing.pth").load()


def test_restricted_unpickle_allows_only_listed_globals(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(CheckpointError, match="posix.system|os.system|not on the allow-list"):
        restricted_unpickle(pickle.dumps(_Payload(marker)), allowed={})
    assert not marker.exists()
    from collections import OrderedDict

    data = pickle.dumps(OrderedDict(a=1))
    assert restricted_unpickle(data, {("collections", "OrderedDict"): OrderedDict}) == {"a": 1}


def test_restricted_unpickle_reports_garbage():
    with pytest.raises(CheckpointError, match="not a readable pickle"):
        restricted_unpickle(b"\x80\x04garbage", allowed={})


def test_flatten_ignores_non_tensors():
    assert flatten_tensors({"a": 1, "b": {"c": torch.zeros(1)}, "d": [torch.zeros(1)]}).keys() == {"b.c"}
