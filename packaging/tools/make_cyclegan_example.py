"""Render docs/images/cyclegan_example.jpg: the sample landscape (left) and the bundled
`photo2painting` model's painting of it (right), side by side with an 8 px white gap.

Run: python packaging/tools/make_cyclegan_example.py [--out docs/images/cyclegan_example.jpg]
"""
from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "samples" / "landscape.png"
GAP = 8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "cyclegan_example.jpg")
    args = parser.parse_args()

    import cv2
    import numpy as np

    from translator.engine import Engine
    from translator.imageio import read_image
    from translator.plugins import load_registry
    from translator.store import ModelStore

    registry = load_registry(third_party=False)
    store = ModelStore(registry)
    entry = store.get("photo2painting", "cyclegan")
    photo = read_image(SAMPLE)
    painted = Engine("cpu", "fp32").run(registry.translator("cyclegan"), store.load(entry), photo,
                                        {"direction": "AtoB"})
    gap = np.ones((photo.height, GAP, 3), np.float32)
    row = np.concatenate([photo.rgb, gap, painted.rgb], axis=1)
    bgr = (np.clip(row, 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
