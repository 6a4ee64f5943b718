"""Splitting a big image into overlapping tiles and blending the results back without seams.

Each tile is a core region plus `overlap` pixels of context borrowed from each neighbour (none at
the image border). Neighbouring tiles therefore share `2 * overlap` pixels; there the outputs are
cross-faded with weights that are zero for the outermost `overlap / 2` pixels of a tile (whose
context is too short) and rise linearly to one, so every blended pixel comes from outputs that saw
at least `overlap / 2` pixels of context. Tile corners lie on the `multiple` grid, so strided
networks see the same pixel phase in every tile.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    """One tile: rows `y0:y1`, columns `x0:x1` of the (padded) image."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0


def tile_side(tile_pixels: int, multiple: int) -> int:
    """Side of a square tile holding at most `tile_pixels` pixels, a multiple of `multiple`."""
    side = int(math.isqrt(max(int(tile_pixels), 1)))
    return max(multiple, side // multiple * multiple)


def plan_tiles(height: int, width: int, *, side: int, overlap: int, multiple: int = 1) -> list[Tile]:
    """Tiles covering a `height` x `width` image (both multiples of `multiple`).

    side: largest tile side (a multiple of `multiple`); overlap: context per side (rounded up
    to `multiple`). Raises `ValueError` when a tile cannot hold its context and a core at least
    as wide (side < 3 * overlap).
    """
    overlap = _round_up(max(overlap, 0), multiple)
    side = side // multiple * multiple
    if side < 3 * overlap or side <= 0:
        raise ValueError(f"tiles of {side} px cannot hold {overlap} px of context on each side "
                         f"and a core as wide; use tiles of at least {3 * overlap} px")
    rows = _spans(height, side, overlap)
    cols = _spans(width, side, overlap)
    return [Tile(y0, y1, x0, x1) for y0, y1 in rows for x0, x1 in cols]


def _spans(length: int, side: int, overlap: int) -> list[tuple[int, int]]:
    """Intervals of at most `side` covering [0, length) whose cores abut: the first core is
    `side - overlap` wide (no context needed before it), inner ones `side - 2 * overlap`, the
    last one whatever remains."""
    if length <= side:
        return [(0, length)]
    bounds = [0, side - overlap]
    while length - bounds[-1] > side - overlap:
        bounds.append(bounds[-1] + side - 2 * overlap)
    bounds.append(length)
    return [(max(start - overlap, 0), min(stop + overlap, length)) for start, stop in zip(bounds, bounds[1:])]


def band_rows(tiles: list[Tile]) -> list[tuple[int, int, list[Tile]]]:
    """Tiles of `plan_tiles` grouped by row: (y0, y1, the row's tiles), top to bottom."""
    rows: list[tuple[int, int, list[Tile]]] = []
    for tile in tiles:
        if rows and rows[-1][0] == tile.y0 and rows[-1][1] == tile.y1:
            rows[-1][2].append(tile)
        else:
            rows.append((tile.y0, tile.y1, [tile]))
    return rows


def blend_weights(tile: Tile, height: int, width: int, overlap: int) -> np.ndarray:
    """(tile.height, tile.width) float32 weights of `tile`'s output, for an image of `height` x
    `width`; edges on the image border get full weight."""
    wy = _ramp(tile.height, overlap, tile.y0 > 0, tile.y1 < height)
    wx = _ramp(tile.width, overlap, tile.x0 > 0, tile.x1 < width)
    return np.outer(wy, wx).astype(np.float32)


def _ramp(length: int, overlap: int, fade_start: bool, fade_end: bool) -> np.ndarray:
    weights = np.ones(length, dtype=np.float32)
    if overlap <= 0:
        return weights
    distance = np.arange(length, dtype=np.float32) + 0.5
    rise = np.clip((distance - overlap / 2) / overlap, 0.0, 1.0)
    if fade_start:
        weights = np.minimum(weights, rise)
    if fade_end:
        weights = np.minimum(weights, rise[::-1])
    return weights


def _round_up(value: int, multiple: int) -> int:
    return -(-int(value) // multiple) * multiple
