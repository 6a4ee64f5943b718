"""Importing rosinality `.pt` and NVIDIA `.pkl` StyleGAN2 generators, exactly and safely.

No published weights are needed: synthetic weights with the exact key layouts and shapes of
rosinality/stylegan2-pytorch's `Generator` and of NVIDIA's pickled `Generator` (persistent
objects with `_init_kwargs`) are written to files, and the imported generator's image is
compared with `reference_forward`, a compact re-implementation of the reference forward pass
written directly against the rosinality keys (modulating activations instead of weights, the
references' non-fused path).
"""
from __future__ import annotations

import argparse
import collections
import math
import os
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from translator_plugins.stylegan import checkpoints, plugin
from translator_plugins.stylegan.latents import seed_to_z

from translator.checkpoints import CheckpointFile, ImportContext
from translator.errors import CheckpointError
from translator.plugins import load_registry
from translator.store import build_with_weights

torch.set_num_threads(1)
SQRT2 = math.sqrt(2)


# -- a synthetic rosinality generator and the reference forward ------------------------------

def rosinality_state(size: int = 16, style_dim: int = 16, n_mlp: int = 3, channels: dict | None = None,
                     seed: int = 0) -> dict[str, torch.Tensor]:
    """Keys and shapes of rosinality's Generator(size, style_dim, n_mlp) with seeded values."""
    g = torch.Generator().manual_seed(seed)
    ch = channels or {4: 12, 8: 10, 16: 8, 32: 6}

    def rand(*shape, scale=1.0):
        return torch.randn(*shape, generator=g) * scale

    sd: dict[str, torch.Tensor] = {}
    for i in range(1, n_mlp + 1):
        sd[f"style.{i}.weight"] = rand(style_dim, style_dim, scale=100)  # init / lr_mul
        sd[f"style.{i}.bias"] = rand(style_dim, scale=0.1)

    def modconv(prefix, cin, cout, k, up=False):
        sd[f"{prefix}.conv.weight"] = rand(1, cout, cin, k, k)
        sd[f"{prefix}.conv.modulation.weight"] = rand(cin, style_dim)
        sd[f"{prefix}.conv.modulation.bias"] = 1 + rand(cin, scale=0.1)
        if up:
            sd[f"{prefix}.conv.blur.kernel"] = torch.ones(4, 4)

    def styled(prefix, cin, cout, up=False):
        modconv(prefix, cin, cout, 3, up)
        sd[f"{prefix}.noise.weight"] = rand(1, scale=0.3)
        sd[f"{prefix}.activate.bias"] = rand(cout, scale=0.1)

    def torgb(prefix, cin, upsample=True):
        modconv(prefix, cin, 3, 1)
        sd[f"{prefix}.bias"] = rand(1, 3, 1, 1, scale=0.1)
        if upsample:
            sd[f"{prefix}.upsample.kernel"] = torch.ones(4, 4)

    sd["input.input"] = rand(1, ch[4], 4, 4)
    styled("conv1", ch[4], ch[4])
    torgb("to_rgb1", ch[4], upsample=False)
    log = int(math.log2(size))
    for j in range(2 * log - 3):
        res = 2 ** ((j + 1) // 2 + 2)
        sd[f"noises.noise_{j}"] = rand(1, 1, res, res)
    previous = ch[4]
    for k, res in enumerate(2 ** i for i in range(3, log + 1)):
        styled(f"convs.{2 * k}", previous, ch[res], up=True)
        styled(f"convs.{2 * k + 1}", ch[res], ch[res])
        torgb(f"to_rgbs.{k}", ch[res])
        previous = ch[res]
    return sd


def _blur(x: torch.Tensor, pad: tuple[int, int], gain: float = 1.0) -> torch.Tensor:
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = torch.outer(k, k) / 64 * gain
    c = x.shape[1]
    return F.conv2d(F.pad(x, [pad[0], pad[1], pad[0], pad[1]]), k.expand(c, 1, 4, 4).contiguous(), groups=c)


def _zero_upsample(x: torch.Tensor) -> torch.Tensor:
    """Insert a zero after every sample (H -> 2H), via a strided transposed 1x1 identity."""
    c = x.shape[1]
    eye = torch.ones(c, 1, 1, 1)
    y = F.conv_transpose2d(x, eye, stride=2, groups=c)
    return F.pad(y, [0, 1, 0, 1])


def reference_forward(sd: dict, z: torch.Tensor, *, n_mlp: int, size: int, psi: float = 1.0,
                      latent_avg: torch.Tensor | None = None, noise: str = "const",
                      clamp: float | None = None) -> torch.Tensor:
    """The reference generator's image for z (B, z_dim); noise "const" or "none"."""
    x = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)
    for i in range(1, n_mlp + 1):
        weight = sd[f"style.{i}.weight"]
        x = F.linear(x, weight * (0.01 / math.sqrt(weight.shape[1])))
        x = F.leaky_relu(x + sd[f"style.{i}.bias"] * 0.01, 0.2) * SQRT2
    w = x if psi == 1 else latent_avg + psi * (x - latent_avg)

    def modconv(h, prefix, demodulate, up=False):
        weight = sd[f"{prefix}.conv.weight"][0]
        _, cin, k, _ = weight.shape
        mod_w = sd[f"{prefix}.conv.modulation.weight"]
        s = F.linear(w, mod_w / math.sqrt(mod_w.shape[1]), sd[f"{prefix}.conv.modulation.bias"])
        weight = weight / math.sqrt(cin * k * k)
        h = h * s[:, :, None, None]
        if up:
            h = F.conv_transpose2d(h, weight.transpose(0, 1), stride=2)
            h = _blur(h, (1, 1), gain=4.0)
        else:
            h = F.conv2d(h, weight, padding=k // 2)
        if demodulate:
            d = ((weight[None] * s[:, None, :, None, None]).pow(2).sum([2, 3, 4]) + 1e-8).rsqrt()
            h = h * d[:, :, None, None]
        return h

    def styled(h, prefix, j, up=False):
        h = modconv(h, prefix, True, up)
        if noise == "const":
            h = h + sd[f"{prefix}.noise.weight"] * sd[f"noises.noise_{j}"]
        h = F.leaky_relu(h + sd[f"{prefix}.activate.bias"][None, :, None, None], 0.2) * SQRT2
        return h.clamp(-clamp, clamp) if clamp is not None else h

    def rgb(h, prefix):
        out = modconv(h, prefix, False) + sd[f"{prefix}.bias"]
        return out.clamp(-clamp, clamp) if clamp is not None else out

    h = sd["input.input"].repeat(z.shape[0], 1, 1, 1)
    h = styled(h, "conv1", 0)
    image = rgb(h, "to_rgb1")
    for k in range(int(math.log2(size)) - 2):
        h = styled(h, f"convs.{2 * k}", 2 * k + 1, up=True)
        h = styled(h, f"convs.{2 * k + 1}", 2 * k + 2)
        image = rgb(h, f"to_rgbs.{k}") + _blur(_zero_upsample(image), (2, 1), gain=4.0)
    return image


def z_of(seeds: list[int], dim: int) -> torch.Tensor:
    return torch.from_numpy(np.concatenate([seed_to_z(s, dim) for s in seeds])).float()


def import_file(path: Path, **options: str):
    claim = checkpoints.claim(CheckpointFile(path), ImportContext(options=options))
    assert claim is not None
    model = build_with_weights(plugin.build, claim.config, claim.state_dict, label=path.name)
    return claim, model


# -- rosinality ------------------------------------------------------------------------------

def test_rosinality_checkpoint_reproduces_the_reference_image(tmp_path):
    sd = rosinality_state()
    latent_avg = torch.randn(16, generator=torch.Generator().manual_seed(5)) * 0.5
    args = argparse.Namespace(size=16, latent=16, n_mlp=3, channel_multiplier=2, lr_mlp=0.01)
    path = tmp_path / "ffhq-16.pt"
    torch.save({"g": sd, "d": {"convs.0.0.weight": torch.zeros(1)}, "g_ema": sd, "latent_avg": latent_avg,
                "args": args}, path)
    claim, model = import_file(path)
    assert claim.translator == "stylegan"
    assert claim.config["resolution"] == 16 and claim.config["channels"] == [12, 10, 8]
    assert claim.config["mapping_layers"] == 3 and claim.config["z_dim"] == 16
    assert "rosinality" in claim.description and "from the file" in claim.description
    z = z_of([0, 1, 2], 16)
    with torch.no_grad():
        ours = model(z, psi=0.7, noise_mode="const")
        none = model(z, psi=1.0, noise_mode="none")
    expected = reference_forward(sd, z, n_mlp=3, size=16, psi=0.7, latent_avg=latent_avg)
    assert ours.shape == (3, 3, 16, 16)
    assert (ours - expected).abs().max().item() < 1e-4
    expected_none = reference_forward(sd, z, n_mlp=3, size=16, noise="none")
    assert (none - expected_none).abs().max().item() < 1e-4


def test_rosinality_state_without_latent_avg_gets_a_computed_average(tmp_path):
    sd = rosinality_state(size=8, channels={4: 8, 8: 8})
    path = tmp_path / "plain.pt"
    torch.save({"g_ema": sd}, path)
    claim, model = import_file(path)
    assert "computed" in claim.description
    w = model.mapping(torch.randn(4000, 16, generator=torch.Generator().manual_seed(9)))
    assert torch.allclose(model.mapping.w_avg, w.mean(0), atol=0.1 * w.std().item())


def test_rosinality_file_with_a_wrong_shape_is_a_clear_error(tmp_path):
    sd = rosinality_state(size=8, channels={4: 8, 8: 8})
    sd["convs.1.activate.bias"] = torch.zeros(5)
    path = tmp_path / "bad.pt"
    torch.save({"g_ema": sd}, path)
    with pytest.raises(CheckpointError, match="wrong shape"):
        checkpoints.claim(CheckpointFile(path), ImportContext())


def test_other_torch_files_are_not_claimed(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"model.1.weight": torch.zeros(3)}, path)
    assert checkpoints.claim(CheckpointFile(path), ImportContext()) is None


