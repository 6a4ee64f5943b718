"""What a plugin declares so that `translator-train` can fine-tune its translator.

A plugin supplies networks, losses and one training step (a `Trainer`); the engine supplies
data, devices, mixed precision, the learning-rate schedule, the shared GAN losses, checkpoints,
resume, samples, logging and export to the model store.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from translator.params import Param

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn


class DataKind(str, enum.Enum):
    """The shape of the training data, which chooses the data options of `translator-train`."""

    UNPAIRED = "unpaired"
    """`--data-a DIR --data-b DIR`; batches hold "A" and "B", unrelated images."""
    PAIRED = "paired"
    """`--data DIR` with `A/` and `B/` (same file names) or side-by-side AB images, plus
    `--direction AtoB|BtoA`; batches hold aligned "A" and "B"."""
    SINGLE = "single"
    """`--data DIR`, one folder of images; batches hold "image"."""


class Trainer(Protocol):
    """One plugin's training state and step; built by `TrainingSpec.make_trainer(ctx)`, where
    `ctx` is the engine's `translator.training.context.TrainContext` (device, autocast, options,
    shared GAN loss, optimizers, image pools, distributed wrapping, the model to fine-tune).

    Every tensor the engine hands over is (B, 3, H, W) float in [0, 1] on `ctx.device`.
    """

    def networks(self) -> Mapping[str, nn.Module]:
        """Every module whose weights are trained or checkpointed, by a stable name."""

    def optimizers(self) -> Mapping[str, torch.optim.Optimizer]:
        """Every optimizer, by a stable name (their learning rates follow the engine's schedule)."""

    def train_step(self, batch: Mapping[str, Tensor], step: int) -> Mapping[str, float]:
        """One generator update (with the discriminator updates the options ask for).

        Returns the losses to log, by name, as Python floats.
        """

    def samples(self, batch: Mapping[str, Tensor]) -> list[Tensor]:
        """Rows for the preview grid (input, output, reconstruction...), each (B, 3, H, W) in [0, 1]."""

    def export(self) -> tuple[nn.Module, Mapping[str, Any]]:
        """The inference network (as `TranslatorSpec.build(config)` builds it) and its config."""

    def state_dict(self) -> dict[str, Any]:
        """Extra state beyond networks and optimizers (image pools, counters); may be empty."""

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned."""


@dataclass(frozen=True, kw_only=True)
class TrainingSpec:
    """How a translator trains.

    data: the shape of its data (see `DataKind`).
    make_trainer: builds the trainer from the engine's context (a `TrainContext`).
    options: plugin options, shown by `translator-train --plugin NAME --help` (loss weights,
        data preparation...), reusing the parameter types of `translator.params`. The
        architecture is not declared here: it comes from `TranslatorSpec.config`.
    architecture_options: the `TranslatorSpec.config` parameters `translator-train` offers as
        options (`--ngf`) for a network trained from scratch; None: all of them. Leave out those
        the trainer sets itself (pix2pix's `size`, from `--size`).
    fine_tune_options: those of the architecture options that may also be given when
        fine-tuning (the trainer keeps every layer whose shape still fits and starts the rest
        fresh); any other one given when fine-tuning is an error.
    scratch_config: config values of a network trained from scratch where they differ from the
        config's defaults (which describe imported reference files), e.g. {"upsample": "resize"}.
    gan_loss: the paper's adversarial loss, default of the shared `--gan-loss` option
        ("vanilla", "non-saturating", "lsgan", "wgan-gp" or "hinge").
    lr, betas, batch_size, size, steps: the paper's defaults of the shared options. The defaults
        of these fields are the defaults of `translator-train` itself (`TrainConfig`, `--help`);
        a plugin states only what differs.
    d_steps: discriminator updates per generator update (`--d-steps`).
    optimizer: "adam" or "rmsprop" (`--optimizer`).
    decay_fraction: the last fraction of the steps over which the learning rate decays linearly
        to zero (`--decay-steps`); 0.5 is the reference "n_epochs = n_epochs_decay".
    input_from_target: PAIRED only: given the plugin's option values, True when the trainer makes
        the input A from the target B itself (pix2pix `--sketches auto`). `--data DIR` is then a
        folder of target images alone (the B/ of a paired folder: A/ with `--direction BtoA`) and
        batches hold only "B".
    reject: optional check of each decoded training image, uint8 (3, H, W) -> the reason it is
        unusable (e.g. "grayscale"), or None to keep it. Rejected files are skipped like
        unreadable ones and counted by reason. Runs in the data workers: a module-level function.
    """

    data: DataKind
    make_trainer: Callable[[Any], Trainer]
    options: tuple[Param, ...] = ()
    architecture_options: tuple[str, ...] | None = None
    fine_tune_options: tuple[str, ...] = ()
    scratch_config: Mapping[str, Any] = field(default_factory=dict)
    gan_loss: str = "lsgan"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 1
    size: int = 256
    steps: int = 10_000
    d_steps: int = 1
    optimizer: str = "adam"
    decay_fraction: float = 0.5
    reject: Callable[[Tensor], str | None] | None = None
    input_from_target: Callable[[Mapping[str, Any]], bool] | None = None
