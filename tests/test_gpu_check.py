"""The parts of benchmarks/gpu_check.py that a CPU can check: the refusal without CUDA, the table,
pytest's summary, and the latency and agreement loops run on the CPU in float32."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from translator import api

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("gpu_check", None)


def _toy_registry(plugin_registry):
    class Toy:
        @api.hookimpl
        def translator_translators(self):
            return [api.TranslatorSpec(name="toy", title="Toy", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                                       build=lambda c: torch.nn.Conv2d(3, 3, 3, padding=1),
                                       translate=lambda m, x, p, c: torch.sigmoid(m(x.to(c.dtype))))]

    return plugin_registry(Toy())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without CUDA")
def test_without_cuda_it_stops_at_once_with_one_line(gpu_check, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("OUT", str(tmp_path))
    assert gpu_check.main([]) == 2
    err = capsys.readouterr().err.strip()
    assert "no CUDA device" in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_unknown_sections_are_usage_errors(gpu_check):
    with pytest.raises(SystemExit):
        gpu_check.main(["--skip", "latency,nonsense"])


def test_the_table_is_markdown_with_every_row(gpu_check):
    rows = [gpu_check.Row("latency", "cyclegan 512^2 fp16", "12.0 ms", "0.38x fp32"), gpu_check.Row("tests", "x", "1")]
    table = gpu_check.render(rows, "GPU check")
    lines = table.strip().splitlines()
    assert lines[0] == "## GPU check" and lines[2].startswith("| section")
    assert len(lines) == 6 and "0.38x fp32" in lines[4]
    assert len({len(line) for line in lines[2:]}) == 1  # aligned columns


def test_pytest_summaries_are_counted(gpu_check):
    text = "....\nSKIPPED [1] tests/x.py:3: needs a CUDA device\n= 4 passed, 1 skipped, 600 deselected in 12.3s ="
    assert gpu_check.parse_pytest_summary(text) == {"passed": 4, "skipped": 1, "deselected": 600}
    assert gpu_check.parse_pytest_summary("1 failed, 2 errors in 3s") == {"failed": 1, "error": 2}


def test_latency_rows_on_the_cpu(gpu_check, plugin_registry):
    rows = gpu_check.check_latency(_toy_registry(plugin_registry), (16, 24), device="cpu",
                                   variants=("fp32", "fp32+channels_last"), repeat=1)
    assert [r.item for r in rows] == ["toy 16^2 fp32", "toy 16^2 fp32+channels_last", "toy 24^2 fp32",
                                      "toy 24^2 fp32+channels_last"]
    assert all(r.value.endswith(" ms") for r in rows) and rows[1].note.endswith("x fp32")


def test_agreement_rows_on_the_cpu(gpu_check, plugin_registry):
    registry = _toy_registry(plugin_registry)

    class NoStore:
        def open(self, name):
            raise LookupError(name)

    rows = gpu_check.check_agreement(registry, NoStore(), device="cpu", low="fp32")
    assert len(rows) == 1 and rows[0].value == "max 0.0000"


@pytest.mark.slow
def test_dry_run_goes_through_every_section_on_the_cpu(gpu_check, monkeypatch, tmp_path, capsys):
    import json

    monkeypatch.setenv("OUT", str(tmp_path))
    assert gpu_check.main(["--dry-run"]) == 0
    table = capsys.readouterr().out
    assert "CPU dry run" in table.splitlines()[0]
    rows = [gpu_check.Row(**r) for r in json.loads((tmp_path / "gpu_check.json").read_text())]
    assert (tmp_path / "gpu_check.md").read_text() == table.rstrip("\n") + "\n"
    assert {r.section for r in rows} == set(gpu_check.SECTIONS)
    failed = [r for r in rows if r.value in ("error", "skipped", "no result")]
    assert not failed, failed
    assert any(r.section == "tests" and "skipped" in r.value for r in rows)  # no CUDA here: they skip
    measured = {r.section for r in rows if r.item != "section time"}
    assert measured == set(gpu_check.SECTIONS)
    assert any(r.item.startswith("cyclegan 32^2 bf16") and r.note.endswith("x fp32") for r in rows)
    assert any(r.section == "training" and r.value.endswith("img/s") for r in rows)
