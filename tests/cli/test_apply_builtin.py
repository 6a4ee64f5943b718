"""A built-in plugin end to end on the CPU: import a reference CycleGAN generator file, run
`translator apply` over a folder with it, and get a clear error for the missing direction."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import safe_open

from translator.cli.main import main

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "cyclegan_reference_golden.safetensors"


def _reference_generator_file(path: Path) -> Path:
    """A generator file with the reference key layout (ngf 8, 2 blocks), seeded weights."""
    with safe_open(str(GOLDEN), "pt") as fh:
        layout = json.loads(fh.metadata()["layout"])
    generator = torch.Generator().manual_seed(0)
    state = {key: (torch.zeros(shape, dtype=torch.long) if key.endswith("num_batches_tracked")
                   else torch.randn(shape, generator=generator) * 0.1) for key, shape in layout}
    torch.save(state, path)
    return path


def test_import_then_apply_over_a_folder(tmp_path, capsys):
    weights = _reference_generator_file(tmp_path / "latest_net_G_A.pth")
    assert main(["models", "import", str(weights), "--plugin", "cyclegan", "--name", "tiny"]) == 0
    inputs = tmp_path / "in photos"
    (inputs / "nested").mkdir(parents=True)
    rng = np.random.default_rng(0)
    cv2.imwrite(str(inputs / "odd.png"), (rng.random((33, 25, 3)) * 255).astype(np.uint8))
    cv2.imwrite(str(inputs / "nested" / "wide.jpg"), (rng.random((16, 70, 3)) * 255).astype(np.uint8))
    out = tmp_path / "out"
    capsys.readouterr()

    status = main(["apply", "--plugin", "cyclegan", "--model", "tiny", "--param", "direction=AtoB",
                   "--device", "cpu", "--quiet", str(inputs), "-o", str(out)])
    assert status == 0, capsys.readouterr().err
    assert cv2.imread(str(out / "odd_cyclegan.png")).shape == (33, 25, 3)
    assert cv2.imread(str(out / "wide_cyclegan.png")).shape == (16, 70, 3)

    status = main(["apply", "--plugin", "cyclegan", "--model", "tiny", "--param", "direction=BtoA",
                   "--quiet", str(inputs / "odd.png"), "-o", str(tmp_path / "back")])
    err = capsys.readouterr().err
    assert status == 1 and "BtoA" in err and "odd.png" in err
