"""The options of one training run, shared by every plugin, as the CLI resolves them."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from translator.errors import ParameterError
from translator.training.context import OPTIMIZERS
from translator.training.losses import GAN_LOSSES

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
RESUMABLE = ("steps", "epochs", "device", "workers", "sample_every", "save_every", "quiet", "precision",
             "time_limit")
"""Options a resumed run may change; all others come from the run's saved options."""


@dataclass
class TrainConfig:
    """Every option of `translator-train` (see `translator-train --help` for each one).

    plugin: the translator to train. name: the run (folder under `out`, exported model name).
    init: "bundled", "scratch" or a model name (`--from`). steps / epochs: length (epochs wins
    when given). decay_steps: steps of linear lr decay (None: the plugin's `decay_fraction`).
    time_limit: wall-clock budget in minutes (None: none); the run ends and exports when the time is
    up or the steps are done, whichever comes first (see `translator.training.loop.progress_step`).
    load_size: shorter side before the random crop (None: size * 286 / 256, the reference's).
    plugin_options: the plugin's `TrainingSpec.options` values, by name.
    """

    plugin: str
    name: str = ""
    init: str = ""
    steps: int = 0
    epochs: int | None = None
    decay_steps: int | None = None
    time_limit: float | None = None
    batch_size: int = 1
    size: int = 256
    load_size: int | None = None
    flip: bool = True
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: str = "adam"
    gan_loss: str = "lsgan"
    d_steps: int = 1
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool = True
    seed: int = 0
    out: str = ""
    sample_every: int = 500
    save_every: int = 1000
    workers: int = 4
    data: str | None = None
    data_a: str | None = None
    data_b: str | None = None
    direction: str = "AtoB"
    quiet: bool = False
    plugin_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> TrainConfig:
        """Raise `ParameterError` naming the first bad option; returns self."""
        checks = [
            (self.steps >= 1 or (self.epochs or 0) >= 1, "--steps or --epochs must be at least 1"),
            (self.epochs is None or self.epochs >= 1, "--epochs must be at least 1"),
            (self.decay_steps is None or self.decay_steps >= 0, "--decay-steps must be >= 0"),
            (self.time_limit is None or self.time_limit > 0, "--time-limit must be a positive number of minutes"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.size >= 8, "--size must be at least 8 pixels"),
            (self.load_size is None or self.load_size >= self.size, "--load-size must be >= --size"),
            (self.lr > 0, "--lr must be positive"),
            (all(0 <= b < 1 for b in self.betas), "--betas must be two numbers in [0, 1)"),
            (self.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.gan_loss in GAN_LOSSES, f"--gan-loss must be one of {', '.join(GAN_LOSSES)}"),
            (self.d_steps >= 1, "--d-steps must be at least 1"),
            (self.device in DEVICES or self.device.startswith("cuda:"),
             f"--device must be one of {', '.join(DEVICES)} or cuda:N"),
            (self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}"),
            (self.sample_every >= 0 and self.save_every >= 0, "--sample-every/--save-every must be >= 0"),
            (self.workers >= 0, "--workers must be >= 0"),
            (self.direction in ("AtoB", "BtoA"), "--direction must be AtoB or BtoA"),
        ]
        for ok, message in checks:
            if not ok:
                raise ParameterError(message)
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "betas" in values:
            values["betas"] = tuple(float(b) for b in values["betas"])
        return cls(**values)

    def shared_options(self) -> dict[str, Any]:
        """The shared options a trainer sees in `TrainContext.options`."""
        return {"lr": self.lr, "betas": tuple(self.betas), "optimizer": self.optimizer,
                "gan_loss": self.gan_loss, "d_steps": self.d_steps, "batch_size": self.batch_size,
                "size": self.size, "seed": self.seed}
