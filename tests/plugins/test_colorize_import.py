"""Importing Zhang et al.'s published ECCV16 and SIGGRAPH17 weights (richzhang/colorization).

No real weights are needed: the tests build synthetic state dicts with the exact key layout and
shapes of the port's `ECCVGenerator` and `SIGGRAPHGenerator` (tabulated below from
`colorizers/eccv16.py` and `colorizers/siggraph17.py`), and compare our networks with a compact,
independent functional re-implementation of the port's forward passes (`reference_eccv16`,
`reference_siggraph17`).
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from translator.checkpoints import CheckpointFile, ImportContext
from translator.errors import CheckpointError
from translator.plugins import load_registry
from translator.spec import RunContext
from translator.store import ModelStore, build_with_weights
from translator_plugins.colorize import checkpoints, plugin

torch.set_num_threads(1)

# (key, out, in, kernel, stride, dilation); "T" marks a transposed conv (k4 s2 p1), "BN" a norm,
# following the port's module lists (a ReLU sits at every index not listed).
ECCV16_LAYERS = [
    ("model1.0", 64, 1, 3, 1, 1), ("model1.2", 64, 64, 3, 2, 1), ("model1.4", "BN", 64),
    ("model2.0", 128, 64, 3, 1, 1), ("model2.2", 128, 128, 3, 2, 1), ("model2.4", "BN", 128),
    ("model3.0", 256, 128, 3, 1, 1), ("model3.2", 256, 256, 3, 1, 1), ("model3.4", 256, 256, 3, 2, 1),
    ("model3.6", "BN", 256),
    *[(f"model4.{i}", 512, 256 if i == 0 else 512, 3, 1, 1) for i in (0, 2, 4)], ("model4.6", "BN", 512),
    *[(f"model5.{i}", 512, 512, 3, 1, 2) for i in (0, 2, 4)], ("model5.6", "BN", 512),
    *[(f"model6.{i}", 512, 512, 3, 1, 2) for i in (0, 2, 4)], ("model6.6", "BN", 512),
    *[(f"model7.{i}", 512, 512, 3, 1, 1) for i in (0, 2, 4)], ("model7.6", "BN", 512),
    ("model8.0", "T", 512, 256), ("model8.2", 256, 256, 3, 1, 1), ("model8.4", 256, 256, 3, 1, 1),
    ("model8.6", 313, 256, 1, 1, 1),
]
SIGGRAPH17_LAYERS = [
    ("model1.0", 64, 4, 3, 1, 1), ("model1.2", 64, 64, 3, 1, 1), ("model1.4", "BN", 64),
    ("model2.0", 128, 64, 3, 1, 1), ("model2.2", 128, 128, 3, 1, 1), ("model2.4", "BN", 128),
    ("model3.0", 256, 128, 3, 1, 1), ("model3.2", 256, 256, 3, 1, 1), ("model3.4", 256, 256, 3, 1, 1),
    ("model3.6", "BN", 256),
    *[(f"model4.{i}", 512, 256 if i == 0 else 512, 3, 1, 1) for i in (0, 2, 4)], ("model4.6", "BN", 512),
    *[(f"model5.{i}", 512, 512, 3, 1, 2) for i in (0, 2, 4)], ("model5.6", "BN", 512),
    *[(f"model6.{i}", 512, 512, 3, 1, 2) for i in (0, 2, 4)], ("model6.6", "BN", 512),
    *[(f"model7.{i}", 512, 512, 3, 1, 1) for i in (0, 2, 4)], ("model7.6", "BN", 512),
    ("model8up.0", "T", 512, 256), ("model3short8.0", 256, 256, 3, 1, 1),
    ("model8.1", 256, 256, 3, 1, 1), ("model8.3", 256, 256, 3, 1, 1), ("model8.5", "BN", 256),
    ("model9up.0", "T", 256, 128), ("model2short9.0", 128, 128, 3, 1, 1),
    ("model9.1", 128, 128, 3, 1, 1), ("model9.3", "BN", 128),
    ("model10up.0", "T", 128, 128), ("model1short10.0", 128, 64, 3, 1, 1),
    ("model10.1", 128, 128, 3, 1, 1),
    ("model_class.0", 529, 256, 1, 1, 1), ("model_out.0", 2, 128, 1, 1, 1),
]


def reference_layout(layers: list, *, counters: bool = True) -> dict[str, tuple[int, ...]]:
    """key -> shape of the port's state dict."""
    shapes: dict[str, tuple[int, ...]] = {}
    for key, *spec in layers:
        if spec[0] == "BN":
            n = spec[1]
            shapes.update({f"{key}.weight": (n,), f"{key}.bias": (n,), f"{key}.running_mean": (n,),
                           f"{key}.running_var": (n,)})
            if counters:
                shapes[f"{key}.num_batches_tracked"] = ()
        elif spec[0] == "T":
            cin, cout = spec[1], spec[2]
            shapes.update({f"{key}.weight": (cin, cout, 4, 4), f"{key}.bias": (cout,)})
        else:
            cout, cin, k = spec[0], spec[1], spec[2]
            shapes.update({f"{key}.weight": (cout, cin, k, k), f"{key}.bias": (cout,)})
    return shapes


