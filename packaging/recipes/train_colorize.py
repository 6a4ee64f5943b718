"""Regenerate the bundled colorize model `photos-unet` (gray -> colour, with colour hints).

    python packaging/recipes/train_colorize.py [--shared ../shared] [--steps N] [--device auto] [--work DIR]

1. Splits ../shared/datasets/photos (natural colour photos, longer side at most 512 px) into a
   training part and a held-out part (a seeded 10 %), the training part as a folder of symbolic
   links in the work folder.
2. Trains with the real `translator-train --plugin colorize` from scratch (self-supervised: the
   gray input is derived from each colour crop, with simulated hints). On the CPU a small
   configuration (U-Net width 16, 4 levels, 128 px crops, batch 8, 1500 steps, 6 to 12
   minutes on 2 shared cores); on a GPU width 32 and many more steps.
3. Measures on the held-out photos at their own size, through the inference engine with the
   translator's default parameters: PSNR and SSIM in RGB against the true colour photo, the same
   for the plain gray image (baseline), the Hasler-Suesstrunk colourfulness of the truth and of
   ours, and PSNR with 10 simulated colour points (seeded places, the true mean colour of a
   small patch there, given as the `hints` parameter like a user's clicks).
4. Writes plugins/colorize/models/photos-unet.safetensors (fp16) and its model card.
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

NAME = "photos-unet"
HINT_SEED = 11
HINTS = 10
HINT_PATCH = 5
"""Side in pixels of the patch whose mean true colour a simulated colour point gets."""


def simulated_points(rgb, seed: int):  # noqa: ANN001, ANN201 - numpy (H, W, 3) -> ColorPoints
    """`HINTS` colour points at seeded places, each the true mean colour of a small patch there."""
    import numpy as np

    from translator.params import ColorPoint

    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    half = HINT_PATCH // 2
    points = []
    for _ in range(HINTS):
        row, col = int(rng.integers(0, height)), int(rng.integers(0, width))
        patch = rgb[max(row - half, 0):row + half + 1, max(col - half, 0):col + half + 1]
        colour = tuple(int(c) for c in np.clip(patch.reshape(-1, 3).mean(axis=0) * 255 + 0.5, 0, 255))
        points.append(ColorPoint((col + 0.5) / width, (row + 0.5) / height, colour))
    return tuple(points)


def evaluate(spec, model, photos: list[Path], device: str) -> dict[str, float]:  # noqa: ANN001
    """Held-out metrics (means over the photos, each at its own size, RGB in [0, 1])."""
    import numpy as np
    import torch
    from translator_plugins.colorize import lab, metrics

    from translator.engine import Engine
    from translator.image import Image
    from translator.imageio import read_image

    engine = Engine(device=device, precision="fp32")
    rows: dict[str, list[float]] = {k: [] for k in ("psnr", "ssim", "psnr_gray", "ssim_gray", "colour_truth",
                                                    "colour_ours", "psnr_hints", "ssim_hints")}

    def tensor(rgb: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).unsqueeze(0).float().clamp(0, 1)

    for index, path in enumerate(photos):
        truth_rgb = read_image(path).rgb
        truth = tensor(truth_rgb)
        gray = lab.lab_to_rgb(lab.lightness(truth), torch.zeros(1, 2, *truth.shape[-2:]))
        gray_image = Image(rgb=gray[0].permute(1, 2, 0).numpy().copy(), grayscale=True)
        ours = tensor(engine.run(spec, model, gray_image, {}).rgb)
        hinted = tensor(engine.run(spec, model, gray_image, {"hints": simulated_points(truth_rgb, HINT_SEED + index)}).rgb)
        rows["psnr"].append(float(metrics.psnr(ours, truth)[0]))
        rows["ssim"].append(float(metrics.ssim(ours, truth)[0]))
        rows["psnr_gray"].append(float(metrics.psnr(gray, truth)[0]))
        rows["ssim_gray"].append(float(metrics.ssim(gray, truth)[0]))
        rows["colour_truth"].append(float(metrics.colourfulness(truth)[0]))
        rows["colour_ours"].append(float(metrics.colourfulness(ours)[0]))
        rows["psnr_hints"].append(float(metrics.psnr(hinted, truth)[0]))
        rows["ssim_hints"].append(float(metrics.ssim(hinted, truth)[0]))

    def mean(key: str, digits: int) -> float:
        return round(float(np.mean(rows[key])), digits)

    return {
        "heldout_photos": len(photos),
        "heldout_psnr_db": mean("psnr", 2), "heldout_ssim": mean("ssim", 4),
        "heldout_psnr_db_gray_baseline": mean("psnr_gray", 2), "heldout_ssim_gray_baseline": mean("ssim_gray", 4),
        "heldout_colourfulness_truth": mean("colour_truth", 2), "heldout_colourfulness_ours": mean("colour_ours", 2),
        f"heldout_psnr_db_{HINTS}_hints": mean("psnr_hints", 2), f"heldout_ssim_{HINTS}_hints": mean("ssim_hints", 4),
        "working_size_px": 256,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--steps", type=int, default=None, help="default: 30000 on CUDA, 1500 on the CPU")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "colorize-bundled")
    parser.add_argument("--workers", type=int, default=1, help="image decoding processes")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of the training process")
    parser.add_argument("--evaluate-only", action="store_true", help="skip training, measure the last run")
    args = parser.parse_args()

    from translator.device import resolve_device
    from translator.plugins import load_registry
    from translator.store import ModelCard, ModelStore

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    steps = args.steps or (30_000 if cuda else 1_500)
    photos = args.shared / "datasets" / "photos"
    work = args.work.resolve()
    home = work / "home"
    train_photos, held_out = split_held_out(photos, work, "photos-train")

    env = dict(os.environ, TRANSLATOR_HOME=str(home), OMP_NUM_THREADS=str(args.threads))
    width, batch = ("32", "16") if cuda else ("16", "8")
    command = [sys.executable, "-m", "translator.training", "--plugin", "colorize", "--from", "scratch",
               "--name", NAME, "--data", str(train_photos), "--size", "128", "--width", width, "--depth", "4",
               "--middle", "2", "--batch-size", batch, "--lr", "5e-4", "--steps", str(steps),
               "--device", str(device), "--workers", str(args.workers), "--sample-every", "200",
               "--save-every", "200", "--seed", "0", "--quiet"]
    wall = None
    if not args.evaluate_only:
        shutil.rmtree(home, ignore_errors=True)
        print(" ".join(command), flush=True)
        started = time.time()
        subprocess.run(command, env=env, check=True)
        wall = time.time() - started

    import torch

    torch.set_num_threads(args.threads)
    registry = load_registry()
    spec = registry.translator("colorize")
    trained = ModelStore(registry, home=home)
    entry = trained.get(NAME, "colorize")
    started = time.time()
    metrics = evaluate(spec, trained.load(entry), held_out, str(device))
    print(json.dumps(metrics), f"({time.time() - started:.0f} s)", flush=True)

    device_words = (f"CUDA ({torch.cuda.get_device_name(device)})" if cuda
                    else f"CPU ({os.cpu_count()} cores), small configuration")
    training = entry.card.training
    card = ModelCard(
        name=NAME, plugin="colorize", translator="colorize", config=dict(entry.card.config),
        source={"kind": "bundled", "script": "packaging/recipes/train_colorize.py"},
        title="Photos: automatic and hinted colorization",
        description="Our user-guided U-Net (in the spirit of Zhang et al. 2017) trained from scratch on "
                    "natural colour photos, self-supervised with simulated colour hints: colorizes "
                    "automatically and follows colour points. A small model trained briefly"
                    + (" on a CPU" if not cuda else "") + ": expect muted, plausible colours; hints help most.",
        training={
            "data": {"image": f"shared/datasets/photos ({len(find(train_photos))} of {len(find(photos))} "
                              f"images; {len(held_out)} held out, seed {SPLIT_SEED})"},
            "skipped": training.get("skipped", {}),
            "steps": training.get("steps"), "time_s": round(wall if wall is not None else training.get("time_s", 0), 1),
            "device": device_words, "batch_size": training.get("batch_size"), "size": training.get("size"),
            "losses": training.get("losses", {}),
            "command": recorded_command(command, work, args.shared),
        },
        metrics=metrics,
        created=time.strftime("%Y-%m-%d"),
    )
    _, state = trained.load_state(entry.name)
    install(registry, card, state, work, "colorize")
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
