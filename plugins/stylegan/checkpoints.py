"""Importing published StyleGAN2 generators, without running code from the files.

rosinality/stylegan2-pytorch `.pt`: a dict with `g_ema` (its Generator's state dict), optionally
`latent_avg` (the average w, in files converted from NVIDIA's TensorFlow weights) and `args` (an
argparse Namespace; `torch.load(weights_only=True)` reads it through the core's allow-list). Key
mapping to our generator (k = 0, 1, ...; block b = 8 * 2**k):

    style.{i+1}.weight / bias            -> mapping.fc{i}.weight / bias
    input.input (1, C, 4, 4)             -> synthesis.b4.const (C, 4, 4)
    conv1.* / to_rgb1.*                  -> synthesis.b4.conv1.* / synthesis.b4.torgb.*
    convs.{2k}.* / convs.{2k+1}.*        -> synthesis.b{b}.conv0.* / synthesis.b{b}.conv1.*
    to_rgbs.{k}.*                        -> synthesis.b{b}.torgb.*
    *.conv.weight (1, O, I, k, k)        -> *.conv.weight (O, I, k, k)
    *.conv.modulation.*                  -> *.conv.affine.*
    *.noise.weight (1,) / *.activate.bias -> *.noise_strength () / *.bias
    to_rgb*.bias (1, 3, 1, 1)            -> *.bias (3,)
    noises.noise_{j} (1, 1, r, r)        -> the j-th layer's noise_const (r, r)
    blur / upsample kernels              -> dropped (fixed FIR filters)

NVIDIA stylegan2-ada-pytorch / stylegan3 (StyleGAN2 configs) `.pkl`: a pickle of
`{"G": ..., "D": ..., "G_ema": ...}` whose networks are `torch_utils.persistence` objects: each
pickles as `_reconstruct_persistent_obj(meta)` with `meta["module_src"]` the source code of its
module and `meta["state"]` the module's `__dict__`. We read it with an allow-list unpickler that
swaps that function for one that keeps `class_name` and `state` and never looks at the source;
tensors come from `torch.storage._load_from_bytes`, read here with `torch.load(weights_only=True)`.
Constructor arguments (`_init_kwargs`: z_dim, c_dim, w_dim, img_resolution, img_channels,
mapping_kwargs, synthesis_kwargs) give the architecture; module names already match ours except
`affine` (under `conv.`), `torgb.weight` (-> `torgb.conv.weight`) and the dropped filters.
"""
from __future__ import annotations

import collections
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from translator_plugins.stylegan.networks import StyleGANConfig
from translator_plugins.stylegan.networks import architecture as structure

from translator import api
from translator.api.weights import canonical_state, check_fits

if TYPE_CHECKING:
    from torch import Tensor

TRANSLATOR = "stylegan"
PICKLE_SUFFIXES = (".pkl", ".pickle")


# -- rosinality ------------------------------------------------------------------------------

def is_rosinality(state: Mapping[str, Any]) -> bool:
    return "input.input" in state and "style.1.weight" in state and "to_rgb1.conv.weight" in state


def rosinality_config(state: Mapping[str, Tensor], lr_mul: float = 0.01) -> StyleGANConfig:
    """Architecture of a rosinality `g_ema` state dict; raises `CheckpointError`."""
    n_mlp = len([k for k in state if re.fullmatch(r"style\.\d+\.weight", k)])
    n_rgb = len([k for k in state if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k)])
    try:
        channels = [int(state["conv1.conv.weight"].shape[1])]
        channels += [int(state[f"convs.{2 * k}.conv.weight"].shape[1]) for k in range(n_rgb)]
        style = state["style.1.weight"]
        return StyleGANConfig(resolution=2 ** (n_rgb + 2), z_dim=int(style.shape[1]),
                              w_dim=int(state[f"style.{n_mlp}.weight"].shape[0]), mapping_layers=n_mlp,
                              mapping_lr_mul=lr_mul, channels=tuple(channels))
    except (KeyError, IndexError, api.ParameterError) as exc:
        raise api.CheckpointError(f"incomplete rosinality generator ({exc})") from exc


