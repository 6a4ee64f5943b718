"""The in-memory image every part of Translator passes around."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

PLANE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
"""Dtypes an image's pixels may be stored in: 8 and 16 bits (full scale = 1.0) or float32 in [0, 1]."""


@dataclass(frozen=True, eq=False)
class Image:
    """A decoded image.

    pixels: (H, W, 3) sRGB colour planes as stored: uint8 (0-255), uint16 (0-65535) or float32 in
        [0, 1]. Decoded files and big results stay integer, so an image costs 3 or 6 bytes a pixel,
        not 12. Grayscale sources are expanded to 3 channels. Passed first (or as `rgb=`) when made.
    alpha: (H, W) float32 array in [0, 1], or None when the source had no alpha channel.
    bit_depth: 8 or 16, the depth of the source, used as the default when writing.
    source: the file it came from, if any.

    `rgb` is the float32 view in [0, 1] that most code wants; it is made on first use (and kept)
    when the pixels are integers.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    source: Path | None = None
    grayscale: bool = False
    _float: list[np.ndarray] = field(default_factory=list, init=False, repr=False)

    def __init__(self, pixels: np.ndarray | None = None, alpha: np.ndarray | None = None, bit_depth: int = 8,
                 source: Path | None = None, grayscale: bool = False, *, rgb: np.ndarray | None = None) -> None:
        if (pixels is None) == (rgb is None):
            raise ValueError("give the pixels once, positionally or as rgb=")
        planes = pixels if pixels is not None else rgb
        if planes.dtype.kind == "f" and planes.dtype != np.float32:
            planes = planes.astype(np.float32)
        object.__setattr__(self, "pixels", planes)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "bit_depth", bit_depth)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "grayscale", grayscale)
        object.__setattr__(self, "_float", [])
        self.__post_init__()

    def __post_init__(self) -> None:
        if self.pixels.ndim != 3 or self.pixels.shape[2] != 3:
            raise ValueError(f"rgb must be (H, W, 3), got {self.pixels.shape}")
        if self.pixels.dtype not in PLANE_DTYPES:
            raise ValueError(f"pixels must be uint8, uint16 or float32, got {self.pixels.dtype}")
        if self.alpha is not None and self.alpha.shape != self.pixels.shape[:2]:
            raise ValueError(f"alpha must be {self.pixels.shape[:2]}, got {self.alpha.shape}")

    @property
    def rgb(self) -> np.ndarray:
        """(H, W, 3) float32 in [0, 1] (the pixels themselves when they are float32)."""
        if self.pixels.dtype == np.float32:
            return self.pixels
        if not self._float:
            self._float.append(to_float(self.pixels))
        return self._float[0]

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def nbytes(self) -> int:
        """Bytes held by the pixels, the alpha plane and a float view made so far."""
        extra = sum(a.nbytes for a in self._float)
        return int(self.pixels.nbytes + extra + (self.alpha.nbytes if self.alpha is not None else 0))

    def with_rgb(self, rgb: np.ndarray) -> Image:
        """A copy with new colour pixels (any of `PLANE_DTYPES`); alpha is kept when the size is
        unchanged, dropped otherwise (generated images of another size have no meaningful alpha)."""
        alpha = self.alpha if self.alpha is not None and rgb.shape[:2] == self.pixels.shape[:2] else None
        return replace(self, pixels=rgb, alpha=alpha, grayscale=False)


def full_scale(dtype: np.dtype) -> float:
    """The value that stands for 1.0 in planes of `dtype` (255, 65535, or 1 for floats)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    return 1.0


def to_float(planes: np.ndarray) -> np.ndarray:
    """uint8/uint16/float planes -> float32 in [0, 1] (a new array, except float32 in)."""
    if planes.dtype == np.float32:
        return planes
    return planes.astype(np.float32) * np.float32(1.0 / full_scale(planes.dtype))


def quantize(values: np.ndarray, dtype: np.dtype, out: np.ndarray | None = None) -> np.ndarray:
    """float values in [0, 1] -> planes of `dtype`, rounded to nearest and clipped (NaN -> 0); into
    `out` when given. float32 planes are clipped to [0, 1] only."""
    dtype = np.dtype(dtype)
    clipped = np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0)
    if dtype == np.float32:
        result = clipped.astype(np.float32, copy=False)
    else:
        result = (clipped * np.float32(full_scale(dtype)) + np.float32(0.5)).astype(dtype)
    if out is None:
        return result
    out[...] = result
    return out
