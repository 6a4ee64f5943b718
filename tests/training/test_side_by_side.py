"""Side-by-side AB images too narrow to split are skipped and counted, never a traceback."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from translator.errors import DataError, ImageError
from translator.training.data import ImageDataset, first_readable, load_uint8, make_sources
from translator.training.spec import DataKind


def test_a_one_pixel_wide_image_cannot_be_split(tmp_path):
    cv2.imwrite(str(tmp_path / "thin.png"), np.zeros((16, 1, 3), np.uint8))
    for side in ("left", "right"):
        with pytest.raises(ImageError, match="thin.png: 1 px wide, too narrow to hold an A and a B half"):
            load_uint8(tmp_path / "thin.png", split=side)
    assert load_uint8(tmp_path / "thin.png").shape == (3, 16, 1)  # fine when not split


def test_narrow_pairs_are_skipped_and_the_rest_are_used(tmp_path):
    cv2.imwrite(str(tmp_path / "a_thin.png"), np.zeros((16, 1, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "b_ok.png"), np.full((16, 3, 3), 255, np.uint8))  # odd width: 1 px halves
    sources = make_sources(DataKind.PAIRED, data=str(tmp_path))
    item = ImageDataset(sources, max_side=None)[{"A": 0, "B": 0}]
    assert item["_skipped"] == [str(tmp_path / "a_thin.png")]
    assert item["A"].shape == item["B"].shape == (3, 16, 1)
    assert [t.shape for t in first_readable(sources, 4, max_side=None)["A"]] == [(3, 16, 1)]


def test_only_narrow_images_is_a_data_error(tmp_path):
    cv2.imwrite(str(tmp_path / "thin.png"), np.zeros((16, 1, 3), np.uint8))
    with pytest.raises(DataError, match="could be read"):
        first_readable(make_sources(DataKind.PAIRED, data=str(tmp_path)), 2, max_side=None)
