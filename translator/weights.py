"""Foreign weights: find the state dict in a file, rename its keys, and check it against the
network before anything is loaded. Plugins use these through `translator.api.weights`; the model
store checks every load with `check_fits`.

A claim hook usually reads::

    found = canonical_state(checkpoint)                 # unwrap containers, strip `module.`
    state = remap(found.state, {"model.1": "stem.conv", ...})
    with torch.device("meta"):
        network = MyGenerator(**config)                  # shapes only, no memory
    state = check_fits(network, state, rules=..., what="a MyGAN generator")

Keys are dotted names as in `nn.Module.state_dict()`. Nothing here imports torch at module import
time; every failure is a `CheckpointError` with a message for the user.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from translator.checkpoints import CheckpointFile, flatten_tensors
from translator.errors import CheckpointError

if TYPE_CHECKING:
    from torch import Tensor, nn

CONTAINERS = ("params_ema", "params-ema", "g_ema", "state_dict", "model_state_dict", "params", "model", "net")
"""Keys under which training code keeps the weights (tried in this order, exponential-moving-
average weights first): BasicSR's `params_ema`, rosinality's `g_ema`, Lightning's `state_dict`,
...; `canonical_state` steps into the first one that holds a dict, and again inside it."""
PREFIXES = ("module.", "_orig_mod.", "netG.")
"""Prefixes wrappers add to every key: `DataParallel` / `DistributedDataParallel` (`module.`),
`torch.compile` (`_orig_mod.`), GAN trainers that save the whole model with its generator as
`netG` (ESRGAN-style code; spandrel strips the same two)."""
STALE_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
"""Buffers older PyTorch versions saved for `InstanceNorm` (which ignores them now): pass as
`check_fits(..., stale=STALE_NORM_BUFFERS)` to drop them where the network has no such key."""
MAX_UNWRAP = 4
"""Most containers `canonical_state` steps into (`{"state_dict": {"model": {...}}}` is two)."""
SHOWN = 5
"""How many names `check_fits` lists per kind of problem before counting the rest."""


@dataclass(frozen=True)
class CanonicalState:
    """The tensors of a weights file in plain state-dict form, and what was done to find them.

    state: dotted key -> tensor. unwrapped: the container keys stepped into, outermost first.
    stripped: the prefixes removed from every key, in the order removed.
    """

    state: dict[str, Tensor]
    unwrapped: tuple[str, ...] = ()
    stripped: tuple[str, ...] = ()

    @property
    def notes(self) -> list[str]:
        """What was adjusted, for a claim's description: ["'module.' prefix stripped", ...]."""
        notes = [f"weights taken from {'.'.join(self.unwrapped)!r}"] if self.unwrapped else []
        return notes + [f"{prefix!r} prefix stripped" for prefix in self.stripped]


def canonical_state(obj: Any, *, containers: Sequence[str] = CONTAINERS,
                    prefixes: Sequence[str] = PREFIXES) -> CanonicalState:
    """The state dict of a weights file in canonical form.

    obj: a `CheckpointFile` (read with its `load()`; a format that cannot read, such as
    NVIDIA's `.pkl`, gives an empty state), or what its `load()` returned.
    Steps into the first of `containers` that holds a dict (repeatedly, for nested ones), keeps
    the tensors (nested dicts flattened to dotted keys, other values dropped) and then removes
    each of `prefixes` that every key starts with (repeatedly, so `module.module.` goes too).
    A prefix only some keys carry stays: stripping it could merge two keys.
    The state is empty when `obj` is not a dict (so a claim hook sees "not mine"); raises
    `CheckpointError` only for what `flatten_tensors` refuses (nesting too deep, too many entries).
    """
    if isinstance(obj, CheckpointFile):
        obj = obj.load() if obj.loadable else None
    unwrapped: list[str] = []
    while isinstance(obj, Mapping):
        inner = next((key for key in containers if isinstance(obj.get(key), Mapping)), None)
        if inner is None or len(unwrapped) >= MAX_UNWRAP:
            break
        unwrapped.append(inner)
        obj = obj[inner]
    state = flatten_tensors(obj) if isinstance(obj, Mapping) else {}
    stripped: list[str] = []
    changed = bool(state)
    while changed:
        changed = False
        for prefix in prefixes:
            if all(key.startswith(prefix) and len(key) > len(prefix) for key in state):
                state = {key[len(prefix):]: value for key, value in state.items()}
                stripped.append(prefix)
                changed = True
    return CanonicalState(state, tuple(unwrapped), tuple(stripped))


