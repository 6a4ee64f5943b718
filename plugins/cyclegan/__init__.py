"""CycleGAN: unpaired translation both ways (Zhu et al. 2017).

The `cyclegan` entry point names this package, so it exposes the hook implementations; the
translator lives in `plugin.py`, the networks in `networks.py`, the import of the reference
implementation's generator files in `checkpoints.py`.
"""
from __future__ import annotations

from translator_plugins.cyclegan.catalog import translator_model_catalog
from translator_plugins.cyclegan.plugin import translator_claim_checkpoint, translator_translators

TRANSLATOR_API = 2
"""The plugin API version this plugin is written for (see docs/plugins.md, "API versions")."""

__all__ = ["translator_claim_checkpoint", "translator_model_catalog", "translator_translators"]
