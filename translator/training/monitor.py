"""Watching a `translator-train` run from another process (the app's Train dialog): the command
line, the progress file the run writes (`--progress-jsonl`), the stop file it checks
(`--stop-file`), and a rough time estimate. Qt-free.

Progress file: one JSON object per line, appended and flushed as the run goes:
    {"event": "start", "run": NAME, "run_dir": DIR, "step": S, "total": T, "resumed": bool}
    {"event": "step", "step": S, "total": T, "time_s": SECONDS, "losses": {NAME: X}, "images_per_s": R}
    {"event": "sample", "step": S, "path": PNG}
    {"event": "end", "step": S, "finished": bool, "translator": NAME, "model": NAME | null}
time_s counts the run's training time, earlier sessions of a resumed run included.
"""
from __future__ import annotations

import csv
import json
import logging
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from translator.errors import TranslatorError

if TYPE_CHECKING:
    from translator.spec import TranslatorSpec

log = logging.getLogger(__name__)


class ProgressWriter:
    """Appends progress events to a JSON-lines file (see the module docstring); a no-op without
    a path. Each line is flushed, so a reader in another process sees whole lines."""

    def __init__(self, path: Path | str | None) -> None:
        self._fh: TextIO | None = None
        if path is not None:
            self._fh = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - open for the run

    def event(self, kind: str, **fields: Any) -> None:
        if self._fh is None:
            return
        self._fh.write(json.dumps({"event": kind, **fields}) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class ProgressReader:
    """Reads the events a run appended since the last `poll()`; a line still being written is
    kept for the next poll, a line that is not a JSON object is skipped (and logged)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._offset = 0
        self._partial = b""

    def poll(self) -> list[dict[str, Any]]:
        """The new complete events (possibly none; none while the file does not exist)."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        return [event for line in lines if (event := parse_event(line)) is not None]


def parse_event(line: bytes | str) -> dict[str, Any] | None:
    """One progress line as a dict with an "event" key; None for a blank or malformed line."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    if not line.strip():
        return None
    try:
        event = json.loads(line)
    except ValueError:
        log.warning("progress: not JSON: %.200s", line)
        return None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        log.warning("progress: not an event: %.200s", line)
        return None
    return event


@dataclass
class TrainRequest:
    """What the Train dialog asks for; `arguments()` turns it into `translator-train` options.

    folders: data option -> folder, the options of `data_options(kind)` ("data", "data_a",
    "data_b"). init: "bundled", "scratch" or a model name. steps: generator steps. minutes: a
    wall-clock budget (None: none). extra: further `translator-train` arguments, as typed.
    """

    plugin: str
    folders: dict[str, str] = field(default_factory=dict)
    init: str = "scratch"
    steps: int = 1000
    minutes: float | None = None
    name: str = ""
    size: int | None = None
    device: str = "auto"
    out: str | None = None
    sample_every: int | None = None
    extra: list[str] = field(default_factory=list)

    def arguments(self) -> list[str]:
        """The options, without the monitoring ones (`--progress-jsonl`, `--stop-file`)."""
        args = ["--plugin", self.plugin, "--from", self.init, "--steps", str(self.steps), "--device", self.device]
        for option, folder in self.folders.items():
            args += ["--" + option.replace("_", "-"), folder]
        for flag, value in (("--time-limit", self.minutes), ("--name", self.name or None), ("--size", self.size),
                            ("--out", self.out), ("--sample-every", self.sample_every)):
            if value is not None:
                args += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        return [*args, *self.extra]


def data_options(spec: TranslatorSpec) -> list[tuple[str, str]]:
    """The data folders `spec` trains on: (option dest, label) pairs, e.g. ("data_a", "Images A")."""
    from translator.training.spec import DataKind

    if spec.training is None:
        raise TranslatorError(f"{spec.name} cannot be trained")
    if spec.training.data is DataKind.UNPAIRED:
        return [("data_a", "Images of domain A"), ("data_b", "Images of domain B")]
    if spec.training.data is DataKind.PAIRED:
        return [("data", "Pairs (A/ and B/, or side-by-side AB images)")]
    return [("data", "Images")]


def monitored_command(arguments: list[str], progress: Path, stop_file: Path) -> list[str]:
    """The command line of a watched run: this Python running `translator.training` with
    `arguments` (a request's, or `--resume RUN ...`), its progress file and its stop file."""
    return [sys.executable, "-m", "translator.training", *arguments, "--quiet",
            "--progress-jsonl", str(progress), "--stop-file", str(stop_file)]


class _Refused(Exception):
    pass


def _refuse(message: str) -> Any:
    raise _Refused(message)


def check_request(spec: TranslatorSpec, request: TrainRequest) -> str | None:
    """None when `translator-train` would accept `request`, else its error message: the same
    parser, option resolution (`TrainConfig.validate`) and data folder scan (`make_sources`)."""
    from translator.training.cli import build_parser, resolve
    from translator.training.data import make_sources

    parser = build_parser(spec)
    parser.error = _refuse  # type: ignore[method-assign]  # raise instead of printing and exiting
    try:
        args = parser.parse_args(request.arguments())
        config = resolve(args, spec, spec.name)
        assert spec.training is not None
        make_sources(spec.training.data, data=config.data, data_a=config.data_a, data_b=config.data_b,
                     direction=config.direction)
    except _Refused as exc:
        return str(exc)
    except TranslatorError as exc:
        return str(exc)
    return None


def measured_rate(runs: Path, plugin: str, size: int, device: str) -> tuple[float, str] | None:
    """Images per second an earlier run of `plugin` on `device` reached, scaled to `size` px
    crops by pixel count (cost ~ pixels), with a note saying where it comes from; None without
    such a run. The median of each run's last 20 logged rates, from its metrics.csv; the newest
    run wins. Devices compare by type ("cuda:1" matches "cuda"; "auto" matches any)."""
    best: tuple[float, float, str] | None = None
    device = device.split(":")[0]
    for options in runs.glob("*/options.json"):
        try:
            saved = json.loads(options.read_text(encoding="utf-8"))["options"]
            with (options.parent / "metrics.csv").open(encoding="utf-8", newline="") as fh:
                rates = [float(row["images_per_s"]) for row in csv.DictReader(fh) if row.get("images_per_s")]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        run_device = str(saved.get("device", "auto")).split(":")[0]
        if saved.get("plugin") != plugin or not rates or (device != "auto" and run_device not in (device, "auto")):
            continue
        run_size = int(saved.get("size") or size)
        rate = statistics.median(rates[-20:]) * (run_size / size) ** 2
        mtime = options.stat().st_mtime
        if best is None or mtime > best[0]:
            best = (mtime, rate, f"from run {options.parent.name} ({run_size} px, {run_device})")
    return None if best is None else (best[1], best[2])


def probe_rate(events: list[dict[str, Any]], warmup: int = 2) -> float | None:
    """Images per second of a short probe run: the median `images_per_s` of its step events
    after the first `warmup` ones (start-up, first allocations); None while there are none."""
    rates = [float(e["images_per_s"]) for e in events if e.get("event") == "step" and "images_per_s" in e]
    return statistics.median(rates[warmup:]) if rates[warmup:] else None


def estimate_seconds(steps: int, batch_size: int, rate: float, minutes: float | None = None) -> float:
    """Seconds `steps` steps of `batch_size` images take at `rate` images/s, capped by the budget."""
    seconds = steps * batch_size / max(rate, 1e-9)
    return min(seconds, minutes * 60) if minutes else seconds


def remaining_seconds(step: int, total: int, time_s: float, start_step: int, start_time_s: float,
                      limit_s: float | None = None) -> float | None:
    """Seconds left at the rate measured since this session of the run began (None before 2
    steps), at most what is left of a time budget of `limit_s` seconds."""
    done = step - start_step
    if done < 2 or time_s <= start_time_s:
        return None
    left = (total - step) * (time_s - start_time_s) / done
    return max(0.0, min(left, limit_s - time_s)) if limit_s else left


def format_duration(seconds: float) -> str:
    """"45 s", "12 min", "2 h 05 min"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"
