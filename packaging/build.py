"""Build the one-folder desktop bundle with PyInstaller: `python packaging/build.py`.

    python packaging/build.py [--dist DIR] [--work DIR]

Needs the `build` extra (`pip install -e ".[build]"`). Steps:
1. install the project (not editable) into `WORK/stage`, so PyInstaller sees exactly what a wheel
   holds: the `translator` package, the four built-in plugins with their bundled models, the
   resources and the distribution's metadata (whose entry points name the built-in plugins);
2. run `packaging/translator.spec` (one launcher, unused Qt modules and plugins left out);
3. check the result (no test files; no CUDA libraries when the installed torch is a CPU build)
   and print its size.

The bundle is `DIST/translator/`; start it with `DIST/translator/translator`. Exit status 0 when
the bundle was built and passed the checks, 1 otherwise.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "translator.spec"
NAME = "translator"
# Shared libraries of NVIDIA's CUDA stack; a CPU build of the bundle must hold none of them.
CUDA_LIBRARY = re.compile(r"^lib(cudart|cublas|cublasLt|cudnn|cufft|curand|cusolver|cusparse|nccl|nvrtc|"
                          r"nvJitLink|nvToolsExt|cupti|torch_cuda|c10_cuda)\b")


def stage(work: Path) -> Path:
    """Install the project (no dependencies) into `work/stage` and return that folder."""
    target = work / "stage"
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-compile", "--target", str(target), str(ROOT)], check=True)
    return target


def run_pyinstaller(staged: Path, dist: Path, work: Path) -> Path:
    """Run the spec with the staged project first on the import path; returns the bundle folder."""
    path = os.pathsep.join(filter(None, [str(staged), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path,
               TRANSLATOR_STAGE=str(staged))
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work / "pyinstaller"), str(SPEC)],
                   check=True, env=env, cwd=ROOT)
    return dist / NAME


def problems(bundle: Path, *, cpu_only: bool) -> list[str]:
    """What is wrong with a built bundle: missing launcher, test files (ours, torch's C++ test
    programs), CUDA libraries in a CPU build."""
    found: list[str] = []
    if not (bundle / NAME).is_file():
        found.append(f"no launcher {bundle / NAME}")
    for path in bundle.rglob("*"):
        rel = path.relative_to(bundle)
        ours = any(part in ("translator", "translator_plugins", "translator_resources") for part in rel.parts)
        torch_tests = (path.is_file() and "torch" in rel.parts and path.name != "torch_shm_manager"
                       and any(p in ("test", "bin") for p in rel.parts))
        if torch_tests or (ours and ("tests" in rel.parts or path.name.startswith("test_"))):
            found.append(f"test file {rel}")
        if cpu_only and path.is_file() and (CUDA_LIBRARY.match(path.name) or "nvidia" in rel.parts):
            found.append(f"CUDA library in a CPU build: {rel}")
    return found


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under `folder` (links not followed)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def torch_is_cpu_only() -> bool:
    import torch

    return torch.version.cuda is None and getattr(torch.version, "hip", None) is None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the one-folder desktop bundle with PyInstaller.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bundle",
                        help="scratch folder (default: build/bundle/)")
    args = parser.parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    bundle = run_pyinstaller(stage(work), dist, work)
    cpu_only = torch_is_cpu_only()
    found = problems(bundle, cpu_only=cpu_only)
    for problem in found:
        print(f"build: {problem}", file=sys.stderr)
    size = folder_size(bundle)
    print(f"{bundle} ({'CPU' if cpu_only else 'CUDA'} build): {size / 2**20:.0f} MiB; "
          f"start it with {bundle / NAME}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
