"""Regenerate the bundled StyleGAN2 model `objects64` (objects on white, 64 px).

    python packaging/recipes/train_stylegan.py [--preset cpu|gpu] [--steps N] [--minutes M]
        [--device auto] [--shared ../shared] [--work DIR] [--out DIR] [--no-grid]

1. Splits ../shared/datasets/objects into a training part and a held-out part (a seeded 10 %),
   the training part as a folder of symbolic links in the work folder.
2. Trains with the real `translator-train --plugin stylegan` from scratch (`PRESETS`: the
   architecture, batch and steps per device class; --minutes becomes --time-limit). A finished
   run in the work folder is reused, an interrupted one resumed.
3. Measures the sliced Wasserstein distance (SWD, Laplacian-pyramid patches, Karras et al. 2018)
   of generated images against the held-out images (`heldout_swd`), for the trained generator,
   for an untrained one of the same architecture (the ceiling) and for training images (the
   floor at this sample size); and, comparable with earlier cards, against 256 training images.
4. Writes plugins/stylegan/models/objects64.safetensors (fp16) and its model card (or into
   --out), and the style-mixing grid docs/images/stylegan_mixing.png (unless --no-grid or --out).
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
from typing import Any

from bundled import (
    ROOT,
    SPLIT_SEED,
    add_interface_arguments,
    device_words,
    find,
    install,
    recorded_command,
    split_held_out,
    translator_train,
)

NAME = "objects64"
PLUGIN = "stylegan"
GRID = ROOT / "docs" / "images" / "stylegan_mixing.png"
PRESETS: dict[str, dict[str, Any]] = {
    "cpu": {"channel_base": 1024, "channel_max": 64, "batch_size": 16, "steps": 1000, "r1_gamma": 0.05,
            "ema_kimg": 5, "ema_rampup": 0.05, "ada_kimg": 100, "precision": "fp32", "workers": 0},
    "gpu": {"channel_base": 4096, "channel_max": 128, "batch_size": 64, "steps": 20000, "r1_gamma": 0.0125,
            "ema_kimg": 10, "ema_rampup": 0.05, "ada_kimg": 100, "precision": "auto", "workers": 4, "minutes": 2.5},
}
"""Per device class: widths (min(channel_base / res, channel_max) at resolution res), batch,
steps, R1 gamma (StyleGAN2-ADA's 0.0002 * res^2 / batch), EMA half-life (thousands of images)
and its ramp-up (the half-life is at most this fraction of the images seen, StyleGAN2-ADA's 0.05:
a 16k-image run ends with a half-life of 0.8k images, 50 steps), precision, decoding processes and, for gpu, the default budget in minutes (stylegan's share of
10 minutes for the four bundled models on one H200/A100-class card; bf16, cudnn.benchmark).
The bundled objects64 is the cpu preset (1000 steps, 16k images, 13 minutes on a 2-core CPU shared
with other jobs, 2026-12-01): distinct shapes, sizes and colours per seed, where the previous model
(3.4k images) repeated one layout. A longer run of the same preset had degraded by step 1695 (many
faint outputs, held-out SWD 146 against 89), so more CPU steps are not better here. A longer
average did not help either: the cpu preset with ema_rampup 0.15 (half-life 2.4k images at the
end) scored 94.5 +- 9.4 against the bundled 88.8 +- 11.6 (sd over the 8 seed sets), with more
faint outputs; its raw G, without any average, 119.9 +- 7.6 (same 2-core CPU, 2026-12-02).
Neither did a faster augmentation controller nor wider high-resolution layers (each run alone on
one core of the same CPU, 2026-12-02): ada_kimg 10 for 2000 steps (p up to 0.35) scored 105.9 +-
19.5 with more speckled, smaller objects; channel_base 2048 (32 channels at 64 px) for 1000 steps
113.6 +- 7.7. From run to run of this small GAN the figure moves by 10-20, so the bundled model's
89 is partly a lucky draw (seed 0; the same preset with seeds 1 and 2 scored 138.5 and 98.3, with
SWD against training images 131.3 and 81.1 where seed 0 has 63.7, so choosing by the training
images keeps seed 0); the SWD target wants the gpu preset's longer, wider training.
`ada_kimg`: how fast ADA's p may move (p can go from 0 to 1 in that many thousand images)."""
COMMON = ["--size", "64", "--load-size", "64", "--seed", "0", "--z-dim", "64", "--w-dim", "64",
          "--mapping-layers", "2", "--r1-interval", "16", "--pl-weight", "0",
          "--sample-every", "250", "--save-every", "100", "--quiet"]
"""Every preset: 64 px, z and w of 64, a 2-layer mapping (StyleGAN2-ADA's for small data sets),
lazy R1 every 16 steps, no path-length term, ADA reaching p = 1 after 100k images at most."""
SWD_DRAWS = 8
"""Held-out SWD: the mean over this many disjoint sets of generated seeds (or training images)."""
TRAINING_SWD_IMAGES = 256


def read_images(paths: list[Path], size: int):  # noqa: ANN201 - torch.Tensor
    """The images, shorter side resized to `size`, centre crop: (N, 3, size, size) in [0, 1]."""
    import cv2
    import numpy as np
    import torch

    images = []
    for path in paths:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        h, w = bgr.shape[:2]
        side = min(h, w)
        crop = bgr[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        images.append(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255)
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def generate(model, seeds: range):  # noqa: ANN001, ANN201 - Generator -> (N, 3, R, R) in [0, 1]
    """Images of the seeds (psi 1, constant noise) as the app makes them."""
    import numpy as np
    import torch
    from translator_plugins.stylegan.latents import seed_to_z

    z = torch.from_numpy(np.concatenate([seed_to_z(s, model.config.z_dim) for s in seeds])).float()
    with torch.no_grad():
        return ((model(z, 1.0, "const") + 1) / 2).clamp(0, 1)


def _mean_swd(pairs: list[tuple[Any, Any]]) -> dict[str, float]:
    """`swd.swd` of each pair (projection seed = its index) averaged over the pairs; with two or
    more pairs also "swd_mean_sd", the standard deviation (n - 1) of "swd_mean" over them."""
    import statistics

    from translator_plugins.stylegan import swd

    runs = [swd.swd(a, b, seed=i) for i, (a, b) in enumerate(pairs)]
    out = {key: statistics.fmean(run[key] for run in runs) for key in runs[0]}
    if len(runs) > 1:
        out["swd_mean_sd"] = statistics.stdev(run["swd_mean"] for run in runs)
    return out


def heldout_swd(model, held_out, training) -> dict[str, dict[str, float]]:  # noqa: ANN001
    """SWD x 1e3 against the held-out images (N, 3, R, R) in [0, 1], each figure the mean over
    `SWD_DRAWS` sets of N: "trained" (seeds 0..N*draws-1), "untrained" (a fresh generator of the
    architecture, torch seed 0) and "floor" (disjoint sets of N training images, (M, 3, R, R))."""
    import torch
    from translator_plugins.stylegan import networks

    n = held_out.shape[0]
    torch.manual_seed(0)
    untrained = networks.Generator(model.config).eval()
    with torch.no_grad():
        untrained.update_w_avg()
    draws = range(SWD_DRAWS)
    pick = torch.randperm(training.shape[0], generator=torch.Generator().manual_seed(1))
    floor_draws = min(SWD_DRAWS, training.shape[0] // n)
    return {
        "trained": _mean_swd([(generate(model, range(d * n, (d + 1) * n)), held_out) for d in draws]),
        "untrained": _mean_swd([(generate(untrained, range(d * n, (d + 1) * n)), held_out) for d in draws]),
        "floor": _mean_swd([(training[pick[d * n:(d + 1) * n]], held_out) for d in range(floor_draws)]),
    }


def training_swd(model, training) -> dict[str, float]:  # noqa: ANN001
    """SWD x 1e3 of seeds 0..K-1 against K training images (K = min(256, M)), as earlier cards measured."""
    import torch

    count = min(TRAINING_SWD_IMAGES, training.shape[0])
    pick = torch.randperm(training.shape[0], generator=torch.Generator().manual_seed(1))[:count]
    return _mean_swd([(generate(model, range(count)), training[pick])])


def measure(model, held_out_paths: list[Path], training_paths: list[Path]) -> dict[str, Any]:  # noqa: ANN001
    """The card's metrics of a generator (see `heldout_swd`, `training_swd`)."""
    size = model.config.resolution
    held_out, training = read_images(held_out_paths, size), read_images(training_paths, size)
    metrics: dict[str, Any] = {}
    for which, values in heldout_swd(model, held_out, training).items():
        for level, value in values.items():
            metrics[f"heldout_swd_x1e3_{which}_{level.removeprefix('swd_')}"] = round(value, 1)
    for level, value in training_swd(model, training).items():
        metrics[f"training_swd_x1e3_{level.removeprefix('swd_')}"] = round(value, 1)
    metrics["heldout_images"] = int(held_out.shape[0])
    metrics["swd_note"] = (
        "sliced Wasserstein distance x 1e3 of 7x7 Laplacian-pyramid patches (Karras et al. 2018), lower is "
        f"better. heldout_*: {held_out.shape[0]} generated images (seeds, psi 1) against the "
        f"{held_out.shape[0]} held-out images, mean over {SWD_DRAWS} seed sets (*_mean_sd: the standard "
        "deviation of the mean over those sets); 'untrained' a fresh generator "
        "of the same architecture, 'floor' training images instead of generated ones. training_*: "
        f"{min(TRAINING_SWD_IMAGES, training.shape[0])} seeds against as many training images.")
    return metrics


def train_args(preset: dict[str, Any], steps: int, minutes: float | None, device: str, data: Path) -> list[str]:
    """The `translator-train` options of a fresh run."""
    args = ["--plugin", PLUGIN, "--from", "scratch", "--name", NAME, "--data", str(data), "--steps", str(steps),
            "--device", device, "--batch-size", str(preset["batch_size"]),
            "--channel-base", str(preset["channel_base"]), "--channel-max", str(preset["channel_max"]),
            "--r1-gamma", str(preset["r1_gamma"]), "--ema-kimg", str(preset["ema_kimg"]),
            "--ema-rampup", str(preset["ema_rampup"]), "--ada-kimg", str(preset["ada_kimg"]),
            "--precision", preset["precision"], "--workers", str(preset["workers"]), *COMMON]
    if minutes:
        args += ["--time-limit", f"{minutes:g}"]
    return args


def write_grid(model, path: Path) -> None:  # noqa: ANN001
    """The style-mixing figure (rows: seeds 1-4, columns: seeds 10-14, coarse styles), 2x nearest."""
    import cv2
    import torch
    from translator_plugins.stylegan import latents

    with torch.no_grad():
        grid = latents.mixing_grid(model, [1, 2, 3, 4], [10, 11, 12, 13, 14], "coarse", psi=0.7)
    array = ((grid.permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    array = cv2.resize(array, (array.shape[1] * 2, array.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(array, cv2.COLOR_RGB2BGR))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_interface_arguments(parser, PRESETS, ROOT / "build" / "stylegan-bundled")
    parser.add_argument("--no-grid", action="store_true", help="do not rewrite docs/images/stylegan_mixing.png")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from translator.device import resolve_device
    from translator.plugins import load_registry
    from translator.store import ModelCard, ModelStore

    device = resolve_device(args.device)
    preset_name = args.preset or ("gpu" if device.type == "cuda" else "cpu")
    preset = PRESETS[preset_name]
    steps = args.steps or preset["steps"]
    minutes = args.minutes if args.minutes is not None else preset.get("minutes")
    objects = args.shared / "datasets" / "objects"
    work = args.work.resolve()
    home = work / "home"
    train_dir, held_out = split_held_out(objects, work, "objects-train")

    env = dict(os.environ, TRANSLATOR_HOME=str(home))
    head = translator_train(benchmark=device.type == "cuda")
    command = [*head, *train_args(preset, steps, minutes, str(device), train_dir)]
    finished = home / "models" / PLUGIN / f"{NAME}.safetensors"
    started = time.time()
    if not finished.exists():
        if (home / "runs" / NAME / "last.pt").exists():
            resume = [*head, "--resume", NAME, "--steps", str(steps), "--device", str(device)]
            subprocess.run(resume + (["--time-limit", f"{minutes:g}"] if minutes else []), env=env, check=True)
        else:
            shutil.rmtree(home / "runs" / NAME, ignore_errors=True)
            print(" ".join(command), flush=True)
            subprocess.run(command, env=env, check=True)
    print(f"training done ({time.time() - started:.0f} s this call); measuring", file=sys.stderr, flush=True)

    registry = load_registry()
    trained = ModelStore(registry, home=home)
    entry = trained.get(NAME, PLUGIN)
    model = trained.load(entry).cpu().eval()
    training_paths = find(train_dir)
    metrics = measure(model, held_out, training_paths)
    print(json.dumps(metrics, indent=2), flush=True)

    done = entry.card.training
    card = ModelCard(
        name=NAME, plugin=PLUGIN, translator=PLUGIN, config=dict(entry.card.config),
        source={"kind": "bundled", "script": "packaging/recipes/train_stylegan.py", "preset": preset_name},
        title="StyleGAN2: objects on white, 64 px",
        description=(f"A small StyleGAN2 (64 px, widths up to {preset['channel_max']}, z and w of 64, 2 mapping "
                     "layers) trained from scratch with adaptive discriminator augmentation on the objects set "
                     f"for {done.get('steps')} steps of {preset['batch_size']} images: different seeds make "
                     "different object-like shapes and colours on white; a demonstration model, not a "
                     "photorealistic generator."),
        training={
            "data": {"image": f"shared/datasets/objects ({len(training_paths)} of {len(find(objects))} images; "
                              f"{len(held_out)} held out, seed {SPLIT_SEED})"},
            "steps": done.get("steps"), "time_s": done.get("time_s"), "device": device_words(device),
            "batch_size": done.get("batch_size"), "size": done.get("size"), "gan_loss": done.get("gan_loss"),
            "losses": done.get("losses", {}), "command": recorded_command(command, work, args.shared),
        },
        metrics=metrics,
        created=time.strftime("%Y-%m-%d", time.gmtime()),
    )
    _, state = trained.load_state(entry.name)
    install(registry, card, state, work, PLUGIN, args.out)
    if args.out is None and not args.no_grid:
        write_grid(model, GRID)
        print(f"wrote {GRID}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
