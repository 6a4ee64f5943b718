"""Importing the reference implementation's pix2pix generators.

The published generators of junyanz/pytorch-CycleGAN-and-pix2pix (`edges2shoes.pth`,
`facades_label2photo.pth`, `latest_net_G.pth`, ...) are plain state dicts of its `UnetGenerator`:
`model` is the outermost `UnetSkipConnectionBlock`, each block keeps its layers in an
`nn.Sequential` also called `model`, and the next block sits inside it (index 1 in the outermost
block, index 3 in the others). With B(0) = "model", B(1) = "model.model.1" and
B(i) = B(i-1) + ".model.3", level i of an n-level U-Net maps to ours as:

    B(0).model.0 / B(0).model.3              -> down.0.conv / up.0.conv          (outermost)
    B(i).model.1 / .model.2 / .model.5 / .model.6
                                            -> down.i.conv / down.i.norm / up.i.conv / up.i.norm
    B(n-1).model.1 / .model.3 / .model.4     -> down.{n-1}.conv / up.{n-1}.conv / up.{n-1}.norm

Dropout layers have no weights, so the file does not tell whether it was trained with them (the
published ones were; it only matters for fine-tuning: `--set use_dropout=false` to change it).
Instance-norm files carry biases on every convolution (and, from older versions, stale
`running_mean`/`running_var` buffers, dropped). Wrappers' prefixes (`module.` from `DataParallel`)
and containers are removed by `api.weights.canonical_state`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from translator import api
from translator.api.weights import STALE_NORM_BUFFERS, canonical_state, check_fits, inverse_rules, remap
from translator_plugins.pix2pix.networks import MAX_LEVELS, MIN_LEVELS, UnetGenerator
from translator_plugins.pix2pix.plugin import CONFIG

if TYPE_CHECKING:
    from torch import Tensor

TRANSLATOR = "pix2pix"
OUTER_KEY = "model.model.0.weight"
"""The first convolution of a reference U-Net: what tells its files apart."""


def block_path(level: int) -> str:
    """Module path of the reference `UnetSkipConnectionBlock` of a level (0 outermost)."""
    if level == 0:
        return "model"
    return "model.model.1" + ".model.3" * (level - 1)


def reference_key_map(num_downs: int) -> dict[str, str]:
    """Reference module path -> our `UnetGenerator` module path, for `num_downs` levels."""
    innermost = num_downs - 1
    mapping = {f"{block_path(0)}.model.0": "down.0.conv", f"{block_path(0)}.model.3": "up.0.conv"}
    for i in range(1, innermost):
        block = block_path(i)
        mapping.update({f"{block}.model.1": f"down.{i}.conv", f"{block}.model.2": f"down.{i}.norm",
                        f"{block}.model.5": f"up.{i}.conv", f"{block}.model.6": f"up.{i}.norm"})
    block = block_path(innermost)
    mapping.update({f"{block}.model.1": f"down.{innermost}.conv", f"{block}.model.3": f"up.{innermost}.conv",
                    f"{block}.model.4": f"up.{innermost}.norm"})
    return mapping


def to_reference(state: Mapping[str, Tensor], num_downs: int) -> dict[str, Tensor]:
    """Our generator's state dict in the reference key layout (the inverse of `from_reference`)."""
    return remap(state, inverse_rules(reference_key_map(num_downs)))


def looks_like_unet_generator(state: Mapping[str, Tensor]) -> bool:
    """True when the keys have the reference U-Net's outermost block (`model.model.0.weight`)."""
    return OUTER_KEY in state


