"""The inference engine with tiny translators: padding, tiling, alpha, progress, cancel, errors,
out-of-memory retries, half-precision fallback, generators and gradients."""
from __future__ import annotations

import contextlib
import dataclasses
import threading

import numpy as np
import pytest
import torch
from torch import nn

from translator import api
from translator.engine import Engine
from translator.errors import Cancelled, DeviceError, PluginError, TranslatorError
from translator.testing import make_image


class LocalNet(nn.Module):
    """Two 5x5 convolutions (receptive radius 4) then a sigmoid: every output pixel depends on a
    9x9 neighbourhood, so tiles with 8 px of usable context must reproduce the whole image."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Conv2d(3, 8, 5, padding=2, padding_mode="reflect"), nn.Tanh(),
                                  nn.Conv2d(8, 3, 5, padding=2, padding_mode="reflect"), nn.Sigmoid())

    def forward(self, x):
        return self.body(x)


def _translate(model, images, params, ctx):
    return model(images.to(ctx.dtype))


def _spec(**overrides) -> api.TranslatorSpec:
    fields = dict(name="local", title="Local", description="test", task=api.TaskKind.IMAGE_TO_IMAGE,
                  build=lambda config: LocalNet(), translate=_translate,
                  tileable=True, tile_overlap=16)
    fields.update(overrides)
    return api.TranslatorSpec(**fields)


def test_tiled_equals_whole_for_a_local_network():
    image = make_image(203, 157, pattern="noise")
    model = LocalNet()
    whole = Engine("cpu", "fp32").run(_spec(), model, image)
    tiled = Engine("cpu", "fp32", tile_pixels=64 * 64).run(_spec(), model, image)
    assert tiled.rgb.shape == (157, 203, 3)
    assert np.abs(tiled.rgb - whole.rgb).max() < 1e-5


def test_padding_to_the_size_multiple_and_crop_back():
    seen = []

    def translate(model, images, params, ctx):
        seen.append(tuple(images.shape[-2:]))
        return images

    image = make_image(33, 18)
    result = Engine("cpu", "fp32").run(_spec(translate=translate, size_multiple=16), LocalNet(), image)
    assert seen == [(32, 48)]
    np.testing.assert_array_equal(result.rgb, image.rgb)


def test_the_models_size_requirements_pad_every_input_and_are_cropped_back():
    seen = []

    def translate(model, images, params, ctx):
        seen.append((tuple(images.shape[-2:]), ctx.tiled))
        return images

    needs = api.SizeRequirements(minimum=40, multiple=16)
    spec = _spec(translate=translate, size_multiple=4, size_requirements=lambda model: needs)
    assert spec.input_requirements(LocalNet()) == needs
    image = make_image(33, 18)  # width 33, height 18
    result = Engine("cpu", "fp32").run(spec, LocalNet(), image)
    assert seen == [((48, 48), False)]
    np.testing.assert_array_equal(result.rgb, image.rgb)
    seen.clear()
    Engine("cpu", "fp32", tile_pixels=64 * 64).run(spec, LocalNet(), make_image(150, 150))
    assert len(seen) > 1 and all(h % 16 == 0 and w % 16 == 0 and h >= 40 and w >= 40 and tiled
                                 for (h, w), tiled in seen)


def test_size_requirements_combine_and_pad_by_reflection_or_replication():
    assert api.SizeRequirements(minimum=8, multiple=4).combined(api.SizeRequirements(multiple=6)) == \
        api.SizeRequirements(minimum=8, multiple=12)
    assert [api.SizeRequirements(minimum=8, multiple=4).padded_side(s) for s in (1, 8, 9)] == [8, 8, 12]
    rows = torch.arange(5.0).reshape(1, 1, 5, 1).expand(1, 1, 5, 24)
    assert api.SizeRequirements(multiple=8).pad(rows)[0, 0, :, 0].tolist() == [0, 1, 2, 3, 4, 3, 2, 1]
    assert api.SizeRequirements(minimum=12).pad(rows)[0, 0, :, 0].tolist() == [0, 1, 2, 3, 4] + [4] * 7  # 7 > 5 rows
    assert api.SizeRequirements().pad(rows) is rows
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="must be an integer >= 1"):
            api.SizeRequirements(multiple=bad)


def test_work_size_shrinks_whole_images_only_and_enlarges_the_result():
    seen = []

    def translate(model, images, params, ctx):
        seen.append(tuple(images.shape[-2:]))
        return 1 - images

    spec = _spec(translate=translate, size_multiple=4, work_size=lambda model, params: params["work"],
                 params=(api.Int(name="work", default=64, minimum=0, maximum=4096),))
    image = make_image(200, 100)  # a smooth gradient, width 200, height 100
    result = Engine("cpu", "fp32").run(spec, LocalNet(), image)
    assert seen == [(32, 64)] and result.rgb.shape == (100, 200, 3)
    # the shrunk, translated image enlarged back: close to the translated input, not equal
    error = np.abs(result.rgb - (1 - image.rgb)).mean()
    assert 0 < error < 0.2
    seen.clear()
    native = Engine("cpu", "fp32").run(spec, LocalNet(), image, {"work": 0})
    np.testing.assert_allclose(native.rgb, 1 - image.rgb, atol=1e-6)
    enlarged = []

    def enlarge(out, shrunk, images):
        enlarged.append((tuple(out.shape), tuple(shrunk.shape), tuple(images.shape)))
        return torch.full_like(images, 2.0)  # clamped to [0, 1] by the engine

    seen.clear()
    result = Engine("cpu", "fp32").run(dataclasses.replace(spec, enlarge=enlarge), LocalNet(), image)
    assert enlarged == [((1, 3, 32, 64), (1, 3, 32, 64), (1, 3, 100, 200))] and (result.rgb == 1).all()
    seen.clear()
    Engine("cpu", "fp32", tile_pixels=64 * 64).run(spec, LocalNet(), image, {"work": 32})
    assert len(seen) > 1 and max(max(s) for s in seen) == 64  # tiles keep their own size


def test_tiny_images_pad_by_replication():
    result = Engine("cpu", "fp32").run(_spec(size_multiple=8), LocalNet(), make_image(1, 1))
    assert result.rgb.shape == (1, 1, 3)


def test_alpha_and_source_are_kept():
    image = make_image(20, 10, alpha=True)
    result = Engine("cpu", "fp32").run(_spec(), LocalNet(), image)
    np.testing.assert_array_equal(result.alpha, image.alpha)


def test_progress_is_monotone_and_ends_at_one():
    fractions = []
    Engine("cpu", "fp32", tile_pixels=64 * 64).run(_spec(), LocalNet(), make_image(150, 150),
                                                   progress=lambda f, m: fractions.append(f))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 4


def test_cancel_between_tiles():
    cancel = threading.Event()
    calls = []

    def translate(model, images, params, ctx):
        calls.append(1)
        cancel.set()
        return model(images)

    with pytest.raises(Cancelled):
        Engine("cpu", "fp32", tile_pixels=64 * 64).run(_spec(translate=translate), LocalNet(),
                                                       make_image(150, 150), cancel=cancel)
    assert len(calls) == 1


def test_prepare_tiling_wraps_every_tile_with_a_preview():
    events = []

    @contextlib.contextmanager
    def prepare(model, preview, params, ctx):
        events.append(("enter", tuple(preview.shape)))
        yield
        events.append(("exit",))

    def translate(model, images, params, ctx):
        events.append("tile")
        return images

    needs = api.SizeRequirements(minimum=72, multiple=8)
    Engine("cpu", "fp32", tile_pixels=64 * 64).run(
        _spec(translate=translate, prepare_tiling=prepare, size_multiple=4, size_requirements=lambda m: needs),
        LocalNet(), make_image(300, 200))
    assert events[0][0] == "enter" and events[-1] == ("exit",)
    _, (batch, channels, height, width) = events[0]
    # the preview fits the budget before it is padded to the model's requirements
    assert (batch, channels) == (1, 3) and height % 8 == 0 and width % 8 == 0 and min(height, width) >= 72
    assert events.count("tile") > 1


def test_params_are_validated_and_completed():
    received = {}

    def translate(model, images, params, ctx):
        received.update(params)
        return images

    spec = _spec(translate=translate, params=(api.Float(name="amount", default=0.5, minimum=0, maximum=1),))
    Engine("cpu", "fp32").run(spec, LocalNet(), make_image(8, 8))
    assert received == {"amount": 0.5}
    with pytest.raises(api.ParameterError, match="amount"):
        Engine("cpu", "fp32").run(spec, LocalNet(), make_image(8, 8), {"amount": 3})


def test_a_failing_translator_is_a_plugin_error_with_its_cause():
    def translate(model, images, params, ctx):
        raise ZeroDivisionError("boom")

    with pytest.raises(PluginError, match="local failed: ZeroDivisionError: boom") as info:
        Engine("cpu", "fp32").run(_spec(translate=translate), LocalNet(), make_image(8, 8))
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_translator_error_passes_through():
    def translate(model, images, params, ctx):
        raise TranslatorError("this model has no B to A generator")

    with pytest.raises(TranslatorError, match="no B to A") as info:
        Engine("cpu", "fp32").run(_spec(translate=translate), LocalNet(), make_image(8, 8))
    assert not isinstance(info.value, PluginError)


@pytest.mark.parametrize("output, message", [
    (lambda images: images[:, :1], "expected a \\(B, 3, H, W\\) tensor"),
    (lambda images: images[..., :-1], "must keep the size"),
    (lambda images: images * float("nan"), "NaN"),
    (lambda images: "an image", "expected"),
])
def test_bad_outputs_are_plugin_errors(output, message):
    spec = _spec(translate=lambda model, images, params, ctx: output(images))
    with pytest.raises(PluginError, match=message):
        Engine("cpu", "fp32").run(spec, LocalNet(), make_image(8, 8))


def test_out_of_memory_retries_with_smaller_tiles():
    sizes = []

    def translate(model, images, params, ctx):
        pixels = images.shape[-1] * images.shape[-2]
        sizes.append(pixels)
        if pixels > 100 * 100:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return model(images)

    engine = Engine("cpu", "fp32", tile_pixels=400 * 400)
    model = LocalNet()
    image = make_image(300, 260, pattern="noise")
    result = engine.run(_spec(translate=translate), model, image)
    assert max(sizes) > 100 * 100 and engine.tile_pixels <= 100 * 100
    whole = Engine("cpu", "fp32").run(_spec(), model, image)
    assert np.abs(result.rgb - whole.rgb).max() < 1e-5


def test_out_of_memory_without_tiling_is_a_device_error():
    def translate(model, images, params, ctx):
        raise RuntimeError("CUDA error: out of memory")

    with pytest.raises(DeviceError, match="out of memory"):
        Engine("cpu", "fp32").run(_spec(translate=translate, tileable=False), LocalNet(), make_image(8, 8))


def test_generator_without_input():
    def translate(model, images, params, ctx):
        assert images is None
        generator = torch.Generator().manual_seed(params["seed"])
        return torch.rand(1, 3, 12, 16, generator=generator)

    spec = _spec(task=api.TaskKind.GENERATE, translate=translate, params=(api.Seed(name="seed", default=3),))
    first = Engine("cpu", "fp32").run(spec, LocalNet(), None, {"seed": 5})
    again = Engine("cpu", "fp32").run(spec, LocalNet(), None, {"seed": 5})
    assert first.rgb.shape == (12, 16, 3) and first.alpha is None
    np.testing.assert_array_equal(first.rgb, again.rgb)


def test_image_translators_need_an_input():
    with pytest.raises(TranslatorError, match="needs an input image"):
        Engine("cpu", "fp32").run(_spec(), LocalNet(), None)


def test_inference_mode_unless_the_translator_needs_gradients():
    modes = []

    def translate(model, images, params, ctx):
        modes.append(torch.is_inference_mode_enabled())
        if not modes[-1]:
            latent = torch.zeros_like(images, requires_grad=True)
            (model(images + latent).sum()).backward()
            assert latent.grad is not None
        return images

    Engine("cpu", "fp32").run(_spec(translate=translate), LocalNet(), make_image(8, 8))
    Engine("cpu", "fp32").run(_spec(translate=translate, needs_grad=True), LocalNet(), make_image(8, 8))
    assert modes == [True, False]


def test_the_model_is_put_in_eval_mode_on_the_device():
    model = LocalNet().train()
    Engine("cpu", "fp32").run(_spec(), model, make_image(8, 8))
    assert not model.training


@pytest.mark.parametrize("kwargs, message", [
    ({"device": "tpu"}, "unknown device"),
    ({"device": "cuda:7"} if not torch.cuda.is_available() else {"device": "cuda:99"}, "CUDA"),
    ({"device": "cpu", "precision": "fp16"}, "needs a GPU"),
    ({"device": "cpu", "precision": "fp8"}, "unknown precision"),
    ({"device": "cpu", "tile_pixels": 10}, "minimum"),
])
def test_bad_engine_settings_are_device_errors(kwargs, message):
    with pytest.raises(DeviceError, match=message):
        Engine(**kwargs)


def test_list_devices_ends_with_the_cpu():
    from translator.device import list_devices

    devices = list_devices()
    assert devices[-1].name == "cpu" and all(d.title for d in devices)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_half_precision_matches_fp32():
    image = make_image(64, 48, pattern="noise")
    model = LocalNet()
    reference = Engine("cpu", "fp32").run(_spec(), model, image)
    half = Engine("cuda", "fp16").run(_spec(), model, image)
    assert np.abs(half.rgb - reference.rgb).max() < 1e-2
