"""The line-drawing extractor behind `--sketches auto`."""
from __future__ import annotations

import pytest
import torch

from translator.errors import ParameterError
from translator_plugins.pix2pix.sketches import SketchStyle, extract_sketches, xdog

torch.set_num_threads(1)


def object_on_white(batch: int = 2, size: int = 64) -> torch.Tensor:
    """A dark-red disc and a blue square on white, (B, 3, size, size) in [0, 1]."""
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    image = torch.ones(batch, 3, size, size)
    disc = (ys - size * 0.4) ** 2 + (xs - size * 0.35) ** 2 < (size * 0.2) ** 2
    image[:, :, disc] = torch.tensor([0.6, 0.1, 0.1]).view(1, 3, 1)
    square = (ys > size * 0.6) & (ys < size * 0.85) & (xs > size * 0.55) & (xs < size * 0.85)
    image[:, :, square] = torch.tensor([0.1, 0.2, 0.7]).view(1, 3, 1)
    return image


def edges(image: torch.Tensor) -> torch.Tensor:
    """(H, W) True where the luminance changes between neighbours."""
    gray = image.mean(dim=0)
    edge = torch.zeros_like(gray, dtype=torch.bool)
    edge[:, 1:] |= (gray[:, 1:] - gray[:, :-1]).abs() > 0.1
    edge[1:, :] |= (gray[1:, :] - gray[:-1, :]).abs() > 0.1
    return edge


def test_same_seed_same_drawing_other_seed_other_drawing():
    photos = object_on_white()
    first = extract_sketches(photos, seed=3)
    assert torch.equal(first, extract_sketches(photos, seed=3))
    assert not torch.equal(first, extract_sketches(photos, seed=4))
    assert not torch.equal(first[0], first[1])  # each image of a batch draws its own style


def test_output_is_a_clean_binary_ish_grey_drawing():
    photos = object_on_white(batch=4)
    sketches = extract_sketches(photos, seed=0)
    assert sketches.shape == photos.shape and sketches.dtype == photos.dtype
    assert 0 <= sketches.min() and sketches.max() <= 1
    assert torch.equal(sketches[:, 0], sketches[:, 1]) and torch.equal(sketches[:, 1], sketches[:, 2])
    values = sketches[:, 0]
    white, dark = (values > 0.9).float().mean(), (values < 0.2).float().mean()
    assert white > 0.75  # mostly paper
    assert dark > 0.02  # with lines
    assert white + dark > 0.93  # little in between: binary-ish
    # the filled shapes are not painted dark, only their outlines
    assert values[:, 26, 22].mean() > 0.9


def test_lines_are_where_the_edges_are():
    photos = object_on_white(batch=3)
    sketches = extract_sketches(photos, seed=1, style=SketchStyle(rotate=0.0, scale=0.0, shift=0.0))
    edge = edges(photos[0])
    near_edge = torch.nn.functional.max_pool2d(edge[None, None].float(), 7, stride=1, padding=3)[0, 0] > 0
    for sketch in sketches[:, 0]:
        lines = sketch < 0.5
        assert lines.sum() > 0
        assert (lines & near_edge).sum() / lines.sum() > 0.95  # lines lie on edges
        assert (near_edge & lines).sum() / edge.sum() > 0.5  # and outline most of them


def test_jitter_moves_the_drawing_a_little():
    photos = object_on_white(batch=1)
    still = extract_sketches(photos, seed=5, style=SketchStyle(rotate=0.0, scale=0.0, shift=0.0))
    moved = extract_sketches(photos, seed=5, style=SketchStyle(rotate=0.0, scale=0.0, shift=0.05))
    assert not torch.equal(still, moved)
    assert (moved < 0.5).sum() == pytest.approx(float((still < 0.5).sum()), rel=0.25)


def test_thicker_strokes_darken_more_pixels():
    photos = object_on_white(batch=1)
    thin = extract_sketches(photos, seed=2, style=SketchStyle(stroke=(0, 0)))
    thick = extract_sketches(photos, seed=2, style=SketchStyle(stroke=(2, 2)))
    assert (thick < 0.5).sum() > 1.5 * (thin < 0.5).sum()


def test_xdog_of_a_flat_image_is_white():
    flat = torch.full((2, 1, 16, 16), 0.3)
    params = [torch.tensor([1.0, 1.2]), torch.tensor([0.98, 0.99]), torch.tensor([-0.01, -0.01]),
              torch.tensor([200.0, 200.0])]
    assert torch.equal(xdog(flat, *params), torch.ones_like(flat))


@pytest.mark.parametrize("shape", [(3, 8, 8), (1, 1, 8, 8), (1, 4, 8, 8)])
def test_wrong_shapes_are_refused(shape):
    with pytest.raises(ParameterError, match=r"\(B, 3, H, W\)"):
        extract_sketches(torch.rand(shape), seed=0)


def test_canny_style_draws_thin_lines_on_the_edges():
    from translator_plugins.pix2pix.sketches import CANNY

    photos = object_on_white(batch=2)
    sketches = extract_sketches(photos, seed=5, style=SketchStyle(canny=1.0, rotate=0.0, scale=0.0, shift=0.0))
    values = sketches[:, 0]
    assert 0.005 < (values < 0.5).float().mean() < 0.15  # thin lines, mostly paper
    edge = edges(photos[0])
    near_edge = torch.nn.functional.max_pool2d(edge[None, None].float(), 5, stride=1, padding=2)[0, 0] > 0
    assert (values[0] < 0.5)[~near_edge].float().mean() < 0.01  # no ink away from the edges
    assert torch.equal(extract_sketches(photos, 5, CANNY), extract_sketches(photos, 5, CANNY))


def test_mixed_style_uses_both_kinds():
    from translator_plugins.pix2pix.sketches import MIXED

    photos = object_on_white(batch=8)
    mixed = extract_sketches(photos, seed=2, style=MIXED)
    xdog_only = extract_sketches(photos, seed=2, style=SketchStyle(canny=0.0, stroke=MIXED.stroke))
    canny_only = extract_sketches(photos, seed=2, style=SketchStyle(canny=1.0, stroke=MIXED.stroke))
    is_xdog = [torch.equal(mixed[i], xdog_only[i]) for i in range(8)]
    is_canny = [torch.equal(mixed[i], canny_only[i]) for i in range(8)]
    assert all(a != b for a, b in zip(is_xdog, is_canny))  # each image is one style or the other
    assert any(is_xdog) and any(is_canny)


def test_photos_are_told_from_drawings():
    from translator.api.metrics import smooth_noisy_image
    from translator_plugins.pix2pix.sketches import CANNY, MIXED, looks_like_photo

    photos = object_on_white(batch=4)
    assert looks_like_photo(photos)
    assert looks_like_photo(torch.from_numpy(smooth_noisy_image(64, 64)).permute(2, 0, 1)[None])
    assert looks_like_photo(photos.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1) * 0.5 + 0.2)  # grey photo
    for style in (SketchStyle(), CANNY, MIXED):
        assert not looks_like_photo(extract_sketches(photos, seed=1, style=style))
