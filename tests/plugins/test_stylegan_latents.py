"""Seeds, style mixing, the mixing grid, latents .npz and the translator's parameters."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from translator_plugins.stylegan import latents, networks, plugin

from translator.errors import DataError, ParameterError
from translator.params import resolve_params
from translator.spec import RunContext, TaskKind

torch.set_num_threads(1)
CTX = RunContext(device=torch.device("cpu"), dtype=torch.float32)


@pytest.fixture(scope="module")
def model() -> networks.Generator:
    torch.manual_seed(0)
    config = networks.architecture({"resolution": 32, "z_dim": 16, "w_dim": 16, "mapping_layers": 2,
                                                   "channel_base": 256, "channel_max": 16})
    G = networks.Generator(config).eval()
    for layer in G.synthesis.layers():
        layer.noise_strength.data.fill_(0.1)
    return G


def params(**given):
    return resolve_params(plugin.PARAMS, given)


def test_seed_to_z_is_the_official_random_state():
    z = latents.seed_to_z(0, 512)
    assert z.shape == (1, 512) and z.dtype == np.float64
    assert np.allclose(z[0, :3], [1.76405235, 0.40015721, 0.97873798])  # RandomState(0).randn
    assert np.array_equal(latents.seed_to_z(123, 8), np.random.RandomState(123).randn(1, 8))
    with pytest.raises(ParameterError):
        latents.seed_to_z(-1, 8)


def test_layer_presets_follow_the_resolutions():
    assert latents.layer_range("coarse", 18) == range(4)      # 1024 px: 4-8
    assert latents.layer_range("middle", 18) == range(4, 8)      # 16-32
    assert latents.layer_range("fine", 18) == range(8, 18)       # 64-1024
    assert latents.layer_range("fine", 10) == range(8, 10)       # 64 px model
    assert latents.layer_range("fine", 8) == range(6, 8)         # 32 px model: its top level
    assert latents.layer_range("middle", 8) == range(4, 6)
    assert latents.layer_range("2-5", 10) == range(2, 6) and latents.layer_range("3", 10) == range(3, 4)
    for bad in ("5-2", "0-10", "loud"):
        with pytest.raises(ParameterError):
            latents.layer_range(bad, 10)


def _block_outputs(model, ws):
    """Features after each synthesis block, recorded with hooks."""
    outputs = []
    hooks = [b.register_forward_hook(lambda m, a, out: outputs.append(out[0].clone())) for b in model.synthesis.blocks()]
    try:
        with torch.no_grad():
            image = model.synthesis(ws, "const")
    finally:
        for h in hooks:
            h.remove()
    return outputs, image


def test_style_mixing_changes_only_the_chosen_layers(model):
    a, b = latents.seed_ws(model, [1], 1.0), latents.seed_ws(model, [2], 1.0)
    chosen = latents.layer_range("fine", model.num_ws)             # ws 6, 7: the 32 px block's conv1, to-RGB
    mixed = latents.mix(a, b, chosen, 1.0)
    assert torch.equal(mixed[:, :6], a[:, :6]) and torch.equal(mixed[:, 6:], b[:, 6:])
    half = latents.mix(a, b, chosen, 0.5)
    assert torch.allclose(half[:, 6:], (a[:, 6:] + b[:, 6:]) / 2) and torch.equal(half[:, :6], a[:, :6])
    feats_a, img_a = _block_outputs(model, a)
    feats_m, img_m = _block_outputs(model, mixed)
    # blocks 4, 8, 16 only read ws 0-5: identical features; the 32 px block changes
    for fa, fm in zip(feats_a[:3], feats_m[:3]):
        assert torch.equal(fa, fm)
    assert not torch.allclose(feats_a[3], feats_m[3]) and not torch.allclose(img_a, img_m)
    coarse = latents.mix(a, b, latents.layer_range("coarse", model.num_ws))
    feats_c, _ = _block_outputs(model, coarse)
    assert not torch.allclose(feats_a[0], feats_c[0])


def test_mixing_grid_is_the_official_figure(model):
    grid = latents.mixing_grid(model, [1, 2], [3, 4, 5], "coarse", psi=1.0)
    r = 32
    assert grid.shape == (3, 3 * r, 4 * r)
    assert torch.equal(grid[:, :r, :r], torch.ones(3, r, r))
    with torch.no_grad():
        col = model.synthesis(latents.seed_ws(model, [4], 1.0), "const")[0]
        row = model.synthesis(latents.seed_ws(model, [2], 1.0), "const")[0]
        cell = model.synthesis(latents.mix(latents.seed_ws(model, [2], 1.0), latents.seed_ws(model, [4], 1.0),
                                           range(4)), "const")[0]
    assert torch.allclose(grid[:, :r, 2 * r:3 * r], col, atol=1e-5)
    assert torch.allclose(grid[:, 2 * r:, :r], row, atol=1e-5)
    assert torch.allclose(grid[:, 2 * r:, 2 * r:3 * r], cell, atol=1e-5)
    assert latents.parse_grid("1,2;10-12") == ([1, 2], [10, 11, 12])
    with pytest.raises(ParameterError):
        latents.parse_grid("1,2")


def test_latents_npz_round_trip_and_errors(model, tmp_path):
    ws = latents.seed_ws(model, [7], 0.7)
    path = latents.save_latents(tmp_path / "a.npz", ws[0])
    with np.load(path) as data:
        assert data["w"].shape == (1, model.num_ws, 16)
    assert np.allclose(latents.load_latents(path, model.num_ws, 16), ws[0].detach().numpy())
    np.savez(tmp_path / "one.npz", w=np.ones(16, dtype=np.float32))
    assert latents.load_latents(tmp_path / "one.npz", model.num_ws, 16).shape == (model.num_ws, 16)
    np.savez(tmp_path / "wrong.npz", w=np.ones((3, 16)))
    with pytest.raises(DataError, match="do not fit"):
        latents.load_latents(tmp_path / "wrong.npz", model.num_ws, 16)
    np.savez(tmp_path / "obj.npz", w=np.array([object()], dtype=object))
    with pytest.raises(DataError):
        latents.load_latents(tmp_path / "obj.npz", model.num_ws, 16)


def test_spec_declares_a_generator():
    spec, = plugin.translator_translators()
    assert spec.task is TaskKind.GENERATE and spec.needs_grad and spec.training is not None
    names = [p.name for p in spec.params]
    for name in ("seed", "truncation", "noise", "style_seed", "layers", "blend", "grid", "source", "style_source"):
        assert name in names


def test_translate_seed_mixing_grid_and_latents(model, tmp_path):
    plain = plugin.translate(model, None, params(seed=3), CTX)
    assert plain.shape == (1, 3, 32, 32) and 0 <= plain.min() and plain.max() <= 1
    with torch.no_grad():
        expected = (model(torch.from_numpy(latents.seed_to_z(3, 16)).float(), 0.7) + 1) / 2
    assert torch.allclose(plain, expected.clamp(0, 1), atol=1e-6)
    mixed = plugin.translate(model, None, params(seed=3, style_seed="4", layers="fine"), CTX)
    assert not torch.allclose(mixed, plain)
    saved = tmp_path / "mixed.npz"
    plugin.translate(model, None, params(seed=3, style_seed="4", layers="fine", save_latents=str(saved)), CTX)
    again = plugin.translate(model, None, params(source=str(saved), truncation=1.0), CTX)
    assert torch.allclose(again, mixed, atol=1e-6)
    grid = plugin.translate(model, None, params(grid="1,2;3"), CTX)
    assert grid.shape == (1, 3, 96, 64)
    with pytest.raises(ParameterError):
        plugin.translate(model, None, params(style_seed="1", layers="0-40"), CTX)


def test_generation_through_the_engine(plugin_registry, run_translator, model):
    pytest.importorskip("translator.engine")
    from translator_plugins import stylegan

    spec = plugin_registry(stylegan).translator("stylegan")
    image = run_translator(spec, None, model, seed=5, style_seed="6", layers="coarse")
    assert image.rgb.shape == (32, 32, 3)
