"""The adversarial losses shared by every plugin (`--gan-loss`).

Every loss takes discriminator outputs (logits or critic values, any shape, e.g. (B, 1, H', W')
for a PatchGAN) and returns a scalar tensor to minimise:

- vanilla: the minimax game of Goodfellow et al. 2014; G minimises log(1 - D(G(z))).
- non-saturating: the same D loss; G maximises log D(G(z)) instead (Goodfellow et al. 2014, 3).
- lsgan: least squares (Mao et al. 2017), targets 1 for real and 0 for fake (CycleGAN, pix2pix++).
- wgan-gp: Wasserstein critic (Gulrajani et al. 2017) with the gradient penalty on random
  interpolates between real and fake images (`penalty`).
- hinge: Lim & Ye 2017 / Miyato et al. 2018.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from translator.errors import ParameterError

if TYPE_CHECKING:
    from torch import Tensor

GAN_LOSSES = ("vanilla", "non-saturating", "lsgan", "wgan-gp", "hinge")


@dataclass(frozen=True)
class GANLoss:
    """One adversarial objective.

    name: one of `GAN_LOSSES`.
    gp_weight: lambda of the WGAN-GP gradient penalty (10 in the paper); unused by other losses.
    """

    name: str
    gp_weight: float = 10.0

    def __post_init__(self) -> None:
        if self.name not in GAN_LOSSES:
            raise ParameterError(f"unknown GAN loss {self.name!r}; use one of {', '.join(GAN_LOSSES)}")

    @property
    def uses_penalty(self) -> bool:
        return self.name == "wgan-gp"

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """Discriminator loss from its outputs on real and on (detached) fake images."""
        import torch.nn.functional as F

        real, fake = real.float(), fake.float()
        if self.name in ("vanilla", "non-saturating"):
            return F.softplus(-real).mean() + F.softplus(fake).mean()  # -log D(x) - log(1 - D(G(z)))
        if self.name == "lsgan":
            return (real - 1).pow(2).mean() + fake.pow(2).mean()
        if self.name == "wgan-gp":
            return fake.mean() - real.mean()
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()  # hinge

    def g_loss(self, fake: Tensor) -> Tensor:
        """Generator loss from the discriminator's outputs on fake images."""
        import torch.nn.functional as F

        fake = fake.float()
        if self.name == "vanilla":
            return -F.softplus(fake).mean()  # log(1 - sigmoid(fake))
        if self.name == "non-saturating":
            return F.softplus(-fake).mean()  # -log sigmoid(fake)
        if self.name == "lsgan":
            return (fake - 1).pow(2).mean()
        return -fake.mean()  # wgan-gp and hinge

    def penalty(self, discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
        """WGAN-GP: gp_weight * E[(||grad_x D(x)||_2 - 1)^2] at x = eps * real + (1 - eps) * fake,
        eps ~ U(0, 1) per sample; computed in float32. 0 for every other loss.

        real, fake: (B, C, H, W) discriminator inputs of the same shape (fake is detached here).
        """
        import torch

        if not self.uses_penalty:
            return real.new_zeros((), dtype=torch.float32)
        if real.shape != fake.shape:
            raise ValueError(f"penalty needs real and fake of one shape, got {tuple(real.shape)} "
                             f"and {tuple(fake.shape)}")
        eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=torch.float32)
        x = (eps * real.detach().float() + (1 - eps) * fake.detach().float()).requires_grad_(True)
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = discriminator(x)
        (grad,) = torch.autograd.grad(out.float().sum(), x, create_graph=True)
        norm = grad.flatten(1).norm(2, dim=1)
        return self.gp_weight * (norm - 1).pow(2).mean()
