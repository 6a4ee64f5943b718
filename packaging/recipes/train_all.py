"""Retrain all four bundled models in one command, within one wall-clock budget.

    python packaging/recipes/train_all.py [--minutes 10] [--device cuda] [--preset gpu|cpu]
        [--steps N] [--only PLUGIN ...] [--shared ../shared] [--work DIR] [--out DIR] [--dry-run]

Runs packaging/recipes/train_<plugin>.py for cyclegan, pix2pix, colorize and stylegan, one after
the other on one device, each with `--preset P --minutes M --device D` (and --shared, --work,
--out, --steps when given). The budget (default 10 minutes: one modern GPU, H200/A100 class,
mixed precision and cudnn.benchmark through the gpu presets) is split by `SHARES` after
`OVERHEAD_MIN` per recipe for start-up, held-out measurement and export. Each recipe writes its
model and card (into --out/<plugin>/ when --out is given, else plugins/<plugin>/models/); a
summary table of the cards is printed at the end. Exit code: 0, or 1 when a recipe failed (the
others still run).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RECIPES = ("cyclegan", "pix2pix", "colorize", "stylegan")
SHARES = {"cyclegan": 0.3, "pix2pix": 0.25, "colorize": 0.25, "stylegan": 0.2}
"""Fractions of the training budget (CycleGAN trains two generators and two discriminators)."""
OVERHEAD_MIN = 0.5
"""Minutes kept per recipe for start-up, data split, held-out measurement and export."""
DEFAULT_MINUTES = 10.0
HEADLINE = {
    "cyclegan": ("cycle_psnr", "artifact"),
    "pix2pix": ("psnr", "ssim", "artifact"),
    "colorize": ("psnr", "ssim", "colourfulness", "hints"),
    "stylegan": ("heldout_swd_x1e3_trained_mean", "heldout_swd_x1e3_floor_mean"),
}
"""Substrings of the card metrics the summary shows per plugin."""


def budget(total_minutes: float, plugins: list[str]) -> dict[str, float]:
    """Training minutes per plugin: (total - overhead) split by `SHARES` (renormalised over
    `plugins`). Raises ValueError when the total does not cover the overhead."""
    spare = total_minutes - OVERHEAD_MIN * len(plugins)
    if spare <= 0:
        raise ValueError(f"--minutes {total_minutes:g} does not cover {OVERHEAD_MIN:g} minutes of "
                         f"overhead for each of {len(plugins)} recipe(s)")
    weight = sum(SHARES[p] for p in plugins)
    return {p: spare * SHARES[p] / weight for p in plugins}


def recipe_command(plugin: str, minutes: float, args: argparse.Namespace) -> list[str]:
    """The command line of one recipe (only the shared interface flags)."""
    command = [sys.executable, str(HERE / f"train_{plugin}.py"), "--preset", args.preset,
               "--minutes", f"{minutes:.3f}", "--device", args.device]
    if args.steps is not None:
        command += ["--steps", str(args.steps)]
    if args.shared is not None:
        command += ["--shared", str(args.shared)]
    if args.work is not None:
        command += ["--work", str(args.work / plugin)]
    if args.out is not None:
        command += ["--out", str(args.out / plugin)]
    return command


def written_cards(plugin: str, out: Path | None, since: float) -> list[Path]:
    """The model cards a recipe wrote (modified after `since`)."""
    folder = out / plugin if out is not None else ROOT / "plugins" / plugin / "models"
    return sorted(p for p in folder.glob("*.json") if p.stat().st_mtime >= since - 1)


def summary_row(plugin: str, card: dict[str, Any], wall_s: float) -> list[str]:
    training = card.get("training", {})
    metrics = card.get("metrics", {})
    shown = [f"{k}={v}" for k, v in metrics.items()
             if isinstance(v, (int, float)) and any(h in k for h in HEADLINE[plugin])]
    return [plugin, str(card.get("name", "?")), str(training.get("steps", "?")),
            f"{float(training.get('time_s') or 0):.0f}", f"{wall_s:.0f}", str(training.get("device", "?")),
            "; ".join(shown) or "-"]


def print_table(rows: list[list[str]]) -> None:
    header = ["plugin", "model", "steps", "train s", "wall s", "device", "held-out metrics"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES,
                        help=f"wall-clock budget of the whole run (default: {DEFAULT_MINUTES:g})")
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--preset", choices=("cpu", "gpu"), default=None,
                        help="the recipes' preset (default: gpu on CUDA, else cpu)")
    parser.add_argument("--steps", type=int, default=None, help="cap every recipe's steps (smoke tests)")
    parser.add_argument("--only", nargs="+", choices=RECIPES, default=None, help="run only these recipes")
    parser.add_argument("--shared", type=Path, default=None, help="the shared data folder (default: ../shared)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder; each recipe uses <work>/<plugin>")
    parser.add_argument("--out", type=Path, default=None,
                        help="write models and cards into <out>/<plugin>/ instead of plugins/<plugin>/models")
    parser.add_argument("--dry-run", action="store_true", help="print the budget and the commands only")
    args = parser.parse_args(argv)
    if args.preset is None:
        args.preset = "gpu" if args.device.startswith("cuda") else "cpu"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plugins = [p for p in RECIPES if args.only is None or p in args.only]
    try:
        minutes = budget(args.minutes, plugins)
    except ValueError as exc:
        print(f"train_all: error: {exc}", file=sys.stderr)
        return 2
    rows, failed = [], []
    started_all = time.time()
    for plugin in plugins:
        command = recipe_command(plugin, minutes[plugin], args)
        print(f"== {plugin}: {minutes[plugin]:.2f} min of training\n   {' '.join(command)}", flush=True)
        if args.dry_run:
            continue
        started = time.time()
        code = subprocess.run(command, cwd=ROOT).returncode
        wall = time.time() - started
        cards = written_cards(plugin, args.out, started)
        if code != 0 or not cards:
            failed.append(plugin)
            rows.append([plugin, "FAILED", "-", "-", f"{wall:.0f}", "-", f"exit code {code}"])
            continue
        for path in cards:
            rows.append(summary_row(plugin, json.loads(path.read_text(encoding="utf-8")), wall))
    if args.dry_run:
        return 0
    print(f"\n{len(plugins)} recipe(s) in {(time.time() - started_all) / 60:.1f} min "
          f"(budget {args.minutes:g} min):")
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
