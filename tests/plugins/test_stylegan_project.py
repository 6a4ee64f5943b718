"""Projection of an image into W / W+: the loss goes down, progress and cancel work."""
from __future__ import annotations

import threading

import pytest
import torch
from translator_plugins.stylegan import networks, plugin, project

from translator.errors import Cancelled, ParameterError
from translator.params import resolve_params
from translator.spec import RunContext

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model() -> networks.Generator:
    torch.manual_seed(1)
    config = networks.architecture({"resolution": 16, "z_dim": 16, "w_dim": 16, "mapping_layers": 2,
                                                   "channel_base": 128, "channel_max": 16})
    return networks.Generator(config).eval()


@pytest.mark.parametrize("space", ["w", "w+"])
def test_projection_lowers_the_loss(model, space):
    with torch.no_grad():
        target = (model(torch.randn(1, 16, generator=torch.Generator().manual_seed(4))) + 1) / 2
    seen = []
    result = project.project(model, target.clamp(0, 1), steps=60, space=space, lr=0.1,
                             progress=lambda f, m: seen.append(f))
    assert result.ws.shape == (1, model.num_ws, 16)
    assert min(result.losses[-5:]) < 0.6 * result.losses[0]
    assert seen[-1] == 1.0
    assert all(p.requires_grad for p in model.parameters())  # restored


def test_projection_with_noise_optimisation_and_under_inference_mode(model):
    target = torch.rand(1, 3, 20, 24)
    with torch.inference_mode():
        result = project.project(model, target, steps=5, optimize_noise=True)
    assert result.noises is not None and len(result.noises) == len(model.synthesis.layers())


def test_projection_can_be_cancelled(model):
    stop = threading.Event()
    stop.set()
    ctx = RunContext(device=torch.device("cpu"), dtype=torch.float32, cancel=stop)
    with pytest.raises(Cancelled):
        project.project(model, torch.rand(1, 3, 16, 16), steps=10, check_cancelled=ctx.check_cancelled)
    with pytest.raises(ParameterError):
        project.project(model, torch.rand(1, 3, 16, 16), space="z")


def test_translator_projects_an_input_image_and_mixes_it(model, tmp_path):
    import cv2
    import numpy as np

    image = np.zeros((24, 24, 3), dtype=np.uint8)
    image[:, :12] = (0, 0, 255)
    path = tmp_path / "red.png"
    cv2.imwrite(str(path), image)
    messages = []
    ctx = RunContext(device=torch.device("cpu"), dtype=torch.float32, on_progress=lambda f, m: messages.append(m))
    params = resolve_params(plugin.PARAMS, {"style_source": str(path), "seed": 1, "project_steps": 5,
                                            "layers": "all"})
    out = plugin.translate(model, None, params, ctx)
    assert out.shape == (1, 3, 16, 16) and any("source B" in m for m in messages)
    params = resolve_params(plugin.PARAMS, {"project_steps": 5})
    assert plugin.translate(model, torch.rand(2, 3, 16, 16), params, ctx).shape == (2, 3, 16, 16)