# -- NVIDIA ----------------------------------------------------------------------------------

def to_nvidia(sd: dict, size: int) -> dict[str, torch.Tensor]:
    """The rosinality weights under NVIDIA's G_ema state-dict names (filters included)."""
    out: dict[str, torch.Tensor] = {}
    fir = torch.tensor([1.0, 3.0, 3.0, 1.0])
    for key, value in sd.items():
        if key.startswith("style."):
            i, name = key.split(".")[1:]
            out[f"mapping.fc{int(i) - 1}.{name}"] = value
    layers = {"conv1": "synthesis.b4.conv1", "to_rgb1": "synthesis.b4.torgb"}
    for k in range(int(math.log2(size)) - 2):
        res = 8 * 2 ** k
        layers.update({f"convs.{2 * k}": f"synthesis.b{res}.conv0", f"convs.{2 * k + 1}": f"synthesis.b{res}.conv1",
                       f"to_rgbs.{k}": f"synthesis.b{res}.torgb"})
    noise_layers = [v for k, v in layers.items() if not k.startswith("to_rgb")]
    for ros, nv in layers.items():
        out[f"{nv}.weight"] = sd[f"{ros}.conv.weight"][0]
        out[f"{nv}.affine.weight"] = sd[f"{ros}.conv.modulation.weight"]
        out[f"{nv}.affine.bias"] = sd[f"{ros}.conv.modulation.bias"]
        if ros.startswith("to_rgb"):
            out[f"{nv}.bias"] = sd[f"{ros}.bias"].reshape(3)
        else:
            out[f"{nv}.bias"] = sd[f"{ros}.activate.bias"]
            out[f"{nv}.noise_strength"] = sd[f"{ros}.noise.weight"].reshape(())
            out[f"{nv}.resample_filter"] = fir
    for j, nv in enumerate(sorted(noise_layers, key=lambda n: (int(n.split(".b")[1].split(".")[0]), n))):
        out[f"{nv}.noise_const"] = sd[f"noises.noise_{j}"][0, 0]
    out["synthesis.b4.const"] = sd["input.input"][0]
    for res in (2 ** i for i in range(2, int(math.log2(size)) + 1)):
        out[f"synthesis.b{res}.resample_filter"] = fir
    return out


