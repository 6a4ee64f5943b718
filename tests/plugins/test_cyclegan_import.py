"""Importing the reference implementation's CycleGAN generator files.

tests/data/cyclegan_reference_golden.safetensors was made once, outside the repository, by running
the reference ResnetGenerator (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py) with
seeded weights: it holds the input and output, and in its metadata the seed, the scale and the
reference key layouts (key, shape) of a few configurations, in the reference's own order.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from translator.api.weights import STALE_NORM_BUFFERS
from translator.checkpoints import CheckpointFile, ImportContext
from translator.errors import CheckpointError
from translator.plugins import load_registry
from translator.spec import RunContext
from translator.store import build_with_weights
from translator_plugins.cyclegan import checkpoints, networks, plugin

torch.set_num_threads(1)
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "cyclegan_reference_golden.safetensors"


@pytest.fixture(scope="module")
def golden() -> dict:
    with safe_open(str(GOLDEN), "pt") as fh:
        meta = fh.metadata()
        return {"input": fh.get_tensor("input"), "output": fh.get_tensor("output"),
                "seed": int(meta["seed"]), "scale": float(meta["scale"]),
                **{k: json.loads(v) for k, v in meta.items() if k.startswith("layout")}}


def seeded_reference_state(layout: list, seed: int, scale: float) -> dict[str, torch.Tensor]:
    """Weights as the golden file was made: randn * scale in sorted key order."""
    generator = torch.Generator().manual_seed(seed)
    return {key: torch.randn(shape, generator=generator) * scale for key, shape in sorted(layout)}


def zeros_state(layout: list) -> dict[str, torch.Tensor]:
    return {key: (torch.zeros(shape, dtype=torch.long) if key.endswith("num_batches_tracked")
                  else torch.zeros(shape)) for key, shape in layout}


def save(tmp_path: Path, state: dict, name: str = "horse2zebra.pth") -> CheckpointFile:
    path = tmp_path / name
    torch.save(state, path)
    return CheckpointFile(path)


def claim(checkpoint: CheckpointFile, **options: str):
    return checkpoints.claim(checkpoint, ImportContext(options=options))


def test_our_key_layout_maps_onto_the_reference_layout(golden):
    for name, n_blocks, dropout in (("layout", 2, False), ("layout_ngf8_2blocks_dropout", 2, True)):
        ours = networks.ResnetGenerator(ngf=8, n_blocks=n_blocks, use_dropout=dropout).state_dict()
        reference = checkpoints.to_reference(ours, n_blocks, dropout)
        assert {k: list(v.shape) for k, v in reference.items()} == dict(golden[name]), name


def test_imported_generator_reproduces_the_reference_output(golden, tmp_path):
    state = seeded_reference_state(golden["layout"], golden["seed"], golden["scale"])
    result = claim(save(tmp_path, state))
    model = build_with_weights(plugin.build, result.config, result.state_dict, label="golden")
    with torch.no_grad():
        out = model.G_AB(golden["input"])
    assert (out - golden["output"]).abs().max().item() < 1e-4
    # and through the translator's [0, 1] interface
    ctx = RunContext(device=torch.device("cpu"), dtype=torch.float32)
    with torch.no_grad():
        translated = plugin.translate(model, (golden["input"] + 1) / 2, {"direction": "AtoB"}, ctx)
    assert (translated - (golden["output"] + 1) / 2).abs().max().item() < 1e-4


def test_full_size_legacy_file_with_module_prefix_imports(golden, tmp_path):
    layout = golden["layout_ngf64_9blocks_legacy"]
    assert any(key.endswith("running_mean") for key, _ in layout)
    state = {f"module.{key}": value for key, value in zeros_state(layout).items()}
    result = claim(save(tmp_path, state))
    assert result.translator == "cyclegan"
    assert result.config["ngf"] == 64 and result.config["n_blocks"] == 9
    assert result.config["use_dropout"] is False and result.config["directions"] == ["AtoB"]
    legacy = sum(key.rsplit(".", 1)[-1] in STALE_NORM_BUFFERS for key, _ in layout)
    assert f"{legacy} stale instance-norm buffers dropped" in result.description
    assert "'module.' prefix stripped" in result.description
    assert sum(v.numel() for v in result.state_dict.values()) == 11_378_179
    build_with_weights(plugin.build, result.config, result.state_dict, label="full")


def test_dropout_is_detected_from_the_shifted_index(golden, tmp_path):
    result = claim(save(tmp_path, zeros_state(golden["layout_ngf8_2blocks_dropout"])))
    assert result.config["use_dropout"] is True and "with dropout" in result.description
    model = build_with_weights(plugin.build, result.config, result.state_dict, label="dropout")
    assert any(isinstance(m, torch.nn.Dropout) for m in model.modules())


def test_batch_norm_generator_is_detected(golden, tmp_path):
    state = seeded_reference_state(golden["layout_ngf8_2blocks_batch"], 1, 0.1)
    result = claim(save(tmp_path, state))
    assert result.config["norm"] == "batch"
    # batch norm running statistics are weights here, not stale buffers
    assert torch.equal(result.state_dict["G_AB.stem.norm.running_mean"], state["model.2.running_mean"])
    build_with_weights(plugin.build, result.config, result.state_dict, label="batch")


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.update({"model.10.conv_block.5.weight": torch.zeros(32, 32, 1, 1)}), "wrong shape"),
    (lambda s: s.pop("model.19.weight"), "missing model.19.weight"),
    (lambda s: s.update({"model.3.weight": torch.zeros(3)}), "unexpected model.3.weight"),
    (lambda s: s.update({"model.1.weight": torch.zeros(8, 1, 7, 7)}), "RGB input"),
    (lambda s: s.update({"model.19.weight": torch.zeros(1, 8, 7, 7)}), "wrong shape model.19.weight (1, 8"),
    (lambda s: s.pop("model.11.conv_block.5.weight"), "convolutions at"),
    (lambda s: [s.pop(k) for k in list(s) if k.startswith("model.10.")], "consecutive"),
])
def test_generator_that_does_not_fit_is_refused(golden, tmp_path, change, message):
    state = zeros_state(golden["layout"])
    change(state)
    with pytest.raises(CheckpointError, match="looks like a CycleGAN ResNet generator") as error:
        claim(save(tmp_path, state))
    assert message in str(error.value)


def test_other_networks_are_left_to_other_plugins(tmp_path):
    unet = {"model.model.0.weight": torch.zeros(8, 3, 4, 4),
            "model.model.1.model.1.weight": torch.zeros(16, 8, 4, 4),
            "model.model.3.weight": torch.zeros(8, 3, 4, 4)}
    assert claim(save(tmp_path, unet, "latest_net_G.pth")) is None
    patchgan = {"model.0.weight": torch.zeros(8, 3, 4, 4), "model.0.bias": torch.zeros(8),
                "model.2.weight": torch.zeros(16, 8, 4, 4), "model.11.weight": torch.zeros(1, 64, 4, 4)}
    assert claim(save(tmp_path, patchgan, "latest_net_D_A.pth")) is None
    (tmp_path / "notes.txt").write_text("hello")
    assert claim(CheckpointFile(tmp_path / "notes.txt")) is None


def test_direction_from_option_or_file_name(golden, tmp_path):
    state = zeros_state(golden["layout"])
    assert claim(save(tmp_path, state, "latest_net_G_B.pth")).config["directions"] == ["BtoA"]
    forced = claim(save(tmp_path, state), direction="BtoA")
    assert forced.config["directions"] == ["BtoA"]
    assert all(key.startswith("G_BA.") for key in forced.state_dict)
    with pytest.raises(CheckpointError, match="direction='sideways'"):
        claim(save(tmp_path, state), direction="sideways")


def test_claim_through_the_registry(golden, tmp_path):
    registry = load_registry(third_party=False)
    state = seeded_reference_state(golden["layout"], golden["seed"], golden["scale"])
    result = registry.claim_checkpoint(save(tmp_path, state, "latest_net_G_A.pth"), None)
    assert result.translator == "cyclegan" and result.config["directions"] == ["AtoB"]
    assert registry.claim_checkpoint(save(tmp_path, state), "cyclegan").translator == "cyclegan"
    with pytest.raises(CheckpointError, match="not recognised"):
        registry.claim_checkpoint(save(tmp_path, {"fc.weight": torch.zeros(2, 2)}, "x.pth"), "cyclegan")


def test_pair_with_builds_a_two_way_model(golden, tmp_path, model_store):
    store = model_store(builtins=True)
    a_state = seeded_reference_state(golden["layout"], 1, golden["scale"])
    b_state = seeded_reference_state(golden["layout"], 2, golden["scale"])
    store.import_file(save(tmp_path, a_state, "latest_net_G_A.pth").path, name="h2z-a")
    entry = store.import_file(save(tmp_path, b_state, "latest_net_G_B.pth").path, name="h2z",
                              options={"pair_with": "h2z-a"})
    assert entry.card.config["directions"] == ["AtoB", "BtoA"]
    assert "AtoB generator from model 'h2z-a'" in entry.card.description
    assert entry.card.title == "CycleGAN latest_net_G_B + h2z-a"
    model = store.load(entry)
    x = golden["input"]
    for direction, state in (("AtoB", a_state), ("BtoA", b_state)):
        reference = claim(save(tmp_path, state, "one.pth"), direction=direction)
        single = build_with_weights(plugin.build, reference.config, reference.state_dict, label=direction)
        with torch.no_grad():
            assert torch.allclose(model.generator(direction)(x), single.generator(direction)(x), atol=1e-6)


def test_pair_with_refuses_what_cannot_pair(golden, tmp_path, model_store):
    store = model_store(builtins=True)
    small = zeros_state(golden["layout"])
    store.import_file(save(tmp_path, small, "latest_net_G_A.pth").path, name="a")
    with pytest.raises(CheckpointError, match="it has no BtoA generator"):
        store.import_file(save(tmp_path, small, "b.pth").path, options={"pair_with": "a", "direction": "AtoB"})
    with pytest.raises(CheckpointError, match="cannot pair with model 'missing'"):
        store.import_file(save(tmp_path, small, "latest_net_G_B.pth").path, options={"pair_with": "missing"})
    dropout = zeros_state(golden["layout_ngf8_2blocks_dropout"])
    with pytest.raises(CheckpointError, match="generators differ"):
        store.import_file(save(tmp_path, dropout, "latest_net_G_B.pth").path, options={"pair_with": "a"})
    with pytest.raises(CheckpointError, match="needs a model store"):
        claim(save(tmp_path, small, "latest_net_G_B.pth"), pair_with="a")
