"""What the scripts that regenerate the bundled models share: the held-out split of a data
folder, the training command as a model card records it, and installing the result.

Imported by `packaging/recipes/train_*.py` (run as scripts, so this folder is on `sys.path`).
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT_FRACTION = 0.1
SPLIT_SEED = 2026
CUDNN_RUNNER = ("import sys, torch; torch.backends.cudnn.benchmark = True; "
                "from translator.training.cli import main; sys.exit(main(sys.argv[1:]))")
"""`translator-train` with cuDNN autotuning on (fixed crop sizes: the fastest kernels are kept)."""


def find(folder: Path) -> list[Path]:
    """The images under `folder`, sorted."""
    from translator.imageio import find_images

    return sorted(find_images([folder]))


def held_out_files(folder: Path) -> list[Path]:
    """The seeded `HELD_OUT_FRACTION` of `folder`'s images that `split_held_out` holds out, sorted."""
    files = find(folder)
    count = max(1, round(len(files) * HELD_OUT_FRACTION))
    return [files[i] for i in sorted(random.Random(SPLIT_SEED).sample(range(len(files)), count))]


def split_held_out(folder: Path, work: Path, name: str = "photos-train") -> tuple[Path, list[Path]]:
    """Hold out a seeded `HELD_OUT_FRACTION` of `folder`'s images (`held_out_files`).

    Returns a fresh folder `work/name` of symbolic links to the others (the training images) and
    the held-out files.
    """
    held = held_out_files(folder)
    train_dir = work / name
    shutil.rmtree(train_dir, ignore_errors=True)
    train_dir.mkdir(parents=True)
    for path in find(folder):
        if path not in held:
            (train_dir / path.name).symlink_to(path.resolve())
    return train_dir, held


def recorded_command(command: Sequence[str], work: Path, shared: Path) -> list[str]:
    """`translator-train ...` as a model card records it: without this machine's folders."""
    heads = (["-m", "translator.training"], ["-c", CUDNN_RUNNER])
    args = list(command[3:]) if list(command[1:3]) in heads else list(command[1:])
    replacements = ((str(work.resolve()), "<work>"), (str(work), "<work>"),
                    (str(shared.resolve()), "shared"), (str(shared), "shared"))
    out = []
    for arg in args:
        for old, new in replacements:
            arg = arg.replace(old, new)
        out.append(arg)
    return ["translator-train", *out]


def install(registry: Any, card: Any, state: dict[str, Any], work: Path, plugin: str,
            out: Path | None = None) -> Path:
    """Save `card` with `state` (fp16 safetensors, sha256 in the card) and copy both into
    `out` (default plugins/<plugin>/models/); returns the weights file there."""
    from translator.store import ModelStore

    saved = ModelStore(registry, home=work / "out").save(card, state, half=True, overwrite=True)
    models = out if out is not None else ROOT / "plugins" / plugin / "models"
    models.mkdir(parents=True, exist_ok=True)
    weights = models / saved.weights.name
    shutil.copyfile(saved.weights, weights)
    shutil.copyfile(saved.card_path, weights.with_suffix(".json"))
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB)")
    return weights


# -- the interface every train_<plugin>.py shares (see packaging/recipes/README or train_all.py) --

def add_interface_arguments(parser: argparse.ArgumentParser, presets: Mapping[str, Any], work: Path) -> None:
    """The recipe interface: --shared, --work, --device, --steps, --preset, --minutes, --out."""
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared data folder")
    parser.add_argument("--work", type=Path, default=work, help="scratch folder (splits, runs)")
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda (default: auto)")
    parser.add_argument("--steps", type=int, default=None, help="generator steps (default: the preset's)")
    parser.add_argument("--preset", choices=sorted(presets), default=None,
                        help="gpu on CUDA, else cpu: architecture, crop, batch and steps for that device class")
    parser.add_argument("--minutes", type=float, default=None,
                        help="wall-clock budget of the training (translator-train --time-limit)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the weights and card here (default: plugins/<plugin>/models)")


def translator_train(*, benchmark: bool) -> list[str]:
    """The head of a `translator-train` command line, with cuDNN autotuning when `benchmark`."""
    return [sys.executable, "-c", CUDNN_RUNNER] if benchmark else [sys.executable, "-m", "translator.training"]


def device_words(device: Any) -> str:
    """How a model card names the training device: the GPU's name, or the CPU's core count."""
    import os

    if getattr(device, "type", str(device)) == "cuda":
        import torch

        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return f"CPU ({os.cpu_count()} cores)"
