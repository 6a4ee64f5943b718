"""Line drawings from photos, for training sketch-to-photo from photos alone (`--sketches auto`).

Two drawing styles, mixed per image: the extended difference of Gaussians (XDoG, Winnemoeller et
al. 2012) of the photo's luminance, soft-thresholded into dark lines on white (a pencil-like
drawing), and Canny edges (Canny 1986) at random thresholds: thin, even, pen-like lines, closer
to what people draw with a mouse or a pen. Then strokes are thickened (a grey dilation of the
ink) and the drawing is slightly rotated, scaled and shifted against the photo, as a hand
tracing would be. Every image of a batch draws its own style, scale, thresholds, stroke width
and jitter from a seeded generator, so the network sees varied, human-like drawings and the
same seed always gives the same drawings.

Imports only torch and kornia (lazily: the module is imported when plugins load).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from translator import api

if TYPE_CHECKING:
    from torch import Tensor

K = 1.6
"""Ratio of the two Gaussians' sigmas (the DoG approximation of the Laplacian of Gaussian)."""


def xdog(gray: Tensor, sigma: Tensor, tau: Tensor, epsilon: Tensor, phi: Tensor) -> Tensor:
    """Soft-thresholded extended difference of Gaussians.

    gray: (B, 1, H, W) luminance in [0, 1]; sigma, tau, epsilon, phi: (B,) per image.
    D = G_sigma - tau * G_{1.6 sigma}; out = 1 where D >= epsilon, else 1 + tanh(phi * (D - epsilon)).
    Returns (B, 1, H, W) in [0, 1]: white paper, dark lines on the darker side of edges.
    """
    import kornia
    import torch

    size = 2 * math.ceil(3 * K * float(sigma.max())) + 1
    blur = [kornia.filters.gaussian_blur2d(gray, (size, size), torch.stack([s, s], dim=1), border_type="replicate")
            for s in (sigma, sigma * K)]
    view = (-1, 1, 1, 1)
    dog = blur[0] - tau.view(view) * blur[1]
    edge = dog - epsilon.view(view)
    return torch.where(edge >= 0, torch.ones_like(dog), 1 + torch.tanh(phi.view(view) * edge)).clamp(0, 1)


@dataclass(frozen=True)
class SketchStyle:
    """Ranges the random drawing parameters are drawn from (uniformly).

    sigma: scale of the edges in pixels (bigger: fewer, smoother lines).
    tau: weight of the wide Gaussian (closer to 1: fewer lines inside flat areas).
    epsilon: threshold on the DoG (more negative: only strong edges).
    phi: sharpness of the soft threshold (bigger: crisper, more binary lines).
    stroke: extra stroke width in pixels, an integer in [stroke[0], stroke[1]].
    rotate (degrees), scale (fraction), shift (fraction of the side): the jitter of the drawing.
    canny: probability that an image is drawn with Canny edges instead of XDoG (0: XDoG only).
    canny_sigma: blur before the Canny gradients, in pixels (bigger: fewer, smoother lines).
    canny_low: the low hysteresis threshold on the gradient magnitude of the [0, 1] luminance;
        canny_ratio: the high threshold is canny_low times this.
    """

    sigma: tuple[float, float] = (0.7, 1.3)
    tau: tuple[float, float] = (0.975, 0.995)
    epsilon: tuple[float, float] = (-0.02, -0.005)
    phi: tuple[float, float] = (120.0, 300.0)
    stroke: tuple[int, int] = (0, 1)
    rotate: float = 2.0
    scale: float = 0.03
    shift: float = 0.015
    canny: float = 0.0
    canny_sigma: tuple[float, float] = (0.8, 2.0)
    canny_low: tuple[float, float] = (0.04, 0.12)
    canny_ratio: tuple[float, float] = (1.5, 3.0)


XDOG = SketchStyle()
"""XDoG drawings only (pencil-like lines, the style of the first bundled model)."""
CANNY = SketchStyle(canny=1.0, stroke=(0, 2))
"""Canny drawings only: thin pen lines, 1 to 3 px wide."""
MIXED = SketchStyle(canny=0.5, stroke=(0, 2))
"""Half XDoG, half Canny, strokes 1 to 3 px: what `--sketches auto` trains on."""


