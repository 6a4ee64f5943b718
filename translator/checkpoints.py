"""Reading weight files without ever executing code from them.

- `.safetensors`: our own format, read with safetensors.
- `.pth` / `.pt` / `.ckpt` / `.bin`: `torch.load(..., weights_only=True)` only.
- Anything needing plain pickle (for example NVIDIA's StyleGAN `.pkl`): a plugin calls
  `restricted_unpickle` with an explicit allow-list of globals; `array_globals()` gives checked
  stand-ins for the numpy and torch globals such pickles name.
Every failure is a `CheckpointError` with a message for the user.

Work is bounded before anything is allocated: a file (or the records of a `.pth` zip archive, by
their declared sizes, which bound what PyTorch's reader decompresses) may hold at most
`MAX_WEIGHTS_BYTES`; containers may nest at most `MAX_NESTING` levels; tensors may repeat their
data (stride-0 or overlapping views, which multiply memory once copied) by `MAX_REPEATED_BYTES`
at most; a claimed model has at most `MAX_PARAMETERS` parameters; a restricted pickle runs at
most `MAX_PICKLE_OPERATIONS` opcodes and re-uses its memoised objects for at most as many bytes as
the file holds (`PICKLE_REUSE_FLOOR` at least).
"""
from __future__ import annotations

import collections
import io
import math
import pickle
import re
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

import numpy as np

from translator.errors import CheckpointError

if TYPE_CHECKING:
    from torch import Tensor

TORCH_SUFFIXES = frozenset({".pth", ".pt", ".ckpt", ".bin"})
SAFETENSORS_SUFFIX = ".safetensors"

MAX_WEIGHTS_BYTES = 2 * 1024**3
"""Largest weights file, and largest total of a `.pth` archive's records once decompressed:
2 GiB. The biggest file a built-in plugin reads (a full rosinality StyleGAN2 1024 px training
checkpoint: G, D, G_ema and Adam states, about 1.2 GB) fits."""
MAX_PARAMETERS = 100_000_000
"""Most parameters (tensor elements) a claimed model may have: 400 MB as float32. The largest
built-in architectures imported in practice have 11 (CycleGAN ResNet-9), 30 (StyleGAN2
config-f 1024 px), 34 (colorize SIGGRAPH17) and 54 million (pix2pix U-Net 256); a plugin may
declare a smaller limit in its claim (`CheckpointClaim.max_parameters`)."""
MAX_REPEATED_BYTES = 256 * 1024**2
"""How many bytes a file's tensors may take beyond what it stores (stride-0 or overlapping
views, which a copy materialises): 256 MiB, so a few kilobytes never become a gigabyte."""
MAX_ZIP_DIRECTORY_BYTES = 16 * 1024**2
"""Largest central directory (list of records) of a `.pth` zip archive: about 200,000 records."""
MAX_PICKLE_RECORD_BYTES = 64 * 1024**2
"""Largest `data.pkl` record of a `.pth` archive: it names the tensors (a few hundred bytes
each) while their data lies in other records, so this bounds the Python objects it can build."""
MAX_NESTING = 64
"""Deepest nesting of containers (dicts, lists, ...) accepted in a weights file."""
MAX_ENTRIES = 100_000
"""Most entries (tensors and containers, counted along every path) a weights file may list."""
MAX_PICKLED_ARRAY_BYTES = 64 * 1024**2
"""Largest numpy array a restricted pickle may rebuild (NVIDIA pickles hold small constants)."""
MAX_PICKLE_OPERATIONS = 2_000_000
"""Most opcodes a restricted pickle may run. Each builds at most one small object or container
slot (about 100 bytes at most), so the objects the opcodes build stay within a few hundred MB
however large the file; a StyleGAN2 network pickle runs a few tens of thousands (its tensor data
lies in a few large byte strings, one opcode each)."""
PICKLE_REUSE_FLOOR = 64 * 1024**2
"""Bytes a restricted pickle may re-use through memo references (GET, DUP) even when it is
smaller: every fetch of a memoised string, container, array or tensor counts its size (8 bytes a
container slot), and the total may not exceed the file's size or this floor, whichever is larger.
So no callable on the allow-list can copy one stored object into many."""


