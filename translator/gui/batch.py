"""Batch runs over many images (Qt-free): overall progress, per-file errors, an output folder."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from translator.errors import Cancelled, TranslatorError
from translator.image import Image
from translator.spec import Cancellable

Progress = Callable[[float, str], None]
RunOne = Callable[[Image, Progress], Image]
"""run_one(image, progress) -> result; progress(fraction, message) reports within that image."""


@dataclass(frozen=True)
class BatchItem:
    """One input of a batch: an image already in memory, or a file read when its turn comes.

    label: what the user knows it by (file or image name); also the output's stem when `path`
        is None.
    """

    label: str
    path: Path | None = None
    image: Image | None = None


@dataclass
class BatchReport:
    """What a batch did: files written, `(label, message)` per failed input, whether it was
    cancelled, and why it stopped early when the output could take no more files (`stopped`,
    e.g. "no space left on device"; `not_tried` inputs were then skipped)."""

    total: int
    written: list[Path] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    stopped: str | None = None
    not_tried: int = 0

    def summary(self) -> str:
        parts = [f"{len(self.written)} of {self.total} image(s) written"]
        if self.errors:
            parts.append(f"{len(self.errors)} failed")
        if self.cancelled:
            parts.append("cancelled")
        if self.stopped:
            parts.append(f"stopped early ({self.stopped}; {self.not_tried} not tried)")
        return ", ".join(parts)


def items_from_paths(paths: Iterable[Path]) -> list[BatchItem]:
    """Batch items of every image file under `paths` (files and folders, recursively)."""
    from translator.imageio import find_images

    return [BatchItem(label=p.name, path=p) for p in find_images([Path(p) for p in paths])]


def run_batch(items: Sequence[BatchItem], run_one: RunOne, out_dir: Path, translator: str,
              fmt: str = "png", *, progress: Progress | None = None,
              cancel: Cancellable | None = None) -> BatchReport:
    """Run `run_one` over `items` and write each result to `out_dir` as `<stem>_<translator>.<fmt>`.

    A failing input (unreadable, or the translator raised a `TranslatorError`) is recorded and
    the batch goes on; `Cancelled` (or `cancel.is_set()`) stops it, and so does an output that
    can take no more files (disk full, read-only: every further write would fail the same way).
    Existing files are never overwritten (a numbered name is chosen) and inputs are never replaced.
    """
    from translator.failures import output_failure
    from translator.imageio import read_image, suggest_output_path, write_image

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BatchReport(total=len(items))
    protected = [item.path for item in items if item.path is not None]
    count = max(len(items), 1)
    for index, item in enumerate(items):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break

        def inner(fraction: float, message: str = "", _i: int = index, _label: str = item.label) -> None:
            if progress is not None:
                progress((_i + min(max(fraction, 0.0), 1.0)) / count, f"{_i + 1}/{len(items)} {_label}")

        inner(0.0)
        try:
            image = item.image if item.image is not None else read_image(item.path)
            result = run_one(image, inner)
            stem = item.path if item.path is not None else Path(_safe_stem(item.label) + ".png")
            target = suggest_output_path(stem, out_dir, translator, fmt)
            write_image(target, result, protected=protected)
            report.written.append(target)
        except Cancelled:
            report.cancelled = True
            break
        except TranslatorError as exc:
            report.errors.append((item.label, str(exc)))
            report.stopped = output_failure(exc)
        except Exception as exc:  # noqa: BLE001 - one bad input never stops the batch
            report.errors.append((item.label, f"{type(exc).__name__}: {exc}"))
            report.stopped = output_failure(exc)
        if report.stopped is not None:
            report.not_tried = len(items) - index - 1
            break
    if progress is not None:
        progress(1.0, report.summary())
    return report


def _safe_stem(label: str) -> str:
    stem = Path(label).stem or "image"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
