"""What a drop or the clipboard holds: image files, or the pixels of one image."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage

from translator.errors import ImageError
from translator.gui.convert import from_qimage
from translator.image import Image

IMAGE_FORMATS = ("image/png", "image/jpeg", "image/webp", "image/tiff", "image/bmp")


def may_hold_images(mime: QMimeData) -> bool:
    """Worth accepting a drag: file URLs, image data or an encoded image."""
    return mime.hasUrls() or mime.hasImage() or any(mime.hasFormat(f) for f in IMAGE_FORMATS)


def read_mime(mime: QMimeData, label: str) -> list[Path] | Image:
    """The local files named by `mime`, else the image it holds (encoded data first).

    label: what the data is called in messages ("pasted", "dropped"). Raises `ImageError` for
    data that does not decode, or when there is nothing to open.
    """
    urls = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
    if urls:
        return [Path(u) for u in urls]
    for fmt in IMAGE_FORMATS:
        if mime.hasFormat(fmt):
            from translator.imageio import decode_image_bytes

            return decode_image_bytes(bytes(mime.data(fmt).data()), f"{label} {fmt}")
    if mime.hasImage():
        qimage = QImage(mime.imageData())
        if not qimage.isNull():
            return from_qimage(qimage)
    raise ImageError(f"nothing to open in the {label} data: no image or image file")