def read_safetensors(path: Path) -> dict[str, Tensor]:
    """All tensors of a safetensors file, on the CPU (memory bounded by the file's size)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    _check_file_size(path)
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name}: not a readable safetensors file ({exc})") from exc


def read_torch(path: Path) -> Any:
    """`torch.load` restricted to tensors, plain containers and argparse Namespaces
    (weights_only=True), on the CPU.

    The size of the file, and of a zip archive's records once decompressed, is checked first
    (`check_torch_archive`). Raises `CheckpointError`.
    """
    _check_file_size(path)
    try:
        with path.open("rb") as handle:
            check_torch_archive(handle, path.name)
    except OSError as exc:
        raise CheckpointError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    return _torch_load(path, path.name)


def read_torch_bytes(data: bytes, label: str = "embedded tensor data") -> Any:
    """`read_torch` for bytes held in memory (a storage embedded in a pickle); raises `CheckpointError`."""
    if not isinstance(data, (bytes, bytearray)):
        raise CheckpointError(f"{label}: expected bytes, got {type(data).__name__}")
    if len(data) > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"{label}: {len(data):,} bytes is more than the limit of {MAX_WEIGHTS_BYTES:,}")
    buffer = io.BytesIO(bytes(data))
    check_torch_archive(buffer, label)
    buffer.seek(0)
    return _torch_load(buffer, label)


def check_torch_archive(handle: IO[bytes], label: str, limit: int = MAX_WEIGHTS_BYTES) -> None:
    """Refuse a PyTorch zip archive whose records would decompress to more than `limit` bytes.

    PyTorch's reader allocates each record at its declared (central directory) size, so the
    declared sizes bound its memory; they are read here without decompressing anything.
    Files that are not zip archives (legacy `torch.save` format) pass unchanged.
    """
    start = handle.read(4)
    handle.seek(0)
    if start != b"PK\x03\x04":
        return
    directory = _zip_directory_size(handle)
    handle.seek(0)
    if directory > MAX_ZIP_DIRECTORY_BYTES:
        raise CheckpointError(f"{label}: refused, its list of records takes {directory:,} bytes (more than "
                              f"{MAX_ZIP_DIRECTORY_BYTES:,}; PyTorch writes a few records per tensor)")
    try:
        with zipfile.ZipFile(handle) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise CheckpointError(f"{label}: a damaged PyTorch archive ({exc})") from None
    finally:
        handle.seek(0)
    for record in records:
        if record.filename.endswith("data.pkl") and record.file_size > MAX_PICKLE_RECORD_BYTES:
            raise CheckpointError(f"{label}: refused, its pickle ({record.filename}) takes {record.file_size:,} "
                                  f"bytes, more than the {MAX_PICKLE_RECORD_BYTES:,} a list of tensors needs")
    total = sum(max(0, record.file_size) for record in records)
    if total > limit:
        biggest = max(records, key=lambda record: record.file_size)
        raise CheckpointError(f"{label}: refused, its records would take {total:,} bytes once decompressed "
                              f"({biggest.filename}: {biggest.file_size:,}), "
                              f"more than the limit of {limit:,}")


def _zip_directory_size(handle: IO[bytes]) -> int:
    """The size of a zip archive's central directory, from its end records (0 when not found):
    what `zipfile` reads and turns into one Python object per record."""
    handle.seek(0, io.SEEK_END)
    end = handle.tell()
    handle.seek(max(0, end - (65535 + 22 + 20 + 56)))
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return 0
    size = struct.unpack("<I", tail[at + 12:at + 16])[0]
    locator = tail.rfind(b"PK\x06\x07", 0, at)
    if locator >= 0 and locator + 20 <= len(tail):
        offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
        handle.seek(offset)
        record = handle.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            size = max(size, struct.unpack("<Q", record[40:48])[0])
    return size


def _check_file_size(path: Path, limit: int = MAX_WEIGHTS_BYTES) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CheckpointError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    if size > limit:
        raise CheckpointError(f"{path.name}: {size:,} bytes is more than the limit of {limit:,} "
                              "for weights files")


def _torch_load(source: Path | IO[bytes], label: str) -> Any:
    import argparse

    import torch

    try:
        # argparse.Namespace: training options saved beside the weights (rosinality's StyleGAN2
        # checkpoints); a plain attribute holder, safe to rebuild
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if refused:
            raise CheckpointError(f"{label}: refused, the file asks for {refused.group(1)}, which is not "
                                  "part of a weights file (loading it could run code)") from None
        raise CheckpointError(f"{label}: not a readable PyTorch checkpoint (damaged, or another format: "
                              f"{_torch_reason(exc)})") from None
    except RecursionError:
        raise CheckpointError(f"{label}: not a readable PyTorch checkpoint (nested too deeply)") from None
    except Exception as exc:  # noqa: BLE001 - the weights-only reader raises many types on garbage
        raise CheckpointError(f"{label}: not a readable PyTorch checkpoint ({_torch_reason(exc)})") from None


_TORCH_BOILERPLATE = ("weights only load failed", "weights_only", "check the documentation",
                      "please file an issue", "in pytorch 2.6")


def _torch_reason(exc: BaseException) -> str:
    """The informative line of a torch.load error, without PyTorch's advice to disable safety."""
    for line in str(exc).splitlines():
        line = line.strip()
        if line.startswith("WeightsUnpickler error:"):
            line = line.split(":", 1)[1].strip()
        if line and not any(noise in line.lower() for noise in _TORCH_BOILERPLATE):
            return line.split(": expected %ld", 1)[0][:200]  # a C format left unfilled in one torch message
    return type(exc).__name__


