"""Image <-> QImage conversions (the GUI's only per-image numpy work)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_image_conversions_round_trip():
    from translator.gui.convert import from_qimage, to_qimage
    from translator.testing import make_image

    for image in (make_image(7, 5, pattern="noise"), make_image(6, 4, alpha=True)):
        qimage = to_qimage(image)
        assert (qimage.width(), qimage.height()) == (image.width, image.height)
        back = from_qimage(qimage)
        opaque = image.alpha is None
        assert (back.alpha is None) == opaque
        tolerance = 0.5 / 255 + 1e-6 if opaque else 2 / 255 / 0.25  # premultiplied: alpha >= 0.25
        assert abs(back.rgb - image.rgb).max() <= tolerance
        if not opaque:
            assert abs(back.alpha - image.alpha).max() <= 0.5 / 255 + 1e-6