def synthetic_state(layout: dict[str, tuple[int, ...]], seed: int) -> dict[str, torch.Tensor]:
    """He-scaled random weights (so activations stay O(1) through ~25 layers), plausible norms."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in sorted(layout.items()):
        name = key.rsplit(".", 1)[1]
        if name == "num_batches_tracked":
            state[key] = torch.tensor(1000)
        elif name == "running_var":
            state[key] = 0.5 + torch.rand(shape, generator=generator)
        elif name in ("running_mean", "bias"):
            state[key] = 0.1 * torch.randn(shape, generator=generator)
        elif len(shape) == 1:  # norm weight
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=generator)
        else:
            fan_in = shape[1] * shape[2] * shape[3] if not key.startswith(("model8.0", "model8up", "model9up",
                                                                            "model10up")) else shape[0] * 4
            state[key] = torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_in)
    return state


def eccv16_state(seed: int = 0, *, counters: bool = True) -> dict[str, torch.Tensor]:
    state = synthetic_state(reference_layout(ECCV16_LAYERS, counters=counters), seed)
    state["model_out.weight"] = torch.randn(2, 313, 1, 1, generator=torch.Generator().manual_seed(seed + 1)) * 0.5
    return state


def siggraph17_state(seed: int = 0, *, counters: bool = True) -> dict[str, torch.Tensor]:
    return synthetic_state(reference_layout(SIGGRAPH17_LAYERS, counters=counters), seed)


# -- the port's forward passes, written out functionally --------------------------------------

def _apply(state: dict, layers: list, names: tuple[str, ...], x: torch.Tensor, *, last_plain: str = "") -> torch.Tensor:
    """Run the listed blocks: conv (+ReLU, unless it is `last_plain`), transposed conv (+ReLU), BN."""
    for key, *spec in layers:
        if key.split(".")[0] not in names:
            continue
        if spec[0] == "BN":
            x = F.batch_norm(x, state[f"{key}.running_mean"], state[f"{key}.running_var"], state[f"{key}.weight"],
                             state[f"{key}.bias"], training=False, eps=1e-5)
            continue
        if spec[0] == "T":
            x = F.conv_transpose2d(x, state[f"{key}.weight"], state[f"{key}.bias"], stride=2, padding=1)
        else:
            _, _, k, stride, dilation = spec
            x = F.conv2d(x, state[f"{key}.weight"], state[f"{key}.bias"], stride=stride,
                         padding=dilation * (k // 2), dilation=dilation)
        if key != last_plain:
            x = F.relu(x)
    return x


def reference_eccv16(state: dict, lightness: torch.Tensor) -> torch.Tensor:
    """ECCVGenerator.forward: L (B, 1, H, W) in [0, 100] -> ab (B, 2, H, W)."""
    blocks = tuple(f"model{i}" for i in range(1, 9))
    logits = _apply(state, ECCV16_LAYERS, blocks, (lightness - 50.0) / 100.0, last_plain="model8.6")
    out_reg = F.conv2d(F.softmax(logits, dim=1), state["model_out.weight"])
    return F.interpolate(out_reg, scale_factor=4, mode="bilinear", align_corners=False) * 110.0


def reference_siggraph17(state: dict, lightness: torch.Tensor, ab: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """SIGGRAPHGenerator.forward(input_A, input_B, mask_B) -> ab (B, 2, H, W)."""
    def run(names: tuple[str, ...], x: torch.Tensor, plain: str = "") -> torch.Tensor:
        return _apply(state, SIGGRAPH17_LAYERS, names, x, last_plain=plain)

    def relu_first(names: tuple[str, ...], x: torch.Tensor) -> torch.Tensor:
        return run(names, F.relu(x))

    def plain_conv(key: str, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, state[f"{key}.weight"], state[f"{key}.bias"], padding=1)

    def up(key: str, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(x, state[f"{key}.weight"], state[f"{key}.bias"], stride=2, padding=1)

    conv1_2 = run(("model1",), torch.cat([(lightness - 50.0) / 100.0, ab / 110.0, mask], dim=1))
    conv2_2 = run(("model2",), conv1_2[:, :, ::2, ::2])
    conv3_3 = run(("model3",), conv2_2[:, :, ::2, ::2])
    conv4_3 = run(("model4",), conv3_3[:, :, ::2, ::2])
    conv7_3 = run(("model7",), run(("model6",), run(("model5",), conv4_3)))
    conv8_3 = relu_first(("model8",), up("model8up.0", conv7_3) + plain_conv("model3short8.0", conv3_3))
    conv9_3 = relu_first(("model9",), up("model9up.0", conv8_3) + plain_conv("model2short9.0", conv2_2))
    conv10_up = up("model10up.0", conv9_3) + plain_conv("model1short10.0", conv1_2)
    conv10_2 = F.leaky_relu(plain_conv("model10.1", F.relu(conv10_up)), 0.2)
    return torch.tanh(F.conv2d(conv10_2, state["model_out.0.weight"], state["model_out.0.bias"])) * 110.0


# -- fixtures and helpers ------------------------------------------------------------------------

def lightness_input(height: int = 32, width: int = 40) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    return (100 * (0.5 + 0.4 * torch.sin(6 * xs) * torch.cos(4 * ys))).view(1, 1, height, width)


def save(tmp_path: Path, state: dict, name: str) -> CheckpointFile:
    path = tmp_path / name
    torch.save(state, path)
    return CheckpointFile(path)


def claim(checkpoint: CheckpointFile):
    return checkpoints.claim(checkpoint, ImportContext())


@pytest.fixture(scope="module")
def siggraph17_seed2() -> dict[str, torch.Tensor]:
    return siggraph17_state(seed=2)


def test_our_official_networks_have_the_ports_exact_key_layout():
    for architecture, layout in (("eccv16", {**reference_layout(ECCV16_LAYERS), "model_out.weight": (2, 313, 1, 1)}),
                                 ("siggraph17", reference_layout(SIGGRAPH17_LAYERS))):
        ours = {k: tuple(v.shape) for k, v in plugin.build({"architecture": architecture}).state_dict().items()}
        assert ours == layout, architecture


def test_eccv16_import_reproduces_the_reference_forward(tmp_path):
    state = eccv16_state(seed=1, counters=False)  # as saved by an old PyTorch: no BN counters
    result = claim(save(tmp_path, state, "colorization_release_v2-9b330a0b.pth"))
    assert result.translator == "colorize" and dict(result.config) == {"architecture": "eccv16"}
    assert "ECCV16" in result.description and "ignores colour hints" in result.description
    assert "BatchNorm counters added" in result.description
    model = build_with_weights(plugin.build, result.config, result.state_dict, label="eccv16")
    lightness = lightness_input()
    with torch.no_grad():
        ours = model(lightness, torch.zeros(1, 2, 32, 40), torch.zeros(1, 1, 32, 40))
        reference = reference_eccv16(state, lightness)
    assert ours.shape == reference.shape == (1, 2, 32, 40)
    assert reference.abs().max().item() > 1.0  # not a trivial output
    assert (ours - reference).abs().max().item() < 1e-4


def test_siggraph17_import_reproduces_the_reference_forward_with_and_without_hints(tmp_path, siggraph17_seed2):
    state = siggraph17_seed2
    prefixed = {f"module.{k}": v for k, v in state.items()}  # saved from DataParallel
    result = claim(save(tmp_path, prefixed, "siggraph17-df00044c.pth"))
    assert dict(result.config) == {"architecture": "siggraph17"}
    assert "follows colour hints" in result.description and "'module.' prefix stripped" in result.description
    model = build_with_weights(plugin.build, result.config, result.state_dict, label="siggraph17")
    lightness = lightness_input()
    ab = torch.zeros(1, 2, 32, 40)
    mask = torch.zeros(1, 1, 32, 40)
    ab[:, 0, 4:9, 6:11], ab[:, 1, 4:9, 6:11], mask[:, :, 4:9, 6:11] = 60.0, 40.0, 1.0
    with torch.no_grad():
        for hint_ab, hint_mask in ((torch.zeros_like(ab), torch.zeros_like(mask)), (ab, mask)):
            ours = model(lightness, hint_ab, hint_mask)
            reference = reference_siggraph17(state, lightness, hint_ab, hint_mask)
            assert reference.abs().max().item() > 1.0
            assert (ours - reference).abs().max().item() < 1e-4
        assert (model(lightness, ab, mask) - model(lightness, torch.zeros_like(ab), torch.zeros_like(mask))).abs().max() > 1e-3


@pytest.mark.slow
def test_imported_models_run_through_the_translator_and_store(tmp_path, plugin_registry, siggraph17_seed2):
    from translator_plugins import colorize

    store = ModelStore(plugin_registry(colorize), home=tmp_path / "home")
    path = tmp_path / "siggraph17-df00044c.pth"
    torch.save(siggraph17_seed2, path)
    entry = store.import_file(path, plugin="colorize", name="siggraph17")
    assert entry.card.config == {"architecture": "siggraph17"} and entry.card.source["kind"] == "imported"
    model = store.load(entry)
    ctx = RunContext(device=torch.device("cpu"), dtype=torch.float32)
    params = {"hints": (), "saturation": 1.0, "working_size": 64}
    images = torch.rand(1, 3, 30, 50)
    with torch.no_grad():
        out = plugin.translate(model, images, params, ctx)
        # the network ran at 64 x 40 (longer side 64, multiple of 8) on the input's lightness
        from translator_plugins.colorize import lab, propagate

        small = lab.resize(lab.lightness(images), (40, 64)).clamp(0, 100)
        expected_ab = reference_siggraph17(siggraph17_seed2, small, torch.zeros(1, 2, 40, 64),
                                           torch.zeros(1, 1, 40, 64))
        # its ab reaches full size along the lightness edges (the guided filter)
        expected = lab.colorize_rgb(lab.lightness(images),
                                    propagate.guided_upsample(expected_ab, small, lab.lightness(images)))
    assert (out - expected).abs().max().item() < 1e-4


def test_files_that_are_not_colorizers_are_left_alone(tmp_path):
    other = save(tmp_path, {"model.1.weight": torch.zeros(64, 3, 7, 7)}, "latest_net_G.pth")
    assert claim(other) is None
    small = {"model1short10.0.weight": torch.zeros(1), "model8up.0.weight": torch.zeros(1)}
    with pytest.raises(CheckpointError, match="not recognised by plugin 'cyclegan'"):  # only cyclegan is asked
        load_registry(third_party=False).claim_checkpoint(save(tmp_path, small, "s.pth"), "cyclegan")
    assert checkpoints.claim(CheckpointFile(tmp_path / "notes.txt"), ImportContext()) is None


def cheap_zeros(shape: tuple[int, ...]) -> torch.Tensor:
    """A zero tensor of `shape` stored as one element (fast to make, save and load)."""
    return torch.zeros(()).expand(shape)


def test_damaged_official_files_are_clear_errors(tmp_path):
    state = {k: cheap_zeros(shape) for k, shape in reference_layout(ECCV16_LAYERS).items()}
    state["model_out.weight"] = cheap_zeros((2, 313, 1, 1))
    state["model8.6.weight"] = torch.zeros(300, 256, 1, 1)  # 300 bins instead of 313
    with pytest.raises(CheckpointError, match=r"ECCV16.*wrong shape model8\.6\.weight \(300, 256, 1, 1\)"):
        claim(save(tmp_path, state, "bad.pth"))
    state = {k: cheap_zeros(shape) for k, shape in reference_layout(SIGGRAPH17_LAYERS).items()}
    del state["model9.1.weight"]
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=r"SIGGRAPH17.*missing model9\.1\.weight.*unexpected extra\.weight"):
        claim(save(tmp_path, state, "bad2.pth"))


def test_eccv16_bin_centres_stay_fixed():
    model = plugin.build({"architecture": "eccv16"})
    assert not model.model_out.weight.requires_grad
    assert model.follows_hints is False and plugin.build({"architecture": "siggraph17"}).follows_hints is True
