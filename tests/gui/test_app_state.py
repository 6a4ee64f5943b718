"""Qt-free app state: open images, result cache keys, model cache, batch runs (no QApplication)."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from translator.batch import BatchItem, items_from_paths, run_batch
from translator.errors import Cancelled, TranslatorError
from translator.imageio import read_image
from translator.params import ColorPoint
from translator.session.state import ImageList, ModelCache, OpenImage, ResultCache, RunRecord, freeze
from translator.testing import make_image


def record(image=None, translator="t") -> RunRecord:
    return RunRecord(translator=translator, model=None, params={}, seconds=0.1,
                     result=image or make_image(4, 4))


def test_state_modules_do_not_need_qt():
    root = Path(__file__).parents[2] / "translator"
    for path in (root / "batch.py", *sorted((root / "session").glob("*.py"))):
        assert "PySide6" not in path.read_text(), path


def test_image_list_dedupes_files_and_keeps_a_current(tmp_path):
    images = ImageList()
    a, added = images.add(OpenImage("a", make_image(2, 2), tmp_path / "a.png"))
    assert added
    again, added = images.add(OpenImage("a", make_image(2, 2), tmp_path / "x" / ".." / "a.png"))
    assert again is a and not added
    images.add(OpenImage("pasted", make_image(2, 2)))
    images.add(OpenImage("pasted", make_image(2, 2)))  # in-memory images are never merged
    assert len(images) == 3
    images.current_index = 2
    images.remove(2)
    assert images.current is images[1]


def test_cache_key_covers_image_revision_translator_model_and_params():
    item = OpenImage("a", make_image(2, 2))
    key = ResultCache.key(item, "t", "m", {"a": 1, "hints": (ColorPoint(0.5, 0.5, (1, 2, 3)),)})
    same = ResultCache.key(item, "t", "m", {"hints": [ColorPoint(0.5, 0.5, (1, 2, 3))], "a": 1})
    assert key == same and hash(key) == hash(same)
    assert key != ResultCache.key(item, "t", "m2", {"a": 1, "hints": ()})
    assert ResultCache.key(item, "t", None, {"a": 1}) != ResultCache.key(item, "t", None, {"a": 2})
    before = ResultCache.key(item, "t", None, {})
    item.replace_pixels(make_image(2, 2, pattern="noise"))
    assert ResultCache.key(item, "t", None, {}) != before
    assert freeze({"b": [1, 2], "a": {"x": 1}}) == (("a", (("x", 1),)), ("b", (1, 2)))


def test_cache_is_bounded_by_memory_and_drops_closed_images():
    big = make_image(64, 64)
    per = big.rgb.nbytes
    cache = ResultCache(max_bytes=per * 2)
    items = [OpenImage(f"i{n}", big) for n in range(3)]
    keys = [ResultCache.key(item, "t", None, {}) for item in items]
    for key in keys:
        cache.put(key, record(big))
    assert len(cache) == 2 and cache.get(keys[0]) is None and cache.nbytes == 2 * per
    cache.drop_image(items[2])
    assert len(cache) == 1 and cache.get(keys[1]) is not None


def test_model_cache_opens_once_per_key_across_threads():
    calls = []

    def opener():
        calls.append(1)
        return "m", object()

    cache = ModelCache(capacity=2)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("t", None, opener))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len({id(r[1]) for r in results}) == 1
    cache.get("u", None, opener)
    cache.get("v", None, opener)
    cache.get("t", None, opener)
    assert len(calls) == 4  # "t" was the least recently used and was dropped


def _folder(tmp_path: Path) -> Path:
    import cv2

    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        cv2.imwrite(str(folder / f"img{n}.png"), np.full((6, 8, 3), 40 * n, np.uint8))
    (folder / "bad.png").write_bytes(b"garbage")
    return folder


def test_batch_with_one_bad_file_writes_the_others_and_reports_it(tmp_path):
    items = items_from_paths([_folder(tmp_path)])
    items.append(BatchItem(label="Pasted 1", image=make_image(5, 5)))
    progress = []
    report = run_batch(items, lambda image, p, w: image.with_rgb(1 - image.rgb), tmp_path / "out", "inv",
                       progress=lambda f, m: progress.append(f))
    assert sorted(p.name for p in report.written) == ["Pasted_1_inv.png", "img0_inv.png", "img1_inv.png",
                                                     "img2_inv.png"]
    assert [label for label, _ in report.errors] == ["bad.png"] and not report.cancelled
    assert progress == sorted(progress) and progress[-1] == 1.0
    np.testing.assert_allclose(read_image(tmp_path / "out" / "img0_inv.png").rgb, 1.0)
    again = run_batch([i for i in items if i.label == "img0.png"], lambda image, p, w: image, tmp_path / "out",
                      "inv")
    assert again.written[0].name == "img0_inv-2.png"  # never overwrites
    assert "1 failed" in report.summary()


def test_batch_stops_when_cancelled_and_survives_translator_errors(tmp_path):
    items = [i for i in items_from_paths([_folder(tmp_path)]) if i.label != "bad.png"]
    cancel = threading.Event()
    seen = []

    def run_one(image, progress, warn):
        seen.append(1)
        if len(seen) == 1:
            raise TranslatorError("nope")
        if len(seen) == 2:
            cancel.set()
            raise Cancelled("cancelled")
        return image

    report = run_batch(items, run_one, tmp_path / "out", "t", cancel=cancel)
    assert report.cancelled and report.errors == [(items[0].label, "nope")] and not report.written
    assert len(seen) == 2


def test_run_record_label_is_short():
    rec = RunRecord("colorize", "base", {"hints": (ColorPoint(0, 0, (1, 1, 1)),), "strength": 0.123456},
                    1.234, make_image(2, 2))
    assert rec.label() == "colorize [base] hints=1 point, strength=0.123 (1.2 s)"


@pytest.mark.parametrize("bad", [None])
def test_open_image_without_pixels_is_a_generator_slot(bad):
    slot = OpenImage("Generated", bad)
    assert ResultCache.key(slot, "g", None, {"seed": 1}) == ResultCache.key(None, "g", None, {"seed": 1})
