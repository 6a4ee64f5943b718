"""The options of one training run, shared by every plugin, as the CLI resolves them."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from translator.device import default_loader_workers
from translator.errors import ParameterError
from translator.training.context import OPTIMIZERS
from translator.training.losses import GAN_LOSSES
from translator.training.spec import TrainingSpec

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
RESUMABLE = ("steps", "epochs", "device", "workers", "sample_every", "save_every", "quiet", "precision",
             "time_limit")
"""Options a resumed run may change; all others come from the run's saved options."""

RUN_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9_])?")
"""A run name: the run's folder (directly under the runs folder) and the exported model's name,
so it holds only what a model name may (letters, digits, '.', '_', '-'), at most 100 characters."""
MAX_SEED = 2**32 - 1
MAX_SIZE = 4096
"""Largest training crop (and load size / 2) in pixels."""
MAX_D_STEPS = 100
"""Most discriminator updates per generator step."""
MAX_WORKERS = 64
"""Most image decoding processes."""
MAX_BATCH = 4096
"""Largest --batch-size (images decoded for one step)."""
MAX_BATCH_PIXELS = 2**28
"""Largest batch: batch size x size x size (a float32 RGB batch of 3 GiB)."""


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
    config_options: the architecture options given (`TranslatorSpec.config` parameters), by name.
    The shared training defaults (steps, batch size, size, lr, betas, optimizer, GAN loss,
    discriminator steps) are `TrainingSpec`'s.
    """

    plugin: str
    name: str = ""
    init: str = ""
    steps: int = TrainingSpec.steps
    epochs: int | None = None
    decay_steps: int | None = None
    time_limit: float | None = None
    batch_size: int = TrainingSpec.batch_size
    size: int = TrainingSpec.size
    load_size: int | None = None
    flip: bool = True
    lr: float = TrainingSpec.lr
    betas: tuple[float, float] = TrainingSpec.betas
    optimizer: str = TrainingSpec.optimizer
    gan_loss: str = TrainingSpec.gan_loss
    d_steps: int = TrainingSpec.d_steps
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool = True
    seed: int = 0
    out: str = ""
    sample_every: int = 500
    save_every: int = 1000
    workers: int = field(default_factory=default_loader_workers)  # min(4, cores - 1)
    data: str | None = None
    data_a: str | None = None
    data_b: str | None = None
    direction: str = "AtoB"
    quiet: bool = False
    plugin_options: dict[str, Any] = field(default_factory=dict)
    config_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> TrainConfig:
        """Raise `ParameterError` naming the first bad option; returns self."""
        checks = [
            (bool(RUN_NAME.fullmatch(str(self.name))),
             f"--name {_short(str(self.name))!r}: use letters, digits, '.', '_' and '-' (starting with a "
             f"letter or digit, not ending with '.' or '-', at most 100 characters)"),
            (self.steps >= 1 or (self.epochs or 0) >= 1, "--steps or --epochs must be at least 1"),
            (self.epochs is None or self.epochs >= 1, "--epochs must be at least 1"),
            (self.decay_steps is None or self.decay_steps >= 0, "--decay-steps must be >= 0"),
            (self.time_limit is None or self.time_limit > 0, "--time-limit must be a positive number of minutes"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.batch_size <= MAX_BATCH, f"--batch-size must be at most {MAX_BATCH}"),
            (8 <= self.size <= MAX_SIZE, f"--size must be from 8 to {MAX_SIZE} pixels"),
            (self.load_size is None or self.size <= self.load_size <= min(4 * self.size, 2 * MAX_SIZE),
             f"--load-size must be from --size to 4 x --size ({min(4 * self.size, 2 * MAX_SIZE)} pixels)"),
            (self.batch_size * self.size ** 2 <= MAX_BATCH_PIXELS,
             f"--batch-size {self.batch_size} of {self.size} x {self.size} crops is too large "
             f"(batch size x size x size must be at most {MAX_BATCH_PIXELS:,})"),
            (0 <= self.seed <= MAX_SEED, f"--seed must be from 0 to {MAX_SEED}"),
            (math.isfinite(self.lr) and self.lr > 0, "--lr must be a positive finite number"),
            (all(math.isfinite(b) and 0 <= b < 1 for b in self.betas),
             "--betas must be two numbers in [0, 1)"),
            (self.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.gan_loss in GAN_LOSSES, f"--gan-loss must be one of {', '.join(GAN_LOSSES)}"),
            (self.d_steps >= 1, "--d-steps must be at least 1"),
            (self.d_steps <= MAX_D_STEPS, f"--d-steps must be at most {MAX_D_STEPS}"),
            (self.device in DEVICES or self.device.startswith("cuda:"),
             f"--device must be one of {', '.join(DEVICES)} or cuda:N"),
            (self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}"),
            (self.sample_every >= 0 and self.save_every >= 0, "--sample-every/--save-every must be >= 0"),
            (self.workers >= 0, "--workers must be >= 0"),
            (self.workers <= MAX_WORKERS, f"--workers must be at most {MAX_WORKERS}"),
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


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
