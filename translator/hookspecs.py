"""Every hook a Translator plugin can implement. `docs/plugins.md` documents each one.

A plugin is a module (or object) with functions decorated by `translator.api.hookimpl` and named
like the stubs below. Unknown `translator_*` names are reported as errors (misspelt hooks).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from translator.catalog import CatalogEntry
    from translator.checkpoints import CheckpointClaim, CheckpointFile, ImportContext
    from translator.samples import Sample
    from translator.spec import TranslatorSpec

hookspec = pluggy.HookspecMarker("translator")

API_VERSION = 2
"""The plugin API's version: raised when a change can break existing plugins (2: the
`plugin` argument of `translator_claim_checkpoint` is gone). A plugin declares the version it
is written for as `TRANSLATOR_API = N` in its module; the registry refuses a plugin that needs
a newer version than this one. Additions that break nothing keep the number."""


@hookspec
def translator_translators() -> list[TranslatorSpec]:
    """Return the translators this plugin contributes.

    Called once when the plugins are loaded. Result rule: each plugin's list is collected; a
    plugin that raises is marked broken and contributes nothing. Keep it cheap: import torch and
    build networks inside the spec's callables, not here.
    """


@hookspec(firstresult=True)
def translator_claim_checkpoint(checkpoint: CheckpointFile, context: ImportContext) -> CheckpointClaim | None:
    """Claim a foreign weights file (for example a reference implementation's `.pth`).

    Called by `translator models import` and the app's import. Inspect `checkpoint.load()` (keys
    and shapes; `translator.api.weights` helps) and return a `CheckpointClaim` with the converted
    weights, or None when the file is not yours. Raise `CheckpointError` when the file is yours
    but unusable: the message is shown and no other plugin is asked. When the user names a
    plugin, only that plugin is asked.
    Result rule: firstresult (plugins asked one by one, the last registered first, until one
    returns a claim); a plugin that raises anything but a `TranslatorError`, or returns something
    other than a `CheckpointClaim` for one of the working translators, is marked broken and the
    next plugin is asked.
    """


@hookspec
def translator_model_catalog() -> list[CatalogEntry]:
    """Return published models this plugin can install (`translator models available|get`).

    Called when the catalog is shown or a model is fetched, not at start-up. Each
    `CatalogEntry` names this plugin, says what the model does and expects, its licence, paper
    and source, and the files to download (with their sha256 where it is published). A file is
    installed through this plugin's `translator_claim_checkpoint`, so only list files that hook
    accepts. Result rule: each plugin's list is collected; a plugin whose hook raises or
    returns something other than `CatalogEntry` objects is marked broken; an entry with missing
    or bad fields, or for another plugin, is left out and reported.
    """


@hookspec
def translator_samples() -> list[Sample]:
    """Return entries for the app's Samples menu: an image (a file, or a factory making one)
    and the translator and parameters it is meant for.

    Called when the app has loaded the plugins. Result rule: each plugin's list is collected
    and listed after the built-in samples; a plugin whose hook raises or returns something other
    than `Sample` objects is marked broken; an entry for an unknown translator, with a missing
    image file or with bad parameter values is left out and logged. A factory that raises or
    returns a bad image when chosen marks its plugin broken.
    """
