"""Seeds, latents and style mixing, as the official StyleGAN2 tools do them.

- A seed maps to z = numpy.random.RandomState(seed).randn(1, z_dim) (the official
  `generate.py`), so a published seed gives the published image.
- ws: (num_ws, w_dim) per image, one w per synthesis input (2 log2(R) - 2 of them).
- Style mixing copies the ws of a layer range from source B into source A, optionally blended.
  Presets follow the official figure (Karras et al. 2019, figure 3): coarse = resolutions 4-8,
  middle = 16-32, fine = 64 and up; a model under 64 px keeps its top level as "fine".
- Latents are stored as `.npz` with `w` of shape (1, num_ws, w_dim), as the official projector
  writes them.

Imports torch lazily: `plugin.py` imports this module when plugins load.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from translator import api

if TYPE_CHECKING:
    from torch import Tensor, nn

PRESETS = ("coarse", "middle", "fine", "all")
LAYERS_PATTERN = r"coarse|middle|fine|all|\d+-\d+|\d+"
"""What the `layers` parameter accepts: a preset or FIRST-LAST (0-based w indices, inclusive)."""


def seed_to_z(seed: int, z_dim: int) -> np.ndarray:
    """(1, z_dim) float64, exactly the official `np.random.RandomState(seed).randn(1, z_dim)`."""
    if not 0 <= int(seed) <= 2**32 - 1:
        raise api.ParameterError(f"seed {seed} is outside [0, 2**32 - 1]")
    return np.random.RandomState(int(seed)).randn(1, z_dim)


def level_range(level: int, num_ws: int) -> range:
    """The w indices of resolution 2**level: its conv1 and to-RGB (the latter shared with the
    next level's upsampling conv0), [2 level - 4, 2 level - 2)."""
    return range(max(2 * level - 4, 0), min(2 * level - 2, num_ws))


def layer_range(spec: str, num_ws: int) -> range:
    """The w indices a `layers` value names, for a model with `num_ws` ws.

    "coarse" (4-8 px), "middle" (16-32 px), "fine" (64 px and up; the top level when the model
    is smaller), "all", "FIRST-LAST" (inclusive) or one index. Raises `ParameterError`.
    """
    spec = spec.strip().lower()
    top = num_ws // 2 + 1  # log2 of the resolution
    if num_ws < 2 or num_ws % 2:
        raise api.ParameterError(f"a StyleGAN2 model has an even number of ws (>= 2), got {num_ws}")
    if spec == "all":
        return range(num_ws)
    if spec in ("coarse", "middle", "fine"):
        fine_start = min(6, top)                 # 64 px, or the top level of smaller models
        bounds = {"coarse": (2, min(3, top)), "middle": (4, min(5, fine_start - 1)), "fine": (fine_start, top)}
        first, last = bounds[spec]
        if first > last:
            raise api.ParameterError(f"a {2 ** top} px model has no {spec} styles")
        return range(level_range(first, num_ws).start, level_range(last, num_ws).stop)
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", spec)
    if match is None:
        raise api.ParameterError(f"layers {spec!r}: use coarse, middle, fine, all or FIRST-LAST "
                                 f"(w indices 0 to {num_ws - 1})")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if not 0 <= first <= last < num_ws:
        raise api.ParameterError(f"layers {spec!r}: need 0 <= FIRST <= LAST <= {num_ws - 1} for this model")
    return range(first, last + 1)


def mix(ws_a: Tensor, ws_b: Tensor, layers: range, blend: float = 1.0) -> Tensor:
    """ws of A with the `layers` of B blended in: lerp(A, B, blend) on those indices only.

    ws_a, ws_b: (B, num_ws, w_dim) (B of 1 broadcasts). Returns a new tensor.
    """
    import torch

    if ws_a.shape[1:] != ws_b.shape[1:]:
        raise api.ParameterError(f"cannot mix ws of shapes {tuple(ws_a.shape)} and {tuple(ws_b.shape)}")
    ws_a, ws_b = torch.broadcast_tensors(ws_a, ws_b)
    mask = torch.zeros(ws_a.shape[1], dtype=torch.bool, device=ws_a.device)
    mask[list(layers)] = True
    mixed = ws_a.lerp(ws_b, float(blend))
    return torch.where(mask[None, :, None], mixed, ws_a)


def seed_ws(model: nn.Module, seeds: list[int], psi: float = 1.0) -> Tensor:
    """ws (len(seeds), num_ws, w_dim) of the seeds, truncated by psi, on the model's device."""
    import torch

    param = next(model.parameters())
    z = np.concatenate([seed_to_z(s, model.config.z_dim) for s in seeds])
    return model.ws(torch.from_numpy(z).to(param.device, param.dtype), psi)


def mixing_grid(model: nn.Module, row_seeds: list[int], col_seeds: list[int], layers: str = "coarse", *,
                psi: float = 1.0, noise_mode: str = "const", blend: float = 1.0) -> Tensor:
    """The official style-mixing figure as one image (3, (1 + rows) R, (1 + cols) R) in [-1, 1].

    Top row: the column seeds; left column: the row seeds; cell (i, j): row seed i with the
    `layers` styles of column seed j. The top-left corner is white.
    """
    import torch

    if not row_seeds or not col_seeds:
        raise api.ParameterError("a mixing grid needs at least one row seed and one column seed")
    if len(row_seeds) * len(col_seeds) > 256:
        raise api.ParameterError(f"a mixing grid of {len(row_seeds)} x {len(col_seeds)} is too large (256 cells at most)")
    chosen = layer_range(layers, model.num_ws)
    rows, cols = seed_ws(model, row_seeds, psi), seed_ws(model, col_seeds, psi)
    r = model.config.resolution
    canvas = torch.ones(3, (1 + len(row_seeds)) * r, (1 + len(col_seeds)) * r, device=rows.device, dtype=rows.dtype)
    canvas[:, :r, r:] = torch.cat(list(model.synthesis(cols, noise_mode)), dim=-1)
    canvas[:, r:, :r] = torch.cat(list(model.synthesis(rows, noise_mode)), dim=-2)
    for i in range(len(row_seeds)):
        cells = model.synthesis(mix(rows[i:i + 1], cols, chosen, blend), noise_mode)
        canvas[:, (1 + i) * r:(2 + i) * r, r:] = torch.cat(list(cells), dim=-1)
    return canvas


def parse_seeds(text: str) -> list[int]:
    """"1,2,5-7" -> [1, 2, 5, 6, 7]; raises `ParameterError`."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if match is None:
            raise api.ParameterError(f"{part!r} is not a seed or a range of seeds like 5-7")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if last < first or last - first > 255 or last > 2**32 - 1:
            raise api.ParameterError(f"seed range {part!r} is empty or too large")
        seeds.extend(range(first, last + 1))
    return seeds


def parse_grid(text: str) -> tuple[list[int], list[int]]:
    """"ROWS;COLS", e.g. "1,2,3;10-12" -> ([1, 2, 3], [10, 11, 12]); raises `ParameterError`."""
    rows, sep, cols = text.partition(";")
    if not sep:
        raise api.ParameterError(f"grid {text!r}: use ROW_SEEDS;COLUMN_SEEDS, e.g. 1,2,3;10-12")
    row_seeds, col_seeds = parse_seeds(rows), parse_seeds(cols)
    if not row_seeds or not col_seeds:
        raise api.ParameterError(f"grid {text!r}: needs row seeds and column seeds")
    return row_seeds, col_seeds


# -- .npz ------------------------------------------------------------------------------------

def save_latents(path: Path | str, ws: Tensor | np.ndarray, *, protected: Iterable[Path | str] = (),
                 **extra: np.ndarray) -> Path:
    """Write ws ((num_ws, w_dim) or (1, num_ws, w_dim)) as `w` (1, num_ws, w_dim) float32 in an
    `.npz`, the official projector's layout; `extra` arrays (e.g. `z`) are stored beside it.

    The file appears complete or not at all (a temporary file beside it, then a rename). Raises
    `ParameterError` for a target that is not `.npz`, is one of `protected` (the run's source
    files) or whose folder does not exist (none is created), `DataError` when the write fails.
    """
    array = ws.detach().float().cpu().numpy() if hasattr(ws, "detach") else np.asarray(ws, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[0] != 1:
        raise api.ParameterError(f"latents to save must be (num_ws, w_dim) or (1, num_ws, w_dim), got {array.shape}")
    path = check_latents_target(path, protected)
    fd, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, w=array.astype(np.float32), **extra)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise api.DataError(f"{path}: cannot write the latents ({exc.strerror or exc})") from exc
    finally:
        Path(temp).unlink(missing_ok=True)
    return path


def check_latents_target(path: Path | str, protected: Iterable[Path | str] = ()) -> Path:
    """`path` as a place to save latents, checked before any work; raises `ParameterError` (see
    `save_latents`)."""
    path = Path(path).expanduser()
    if path.suffix.lower() != ".npz":
        raise api.ParameterError(f"{path.name}: latents are saved as .npz")
    folder = path.parent
    if not folder.is_dir():
        raise api.ParameterError(f"save_latents {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise api.ParameterError(f"save_latents {path}: is a folder")
    target = path.resolve()
    if any(target == Path(p).expanduser().resolve() for p in protected if str(p)):
        raise api.ParameterError(f"save_latents {path}: refusing to replace a source file of this run")
    return path


MAX_LATENTS_FILE_BYTES = 16 * 1024**2
"""Largest latents `.npz` read, on disk and once decompressed (declared sizes of all its members
together); a 1024 px model's ws take 37 KB."""


def load_latents(path: Path | str, num_ws: int, w_dim: int) -> np.ndarray:
    """ws (num_ws, w_dim) float32 from an `.npz` with `w` (1, num_ws, w_dim), (num_ws, w_dim) or
    a single w (w_dim,) / (1, w_dim), which is repeated. Never unpickles.

    Bounded: the archive's declared sizes and `w`'s header (shape, dtype) are checked before
    any data is decompressed, so only an array of one of those shapes is ever read. Raises
    `DataError`.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_LATENTS_FILE_BYTES:
            raise api.DataError(f"{path.name}: refused, {size:,} bytes is more than latents take "
                                f"(at most {MAX_LATENTS_FILE_BYTES:,})")
        with zipfile.ZipFile(path) as archive:
            w = _read_w(archive, path.name, num_ws, w_dim)
    except api.DataError:
        raise
    except FileNotFoundError:
        raise api.DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error) as exc:
        raise api.DataError(f"{path.name}: not a readable latents .npz ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    w = w.astype(np.float32).reshape(-1, w_dim)
    if w.shape[0] == 1:
        w = np.repeat(w, num_ws, axis=0)
    if not np.isfinite(w).all():
        raise api.DataError(f"{path.name}: latents hold NaN or infinite values")
    return w


def _read_w(archive: zipfile.ZipFile, name: str, num_ws: int, w_dim: int) -> np.ndarray:
    """The array `w` of an open `.npz`, its shape and dtype checked from the `.npy` header."""
    members = {info.filename: info for info in archive.infolist()}
    total = sum(info.file_size for info in members.values())
    if total > MAX_LATENTS_FILE_BYTES:
        raise api.DataError(f"{name}: refused, its arrays would take {total:,} bytes once decompressed "
                            f"(latents are at most {MAX_LATENTS_FILE_BYTES:,})")
    if "w.npy" not in members:
        found = ", ".join(sorted(n.removesuffix(".npy") for n in members)[:10]) or "none"
        raise api.DataError(f"{name}: no array 'w' (found {found})")
    allowed = {(1, num_ws, w_dim), (num_ws, w_dim), (w_dim,), (1, w_dim)}
    with archive.open("w.npy") as member:
        version = np.lib.format.read_magic(member)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            raise api.DataError(f"{name}: 'w' has an unsupported .npy version {version}")
        shape, fortran, dtype = readers[version](member, max_header_size=10_000)
        if dtype.kind != "f" or dtype.hasobject:
            raise api.DataError(f"{name}: 'w' holds {dtype}, not floating-point numbers")
        if tuple(shape) not in allowed:
            raise api.DataError(f"{name}: latents of shape {tuple(shape)} do not fit this model "
                                f"({num_ws} ws of {w_dim})")
        count = math.prod(shape)
        data = member.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise api.DataError(f"{name}: 'w' is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
