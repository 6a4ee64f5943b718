"""The weight helpers of the public API: canonical_state, remap and check_fits."""
from __future__ import annotations

import pickle

import pytest
import torch
from torch import nn

from translator.api.weights import (
    STALE_NORM_BUFFERS,
    canonical_state,
    check_fits,
    inverse_rules,
    remap,
    rename,
)
from translator.checkpoints import CheckpointFile
from translator.errors import CheckpointError


def _state(*keys: str) -> dict[str, torch.Tensor]:
    return {key: torch.zeros(1) for key in keys}


def test_containers_are_unwrapped_ema_first_and_nested_ones_too():
    found = canonical_state({"params": _state("a.weight"), "params_ema": _state("b.weight"), "iter": 3})
    assert list(found.state) == ["b.weight"] and found.unwrapped == ("params_ema",)
    found = canonical_state({"state_dict": {"model": _state("c.weight")}, "epoch": 1})
    assert list(found.state) == ["c.weight"] and found.notes == ["weights taken from 'state_dict.model'"]


def test_prefixes_every_key_carries_are_stripped_repeatedly_but_partial_ones_stay():
    found = canonical_state(_state("module.module.net.weight", "module.module.net.bias"))
    assert sorted(found.state) == ["net.bias", "net.weight"]
    assert found.stripped == ("module.", "module.") and "'module.' prefix stripped" in found.notes
    assert canonical_state(_state("_orig_mod.netG.x", "_orig_mod.netG.y")).state.keys() == {"x", "y"}
    partial = canonical_state(_state("module.a", "b"))
    assert set(partial.state) == {"module.a", "b"} and partial.notes == []


def test_what_is_not_a_state_dict_gives_an_empty_state(tmp_path):
    assert canonical_state([torch.zeros(1)]).state == {}
    assert canonical_state({"args": "x", "nested": {"t": torch.ones(2)}}).state.keys() == {"nested.t"}
    path = tmp_path / "net.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    assert canonical_state(CheckpointFile(path)).state == {}  # a format load() does not read
    torch.save({"module.w": torch.ones(2)}, tmp_path / "net.pth")
    assert torch.equal(canonical_state(CheckpointFile(tmp_path / "net.pth")).state["w"], torch.ones(2))


def test_rename_takes_the_longest_matching_rule_on_dot_boundaries():
    rules = {"model.1": "stem.conv", "model.10": "blocks.0", "model.10.conv_block.5": "blocks.0.conv2",
             "model.3.weight": "head.weight", "model.9": None}
    assert rename("model.1.weight", rules) == "stem.conv.weight"
    assert rename("model.10.conv_block.5.bias", rules) == "blocks.0.conv2.bias"
    assert rename("model.10.conv_block.1.bias", rules) == "blocks.0.conv_block.1.bias"
    assert rename("model.3.weight", rules) == "head.weight"
    assert rename("model.9.weight", rules) is None
    assert rename("model.11.weight", rules) == "model.11.weight"  # no rule: unchanged


def test_remap_keeps_unmatched_keys_drops_none_rules_and_refuses_collisions():
    state = _state("model.1.weight", "model.9.kernel", "extra.weight")
    out = remap(state, {"model.1": "stem.conv", "model.9": None})
    assert set(out) == {"stem.conv.weight", "extra.weight"}
    assert out["stem.conv.weight"] is state["model.1.weight"]
    assert remap(out, inverse_rules({"model.1": "stem.conv", "model.9": None})).keys() == {
        "model.1.weight", "extra.weight"}
    with pytest.raises(CheckpointError, match="a.w and b.w would both become c.w"):
        remap(_state("a.w", "b.w"), {"a": "c", "b": "c"})


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.norm = nn.InstanceNorm2d(8)
        self.head = nn.Conv2d(8, 3, 1)


def _meta_net() -> nn.Module:
    with torch.device("meta"):
        return _Net()


def test_a_fitting_state_passes_and_stale_norm_buffers_are_dropped():
    state = dict(_Net().state_dict())
    assert check_fits(_meta_net(), state) == state
    stale = {**state, "norm.running_mean": torch.zeros(8), "norm.num_batches_tracked": torch.zeros(())}
    assert check_fits(_meta_net(), stale, stale=STALE_NORM_BUFFERS).keys() == state.keys()
    with pytest.raises(CheckpointError, match=r"unexpected norm.running_mean, norm.num_batches_tracked$"):
        check_fits(_meta_net(), stale)
    shapes = {key: tuple(value.shape) for key, value in state.items()}
    assert check_fits(shapes, state) == state  # a mapping of shapes works like the network


def test_one_error_reports_missing_unexpected_and_wrong_shapes_counted():
    state = dict(_Net().state_dict())
    del state["head.bias"]
    state["stem.weight"] = torch.zeros(8, 1, 3, 3)
    state.update(_state(*(f"extra{i}.weight" for i in range(7))))
    with pytest.raises(CheckpointError) as error:
        check_fits(_meta_net(), state, what="a toy network", subject="net.pth")
    assert str(error.value) == (
        "net.pth does not fit a toy network: missing head.bias; unexpected extra0.weight, extra1.weight, "
        "extra2.weight, extra3.weight, extra4.weight and 2 more; "
        "wrong shape stem.weight (8, 1, 3, 3) (expected (8, 3, 3, 3))")


def test_the_report_names_keys_as_the_file_does():
    rules = {"model.0": "stem", "model.2": "head"}
    file_state = {f"model.0.{k}": v for k, v in _Net().stem.state_dict().items()}
    file_state["model.2.weight"] = torch.zeros(3, 8, 1, 1)
    with pytest.raises(CheckpointError, match=r"^does not fit the network: missing model\.2\.bias$"):
        check_fits(_meta_net(), remap(file_state, rules), rules=rules)


def test_check_fits_refuses_what_is_not_a_network():
    with pytest.raises(TypeError, match="not int"):
        check_fits(3, {})  # type: ignore[arg-type]