def detect_config(state: Mapping[str, Tensor], use_dropout: bool = True) -> dict[str, Any]:
    """ngf, levels and norm of a reference UnetGenerator state dict (prefix stripped).

    Levels are counted by following the nested blocks; norm is "instance" when the first
    convolution has a bias (the reference adds biases only with instance norm), "batch" when the
    second level has a norm with weights, else "none". The training size is taken to be
    2**levels (the reference trains `unet_256` at 256 px, `unet_128` at 128 px).
    Raises `CheckpointError` otherwise.
    """
    first = state[OUTER_KEY]
    if first.ndim != 4 or tuple(first.shape[1:]) != (3, 4, 4):
        raise api.CheckpointError(f"first convolution {OUTER_KEY} has shape {tuple(first.shape)}, expected "
                                  "(ngf, 3, 4, 4) for RGB input")
    levels = 1
    while f"{block_path(levels)}.model.1.weight" in state:
        levels += 1
    if not MIN_LEVELS <= levels <= MAX_LEVELS:
        raise api.CheckpointError(f"found {levels} U-Net levels, expected {MIN_LEVELS} to {MAX_LEVELS}")
    if "model.model.0.bias" in state:
        norm = "instance"
    elif f"{block_path(1)}.model.2.weight" in state:
        norm = "batch"
    else:
        norm = "none"
    return api.resolve_params(CONFIG, {"ngf": int(first.shape[0]), "num_downs": levels, "norm": norm,
                                       "use_dropout": use_dropout, "size": 2**levels})


def from_reference(state: Mapping[str, Tensor], config: Mapping[str, Any]) -> tuple[dict[str, Tensor], int]:
    """Reference keys -> our `UnetGenerator` keys, checked against its shapes.

    Returns the converted state dict and the number of stale instance-norm buffers dropped.
    Raises `CheckpointError` naming unexpected, missing or misshapen keys (as the file names them).
    """
    import torch

    mapping = reference_key_map(config["num_downs"])
    remapped = remap(state, mapping)
    with torch.device("meta"):
        expected = UnetGenerator(config["ngf"], config["num_downs"], config["norm"], config["use_dropout"])
    fitted = check_fits(expected, remapped, rules=mapping, stale=STALE_NORM_BUFFERS,
                        what=f"a U-Net (ngf {config['ngf']}, {config['num_downs']} levels, {config['norm']} norm)")
    converted = {k: (v.float() if v.is_floating_point() else v) for k, v in fitted.items()}
    return converted, len(remapped) - len(fitted)


def claim(checkpoint: api.CheckpointFile, context: api.ImportContext) -> api.CheckpointClaim | None:
    """The `translator_claim_checkpoint` hook: a reference U-Net generator file -> a pix2pix model.

    Option `use_dropout=true|false` (default true, as the published models were trained).
    Returns None for files that are not U-Net generators; raises `CheckpointError` for ones that
    look like it but do not fit, or for a bad option.
    """
    found = canonical_state(checkpoint)
    state = found.state
    if not looks_like_unet_generator(state):
        return None
    name = checkpoint.path.name
    use_dropout = _bool_option(context.options, "use_dropout", True)
    try:
        config = detect_config(state, use_dropout)
        converted, dropped = from_reference(state, config)
    except api.CheckpointError as exc:
        raise api.CheckpointError(f"{name} looks like a pix2pix U-Net generator but {exc}") from None
    notes = found.notes + ([f"{dropped} stale instance-norm buffers dropped"] if dropped else [])
    detected = (f"reference U-Net generator, ngf {config['ngf']}, {config['num_downs']} levels "
                f"(sides padded to multiples of {2 ** config['num_downs']}), {config['norm']} norm")
    description = f"Imported {name}: {detected}" + (f" ({'; '.join(notes)})" if notes else "") + "."
    return api.CheckpointClaim(translator=TRANSLATOR, config=config,
                               state_dict={f"G.{k}": v for k, v in converted.items()},
                               title=f"pix2pix {checkpoint.path.stem}", description=description)


def _bool_option(options: Mapping[str, str], key: str, default: bool) -> bool:
    text = options.get(key, "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise api.CheckpointError(f"{key}={options[key]!r} must be true or false")
