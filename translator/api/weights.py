"""Importing foreign weights in a plugin's `translator_claim_checkpoint` (imported on use):
find the state dict in a file, rename its keys, and check it against the network before
anything is loaded. The core's own loading uses the same check. See `translator.weights`::

    from translator.api.weights import canonical_state, check_fits, remap
    found = canonical_state(checkpoint)                  # unwrap containers, strip `module.`
    state = check_fits(network, remap(found.state, RULES), rules=RULES, what="my generator")
"""
from __future__ import annotations

from translator.weights import (
    CONTAINERS,
    PREFIXES,
    STALE_NORM_BUFFERS,
    CanonicalState,
    canonical_state,
    check_fits,
    inverse_rules,
    remap,
    rename,
)

__all__ = ["CONTAINERS", "PREFIXES", "STALE_NORM_BUFFERS", "CanonicalState", "canonical_state", "check_fits",
           "inverse_rules", "remap", "rename"]
