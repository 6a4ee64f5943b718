"""Shared test setup: Qt offscreen, a private TRANSLATOR_HOME per test, fake plugin packages."""
from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The tensors in tests are tiny: one thread each (this process and the ones it starts) is faster
# than several threads spinning against each other on a small CI machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# A safety net under the per-test TRANSLATOR_HOME: should a test lose it, the platform's user data
# and config folders still point into a temporary folder, never at the developer's real ones.
_SANDBOX = tempfile.mkdtemp(prefix="translator-tests-")
os.environ["XDG_DATA_HOME"] = os.path.join(_SANDBOX, "data")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SANDBOX, "config")


@pytest.fixture(autouse=True)
def translator_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user data dir, so nothing touches the real one."""
    home = tmp_path_factory.mktemp("translator-home")
    monkeypatch.setenv("TRANSLATOR_HOME", str(home))
    monkeypatch.delenv("TRANSLATOR_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return home


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """`fake_distribution(dist, module, source, entry=None)`: an installed third-party package on
    sys.path (a module plus a dist-info with a `translator.plugins` entry point)."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    made: list[str] = []

    def make(dist: str, module: str, source: str, entry: str | None = None) -> Path:
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[translator.plugins]\n{entry or dist} = {module}\n")
        sys.modules.pop(module, None)
        made.append(module)
        return root

    yield make
    for module in made:
        sys.modules.pop(module, None)


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "translator-plugin-example"


@pytest.fixture
def example_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example plugin (`examples/translator-plugin-example`) on sys.path as if installed:
    its package plus a dist-info with its `translator.plugins` entry point."""
    root = tmp_path / "example-site"
    info = root / "translator_plugin_example-1.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: translator-plugin-example\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text("[translator.plugins]\nexample = translator_plugin_example\n")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    yield EXAMPLE
    for name in [m for m in sys.modules if m.split(".")[0] == "translator_plugin_example"]:
        sys.modules.pop(name, None)
