"""The colorize translator: spec, any image size through the engine, luminance kept, hints, CLI."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from translator import api
from translator.cli.main import main
from translator.image import Image
from translator.plugins import load_registry
from translator_plugins import colorize
from translator_plugins.colorize import lab, plugin

torch.set_num_threads(1)
TINY = {"architecture": "unet", "width": 4, "depth": 2, "middle": 1}


class SpreadHints(torch.nn.Module):
    """A stand-in network that follows hints perfectly: each hint's ab spreads over a 9x9
    neighbourhood (normalised convolution), zero chroma elsewhere."""

    follows_hints = True
    size_multiple = 1

    def forward(self, lightness: torch.Tensor, hint_ab: torch.Tensor, hint_mask: torch.Tensor) -> torch.Tensor:
        total = F.avg_pool2d(hint_ab * hint_mask, 9, stride=1, padding=4)
        weight = F.avg_pool2d(hint_mask, 9, stride=1, padding=4)
        return torch.where(weight > 0, total / weight.clamp_min(1e-6), torch.zeros_like(total))


def lightness_of(image: Image) -> torch.Tensor:
    return lab.lightness(torch.from_numpy(image.rgb).permute(2, 0, 1).unsqueeze(0))


@pytest.fixture
def spec(plugin_registry):
    return plugin_registry(colorize).translator("colorize")


def test_spec_declares_hints_saturation_and_working_size(spec):
    assert spec.task is api.TaskKind.IMAGE_WITH_HINTS
    assert [p.name for p in spec.params] == ["hints", "saturation", "working_size"]
    assert isinstance(spec.params[0], api.ColorPoints)
    assert spec.tileable is False and spec.size_multiple == 1
    assert spec.training is not None and spec.training.data is api.DataKind.SINGLE
    assert spec.models_dir == plugin.MODELS_DIR
    assert "colorize" in load_registry().translators


@pytest.mark.parametrize(("width", "height"), [(37, 23), (1, 1), (5, 300), (64, 64)])
def test_any_size_keeps_size_and_lightness(spec, run_translator, image_factory, width, height):
    model = plugin.build(TINY).eval()
    image = image_factory(width, height, pattern="noise", seed=width)
    result = run_translator(spec, image, model=model)
    assert result.rgb.shape == (height, width, 3)
    assert 0.0 <= result.rgb.min() and result.rgb.max() <= 1.0
    assert (lightness_of(result) - lightness_of(image)).abs().max().item() < 0.05


def test_colour_input_is_converted_to_gray_first(spec, run_translator, image_factory):
    model = plugin.build(TINY).eval()
    colour = image_factory(40, 30, pattern="gradient")
    gray_rgb = lab.lab_to_rgb(lightness_of(colour), torch.zeros(1, 2, 30, 40))[0].permute(1, 2, 0).numpy()
    from_colour = run_translator(spec, colour, model=model)
    from_gray = run_translator(spec, Image(rgb=np.ascontiguousarray(gray_rgb)), model=model)
    assert np.abs(from_colour.rgb - from_gray.rgb).max() < 1e-3


def test_hints_colour_the_image_where_they_are_placed(spec, run_translator, image_factory):
    image = image_factory(80, 48, pattern="gray")
    red = api.ColorPoint(x=0.25, y=0.5, rgb=(220, 30, 30))
    result = run_translator(spec, image, model=SpreadHints(), hints=(red,), working_size=64)
    near = result.rgb[24, 20]
    far = result.rgb[2, 77]
    assert near[0] > near[1] + 0.1 and near[0] > near[2] + 0.1  # red where the point is
    assert np.ptp(far) < 0.01  # still gray far away
    unhinted = run_translator(spec, image, model=SpreadHints(), working_size=64)
    assert np.ptp(unhinted.rgb, axis=2).max() < 0.01


def test_hints_change_the_output_of_a_real_hint_network_near_the_point(spec, run_translator, image_factory):
    torch.manual_seed(0)
    model = plugin.build({"architecture": "siggraph17"}).eval()
    image = image_factory(64, 64, pattern="gradient")
    blue = api.ColorPoint(x=0.75, y=0.25, rgb=(0, 0, 255))
    plain = run_translator(spec, image, model=model, working_size=64)
    hinted = run_translator(spec, image, model=model, working_size=64, hints=(blue,))
    change = np.abs(hinted.rgb - plain.rgb).sum(axis=2)
    assert change[16, 48] > 0 and change[12:20, 44:52].mean() > change[48:, :16].mean()


def test_eccv16_network_ignores_hints_the_translator_spreads_them(spec, run_translator, image_factory):
    torch.manual_seed(0)
    model = plugin.build({"architecture": "eccv16"}).eval()
    image = image_factory(48, 40, pattern="gradient")
    small = torch.rand(1, 1, 32, 32) * 100
    assert torch.equal(model(small, torch.ones(1, 2, 32, 32) * 50, torch.ones(1, 1, 32, 32)), model(small))
    point = api.ColorPoint(x=0.5, y=0.5, rgb=(0, 255, 0))
    hinted = run_translator(spec, image, model=model, working_size=64, hints=(point,)).rgb[20, 24]
    assert hinted[1] > hinted[0] + 0.1 and hinted[1] > hinted[2] + 0.1  # green at the point
    gray = run_translator(spec, image, model=model, working_size=64, saturation=0.0)
    assert np.ptp(gray.rgb, axis=2).max() < 2e-3


def test_bad_parameters_are_clear_errors(spec, run_translator, image_factory):
    with pytest.raises(api.ParameterError, match="working_size"):
        run_translator(spec, image_factory(8, 8), model=SpreadHints(), working_size=8)
    with pytest.raises(api.ParameterError, match="outside the image"):
        run_translator(spec, image_factory(8, 8), model=SpreadHints(), hints=({"x": 2, "y": 0, "rgb": (1, 2, 3)},))


def test_cli_apply_with_hints(tmp_path, capsys):
    """`translator apply --plugin colorize --param hints=...` with the bundled model."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    gray = cv2.resize((rng.random((4, 5)) * 255).astype(np.uint8), (50, 40), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(inputs / "old photo.png"), gray)
    out = tmp_path / "out"
    status = main(["apply", "--plugin", "colorize", "--param", "hints=0.2,0.3,#ff0000;0.8,0.7,#0000ff",
                   "--param", "saturation=1.2", "--device", "cpu", "--quiet", str(inputs), "-o", str(out)])
    assert status == 0, capsys.readouterr().err
    written = list(out.iterdir())
    assert len(written) == 1
    result = cv2.imread(str(written[0]))
    assert result.shape == (40, 50, 3)
    result_l = lab.lightness(torch.from_numpy(result[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255)
    gray_l = lab.lightness(torch.from_numpy(gray).float().div(255).expand(1, 3, 40, 50))
    assert (result_l - gray_l).abs().mean().item() < 0.5  # same lightness, up to 8-bit rounding
    assert main(["apply", "--plugin", "colorize", "--param", "hints=0.2,0.3,red", "--quiet", str(inputs),
                 "-o", str(tmp_path / "out2")]) != 0
    assert "colour point" in capsys.readouterr().err


def test_bundled_model_colours_near_a_hint(spec, run_translator, image_factory, model_store):
    entry, model = model_store(colorize).open("colorize")
    assert entry is not None and entry.bundled and entry.card.metrics["heldout_photos"] > 0
    image = image_factory(96, 64, pattern="gray")
    red = api.ColorPoint(x=0.3, y=0.5, rgb=(230, 40, 40))
    plain = run_translator(spec, image, model=model)
    hinted = run_translator(spec, image, model=model, hints=(red,))

    def redness(result: Image) -> np.ndarray:
        return result.rgb[..., 0] - 0.5 * (result.rgb[..., 1] + result.rgb[..., 2])

    gain = redness(hinted) - redness(plain)
    assert gain[30:34, 26:32].mean() > 0.05  # redder at the point
    # a ramp has no edge to stop the colour: it spreads, fading with the distance
    assert gain[30:34, 26:32].mean() > np.abs(gain[:, 80:]).mean() + 0.1
    assert (lightness_of(hinted) - lightness_of(image)).abs().max().item() < 0.05
