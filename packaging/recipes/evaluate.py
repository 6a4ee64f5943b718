"""Measure the bundled models on held-out images and print the README's table figures.

    python packaging/recipes/evaluate.py [--shared ../shared] [--only PLUGIN ...] [--limit N]
        [--models DIR] [--device cpu] [--json FILE]

Every figure is measured by the model's own recipe (`train_<plugin>.py`), with the same code, on
the same held-out images and under the same names as its model card, so each measured figure is
printed beside the card's:
- cyclegan `photo2painting`: cycle PSNR photo -> painting -> photo (held-out photos, own size).
- pix2pix `objects-sketch2photo`: PSNR (mean and spread) and SSIM against the photo of the output
  from a seeded XDoG drawing and a seeded Canny drawing (the plugin's `sketches`), each beside the
  drawing's own (held-out objects, 128 px).
- colorize `photos-unet`: PSNR/SSIM/colourfulness of the automatic colours and PSNR/SSIM with 10
  true-colour hints, beside the gray image's (the photo sources the recipe holds out).
- stylegan `objects64`: held-out SWD (the recipe's `measure`).
- every generator: the spectral artifact ratio (`translator.api.metrics`) of its output for a
  smooth, noisy test image (stylegan: of generated images, the largest over 8 seeds).
The models are read from plugins/<plugin>/models/ (or --models DIR/<plugin>/, where train_all.py
--out writes them).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bundled import ROOT, find
from bundled import held_out_files as held_out

MODELS = {"cyclegan": "photo2painting", "pix2pix": "objects-sketch2photo", "colorize": "photos-unet",
          "stylegan": "objects64"}
ARTIFACT_SIZE = 256


def colorize_held_out(photos: Path) -> list[Path]:
    """The colorize recipe's held-out photos: whole sources when it names them, else `held_out`."""
    import train_colorize

    sources = getattr(train_colorize, "HELD_OUT_SOURCES", None)
    if not sources:
        return held_out(photos)
    return [f for f in find(photos) if f.name.split("_", 1)[0] in sources]


def cyclegan(spec: Any, model: Any, device: str, shared: Path, limit: int | None) -> dict[str, float]:
    import train_cyclegan as recipe

    photos = held_out(shared / "datasets" / "photos")[:limit]
    mean, spread = recipe.cycle_psnr(spec, model, photos, device)
    ratios = recipe.artifact_ratios(spec, model, device)
    return {"heldout_photos": len(photos), "cycle_psnr_db_heldout_photos": round(mean, 2),
            "cycle_psnr_db_heldout_photos_std": round(spread, 2),
            **{f"artifact_ratio_smooth_noisy_{direction}": ratio for direction, ratio in ratios.items()}}


def pix2pix(spec: Any, model: Any, device: str, shared: Path, limit: int | None) -> dict[str, float]:
    import train_pix2pix as recipe

    photos = held_out(shared / "datasets" / "objects")[:limit]
    out: dict[str, float] = {"heldout_photos": len(photos), "heldout_size_px": recipe.EVAL_SIZE}
    for style in ("xdog", "canny"):
        out.update(recipe.evaluate(spec, model, photos, device, style))
    for size in (recipe.EVAL_SIZE, 2 * recipe.EVAL_SIZE):
        out[f"artifact_ratio_smooth_noisy_{size}px"] = recipe.artifact_ratio(spec, model, device, size)
    return out


def colorize(spec: Any, model: Any, device: str, shared: Path, limit: int | None) -> dict[str, float]:
    import train_colorize as recipe

    from translator.api import metrics
    from translator.engine import Engine
    from translator.image import Image

    out = recipe.evaluate(spec, model, colorize_held_out(shared / "datasets" / "photos")[:limit], device)
    sky = metrics.smooth_noisy_image(ARTIFACT_SIZE, ARTIFACT_SIZE).mean(axis=2, keepdims=True)
    sky = sky.repeat(3, axis=2)
    result = Engine(device=device, precision="fp32").run(spec, model, Image(rgb=sky, grayscale=True), {})
    return out | {"artifact_ratio": round(float(metrics.spectral_artifact_ratio(result.rgb)), 1)}


def stylegan(spec: Any, model: Any, device: str, shared: Path, limit: int | None) -> dict[str, float]:
    import train_stylegan as recipe

    from translator.api import metrics

    objects = shared / "datasets" / "objects"
    held = held_out(objects)
    training = [f for f in find(objects) if f not in set(held)]
    measured = recipe.measure(model.cpu().eval(), held, training)
    images = recipe.generate(model, range(8))
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

    results: dict[str, Any] = {}
    for plugin in [p for p in MEASURES if args.only is None or p in args.only]:
        spec, model, card = load(plugin, args.models)
        measured = MEASURES[plugin](spec, model, args.device, args.shared, args.limit)
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
