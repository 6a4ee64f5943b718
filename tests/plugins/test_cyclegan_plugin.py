"""The CycleGAN translator: its spec, inference both ways and tiling support."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from translator_plugins.cyclegan import networks

from translator import api
from translator.errors import TranslatorError
from translator.image import Image
from translator.plugins import load_registry
from translator.spec import RunContext, TaskKind

torch.set_num_threads(1)
TINY = {"ngf": 4, "n_blocks": 1}
CTX = RunContext(device=torch.device("cpu"), dtype=torch.float32)


@pytest.fixture(scope="module")
def spec():
    return load_registry(third_party=False).translator("cyclegan")


def test_spec_declares_a_tileable_two_way_translator(spec):
    assert spec.task is TaskKind.TWO_WAY
    assert [p.name for p in spec.params] == ["direction"]
    assert spec.params[0].choices == ("AtoB", "BtoA") and spec.params[0].default == "AtoB"
    assert spec.size_multiple == 4 and spec.tileable and spec.prepare_tiling is not None
    assert spec.input_requirements(None) == api.SizeRequirements(minimum=8, multiple=4)
    n_blocks = spec.default_config["n_blocks"]
    assert spec.tile_overlap >= networks.receptive_radius(n_blocks) and spec.tile_overlap % 4 == 0
    assert spec.models_dir.name == "models" and spec.models_dir.parent.name == "cyclegan"
    assert spec.default_config == {  # the paper's, derived from the config parameters
        "ngf": 64, "ndf": 64, "n_blocks": 9, "n_layers_d": 3, "norm": "instance", "use_dropout": False,
        "directions": ["AtoB", "BtoA"], "upsample": "transposed", "down_padding": "zeros"}


def test_spec_carries_the_training_spec_of_the_training_module(spec):
    training = pytest.importorskip("translator_plugins.cyclegan.training")
    assert spec.training == training.training_spec()
    assert spec.describe()["trainable"] is True


def test_default_config_builds_both_generators_of_the_paper(spec):
    with torch.device("meta"):
        model = spec.build(dict(spec.default_config))
    assert sum(p.numel() for p in model.G_AB.parameters()) == 11_378_179
    assert sum(p.numel() for p in model.G_BA.parameters()) == 11_378_179


def test_translate_runs_both_directions(spec):
    torch.manual_seed(0)
    model = spec.build(TINY).eval()
    images = torch.rand(2, 3, 20, 28)
    with torch.no_grad():
        a_to_b = spec.translate(model, images, {"direction": "AtoB"}, CTX)
        b_to_a = spec.translate(model, images, {"direction": "BtoA"}, CTX)
        expected = (model.G_BA(images * 2 - 1) + 1) / 2
    assert a_to_b.shape == b_to_a.shape == images.shape
    assert 0 <= a_to_b.min() and a_to_b.max() <= 1
    assert torch.allclose(b_to_a, expected, atol=1e-6)
    assert (a_to_b - b_to_a).abs().max() > 1e-3  # two different generators


@pytest.mark.parametrize(("height", "width"), [(4, 4), (4, 12), (12, 8), (3, 5)])
def test_tiny_images_keep_their_size(spec, run_translator, height, width):
    model = spec.build(TINY).eval()
    images = torch.rand(1, 3, height, width)
    result = run_translator(spec, Image(rgb=images[0].permute(1, 2, 0).numpy()), model=model, direction="AtoB")
    # the engine replicates the edge pixels up to the generator's 8 px and crops back
    grid = api.SizeRequirements(multiple=4).pad(images)
    padded = F.pad(grid, (0, max(8 - grid.shape[-1], 0), 0, max(8 - grid.shape[-2], 0)), mode="replicate")
    with torch.no_grad():
        expected = spec.translate(model, padded, {"direction": "AtoB"}, CTX)[0, :, :height, :width]
    assert result.rgb.shape == (height, width, 3)
    np.testing.assert_allclose(result.rgb, expected.permute(1, 2, 0).numpy(), atol=1e-6)


def test_missing_direction_is_a_clear_error(spec):
    model = spec.build({**TINY, "directions": ["AtoB"]}).eval()
    with pytest.raises(TranslatorError, match="only translates AtoB, not BtoA.*pair_with"):
        spec.translate(model, torch.rand(1, 3, 8, 8), {"direction": "BtoA"}, CTX)


def test_prepare_tiling_freezes_the_chosen_generator_only(spec):
    model = spec.build(TINY).eval()
    image = torch.rand(1, 3, 32, 32)
    norms = {d: [m for m in model.generator(d).modules() if isinstance(m, networks.InstanceNorm)]
             for d in ("AtoB", "BtoA")}
    with torch.no_grad():
        expected = spec.translate(model, image, {"direction": "BtoA"}, CTX)
        with spec.prepare_tiling(model, image, {"direction": "BtoA"}, CTX):
            assert all(m.frozen is not None for m in norms["BtoA"])
            assert all(m.frozen is None for m in norms["AtoB"])
            frozen = spec.translate(model, image, {"direction": "BtoA"}, CTX)
    assert all(m.frozen is None for m in norms["BtoA"])
    assert torch.allclose(frozen, expected, atol=1e-5)


def test_odd_sized_image_through_the_engine(spec, image_factory):
    engine_module = pytest.importorskip("translator.engine")
    engine = engine_module.Engine(device="cpu", precision="fp32")
    model = spec.build(TINY).eval()
    image = image_factory(333, 250, pattern="noise")
    for direction in ("AtoB", "BtoA"):
        result = engine.run(spec, model, image, {"direction": direction})
        assert result.rgb.shape == (250, 333, 3)
        assert 0 <= result.rgb.min() and result.rgb.max() <= 1
