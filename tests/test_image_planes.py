"""Images keep integer planes: decoding, the float view, writing, and the engine's tiled path that
reads tiles from integer planes and writes rows of tiles into an integer result."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from translator import api
from translator.engine import Engine
from translator.errors import PluginError
from translator.image import Image, quantize, to_float
from translator.imageio import read_image, write_image
from translator.tiling import band_rows, blend_weights, plan_tiles


class LocalNet(nn.Module):
    """3x3 convolution then a sigmoid: an output pixel depends on a 3x3 neighbourhood."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")

    def forward(self, x):
        return torch.sigmoid(self.conv(x * 2 - 1))


def _spec(**overrides) -> api.TranslatorSpec:
    fields = dict(name="local", title="Local", description="test", task=api.TaskKind.IMAGE_TO_IMAGE,
                  build=lambda config: LocalNet(), translate=lambda m, x, p, c: m(x.to(c.dtype)), tileable=True, tile_overlap=8, size_multiple=4)
    fields.update(overrides)
    return api.TranslatorSpec(**fields)


def _noise(height: int, width: int, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    top = 255 if dtype == np.uint8 else 65535
    return np.random.default_rng(seed).integers(0, top + 1, size=(height, width, 3)).astype(dtype)


def test_integer_planes_have_a_float_view_made_once():
    planes = _noise(5, 7)
    image = Image(planes)
    assert image.pixels is planes and image.rgb.dtype == np.float32
    np.testing.assert_allclose(image.rgb, planes / 255.0, atol=1e-7)
    assert image.rgb is image.rgb
    assert image.nbytes == planes.nbytes + image.rgb.nbytes
    floats = np.zeros((2, 3, 3), dtype=np.float32)
    assert Image(rgb=floats).rgb is floats


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), dtype=np.int64), np.zeros((4, 4), dtype=np.uint8)])
def test_bad_planes_are_refused(bad):
    with pytest.raises(ValueError):
        Image(bad)


def test_quantize_rounds_clips_and_maps_nan_to_zero():
    values = np.array([-1.0, 0.0, 0.5 / 255 - 1e-6, 0.5 / 255 + 1e-6, 1.0, 2.0, np.nan], dtype=np.float32)
    np.testing.assert_array_equal(quantize(values, np.uint8), [0, 0, 0, 1, 255, 255, 0])
    assert quantize(np.array([1.0]), np.uint16)[0] == 65535
    np.testing.assert_array_equal(to_float(np.array([0, 255], dtype=np.uint8)), [0.0, 1.0])


@pytest.mark.parametrize("dtype,depth", [(np.uint8, 8), (np.uint16, 16)])
def test_files_decode_to_integer_planes_and_write_back_exactly(tmp_path, dtype, depth):
    import cv2

    planes = _noise(9, 11, dtype)
    cv2.imwrite(str(tmp_path / "in.png"), planes[..., ::-1])
    image = read_image(tmp_path / "in.png")
    assert image.pixels.dtype == dtype and image.bit_depth == depth
    np.testing.assert_array_equal(image.pixels, planes)
    write_image(tmp_path / "out.png", image)
    np.testing.assert_array_equal(read_image(tmp_path / "out.png").pixels, planes)


def test_band_rows_group_tiles_row_by_row():
    tiles = plan_tiles(100, 60, side=40, overlap=8, multiple=4)
    rows = band_rows(tiles)
    assert [t for _, _, row in rows for t in row] == tiles
    assert all(t.y0 == y0 and t.y1 == y1 for y0, y1, row in rows for t in row)
    assert [y0 for y0, _, _ in rows] == sorted({t.y0 for t in tiles})


def _blend_everything_at_once(model, image: Image, tiles, overlap: int) -> np.ndarray:
    """The blend written the simple way: a float canvas of the whole image."""
    height, width = image.height, image.width
    total = np.zeros((height, width, 3), dtype=np.float32)
    weight = np.zeros((height, width, 1), dtype=np.float32)
    floats = torch.from_numpy(image.rgb).permute(2, 0, 1)[None]
    with torch.inference_mode():
        for tile in tiles:
            out = model(floats[..., tile.y0:tile.y1, tile.x0:tile.x1])[0].permute(1, 2, 0).numpy()
            w = blend_weights(tile, height, width, overlap)[..., None]
            total[tile.y0:tile.y1, tile.x0:tile.x1] += out * w
            weight[tile.y0:tile.y1, tile.x0:tile.x1] += w
    return total / weight


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiled_rows_blend_like_one_canvas_into_integer_planes(dtype):
    image = Image(_noise(92, 76, dtype, seed=3), bit_depth=8 if dtype == np.uint8 else 16)
    model = LocalNet()
    result = Engine("cpu", "fp32", tile_pixels=32 * 32).run(_spec(), model, image)
    assert result.pixels.dtype == dtype and result.pixels.shape == (92, 76, 3)
    tiles = plan_tiles(92, 76, side=32, overlap=8, multiple=4)
    assert len(band_rows(tiles)) > 2
    expected = quantize(_blend_everything_at_once(model, image, tiles, 8), np.dtype(dtype))
    difference = np.abs(result.pixels.astype(np.int64) - expected.astype(np.int64))
    assert difference.max() <= 1  # rounding of float sums taken in another order


def test_integer_and_float_inputs_agree_and_odd_sizes_are_padded():
    planes = _noise(61, 45, seed=5)
    model = LocalNet()
    engine = Engine("cpu", "fp32", tile_pixels=32 * 32)
    as_int = engine.run(_spec(), model, Image(planes))
    as_float = engine.run(_spec(), model, Image(rgb=to_float(planes)))
    assert as_int.pixels.dtype == np.uint8 and as_float.pixels.dtype == np.float32
    assert np.abs(as_int.rgb - as_float.rgb).max() <= 0.5 / 255 + 1e-6
    whole = Engine("cpu", "fp32").run(_spec(), model, Image(planes))
    assert whole.pixels.dtype == np.float32  # one tile: not rounded
    assert np.abs(whole.rgb - as_int.rgb).max() <= 0.5 / 255 + 1e-5


def test_nan_in_a_tile_is_still_reported_with_integer_output():
    def translate(model, images, params, ctx):
        return torch.full_like(images, float("nan"))

    with pytest.raises(PluginError, match="NaN"):
        Engine("cpu", "fp32", tile_pixels=32 * 32).run(_spec(translate=translate), LocalNet(), Image(_noise(50, 50)))