def flatten_tensors(obj: Any, prefix: str = "") -> dict[str, Tensor]:
    """Tensors of nested dicts as one flat dict with dotted keys; other values are dropped.

    Raises `CheckpointError` when dicts nest deeper than `MAX_NESTING` or the walk meets more
    than `MAX_ENTRIES` entries.
    """
    import torch

    out: dict[str, Tensor] = {}
    stack: list[tuple[Any, str, int]] = [(obj, prefix, 0)]
    visited = 0
    while stack:
        item, path, depth = stack.pop()
        visited += 1
        if visited > MAX_ENTRIES:  # shared sub-dicts make a tiny file list exponentially many keys
            raise CheckpointError(f"the weights hold more than {MAX_ENTRIES:,} entries")
        if isinstance(item, torch.Tensor):
            out[path.rstrip(".")] = item
        elif isinstance(item, Mapping):
            if depth >= MAX_NESTING:
                raise CheckpointError(f"the weights are nested more than {MAX_NESTING} levels deep")
            stack.extend((value, f"{path}{key}.", depth + 1) for key, value in reversed(list(item.items())))
    return out


def check_tensors(obj: Any, label: str) -> None:
    """Walk what a weights file held and refuse deep nesting, tensors that repeat their data
    (stride-0 or overlapping views: more elements than their storage holds) by more than
    `MAX_REPEATED_BYTES` in all, and a total above `MAX_WEIGHTS_BYTES` once materialised.
    Raises `CheckpointError`."""
    total = repeated = 0
    for name, tensor in _walk_tensors(obj, label):
        nbytes = tensor.numel() * tensor.element_size()
        stored = tensor.untyped_storage().nbytes()
        total += nbytes
        repeated += max(0, nbytes - stored)
        if repeated > MAX_REPEATED_BYTES:
            raise CheckpointError(f"{label}: refused, tensor {name or '(top level)'} of shape "
                                  f"{tuple(tensor.shape)} repeats its data (a stride-0 or overlapping view), "
                                  f"and the file's views would take more than {MAX_REPEATED_BYTES:,} bytes "
                                  "beyond what it stores")
        if total > MAX_WEIGHTS_BYTES:
            raise CheckpointError(f"{label}: refused, its tensors would take more than "
                                  f"{MAX_WEIGHTS_BYTES:,} bytes")