BUFFERS = ("noise_const", "resample_filter", "w_avg")
CLASSES = {"": "Generator", "mapping": "MappingNetwork", "synthesis": "SynthesisNetwork"}


@pytest.fixture
def nvidia_modules(monkeypatch):
    """Stand-ins for NVIDIA's `torch_utils.persistence` and `dnnlib.util` so that pickles with
    their exact global names can be written; returns (reconstruct function, EasyDict class)."""
    persistence = types.ModuleType("torch_utils.persistence")
    dnnlib_util = types.ModuleType("dnnlib.util")

    def _reconstruct_persistent_obj(meta):  # never called by the importer
        raise AssertionError("the importer must not call the original reconstruct function")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj

    class EasyDict(dict):
        pass

    EasyDict.__module__ = "dnnlib.util"
    EasyDict.__qualname__ = "EasyDict"
    dnnlib_util.EasyDict = EasyDict
    for name, module in (("torch_utils", types.ModuleType("torch_utils")), ("torch_utils.persistence", persistence),
                         ("dnnlib", types.ModuleType("dnnlib")), ("dnnlib.util", dnnlib_util)):
        monkeypatch.setitem(sys.modules, name, module)
    return _reconstruct_persistent_obj, EasyDict


class PersistentStub:
    """Pickles exactly like a `torch_utils.persistence` object: reconstruct(meta) with the module
    source and the nn.Module __dict__ as state."""

    def __init__(self, reconstruct, class_name: str, state: dict, source: str) -> None:
        self.meta = {"type": "class", "version": 6, "module_src": source, "class_name": class_name, "state": state}
        self.reconstruct = reconstruct

    def __reduce__(self):
        return self.reconstruct, (self.meta,)


