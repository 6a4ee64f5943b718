"""A small trainable translator: a per-pixel colour mapping learnt from pairs of images.

The network is a 1x1-convolution MLP, so each output pixel depends on its input pixel only
(tileable, any size). It trains on PAIRED data (`A/` inputs, `B/` targets) with an L1 loss and
ships a bundled demonstration model in `models/` (see `scripts/make_demo_model.py`).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from translator import api

MODELS = Path(__file__).parent / "models"


def build(config: Mapping[str, Any]) -> Any:
    """A fresh `ToneNet` for `config` ({"hidden": width}), float32 on the CPU."""
    import torch
    from torch import nn

    class ToneNet(nn.Module):
        """(B, 3, H, W) in [0, 1] -> (B, 3, H, W) in [0, 1]: x + mlp(x), per pixel."""

        def __init__(self, hidden: int) -> None:
            super().__init__()
            self.mlp = nn.Sequential(nn.Conv2d(3, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, 3, 1))
            nn.init.zeros_(self.mlp[2].weight)  # starts as the identity
            nn.init.zeros_(self.mlp[2].bias)

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return (images + self.mlp(images)).clamp(0.0, 1.0)

    return ToneNet(int(config["hidden"]))


def translate(model: Any, images: Any, params: Mapping[str, Any], ctx: api.RunContext) -> Any:
    """images (B, 3, H, W) in [0, 1] -> the mapped colours, blended by `strength`."""
    import torch

    return torch.lerp(images, model(images), params["strength"])


class ToneTrainer:
    """The training state of `tone`: one network, one optimizer, an L1 step (see `api.Trainer`)."""

    def __init__(self, ctx: api.TrainContext) -> None:
        import torch

        self.ctx = ctx
        config = dict(ctx.initial_config or ctx.default_config)
        network = ctx.initial_model if ctx.initial_model is not None else build(config)
        self.config = config
        self.net = ctx.wrap(network)
        self.optimizer = ctx.make_optimizer(self.net.parameters(), "G")
        self.l1 = torch.nn.L1Loss()

    def networks(self) -> Mapping[str, Any]:
        return {"G": self.net}

    def optimizers(self) -> Mapping[str, Any]:
        return {"G": self.optimizer}

    def train_step(self, batch: Mapping[str, Any], step: int) -> Mapping[str, float]:
        with self.ctx.autocast():
            loss = self.l1(self.net(batch["A"]), batch["B"]) * self.ctx.options["lambda_l1"]
        self.ctx.backward(loss)
        self.ctx.step(self.optimizer)
        return {"l1": loss.item()}

    def samples(self, batch: Mapping[str, Any]) -> list[Any]:
        return [batch["A"], self.net(batch["A"]), batch["B"]]

    def export(self) -> tuple[Any, Mapping[str, Any]]:
        return self.ctx.unwrap(self.net), self.config

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


SPEC = api.TranslatorSpec(
    name="tone",
    title="Colour tone",
    description="A per-pixel colour mapping learnt from pairs of images (example plugin).",
    task=api.TaskKind.IMAGE_TO_IMAGE,
    params=(api.Float(name="strength", default=1.0, minimum=0.0, maximum=1.0,
                      help="0 keeps the image, 1 applies the learnt mapping"),),
    build=build,
    translate=translate,
    default_config={"hidden": 16},
    models_dir=MODELS,
    tileable=True,
    tile_overlap=0,
    training=api.TrainingSpec(
        data=api.DataKind.PAIRED,
        make_trainer=ToneTrainer,
        options=(api.Float(name="lambda_l1", default=1.0, minimum=0.0, maximum=100.0,
                           help="weight of the L1 loss"),),
        lr=1e-3, batch_size=4, size=64, steps=500,
    ),
)