def from_rosinality(state: Mapping[str, Tensor], config: StyleGANConfig) -> dict[str, Tensor]:
    """rosinality keys -> ours (see the module docstring); fixed filter kernels dropped, keys
    that fit nowhere kept as they are (so `check_fits` reports them)."""
    blocks = {"conv1": "synthesis.b4.conv1", "to_rgb1": "synthesis.b4.torgb"}
    for k in range(len(config.resolutions) - 1):
        res = 8 * 2 ** k
        blocks.update({f"convs.{2 * k}": f"synthesis.b{res}.conv0", f"convs.{2 * k + 1}": f"synthesis.b{res}.conv1",
                       f"to_rgbs.{k}": f"synthesis.b{res}.torgb"})
    layers = [f"synthesis.b{r}.conv{c}" for r in config.resolutions for c in ((1,) if r == 4 else (0, 1))]
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.endswith(".kernel"):
            continue
        if key == "input.input":
            out["synthesis.b4.const"] = value[0]
            continue
        match = re.fullmatch(r"style\.(\d+)\.(weight|bias)", key)
        if match:
            out[f"mapping.fc{int(match.group(1)) - 1}.{match.group(2)}"] = value
            continue
        match = re.fullmatch(r"noises\.noise_(\d+)", key)
        if match and int(match.group(1)) < len(layers):
            out[f"{layers[int(match.group(1))]}.noise_const"] = value[0, 0]
            continue
        module, _, rest = _split_block(key)
        ours = blocks.get(module)
        if ours is None:
            out[key] = value
        elif rest == "conv.weight":
            out[f"{ours}.conv.weight"] = value[0]
        elif rest.startswith("conv.modulation."):
            out[f"{ours}.conv.affine.{rest.rsplit('.', 1)[1]}"] = value
        elif rest == "noise.weight":
            out[f"{ours}.noise_strength"] = value.reshape(())
        elif rest in ("activate.bias", "bias"):
            out[f"{ours}.bias"] = value.reshape(-1)
        else:
            out[key] = value
    return out


def _split_block(key: str) -> tuple[str, str, str]:
    match = re.match(r"(convs\.\d+|to_rgbs\.\d+|conv1|to_rgb1)\.(.*)$", key)
    return (match.group(1), ".", match.group(2)) if match else ("", "", key)


# -- NVIDIA ----------------------------------------------------------------------------------

class Persistent:
    """What an NVIDIA persistent object unpickles to here: its class name and saved `__dict__`."""

    def __init__(self, meta: Mapping[str, Any]) -> None:
        if not isinstance(meta, Mapping):
            raise api.CheckpointError("malformed persistent object in the pickle")
        self.class_name = str(meta.get("class_name", "?"))
        self.state = dict(meta.get("state") or {})

    def tensors(self, prefix: str = "") -> dict[str, Tensor]:
        """Parameters and buffers of this module and its submodules, by dotted name.

        Raises `CheckpointError` for modules nested deeper than any real network (64 levels)."""
        import torch

        out: dict[str, Tensor] = {}
        stack: list[tuple[Persistent, str, int]] = [(self, prefix, 0)]
        seen: set[int] = set()
        while stack:
            module, path, depth = stack.pop()
            if id(module) in seen:
                continue
            if depth > 64:
                raise api.CheckpointError("malformed network in the pickle (modules nested too deeply)")
            seen.add(id(module))
            for group in ("_parameters", "_buffers"):
                entries = module.state.get(group) or {}
                for name, value in (entries.items() if isinstance(entries, Mapping) else ()):
                    if isinstance(value, torch.Tensor):
                        out[f"{path}{name}"] = value.detach()
            children = module.state.get("_modules") or {}
            for name, child in (children.items() if isinstance(children, Mapping) else ()):
                if isinstance(child, Persistent):
                    stack.append((child, f"{path}{name}.", depth + 1))
        return out

    def init_kwargs(self) -> dict[str, Any]:
        return dict(self.state.get("_init_kwargs") or {})


class _EasyDict(dict):
    """Stands in for `dnnlib.util.EasyDict` (a dict with attribute access) in pickles."""


def _load_storage(data: bytes) -> Any:
    """A tensor storage pickled by `torch.storage` (its own small `torch.save` file), read with
    the core's bounded weights-only reader; never larger than the bytes holding it."""
    import torch

    storage = api.read_torch_bytes(data, "a tensor storage of the pickle")
    if not isinstance(storage, torch.TypedStorage) or storage._untyped_storage.nbytes() > len(data):
        raise api.CheckpointError("malformed tensor storage in the pickle")
    return storage


