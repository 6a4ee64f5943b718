"""The public plugin API: the only Translator module a plugin imports.

Built-in plugins use exactly this, like third-party ones. Example::

    from translator import api

    @api.hookimpl
    def translator_translators():
        return [api.TranslatorSpec(name="invert", title="Invert", description="...",
                                   task=api.TaskKind.IMAGE_TO_IMAGE, build=..., translate=...)]
"""
from __future__ import annotations

from translator.catalog import CatalogEntry, CatalogFile
from translator.checkpoints import (
    CheckpointClaim,
    CheckpointFile,
    ImportContext,
    array_globals,
    flatten_tensors,
    read_torch_bytes,
    restricted_unpickle,
)
from translator.errors import (
    Cancelled,
    CheckpointError,
    DataError,
    ParameterError,
    TranslatorError,
)
from translator.hookimpls import claim_from, hookimpl
from translator.hookspecs import API_VERSION
from translator.params import (
    Bool,
    Choice,
    Color,
    ColorPoint,
    ColorPoints,
    FilePath,
    Float,
    Int,
    Ints,
    Param,
    Seed,
    Subset,
    Text,
    resolve_params,
)
from translator.samples import Sample
from translator.spec import RunContext, SizeRequirements, TaskKind, TranslatorSpec
from translator.training.context import TrainContext
from translator.training.spec import DataKind, Trainer, TrainingSpec

__all__ = [
    "API_VERSION", "hookimpl", "claim_from",
    "TranslatorSpec", "TaskKind", "RunContext",
    "Param", "Choice", "Int", "Float", "Bool", "Seed", "Text", "FilePath", "Color", "ColorPoint",
    "ColorPoints", "Subset", "Ints", "resolve_params", "SizeRequirements",
    "CheckpointFile", "CheckpointClaim", "ImportContext", "restricted_unpickle", "flatten_tensors",
    "CatalogEntry", "CatalogFile", "Sample",
    "array_globals", "read_torch_bytes",
    "TrainingSpec", "DataKind", "Trainer", "TrainContext",
    "TranslatorError", "CheckpointError", "ParameterError", "DataError", "Cancelled",
]
