"""Tiny image folders and a tiny CycleGAN command line for the training tests."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

TINY_CYCLEGAN = ["--plugin", "cyclegan", "--from", "scratch", "--size", "32", "--load-size", "36",
                 "--ngf", "4", "--ndf", "4", "--n-blocks", "1", "--n-layers-d", "2", "--workers", "0",
                 "--quiet", "--device", "cpu"]
"""A CycleGAN small enough for a CPU test: ~3k parameters, 32 px crops."""


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def write_images(folder: Path, count: int, *, tint: tuple[float, float, float] = (1.0, 1.0, 1.0),
                 size: tuple[int, int] = (40, 48), seed: int = 0, suffix: str = ".png") -> list[Path]:
    """`count` smooth random colour images (H, W = size) tinted by `tint`, written with OpenCV."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    height, width = size
    for i in range(count):
        low = rng.random((4, 4, 3)).astype(np.float32)
        rgb = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 1) * np.float32(tint)
        path = folder / f"img_{i:03d}{suffix}"
        cv2.imwrite(str(path), cv2.cvtColor((rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


@pytest.fixture
def tiny_cyclegan(tmp_path: Path) -> list[str]:
    """`translator-train` arguments for a tiny CPU CycleGAN with its runs under tmp_path/runs."""
    return [*TINY_CYCLEGAN, "--out", str(tmp_path / "runs")]


@pytest.fixture
def image_writer() -> Callable[..., list[Path]]:
    """`image_writer(folder, count, tint=..., size=(H, W), seed=0, suffix=".png")` (see `write_images`)."""
    return write_images


@pytest.fixture
def unpaired(tmp_path: Path) -> Callable[..., tuple[Path, Path]]:
    """`unpaired(count=6)` -> (folder A, folder B): reddish images in A, bluish in B."""

    def make(count: int = 6) -> tuple[Path, Path]:
        a, b = tmp_path / "photos", tmp_path / "paintings"
        write_images(a, count, tint=(1.0, 0.5, 0.3), seed=1)
        write_images(b / "nested", count, tint=(0.3, 0.5, 1.0), seed=2)
        return a, b

    return make
