"""Compute devices: which exist, which one a name means, and which precision to run in.

Device names are those of torch: "auto", "cpu", "cuda", "cuda:N", "mps". torch is imported inside
the functions (this module is imported at start-up).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from translator.errors import DeviceError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
"""Names accepted for a precision; "auto" is fp16 on CUDA, fp32 elsewhere."""


@dataclass(frozen=True)
class DeviceInfo:
    """One device a user may pick.

    name: the torch device string ("cpu", "cuda:0", "mps").
    title: for humans ("NVIDIA H100 (79.1 GiB)").
    memory_bytes: total memory of an accelerator, None for the CPU.
    """

    name: str
    title: str
    memory_bytes: int | None = None


def list_devices() -> list[DeviceInfo]:
    """Every usable device, accelerators first, the CPU last."""
    import torch

    devices: list[DeviceInfo] = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gib = props.total_memory / 2**30
            devices.append(DeviceInfo(f"cuda:{index}", f"{props.name} ({gib:.1f} GiB)", int(props.total_memory)))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(DeviceInfo("mps", "Apple GPU (Metal)"))
    devices.append(DeviceInfo("cpu", "CPU"))
    return devices


def resolve_device(name: str = "auto", *, local_rank: int = 0) -> torch.device:
    """The torch device `name` stands for.

    "auto": the first CUDA device (the process's `local_rank` one under torchrun), else Apple's
    GPU, else the CPU. "cuda" without an index means `local_rank`. Raises `DeviceError` for a
    device that is absent or a name torch does not know.
    """
    import torch

    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        else:
            mps = getattr(torch.backends, "mps", None)
            name = "mps" if mps is not None and mps.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name}: no CUDA device is available (use cpu)")
        try:
            index = int(name.split(":", 1)[1]) if ":" in name else local_rank
        except ValueError:
            raise DeviceError(f"device {name!r}: expected cuda or cuda:N") from None
        if not 0 <= index < torch.cuda.device_count():
            raise DeviceError(f"device {name}: there are only {torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError("device mps: Apple's GPU is not available (use cpu)")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise DeviceError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps")


def resolve_dtype(precision: str, device: torch.device, *, half_allowed: bool = True) -> torch.dtype:
    """The weight dtype for inference on `device`.

    "auto": float16 on CUDA and MPS when `half_allowed` (the translator supports it), float32
    otherwise. "fp16"/"bf16" are honoured on accelerators and refused on the CPU, where they are
    slow or unsupported. Raises `DeviceError` for an unknown name.
    """
    import torch

    if precision not in PRECISIONS:
        raise DeviceError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision == "fp32" or (precision == "auto" and (device.type == "cpu" or not half_allowed)):
        return torch.float32
    if device.type == "cpu":
        raise DeviceError(f"precision {precision} needs a GPU; use fp32 on the CPU")
    if precision == "bf16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise DeviceError(f"{device}: this GPU has no bfloat16; use fp16 or fp32")
        return torch.bfloat16
    return torch.float16


def free_memory(device: torch.device) -> int | None:
    """Free bytes on a CUDA device (None for other devices, where it is unknown)."""
    import torch

    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return int(free)


def empty_cache(device: torch.device) -> None:
    """Give cached allocator blocks back after an out-of-memory error."""
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is an accelerator (or host) running out of memory."""
    import torch

    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


# -- CPU threads ---------------------------------------------------------------------------------

def available_cores() -> int:
    """CPU cores this process may use: the affinity mask, further limited by a cgroup CPU quota
    (cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us`, rounded up); at least 1."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def default_loader_workers(cores: int | None = None) -> int:
    """Data-loader worker processes by default: min(4, cores - 1), so one core is left to the
    training step itself; 0 (load in the main process) on a single core."""
    cores = available_cores() if cores is None else cores
    return max(0, min(4, cores - 1))


def default_threads() -> int:
    """Intra-op threads by default: `available_cores()`, or fewer when the user set
    OMP_NUM_THREADS (an explicit choice wins)."""
    import os

    cores = available_cores()
    try:
        wanted = int(os.environ.get("OMP_NUM_THREADS", "") or 0)
    except ValueError:
        wanted = 0
    return min(cores, wanted) if wanted > 0 else cores


def configure_cpu_threads(cores: int | None = None) -> int:
    """Set torch's intra-op threads to `cores` (default: `default_threads()`) and return it.

    Inter-op threads are left alone: they can be set only before the first parallel op."""
    import torch

    count = default_threads() if cores is None else max(1, int(cores))
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


def _cgroup_cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs granted by the cgroup quota of this process, or None when unlimited or unknown."""
    from pathlib import Path

    base = Path(root)
    try:  # cgroup v2: this process's own group, as /proc/self/cgroup names it ("0::/path")
        own = [line[3:].strip() for line in Path("/proc/self/cgroup").read_text().splitlines()
               if line.startswith("0::")]
    except OSError:
        own = []
    candidates = [base / own[0].lstrip("/") / "cpu.max"] if own and own[0] not in ("", "/") else []
    for path in [*candidates, base / "cpu.max"]:
        try:
            text = path.read_text().split()
        except OSError:
            continue
        try:
            return int(text[0]) / int(text[1]) if len(text) == 2 and text[0] != "max" else None
        except ValueError:
            return None
    try:  # cgroup v1
        quota = int((base / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((base / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None