def extract_sketches(photos: Tensor, seed: int, style: SketchStyle = SketchStyle()) -> Tensor:
    """Random line drawings of photos.

    photos: (B, 3, H, W) RGB in [0, 1], any device. seed: the same seed (and batch) gives the
    same drawings. Returns (B, 3, H, W) grey drawings in [0, 1] on the photos' device and dtype:
    mostly white (1) with dark lines (near 0) along the edges of the photo.
    Raises `ParameterError` for a wrong shape.
    """
    import kornia
    import torch

    if photos.ndim != 4 or photos.shape[1] != 3:
        raise api.ParameterError(f"photos must be (B, 3, H, W), got {tuple(photos.shape)}")
    batch = photos.shape[0]
    generator = torch.Generator().manual_seed(int(seed))

    def uniform(bounds: tuple[float, float]) -> Tensor:
        low, high = bounds
        values = low + (high - low) * torch.rand(batch, generator=generator, dtype=torch.float64)
        return values.to(device=photos.device, dtype=torch.float32)

    sigma, tau, epsilon, phi = (uniform(r) for r in (style.sigma, style.tau, style.epsilon, style.phi))
    strokes = torch.randint(style.stroke[0], style.stroke[1] + 1, (batch,), generator=generator).tolist()
    angle, scale, shift_x, shift_y = (uniform((-1.0, 1.0)) for _ in range(4))
    use_canny = (torch.rand(batch, generator=generator, dtype=torch.float64) < style.canny).tolist()
    canny_sigma, canny_low, canny_ratio = (uniform(r) for r in (style.canny_sigma, style.canny_low,
                                                                style.canny_ratio))

    gray = kornia.color.rgb_to_grayscale(photos.float())
    ink = 1 - xdog(gray, sigma, tau, epsilon, phi)  # (B, 1, H, W), 1 on the lines
    for i in (i for i, flag in enumerate(use_canny) if flag):
        ink[i:i + 1] = canny_ink(gray[i:i + 1], float(canny_sigma[i]), float(canny_low[i]),
                                 float(canny_low[i] * canny_ratio[i]))
    ink = torch.cat([_thicken(ink[i:i + 1], width) for i, width in enumerate(strokes)])
    ink = _jitter(ink, angle * style.rotate, 1 + scale * style.scale,
                  torch.stack([shift_x, shift_y], dim=1) * style.shift)
    return (1 - ink).clamp(0, 1).expand(-1, 3, -1, -1).to(photos.dtype).contiguous()


def canny_ink(gray: Tensor, sigma: float, low: float, high: float) -> Tensor:
    """Canny edges of (1, 1, H, W) luminance in [0, 1] as ink: (1, 1, H, W), 1 on the 1 px
    lines, 0 elsewhere. `sigma`: Gaussian blur in pixels; `low` < `high`: hysteresis thresholds
    on the gradient magnitude."""
    import kornia

    size = 2 * math.ceil(3 * sigma) + 1
    _, edges = kornia.filters.canny(gray, low, high, (size, size), (sigma, sigma), hysteresis=True)
    return edges.to(gray.dtype)


def _thicken(ink: Tensor, width: int) -> Tensor:
    """Grey dilation of (1, 1, H, W) ink by `width` extra pixels (a (width+1)^2 square)."""
    import torch.nn.functional as F

    if width <= 0:
        return ink
    size = width + 1
    left, top = width // 2, width // 2
    padded = F.pad(ink, (left, width - left, top, width - top))
    return F.max_pool2d(padded, size, stride=1)


def _jitter(ink: Tensor, degrees: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """Rotate (degrees, (B,)), scale ((B,)) about the centre and shift ((B, 2), fractions of
    width and height) each (B, 1, H, W) ink image; what comes in from outside is blank."""
    import kornia
    import torch

    batch, _, height, width = ink.shape
    center = torch.tensor([[(width - 1) / 2, (height - 1) / 2]], device=ink.device).expand(batch, 2)
    matrix = kornia.geometry.transform.get_rotation_matrix2d(center, degrees, torch.stack([scale, scale], dim=1))
    matrix[:, :, 2] += shift * torch.tensor([width, height], device=ink.device)
    return kornia.geometry.transform.warp_affine(ink, matrix, (height, width), padding_mode="zeros")


PHOTO_TONE_FRACTION = 0.4
"""`looks_like_photo`: more than this fraction of mid-tone or coloured pixels is a photo."""
PHOTO_COLOUR_FRACTION = 0.05
"""`looks_like_photo`: more than this fraction of clearly coloured pixels is a photo."""


def looks_like_photo(images: Tensor) -> bool:
    """True when (B, 3, H, W) RGB in [0, 1] is clearly a photo rather than a line drawing.

    A drawing is mostly paper (near white) with dark grey lines. An image counts as a photo when,
    on average over the batch, more than `PHOTO_COLOUR_FRACTION` of its pixels are clearly
    coloured (max - min of RGB > 0.15) or more than `PHOTO_TONE_FRACTION` are mid-tones
    (luminance in (0.2, 0.8)) or coloured. Drawings made by `extract_sketches` score 0 and
    about 0.05 (at most 0.21 seen on the objects set).
    """
    x = images.float().clamp(0, 1)
    luminance = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    coloured = (x.amax(dim=1) - x.amin(dim=1)) > 0.15
    tone = ((luminance > 0.2) & (luminance < 0.8)) | coloured
    return bool(coloured.float().mean() > PHOTO_COLOUR_FRACTION or tone.float().mean() > PHOTO_TONE_FRACTION)
