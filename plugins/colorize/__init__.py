"""Colorize: black-and-white to colour with optional colour hints (Zhang et al. 2016, 2017).

The `colorize` entry point names this package, so it exposes the hook implementations; the
translator lives in `plugin.py`, the Lab handling in `lab.py`, hints in `hints.py`, the networks
in `networks.py`, the import of the authors' published weights in `checkpoints.py` and training
in `training.py`.
"""
from __future__ import annotations

from translator_plugins.colorize.catalog import translator_model_catalog
from translator_plugins.colorize.plugin import translator_claim_checkpoint, translator_translators

TRANSLATOR_API = 2
"""The plugin API version this plugin is written for (see docs/plugins.md, "API versions")."""

__all__ = ["translator_claim_checkpoint", "translator_model_catalog", "translator_translators"]
