"""Importing the reference implementation's CycleGAN generators.

The published generators of junyanz/pytorch-CycleGAN-and-pix2pix (`horse2zebra.pth`,
`latest_net_G_A.pth`, ...) are plain state dicts of its `ResnetGenerator`: one `nn.Sequential`
called `model`. With n residual blocks and s = 1 when the blocks have dropout (it shifts the
second conv of each block by one index), the key mapping to our `ResnetGenerator` is:

    model.1 / model.2                 -> stem.conv / stem.norm            (c7s1-ngf)
    model.4 / model.5                 -> down.0.conv / down.0.norm        (d 2ngf)
    model.7 / model.8                 -> down.1.conv / down.1.norm        (d 4ngf)
    model.{10+i}.conv_block.1 / .2    -> blocks.{i}.conv1 / blocks.{i}.norm1
    model.{10+i}.conv_block.{5+s}/{6+s} -> blocks.{i}.conv2 / blocks.{i}.norm2
    model.{10+n} / model.{11+n}       -> up.0.conv / up.0.norm            (u 2ngf)
    model.{13+n} / model.{14+n}       -> up.1.conv / up.1.norm            (u ngf)
    model.{17+n}                      -> head.conv                        (c7s1-3)

Older files carry InstanceNorm `running_mean`/`running_var`/`num_batches_tracked` buffers (the
reference once tracked them; it ignores them now): they are dropped. Wrappers' prefixes
(`module.` from `DataParallel`) and containers are removed by `api.weights.canonical_state`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from translator import api
from translator.api.weights import STALE_NORM_BUFFERS, canonical_state, check_fits, inverse_rules, remap
from translator_plugins.cyclegan.networks import (
    DIRECTIONS,
    GENERATOR_NAMES,
    ResnetGenerator,
)
from translator_plugins.cyclegan.plugin import CONFIG

if TYPE_CHECKING:
    from torch import Tensor

TRANSLATOR = "cyclegan"
_BLOCK_KEY = re.compile(r"model\.(\d+)\.conv_block\.(\d+)\.(\w+)$")
_FIRST_BLOCK = 10
"""Index of the first residual block in the reference Sequential (after pad, 3 x (conv, norm, relu))."""


def reference_key_map(n_blocks: int, use_dropout: bool) -> dict[str, str]:
    """Reference module path -> our module path, for a generator with `n_blocks` blocks."""
    s, n = int(use_dropout), n_blocks
    mapping = {"model.1": "stem.conv", "model.2": "stem.norm", "model.4": "down.0.conv",
               "model.5": "down.0.norm", "model.7": "down.1.conv", "model.8": "down.1.norm"}
    for i in range(n):
        block = f"model.{_FIRST_BLOCK + i}.conv_block"
        mapping.update({f"{block}.1": f"blocks.{i}.conv1", f"{block}.2": f"blocks.{i}.norm1",
                        f"{block}.{5 + s}": f"blocks.{i}.conv2", f"{block}.{6 + s}": f"blocks.{i}.norm2"})
    mapping.update({f"model.{10 + n}": "up.0.conv", f"model.{11 + n}": "up.0.norm",
                    f"model.{13 + n}": "up.1.conv", f"model.{14 + n}": "up.1.norm",
                    f"model.{17 + n}": "head.conv"})
    return mapping


def to_reference(state: Mapping[str, Tensor], n_blocks: int, use_dropout: bool) -> dict[str, Tensor]:
    """Our generator's state dict in the reference key layout (the inverse of `from_reference`)."""
    return remap(state, inverse_rules(reference_key_map(n_blocks, use_dropout)))


def looks_like_resnet_generator(state: Mapping[str, Tensor]) -> bool:
    """True when the keys have the reference ResnetGenerator's residual blocks (`model.N.conv_block.M`)."""
    return any(_BLOCK_KEY.fullmatch(key) for key in state)


def detect_config(state: Mapping[str, Tensor]) -> dict[str, Any]:
    """ngf, n_blocks, dropout and norm of a reference ResnetGenerator state dict (prefix stripped).

    Raises `CheckpointError` when it does not have the reference structure.
    """
    blocks: dict[int, set[int]] = {}
    for key, value in state.items():
        match = _BLOCK_KEY.fullmatch(key)
        if match and match.group(3) == "weight" and value.ndim == 4:
            blocks.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    indices = sorted(blocks)
    n_blocks = len(indices)
    if indices != list(range(_FIRST_BLOCK, _FIRST_BLOCK + n_blocks)):
        raise api.CheckpointError(f"residual blocks at model indices {indices}, expected consecutive "
                                  f"ones from model.{_FIRST_BLOCK}")
    convs = {tuple(sorted(c)) for c in blocks.values()}
    if convs == {(1, 5)}:
        use_dropout = False
    elif convs == {(1, 6)}:
        use_dropout = True
    else:
        raise api.CheckpointError(f"residual blocks have convolutions at {sorted(convs)}, expected "
                                  "conv_block.1 and conv_block.5 (or .6 with dropout)")
    stem = state.get("model.1.weight")
    if stem is None or stem.ndim != 4 or tuple(stem.shape[1:]) != (3, 7, 7):
        shape = None if stem is None else tuple(stem.shape)
        raise api.CheckpointError(f"first convolution model.1.weight has shape {shape}, expected "
                                  "(ngf, 3, 7, 7) for RGB input")
    norm = "batch" if "model.2.weight" in state else "instance"
    return api.resolve_params(CONFIG, {"ngf": int(stem.shape[0]), "n_blocks": n_blocks, "norm": norm,
                                       "use_dropout": use_dropout, "directions": ("AtoB",)})


