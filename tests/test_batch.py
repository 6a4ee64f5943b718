"""The one batch loop (`translator apply` and the app): overlapped reads and writes give the
serial loop's files and report, in input order; failures per file; a full disk stops it early;
cancel; cached results reused."""
from __future__ import annotations

import errno
import hashlib
import os
import threading
import time

import cv2
import numpy as np
import pytest

from translator import imageio
from translator.batch import BatchItem, items_from_paths, run_batch
from translator.errors import Cancelled, PluginError
from translator.image import Image


def _items(count: int) -> list[BatchItem]:
    return [BatchItem(label=f"img{i}", image=Image(rgb=np.full((4, 4, 3), 0.1 * i, np.float32)))
            for i in range(count)]


@pytest.mark.parametrize("lookahead", [0, 2])
def test_full_disk_stops_the_batch_and_says_so(tmp_path, monkeypatch, lookahead):
    real_write = imageio.write_image
    calls = []

    def write(path, image, **kwargs):
        calls.append(path)
        if len(calls) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(path, image, **kwargs)

    monkeypatch.setattr(imageio, "write_image", write)
    report = run_batch(_items(5), lambda image, progress, warn: image, tmp_path / "out", "t", lookahead=lookahead)
    assert len(report.written) == 1 and len(report.errors) == 1 and len(calls) == 2
    assert report.stopped == "no space left on device" and report.not_tried == 3
    assert "stopped early (no space left on device; 3 not tried)" in report.summary()


def test_plugin_failures_do_not_stop_the_batch(tmp_path):
    def run_one(image, progress, warn):
        if image.rgb[0, 0, 0] < 0.25:
            raise PluginError("t produced NaN or infinite values")
        return image

    report = run_batch(_items(5), run_one, tmp_path / "out", "t")
    assert len(report.errors) == 3 and len(report.written) == 2 and report.stopped is None


def _invert(image, progress, warn):
    """A stand-in translator: inverts; raises on an input whose first pixel is pure red."""
    if image.rgb[0, 0, 0] > 0.99 and image.rgb[0, 0, 1] < 0.01:
        raise RuntimeError("plain crash in translate")
    if image.width == 7:
        warn("seven pixels wide")
    progress(0.5, "halfway")
    return image.with_rgb(1 - image.rgb)


