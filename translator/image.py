"""The in-memory image every part of Translator passes around."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Image:
    """A decoded image.

    rgb: (H, W, 3) float32 array, sRGB in [0, 1] (grayscale sources are expanded to 3 channels).
    alpha: (H, W) float32 array in [0, 1], or None when the source had no alpha channel.
    bit_depth: 8 or 16, the depth of the source, used as the default when writing.
    source: the file it came from, if any.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    source: Path | None = None
    grayscale: bool = False

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError(f"rgb must be (H, W, 3), got {self.rgb.shape}")
        if self.alpha is not None and self.alpha.shape != self.rgb.shape[:2]:
            raise ValueError(f"alpha must be {self.rgb.shape[:2]}, got {self.alpha.shape}")

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    def with_rgb(self, rgb: np.ndarray) -> Image:
        """A copy with new colour pixels; alpha is kept when the size is unchanged, dropped
        otherwise (generated images of another size have no meaningful alpha)."""
        alpha = self.alpha if self.alpha is not None and rgb.shape[:2] == self.rgb.shape[:2] else None
        return replace(self, rgb=rgb, alpha=alpha, grayscale=False)
