"""Reading weight files without ever executing code from them.

- `.safetensors`: our own format, read with safetensors.
- `.pth` / `.pt` / `.ckpt` / `.bin`: `torch.load(..., weights_only=True)` only.
- Anything needing plain pickle (for example NVIDIA's StyleGAN `.pkl`): a plugin calls
  `restricted_unpickle` with an explicit allow-list of globals.
Every failure is a `CheckpointError` with a message for the user.
"""
from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from translator.errors import CheckpointError

if TYPE_CHECKING:
    from torch import Tensor

TORCH_SUFFIXES = frozenset({".pth", ".pt", ".ckpt", ".bin"})
SAFETENSORS_SUFFIX = ".safetensors"


def read_safetensors(path: Path) -> dict[str, Tensor]:
    """All tensors of a safetensors file, on the CPU."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name}: not a readable safetensors file ({exc})") from exc


def read_torch(path: Path) -> Any:
    """`torch.load` restricted to tensors, plain containers and argparse Namespaces (weights_only=True), on the CPU."""
    import argparse

    import torch

    try:
        # argparse.Namespace: training options saved beside the weights (rosinality's StyleGAN2
        # checkpoints); a plain attribute holder, safe to rebuild
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path.name}: refused, the file holds Python objects other than weights "
            f"(loading it could run code): {str(exc).splitlines()[0]}"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - the weights-only reader raises many types on garbage
        raise CheckpointError(
            f"{path.name}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})"
        ) from exc


def flatten_tensors(obj: Any, prefix: str = "") -> dict[str, Tensor]:
    """Tensors of nested dicts as one flat dict with dotted keys; other values are dropped."""
    import torch

    out: dict[str, Tensor] = {}
    if isinstance(obj, torch.Tensor):
        out[prefix.rstrip(".")] = obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            out.update(flatten_tensors(value, f"{prefix}{key}."))
    return out


@dataclass
class CheckpointFile:
    """A weights file offered for import; `load()` reads it once, safely, and caches it."""

    path: Path
    _loaded: Any = field(default=None, init=False, repr=False)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    def load(self) -> Any:
        """The file's content: a dict of tensors (safetensors) or what torch.load returns.

        Raises `CheckpointError` for an unsupported suffix or an unreadable or unsafe file.
        """
        if self._loaded is None:
            if not self.path.is_file():
                raise CheckpointError(f"{self.path}: no such file")
            if self.suffix == SAFETENSORS_SUFFIX:
                self._loaded = read_safetensors(self.path)
            elif self.suffix in TORCH_SUFFIXES:
                self._loaded = read_torch(self.path)
            else:
                raise CheckpointError(
                    f"{self.path.name}: unsupported weights format {self.suffix or '(none)'}; "
                    f"expected .safetensors, {', '.join(sorted(TORCH_SUFFIXES))}"
                )
        return self._loaded

    def tensors(self) -> dict[str, Tensor]:
        """All tensors in the file, flattened to dotted keys."""
        return flatten_tensors(self.load())


@dataclass(frozen=True)
class CheckpointClaim:
    """A plugin's answer to 'this file is mine': the converted weights and their architecture.

    translator: name of the translator the weights are for.
    config: architecture config; `TranslatorSpec.build(config)` must accept `state_dict` strictly.
    state_dict: tensors in our key layout (float32 or float16, CPU).
    title, description: shown in model lists; description should say what was detected.
    """

    translator: str
    config: Mapping[str, Any]
    state_dict: Mapping[str, Tensor]
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class ImportContext:
    """What the claim hook may use besides the file.

    options: `--set key=value` pairs from `translator models import` (for example
        `direction=BtoA`, `pair_with=MODEL`); a plugin ignores keys it does not know.
    existing: loads a model already in the store by name -> (card as dict, state_dict); raises
        `ModelNotFoundError`.
    """

    options: Mapping[str, str] = field(default_factory=dict)
    existing: Callable[[str], tuple[Mapping[str, Any], Mapping[str, Tensor]]] | None = None


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(
        self,
        file: IO[bytes],
        allowed: Mapping[tuple[str, str], Any],
        persistent_load: Callable[[Any], Any] | None,
    ) -> None:
        super().__init__(file)
        self._allowed = allowed
        self._persistent_load = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise CheckpointError(
                f"refused: the pickle asks for {module}.{name}, which is not on the allow-list "
                "(loading it could run code)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent_load is None:
            raise CheckpointError("refused: the pickle uses persistent ids this format does not allow")
        return self._persistent_load(pid)


def restricted_unpickle(
    source: Path | bytes | IO[bytes],
    allowed: Mapping[tuple[str, str], Any],
    persistent_load: Callable[[Any], Any] | None = None,
) -> Any:
    """Unpickle with an allow-list: only globals in `allowed` ((module, name) -> object to use
    instead) can be referenced, so no code named by the file runs. Anything else raises
    `CheckpointError` before it is called.
    """
    try:
        if isinstance(source, Path):
            with source.open("rb") as fh:
                return _RestrictedUnpickler(fh, allowed, persistent_load).load()
        if isinstance(source, (bytes, bytearray)):
            return _RestrictedUnpickler(io.BytesIO(source), allowed, persistent_load).load()
        return _RestrictedUnpickler(source, allowed, persistent_load).load()
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, OSError) as exc:
        raise CheckpointError(f"not a readable pickle ({type(exc).__name__}: {exc})") from exc
