"""`TrainContext`: everything the engine offers a plugin's `Trainer`.

A trainer imports only `translator.api`, so whatever it needs from the engine (device, mixed
precision, options, the shared GAN loss, optimizers, image pools, distributed wrapping, the model
to fine-tune) is reached through this object. torch is imported lazily (api.py re-exports this).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from translator.errors import ParameterError
from translator.training.losses import GANLoss

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

    from translator.training.pool import ImagePool

OPTIMIZERS = ("adam", "rmsprop")


@dataclass(kw_only=True)
class TrainContext:
    """Built by the engine for `TrainingSpec.make_trainer(ctx)`.

    device: where networks and batches live. Networks keep float32 weights.
    amp_dtype: float16 / bfloat16 when mixed precision is on (CUDA), else None; see `autocast`.
    options: the plugin's options (`TrainingSpec.options`, validated) plus the shared ones:
        lr, betas, optimizer, gan_loss, d_steps, batch_size, size, steps, seed.
    gan_loss: the shared adversarial loss chosen with `--gan-loss`.
    initial_model: for fine-tuning, the inference network loaded from the model store
        (float32, CPU), with `initial_config` its config (validated, complete, with the
        `TrainingSpec.fine_tune_options` given applied); both None when training from scratch.
    default_config: the architecture of a network trained from scratch (validated, complete):
        the `TranslatorSpec.config` defaults, then `TrainingSpec.scratch_config`, then the
        architecture options given (`--ngf`).
    rank, world_size: distributed training (rank 0 is the one that writes files).
    channels_last: convert networks and batches to channels-last memory (faster convs on CUDA).
    scaler: the GradScaler for float16 (None otherwise); used by `backward` and `step`.
    """

    device: torch.device
    options: Mapping[str, Any]
    gan_loss: GANLoss
    amp_dtype: torch.dtype | None = None
    initial_model: nn.Module | None = None
    initial_config: Mapping[str, Any] | None = None
    default_config: Mapping[str, Any] = field(default_factory=dict)
    rank: int = 0
    world_size: int = 1
    channels_last: bool = False
    seed: int = 0
    scaler: Any = None
    _pools: int = 0

    # -- options -----------------------------------------------------------------------------

    @property
    def is_main(self) -> bool:
        """True in the process that writes files and logs (rank 0)."""
        return self.rank == 0

    @property
    def d_steps(self) -> int:
        """Discriminator updates per generator update (`--d-steps`)."""
        return int(self.options.get("d_steps", 1))

    # -- precision ---------------------------------------------------------------------------

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Mixed precision for forward passes and losses (a no-op without AMP)."""
        import torch

        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def backward(self, loss: Tensor) -> None:
        """`loss.backward()`, scaled when float16 mixed precision is on."""
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """Apply the gradients (unscaling them, skipping the step on inf/nan under float16),
        then clear them."""
        if self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    # -- building blocks ---------------------------------------------------------------------

    def make_optimizer(self, params: Iterable[nn.Parameter], role: str = "G") -> torch.optim.Optimizer:
        """The optimizer chosen by `--optimizer` for generator ("G") or discriminator ("D")
        parameters: Adam(lr, betas) or RMSprop(lr). The engine's schedule sets its lr each step.
        """
        import torch

        if role not in ("G", "D"):
            raise ParameterError(f"optimizer role must be 'G' or 'D', got {role!r}")
        lr = float(self.options["lr"])
        name = self.options.get("optimizer", "adam")
        params = [p for p in params if p.requires_grad]
        if name == "adam":
            beta1, beta2 = self.options.get("betas", (0.5, 0.999))
            return torch.optim.Adam(params, lr=lr, betas=(float(beta1), float(beta2)))
        if name == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        raise ParameterError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")

    def image_pool(self, size: int = 50) -> ImagePool:
        """A history of `size` generated images for a discriminator (0 disables it); each pool
        gets its own seeded generator and lives on `device`."""
        from translator.training.pool import ImagePool

        self._pools += 1
        return ImagePool(size, seed=self.seed * 7919 + self.rank * 104_729 + self._pools, device=self.device)

    # -- modules -----------------------------------------------------------------------------

    def wrap(self, module: nn.Module) -> nn.Module:
        """Move a trained network to `device` (channels-last if on) and, when distributed, wrap
        it in DistributedDataParallel. Build optimizers from the returned module's parameters."""
        import torch

        module = module.to(self.device)
        if self.channels_last:
            module = module.to(memory_format=torch.channels_last)
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            module = DistributedDataParallel(module, device_ids=ids)
        return module

    @staticmethod
    def unwrap(module: nn.Module) -> nn.Module:
        """The plain network inside a `wrap`ped one."""
        return getattr(module, "module", module)

    @contextlib.contextmanager
    def frozen(self, module: nn.Module) -> Iterator[nn.Module]:
        """Within the context, the network's parameters need no gradients (e.g. D while the
        generator is updated) and the plain (unwrapped) network is yielded, so no distributed
        gradient synchronisation waits for it."""
        plain = self.unwrap(module)
        flags = [(p, p.requires_grad) for p in plain.parameters()]
        for p, _ in flags:
            p.requires_grad_(False)
        try:
            yield plain
        finally:
            for p, flag in flags:
                p.requires_grad_(flag)
