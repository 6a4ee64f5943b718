"""The app's batch (Qt-free part) stops early only when the output can take no more files."""
from __future__ import annotations

import errno
import os

import numpy as np

import translator.imageio as imageio
from translator.errors import PluginError
from translator.batch import BatchItem, run_batch
from translator.image import Image


def _items(count: int) -> list[BatchItem]:
    return [BatchItem(label=f"img{i}", image=Image(rgb=np.full((4, 4, 3), 0.1 * i, np.float32)))
            for i in range(count)]


def test_full_disk_stops_the_batch_and_says_so(tmp_path, monkeypatch):
    real_write = imageio.write_image
    calls = []

    def write(path, image, **kwargs):
        calls.append(path)
        if len(calls) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(path, image, **kwargs)

    monkeypatch.setattr(imageio, "write_image", write)
    report = run_batch(_items(5), lambda image, progress, warn: image, tmp_path / "out", "t")
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
