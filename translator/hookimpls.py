"""The `hookimpl` marker and a ready-made hook implementation plugins share.

No torch here: plugins load at start-up, and what they hand the registry must not import it.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from translator.checkpoints import CheckpointClaim, CheckpointFile, ImportContext

hookimpl = pluggy.HookimplMarker("translator")
"""Decorator marking a plugin's hook implementations."""

ClaimFn = Callable[["CheckpointFile", "ImportContext"], "CheckpointClaim | None"]


def claim_from(module: str) -> ClaimFn:
    """A `translator_claim_checkpoint` implementation that imports `module` (a dotted name) when a
    file is first offered and returns `module.claim(checkpoint, context)`. The plugin then loads
    without its converter, which usually imports torch; a missing module or `claim` is a plain
    error at that call, which marks the plugin broken.

    Bind it to the hook's name in the plugin module:
    `translator_claim_checkpoint = api.claim_from("my_plugin.checkpoints")`.
    """
    if not module or not all(part.isidentifier() for part in module.split(".")):
        raise ValueError(f"claim_from needs a dotted module name, got {module!r}")

    @hookimpl
    def translator_claim_checkpoint(checkpoint: CheckpointFile, context: ImportContext) -> CheckpointClaim | None:
        return importlib.import_module(module).claim(checkpoint, context)

    translator_claim_checkpoint.__doc__ = f"`{module}.claim(checkpoint, context)`, imported on the first call."
    return translator_claim_checkpoint
