"""The one batch loop (Qt-free): many images through one translator into a folder, for
`translator apply` and the app's batch.

While the network runs on input k, a reader thread decodes the next `lookahead` inputs and a
writer thread encodes and writes the result of input k-1, so file I/O hides behind the network.
Memory stays bounded: at most `lookahead` decoded inputs wait, and one result is written while
the next is computed. Files, names and report are those of the serial loop (`lookahead=0`):
inputs are reported in their order; a failing input (unreadable, the translator raised, its
output could not be encoded) is recorded and the batch goes on; `Cancelled` (or `cancel.is_set()`)
stops it after the result in flight is written; an output that can take no more files (disk
full, read-only) stops it and the rest is counted as not tried.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from translator.errors import Cancelled, TranslatorError
from translator.image import Image
from translator.spec import Cancellable

Progress = Callable[[float, str], None]
Warn = Callable[[str], None]
RunOne = Callable[[Image | None, Progress, Warn], Image]
"""run_one(image, progress, warn) -> result. image is None for a generator (no input);
progress(fraction, message) reports within that image; warn(message) records a warning about it."""

LOOKAHEAD = 2
"""Inputs decoded ahead of the one the network works on (default of `run_batch`)."""


@dataclass(frozen=True)
class BatchItem:
    """One input of a batch: an image already in memory, a file read when its turn comes, or
    neither (a generator's run, which takes no input).

    label: what the user knows it by (file or image name).
    name: the file name whose stem names the output when there is no `path` (default: the label).
    """

    label: str
    path: Path | None = None
    image: Image | None = None
    name: str | None = None

    def output_source(self) -> Path:
        """The path whose stem the output is named after: the input file, else `name` or the label."""
        if self.path is not None:
            return self.path
        if self.name is not None:
            return Path(self.name)
        return Path(_safe_stem(self.label) + ".png")


@dataclass(frozen=True)
class ItemResult:
    """What became of one input: `target` written, or `error` (its text in `message`).

    warnings: what the translator warned about this input. cached: the result was reused, not
    computed. A failed write keeps its `target` (the name chosen) beside the `error`.
    """

    index: int
    item: BatchItem
    target: Path | None = None
    error: BaseException | None = None
    message: str = ""
    warnings: tuple[str, ...] = ()
    cached: bool = False


@dataclass
class BatchReport:
    """What a batch did: files written (in input order), `(label, message)` per failed input,
    how many results were reused from a cache, whether it was cancelled, and why it stopped early
    when the output could take no more files (`stopped`, e.g. "no space left on device";
    `not_tried` inputs were then skipped)."""

    total: int
    written: list[Path] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    reused: int = 0
    cancelled: bool = False
    stopped: str | None = None
    not_tried: int = 0

    def summary(self) -> str:
        written = f"{len(self.written)} of {self.total} image(s) written"
        parts = [written + (f" ({self.reused} from the cache)" if self.reused else "")]
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


def describe(exc: BaseException) -> str:
    """One line about a failed input: our own errors' text, an OS error's reason, else the
    exception's type and text."""
    if isinstance(exc, TranslatorError):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"


def run_batch(items: Sequence[BatchItem], run_one: RunOne, out_dir: Path, tag: str, fmt: str = "png", *,
              overwrite: bool = False, cached: Callable[[BatchItem], Image | None] | None = None,
              on_item: Callable[[ItemResult], None] | None = None, progress: Progress | None = None,
              cancel: Cancellable | None = None, lookahead: int = LOOKAHEAD) -> BatchReport:
    """Run `run_one` over `items` and write each result to `out_dir` as `<stem>_<tag>.<fmt>`.

    Outputs of one batch never replace each other (`-2`, `-3`, ... are appended), nor ever an
    input; existing files are kept (a numbered name is chosen) unless `overwrite`.
    cached(item): a result already known for that input (written without running), or None; it
    is asked from this thread, up to `lookahead` inputs ahead. on_item(result) is called from
    this thread for each input tried, in input order. progress(fraction in [0, 1], message) says
    "image k of N: label" while image k is worked on. lookahead: inputs decoded ahead in a
    background thread, with the writes in another; 0 runs everything in this thread, serially.
    """
    from translator.failures import output_failure
    from translator.imageio import suggest_output_path

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BatchReport(total=len(items))
    count = len(items)
    taken: set[str] = set()  # casefolded names chosen by this batch, never given twice
    inputs = _Inputs(items, max(lookahead, 0), cached)
    writes = _Writes(lookahead > 0, overwrite, [item.path for item in items if item.path is not None])

    def say(index: int, fraction: float, message: str = "") -> None:
        if progress is not None:
            text = f"image {index + 1} of {count}: {items[index].label}" + (f", {message}" if message else "")
            progress((index + min(max(fraction, 0.0), 1.0)) / max(count, 1), text)

    def finish(result: ItemResult | None) -> bool:
        """Record one input's end; True when the output can take no more files."""
        if result is None:
            return False
        if result.error is None:
            report.written.append(result.target)
            report.reused += int(result.cached)
        else:
            report.errors.append((result.item.label, result.message))
            if result.target is not None:
                taken.discard(result.target.name.casefold())  # nothing was written under it
            report.stopped = output_failure(result.error)
        if on_item is not None:
            on_item(result)
        return report.stopped is not None

    try:
        for index, item in enumerate(items):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            say(index, 0.0)
            warnings: list[str] = []
            failure: Exception | None = None
            try:
                image, reused = inputs.take(index)
                result = image if reused else run_one(image, lambda f, m="", i=index: say(i, f, m),
                                                      warnings.append)
            except Cancelled:
                report.cancelled = True
                break
            except Exception as exc:  # noqa: BLE001 - one bad input never stops the batch
                failure = exc
            if finish(writes.settle()):  # the previous input's write, done while this one ran
                report.not_tried = count - index
                break
            if failure is not None:
                if finish(ItemResult(index, item, error=failure, message=describe(failure),
                                     warnings=tuple(warnings))):
                    report.not_tried = count - index - 1
                    break
                continue
            target = suggest_output_path(item.output_source(), out_dir, tag, fmt, taken=taken,
                                         overwrite=overwrite)
            taken.add(target.name.casefold())
            writes.submit(ItemResult(index, item, target=target, warnings=tuple(warnings), cached=reused),
                          result)
            if not writes.background and finish(writes.settle()):
                report.not_tried = count - index - 1
                break
        finish(writes.settle())  # the last write, or the one in flight when cancelled
    finally:
        inputs.close()
        writes.close()
    if progress is not None:
        progress(1.0, report.summary())
    return report


class _Inputs:
    """The inputs in order, the next `lookahead` of them decoded ahead by a background thread."""

    def __init__(self, items: Sequence[BatchItem], lookahead: int,
                 cached: Callable[[BatchItem], Image | None] | None) -> None:
        self._items, self._lookahead, self._cached = items, lookahead, cached
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="batch-read") if lookahead > 0 else None
        self._ahead: dict[int, Future[Image | None]] = {}
        self._hits: dict[int, Image] = {}
        self._next = 0

    def take(self, index: int) -> tuple[Image | None, bool]:
        """(the input image, False), or (its cached result, True); raises what reading raised."""
        end = min(index + 1 + self._lookahead, len(self._items))
        while self._next < end:
            ahead, item = self._next, self._items[self._next]
            self._next += 1
            hit = self._cached(item) if self._cached is not None else None
            if hit is not None:
                self._hits[ahead] = hit
            elif self._pool is not None and item.image is None and item.path is not None:
                self._ahead[ahead] = self._pool.submit(_load, item)
        if index in self._hits:
            return self._hits.pop(index), True
        future = self._ahead.pop(index, None)
        return (future.result() if future is not None else _load(self._items[index])), False

    def close(self) -> None:
        """Drop the reads not started; one under way finishes in the background."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class _Writes:
    """Encodes and writes one result at a time: in a background thread, else at once."""

    def __init__(self, background: bool, overwrite: bool, protected: list[Path]) -> None:
        self.background = background
        self._overwrite, self._protected = overwrite, protected
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="batch-write") if background else None
        self._pending: tuple[ItemResult, Future[Path]] | None = None

    def submit(self, result: ItemResult, image: Image) -> None:
        """Start writing `image` to `result.target`; `settle` first (one write at a time)."""
        assert self._pending is None, "settle the previous write first"
        if self._pool is not None:
            future = self._pool.submit(self._write, result.target, image)
        else:
            future = Future()
            try:
                future.set_result(self._write(result.target, image))
            except Exception as exc:  # noqa: BLE001 - reported by settle, like a background write
                future.set_exception(exc)
        self._pending = (result, future)

    def settle(self) -> ItemResult | None:
        """Wait for the write under way: its input's result (with `error` if it failed), or None."""
        if self._pending is None:
            return None
        result, future = self._pending
        self._pending = None
        try:
            future.result()
        except Exception as exc:  # noqa: BLE001 - a failed write is that input's failure
            return ItemResult(result.index, result.item, target=result.target, error=exc, message=describe(exc),
                              warnings=result.warnings, cached=result.cached)
        return result

    def close(self) -> None:
        """Let a write under way finish (it is atomic either way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _write(self, target: Path, image: Image) -> Path:
        from translator import imageio  # looked up per call: tests replace `imageio.write_image`

        return imageio.write_image(target, image, overwrite=self._overwrite, protected=self._protected)


def _load(item: BatchItem) -> Image | None:
    """The input image of `item` (read from its file when not in memory); None for a generator."""
    from translator import imageio

    if item.image is not None or item.path is None:
        return item.image
    return imageio.read_image(item.path)


def _safe_stem(label: str) -> str:
    stem = Path(label).stem or "image"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
