"""ONNX export and the engine's ONNX Runtime backend: agreement with PyTorch, dynamic sizes, the
card, refusals, the cache of graphs and the measured choice of `auto`.

Tests that run ONNX Runtime are skipped when it is not installed (the `onnx` extra)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from translator import api, onnx_backend
from translator.cli.main import main
from translator.engine import Engine
from translator.errors import DeviceError
from translator.onnx_export import TOLERANCE, ExportError, export_onnx, onnxruntime_available, why_not_exportable
from translator.plugins import load_registry
from translator.testing import make_image

needs_ort = pytest.mark.skipif(not onnxruntime_available(), reason="onnxruntime is not installed")
TINY = {"ngf": 4, "ndf": 4, "n_blocks": 1, "n_layers_d": 2, "norm": "instance", "use_dropout": False,
        "directions": ["AtoB", "BtoA"]}


@pytest.fixture(scope="module")
def cyclegan():
    spec = load_registry().translator("cyclegan")
    torch.manual_seed(0)
    return spec, spec.build(TINY).eval()


def _torch(spec, model, images, params):
    ctx = api.RunContext(device=torch.device("cpu"), dtype=torch.float32)
    with torch.inference_mode():
        return spec.translate(model, images, params, ctx).numpy()


def test_size_classes_are_powers_of_two():
    assert onnx_backend.size_class(10, 20) == 256
    assert onnx_backend.size_class(256, 100) == 256
    assert onnx_backend.size_class(300, 257) == 512
    assert onnx_backend.size_class(512, 1500) == 2048


def test_unknown_or_missing_backends_are_device_errors(monkeypatch):
    with pytest.raises(DeviceError, match="unknown backend"):
        Engine("cpu", "fp32", backend="tensorrt")
    monkeypatch.setattr(onnx_backend, "onnxruntime_available", lambda: False)
    with pytest.raises(DeviceError, match="not installed"):
        Engine("cpu", "fp32", backend="onnxruntime")


def test_auto_without_onnxruntime_runs_pytorch(monkeypatch, cyclegan):
    spec, model = cyclegan
    monkeypatch.setattr(onnx_backend, "onnxruntime_available", lambda: False)
    image = make_image(36, 28, pattern="noise")
    auto = Engine("cpu", "fp32", backend="auto").run(spec, model, image)
    plain = Engine("cpu", "fp32").run(spec, model, image)
    np.testing.assert_array_equal(auto.rgb, plain.rgb)


def test_what_cannot_be_one_graph_is_refused(cyclegan):
    spec, _model = cyclegan
    registry = load_registry()
    assert "generates" in why_not_exportable(registry.translator("stylegan"), {})
    assert "changes per image" in why_not_exportable(spec, {"direction": "AtoB", "hints": ({"x": 1},)})
    assert why_not_exportable(spec, {"direction": "AtoB", "hints": ()}) is None
    projector = api.TranslatorSpec(name="p", title="P", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                                   build=lambda c: None, translate=lambda m, x, p, c: x,
                                   needs_grad=True)
    assert "optimises" in why_not_exportable(projector, {})


@needs_ort
@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_export_agrees_with_pytorch_at_other_sizes(tmp_path, cyclegan, direction):
    import onnxruntime as ort

    spec, model = cyclegan
    params = {"direction": direction}
    report = export_onnx(spec, model, params, tmp_path / "g.onnx", example_size=(32, 32))
    assert report.path.exists() and report.check_size != (32, 32)
    assert report.max_abs_diff <= TOLERANCE
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    images = torch.rand(2, 3, 44, 60)
    got = session.run(None, {"images": images.numpy()})[0]
    np.testing.assert_allclose(got, _torch(spec, model, images, params), atol=TOLERANCE, rtol=0)


@needs_ort
def test_a_graph_that_disagrees_is_not_written(tmp_path):
    def translate(model, images, params, ctx):  # a Python branch on the size: traced one way only
        return images * 0.5 if images.shape[-1] > 40 else images

    spec = api.TranslatorSpec(name="branchy", title="B", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                              build=lambda c: torch.nn.Identity(), translate=translate)
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export_onnx(spec, torch.nn.Identity(), {}, tmp_path / "b.onnx", example_size=(32, 32),
                    check_size=(32, 64))
    assert list(tmp_path.iterdir()) == []


@needs_ort
@pytest.mark.slow
def test_models_export_writes_the_graph_and_a_card(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["models", "export", "cyclegan/photo2painting", "--format", "onnx", "-o", "p2p.onnx",
                 "--param", "direction=BtoA", "--size", "32"])
    assert code == 0, capsys.readouterr().err
    assert "max difference" in capsys.readouterr().out
    card = json.loads((tmp_path / "p2p.json").read_text())
    assert card["format"] == "onnx" and card["params"] == {"direction": "BtoA"}
    assert card["check"]["max_abs_diff"] <= TOLERANCE and card["input"]["shape"][2:] == ["height", "width"]
    assert card["training"]["device"]
    assert main(["models", "export", "cyclegan/photo2painting", "-o", "p2p.onnx"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["models", "export", "stylegan/objects64", "-o", "s.onnx"]) == 2
    assert "generates images" in capsys.readouterr().err


@needs_ort
def test_onnxruntime_backend_matches_pytorch_and_caches_the_graph(monkeypatch, cyclegan):
    spec, model = cyclegan
    image = make_image(52, 40, pattern="noise")
    plain = Engine("cpu", "fp32").run(spec, model, image)
    fast = Engine("cpu", "fp32", backend="onnxruntime").run(spec, model, image)
    assert np.abs(fast.rgb - plain.rgb).max() <= TOLERANCE
    graphs = list(onnx_backend.cache_dir().glob("cyclegan-*-s256.onnx"))
    assert len(graphs) == 1

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_backend, "export_onnx", no_export)
    again = Engine("cpu", "fp32", backend="onnxruntime").run(spec, model, make_image(60, 44, pattern="noise"))
    assert again.rgb.shape == (44, 60, 3)


@needs_ort
def test_onnxruntime_backend_refuses_what_it_cannot_run():
    def translate(model, images, params, ctx):
        return images

    spec = api.TranslatorSpec(name="grad", title="G", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                              build=lambda c: torch.nn.Identity(), translate=translate,
                              needs_grad=True)
    with pytest.raises(DeviceError, match="optimises"):
        Engine("cpu", "fp32", backend="onnxruntime").run(spec, torch.nn.Identity(), make_image(8, 8))


@needs_ort
@pytest.mark.parametrize("torch_s,ort_s,expected", [(2.0, 1.0, "onnxruntime"), (1.0, 2.0, "torch")])
def test_auto_takes_the_faster_backend_as_measured_and_remembers(monkeypatch, cyclegan, torch_s, ort_s, expected):
    spec, model = cyclegan
    calls = []

    def fake_measure(torch_run, ort_run, rounds=3):
        calls.append(1)
        torch_run()
        ort_run()
        return {"torch_s": torch_s, "onnxruntime_s": ort_s}

    monkeypatch.setattr(onnx_backend, "measure", fake_measure)
    used = []
    real_run = onnx_backend.OnnxBackend.run
    monkeypatch.setattr(onnx_backend.OnnxBackend, "run",
                        lambda self, session, images: used.append(1) or real_run(self, session, images))
    image = make_image(40, 32, pattern="noise")
    Engine("cpu", "fp32", backend="auto").run(spec, model, image, {"direction": "BtoA"})
    assert calls == [1]
    choices = json.loads((onnx_backend.cache_dir() / "choices.json").read_text())
    assert [c["backend"] for c in choices.values()] == [expected]
    used.clear()
    Engine("cpu", "fp32", backend="auto").run(spec, model, image, {"direction": "BtoA"})
    assert calls == [1]  # remembered on disk: no second measurement
    assert bool(used) == (expected == "onnxruntime")


@needs_ort
def test_a_failed_export_means_pytorch_for_auto_and_one_error_for_onnxruntime(monkeypatch):
    def translate(model, images, params, ctx):  # traced at one width, wrong at another
        return images * 0.5 if images.shape[-1] > 40 else images

    spec = api.TranslatorSpec(name="branchy", title="B", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                              build=lambda c: torch.nn.Identity(), translate=translate)
    image = make_image(48, 32, pattern="noise")
    auto = Engine("cpu", "fp32", backend="auto").run(spec, torch.nn.Identity(), image)
    np.testing.assert_allclose(auto.rgb, image.rgb * 0.5, atol=1e-6)
    engine = Engine("cpu", "fp32", backend="onnxruntime")
    with pytest.raises(ExportError):
        engine.run(spec, torch.nn.Identity(), image)
    monkeypatch.setattr(onnx_backend, "export_onnx", lambda *a, **k: pytest.fail("exported again"))
    with pytest.raises(ExportError):
        engine.run(spec, torch.nn.Identity(), image)


BUILT_INS = {
    # name: (tiny config, parameters, None when it exports, else words of the refusal)
    "cyclegan": (TINY, {"direction": "BtoA"}, None),
    "pix2pix": ({"ngf": 2, "num_downs": 6, "norm": "batch", "use_dropout": False, "size": 64},
                {"work_at": "image"}, None),
    "colorize": ({"architecture": "unet", "width": 4, "depth": 2, "middle": 1}, {}, "PyTorch only"),
    "stylegan": (None, {}, "generates images"),
}


def test_every_built_in_translator_is_covered():
    assert set(load_registry().translators) == set(BUILT_INS)


@needs_ort
@pytest.mark.parametrize("name", sorted(BUILT_INS))
def test_every_built_in_exports_with_dynamic_sizes_or_says_why_not(tmp_path, name):
    import onnxruntime as ort

    from translator.params import resolve_params

    spec = load_registry().translator(name)
    config, given, refusal = BUILT_INS[name]
    torch.manual_seed(0)
    model = spec.build(config).eval() if config is not None else torch.nn.Identity()
    params = resolve_params(spec.params, given)
    if refusal:
        with pytest.raises(ExportError, match=refusal):
            export_onnx(spec, model, params, tmp_path / "g.onnx", example_size=(64, 64))
        assert list(tmp_path.iterdir()) == []
        return
    report = export_onnx(spec, model, params, tmp_path / "g.onnx", example_size=(64, 64))
    assert report.max_abs_diff <= TOLERANCE
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    # the engine pads to the model's needs before the graph runs: any sides meeting them are one graph
    multiple = max(report.size_multiple, 1)
    for height, width in ((1, 2), (2, 3), (3, 1)):
        height, width = max(height * multiple, report.min_side), max(width * multiple, report.min_side)
        images = torch.rand(1, 3, height, width)
        got = session.run(None, {"images": images.numpy()})[0]
        np.testing.assert_allclose(got, _torch(spec, model, images, params), atol=TOLERANCE, rtol=0)


@needs_ort
def test_pix2pix_on_onnxruntime_in_the_engine(monkeypatch):
    spec = load_registry().translator("pix2pix")
    torch.manual_seed(0)
    model = spec.build(BUILT_INS["pix2pix"][0]).eval()
    image = make_image(70, 40, pattern="noise")
    params = {"work_at": "image"}
    plain = Engine("cpu", "fp32").run(spec, model, image, params)
    fast = Engine("cpu", "fp32", backend="onnxruntime").run(spec, model, image, params)
    assert np.abs(fast.rgb - plain.rgb).max() <= TOLERANCE
    # at the model's size the engine shrinks and enlarges outside the graph, so ONNX Runtime runs it too
    big = make_image(150, 90, pattern="noise")
    at_model = {"work_at": "model"}
    fast = Engine("cpu", "fp32", backend="onnxruntime").run(spec, model, big, at_model)
    assert np.abs(fast.rgb - Engine("cpu", "fp32").run(spec, model, big, at_model).rgb).max() <= TOLERANCE
