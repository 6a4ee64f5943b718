"""The desktop bundle: `packaging/build.py` builds it, and it runs in a clean environment.

Building takes several minutes of CPU, more than CI's budget allows beside the suite, so this
runs only when asked: `TRANSLATOR_TEST_BUNDLE=1 python -m pytest tests/test_bundle.py` (needs the
`build` extra); `TRANSLATOR_TEST_BUNDLE_DIR=dist/translator` tests an existing build instead.
The bundle runs with an empty environment (no PYTHONPATH, PATH=/usr/bin:/bin), from an empty folder: a third-party plugin installed beside it reports the import path and where
torch and translator were loaded from, and all of them must lie inside the bundle.
"""
from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from translator import __version__

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "translator-plugin-example" / "translator_plugin_example" / "sepia.py"
ENABLE = "TRANSLATOR_TEST_BUNDLE"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get(ENABLE), reason=f"builds the bundle (minutes): set {ENABLE}=1"),
    pytest.mark.skipif(importlib.util.find_spec("PyInstaller") is None, reason="needs the build extra"),
]

PROBE = '''
@api.hookimpl
def translator_translators():
    return [SPEC]

import json, os, sys
import torch
import translator
with open(os.environ["TRANSLATOR_PROBE"], "w", encoding="utf-8") as _out:
    json.dump({"sys_path": sys.path, "torch": torch.__file__, "translator": translator.__file__}, _out)
'''


def _build_module():
    spec = importlib.util.spec_from_file_location("translator_build", ROOT / "packaging" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh build, or the one in `TRANSLATOR_TEST_BUNDLE_DIR` (e.g. `dist/translator`)."""
    existing = os.environ.get("TRANSLATOR_TEST_BUNDLE_DIR")
    if existing:
        return Path(existing).resolve()
    out = tmp_path_factory.mktemp("bundle")
    start = time.monotonic()
    command = [sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(out / "dist"),
               "--work", str(out / "work")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"\nbuilt in {time.monotonic() - start:.0f} s: {result.stdout.strip().splitlines()[-1]}")
    return out / "dist" / "translator"


def _clean_run(bundle: Path, args: list[str], tmp: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
           "TRANSLATOR_HOME": str(tmp / "translator-home"), "XDG_DATA_HOME": str(tmp / "data"),
           "XDG_CONFIG_HOME": str(tmp / "config"), "OMP_NUM_THREADS": "1", **extra}
    return subprocess.run([str(bundle / "translator"), *args], capture_output=True, text=True, env=env,
                          cwd=tmp, timeout=600)


def test_bundle_is_lean_and_holds_no_tests_or_cuda(bundle):
    build = _build_module()
    import torch

    assert build.problems(bundle, cpu_only=torch.version.cuda is None) == []
    internal = bundle / "_internal"
    for plugin in ("cyclegan", "pix2pix", "colorize", "stylegan"):
        assert list((internal / "translator_plugins" / plugin / "models").glob("*.safetensors")), plugin
    assert (internal / "translator_resources" / "desktop").is_dir()
    for unused in ("libQt6Qml*", "libQt6Quick*", "libQt6Pdf*", "libQt6Network*"):
        assert not list(internal.glob(f"PySide6/Qt/lib/{unused}")), unused
    size = build.folder_size(bundle) / 2**20
    print(f"bundle size: {size:.0f} MiB")
    assert size < 1024


def test_version_in_a_clean_environment(bundle, tmp_path):
    result = _clean_run(bundle, ["--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"translator {__version__}"
    assert any(line.startswith("Python ") and "(desktop bundle)" in line for line in lines)
    assert any(line.startswith("torch ") for line in lines)
    assert any(line.startswith("Qt 6.") for line in lines)
    assert any(line.startswith("devices: ") and "cpu" in line for line in lines)


def test_third_party_plugin_beside_the_bundle_loads_from_the_bundle_only(bundle, tmp_path):
    site = bundle / "site-packages"
    site.mkdir(exist_ok=True)
    try:
        source = EXAMPLE.read_text(encoding="utf-8") + PROBE
        (site / "bundle_probe_plugin.py").write_text(source, encoding="utf-8")
        info = site / "bundle_probe_plugin-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bundle-probe-plugin\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[translator.plugins]\nprobe = bundle_probe_plugin\n")
        probe = tmp_path / "probe.json"
        result = _clean_run(bundle, ["plugins", "--json"], tmp_path, TRANSLATOR_PROBE=str(probe))
    finally:
        import shutil

        shutil.rmtree(site)
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert {"cyclegan", "pix2pix", "colorize", "stylegan", "probe"} <= set(plugins)
    assert all(p["status"] == "ok" for p in plugins.values()), plugins
    assert plugins["cyclegan"]["source"] == "built-in" and plugins["probe"]["source"] == "package"
    seen = json.loads(probe.read_text(encoding="utf-8"))
    inside = str(bundle.resolve())
    for path in [*seen["sys_path"], seen["torch"], seen["translator"]]:
        assert str(Path(path).resolve()).startswith(inside), f"{path} is outside the bundle"


def test_screenshot_of_a_sample_in_a_clean_environment(bundle, tmp_path):
    sample = bundle / "_internal" / "translator_resources" / "samples" / "landscape_gray.png"
    out = tmp_path / "shot.png"
    result = _clean_run(bundle, ["--screenshot", str(out), str(sample)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 640 and height >= 400


def test_desktop_entry_from_the_bundle_points_at_it(bundle, tmp_path):
    result = _clean_run(bundle, ["--install-desktop-entry"], tmp_path)
    assert result.returncode == 0, result.stderr
    entry = next((tmp_path / "data" / "applications").glob("*.desktop")).read_text(encoding="utf-8")
    assert f"\nExec={(bundle / 'translator').resolve()} %F\n" in entry
