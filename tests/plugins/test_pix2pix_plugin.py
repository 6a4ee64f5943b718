"""The pix2pix translator: its spec, inference at any size, tiling, the invert parameter, line
drawings as the sketch pad makes them, and the bundled model."""
from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch
from translator_plugins.pix2pix import networks, plugin

from translator import api
from translator.engine import Engine
from translator.image import Image
from translator.plugins import load_registry
from translator.spec import RunContext, TaskKind
from translator.store import ModelStore

torch.set_num_threads(1)
TINY = {"ngf": 4, "num_downs": 6, "size": 0}
CTX = RunContext(device=torch.device("cpu"), dtype=torch.float32)
BUNDLED = "objects-sketch2photo"


@pytest.fixture(scope="module")
def spec():
    return load_registry(third_party=False).translator("pix2pix")


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = networks.build(TINY).eval()
    with torch.no_grad():  # batch-norm statistics away from the identity, as after training
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    return model


def line_drawing(width: int, height: int) -> Image:
    """Dark strokes on white, like the sketch pad's canvas."""
    canvas = np.full((height, width, 3), 255, np.uint8)
    cv2.circle(canvas, (width // 2, height // 2), min(width, height) // 3, (0, 0, 0), 2)
    cv2.line(canvas, (width // 5, height // 5), (4 * width // 5, 3 * height // 4), (20, 20, 20), 3)
    cv2.rectangle(canvas, (width // 8, height // 2), (width // 3, 7 * height // 8), (0, 0, 0), 1)
    return Image(rgb=canvas.astype(np.float32) / 255)


def test_spec_declares_a_tileable_image_to_image_translator(spec):
    assert spec.task is TaskKind.IMAGE_TO_IMAGE
    assert [p.name for p in spec.params] == ["work_at", "invert"]
    assert spec.params[0].default == "model" and spec.params[1].default is False
    assert spec.tileable and spec.tile_overlap >= 64 and spec.tile_overlap % spec.size_multiple == 0
    assert spec.size_multiple == 2 ** networks.MIN_LEVELS
    assert spec.default_config == {"ngf": 64, "num_downs": 8, "norm": "batch", "use_dropout": True, "size": 256,
                                   "upsample": "transposed"}  # the paper's, from the config parameters
    assert spec.models_dir.name == "models" and spec.models_dir.parent.name == "pix2pix"
    assert spec.training is not None and spec.describe()["trainable"] is True


def test_default_config_is_the_paper_generator(spec):
    with torch.device("meta"):
        model = spec.build(dict(spec.default_config))
    assert sum(p.numel() for p in model.G.parameters()) == 54_413_955
    assert spec.input_requirements(model) == api.SizeRequirements(multiple=256)


@pytest.mark.parametrize(("height", "width"), [(250, 333), (5, 7), (64, 64), (33, 130)])
def test_any_size_through_the_engine(spec, tiny, run_translator, height, width):
    image = Image(rgb=np.random.default_rng(0).random((height, width, 3), dtype=np.float32))
    result = run_translator(spec, image, model=tiny)
    assert result.rgb.shape == (height, width, 3)
    assert np.isfinite(result.rgb).all() and 0 <= result.rgb.min() and result.rgb.max() <= 1


def test_the_engine_pads_to_the_models_own_multiple_and_crops_back(spec, tiny):
    assert spec.input_requirements(tiny) == api.SizeRequirements(multiple=64)  # 2**num_downs
    images = torch.rand(1, 3, 64, 128)
    with torch.no_grad():
        whole = tiny(images)
    out = Engine(device="cpu", precision="fp32").run(spec, tiny, Image(rgb=images[0, :, :50, :70].permute(1, 2, 0).numpy()),
                                                      {"work_at": "image"})
    assert out.rgb.shape == (50, 70, 3)
    # away from the padding the result matches an unpadded run on the larger image
    expected = whole[0, :, :20, :30].permute(1, 2, 0).numpy()
    assert np.abs(out.rgb[:20, :30] - expected).mean() < 0.05


def test_work_at_model_size_shrinks_big_images_and_enlarges_the_result(spec):
    import kornia

    from translator.api.filters import guided_upsample

    torch.manual_seed(0)
    model = networks.build({**TINY, "size": 64}).eval()
    assert spec.work_size(model, {"work_at": "model"}) == 64 and spec.work_size(model, {"work_at": "image"}) == 0
    images = torch.rand(1, 3, 96, 160)
    engine = Engine(device="cpu", precision="fp32")

    def run(x, work_at):
        return torch.from_numpy(engine.run(spec, model, Image(rgb=x[0].permute(1, 2, 0).numpy()),
                                           {"work_at": work_at}).rgb).permute(2, 0, 1)[None]

    with torch.no_grad():
        shrunk = run(images, "model")
        small = kornia.geometry.transform.resize(images, (38, 64), antialias=True)
        # enlarged along the input's gray levels by the guided filter
        out = plugin.translate(model, api.SizeRequirements(multiple=64).pad(small), {}, CTX)[..., :38, :64]
        expected = guided_upsample(out, small.mean(1, keepdim=True), images.mean(1, keepdim=True),
                                   radius=plugin.GUIDE_RADIUS, eps=plugin.GUIDE_EPS)
        native = run(images, "image")
        little = run(images[..., :40, :50], "model")
        little_native = run(images[..., :40, :50], "image")
    assert shrunk.shape == native.shape == images.shape
    assert torch.allclose(shrunk, expected.clamp(0, 1), atol=1e-5)
    assert (shrunk - native).abs().mean() > 1e-3
    assert torch.equal(little, little_native)  # smaller than the training size: never enlarged


def test_tiles_run_at_their_own_size(spec):
    torch.manual_seed(0)
    model = networks.build({**TINY, "size": 64}).eval()
    image = line_drawing(600, 450)
    tiles = Engine(device="cpu", precision="fp32", tile_pixels=420 * 420)
    tiled = tiles.run(spec, model, image, {"work_at": "model"})
    native = tiles.run(spec, model, image, {"work_at": "image"})
    shrunk = Engine(device="cpu", precision="fp32").run(spec, model, image, {"work_at": "model"})
    assert np.array_equal(tiled.rgb, native.rgb) and not np.array_equal(shrunk.rgb, native.rgb)


def test_invert_turns_light_lines_on_dark_into_dark_lines_on_white(tiny):
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        inverted = plugin.translate(tiny, images, {"invert": True}, CTX)
        expected = plugin.translate(tiny, 1 - images, {"invert": False}, CTX)
    assert torch.equal(inverted, expected)


def test_tiled_run_agrees_with_the_whole_image(spec, tiny):
    image = line_drawing(600, 450)
    whole = Engine(device="cpu", precision="fp32").run(spec, tiny, image, {})
    tiled = Engine(device="cpu", precision="fp32", tile_pixels=420 * 420).run(spec, tiny, image, {})
    assert tiled.rgb.shape == whole.rgb.shape == (450, 600, 3)
    assert np.abs(tiled.rgb - whole.rgb).mean() < 0.02


def test_instance_norm_unet_tiles_are_normalised_like_the_whole_image(spec):
    torch.manual_seed(0)
    model = networks.build({**TINY, "norm": "instance"}).eval()
    rgb = line_drawing(600, 450).rgb.copy()
    rgb[:, :250] *= 0.2  # tiles with very different statistics
    image = Image(rgb=rgb)
    whole = Engine(device="cpu", precision="fp32").run(spec, model, image, {})
    tiles = Engine(device="cpu", precision="fp32", tile_pixels=420 * 420)
    tiled = tiles.run(spec, model, image, {})
    unfrozen = tiles.run(dataclasses.replace(spec, prepare_tiling=None), model, image, {})
    error, unfrozen_error = np.abs(tiled.rgb - whole.rgb).mean(), np.abs(unfrozen.rgb - whole.rgb).mean()
    assert error < 0.75 * unfrozen_error and error < 0.01


def test_frozen_instance_norm_uses_the_statistics_of_the_preview():
    torch.manual_seed(0)
    generator = networks.build({**TINY, "norm": "instance"}).eval().G
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    crop = x[..., :64, :64]
    with torch.no_grad():
        own, alone = generator(x), generator(crop)
        with networks.frozen_instance_norm(generator, lambda: generator(x)):
            frozen, frozen_crop = generator(x), generator(crop)
        assert torch.allclose(frozen, own, atol=1e-5)  # its own statistics: the same result
        assert (frozen_crop - alone).abs().max() > 1e-3  # a crop normalised like the whole image
        assert torch.equal(generator(crop), alone)  # and back to normal after the context
    batch_norm = networks.build(TINY).eval().G
    with networks.frozen_instance_norm(batch_norm, lambda: pytest.fail("batch norm needs no preview")):
        pass


def test_bundled_model_loads_from_the_store_with_its_card(spec):
    store = ModelStore(load_registry(third_party=False))
    entry = store.default("pix2pix")
    assert entry is not None and entry.bundled and entry.name == BUNDLED
    weights = spec.models_dir / f"{BUNDLED}.safetensors"
    assert weights.stat().st_size <= 30_000_000
    card = json.loads((spec.models_dir / f"{BUNDLED}.json").read_text(encoding="utf-8"))
    assert card["translator"] == "pix2pix" and card["source"]["kind"] == "bundled"
    assert {"data", "steps", "time_s", "device"} <= set(card["training"])
    metrics = card["metrics"]
    for style in ("xdog", "canny"):
        assert {f"heldout_psnr_db_{style}", f"heldout_ssim_{style}", f"heldout_psnr_db_{style}_drawing_baseline"} \
            <= set(metrics)
    # Pen-style (Canny) drawings of held-out objects gain at least 3 dB over the drawing itself.
    assert metrics["heldout_psnr_db_canny"] >= metrics["heldout_psnr_db_canny_drawing_baseline"] + 3
    model = store.load(entry)
    assert not model.training
    assert all(t.dtype == torch.float32 for t in model.state_dict().values() if t.is_floating_point())


def test_bundled_model_turns_a_line_drawing_into_a_picture(spec, run_translator):
    store = ModelStore(load_registry(third_party=False))
    _, model = store.open("pix2pix")
    drawing = line_drawing(150, 120)
    result = run_translator(spec, drawing, model=model)
    assert result.rgb.shape == (120, 150, 3) and np.isfinite(result.rgb).all()
    assert np.abs(result.rgb - drawing.rgb).mean() > 0.005  # it did something to the drawing
    assert result.rgb.std() > 0.02  # and it is not a flat image