def _rebuild_parameter(data: Any, requires_grad: Any = False, hooks: Any = None, state: Any = None) -> Any:
    import torch

    if not isinstance(data, torch.Tensor):
        raise api.CheckpointError(f"malformed parameter in the pickle (a {type(data).__name__}, "
                                  "not a tensor)")
    return data


def nvidia_allow_list() -> dict[tuple[str, str], Any]:
    """The globals an NVIDIA StyleGAN2 pickle needs, each mapped to a harmless stand-in."""
    allowed: dict[tuple[str, str], Any] = {
        ("torch_utils.persistence", "_reconstruct_persistent_obj"): Persistent,
        ("dnnlib.util", "EasyDict"): _EasyDict,
        ("torch.storage", "_load_from_bytes"): _load_storage,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): set,
        **api.array_globals(),  # numpy dtypes, arrays, scalars and torch tensors, checked
    }
    return allowed


def read_nvidia_pickle(source: Any) -> dict[str, Any]:
    """The top-level dict of an NVIDIA network pickle, with `Persistent` stand-ins for networks.

    Raises `CheckpointError` for any global outside `nvidia_allow_list` (before calling it).
    """
    data = api.restricted_unpickle(source, nvidia_allow_list())
    if not isinstance(data, Mapping):
        raise api.CheckpointError(f"the pickle holds a {type(data).__name__}, not a dict of networks")
    return dict(data)


def nvidia_config(G: Persistent) -> StyleGANConfig:
    """Our config from a persistent Generator's constructor arguments; raises `CheckpointError`
    for what we cannot run (conditional, not RGB, not the skip architecture, StyleGAN3)."""
    kwargs = G.init_kwargs()
    mapping = dict(kwargs.get("mapping_kwargs") or {})
    synthesis = dict(kwargs.get("synthesis_kwargs") or {})
    if "img_resolution" not in kwargs or "z_dim" not in kwargs:
        raise api.CheckpointError(f"{G.class_name} has no StyleGAN2 constructor arguments (img_resolution, z_dim)")
    if int(kwargs.get("c_dim", 0)):
        raise api.CheckpointError(f"a conditional generator (c_dim {kwargs['c_dim']}); only unconditional "
                                  "ones are supported")
    if int(kwargs.get("img_channels", 3)) != 3:
        raise api.CheckpointError(f"a generator of {kwargs['img_channels']} channels; only RGB is supported")
    architecture = synthesis.get("architecture", "skip")
    if architecture != "skip":
        raise api.CheckpointError(f"synthesis architecture {architecture!r}; only 'skip' (StyleGAN2's) is supported")
    if list(synthesis.get("resample_filter", [1, 3, 3, 1])) != [1, 3, 3, 1]:
        raise api.CheckpointError(f"resample filter {synthesis['resample_filter']}; only [1, 3, 3, 1] is supported")
    w_dim = int(kwargs.get("w_dim", 512))
    if mapping.get("layer_features") not in (None, w_dim):
        raise api.CheckpointError("mapping layers narrower than w are not supported")
    synthesis_module = (G.state.get("_modules") or {}).get("synthesis")
    if isinstance(synthesis_module, Persistent) and "input" in (synthesis_module.state.get("_modules") or {}):
        raise api.CheckpointError("a StyleGAN3 (alias-free) generator; only StyleGAN2 networks are supported")
    clamp = synthesis.get("conv_clamp")
    try:
        return structure({
            "resolution": int(kwargs["img_resolution"]), "z_dim": int(kwargs["z_dim"]), "w_dim": w_dim,
            "mapping_layers": int(mapping.get("num_layers", 8)),
            "mapping_lr_mul": float(mapping.get("lr_multiplier", 0.01)),
            "channel_base": int(synthesis.get("channel_base", 32768)),
            "channel_max": int(synthesis.get("channel_max", 512)),
            "conv_clamp": None if clamp is None else float(clamp)})
    except api.ParameterError as exc:
        raise api.CheckpointError(str(exc)) from exc


