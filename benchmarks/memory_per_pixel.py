"""Peak memory per input pixel of `translator apply` for each image-to-image translator.

Runs `translator apply` (CPU, float32, bundled default models) in a child process on a noise
image of two sizes and reports the child's peak resident memory and the slope in bytes per
pixel: (peak(large) - peak(small)) / (pixels(large) - pixels(small)). The slope times
`DEFAULT_MAX_PIXELS` must stay within the memory budget stated in `translator/imageio.py`.

    python benchmarks/memory_per_pixel.py [--sizes 1000x750,2000x1500] [--plugins colorize,...]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

PLUGINS = ("colorize", "cyclegan", "pix2pix")




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000x750,2000x1500")
    parser.add_argument("--plugins", default=",".join(PLUGINS))
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in text.split("x")) for text in args.sizes.split(",")]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"),
               TRANSLATOR_MAX_PIXELS="1e9")
    translator = str(Path(sys.executable).with_name("translator"))
    with tempfile.TemporaryDirectory() as folder:
        for plugin in args.plugins.split(","):
            peaks = []
            for width, height in sizes:
                image = Path(folder) / f"in-{width}x{height}.png"
                noise = (np.random.default_rng(0).random((height, width, 3)) * 255).astype(np.uint8)
                cv2.imwrite(str(image), noise)
                # each measurement in its own grandchild, so the high-water mark is its own
                command = [translator, "apply", "--plugin", plugin, "--device", "cpu", "--precision", "fp32",
                           "-o", str(Path(folder) / "out"), "--overwrite", "--quiet", str(image)]
                code = (f"import resource, subprocess; subprocess.run({command!r}, check=True); "
                        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
                result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                        check=False)
                if result.returncode != 0:
                    raise SystemExit(f"{plugin} {width}x{height} failed:\n{result.stderr[-2000:]}")
                peaks.append(int(result.stdout.split()[-1]) * 1024)
                print(f"{plugin:10s} {width}x{height}: peak {peaks[-1] / 1e6:8.0f} MB", flush=True)
            (w0, h0), (w1, h1) = sizes[0], sizes[-1]
            slope = (peaks[-1] - peaks[0]) / (w1 * h1 - w0 * h0)
            print(f"{plugin:10s} slope {slope:6.0f} bytes per pixel", flush=True)


if __name__ == "__main__":
    main()
