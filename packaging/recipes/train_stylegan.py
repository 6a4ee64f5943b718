"""Regenerate the bundled StyleGAN2 model `plugins/stylegan/models/objects64`.

    python packaging/recipes/train_stylegan.py [--data ../shared/datasets/objects] [--steps N] [--home DIR]

1. trains with the real `translator-train` (64 px, small widths, CPU unless --device says
   otherwise) in a scratch TRANSLATOR_HOME (default: a temporary folder; with --home an existing
   finished run there is reused, an interrupted one resumed);
2. measures the sliced Wasserstein distance (Laplacian-pyramid patches, Karras et al. 2018)
   between generated images and the training images, for the trained generator and for an
   untrained one of the same architecture (the baseline), and between two halves of the
   training set (the floor set by the sample size);
3. writes the fp16 safetensors and the model card into plugins/stylegan/models/, and a style
   mixing grid to docs/images/stylegan_mixing.png.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = "objects64"
MODELS = ROOT / "plugins" / "stylegan" / "models"
GRID = ROOT / "docs" / "images" / "stylegan_mixing.png"
TRAIN_ARGS = [
    "--size", "64", "--load-size", "64", "--batch-size", "4", "--seed", "0",
    "--channel-base", "1024", "--channel-max", "64", "--z-dim", "64", "--w-dim", "64", "--mapping-layers", "4",
    "--r1-gamma", "0.2", "--r1-interval", "16", "--pl-weight", "0", "--ada-kimg", "20", "--ema-kimg", "10",
    "--workers", "0", "--sample-every", "100", "--save-every", "50", "--quiet",
]
"""The small configuration: widths min(1024 / res, 64), z and w of 64, 4 mapping layers."""
SAMPLES = 256


def train(data: Path, steps: int, home: Path, device: str) -> None:
    """Run (or resume, or reuse) translator-train in `home`."""
    env = {**os.environ, "TRANSLATOR_HOME": str(home)}
    run = home / "runs" / NAME
    if (home / "models" / "stylegan" / f"{NAME}.safetensors").exists():
        return
    command = [sys.executable, "-m", "translator.training"]
    if (run / "last.pt").exists():
        command += ["--resume", NAME, "--steps", str(steps), "--device", device]
    else:
        command += ["--plugin", "stylegan", "--from", "scratch", "--name", NAME, "--data", str(data),
                    "--steps", str(steps), "--device", device, *TRAIN_ARGS]
    subprocess.run(command, env=env, check=True)


def read_training_images(data: Path, size: int):
    """Every readable training image, shorter side resized to `size`, centre crop: (N, 3, size, size) in [0, 1]."""
    import cv2
    import numpy as np
    import torch

    images = []
    for path in sorted(p for p in data.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg")):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        h, w = bgr.shape[:2]
        side = min(h, w)
        crop = bgr[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        images.append(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255)
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def generate(model, count: int):
    import numpy as np
    import torch
    from translator_plugins.stylegan.latents import seed_to_z

    z = torch.from_numpy(np.concatenate([seed_to_z(s, model.config.z_dim) for s in range(count)])).float()
    with torch.no_grad():
        return ((model(z, 1.0, "const") + 1) / 2).clamp(0, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "objects")
    parser.add_argument("--steps", type=int, default=860)
    parser.add_argument("--home", type=Path, help="TRANSLATOR_HOME of the training run (default: temporary)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--device-label", default="CPU (2 cores), small configuration")
    args = parser.parse_args(argv)

    import cv2
    import torch
    from safetensors.torch import save_file
    from translator_plugins.stylegan import latents, networks, swd

    from translator.plugins import load_registry
    from translator.store import ModelStore

    home = args.home or Path(tempfile.mkdtemp(prefix="train-stylegan-"))
    started = time.time()
    train(args.data, args.steps, home, args.device)
    print(f"training done ({time.time() - started:.0f} s this call); measuring", file=sys.stderr)

    store = ModelStore(load_registry(), home=home)
    entry = store.get(NAME, "stylegan")
    model = store.load(entry)
    config = networks.StyleGANConfig.from_mapping(entry.card.config)
    real = read_training_images(args.data, config.resolution)
    torch.manual_seed(0)
    untrained = networks.Generator(config).eval()
    with torch.no_grad():
        untrained.update_w_avg()
    gen = torch.Generator().manual_seed(1)
    pick = torch.randperm(real.shape[0], generator=gen)
    count = min(SAMPLES, real.shape[0] // 2 * 2)
    reference = real[pick[:count]]
    half = count // 2
    measured = {
        "trained": swd.swd(generate(model, count), reference),
        "untrained": swd.swd(generate(untrained, count), reference),
        "training_halves": swd.swd(real[pick[:half]], real[pick[half:2 * half]]),
    }
    metrics: dict[str, float | int | str] = {
        f"swd_x1e3_{which}_{level.removeprefix('swd_')}": round(value, 1)
        for which, values in measured.items() for level, value in values.items()}
    metrics["swd_images"] = count
    metrics["swd_note"] = ("sliced Wasserstein distance x 1e3 of 7x7 Laplacian-pyramid patches (Karras et al. "
                           f"2018), {count} generated images (seeds 0-{count - 1}, psi 1) vs as many training "
                           "images; 'untrained' is a fresh generator of the same architecture, 'training_halves' "
                           "two halves of the training set (the floor at this sample size); lower is better")

    MODELS.mkdir(parents=True, exist_ok=True)
    weights = MODELS / f"{NAME}.safetensors"
    state = {k: v.detach().half().contiguous() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    save_file(state, str(weights), metadata={"format": "translator", "translator": "stylegan"})
    card = entry.card.to_dict()
    training = dict(card["training"])
    training.update(device=args.device_label, data={"image": {"folder": "../shared/datasets/objects",
                                                              "images": int(real.shape[0])}})
    card.update(
        name=NAME, title="StyleGAN2: objects on white, 64 px",
        description=(f"A small StyleGAN2 (64 px, widths up to 64, z and w of 64) trained from scratch with ADA "
                     f"on the objects set for {training['steps']} steps on a shared CPU: a demonstration model "
                     "that makes blurry object-like blobs on white, not a quality generator. Retrain longer "
                     "on a GPU with packaging/recipes/train_stylegan.py --device cuda --steps N."),
        source={"kind": "bundled", "script": "packaging/recipes/train_stylegan.py", "run": NAME},
        training=training, metrics=metrics,
        sha256=hashlib.sha256(weights.read_bytes()).hexdigest())
    weights.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")

    with torch.no_grad():
        grid = latents.mixing_grid(model, [1, 2, 3, 4], [10, 11, 12, 13, 14], "coarse", psi=0.7)
    array = ((grid.permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    array = cv2.resize(array, (array.shape[1] * 2, array.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    GRID.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(GRID), cv2.cvtColor(array, cv2.COLOR_RGB2BGR))
    print(json.dumps(metrics, indent=2))
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB), its card and {GRID}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
