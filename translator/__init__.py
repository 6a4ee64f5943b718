"""Translator: image-to-image translation with GANs, as a desktop app, a CLI and a plugin API."""
from __future__ import annotations

__version__ = "0.1.0"