def _walk_tensors(obj: Any, label: str) -> Iterator[tuple[str, Tensor]]:
    """(dotted name, tensor) of every tensor in dicts, lists, tuples and attribute holders."""
    import torch

    stack: list[tuple[Any, str, int]] = [(obj, "", 0)]
    seen: set[int] = set()
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, torch.Tensor):
            yield path.rstrip("."), item
            continue
        if isinstance(item, (str, bytes, int, float, bool, type(None))) or id(item) in seen:
            continue
        if depth >= MAX_NESTING:
            raise CheckpointError(f"{label}: refused, nested more than {MAX_NESTING} levels deep")
        seen.add(id(item))
        if isinstance(item, Mapping):
            children = [(f"{path}{key}.", value) for key, value in item.items()]
        elif isinstance(item, (list, tuple, set, frozenset)):
            children = [(f"{path}{index}.", value) for index, value in enumerate(item)]
        elif hasattr(item, "__dict__"):
            children = [(f"{path}{key}.", value) for key, value in vars(item).items()]
        else:
            continue
        stack.extend((value, key, depth + 1) for key, value in children)


@dataclass
class CheckpointFile:
    """A weights file offered for import; `load()` reads it once, safely, and caches it."""

    path: Path
    _loaded: Any = field(default=None, init=False, repr=False)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @property
    def loadable(self) -> bool:
        """True when `load()` reads this format (`.safetensors`, `.pth`, `.pt`, `.ckpt`, `.bin`);
        others (NVIDIA's `.pkl`) need the plugin's own reader, such as `restricted_unpickle`."""
        return self.suffix == SAFETENSORS_SUFFIX or self.suffix in TORCH_SUFFIXES

    def load(self) -> Any:
        """The file's content: a dict of tensors (safetensors) or what torch.load returns.

        Raises `CheckpointError` for an unsupported suffix or an unreadable or unsafe file.
        """
        if self._loaded is None:
            if not self.path.is_file():
                raise CheckpointError(f"{self.path}: no such file")
            if self.suffix == SAFETENSORS_SUFFIX:
                loaded = read_safetensors(self.path)
            elif self.suffix in TORCH_SUFFIXES:
                loaded = read_torch(self.path)
            else:
                raise CheckpointError(
                    f"{self.path.name}: unsupported weights format {self.suffix or '(none)'}; "
                    f"expected .safetensors, {', '.join(sorted(TORCH_SUFFIXES))}"
                )
            check_tensors(loaded, self.path.name)
            self._loaded = loaded
        return self._loaded

    def tensors(self) -> dict[str, Tensor]:
        """All tensors in the file, flattened to dotted keys."""
        loaded = self.load()
        try:
            return flatten_tensors(loaded)
        except CheckpointError as exc:
            raise CheckpointError(f"{self.path.name}: {exc}") from None


@dataclass(frozen=True)
class CheckpointClaim:
    """A plugin's answer to 'this file is mine': the converted weights and their architecture.

    translator: name of the translator the weights are for.
    config: architecture config; `TranslatorSpec.build(config)` must accept `state_dict` strictly.
    state_dict: tensors in our key layout (float32 or float16, CPU).
    title, description: shown in model lists; description should say what was detected.
    max_parameters: the most tensor elements the architecture may have (default
        `MAX_PARAMETERS`, never more); a claim over it raises `CheckpointError` when made, so no
        network of that size is ever built.
    """

    translator: str
    config: Mapping[str, Any]
    state_dict: Mapping[str, Tensor]
    title: str = ""
    description: str = ""
    max_parameters: int = MAX_PARAMETERS

    def __post_init__(self) -> None:
        limit = min(int(self.max_parameters), MAX_PARAMETERS)
        count = sum(int(getattr(value, "numel", lambda: 0)()) for value in self.state_dict.values())
        if count > limit:
            raise CheckpointError(f"refused: a {self.translator} model of {count:,} parameters, "
                                  f"more than the limit of {limit:,} for this architecture")


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


