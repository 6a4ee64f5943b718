"""The reference learning-rate schedule: constant, then linear decay to zero."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass
class LinearDecay:
    """lr(step) = base_lr * factor(step), factor 1 for the first `total - decay` steps, then
    falling linearly, as in the CycleGAN/pix2pix reference (`1 - max(0, e - n) / (n_decay + 1)`
    per epoch, here per generator step), reaching 1 / (decay + 1) at the last step.

    total: steps of the whole run; decay: steps of the decay phase, 0 <= decay <= total.
    """

    total: int
    decay: int

    def __post_init__(self) -> None:
        if not 0 <= self.decay <= self.total:
            raise ValueError(f"decay steps {self.decay} must be within [0, {self.total}]")

    def factor(self, step: int) -> float:
        """The multiplier of the base learning rate at 0-based generator step `step`."""
        constant = self.total - self.decay
        return 1.0 - max(0, step - constant + 1) / float(self.decay + 1)

    def apply(self, optimizers: Iterable[torch.optim.Optimizer], step: int) -> float:
        """Set every param group's lr to its `initial_lr` times `factor(step)`; returns the factor."""
        factor = self.factor(step)
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * factor
        return factor

    def state_dict(self) -> dict[str, Any]:
        return {"total": self.total, "decay": self.decay}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.total = int(state["total"])
        self.decay = int(state["decay"])
