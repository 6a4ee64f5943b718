"""Downloading one weights file into a partial file, resumably and verified.

`fetch()` streams a URL into a `.part` file with the standard library's urllib (it follows
redirects and honours the `http_proxy`/`https_proxy`/`no_proxy` environment variables), resumes
an interrupted transfer with an HTTP Range request, retries network failures a few times, and
refuses error pages, HTML pages, wrong sizes and wrong hashes. It never touches the model store:
the caller imports the finished file and removes the partial one.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from translator import __version__
from translator.errors import Cancelled, DownloadError

CHUNK = 1 << 16
CONNECT_TIMEOUT_S = 20.0
"""Seconds to connect and receive the response headers."""
READ_TIMEOUT_S = 60.0
"""Seconds without a single byte before the transfer counts as stalled."""
RETRIES = 3
"""Further attempts after a network failure (each resumes where the last stopped)."""
_HTML_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")

Progress = Callable[[int, "int | None"], None]
"""progress(bytes so far, total bytes or None when the server does not say)."""


def fetch(url: str, part: Path, *, size: int | None = None, sha256: str = "",
          progress: Progress | None = None, cancel: threading.Event | None = None,
          connect_timeout: float = CONNECT_TIMEOUT_S, read_timeout: float = READ_TIMEOUT_S,
          retries: int = RETRIES, backoff_s: float = 1.0) -> str:
    """Download `url` into `part` (resuming what it already holds); returns the file's sha256.

    size: expected size in bytes, or None. sha256: expected hash in hex, or a prefix of at
    least 8 digits, or "" for none.
    Raises `DownloadError` (HTTP errors, HTML instead of weights, a wrong size or hash, a disk
    that cannot be written, the network still failing after `retries` more attempts) and
    `Cancelled` when `cancel` is set. `resumable(part)` tells afterwards whether the partial
    file is worth keeping; after a wrong size or hash it is already removed.
    """
    attempt = 0
    while True:
        try:
            _transfer(url, part, size, progress, cancel, connect_timeout, read_timeout)
            break
        except _Retryable as exc:
            attempt += 1
            if attempt > retries:
                raise DownloadError(f"{_short(url)}: {exc} (gave up after {attempt} attempts)",
                                    resumable=resumable(part)) from None
            _sleep(backoff_s * attempt, cancel)
    digest = file_sha256(part)
    actual = part.stat().st_size
    if size is not None and actual != size:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{_short(url)}: got {actual} bytes, expected {size}; the file was removed")
    if sha256 and not digest.startswith(sha256.lower()):
        part.unlink(missing_ok=True)
        raise DownloadError(f"{_short(url)}: sha256 mismatch (expected {sha256}, got {digest}); "
                            "the file was removed")
    return digest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Retryable(Exception):
    """A network failure worth another attempt (the message says what happened)."""


def _transfer(url: str, part: Path, size: int | None, progress: Progress | None,
              cancel: threading.Event | None, connect_timeout: float, read_timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have == size:
        return  # complete from an earlier run; verified by the caller
    if size is not None and have > size:
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"User-Agent": f"translator/{__version__}"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        # a fresh opener reads the proxy variables now (urlopen's shared one keeps the first ones)
        response = urllib.request.build_opener().open(request, timeout=connect_timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the range starts at the end: nothing left or a stale part
            part.unlink()
            raise _Retryable("the partial file did not match the server's; starting again") from None
        if exc.code >= 500 or exc.code == 429:
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from None
        raise DownloadError(f"{_short(url)}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Retryable(_reason(exc)) from None
    with response:
        _set_read_timeout(response, read_timeout)
        status = response.status
        content_type = response.headers.get("Content-Type", "")
        if "html" in content_type.lower():
            raise DownloadError(f"{_short(url)}: the server sent a web page ({content_type}), not a "
                                "weights file; the address may have moved")
        length = response.headers.get("Content-Length")
        remaining = int(length) if length and length.isdigit() else None
        if status == 206:
            start = _range_start(response.headers.get("Content-Range", ""))
            if start != have:
                part.unlink(missing_ok=True)
                raise _Retryable("the server resumed at the wrong place; starting again")
            mode = "ab"
        else:
            have, mode = 0, "wb"  # a full answer (the server ignored the range)
        total = have + remaining if remaining is not None else size
        if size is not None and total is not None and total != size:
            raise DownloadError(f"{_short(url)}: the server announces {total} bytes, expected {size}")
        try:
            fh = part.open(mode)
        except OSError as exc:
            raise DownloadError(f"cannot write {part}: {_reason(exc)}") from None
        received = 0
        with fh:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"download of {_short(url)} cancelled")
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _Retryable(_reason(exc)) from None
                if not chunk:
                    break
                if have + received == 0 and chunk.lstrip()[:9].lower().startswith(_HTML_STARTS):
                    raise DownloadError(f"{_short(url)}: the server sent a web page, not a weights file; "
                                        "the address may have moved")
                try:
                    _append(fh, chunk)
                except OSError as exc:
                    raise DownloadError(f"cannot write {part.name} in {part.parent}: {_reason(exc)}") from None
                received += len(chunk)
                if progress is not None:
                    progress(have + received, total)
        if remaining is not None and received < remaining:
            raise _Retryable(f"the connection closed after {have + received} of {total} bytes")


def _append(fh: IO[bytes], chunk: bytes) -> None:
    """Write one chunk (a seam for tests that simulate a full disk)."""
    fh.write(chunk)


def resumable(part: Path) -> bool:
    """Whether a partial file left by a failed `fetch` holds anything to resume."""
    try:
        return part.stat().st_size > 0
    except OSError:
        return False


def _set_read_timeout(response: object, seconds: float) -> None:
    """Switch the socket from the connect timeout to the read timeout (best effort: urllib has
    one timeout for both)."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(seconds)


def _range_start(content_range: str) -> int | None:
    """The first byte of `Content-Range: bytes START-END/TOTAL`."""
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return _reason(exc.reason) if isinstance(exc.reason, BaseException) else str(exc.reason)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out waiting for the server"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "no space left on device"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


def _sleep(seconds: float, cancel: threading.Event | None) -> None:
    if cancel is None:
        time.sleep(seconds)
    elif cancel.wait(seconds):
        raise Cancelled("download cancelled")