def _counted(opcode: Callable[[Any], None], fetch: bool) -> Callable[[Any], None]:
    """An opcode of `pickle._Unpickler` that first counts itself and, for memo fetches, what it
    pushed (`_RestrictedUnpickler._spend`)."""
    def run(unpickler: _RestrictedUnpickler) -> None:
        unpickler._operations += 1
        if unpickler._operations > MAX_PICKLE_OPERATIONS:
            raise CheckpointError(f"refused: the pickle runs more than {MAX_PICKLE_OPERATIONS:,} operations "
                                  "(a network pickle needs far fewer), so it could build objects far larger "
                                  "than the file")
        opcode(unpickler)
        if fetch:
            unpickler._spend(unpickler.stack[-1])
    return run


_FETCHES = frozenset({pickle.GET[0], pickle.BINGET[0], pickle.LONG_BINGET[0], pickle.DUP[0]})


class _RestrictedUnpickler(pickle._Unpickler):  # the pure-Python unpickler, for its dispatch table
    """`pickle`'s pure-Python unpickler with an allow-list of globals and a budget of work: at
    most `MAX_PICKLE_OPERATIONS` opcodes, and memo fetches of at most `reuse_limit` bytes."""

    dispatch: ClassVar[dict[int, Callable[[Any], None]]] = {
        code: _counted(opcode, code in _FETCHES) for code, opcode in pickle._Unpickler.dispatch.items()}

    def __init__(
        self,
        file: IO[bytes],
        allowed: Mapping[tuple[str, str], Any],
        persistent_load: Callable[[Any], Any] | None,
        reuse_limit: int,
    ) -> None:
        super().__init__(file)
        self._allowed = allowed
        self._persistent_load = persistent_load
        self._operations = 0
        self._reused = 0
        self._reuse_limit = reuse_limit

    def _spend(self, value: Any) -> None:
        self._reused += _reused_size(value)
        if self._reused > self._reuse_limit:
            raise CheckpointError(f"refused: the pickle re-uses its stored objects for more than "
                                  f"{self._reuse_limit:,} bytes, more than the file holds, so it could build "
                                  "objects far larger than the file")

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


def _reused_size(value: Any) -> int:
    """What one more reference to `value` may cost once an allowed callable copies it, in bytes."""
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return 8 * len(value)
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(value, torch.Tensor):
            return int(value.nbytes)
        if isinstance(value, (torch.TypedStorage, torch.UntypedStorage)):
            return int(value.nbytes())
    return 1


def _stream_size(handle: IO[bytes]) -> int:
    """Bytes left in a seekable stream (0 when it cannot tell)."""
    try:
        here = handle.tell()
        end = handle.seek(0, io.SEEK_END)
        handle.seek(here)
        return max(0, end - here)
    except (OSError, AttributeError, ValueError):
        return 0


