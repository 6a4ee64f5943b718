"""`translator apply` over a folder with good and hostile inputs, through the real engine."""
from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from translator.cli.main import main


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) \
        + chunk(b"IEND", b"")


def _hostile_folder(folder: Path) -> dict[str, bool]:
    """Files by name -> whether a correct result is expected."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    good = (rng.random((20, 30, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(folder / "photo one.png"), good)
    cv2.imwrite(str(folder / "tiny.png"), good[:1, :1])
    cv2.imwrite(str(folder / "deep.png"), (rng.random((9, 7, 3)) * 65535).astype(np.uint16))
    cv2.imwrite(str(folder / "alpha.png"), np.dstack([good, np.full((20, 30), 128, np.uint8)]))
    cv2.imwrite(str(folder / "gray.jpg"), good[..., 0])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("this is text, not an image")
    encoded = cv2.imencode(".png", good)[1].tobytes()
    (folder / "truncated.png").write_bytes(encoded[: len(encoded) // 2])
    (folder / "bomb.png").write_bytes(_png_claiming(100_000, 100_000))
    return {"photo one.png": True, "tiny.png": True, "deep.png": True, "alpha.png": True, "gray.jpg": True,
            "empty.png": False, "notes.png": False, "truncated.png": False, "bomb.png": False}


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_apply_over_hostile_folder(example_distribution, tmp_path, capsys):
    inputs = tmp_path / "in"
    expected = _hostile_folder(inputs)
    before = _digests(inputs)
    out = tmp_path / "out"
    status = main(["apply", "--plugin", "sepia", "--param", "strength=0.5", "--quiet", str(inputs), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert _digests(inputs) == before, "an input file was modified"
    for name, ok in expected.items():
        result = out / f"{Path(name).stem}_sepia.png"
        assert result.exists() == ok, (name, err)
        if not ok:
            assert name in err
    assert "4 of 9 input(s) failed" in err
    alpha = cv2.imread(str(out / "alpha_sepia.png"), cv2.IMREAD_UNCHANGED)
    assert alpha.shape == (20, 30, 4) and abs(int(alpha[..., 3].mean()) - 128) <= 1
    assert cv2.imread(str(out / "tiny_sepia.png")).shape[:2] == (1, 1)


def test_apply_never_overwrites_existing_outputs(example_distribution, tmp_path):
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    out = tmp_path / "out"
    assert main(["apply", "--plugin", "sepia", "--quiet", str(image), "-o", str(out)]) == 0
    assert main(["apply", "--plugin", "sepia", "--quiet", str(image), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a_sepia-2.png", "a_sepia.png"]


def test_apply_reports_bad_parameter_and_missing_input(example_distribution, tmp_path, capsys):
    assert main(["apply", "--plugin", "sepia", "--param", "strength=7", str(tmp_path), "-o", str(tmp_path)]) == 2
    assert "strength" in capsys.readouterr().err
    assert main(["apply", "--plugin", "sepia", str(tmp_path / "missing.png"), "-o", str(tmp_path / "o")]) == 1
    assert "missing.png: no such file" in capsys.readouterr().err
