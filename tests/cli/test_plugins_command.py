"""`translator plugins`, and the example third-party plugin installed like a user would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
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
    example = plugins["example-sepia"]
    assert example["source"] == "package" and example["version"] == "1.0.0" and example["status"] == "ok"
    assert [t["name"] for t in example["translators"]] == ["sepia"]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(EXAMPLE / "tests")], env=env, capture_output=True, text=True, timeout=300,
                           cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
