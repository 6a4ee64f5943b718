"""Image files cannot make a reader decode or allocate more than the pixel limit allows.

Bombs are built here (tiny on disk: the pixel data is a deflate stream of zeros made by
repeating one flushed block) and read in a child process capped about 1.5 GB above idle
(`memory_limit.run_cases`), which also reports how far each read raised the peak memory.
"""
from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from bombs import png_bomb
from memory_limit import needs_rlimit, run_cases
from PIL import Image as PILImage

from translator.errors import ImageError
from translator.imageio import DEFAULT_MAX_PIXELS, decode_image_bytes, pixel_limit, read_image


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("image-bombs")
    (folder / "bomb.png").write_bytes(png_bomb(12_000, 12_000))  # 432 MB decoded, under the cap
    (folder / "huge.png").write_bytes(png_bomb(25_000, 25_000))  # 1.9 GB decoded, over it
    (folder / "bomb.hdr").write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 30000 +X 30000\n" + bytes(64))
    (folder / "bomb.pam").write_bytes(b"P7\nWIDTH 30000\nHEIGHT 30000\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\n"
                                      b"ENDHDR\n" + bytes(64))
    (folder / "bomb.pfm").write_bytes(b"PF\n30000 30000\n-1.0\n" + bytes(64))
    bomb = png_bomb(12_000, 12_000)  # an icon whose directory says 256 x 256 but holds a PNG bomb
    (folder / "bomb.ico").write_bytes(struct.pack("<HHHBBBBHHII", 0, 1, 1, 0, 0, 0, 0, 1, 32, len(bomb), 22) + bomb)
    (folder / "deep.pam").write_bytes(b"P7\nWIDTH 10\nHEIGHT 10\nDEPTH 100000\nMAXVAL 255\nENDHDR\n" + bytes(64))
    assert all(f.stat().st_size < 3_000_000 for f in folder.iterdir())
    return run_cases(f"""
        from pathlib import Path
        from translator.imageio import read_image
        from translator_plugins.stylegan import generate
        folder = Path({str(folder)!r})
        for name in ("bomb.png", "huge.png", "bomb.hdr", "bomb.pam", "bomb.pfm", "deep.pam", "bomb.ico"):
            case(name, lambda name=name: read_image(folder / name, max_pixels=1_000_000))
        case("default limit", lambda: read_image(folder / "huge.png"))
        case("stylegan source", lambda: generate.read_image(folder / "bomb.png"))
    """)


@needs_rlimit
@pytest.mark.parametrize("name, size", [("bomb.png", "12000x12000"), ("huge.png", "25000x25000"),
                                        ("bomb.hdr", "30000x30000"), ("bomb.pam", "30000x30000"),
                                        ("bomb.pfm", "30000x30000")])
def test_bombs_are_refused_from_the_header_without_decoding(bombs, name, size):
    assert bombs[name].endswith(f"{name}: {size} pixels is more than the limit of 1,000,000 "
                                "(set TRANSLATOR_MAX_PIXELS to allow bigger images)"), bombs[name]
    assert bombs["peak MB"][name] < 64, f"{name} raised the peak memory by {bombs['peak MB'][name]} MiB"


@needs_rlimit
def test_bombs_are_refused_at_the_default_limit_and_by_the_stylegan_source_reader(bombs):
    assert "25000x25000 pixels is more than the limit of 16,000,000" in bombs["default limit"]
    assert bombs["stylegan source"].startswith("DataError: ") and "more than the limit" in bombs["stylegan source"]
    assert max(bombs["peak MB"].values()) < 64, bombs["peak MB"]


@needs_rlimit
def test_formats_whose_open_decodes_are_refused(bombs):
    assert bombs["bomb.ico"].endswith("bomb.ico: not a readable image (unrecognised format)")
    assert bombs["peak MB"]["bomb.ico"] < 64


@needs_rlimit
def test_pam_with_absurd_depth_is_not_decoded(bombs):
    assert "its size cannot be read before decoding" in bombs["deep.pam"]


