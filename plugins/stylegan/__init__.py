"""StyleGAN2: generation and style mixing (Karras et al. 2020).

The `stylegan` entry point names this package, so it exposes the hook implementations; the
translator lives in `plugin.py` (parameters) and `generate.py` (what they do), the networks in
`networks.py`, seeds/mixing/latents in `latents.py`, projection in `project.py`, the import of
rosinality and NVIDIA files in `checkpoints.py`, training in `training.py`.
"""
from __future__ import annotations

from translator_plugins.stylegan.catalog import translator_model_catalog
from translator_plugins.stylegan.plugin import translator_claim_checkpoint, translator_translators

TRANSLATOR_API = 2
"""The plugin API version this plugin is written for (see docs/plugins.md, "API versions")."""

__all__ = ["translator_claim_checkpoint", "translator_model_catalog", "translator_translators"]
