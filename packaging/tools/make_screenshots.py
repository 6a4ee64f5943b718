"""Render the README's app screenshots: one per built-in plugin, with its sample image and the
bundled model's result (`translator --screenshot` does the same for one image).

Run: python packaging/tools/make_screenshots.py [--out docs/screenshots] [PLUGIN ...]
Each screenshot runs in its own process (offscreen when there is no display) on the CPU.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"
SHOTS = {
    "pix2pix": (SAMPLES / "handbag_sketch.png", {}),
    "colorize": (SAMPLES / "landscape_gray.png", {"hints": [
        {"x": 0.3, "y": 0.12, "rgb": [80, 150, 235]}, {"x": 0.5, "y": 0.62, "rgb": [70, 150, 60]},
        {"x": 0.4, "y": 0.92, "rgb": [50, 110, 170]}, {"x": 0.78, "y": 0.23, "rgb": [255, 220, 120]}]}),
    "cyclegan": (SAMPLES / "landscape.png", {}),
    "stylegan": (None, {"seed": 7}),
}
CHILD = """
import ast, sys
from translator.gui.app import run_app
translator, out, image = sys.argv[1], sys.argv[2], sys.argv[3]
params = ast.literal_eval(sys.argv[4])
sys.exit(run_app([image] if image else [], screenshot=out, translator=translator, params=params))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plugins", nargs="*", default=list(SHOTS), help="plugins to shoot (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for plugin in args.plugins:
        image, params = SHOTS[plugin]
        out = args.out / f"{plugin}.png"
        env = dict(os.environ, TRANSLATOR_HOME=tempfile.mkdtemp(prefix="translator-shots-"))
        result = subprocess.run([sys.executable, "-c", CHILD, plugin, str(out), str(image or ""), repr(params)],
                                env=env, capture_output=True, text=True, check=False)
        ok = result.returncode == 0
        failed += not ok
        print(f"{plugin}: {'ok' if ok else 'FAILED'} -> {out}")
        if not ok:
            print(result.stderr[-2000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
