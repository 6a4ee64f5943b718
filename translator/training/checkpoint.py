"""Training checkpoints: the full state of a run, written atomically, read without unpickling code.

A checkpoint holds only tensors, dicts, lists, tuples, numbers, strings and None, so
`torch.load(..., weights_only=True)` reads it. It is written to a temporary file in the same
folder, flushed to disk, then renamed over the previous one (`os.replace`), so a process killed
at any moment leaves the last complete checkpoint in place.
"""
from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

from translator.errors import CheckpointError

FORMAT = 1
CHECKPOINT_NAME = "last.pt"
LOW_SPACE = 1 << 20
"""Free bytes under which a failed write is put down to a full disk."""


def rng_state() -> dict[str, Any]:
    """The global random states of python, numpy, torch and every CUDA device, as safe types."""
    import numpy as np
    import torch

    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [name, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos), int(has_gauss),
                  float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` returned."""
    import numpy as np
    import torch

    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(x) for x in internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` (safe types only) to `path` atomically: temp file, fsync, rename.

    Raises `CheckpointError` saying why when it cannot be written (a full disk, ...); the
    previous checkpoint at `path` is then untouched and no temporary file is left.
    """
    import torch

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        reason = _write_failure(exc, path.parent)
        raise CheckpointError(f"{path}: could not write the checkpoint ({reason})") from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": FORMAT, **state}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except Exception as exc:  # torch reports a full disk as "inline_container.cc:... unexpected pos"
        kept = "; the previous checkpoint is kept" if path.exists() else ""
        raise CheckpointError(f"{path}: could not write the checkpoint "
                              f"({_write_failure(exc, path.parent)}){kept}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _write_failure(exc: BaseException, folder: Path) -> str:
    """Why a write failed, in words: the full disk torch hides behind "unexpected pos" included."""
    import shutil

    from translator.failures import output_failure

    reason = output_failure(exc)
    if reason is not None:
        return reason
    try:
        if shutil.disk_usage(folder).free < LOW_SPACE:
            return "no space left on device"
    except OSError:
        pass
    if isinstance(exc, OSError):
        return str(exc.strerror or exc)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else 'write failed'}"


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint with `torch.load(weights_only=True)` on the CPU; raises `CheckpointError`."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: unreadable training checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Translator training checkpoint (format {FORMAT})")
    return state


def remove_stale_temps(folder: Path) -> None:
    """Delete temporary files a killed run left behind."""
    for tmp in Path(folder).glob(f".{CHECKPOINT_NAME}.*.tmp"):
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