def from_reference(state: Mapping[str, Tensor], config: Mapping[str, Any]) -> tuple[dict[str, Tensor], int]:
    """Reference keys -> our `ResnetGenerator` keys, checked against its shapes.

    Returns the converted state dict and the number of stale instance-norm buffers dropped.
    Raises `CheckpointError` naming unexpected, missing or misshapen keys (as the file names them).
    """
    import torch

    mapping = reference_key_map(config["n_blocks"], config["use_dropout"])
    converted = remap(state, mapping)
    with torch.device("meta"):
        expected = ResnetGenerator(config["ngf"], config["n_blocks"], config["norm"], config["use_dropout"])
    fitted = check_fits(expected, converted, rules=mapping, stale=STALE_NORM_BUFFERS,
                        what=f"a CycleGAN ResNet generator (ngf {config['ngf']}, {config['n_blocks']} blocks)")
    return {key: value.float() for key, value in fitted.items()}, len(converted) - len(fitted)


def claim(checkpoint: api.CheckpointFile, context: api.ImportContext) -> api.CheckpointClaim | None:
    """The `translator_claim_checkpoint` hook: a reference ResNet generator file -> a CycleGAN model.

    Options: `direction=AtoB|BtoA` (default AtoB, or BtoA for file names holding `G_B`) and
    `pair_with=MODEL` (add the other direction's generator from a stored CycleGAN model).
    Returns None for files that are not ResNet generators; raises `CheckpointError` for ones
    that look like it but do not fit, or for bad options.
    """
    found = canonical_state(checkpoint)
    state = found.state
    if not looks_like_resnet_generator(state):
        return None
    name = checkpoint.path.name
    try:
        config = detect_config(state)
        converted, dropped = from_reference(state, config)
    except api.CheckpointError as exc:
        raise api.CheckpointError(f"{name} looks like a CycleGAN ResNet generator but {exc}") from None
    direction = _direction(context.options, name)
    prefix = GENERATOR_NAMES[direction]
    weights = {f"{prefix}.{key}": value for key, value in converted.items()}
    detected = (f"reference ResNet generator, ngf {config['ngf']}, {config['n_blocks']} blocks, {config['norm']} norm, "
                f"{'with' if config['use_dropout'] else 'no'} dropout, used as {direction}")
    notes = found.notes + ([f"{dropped} stale instance-norm buffers dropped"] if dropped else [])
    config = {**config, "directions": [direction]}
    title = f"CycleGAN {checkpoint.path.stem}"
    pair = context.options.get("pair_with", "").strip()
    if pair:
        config, other = _pair(context, pair, config, direction)
        weights.update(other)
        notes.append(f"{_other(direction)} generator from model {pair!r}")
        title += f" + {pair}"
    description = f"Imported {name}: {detected}" + (f" ({'; '.join(notes)})" if notes else "") + "."
    return api.CheckpointClaim(translator=TRANSLATOR, config=config, state_dict=weights,
                               title=title, description=description)


def _direction(options: Mapping[str, str], filename: str) -> str:
    direction = options.get("direction", "").strip()
    if not direction:
        return "BtoA" if "G_B" in filename else "AtoB"
    if direction not in DIRECTIONS:
        raise api.CheckpointError(f"direction={direction!r} is not one of {', '.join(DIRECTIONS)}")
    return direction


def _other(direction: str) -> str:
    return "BtoA" if direction == "AtoB" else "AtoB"


def _pair(context: api.ImportContext, name: str, config: Mapping[str, Any],
          direction: str) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """The other direction's generator weights from stored model `name`, and the two-way config."""
    if context.existing is None:
        raise api.CheckpointError("pair_with needs a model store to read the other model from")
    try:
        card, state = context.existing(name)
        if card.get("translator") != TRANSLATOR:
            raise api.CheckpointError(f"it is a {card.get('translator')} model, not a CycleGAN one")
        other = api.resolve_params(CONFIG, card.get("config", {}))
    except api.TranslatorError as exc:
        raise api.CheckpointError(f"cannot pair with model {name!r}: {exc}") from exc
    want = _other(direction)
    if want not in other["directions"]:
        raise api.CheckpointError(f"cannot pair with model {name!r}: it has no {want} generator "
                                  f"(only {', '.join(other['directions'])})")
    architecture = ("ngf", "n_blocks", "norm", "use_dropout")
    if any(other[a] != config[a] for a in architecture):
        raise api.CheckpointError(
            f"cannot pair with model {name!r}: its generators differ "
            f"({', '.join(f'{a} {other[a]} vs {config[a]}' for a in architecture)})")
    prefix = f"{GENERATOR_NAMES[want]}."
    weights = {key: value.float() for key, value in state.items() if key.startswith(prefix)}
    paired = {**config, "ndf": other["ndf"], "n_layers_d": other["n_layers_d"], "directions": list(DIRECTIONS)}
    return paired, weights
