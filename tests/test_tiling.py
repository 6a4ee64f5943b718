"""Tile plans cover the image, respect the size grid and the tile size; weights blend to one."""
from __future__ import annotations

import numpy as np
import pytest

from translator.tiling import blend_weights, plan_tiles, tile_side


def test_tile_side_is_on_the_grid():
    assert tile_side(100 * 100, 4) == 100
    assert tile_side(99 * 99, 4) == 96
    assert tile_side(10, 16) == 16


@pytest.mark.parametrize("height, width, side, overlap, multiple", [
    (300, 500, 128, 16, 4), (64, 64, 64, 8, 1), (1000, 37, 200, 24, 8), (257, 129, 96, 32, 1), (1001, 999, 300, 100, 4),
])
def test_plan_covers_everything_within_limits(height, width, side, overlap, multiple):
    tiles = plan_tiles(height, width, side=side, overlap=overlap, multiple=multiple)
    covered = np.zeros((height, width), int)
    weights = np.zeros((height, width), np.float32)
    for tile in tiles:
        assert tile.height <= side and tile.width <= side
        assert tile.y0 % multiple == 0 and tile.x0 % multiple == 0
        covered[tile.y0:tile.y1, tile.x0:tile.x1] += 1
        weights[tile.y0:tile.y1, tile.x0:tile.x1] += blend_weights(tile, height, width, overlap)
    assert covered.min() >= 1
    np.testing.assert_allclose(weights, 1.0, atol=1e-6)


def test_a_small_image_is_one_tile():
    assert len(plan_tiles(50, 60, side=64, overlap=8)) == 1


def test_tiles_must_hold_their_context():
    with pytest.raises(ValueError, match="context"):
        plan_tiles(500, 500, side=47, overlap=16)


def test_weights_ignore_the_outer_half_overlap():
    tiles = plan_tiles(200, 10, side=100, overlap=20)
    first = blend_weights(tiles[0], 200, 10, 20)
    assert first[0, 0] == 1.0  # image border: full weight
    assert (first[-10:, :] == 0).all()  # the last overlap/2 rows lack context
