"""Image files in and out: formats, depths, alpha, orientation, hostile files, safe writing."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from translator.errors import ImageError
from translator.image import Image
from translator.imageio import (
    decode_image_bytes,
    find_images,
    read_image,
    suggest_output_path,
    write_image,
)
from translator.testing import make_image


def _noise(height: int, width: int, channels: int = 3, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    top = np.iinfo(dtype).max
    shape = (height, width, channels) if channels > 1 else (height, width)
    return (np.random.default_rng(seed).random(shape) * top).astype(dtype)


def test_reads_8_bit_colour_as_rgb_floats(tmp_path):
    bgr = _noise(5, 7)
    cv2.imwrite(str(tmp_path / "a.png"), bgr)
    image = read_image(tmp_path / "a.png")
    assert image.rgb.dtype == np.float32 and image.rgb.shape == (5, 7, 3)
    np.testing.assert_allclose(image.rgb * 255, bgr[..., ::-1], atol=1e-3)
    assert image.bit_depth == 8 and image.alpha is None and not image.grayscale
    assert image.source == tmp_path / "a.png"


def test_reads_16_bit_and_keeps_the_depth(tmp_path):
    deep = _noise(4, 6, dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    image = read_image(tmp_path / "deep.png")
    assert image.bit_depth == 16
    np.testing.assert_allclose(image.rgb * 65535, deep[..., ::-1], atol=0.02)


def test_grayscale_is_expanded_and_flagged(tmp_path):
    cv2.imwrite(str(tmp_path / "g.png"), _noise(3, 4, channels=1))
    image = read_image(tmp_path / "g.png")
    assert image.grayscale and image.rgb.shape == (3, 4, 3)
    assert np.array_equal(image.rgb[..., 0], image.rgb[..., 2])


def test_alpha_is_separated(tmp_path):
    bgra = _noise(4, 4, channels=4)
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    image = read_image(tmp_path / "a.png")
    np.testing.assert_allclose(image.alpha * 255, bgra[..., 3], atol=1e-3)
    np.testing.assert_allclose(image.rgb * 255, bgra[..., 2::-1], atol=1e-3)


def test_unicode_path(tmp_path):
    path = tmp_path / "фото 写真 ü.png"
    cv2.imencode(".png", _noise(3, 3))[1].tofile(str(path))
    assert read_image(path).rgb.shape == (3, 3, 3)
    out = write_image(tmp_path / "résultat 結果.png", read_image(path))
    assert out.exists() and read_image(out).rgb.shape == (3, 3, 3)


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((2, 4, 3), np.uint8)
    pixels[0, 0] = (255, 0, 0)  # red top-left in storage order
    exif = PILImage.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    PILImage.fromarray(pixels).save(tmp_path / "r.png", exif=exif.tobytes())
    image = read_image(tmp_path / "r.png")
    assert image.rgb.shape == (4, 2, 3)
    assert image.rgb[0, 1, 0] == 1.0 and image.rgb[0, 1, 1] == 0.0  # red is now top-right


def test_gif_through_pillow(tmp_path):
    PILImage.fromarray(_noise(5, 6)).save(tmp_path / "a.gif")
    assert read_image(tmp_path / "a.gif").rgb.shape == (5, 6, 3)


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"this is text, not an image", "not a readable image"),
])
def test_bad_files_raise_image_error(tmp_path, content, reason):
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises(ImageError, match=reason) as info:
        read_image(tmp_path / "bad.png")
    assert "bad.png" in str(info.value)


def test_truncated_file(tmp_path):
    data = cv2.imencode(".png", _noise(40, 40))[1].tobytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="t.png"):
        read_image(tmp_path / "t.png")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


def test_size_limit_is_checked_from_the_header_before_decoding(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    PILImage.new("RGB", (300, 200)).save(buffer, format="PNG")
    calls = []
    monkeypatch.setattr(cv2, "imdecode", lambda *a: calls.append(a))
    with pytest.raises(ImageError, match="300x200 pixels is more than the limit of 50,000"):
        decode_image_bytes(buffer.getvalue(), "big.png", max_pixels=50_000)
    assert not calls, "the pixels were decoded although the header said too big"


def test_size_limit_from_the_environment(tmp_path, monkeypatch):
    cv2.imwrite(str(tmp_path / "a.png"), _noise(20, 20))
    monkeypatch.setenv("TRANSLATOR_MAX_PIXELS", "100")
    with pytest.raises(ImageError, match="TRANSLATOR_MAX_PIXELS"):
        read_image(tmp_path / "a.png")


def test_decode_bytes_names_the_source():
    data = cv2.imencode(".jpg", _noise(8, 8))[1].tobytes()
    assert decode_image_bytes(data, "clipboard").rgb.shape == (8, 8, 3)
    with pytest.raises(ImageError, match="clipboard"):
        decode_image_bytes(b"\x89PNG garbage", "clipboard")


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_write_keeps_alpha_where_the_format_has_it(tmp_path, suffix):
    image = make_image(9, 5, alpha=True)
    path = write_image(tmp_path / f"out{suffix}", image)
    back = read_image(path)
    assert back.alpha is not None
    np.testing.assert_allclose(back.alpha, image.alpha, atol=1 / 255 + 1e-6)


def test_write_jpeg_drops_alpha(tmp_path):
    back = read_image(write_image(tmp_path / "out.jpg", make_image(9, 5, alpha=True)))
    assert back.alpha is None and back.rgb.shape == (5, 9, 3)


def test_write_16_bit_png_round_trips(tmp_path):
    rgb = np.random.default_rng(1).random((6, 5, 3)).astype(np.float32)
    back = read_image(write_image(tmp_path / "d.png", Image(rgb=rgb, bit_depth=16)))
    assert back.bit_depth == 16
    np.testing.assert_allclose(back.rgb, rgb, atol=1 / 65535)
    with pytest.raises(ImageError, match="16 bits"):
        write_image(tmp_path / "d.jpg", Image(rgb=rgb), bit_depth=16)


def test_write_never_replaces_unless_asked(tmp_path):
    target = tmp_path / "x.png"
    write_image(target, make_image(4, 4))
    before = target.read_bytes()
    with pytest.raises(ImageError, match="already exists"):
        write_image(target, make_image(4, 4, pattern="noise"))
    assert target.read_bytes() == before
    write_image(target, make_image(4, 4, pattern="noise"), overwrite=True)
    assert target.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"], "a temporary file was left behind"


def test_written_files_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        path = write_image(tmp_path / "m.png", make_image(2, 2))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_write_refuses_to_replace_an_input(tmp_path):
    source = tmp_path / "in.png"
    write_image(source, make_image(4, 4))
    with pytest.raises(ImageError, match="input"):
        write_image(tmp_path / "." / "in.png", make_image(4, 4), overwrite=True, protected=[source])


def test_write_unknown_suffix(tmp_path):
    with pytest.raises(ImageError, match=".xyz"):
        write_image(tmp_path / "a.xyz", make_image(2, 2))


def test_find_images(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for name in ["b.png", "A.JPG", "notes.txt", "sub/c.webp", "sub/deeper/d.tif", ".hidden/e.png", ".f.png"]:
        (tmp_path / name).write_bytes(b"x")
    explicit = tmp_path / "notes.txt"
    found = find_images([tmp_path, tmp_path / "b.png", explicit, tmp_path / "missing"])
    names = [p.relative_to(tmp_path).as_posix() for p in found]
    assert names == ["A.JPG", "b.png", "sub/c.webp", "sub/deeper/d.tif", "notes.txt"]
    assert [p.name for p in find_images([tmp_path], recursive=False)] == ["A.JPG", "b.png"]


def test_suggest_output_path_never_collides(tmp_path):
    first = suggest_output_path(tmp_path / "in" / "cat.jpg", tmp_path, "cyclegan")
    assert first == tmp_path / "cat_cyclegan.png"
    first.write_bytes(b"")
    second = suggest_output_path("cat.jpg", tmp_path, "cyclegan")
    assert second.name == "cat_cyclegan-2.png"
    second.write_bytes(b"")
    assert suggest_output_path("cat.jpg", tmp_path, "cyclegan", ".JPG").name == "cat_cyclegan.jpg"
    assert suggest_output_path("cat.jpg", tmp_path, "cyclegan").name == "cat_cyclegan-3.png"
