"""pix2pix: paired image-to-image translation, sketch to photo (Isola et al. 2017).

The `pix2pix` entry point names this package, so it exposes the hook implementations; the
translator lives in `plugin.py`, the networks in `networks.py`, the import of the reference
implementation's generator files in `checkpoints.py`, training in `training.py` and the line
drawings it learns from photos alone (`--sketches auto`) in `sketches.py`.
"""
from __future__ import annotations

from translator_plugins.pix2pix.catalog import translator_model_catalog
from translator_plugins.pix2pix.plugin import translator_claim_checkpoint, translator_translators

TRANSLATOR_API = 2
"""The plugin API version this plugin is written for (see docs/plugins.md, "API versions")."""

__all__ = ["translator_claim_checkpoint", "translator_model_catalog", "translator_translators"]