def from_nvidia(tensors: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """NVIDIA G state keys -> ours; filters dropped."""
    out: dict[str, Tensor] = {}
    for key, value in tensors.items():
        if key.endswith("resample_filter"):
            continue
        key = re.sub(r"\.(conv[01]|torgb)\.affine\.", r".\1.conv.affine.", key)
        key = re.sub(r"\.(conv[01]|torgb)\.weight$", r".\1.conv.weight", key)
        out[key] = value
    return out


# -- both ------------------------------------------------------------------------------------

def check_fit(state: Mapping[str, Tensor], config: StyleGANConfig, label: str) -> dict[str, Tensor]:
    """Float32 copies of `state` after checking its keys and shapes against our generator."""
    import torch
    from translator_plugins.stylegan.networks import Generator

    with torch.device("meta"):
        expected = Generator(config)
    state = check_fits(expected, state, what=f"a {config.resolution} px StyleGAN2 generator", subject=label)
    return {k: v.detach().float().contiguous() for k, v in state.items()}


def _with_w_avg(state: dict[str, Tensor], config: StyleGANConfig, w_avg: Tensor | None) -> tuple[dict[str, Tensor], str]:
    """Fill `mapping.w_avg`: the file's, else the mean w of 10 000 seeded z's."""
    from translator_plugins.stylegan.networks import Generator

    if w_avg is not None:
        state["mapping.w_avg"] = w_avg.detach().float().reshape(-1)
        return state, "average w from the file"
    generator = Generator(config)
    state["mapping.w_avg"] = generator.mapping.w_avg
    generator.load_state_dict(state)
    state["mapping.w_avg"] = generator.update_w_avg().clone()
    return state, "average w computed from 10000 samples"


def claim(checkpoint: api.CheckpointFile, context: api.ImportContext) -> api.CheckpointClaim | None:
    """The `translator_claim_checkpoint` hook: rosinality `.pt` or NVIDIA `.pkl` -> a stylegan model.

    Returns None for files that are not StyleGAN2 generators; raises `CheckpointError` for ones
    that are but cannot be used, and for pickles that ask for anything off the allow-list.
    """
    name = checkpoint.path.name
    if checkpoint.suffix in PICKLE_SUFFIXES:
        data = read_nvidia_pickle(checkpoint.path)
        G = data.get("G_ema", data.get("G"))
        if not isinstance(G, Persistent):
            return None
        config = nvidia_config(G)
        state = check_fit(from_nvidia(G.tensors()), config, name)
        kwargs = G.init_kwargs()
        fp16 = (kwargs.get("synthesis_kwargs") or {}).get("num_fp16_res", 0)
        detected = (f"NVIDIA StyleGAN2 {'G_ema' if 'G_ema' in data else 'G'}, {config.resolution} px, "
                    f"z {config.z_dim}, w {config.w_dim}, {config.mapping_layers} mapping layers, "
                    f"channels {list(config.channels)}, conv_clamp {config.conv_clamp}, "
                    f"{fp16} fp16 resolutions (run in float32 here)")
    elif checkpoint.loadable:
        import torch

        loaded = checkpoint.load()
        g_ema = canonical_state(loaded).state
        if not is_rosinality(g_ema):
            return None
        config = rosinality_config(g_ema, _rosinality_lr_mul(loaded.get("args"), name))
        w_avg = loaded.get("latent_avg")
        w_avg = w_avg if isinstance(w_avg, torch.Tensor) else None
        if w_avg is not None and (w_avg.numel() != config.w_dim or not w_avg.is_floating_point()):
            raise api.CheckpointError(f"{name}: latent_avg of shape {tuple(w_avg.shape)} does not fit w of "
                                      f"{config.w_dim}")
        state = check_fit({**from_rosinality(g_ema, config), "mapping.w_avg": _zeros(config)}, config, name)
        state, note = _with_w_avg(state, config, w_avg)
        detected = (f"rosinality stylegan2-pytorch g_ema, {config.resolution} px, z {config.z_dim}, "
                    f"{config.mapping_layers} mapping layers, channels {list(config.channels)}, {note}")
    else:
        return None
    return api.CheckpointClaim(translator=TRANSLATOR, config=config.to_dict(), state_dict=state,
                               title=f"StyleGAN2 {checkpoint.path.stem}", description=f"Imported {name}: {detected}.")


def _rosinality_lr_mul(args: Any, name: str) -> float:
    """The mapping network's learning-rate multiplier from rosinality's saved `args` (`lr_mlp`),
    0.01 when absent; raises `CheckpointError` for a value that is not a positive finite number."""
    value = getattr(args, "lr_mlp", 0.01) if args is not None else 0.01
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100 \
            or value != value:
        raise api.CheckpointError(f"{name}: args.lr_mlp {value!r:.40} is not a learning-rate multiplier "
                                  "(a number in (0, 100])")
    return float(value)


def _zeros(config: StyleGANConfig) -> Tensor:
    import torch

    return torch.zeros(config.w_dim)
