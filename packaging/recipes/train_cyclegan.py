"""Regenerate the bundled CycleGAN model `photo2painting` (photos <-> paintings).

    python packaging/recipes/train_cyclegan.py [--shared ../shared] [--steps N] [--device auto] [--work DIR]

1. Splits ../shared/datasets/photos into a training part and a held-out part (a seeded 10 %;
   paintings are too few to hold any out) as folders of symbolic links in the work folder.
2. Trains with the real `translator-train --plugin cyclegan` from scratch. On a GPU the paper's
   generators (ngf 64) are too big for the 25 MB budget in fp16, so every device uses the same
   compact configuration: ngf 32, 6 residual blocks, 128 px crops (a CPU run takes fewer steps).
3. Measures on the held-out photos the cycle-reconstruction PSNR (photo -> painting -> photo,
   through the inference engine at the photos' own size, up to 512 px), and the same for the
   untrained network as a baseline.
4. Writes plugins/cyclegan/models/photo2painting.safetensors (fp16) and its model card.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bundled import ROOT, SPLIT_SEED, find, install, recorded_command, split_held_out

NAME = "photo2painting"


def cycle_psnr(spec, model, photos: list[Path], device: str) -> float:
    """Mean PSNR (dB) of photo -> B -> A reconstructions against the photos, in RGB [0, 1]."""
    import numpy as np

    from translator.engine import Engine
    from translator.imageio import read_image

    engine = Engine(device=device, precision="fp32")
    scores = []
    for path in photos:
        image = read_image(path)
        painted = engine.run(spec, model, image, {"direction": "AtoB"})
        back = engine.run(spec, model, painted, {"direction": "BtoA"})
        mse = float(np.mean((back.rgb - image.rgb) ** 2))
        scores.append(10 * np.log10(1.0 / max(mse, 1e-10)))
    return float(np.mean(scores))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--steps", type=int, default=None, help="default: 40000 on CUDA, 2500 on the CPU")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "cyclegan-bundled")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from translator.device import resolve_device
    from translator.plugins import load_registry
    from translator.store import ModelCard, ModelStore

    device = resolve_device(args.device)
    steps = args.steps or (40_000 if device.type == "cuda" else 2_500)
    datasets = args.shared / "datasets"
    work = args.work.resolve()
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    train_photos, held_out = split_held_out(datasets / "photos", work, "photos-train")
    paintings = datasets / "paintings"

    env = dict(os.environ, TRANSLATOR_HOME=str(home))
    command = [sys.executable, "-m", "translator.training", "--plugin", "cyclegan", "--from", "scratch",
               "--name", NAME, "--data-a", str(train_photos), "--data-b", str(paintings),
               "--size", "128", "--ngf", "32", "--ndf", "64", "--n-blocks", "6", "--steps", str(steps),
               "--device", str(device), "--workers", str(args.workers), "--sample-every", "500",
               "--save-every", "500", "--seed", "0"]
    print(" ".join(command), flush=True)
    started = time.time()
    subprocess.run(command, env=env, check=True)
    wall = time.time() - started

    registry = load_registry()
    spec = registry.translator("cyclegan")
    trained = ModelStore(registry, home=home)
    entry = trained.get(NAME, "cyclegan")
    model = trained.load(entry)
    untrained = spec.build(entry.card.config).eval()
    eval_device = str(device)
    metrics = {
        "cycle_psnr_db_heldout_photos": round(cycle_psnr(spec, model, held_out, eval_device), 2),
        "cycle_psnr_db_heldout_photos_untrained": round(cycle_psnr(spec, untrained, held_out, eval_device), 2),
        "heldout_photos": len(held_out),
    }
    print(json.dumps(metrics), flush=True)

    device_words = (f"CUDA ({__import__('torch').cuda.get_device_name(device)})" if device.type == "cuda"
                    else f"CPU ({os.cpu_count()} cores), small configuration")
    card = ModelCard(
        name=NAME, plugin="cyclegan", translator="cyclegan", config=dict(entry.card.config),
        source={"kind": "bundled", "script": "packaging/recipes/train_cyclegan.py"},
        title="Photo <-> painting",
        description="CycleGAN trained from scratch on photographs (A) and paintings (B): AtoB paints a "
                    "photo, BtoA turns a painting back into a photo-like image. Compact generators "
                    "(ngf 32, 6 residual blocks) trained on 128 px crops.",
        training={
            "data": {"A": f"shared/datasets/photos ({len(find(train_photos))} of "
                          f"{len(find(datasets / 'photos'))} images; {len(held_out)} held out, seed {SPLIT_SEED})",
                     "B": f"shared/datasets/paintings ({len(find(paintings))} images)"},
            "steps": entry.card.training.get("steps"), "time_s": round(wall, 1), "device": device_words,
            "batch_size": entry.card.training.get("batch_size"), "size": entry.card.training.get("size"),
            "gan_loss": entry.card.training.get("gan_loss"), "losses": entry.card.training.get("losses", {}),
            "command": recorded_command(command, work, args.shared),
        },
        metrics=metrics,
        created=time.strftime("%Y-%m-%d"),
    )
    _, state = trained.load_state(entry.name)
    install(registry, card, state, work, "cyclegan")
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
