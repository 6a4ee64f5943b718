"""The one error hierarchy of Translator.

Library code raises these (and logs); only the CLI chooses exit codes and only the GUI shows
dialogs. Every message is meant to be shown to a user as it is.
"""
from __future__ import annotations


class TranslatorError(Exception):
    """Base class of every error Translator raises on purpose."""


class ImageError(TranslatorError):
    """An image could not be read or written: missing, unreadable, truncated, too large."""


class CheckpointError(TranslatorError):
    """A weights file is unsupported, unsafe, corrupt or does not fit the network."""


class PluginError(TranslatorError):
    """A plugin failed to import, raised in a hook, or is unknown."""


class ParameterError(TranslatorError):
    """A translator parameter or training option has a bad value."""


class ModelNotFoundError(TranslatorError):
    """No model of that name exists in the model store."""


class DataError(TranslatorError):
    """Training data is missing, empty or unusable."""


class DeviceError(TranslatorError):
    """The requested device does not exist or ran out of memory even with the smallest tile."""


class Cancelled(TranslatorError):
    """The user cancelled a running job."""


class DownloadError(TranslatorError):
    """A download failed: an HTTP error, a web page instead of weights, a wrong size or hash, a
    disk that cannot be written, or a network that kept failing (`resumable`: the partial file
    is worth keeping for a later attempt)."""

    def __init__(self, message: str, *, resumable: bool = False) -> None:
        super().__init__(message)
        self.resumable = resumable
