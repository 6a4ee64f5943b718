"""Edge-aware spreading of colour hints, for every colorize network (it needs none of them).

After Levin, Lischinski and Weiss 2004, "Colorization using Optimization": neighbouring pixels of
similar luminance should get similar colours. A hint asks for a change of chroma at its pixels,
d = hint ab - automatic ab there; the change is spread over the image by minimising

    sum over 8-neighbours r~s of w_rs (d_r - d_s)^2 + eps * sum_r d_r^2 + HINT_WEIGHT * sum_hints (d_r - d_hint)^2

with w_rs = exp(-(L_r - L_s)^2 / (2 * sigma^2)) on the lightness L. The sum is a sparse,
symmetric positive definite system (scipy.sparse, one factorisation for a and b). Inside a region
of even lightness the change holds nearly unchanged; it stops at lightness edges, and the small
`eps` term lets it fade far from the hint, so the network's own colours stay where no hint reaches.
One click on an apple turns the apple red and leaves the table as it was.

The solve runs at a reduced size (`SOLVE_SIZE`), and `guided_upsample` (the fast guided filter of
He and Sun 2015, guided by the full-resolution L) brings chroma back to full size along the edges.

Shapes: L (B, 1, H, W) in [0, 100]; ab and hint ab (B, 2, H, W) in Lab units; mask (B, 1, H, W)
in {0, 1}.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

SOLVE_SIZE = 256
"""Longer side, in pixels, at which hints are spread (about 65 000 unknowns, well under a second)."""
EDGE_SIGMA = 1.5
"""Lightness difference (L units) of neighbours at which their coupling falls to exp(-1/2)."""
TEXTURE_GAIN = 0.5
"""How much the local lightness spread widens `EDGE_SIGMA` (texture conducts, single edges block)."""
REACH = 1.0
"""Fade of a change over an even region, as a fraction of the longer side (sets eps)."""
HINT_WEIGHT = 100.0
"""Weight of the hint pixels' wish (near a hard constraint)."""
GUIDE_RADIUS = 2
"""Box radius of the guided filter, in low-resolution pixels."""
GUIDE_EPS = 4.0
"""Regularisation of the guided filter, in L units squared (edges above ~2 L units are followed)."""


def _check(x: Tensor, channels: int, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} must be (B, {channels}, H, W), got {tuple(x.shape)}")


def _neighbour_pairs(height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (r, s) of 8-neighbours (each pair once) and their distances."""
    import numpy as np

    index = np.arange(height * width).reshape(height, width)
    firsts, seconds, distances = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = index[:height - dy, max(0, -dx):width - max(0, dx)]
        b = index[dy:, max(0, dx):width - max(0, -dx)]
        firsts.append(a.ravel())
        seconds.append(b.ravel())
        distances.append(np.full(a.size, float(np.hypot(dy, dx))))
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(distances)


def affinities(lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L (H, W) in [0, 100] -> (r, s, w): 8-neighbour pairs and their couplings in (0, 1].

    sigma grows over `EDGE_SIGMA` with the texture (the least 3x3 lightness standard deviation
    within 2 pixels, times `TEXTURE_GAIN`), so fine texture inside an object conducts while an
    edge between two even regions blocks; diagonal couplings are divided by their length.
    """
    import cv2
    import numpy as np

    luma = lightness.astype(np.float64)
    mean = cv2.blur(luma, (3, 3), borderType=cv2.BORDER_REFLECT)
    spread = np.sqrt(np.maximum(cv2.blur(luma * luma, (3, 3), borderType=cv2.BORDER_REFLECT) - mean**2, 0.0))
    # the least spread within 2 pixels: high in texture, low beside a lone edge (whose own 3x3
    # windows straddle it)
    texture = cv2.erode(spread, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_REFLECT)
    first, second, distance = _neighbour_pairs(*luma.shape)
    flat, local = luma.ravel(), texture.ravel()
    sigma = EDGE_SIGMA + TEXTURE_GAIN * np.minimum(local[first], local[second])
    weight = np.exp(-((flat[first] - flat[second]) ** 2) / (2 * sigma**2)) / distance
    return first, second, weight


def corrections(lightness: np.ndarray, wanted: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One image: L (H, W), the wanted change of chroma (2, H, W), hint mask (H, W) -> change (2, H, W).

    Solves the sparse system of the module docstring; without hint pixels the change is zero.
    """
    import numpy as np
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    height, width = lightness.shape
    count = height * width
    hinted = mask.ravel() > 0.5
    if not hinted.any():
        return np.zeros((2, height, width), dtype=np.float32)
    first, second, weight = affinities(lightness)
    coupling = sp.coo_matrix((np.concatenate([weight, weight]),
                              (np.concatenate([first, second]), np.concatenate([second, first]))),
                             shape=(count, count)).tocsr()
    eps = 1.0 / (REACH * max(height, width)) ** 2
    diagonal = np.asarray(coupling.sum(axis=1)).ravel() + eps + HINT_WEIGHT * hinted
    system = (sp.diags(diagonal) - coupling).tocsc()
    rhs = HINT_WEIGHT * wanted.reshape(2, count).T.astype(np.float64) * hinted[:, None]
    solved = spla.splu(system, permc_spec="MMD_AT_PLUS_A").solve(rhs)  # (count, 2)
    return solved.T.reshape(2, height, width).astype(np.float32)


def spread_corrections(lightness: Tensor, automatic: Tensor, hint_ab: Tensor, hint_mask: Tensor) -> Tensor:
    """Automatic chroma (B, 2, H, W) corrected by the hints, spread edge-aware over L (B, 1, H, W).

    Returns ab (B, 2, H, W) on `automatic`'s device: automatic + the spread change; equal to
    `automatic` where no hint is given. Raises ValueError for mismatched shapes.
    """
    import torch

    _check(lightness, 1, "L")
    _check(automatic, 2, "automatic ab")
    _check(hint_ab, 2, "hint ab")
    _check(hint_mask, 1, "hint mask")
    if not (lightness.shape[-2:] == automatic.shape[-2:] == hint_ab.shape[-2:] == hint_mask.shape[-2:]):
        raise ValueError(f"L {tuple(lightness.shape)}, ab {tuple(automatic.shape)}, hints "
                         f"{tuple(hint_ab.shape)} and mask {tuple(hint_mask.shape)} differ in size")
    if not bool(hint_mask.any()):
        return automatic
    luma = lightness.detach().float().cpu().numpy()[:, 0]
    wanted = (hint_ab - automatic).detach().float().cpu().numpy()
    masks = hint_mask.detach().float().cpu().numpy()[:, 0]
    change = [torch.from_numpy(corrections(luma[i], wanted[i], masks[i])) for i in range(len(luma))]
    return automatic + torch.stack(change).to(device=automatic.device, dtype=automatic.dtype)


def guided_upsample(source: Tensor, guide: Tensor, full_guide: Tensor, *, radius: int = GUIDE_RADIUS,
                    eps: float = GUIDE_EPS) -> Tensor:
    """Bring `source` (B, C, h, w) to the size of `full_guide` (B, 1, H, W) along its edges.

    `api.filters.guided_upsample` with the guide the low-resolution L (B, 1, h, w) and L units:
    colour edges land on the full-resolution lightness edges instead of a blurred band. Returns
    (B, C, H, W) float32; `source` itself when the sizes already agree. Raises ValueError for
    other shapes.
    """
    from translator.api.filters import guided_upsample as upsample

    return upsample(source, guide, full_guide, radius=radius, eps=eps)
