"""Conversions between `translator.image.Image` and Qt images.

`to_qimage` is the only per-image numpy work the GUI does; call it in a worker thread (QImage,
unlike QPixmap, may be made outside the GUI thread), never per frame.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from translator.image import Image


def to_qimage(image: Image) -> QImage:
    """An 8-bit QImage in the raster engine's own format (RGB32, or premultiplied ARGB32 when
    the image has alpha), so that `QPixmap.fromImage` needs no conversion. Owns its pixels."""
    import cv2

    height, width = image.height, image.width
    rgb = image.rgb if image.alpha is None else image.rgb * image.alpha[..., None]
    bgra = cv2.cvtColor(cv2.convertScaleAbs(np.ascontiguousarray(rgb, dtype=np.float32), alpha=255.0),
                        cv2.COLOR_RGB2BGRA)
    if image.alpha is not None:
        bgra[..., 3] = cv2.convertScaleAbs(np.ascontiguousarray(image.alpha, dtype=np.float32), alpha=255.0)
        fmt = QImage.Format.Format_ARGB32_Premultiplied
    else:
        fmt = QImage.Format.Format_RGB32
    return QImage(bgra.data, width, height, bgra.strides[0], fmt).copy()


def from_qimage(qimage: QImage, *, keep_alpha: bool = True) -> Image:
    """An `Image` (float32 in [0, 1]) of a QImage of any format; alpha kept when it has one."""
    has_alpha = keep_alpha and qimage.hasAlphaChannel()
    converted = qimage.convertToFormat(
        QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    channels = 4 if has_alpha else 3
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8,
                           count=converted.bytesPerLine() * height)
    pixels = buffer.reshape(height, converted.bytesPerLine())[:, : width * channels]
    pixels = pixels.reshape(height, width, channels).astype(np.float32) / 255.0
    rgb = np.ascontiguousarray(pixels[..., :3])
    alpha = np.ascontiguousarray(pixels[..., 3]) if has_alpha else None
    if alpha is not None and bool(np.all(alpha >= 1.0)):
        alpha = None
    return Image(rgb=rgb, alpha=alpha)


def thumbnail(qimage: QImage, size: int = 96) -> QImage:
    """A smooth-scaled copy that fits in `size` x `size`."""
    from PySide6.QtCore import Qt

    return qimage.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
