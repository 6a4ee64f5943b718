"""Regenerate the bundled pix2pix model `objects-sketch2photo` (line drawing -> photo).

    python packaging/recipes/train_pix2pix.py [--shared ../shared] [--steps N] [--device auto] [--work DIR]

1. Splits ../shared/datasets/objects (single objects on white, 256x256) into a training part and
   a held-out part (a seeded 10 %), the training part as a folder of symbolic links in the work
   folder.
2. Trains with the real `translator-train --plugin pix2pix --sketches auto` from scratch: the
   inputs are random line drawings of the photos, made on the fly. A compact configuration on
   every device (the 30 MB fp16 budget rules out the paper's ngf 64 U-Net): ngf 32, 7 levels,
   ndf 32, 128 px crops, batch 4 (so that batch-norm running statistics, used at inference, are
   meaningful). A CPU run takes fewer steps than a GPU one.
3. Measures on the held-out photos, resized to 128 px (the training scale): a seeded line drawing
   of each goes through the inference engine, the result is compared with the true photo (PSNR
   and SSIM from kornia.metrics); the same for the drawing itself as a baseline.
4. Writes plugins/pix2pix/models/objects-sketch2photo.safetensors (fp16) and its model card.
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

NAME = "objects-sketch2photo"
EVAL_SIZE = 128
EVAL_SEED = 7


def evaluate(spec, model, photos: list[Path], device: str) -> dict[str, float]:
    """Mean PSNR (dB) and SSIM of sketch -> photo against the true photos, and of the sketches
    themselves (baseline), all at `EVAL_SIZE` px in RGB [0, 1]."""
    import cv2
    import kornia
    import numpy as np
    import torch
    from translator_plugins.pix2pix.sketches import extract_sketches

    from translator.engine import Engine
    from translator.image import Image
    from translator.imageio import read_image

    engine = Engine(device=device, precision="fp32")
    outputs, sketches, targets = [], [], []
    for index, path in enumerate(photos):
        rgb = cv2.resize(read_image(path).rgb, (EVAL_SIZE, EVAL_SIZE), interpolation=cv2.INTER_AREA)
        photo = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).unsqueeze(0).clamp(0, 1)
        sketch = extract_sketches(photo, EVAL_SEED + index)
        result = engine.run(spec, model, Image(rgb=sketch[0].permute(1, 2, 0).numpy().copy()), {})
        outputs.append(torch.from_numpy(result.rgb).permute(2, 0, 1).unsqueeze(0))
        sketches.append(sketch)
        targets.append(photo)
    out, drawn, target = torch.cat(outputs), torch.cat(sketches), torch.cat(targets)

    def scores(images: torch.Tensor) -> tuple[float, float]:
        psnr = torch.stack([kornia.metrics.psnr(images[i], target[i], 1.0) for i in range(len(target))])
        ssim = kornia.metrics.ssim(images, target, 11).mean()
        return round(float(psnr.mean()), 2), round(float(ssim), 4)

    psnr, ssim = scores(out)
    base_psnr, base_ssim = scores(drawn)
    return {"heldout_psnr_db": psnr, "heldout_ssim": ssim, "heldout_psnr_db_sketch_baseline": base_psnr,
            "heldout_ssim_sketch_baseline": base_ssim, "heldout_photos": len(photos),
            "heldout_size_px": EVAL_SIZE}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--steps", type=int, default=None, help="default: 40000 on CUDA, 2800 on the CPU")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pix2pix-bundled")
    parser.add_argument("--workers", type=int, default=0, help="image decoding processes")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the training process")
    parser.add_argument("--reuse", action="store_true",
                        help="skip training: evaluate and package the run already in --work")
    args = parser.parse_args()

    from translator.device import resolve_device
    from translator.plugins import load_registry
    from translator.store import ModelCard, ModelStore

    device = resolve_device(args.device)
    steps = args.steps or (40_000 if device.type == "cuda" else 2_800)
    objects = args.shared / "datasets" / "objects"
    work = args.work.resolve()
    home = work / "home"
    if not args.reuse:
        shutil.rmtree(home, ignore_errors=True)
    train_photos, held_out = split_held_out(objects, work, "objects-train")

    env = dict(os.environ, TRANSLATOR_HOME=str(home), OMP_NUM_THREADS=str(args.threads))
    command = [sys.executable, "-m", "translator.training", "--plugin", "pix2pix", "--from", "scratch",
               "--name", NAME, "--sketches", "auto", "--data", str(train_photos),
               "--size", "128", "--ngf", "32", "--num-downs", "7", "--ndf", "32", "--batch-size", "4",
               "--steps", str(steps), "--device", str(device), "--workers", str(args.workers),
               "--sample-every", "250", "--save-every", "500", "--seed", "0", "--quiet"]
    if not args.reuse:
        print(" ".join(command), flush=True)
        subprocess.run(command, env=env, check=True)

    import torch

    torch.set_num_threads(args.threads)
    registry = load_registry()
    spec = registry.translator("pix2pix")
    trained = ModelStore(registry, home=home)
    entry = trained.get(NAME, "pix2pix")
    entry.card.config.setdefault("size", entry.card.training["size"])  # runs made before it was recorded
    metrics = evaluate(spec, trained.load(entry), held_out, str(device))
    print(json.dumps(metrics), flush=True)

    device_words = (f"CUDA ({torch.cuda.get_device_name(device)})" if device.type == "cuda"
                    else f"CPU ({os.cpu_count()} cores), small configuration")
    card = ModelCard(
        name=NAME, plugin="pix2pix", translator="pix2pix", config=dict(entry.card.config),
        source={"kind": "bundled", "script": "packaging/recipes/train_pix2pix.py"},
        title="Objects: sketch to photo",
        description="pix2pix trained from scratch to turn a line drawing (dark lines on white) of a "
                    "single object into a photo-like image on white. Learnt from photos alone: the "
                    "drawings were extracted from them on the fly (--sketches auto). Compact U-Net "
                    "(ngf 32, 7 levels) trained on 128 px crops: works best on drawings of about "
                    "that size.",
        training={
            "data": {"B": f"shared/datasets/objects ({len(find(train_photos))} of {len(find(objects))} "
                          f"images; {len(held_out)} held out, seed {SPLIT_SEED})",
                     "A": "line drawings extracted from the photos (sketches auto)"},
            "steps": entry.card.training.get("steps"), "time_s": entry.card.training.get("time_s"),
            "device": device_words,
            "batch_size": entry.card.training.get("batch_size"), "size": entry.card.training.get("size"),
            "gan_loss": entry.card.training.get("gan_loss"), "losses": entry.card.training.get("losses", {}),
            "command": recorded_command(command, work, args.shared),
        },
        metrics=metrics,
        created=time.strftime("%Y-%m-%d"),
    )
    _, state = trained.load_state(entry.name)
    install(registry, card, state, work, "pix2pix")
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