def _folder(tmp_path):
    """PNGs of different sizes, two with the same stem, a corrupt file and a red one in the middle."""
    folder = tmp_path / "in"
    rng = np.random.default_rng(0)
    names = ["a.png", "b.png", "c-bad.png", "d.png", "e-red.png", "f.png", "sub/a.png", "sub/g.jpg"]
    for index, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = (rng.random((5 + index, 6 + index, 3)) * 255).astype(np.uint8)
        if "red" in name:
            pixels[0, 0] = (0, 0, 255)  # BGR
        cv2.imwrite(str(path), pixels)
    (folder / "c-bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return folder


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_overlapped_batch_writes_the_serial_loops_files_and_report_in_order(tmp_path):
    items = items_from_paths([_folder(tmp_path)]) + [BatchItem(label="Pasted 1", image=Image(
        rgb=np.full((3, 4, 3), 0.25, np.float32)))]
    runs = {}
    for lookahead in (0, 1, 2, 5):
        seen, messages = [], []
        report = run_batch(items, _invert, tmp_path / f"out{lookahead}", "inv", lookahead=lookahead,
                           on_item=seen.append, progress=lambda f, m, msgs=messages: msgs.append((f, m)))
        runs[lookahead] = (report, seen, messages)
    serial, serial_seen, serial_messages = runs[0]
    assert [label for label, _ in serial.errors] == ["c-bad.png", "e-red.png"]
    assert "RuntimeError: plain crash in translate" in serial.errors[1][1]
    assert [p.name for p in serial.written] == ["a_inv.png", "b_inv.png", "d_inv.png", "f_inv.png", "a_inv-2.png",
                                                "g_inv.png", "Pasted_1_inv.png"]
    assert [r.index for r in serial_seen] == list(range(len(items)))
    assert [r.warnings for r in serial_seen][1] == ("seven pixels wide",)
    for lookahead, (report, seen, messages) in runs.items():
        assert [p.name for p in report.written] == [p.name for p in serial.written], lookahead
        assert report.errors == serial.errors and report.summary() == serial.summary()
        assert [(r.index, r.error is None, r.warnings) for r in seen] == \
            [(r.index, r.error is None, r.warnings) for r in serial_seen]
        assert _digests(tmp_path / f"out{lookahead}") == _digests(tmp_path / "out0"), lookahead
        assert messages == serial_messages
    fractions = [f for f, _ in serial_messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_progress_names_the_image_being_worked_on(tmp_path):
    messages = []
    run_batch(_items(5), _invert, tmp_path / "out", "t", progress=lambda f, m: messages.append((f, m)))
    assert (0.8, "image 5 of 5: img4") in messages
    assert (0.9, "image 5 of 5: img4, halfway") in messages
    assert not any(m.startswith("image 6") for _, m in messages)


def test_reads_run_ahead_and_writes_behind_the_network_in_background_threads(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    for index in range(5):
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / f"{index}.png"), np.full((4, 4, 3), 40 * index, np.uint8))
    items = items_from_paths([folder])
    events, lock = [], threading.Lock()
    read_started = {i: threading.Event() for i in range(5)}
    write_started = {i: threading.Event() for i in range(5)}
    real_read, real_write = imageio.read_image, imageio.write_image

    def read(path, **kwargs):
        index = int(path.stem)
        with lock:
            events.append(("read", index, threading.current_thread().name))
        read_started[index].set()
        return real_read(path, **kwargs)

    def write(path, image, **kwargs):
        index = int(path.stem.split("_")[0])
        with lock:
            events.append(("write", index, threading.current_thread().name))
        write_started[index].set()
        return real_write(path, image, **kwargs)

    monkeypatch.setattr(imageio, "read_image", read)
    monkeypatch.setattr(imageio, "write_image", write)
    overlaps = []

    def run_one(image, progress, warn):
        index = int(image.source.stem)
        with lock:
            events.append(("run", index, threading.current_thread().name))
            ahead = sum(1 for kind, i, _ in events if kind == "read") - index - 1
        assert ahead <= 2  # bounded look-ahead
        # While the network works on image k, image k+1 is decoded and image k-1 written.
        overlaps.append((index + 1 >= 5 or read_started[index + 1].wait(5),
                         index == 0 or write_started[index - 1].wait(5)))
        return image

    report = run_batch(items, run_one, tmp_path / "out", "t")
    assert len(report.written) == 5 and not report.errors
    assert overlaps == [(True, True)] * 5
    me = threading.current_thread().name
    assert {name for kind, _, name in events if kind == "run"} == {me}
    assert me not in {name for kind, _, name in events if kind != "run"}


def test_cancel_stops_at_once_and_leaves_only_whole_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(6):
        cv2.imwrite(str(folder / f"{index}.png"), np.full((64, 64, 3), 40 * index, np.uint8))
    cancel = threading.Event()
    ran = []

    def run_one(image, progress, warn):
        ran.append(image.source.name)
        if len(ran) == 3:
            cancel.set()
            raise Cancelled("cancelled")
        return image

    seen = []
    report = run_batch(items_from_paths([folder]), run_one, tmp_path / "out", "t", cancel=cancel,
                       on_item=seen.append)
    assert report.cancelled and not report.errors and report.not_tried == 0
    assert ran == ["0.png", "1.png", "2.png"] and [r.index for r in seen] == [0, 1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0_t.png", "1_t.png"]  # no .part left
    assert "2 of 6 image(s) written, cancelled" == report.summary()

    # Cancel set between images (the app's Esc) when image 0 is reported, that is once image 1 has
    # run: image 1's result is still written, image 2 is not started.
    ran.clear()
    cancel.clear()
    report = run_batch(_items(4), lambda image, progress, warn: ran.append(1) or image, tmp_path / "out2", "t",
                       cancel=cancel, on_item=lambda result: cancel.set())
    assert report.cancelled and len(ran) == 2 and len(report.written) == 2


def test_cached_results_are_written_without_running(tmp_path):
    items = _items(4)
    known = {id(items[1].image): Image(rgb=np.full((4, 4, 3), 0.5, np.float32)),
             id(items[3].image): Image(rgb=np.full((4, 4, 3), 0.75, np.float32))}
    ran, asked = [], []

    def cached(item):
        asked.append(item.label)
        return known.get(id(item.image))

    def run_one(image, progress, warn):
        ran.append(image)
        return image

    seen = []
    report = run_batch(items, run_one, tmp_path / "out", "t", cached=cached, on_item=seen.append)
    assert ran == [items[0].image, items[2].image] and asked == ["img0", "img1", "img2", "img3"]
    assert [r.cached for r in seen] == [False, True, False, True]
    assert report.reused == 2 and "4 of 4 image(s) written (2 from the cache)" in report.summary()
    assert imageio.read_image(tmp_path / "out" / "img3_t.png").rgb[0, 0, 0] == pytest.approx(0.75, abs=1 / 255)


def test_a_generator_runs_without_input_and_is_named_after_its_seed(tmp_path):
    made = Image(rgb=np.full((2, 3, 3), 0.5, np.float32))
    got = []
    report = run_batch([BatchItem(label="dream", name="seed7.png")],
                       lambda image, progress, warn: got.append(image) or made, tmp_path / "out", "dream")
    assert got == [None] and [p.name for p in report.written] == ["seed7_dream.png"]


def test_a_slow_network_still_gets_every_input_in_order(tmp_path):
    """Reads finishing out of step with the network never reorder results."""
    items = _items(6)

    def run_one(image, progress, warn):
        time.sleep(0.01 * (6 - round(image.rgb[0, 0, 0] * 10)))
        return image

    report = run_batch(items, run_one, tmp_path / "out", "t")
    assert [p.name for p in report.written] == [f"img{i}_t.png" for i in range(6)]
