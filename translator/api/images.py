"""Reading image files in a plugin with the core's reader (imported on use).

The size in the file's header is checked against a pixel limit before anything is decoded,
formats whose size cannot be checked first are refused, EXIF orientation is applied. Plugins
that read images named by a parameter (a source file, a mask) use this instead of decoding
themselves::

    from translator.api.images import read_image
    image = read_image(path, max_pixels=16_000_000)   # Image: rgb (H, W, 3) float32 in [0, 1]
"""
from __future__ import annotations

from translator.errors import ImageError
from translator.image import Image
from translator.imageio import decode_image_bytes, pixel_limit, read_image

__all__ = ["Image", "ImageError", "decode_image_bytes", "pixel_limit", "read_image"]
