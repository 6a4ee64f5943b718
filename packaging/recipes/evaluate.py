"""Measure the bundled models on held-out images and print the README's table figures.

    python packaging/recipes/evaluate.py [--shared ../shared] [--only PLUGIN ...] [--limit N]
        [--models DIR] [--device cpu] [--json FILE]

Every figure is measured on images the training never used, split as the recipes split them
(`bundled.split_held_out`: a seeded 10 % of a data folder; colorize: the photo sources its recipe
holds out when it names them in `HELD_OUT_SOURCES`):
- cyclegan `photo2painting`: cycle PSNR photo -> painting -> photo (held-out photos, own size).
- pix2pix `objects-sketch2photo`: PSNR/SSIM against the photo of the output from an XDoG drawing
  (the plugin's `extract_sketches`) and from a Canny drawing (OpenCV, thresholds 100/200, dark
  lines on white), each beside the drawing's own PSNR/SSIM (held-out objects, 128 px).
- colorize `photos-unet`: PSNR/SSIM/colourfulness of the automatic colours and PSNR/SSIM with 10
  true-colour hints (the recipe's `simulated_points`), beside the gray image's (held-out photos).
- stylegan `objects64`: held-out SWD (the recipe's `measure`).
- every generator: the spectral artifact ratio (`translator.api.metrics`) of its output for a
  smooth, noisy 256 px test image (stylegan: of generated images, the largest over 8 seeds).
The models are read from plugins/<plugin>/models/ (or --models DIR/<plugin>/, where train_all.py
--out writes them). The card's stored figure is printed beside each measured one.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bundled import ROOT, find
from bundled import held_out_files as held_out

MODELS = {"cyclegan": "photo2painting", "pix2pix": "objects-sketch2photo", "colorize": "photos-unet",
          "stylegan": "objects64"}
PIX2PIX_SIZE = 128
SKETCH_SEED = 7
CANNY_THRESHOLDS = (100, 200)
ARTIFACT_SIZE = 256


def colorize_held_out(photos: Path) -> list[Path]:
    """The colorize recipe's held-out photos: whole sources when it names them, else `held_out`."""
    import train_colorize

    sources = getattr(train_colorize, "HELD_OUT_SOURCES", None)
    if not sources:
        return held_out(photos)
    return [f for f in find(photos) if f.name.split("_", 1)[0] in sources]


def _tensor(rgb: Any) -> Any:
    import numpy as np
    import torch

    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).unsqueeze(0).float().clamp(0, 1)


def _psnr_ssim(output: Any, target: Any) -> tuple[float, float]:
    import kornia

    return float(kornia.metrics.psnr(output, target, 1.0)), float(kornia.metrics.ssim(output, target, 11).mean())


def artifact_ratio(run: Callable[[Any], Any]) -> float:
    """Spectral artifact ratio of `run(image)` (an `Image` -> `Image`) for the smooth noisy input."""
    from translator.api import metrics
    from translator.image import Image

    source = metrics.smooth_noisy_image(ARTIFACT_SIZE, ARTIFACT_SIZE)
    return float(metrics.spectral_artifact_ratio(run(Image(rgb=source)).rgb))


def cyclegan(spec: Any, model: Any, engine: Any, shared: Path, limit: int | None) -> dict[str, float]:
    import numpy as np

    from translator.api import metrics
    from translator.imageio import read_image

    photos = held_out(shared / "datasets" / "photos")[:limit]
    scores = []
    for path in photos:
        image = read_image(path)
        back = engine.run(spec, model, engine.run(spec, model, image, {"direction": "AtoB"}), {"direction": "BtoA"})
        scores.append(metrics.psnr(back.rgb, image.rgb))
    return {"heldout_photos": len(photos), "cycle_psnr_db": round(float(np.mean(scores)), 2),
            "artifact_ratio_AtoB": round(artifact_ratio(lambda im: engine.run(spec, model, im, {"direction": "AtoB"})), 1),
            "artifact_ratio_BtoA": round(artifact_ratio(lambda im: engine.run(spec, model, im, {"direction": "BtoA"})), 1)}


