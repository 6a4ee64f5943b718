"""Importing Zhang et al.'s published colorization weights from their PyTorch port.

richzhang/colorization publishes two plain state dicts:

- `colorization_release_v2-9b330a0b.pth`, the ECCV 2016 classifier: `model1` ... `model8`
  (`model8.6` is the 1x1 convolution onto the 313 ab bins) and a bias-free `model_out.weight`
  of shape (2, 313, 1, 1) holding the bin centres.
- `siggraph17-df00044c.pth`, the SIGGRAPH 2017 user-guided network: `model1.0.weight` of shape
  (64, 4, 3, 3) (L, ab hints, mask), `model8up`, `model3short8`, `model9up`, `model2short9`,
  `model10up`, `model1short10`, `model10`, `model_class` and `model_out`.

`networks.ECCV16` and `networks.SIGGRAPH17` use the same module names and indices, so the keys
map one to one. Wrappers' prefixes (`module.` from `DataParallel`) are stripped by
`api.weights.canonical_state`; files from PyTorch before 0.4.1 lack the BatchNorm `num_batches_tracked` counters (added as zeros; they
take no part in inference).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from translator import api
from translator.api.weights import canonical_state, check_fits

if TYPE_CHECKING:
    from torch import Tensor

TRANSLATOR = "colorize"
COUNTER = "num_batches_tracked"
TITLES = {"eccv16": "Zhang et al. ECCV 2016 (automatic)", "siggraph17": "Zhang et al. SIGGRAPH 2017 (with hints)"}


def detect_architecture(state: Mapping[str, Tensor]) -> str | None:
    """"eccv16", "siggraph17" or None (not one of the port's networks), from the keys alone."""
    if "model1short10.0.weight" in state and "model8up.0.weight" in state:
        return "siggraph17"
    if "model_out.weight" in state and "model8.6.weight" in state:
        return "eccv16"
    return None


def convert(state: Mapping[str, Tensor], architecture: str) -> tuple[dict[str, Tensor], list[str]]:
    """The port's state dict -> ours (float32), checked key by key and shape by shape.

    Returns the state dict and notes on what was adjusted. Raises `CheckpointError` naming
    missing, unexpected or misshapen keys.
    """
    import torch

    from translator_plugins.colorize import networks

    with torch.device("meta"):
        expected = networks.build({"architecture": architecture}).state_dict()
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        out[key] = value.float() if value.is_floating_point() else value
    added = 0
    for key, value in expected.items():
        if key.endswith(COUNTER) and key not in out:
            out[key] = torch.zeros((), dtype=torch.long)
            added += 1
    out = check_fits(expected, out, what=f"the {architecture.upper()} network")
    notes = [f"{added} BatchNorm counters added"] if added else []
    return out, notes


def claim(checkpoint: api.CheckpointFile, context: api.ImportContext) -> api.CheckpointClaim | None:
    """The `translator_claim_checkpoint` hook: an ECCV16 or SIGGRAPH17 file -> a colorize model.

    Returns None for files that are not one of them; raises `CheckpointError` for one that
    looks like it but does not fit.
    """
    found = canonical_state(checkpoint)
    architecture = detect_architecture(found.state)
    if architecture is None:
        return None
    name = checkpoint.path.name
    try:
        converted, notes = convert(found.state, architecture)
    except api.CheckpointError as exc:
        raise api.CheckpointError(f"{name} looks like Zhang et al.'s {architecture.upper()} colorizer but {exc}") \
            from None
    notes = found.notes + notes
    hints = "follows colour hints" if architecture == "siggraph17" else "automatic, ignores colour hints"
    description = (f"Imported {name}: Zhang et al.'s {architecture.upper()} network from their PyTorch port "
                   f"({hints})" + (f"; {'; '.join(notes)}" if notes else "") + ".")
    return api.CheckpointClaim(translator=TRANSLATOR, config={"architecture": architecture},
                               state_dict=converted, title=TITLES[architecture], description=description)