def module_state(parameters: dict, buffers: dict, modules: dict, init_kwargs: dict | None = None) -> dict:
    """The __dict__ of an nn.Module as NVIDIA's persistent objects pickle it."""
    return {"training": False, "_parameters": collections.OrderedDict(parameters),
            "_buffers": collections.OrderedDict(buffers), "_non_persistent_buffers_set": set(),
            "_backward_hooks": collections.OrderedDict(), "_forward_hooks": collections.OrderedDict(),
            "_forward_pre_hooks": collections.OrderedDict(), "_state_dict_hooks": collections.OrderedDict(),
            "_load_state_dict_pre_hooks": collections.OrderedDict(), "_modules": collections.OrderedDict(modules),
            "_init_args": (), "_init_kwargs": init_kwargs or {}}


def nvidia_tree(flat: dict, reconstruct, source: str, kwargs: dict, prefix: str = ""):
    """Persistent stubs for the module at `prefix` of a flat NVIDIA state dict."""
    params, buffers, children = {}, {}, {}
    for key, value in flat.items():
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        if "." in rest:
            children.setdefault(rest.split(".")[0], None)
        elif rest in BUFFERS:
            buffers[rest] = value.clone()
        else:
            params[rest] = torch.nn.Parameter(value.clone(), requires_grad=False)
    modules = {name: nvidia_tree(flat, reconstruct, source, {}, f"{prefix}{name}.") for name in children}
    name = prefix.rstrip(".").split(".")[-1] if prefix else ""
    return PersistentStub(reconstruct, CLASSES.get(name, "Layer"), module_state(params, buffers, modules, kwargs), source)


def write_nvidia_pickle(path: Path, sd: dict, size: int, nvidia_modules, *, conv_clamp=None, c_dim=0,
                        architecture="skip", source: str = "") -> None:
    reconstruct, EasyDict = nvidia_modules
    flat = to_nvidia(sd, size)
    flat["mapping.w_avg"] = torch.randn(16, generator=torch.Generator().manual_seed(3)) * 0.5
    kwargs = EasyDict(z_dim=16, c_dim=c_dim, w_dim=16, img_resolution=size, img_channels=3,
                      mapping_kwargs=EasyDict(num_layers=3),
                      synthesis_kwargs=EasyDict(channel_base=96, channel_max=12, num_fp16_res=2,
                                                conv_clamp=conv_clamp, architecture=architecture))
    G = nvidia_tree(flat, reconstruct, source, kwargs)
    data = {"G": G, "D": nvidia_tree({"b16.conv0.weight": torch.zeros(2)}, reconstruct, source, {}),
            "G_ema": G, "augment_pipe": None,
            "training_set_kwargs": EasyDict(resolution=np.int64(size), xflip=False)}
    with path.open("wb") as fh:
        pickle.dump(data, fh, protocol=3)