def canny_drawing(rgb: Any) -> Any:
    """Dark Canny edges (`CANNY_THRESHOLDS`) on white, (H, W, 3) float32 in [0, 1]."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor((rgb * 255).round().astype(np.uint8), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, *CANNY_THRESHOLDS)
    return np.repeat((1.0 - edges.astype(np.float32) / 255)[..., None], 3, axis=2)


def pix2pix(spec: Any, model: Any, engine: Any, shared: Path, limit: int | None) -> dict[str, float]:
    import cv2
    import numpy as np
    from translator_plugins.pix2pix.sketches import extract_sketches

    from translator.image import Image
    from translator.imageio import read_image

    photos = held_out(shared / "datasets" / "objects")[:limit]
    rows: dict[str, list[float]] = {}
    for index, path in enumerate(photos):
        rgb = cv2.resize(read_image(path).rgb, (PIX2PIX_SIZE, PIX2PIX_SIZE), interpolation=cv2.INTER_AREA)
        target = _tensor(rgb)
        drawings = {"xdog": extract_sketches(target, SKETCH_SEED + index)[0].permute(1, 2, 0).numpy().copy(),
                    "canny": canny_drawing(rgb)}
        for style, drawing in drawings.items():
            output = _tensor(engine.run(spec, model, Image(rgb=drawing), {}).rgb)
            for name, value in zip(("psnr_db", "ssim"), _psnr_ssim(output, target)):
                rows.setdefault(f"{style}_{name}", []).append(value)
            for name, value in zip(("psnr_db", "ssim"), _psnr_ssim(_tensor(drawing), target)):
                rows.setdefault(f"{style}_drawing_{name}", []).append(value)
    out: dict[str, float] = {"heldout_objects": len(photos)}
    out.update({k: round(float(np.mean(v)), 4 if "ssim" in k else 2) for k, v in rows.items()})
    out["artifact_ratio"] = round(artifact_ratio(lambda im: engine.run(spec, model, im, {})), 1)
    return out


def colorize(spec: Any, model: Any, engine: Any, shared: Path, limit: int | None) -> dict[str, float]:
    import numpy as np
    import torch
    import train_colorize
    from translator_plugins.colorize import lab, metrics

    from translator.image import Image
    from translator.imageio import read_image

    photos = colorize_held_out(shared / "datasets" / "photos")[:limit]
    rows: dict[str, list[float]] = {}

    def add(key: str, value: Any) -> None:
        rows.setdefault(key, []).append(float(value))

    for index, path in enumerate(photos):
        truth_rgb = read_image(path).rgb
        truth = _tensor(truth_rgb)
        gray = lab.lab_to_rgb(lab.lightness(truth), torch.zeros(1, 2, *truth.shape[-2:]))
        gray_image = Image(rgb=gray[0].permute(1, 2, 0).numpy().copy(), grayscale=True)
        auto = _tensor(engine.run(spec, model, gray_image, {}).rgb)
        hints = train_colorize.simulated_points(truth_rgb, train_colorize.HINT_SEED + index)
        hinted = _tensor(engine.run(spec, model, gray_image, {"hints": hints}).rgb)
        for name, image in (("auto", auto), ("gray", gray), ("hints", hinted)):
            add(f"{name}_psnr_db", metrics.psnr(image, truth)[0])
            add(f"{name}_ssim", metrics.ssim(image, truth)[0])
        add("auto_colourfulness", metrics.colourfulness(auto)[0])
        add("truth_colourfulness", metrics.colourfulness(truth)[0])
    out: dict[str, float] = {"heldout_photos": len(photos), "hints": len(hints) if photos else 0}
    out.update({k: round(float(np.mean(v)), 4 if "ssim" in k else 2) for k, v in rows.items()})

    def gray_in(image: Any) -> Any:
        return engine.run(spec, model, Image(rgb=np.repeat(image.rgb.mean(axis=2, keepdims=True), 3, axis=2),
                                             grayscale=True), {})

    out["artifact_ratio"] = round(artifact_ratio(gray_in), 1)
    return out


def stylegan(spec: Any, model: Any, engine: Any, shared: Path, limit: int | None) -> dict[str, float]:
    import train_stylegan

    from translator.api import metrics

    objects = shared / "datasets" / "objects"
    held = held_out(objects)
    training = [f for f in find(objects) if f not in set(held)]
    measured = train_stylegan.measure(model.cpu().eval(), held, training)
    images = train_stylegan.generate(model, range(8))
    ratios = [metrics.spectral_artifact_ratio(im.permute(1, 2, 0).numpy()) for im in images]
    return {k: v for k, v in measured.items() if not isinstance(v, str)} | {"artifact_ratio": round(max(ratios), 1)}


MEASURES = {"cyclegan": cyclegan, "pix2pix": pix2pix, "colorize": colorize, "stylegan": stylegan}


def load(plugin: str, models: Path | None) -> tuple[Any, Any, dict[str, Any]]:
    """(spec, model, card dict) of a bundled model, from plugins/<plugin>/models or `models`/<plugin>."""
    from translator.plugins import load_registry
    from translator.store import ModelStore

    registry = load_registry()
    spec = registry.translator(plugin)
    if models is None:
        store = ModelStore(registry)
        entry = store.get(MODELS[plugin], plugin)
        return spec, store.load(entry), entry.card.to_dict()
    folder = models / plugin
    card_path = next(iter(sorted(folder.glob("*.json"))))
    home = Path(tempfile.mkdtemp(prefix="evaluate-"))
    target = home / "models" / plugin
    target.mkdir(parents=True)
    for path in (card_path, card_path.with_suffix(".safetensors")):
        (target / path.name).symlink_to(path.resolve())
    store = ModelStore(registry, home=home)
    entry = store.get(card_path.stem, plugin)
    return spec, store.load(entry), entry.card.to_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--only", nargs="+", choices=sorted(MEASURES), default=None)
    parser.add_argument("--limit", type=int, default=None, help="at most N held-out images per model (quick look)")
    parser.add_argument("--models", type=Path, default=None, help="read <DIR>/<plugin>/*.json (train_all --out)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    from translator.engine import Engine

    engine = Engine(device=args.device, precision="fp32")
    results: dict[str, Any] = {}
    for plugin in [p for p in MEASURES if args.only is None or p in args.only]:
        spec, model, card = load(plugin, args.models)
        measured = MEASURES[plugin](spec, model, engine, args.shared, args.limit)
        training = card.get("training", {})
        results[plugin] = {"model": card.get("name"), "steps": training.get("steps"),
                           "time_s": training.get("time_s"), "device": training.get("device"),
                           "created": card.get("created"), "measured": measured}
        print(f"\n## {plugin}/{card.get('name')}: {training.get('steps')} steps, {training.get('time_s')} s, "
              f"{training.get('device')}, {card.get('created')}")
        stored = card.get("metrics", {})
        for key, value in measured.items():
            print(f"  {key:<44} {value:>10}   card: {stored.get(key, '-')}")
        sys.stdout.flush()
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