def rename(key: str, rules: Mapping[str, str | None]) -> str | None:
    """`key` renamed by the longest rule that matches it, None when that rule drops it.

    A rule `old: new` matches the key `old` itself and every key below it (`old.` + rest, which
    becomes `new.` + rest); `old: None` drops them. A key no rule matches is returned unchanged.
    """
    head = key
    while True:
        if head in rules:
            new = rules[head]
            return None if new is None else new + key[len(head):]
        head, dot, _ = head.rpartition(".")
        if not dot:
            return key


def remap(state: Mapping[str, Tensor], rules: Mapping[str, str | None]) -> dict[str, Tensor]:
    """`state` with its keys renamed by `rules` (see `rename`): module paths of the file's network
    -> module paths of ours, for example `{"model.1": "stem.conv", "model.2": "stem.norm"}`.

    Keys no rule matches keep their names, so `check_fits` reports them as unexpected.
    Raises `CheckpointError` when two keys end up with the same name.
    """
    out: dict[str, Tensor] = {}
    source: dict[str, str] = {}
    for key, value in state.items():
        new = rename(key, rules)
        if new is None:
            continue
        if new in out:
            raise CheckpointError(f"{source[new]} and {key} would both become {new}")
        out[new] = value
        source[new] = key
    return out


def inverse_rules(rules: Mapping[str, str | None]) -> dict[str, str]:
    """The rules that undo `rules` (dropping rules left out): names of ours -> the file's."""
    return {new: old for old, new in rules.items() if new is not None}


def check_fits(expected: nn.Module | Mapping[str, Any], state: Mapping[str, Tensor], *,
               rules: Mapping[str, str | None] | None = None, what: str = "the network",
               stale: Sequence[str] = (), subject: str = "") -> dict[str, Tensor]:
    """Check that `state` loads strictly into `expected`: same keys, same shapes.

    expected: the network (build it under `torch.device("meta")`: shapes without memory), or
        its key -> tensor or shape mapping.
    rules: the `remap` rules that produced `state`; names in the report are then the file's.
    what, subject: how the message names the network and the weights ("{subject} does not fit
        {what}: ..."; a file name as `subject`, or none when the caller adds its own words).
    stale: last key components (e.g. `STALE_NORM_BUFFERS`) that are dropped, not reported, when
        the network has no such key.
    Returns `state` without the dropped keys. Raises one `CheckpointError` listing the missing,
    unexpected and wrong-shape keys, each kind counted, the first `SHOWN` by name:
    "does not fit X: missing a, b and 3 more; unexpected c; wrong shape d (1, 8) (expected (3, 8))".
    """
    shapes = {key: tuple(getattr(value, "shape", value)) for key, value in _expected_state(expected).items()}
    named = (lambda key: rename(key, inverse_rules(rules)) or key) if rules else (lambda key: key)
    kept = {key: value for key, value in state.items()
            if key in shapes or key.rpartition(".")[2] not in stale}
    missing = [named(key) for key in shapes if key not in kept]
    unexpected = [named(key) for key in kept if key not in shapes]
    wrong = [f"{named(key)} {tuple(value.shape)} (expected {shapes[key]})"
             for key, value in kept.items() if key in shapes and tuple(value.shape) != shapes[key]]
    problems = [f"{kind} {_listed(names)}" for kind, names in
                (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)) if names]
    if problems:
        raise CheckpointError(f"{subject} does not fit {what}: ".lstrip() + "; ".join(problems))
    return kept


def _expected_state(expected: nn.Module | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(expected, Mapping):
        return expected
    state_dict = getattr(expected, "state_dict", None)
    if not callable(state_dict):
        raise TypeError(f"expected a network or a mapping of shapes, not {type(expected).__name__}")
    return state_dict()


def _listed(names: Sequence[str]) -> str:
    """'a, b, c' or 'a, b, c, d, e and 7 more'."""
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