def restricted_unpickle(
    source: Path | bytes | IO[bytes],
    allowed: Mapping[tuple[str, str], Any],
    persistent_load: Callable[[Any], Any] | None = None,
) -> Any:
    """Unpickle with an allow-list: only globals in `allowed` ((module, name) -> object to use
    instead) can be referenced, so no code named by the file runs. Anything else raises
    `CheckpointError` before it is called (naming the file when `source` is a path).

    The work is bounded by the file: a pickle that runs more than `MAX_PICKLE_OPERATIONS`
    opcodes, or fetches memoised objects (GET, DUP) worth more bytes than the file holds (at
    least `PICKLE_REUSE_FLOOR`), is refused with `CheckpointError` as soon as it does.
    """
    if isinstance(source, Path):
        try:
            _check_file_size(source)
            with source.open("rb") as handle:
                return restricted_unpickle(handle, allowed, persistent_load)
        except CheckpointError as exc:
            named = str(exc) if str(exc).startswith(f"{source.name}: ") else f"{source.name}: {exc}"
            raise CheckpointError(named) from None
        except OSError as exc:
            raise CheckpointError(f"{source.name}: cannot read ({exc.strerror or exc})") from None
    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    reuse_limit = max(PICKLE_REUSE_FLOOR, _stream_size(handle))
    try:
        return _RestrictedUnpickler(handle, allowed, persistent_load, reuse_limit).load()
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError("not a readable pickle (nested too deeply)") from None
    except MemoryError:
        raise CheckpointError("refused: the pickle asks for more memory than is available") from None
    except Exception as exc:  # noqa: BLE001 - an allowed global called with hostile arguments raises anything
        raise CheckpointError(f"not a readable pickle ({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


# -- checked stand-ins for the globals of array pickles -----------------------------------------

_PLAIN_KINDS = "biufc"  # bool, signed, unsigned, float, complex: no objects, strings or records


class PickledDtype:
    """What a pickled `numpy.dtype` becomes: a plain numeric dtype only.

    Its pickled state may only set the byte order; a state that adds fields, sub-arrays or flags
    (which could make numpy treat bytes as object pointers) is refused.
    """

    def __init__(self, name: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(name, str) or len(name) > 8:
            raise CheckpointError(f"refused: a pickled dtype {name!r:.40}")
        dtype = np.dtype(name)
        if dtype.kind not in _PLAIN_KINDS or dtype.hasobject or dtype.fields or dtype.subdtype:
            raise CheckpointError(f"refused: a pickled array of dtype {name!r}; only numbers are allowed")
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        if (not isinstance(state, tuple) or len(state) < 2 or any(part is not None for part in state[2:5])
                or state[1] not in ("<", ">", "|", "=")):
            raise CheckpointError("refused: a pickled dtype with fields, sub-arrays or flags")
        if state[1] in "<>":
            self.dtype = self.dtype.newbyteorder(state[1])


class PickledArray(np.ndarray):
    """What a pickled `numpy.ndarray` becomes: built only from its own bytes, of a plain dtype."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise CheckpointError("refused: a malformed pickled array")
        shape, dtype, fortran, raw = state[-4:]
        if not isinstance(dtype, PickledDtype) or not isinstance(raw, (bytes, bytearray)):
            raise CheckpointError("refused: a pickled array that is not plain numbers stored as bytes")
        if (not isinstance(shape, tuple) or not all(isinstance(n, int) and 0 <= n for n in shape)
                or math.prod(shape) * dtype.dtype.itemsize != len(raw) or len(raw) > MAX_PICKLED_ARRAY_BYTES):
            raise CheckpointError("refused: a pickled array whose shape does not match its data")
        super().__setstate__((shape, dtype.dtype, bool(fortran), bytes(raw)))


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> PickledArray:
    if subtype is not PickledArray:
        raise CheckpointError("refused: a pickled array of an unknown type")
    return np.ndarray.__new__(PickledArray, (0,), np.uint8)


def _scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, PickledDtype) or not isinstance(data, (bytes, bytearray)) \
            or len(data) != dtype.dtype.itemsize:
        raise CheckpointError("refused: a pickled number that is not plain numeric bytes")
    return np.frombuffer(bytes(data), dtype=dtype.dtype)[0]


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> Tensor:
    """`torch._utils._rebuild_tensor_v2` after checking its arguments: a storage, and a view
    inside it that does not repeat data."""
    import torch

    if not isinstance(storage, torch.TypedStorage):
        raise CheckpointError(f"refused: a tensor rebuilt from a {type(storage).__name__}, not a storage")
    ints = (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride)
            and all(isinstance(n, int) and n >= 0 for n in (offset, *size, *stride)))
    if not ints:
        raise CheckpointError("refused: a tensor with a malformed offset, shape or stride")
    elements = storage._untyped_storage.nbytes() // max(1, storage.dtype.itemsize)
    numel = math.prod(size)
    if numel and (offset + sum((n - 1) * s for n, s in zip(size, stride)) >= elements or numel > elements):
        raise CheckpointError(f"refused: a tensor of shape {size} that does not fit its storage "
                              "or repeats its data")
    return torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, collections.OrderedDict())


def array_globals() -> dict[tuple[str, str], Any]:
    """Allow-list entries for the numpy and torch globals that pickles of arrays and tensors
    name, each a checked stand-in: numbers only (no object dtypes), arrays and tensors built only
    from data the file holds, views that never repeat it."""
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "dtype"): PickledDtype,
        ("numpy", "ndarray"): PickledArray,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "scalar")] = _scalar
        allowed[(module, "_reconstruct")] = _reconstruct
    return allowed
