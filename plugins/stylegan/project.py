"""Projection of an image into the latent space of a generator, by optimisation.

Follows the official StyleGAN2 projector (Karras et al. 2020, section 5 and appendix D): start at
the average w, optimise with Adam under a learning rate that ramps up then down (cosine), add
decaying Gaussian noise to w early on, and optionally optimise the per-layer noise images under
the paper's autocorrelation regulariser. The image loss needs no downloaded network: a pixel
term plus an L1 distance between Laplacian pyramids (Burt & Adelson), which weighs edges and
textures at every scale.

Space "w": one w shared by every layer (the paper's choice); "w+": one w per layer (fits
closer, mixes less faithfully).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from translator import api

if TYPE_CHECKING:
    from torch import Tensor
    from translator_plugins.stylegan.networks import Generator

SPACES = ("w", "w+")


@dataclass
class Projection:
    """The result: ws (1, num_ws, w_dim), the noise images if optimised (else None), the loss
    at every step."""

    ws: Tensor
    noises: list[Tensor] | None
    losses: list[float] = field(default_factory=list)


def prepare_target(image: Tensor, resolution: int) -> Tensor:
    """(1, 3, H, W) in [0, 1] -> centre square crop resized (antialiased) to (1, 3, R, R) in [-1, 1]."""
    import kornia

    if image.ndim != 4 or image.shape[:2] != (1, 3):
        raise api.ParameterError(f"projection needs one RGB image (1, 3, H, W), got {tuple(image.shape)}")
    h, w = image.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[..., top:top + side, left:left + side].float()
    if side != resolution:
        square = kornia.geometry.transform.resize(square, (resolution, resolution), interpolation="bilinear",
                                                  antialias=True)
    return square.clamp(0, 1) * 2 - 1


def image_loss(generated: Tensor, target: Tensor, levels: int | None = None) -> Tensor:
    """Mean squared pixel error plus the L1 distance of the Laplacian pyramids (down to 8 px),
    per image, averaged. generated, target: (B, 3, R, R) in [-1, 1]."""
    import kornia
    import torch.nn.functional as F

    size = generated.shape[-1]
    if levels is None:
        levels = max(1, int(math.log2(max(size, 8))) - 2)
    pyr_g = kornia.geometry.transform.build_laplacian_pyramid(generated, levels)
    pyr_t = kornia.geometry.transform.build_laplacian_pyramid(target, levels)
    loss = F.mse_loss(generated, target)
    for level, (g, t) in enumerate(zip(pyr_g, pyr_t)):
        loss = loss + (2.0 ** level) * F.l1_loss(g, t)
    return loss


def noise_regularisation(noises: list[Tensor]) -> Tensor:
    """The projector's penalty on the autocorrelation of each noise image, at every scale down to 8 px."""
    import torch.nn.functional as F

    reg = noises[0].new_zeros(())
    for noise in noises:
        n = noise
        while True:
            reg = reg + (n * n.roll(1, dims=3)).mean().square() + (n * n.roll(1, dims=2)).mean().square()
            if n.shape[-1] <= 8:
                break
            n = F.avg_pool2d(n, 2)
    return reg


def project(generator: Generator, image: Tensor, *, steps: int = 200, space: str = "w",
            lr: float = 0.1, optimize_noise: bool = False, noise_weight: float = 1e5, seed: int = 0,
            progress: Callable[[float, str], None] | None = None,
            check_cancelled: Callable[[], None] | None = None) -> Projection:
    """Find ws whose image matches `image` ((1, 3, H, W) in [0, 1], any size: centre-cropped and
    resized to the model's resolution).

    Runs with gradients even when called under inference mode. `check_cancelled` is called every
    step (it raises `Cancelled`); `progress(fraction, message)` every few steps.
    Raises `ParameterError` for a bad space, step count or image.
    """
    import torch

    if space not in SPACES:
        raise api.ParameterError(f"projection space {space!r} is not one of {', '.join(SPACES)}")
    if steps < 1:
        raise api.ParameterError(f"projection needs at least one step, got {steps}")
    param = next(generator.parameters())
    device, dtype = param.device, param.dtype
    with torch.inference_mode(False), torch.enable_grad():
        target = prepare_target(image.clone().to(device), generator.config.resolution).to(dtype)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        with torch.no_grad():
            z = torch.randn(2000, generator.config.z_dim, generator=gen).to(device, dtype)
            samples = generator.mapping(z)
            w_avg = samples.mean(0)
            w_std = ((samples - w_avg).square().sum() / samples.shape[0]).sqrt().item()
        count = generator.num_ws if space == "w+" else 1
        w_opt = w_avg[None, None].repeat(1, count, 1).detach().clone().requires_grad_(True)
        variables = [w_opt]
        noises = None
        if optimize_noise:
            noises = [torch.randn(1, 1, layer.resolution, layer.resolution, generator=gen).to(device, dtype)
                      .requires_grad_(True) for layer in generator.synthesis.layers()]
            variables += noises
        optimizer = torch.optim.Adam(variables, lr=lr, betas=(0.9, 0.999))
        requires = [(p, p.requires_grad) for p in generator.parameters()]
        for p, _ in requires:
            p.requires_grad_(False)
        losses: list[float] = []
        try:
            for step in range(steps):
                if check_cancelled is not None:
                    check_cancelled()
                t = step / steps
                noise_scale = w_std * 0.05 * max(0.0, 1.0 - t / 0.75) ** 2
                ramp = min(1.0, (1.0 - t) / 0.25)
                ramp = (0.5 - 0.5 * math.cos(ramp * math.pi)) * min(1.0, t / 0.05 + 1.0 / steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr * ramp
                w = w_opt + torch.randn(w_opt.shape, generator=gen).to(device, dtype) * noise_scale
                ws = w.expand(1, generator.num_ws, -1)
                synth = generator.synthesis(ws, "const", noises)
                loss = image_loss(synth, target)
                total = loss + noise_weight * noise_regularisation(noises) if noises else loss
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
                if noises:
                    with torch.no_grad():
                        for n in noises:
                            n.sub_(n.mean()).div_(n.std() + 1e-8)
                if progress is not None and (step % 5 == 0 or step == steps - 1):
                    progress((step + 1) / steps, f"projecting: step {step + 1}/{steps}, loss {losses[-1]:.4f}")
        finally:
            for p, flag in requires:
                p.requires_grad_(flag)
        ws = w_opt.detach().expand(1, generator.num_ws, -1).clone()
        kept = [n.detach().clone() for n in noises] if noises else None
    return Projection(ws=ws, noises=kept, losses=losses)
