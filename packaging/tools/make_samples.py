"""Render the sample images that ship with the app (resources/samples/).

They are drawn here from shapes and seeded noise, so they carry no third-party licence:
a line drawing for pix2pix (sketch to photo), a gray landscape for colorize and the same
landscape in colour for cyclegan. Run: python packaging/tools/make_samples.py
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parents[2] / "resources" / "samples"


def line_drawing(size: int = 256) -> np.ndarray:
    """A handbag drawn with black strokes on white (BGR uint8)."""
    page = np.full((size, size, 3), 255, np.uint8)
    black, width = (0, 0, 0), 3
    cv2.rectangle(page, (58, 104), (198, 214), black, width, cv2.LINE_AA)
    cv2.ellipse(page, (128, 104), (46, 52), 0, 180, 360, black, width, cv2.LINE_AA)
    cv2.line(page, (58, 134), (198, 134), black, 2, cv2.LINE_AA)
    cv2.rectangle(page, (116, 126), (140, 146), black, 2, cv2.LINE_AA)
    for x in (74, 182):
        cv2.line(page, (x, 150), (x, 206), black, 1, cv2.LINE_AA)
    return page


def landscape(width: int = 384, height: int = 256, seed: int = 3) -> np.ndarray:
    """Sky, sun, layered hills, a lake and a few trees, with fine noise (BGR uint8)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    sky = np.stack([235 - 0.25 * ys, 190 - 0.1 * ys, 120 + 0.2 * ys], axis=-1)  # BGR: blue to pale
    img = sky.copy()
    cv2.circle(img, (300, 60), 22, (170, 235, 255), -1, cv2.LINE_AA)
    layers = [(150, 18, 0.021, (90, 120, 80)), (175, 14, 0.034, (60, 140, 70)), (200, 10, 0.05, (40, 110, 50))]
    for base, amp, freq, colour in layers:
        ridge = base + amp * np.sin(xs[0] * freq + rng.uniform(0, 6)) + 6 * np.sin(xs[0] * freq * 3.1)
        mask = ys > ridge[None, :]
        img[mask] = np.array(colour, np.float32) * (0.85 + 0.15 * rng.random((int(mask.sum()), 1)))
    lake = (ys > 215) & (np.abs(xs - 150) < 120 - (ys - 215) * 0.5)
    img[lake] = np.array([160, 120, 70], np.float32) + 15 * np.sin(ys[lake] * 1.3)[:, None]
    for x, y, h in ((40, 205, 40), (70, 210, 52), (330, 200, 46), (355, 212, 36)):
        cv2.line(img, (x, y), (x, y - h // 3), (30, 50, 70), 3)
        pts = np.array([[x, y - h], [x - h // 4, y - h // 3], [x + h // 4, y - h // 3]], np.int32)
        cv2.fillPoly(img, [pts], (40, 80, 35), cv2.LINE_AA)
    img += rng.normal(0, 3, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    colour = landscape()
    gray = cv2.cvtColor(cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    samples = [
        ("handbag_sketch.png", line_drawing(), "Line drawing of a handbag", "pix2pix",
         "A black-on-white line drawing: pix2pix turns it into a photo-like object."),
        ("landscape_gray.png", gray, "Black-and-white landscape", "colorize",
         "A grayscale landscape to colour; click it to place colour hints."),
        ("landscape.png", colour, "Landscape", "cyclegan",
         "A colour landscape for unpaired style transfer."),
    ]
    for name, pixels, *_ in samples:
        cv2.imwrite(str(OUT / name), pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    index = [{"file": n, "title": t, "translator": tr, "description": d} for n, _, t, tr, d in samples]
    (OUT / "samples.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
