"""Regenerate the bundled pix2pix model `objects-sketch2photo` (line drawing -> photo).

    python packaging/recipes/train_pix2pix.py [--preset cpu|gpu] [--steps N] [--minutes M]
        [--device auto] [--shared ../shared] [--work DIR] [--out DIR]

1. Splits ../shared/datasets/objects (single objects on white, 256x256) into a training part and
   a held-out part (a seeded 10 %), the training part as a folder of symbolic links in the work
   folder.
2. Trains with the real `translator-train --plugin pix2pix --sketches auto`: the inputs are random
   line drawings of the photos, made on the fly in a mix of styles (XDoG and Canny at random
   thresholds, strokes 1 to 3 px). A compact U-Net with resize-convolution upsampling (no
   checkerboard); the 25 MB fp16 budget rules out the paper's ngf 64 U-Net. The preset
   (`PRESETS`) sets the architecture, crop, batch and steps for the device class; the cpu preset
   warm-starts from the bundled model (every layer but the upsampling keeps its shape), the gpu
   preset trains from scratch with mixed precision and cudnn autotuning. Batches of 4 or more keep
   the batch-norm running statistics, used at inference, meaningful.
3. Measures on the held-out photos, resized to 128 px: a seeded XDoG drawing and a seeded Canny
   drawing of each go through the inference engine, the results are compared with the true
   photo (PSNR, mean and standard deviation over the photos, and SSIM from kornia.metrics), and so
   are the drawings themselves (baseline); and
   the spectral artifact ratio (`translator.api.metrics`) of the output for a smooth noisy image.
4. Writes objects-sketch2photo.safetensors (fp16) and its model card into plugins/pix2pix/models/
   (or --out).
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

from bundled import (
    ROOT,
    SPLIT_SEED,
    add_interface_arguments,
    find,
    install,
    recorded_command,
    split_held_out,
)

NAME = "objects-sketch2photo"
EVAL_SIZE = 128
EVAL_SEED = 7
PRESETS: dict[str, dict[str, object]] = {
    "cpu": {"init": "bundled", "ngf": 32, "num_downs": 7, "ndf": 32, "size": 128, "batch_size": 4,
            "steps": 2000, "lr": 1e-4, "precision": None},
    "gpu": {"init": "scratch", "ngf": 48, "num_downs": 7, "ndf": 64, "size": 128, "batch_size": 32,
            "steps": 4000, "lr": 2e-4, "precision": "auto", "minutes": 2.5},
}
"""Per device class: --from, U-Net width and levels, discriminator width, crop, batch, generator
steps, learning rate, mixed precision, and (gpu) the default training budget in minutes: its
share of 10 minutes for the four bundled models on one H200/A100-class GPU. The cpu preset
continues the bundled model: it began as a transposed-convolution U-Net trained from scratch for
2800 steps, took resize-convolution upsampling in a 500-step warm start (every other layer kept;
47 minutes, 2026-12-01), and the current one adds 2000 steps (20 minutes, 2026-12-02), which
trade 0.4-1 dB of held-out PSNR for sharp silhouettes and object colours where the shorter run
gave blurred purple-gray fills."""

TRAIN_WITH_CUDNN_BENCHMARK = ("import sys, torch; torch.backends.cudnn.benchmark = True; "
                              "from translator.training.cli import main; sys.exit(main())")
"""`python -c` program: translator-train with cuDNN autotuning (fixed crop sizes on the GPU)."""


def evaluate(spec, model, photos: list[Path], device: str, style_name: str) -> dict[str, float]:
    """Mean PSNR (dB) and SSIM of sketch -> photo against the true photos, and of the sketches
    themselves (baseline), all at `EVAL_SIZE` px in RGB [0, 1]; drawings in the style
    `style_name` ("xdog" or "canny", `sketches.XDOG` / `sketches.CANNY`)."""
    import cv2
    import kornia
    import numpy as np
    import torch
    from translator_plugins.pix2pix import sketches as drawing

    from translator.engine import Engine
    from translator.image import Image
    from translator.imageio import read_image

    engine = Engine(device=device, precision="fp32")
    outputs, sketches, targets = [], [], []
    for index, path in enumerate(photos):
        rgb = cv2.resize(read_image(path).rgb, (EVAL_SIZE, EVAL_SIZE), interpolation=cv2.INTER_AREA)
        photo = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).unsqueeze(0).clamp(0, 1)
        style = drawing.CANNY if style_name == "canny" else drawing.XDOG
        sketch = drawing.extract_sketches(photo, EVAL_SEED + index, style)
        result = engine.run(spec, model, Image(rgb=sketch[0].permute(1, 2, 0).numpy().copy()), {})
        outputs.append(torch.from_numpy(result.rgb).permute(2, 0, 1).unsqueeze(0))
        sketches.append(sketch)
        targets.append(photo)
    out, drawn, target = torch.cat(outputs), torch.cat(sketches), torch.cat(targets)

    def scores(images: torch.Tensor) -> tuple[float, float, float]:
        psnr = torch.stack([kornia.metrics.psnr(images[i], target[i], 1.0) for i in range(len(target))])
        ssim = kornia.metrics.ssim(images, target, 11).mean()
        return round(float(psnr.mean()), 2), round(float(psnr.std(unbiased=False)), 2), round(float(ssim), 4)

    psnr, spread, ssim = scores(out)
    base_psnr, base_spread, base_ssim = scores(drawn)
    return {f"heldout_psnr_db_{style_name}": psnr, f"heldout_psnr_db_{style_name}_std": spread,
            f"heldout_ssim_{style_name}": ssim,
            f"heldout_psnr_db_{style_name}_drawing_baseline": base_psnr,
            f"heldout_psnr_db_{style_name}_drawing_baseline_std": base_spread,
            f"heldout_ssim_{style_name}_drawing_baseline": base_ssim}


def artifact_ratio(spec, model, device: str, size: int) -> float:
    """`spectral_artifact_ratio` of the output for `smooth_noisy_image(size, size)` (default
    parameters: an input bigger than the model's training size is run at that size and the
    output enlarged, which the measure also sees)."""
    from translator.api.metrics import smooth_noisy_image, spectral_artifact_ratio
    from translator.engine import Engine
    from translator.image import Image

    out = Engine(device=device, precision="fp32").run(spec, model, Image(rgb=smooth_noisy_image(size, size)), {})
    return round(spectral_artifact_ratio(out.rgb), 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_interface_arguments(parser, PRESETS, ROOT / "build" / "pix2pix-bundled")
    parser.add_argument("--from", dest="init", default=None, help="bundled|scratch|MODEL (default: the preset's)")
    parser.add_argument("--workers", type=int, default=0, help="image decoding processes")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the training process")
    parser.add_argument("--reuse", action="store_true",
                        help="skip training: evaluate and package the run already in --work")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    from translator.device import resolve_device
    from translator.plugins import load_registry
    from translator.store import ModelCard, ModelStore

    device = resolve_device(args.device)
    preset_name = args.preset or ("gpu" if device.type == "cuda" else "cpu")
    preset = PRESETS[preset_name]
    steps = args.steps or int(preset["steps"])
    minutes = args.minutes if args.minutes is not None else preset.get("minutes")
    init = args.init or str(preset["init"])
    objects = args.shared / "datasets" / "objects"
    work = args.work.resolve()
    home = work / "home"
    if not args.reuse:
        shutil.rmtree(home, ignore_errors=True)
    train_photos, held_out = split_held_out(objects, work, "objects-train")

    env = dict(os.environ, TRANSLATOR_HOME=str(home), OMP_NUM_THREADS=str(args.threads))
    launcher = ([sys.executable, "-c", TRAIN_WITH_CUDNN_BENCHMARK] if device.type == "cuda"
                else [sys.executable, "-m", "translator.training"])
    train_args = ["--plugin", "pix2pix", "--from", init, "--name", NAME, "--sketches", "auto",
                  "--data", str(train_photos), "--size", str(preset["size"]), "--ndf", str(preset["ndf"]),
                  "--upsample", "resize",
                  "--batch-size", str(preset["batch_size"]), "--lr", str(preset["lr"]),
                  "--steps", str(steps), "--device", str(device), "--workers", str(args.workers),
                  "--sample-every", "100", "--save-every", "100", "--seed", "0", "--quiet"]
    if init == "scratch":  # the width and depth of a new network; fine-tuning keeps the bundled model's
        train_args += ["--ngf", str(preset["ngf"]), "--num-downs", str(preset["num_downs"])]
    if preset["precision"] and device.type == "cuda":
        train_args += ["--precision", str(preset["precision"])]
    if minutes is not None:
        train_args += ["--time-limit", f"{float(minutes):g}"]
    started = time.time()
    if not args.reuse:
        command = [*launcher, *train_args]
        print(" ".join(command), flush=True)
        subprocess.run(command, env=env, check=True)
    wall = time.time() - started

    import torch

    torch.set_num_threads(args.threads)
    registry = load_registry()
    spec = registry.translator("pix2pix")
    trained = ModelStore(registry, home=home)
    entry = trained.get(NAME, "pix2pix")
    model = trained.load(entry)
    metrics: dict[str, float] = {"heldout_photos": len(held_out), "heldout_size_px": EVAL_SIZE}
    for style_name in ("xdog", "canny"):
        metrics.update(evaluate(spec, model, held_out, str(device), style_name))
    for size in (EVAL_SIZE, 2 * EVAL_SIZE):
        metrics[f"artifact_ratio_smooth_noisy_{size}px"] = artifact_ratio(spec, model, str(device), size)
    print(json.dumps(metrics), flush=True)

    device_words = (f"CUDA ({torch.cuda.get_device_name(device)})" if device.type == "cuda"
                    else f"CPU ({os.cpu_count()} cores, shared), {preset_name} preset")
    config = dict(entry.card.config)
    card = ModelCard(
        name=NAME, plugin="pix2pix", translator="pix2pix", config=config,
        source={"kind": "bundled", "script": "packaging/recipes/train_pix2pix.py"},
        title="Objects: sketch to photo",
        description="pix2pix that turns a line drawing (dark lines on white, pencil or pen) of a single "
                    "object into a photo-like image on white. Learnt from photos alone: the drawings "
                    "were extracted from them on the fly in several styles (XDoG and Canny edges, "
                    f"strokes 1 to 3 px). Compact U-Net (ngf {config['ngf']}, {config['num_downs']} levels) "
                    f"with resize-convolution upsampling, trained on {preset['size']} px crops"
                    + (", continuing the previous bundled model (the recipe's PRESETS give its earlier "
                       "training)" if init == "bundled" else "")
                    + ": works best on drawings of about that size.",
        training={
            "data": {"B": f"shared/datasets/objects ({len(find(train_photos))} of {len(find(objects))} "
                          f"images; {len(held_out)} held out, seed {SPLIT_SEED})",
                     "A": "line drawings extracted from the photos (sketches auto: XDoG and Canny)"},
            "init": init, "preset": preset_name,
            "steps": entry.card.training.get("steps"),
            "time_s": entry.card.training.get("time_s") if args.reuse else round(wall, 1),
            "device": device_words,
            "batch_size": entry.card.training.get("batch_size"), "size": entry.card.training.get("size"),
            "gan_loss": entry.card.training.get("gan_loss"), "losses": entry.card.training.get("losses", {}),
            "command": recorded_command([sys.executable, "-m", "translator.training", *train_args], work,
                                        args.shared),
        },
        metrics=metrics,
        created=time.strftime("%Y-%m-%d"),
    )
    _, state = trained.load_state(entry.name)
    install(registry, card, state, work, "pix2pix", out=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
