"""`translator plugins`, and the example third-party plugin installed like a user would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from translator.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "translator-plugin-example"
BROKEN = "import nonexistent_dependency_of_this_plugin\n"


def test_plugins_json_lists_builtins_and_a_broken_plugin(fake_distribution, capsys):
    fake_distribution("translator-plugin-broken", "tp_broken", BROKEN, entry="broken")
    assert main(["plugins", "--json"]) == 0
    plugins = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert plugins["broken"]["status"] == "broken"
    assert "nonexistent_dependency_of_this_plugin" in plugins["broken"]["error"]
    assert plugins["cyclegan"]["source"] == "built-in"
    assert {"name", "version", "source", "translators", "error"} <= set(plugins["cyclegan"])


def test_plugins_text_output_marks_broken(fake_distribution, capsys):
    fake_distribution("translator-plugin-broken", "tp_broken", BROKEN, entry="broken")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "broken 1.2.3 (package) [BROKEN]" in out


@pytest.mark.slow
def test_example_plugin_installs_lists_and_passes_its_own_tests(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(EXAMPLE)], check=True, capture_output=True, timeout=300)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]))
    listed = subprocess.run([sys.executable, "-m", "translator.cli.main", "plugins", "--json"], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    example = plugins["example"]
    assert example["source"] == "package" and example["version"] == "1.0.0" and example["status"] == "ok"
    assert [t["name"] for t in example["translators"]] == ["sepia", "tone"]
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), str(EXAMPLE)], check=True, capture_output=True, timeout=300)
    assert wheel.returncode == 0
    with zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))) as archive:
        assert {"translator_plugin_example/models/warm.safetensors",
                "translator_plugin_example/models/warm.json"} <= set(archive.namelist())
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(EXAMPLE / "tests")], env=env, capture_output=True, text=True, timeout=300,
                           cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr


PARAMS_PLUGIN = """
from translator import api

def _build(config):
    import torch
    return torch.nn.Identity()

@api.hookimpl
def translator_translators():
    return [api.TranslatorSpec(
        name="knobs", title="Knobs", description="d", task=api.TaskKind.IMAGE_TO_IMAGE, build=_build,
        translate=lambda m, x, p, c: x, default_config={}, weights=False,
        params=(api.Float(name="gain", default=0.5, minimum=0.0, maximum=2.0, step=0.1, help="how much"),
                api.Choice(name="mode", choices=("soft", "hard"), default="soft"),
                api.Color(name="tint", default="#ff8800", help="the colour")))]
"""


def test_plugins_text_output_lists_each_parameter(fake_distribution, capsys):
    fake_distribution("translator-plugin-knobs", "tp_knobs", PARAMS_PLUGIN, entry="knobs")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "knobs            image-to-image     Knobs (no weights)" in out
    assert "gain (float) = 0.5, 0.0 to 2.0 step 0.1: how much" in out
    assert "mode (choice) = soft, one of soft|hard" in out
    assert "tint (color) = #ff8800: the colour" in out
    assert "Colorize (trainable)" in out


@pytest.mark.parametrize("reader", ["head -1", "true"])
def test_plugins_json_into_a_closed_pipe_prints_nothing_on_stderr(reader):
    """`| true` closes the pipe before anything is written (the reader exits at once): the
    write fails every time, not only when `head` wins the race."""
    pipeline = f"{sys.executable} -m translator.cli.main plugins --json | {reader}"
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {pipeline}"], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.stdout == ("[\n" if reader.startswith("head") else "")
    assert done.stderr == "" and done.returncode == 0