def test_nvidia_pickle_reproduces_the_reference_image_without_running_its_code(tmp_path, nvidia_modules):
    sd = rosinality_state(channels={4: 12, 8: 12, 16: 6})  # NVIDIA widths: min(96 // res, 12)
    marker = tmp_path / "code-ran"
    source = f"open({str(marker)!r}, 'w').write('pwned')\n"
    path = tmp_path / "network-snapshot.pkl"
    write_nvidia_pickle(path, sd, 16, nvidia_modules, conv_clamp=0.8, source=source)
    claim, model = import_file(path)
    assert claim.config["channels"] == [12, 12, 6] and claim.config["conv_clamp"] == 0.8
    assert "NVIDIA" in claim.description and "2 fp16 resolutions" in claim.description
    w_avg = torch.randn(16, generator=torch.Generator().manual_seed(3)) * 0.5  # as written to the pickle
    z = z_of([0, 7], 16)
    with torch.no_grad():
        ours = model(z, psi=0.5, noise_mode="const")
    expected = reference_forward(sd, z, n_mlp=3, size=16, psi=0.5, latent_avg=w_avg, clamp=0.8)
    assert (ours - expected).abs().max().item() < 1e-4
    assert not marker.exists()


@pytest.mark.parametrize(("options", "message"), [
    ({"c_dim": 10}, "conditional"),
    ({"architecture": "resnet"}, "architecture"),
])
def test_nvidia_pickles_we_cannot_run_are_clear_errors(tmp_path, nvidia_modules, options, message):
    path = tmp_path / "g.pkl"
    write_nvidia_pickle(path, rosinality_state(channels={4: 12, 8: 12, 16: 6}), 16, nvidia_modules, **options)
    with pytest.raises(CheckpointError, match=message):
        checkpoints.claim(CheckpointFile(path), ImportContext())


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_pickle_that_runs_code_is_refused_without_running(tmp_path, nvidia_modules):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Payload(marker)}))
    with pytest.raises(CheckpointError, match="allow-list"):
        checkpoints.claim(CheckpointFile(path), ImportContext())
    assert not marker.exists()
    # hidden deep inside an otherwise well-formed network pickle
    reconstruct, EasyDict = nvidia_modules
    state = module_state({}, {}, {}, EasyDict(z_dim=16, img_resolution=8, extra=Payload(marker)))
    path.write_bytes(pickle.dumps({"G_ema": PersistentStub(reconstruct, "Generator", state, "")}, protocol=3))
    with pytest.raises(CheckpointError, match="posix.system|os.system|nt.system"):
        checkpoints.claim(CheckpointFile(path), ImportContext())
    assert not marker.exists()


def test_a_pickle_without_networks_is_not_claimed(tmp_path):
    path = tmp_path / "numbers.pkl"
    path.write_bytes(pickle.dumps({"x": 1}))
    assert checkpoints.claim(CheckpointFile(path), ImportContext()) is None
    with pytest.raises(CheckpointError, match="numbers.pkl: not recognised by plugin 'stylegan'"):
        load_registry(third_party=False).claim_checkpoint(CheckpointFile(path), "stylegan")


def test_import_through_the_model_store(tmp_path, model_store):
    from translator_plugins import stylegan

    sd = rosinality_state(size=8, channels={4: 8, 8: 8})
    path = tmp_path / "small.pt"
    torch.save({"g_ema": sd, "latent_avg": torch.zeros(16)}, path)
    store = model_store(stylegan)
    entry = store.import_file(path, plugin="stylegan", name="small")
    assert entry.card.config["resolution"] == 8
    model = store.load(entry)
    assert model(torch.randn(1, 16)).shape == (1, 3, 8, 8)


def test_nvidia_pickle_imports_through_the_full_registry_without_naming_the_plugin(tmp_path, nvidia_modules):
    from translator.plugins import load_registry
    from translator.store import ModelStore

    path = tmp_path / "snapshot.pkl"
    write_nvidia_pickle(path, rosinality_state(channels={4: 12, 8: 12, 16: 6}), 16, nvidia_modules)
    entry = ModelStore(load_registry(), home=tmp_path / "home").import_file(path, name="snap")
    assert entry.translator == "stylegan" and entry.card.source["kind"] == "imported"
    pt = tmp_path / "rosinality.pt"
    torch.save({"g_ema": rosinality_state(size=8, channels={4: 8, 8: 8}), "args": argparse.Namespace(size=8)}, pt)
    entry = ModelStore(load_registry(), home=tmp_path / "home").import_file(pt, name="ros")
    assert entry.translator == "stylegan" and entry.card.config["resolution"] == 8