def test_png_exif_after_the_pixels_is_still_applied():
    data = png_bomb(40, 20, exif_orientation=6)  # rotate 90 degrees clockwise
    image = decode_image_bytes(data, "rotated.png")
    assert image.rgb.shape == (40, 20, 3)


def test_formats_opencv_decodes_are_read_after_a_size_check():
    bgr = (np.random.default_rng(0).random((13, 21, 3)) * 255).astype(np.uint8)
    for suffix in (".pfm", ".hdr", ".pam", ".ppm", ".sr", ".bmp", ".tif", ".webp", ".gif"):
        array = bgr.astype(np.float32) / 255 if suffix in (".pfm", ".hdr") else bgr
        encoded = cv2.imencode(suffix, array)[1].tobytes()
        assert decode_image_bytes(encoded, f"a{suffix}").rgb.shape == (13, 21, 3), suffix
        with pytest.raises(ImageError, match=f"a{suffix}: 21x13 pixels is more than the limit of 200"):
            decode_image_bytes(encoded, f"a{suffix}", max_pixels=200)


def test_pillow_only_formats_are_checked_too():
    buffer = io.BytesIO()
    PILImage.new("RGB", (30, 20)).save(buffer, format="TGA")
    assert decode_image_bytes(buffer.getvalue(), "a.tga").rgb.shape == (20, 30, 3)
    with pytest.raises(ImageError, match="30x20 pixels is more than the limit of 100"):
        decode_image_bytes(buffer.getvalue(), "a.tga", max_pixels=100)


def test_jpeg2000_size_comes_from_the_codestream_opencv_decodes():
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48)).save(buffer, format="JPEG2000")
    data = bytearray(buffer.getvalue())
    siz = data.find(b"\xff\x4f\xff\x51")
    data[siz + 8:siz + 16] = struct.pack(">II", 40_000, 40_000)  # the codestream claims 40000 x 40000
    with pytest.raises(ImageError, match="40000x40000 pixels is more than the limit"):
        decode_image_bytes(bytes(data), "forged.jp2", max_pixels=1_000_000)


def test_unrecognised_bytes_name_the_source_not_a_python_object():
    with pytest.raises(ImageError) as caught:
        decode_image_bytes(b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(50), "dropped file")
    assert str(caught.value) == "dropped file: not a readable image (unrecognised format)"
    with pytest.raises(ImageError) as caught:
        decode_image_bytes(b"\x89PNG\r\n\x1a\n" + bytes(30), "pasted")
    assert "object at 0x" not in str(caught.value) and str(caught.value).startswith("pasted: ")


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "0", "abc", "1e400", "12.5", "1.2.3"])
def test_bad_pixel_limit_in_the_environment_is_one_clear_line(monkeypatch, value):
    monkeypatch.setenv("TRANSLATOR_MAX_PIXELS", value)
    with pytest.raises(ImageError, match=r"^TRANSLATOR_MAX_PIXELS=.* is not a number of pixels; set a whole"):
        pixel_limit()


@pytest.mark.parametrize("value, expected", [("", DEFAULT_MAX_PIXELS), ("2e8", 200_000_000),
                                             ("50_000_000", 50_000_000), (" 1,000,000 ", 1_000_000)])
def test_pixel_limit_forms(monkeypatch, value, expected):
    monkeypatch.setenv("TRANSLATOR_MAX_PIXELS", value)
    assert pixel_limit() == expected


def test_the_pillow_limit_stays_on():
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4)).save(buffer, format="TGA")
    decode_image_bytes(buffer.getvalue(), "x.tga", max_pixels=500)
    assert PILImage.MAX_IMAGE_PIXELS == 500


def test_a_file_larger_than_any_image_within_the_limit_is_not_read(tmp_path):
    path = tmp_path / "huge.png"
    with path.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(16 * 1_000 + 64 * 1024**2 + 1)
    with pytest.raises(ImageError, match="bytes is more than an image of at most 1,000 pixels can take"):
        read_image(path, max_pixels=1_000)
