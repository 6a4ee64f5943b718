"""Training StyleGAN2 (Karras et al. 2020, appendix B) with ADA (Karras et al. 2020b, arXiv 2006.06676).

Objective: the non-saturating logistic loss (the engine's `--gan-loss`, default
"non-saturating"); lazy R1 regularisation of D on real images every `r1_interval` steps
(weight gamma / 2, scaled by the interval); optional lazy path-length regularisation of G
every 4 steps; style-mixing regularisation (with probability `mixing_prob`, the ws after a
random cutoff come from a second z); an exponential moving average of G (half-life
`ema_kimg` thousand images, capped at `ema_rampup` times the images seen so far, as StyleGAN2-ADA's
`ema_rampup`; see `ema_beta`) is the exported model.
Adam with lr 0.0025 and betas (0, 0.99), constant learning rate.

Adaptive discriminator augmentation: every image D sees (real or fake) is augmented with
probability p by kornia (flip, integer-free affine: rotation, scale, translation; colour
jitter); p rises by batch * 4 / (ada_kimg * 1000) every 4 steps while r_t = E[sign(D(real))]
exceeds `ada_target` (0.6), and falls otherwise, so a few hundred images do not overfit D.

Imports only `translator.api` and this package; torch is imported when training starts.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from translator import api

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

PL_INTERVAL = 4
ADA_INTERVAL = 4
SAMPLE_SEED = 1234
EMA_RAMPUP = 0.05
"""StyleGAN2-ADA's default `ema_rampup` (its 'auto' and 'cifar' configurations)."""

OPTIONS: tuple[api.Param, ...] = (
    api.Float(name="r1_gamma", default=1.0, minimum=0.0, maximum=1000.0,
              help="R1 regularisation weight gamma (0 disables it)"),
    api.Int(name="r1_interval", default=16, minimum=1, maximum=1000, help="lazy R1: every N steps"),
    api.Float(name="pl_weight", default=0.0, minimum=0.0, maximum=100.0,
              help="path-length regularisation weight (2 in the paper; 0 disables it, cheaper on CPU)"),
    api.Float(name="mixing_prob", default=0.9, minimum=0.0, maximum=1.0,
              help="probability of style-mixing regularisation per batch"),
    api.Float(name="ema_kimg", default=10.0, minimum=0.0, maximum=1000.0,
              help="half-life of the generator's moving average, in thousands of images (0: no EMA)"),
    api.Float(name="ema_rampup", default=EMA_RAMPUP, minimum=0.0, maximum=1.0,
              help="the half-life is at most this fraction of the images seen (0: no ramp-up)"),
    api.Choice(name="augment", choices=("ada", "fixed", "none"), default="ada",
               help="ada: adaptive p; fixed: p stays at --augment-p; none"),
    api.Float(name="augment_p", default=0.0, minimum=0.0, maximum=1.0, help="initial augmentation probability"),
    api.Float(name="ada_target", default=0.6, minimum=0.0, maximum=1.0,
              help="target of the overfitting heuristic r_t = E[sign(D(real))]"),
    api.Float(name="ada_kimg", default=100.0, minimum=0.001, maximum=10_000.0,
              help="thousands of images for p to go from 0 to 1 (500 in the paper)"),
)


def ema_beta(batch: int, images_before: int, ema_kimg: float, rampup: float) -> float:
    """Weight of the old average in one EMA update of `batch` images after `images_before` images.

    StyleGAN2-ADA's schedule: half-life `ema_kimg` * 1000 images, capped at `rampup` *
    `images_before` while `rampup` > 0 (the first update copies G), so the average forgets the
    random start. Returns beta in [0, 1] (0: the average becomes G; `ema_kimg` <= 0 gives 0).
    """
    if batch <= 0 or images_before < 0:
        raise ValueError(f"batch must be > 0 and images_before >= 0, got {batch} and {images_before}")
    if ema_kimg <= 0:
        return 0.0
    half_life = ema_kimg * 1000
    if rampup > 0:
        half_life = min(half_life, images_before * rampup)
    return 0.5 ** (batch / max(half_life, 1e-8))


class AdaptiveAugment:
    """ADA's augmentation pipeline and the controller of its probability p.

    `__call__`: (B, 3, H, W) in [-1, 1] -> the same, each of flip, affine (rotation up to 15
    degrees, scale 0.8-1.25, translation up to 1/8, reflection padding) and colour jitter
    applied to a sample with probability p; differentiable (G's gradients pass through).
    `observe(real_logits)` accumulates sign(D(real)); `step(batch)` updates p every `interval` calls.
    """

    def __init__(self, *, p: float = 0.0, mode: str = "ada", target: float = 0.6, kimg: float = 100.0,
                 interval: int = ADA_INTERVAL) -> None:
        import kornia.augmentation as K

        self.p = float(p)
        self.mode = mode
        self.target = target
        self.kimg = kimg
        self.interval = interval
        self.ops = [
            K.RandomHorizontalFlip(p=1.0),
            K.RandomAffine(degrees=15.0, translate=(0.125, 0.125), scale=(0.8, 1.25), padding_mode="reflection",
                           p=1.0),
            K.ColorJitter(brightness=0.2, contrast=0.3, saturation=0.3, hue=0.03, p=1.0),
        ]
        self._signs = 0.0
        self._count = 0
        self._calls = 0
        self.last_rt = 0.0

    def __call__(self, x: Tensor) -> Tensor:
        import torch

        if self.mode == "none" or self.p <= 0:
            return x
        x = (x + 1) / 2
        for op in self.ops:
            idx = (torch.rand(x.shape[0], device=x.device) < self.p).nonzero().squeeze(1)
            if idx.numel():
                x = x.index_copy(0, idx, op(x.index_select(0, idx)).to(x.dtype))
        return x * 2 - 1

    def observe(self, real_logits: Tensor) -> None:
        self._signs += float(real_logits.detach().float().sign().sum())
        self._count += real_logits.numel()

    def step(self, batch_size: int) -> None:
        """Every `interval` calls: p += sign(r_t - target) * batch * interval / (kimg * 1000), p in [0, 1]."""
        self._calls += 1
        if self.mode != "ada" or self._calls % self.interval or not self._count:
            return
        self.last_rt = self._signs / self._count
        adjust = math.copysign(1.0, self.last_rt - self.target) * batch_size * self.interval / (self.kimg * 1000)
        self.p = min(max(self.p + adjust, 0.0), 1.0)
        self._signs, self._count = 0.0, 0

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p, "signs": self._signs, "count": self._count, "calls": self._calls}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.p = float(state["p"])
        self._signs, self._count, self._calls = float(state["signs"]), int(state["count"]), int(state["calls"])


def _lazy_regularisation(optimizer: torch.optim.Optimizer, interval: int) -> None:
    """Lazy regularisation (appendix B): a regulariser run every `interval` steps adds one extra
    step per interval, so lr and betas are scaled to keep the optimiser's time scale:
    lr * c, beta ** c with c = interval / (interval + 1)."""
    c = interval / (interval + 1)
    for group in optimizer.param_groups:
        group["lr"] = group["lr"] * c
        if "betas" in group:
            group["betas"] = tuple(beta ** c for beta in group["betas"])


def _mixing_generator_class() -> type:
    from torch import nn

    class MixingGenerator(nn.Module):
        """Training forward of a `Generator`: z (B, z_dim), optional second z and cutoff ->
        (images (B, 3, R, R), ws (B, num_ws, w_dim)), with random noise (style mixing regularisation)."""

        def __init__(self, generator: nn.Module) -> None:
            super().__init__()
            self.generator = generator

        def forward(self, z: Tensor, z_mix: Tensor | None = None, cutoff: int = 0) -> tuple[Tensor, Tensor]:
            g = self.generator
            w = g.mapping(z)
            ws = w[:, None].repeat(1, g.num_ws, 1)
            if z_mix is not None and 0 < cutoff < g.num_ws:
                ws[:, cutoff:] = g.mapping(z_mix)[:, None]
            return g.synthesis(ws, "random"), ws

    return MixingGenerator


class StyleGANTrainer:
    """G (trained), G_ema (exported), D; see `api.Trainer`. Batches hold "image" (B, 3, R, R) in [0, 1].

    Fine-tuning (`ctx.initial_model`) starts G and G_ema from the model (same resolution as
    --size); D always starts fresh.
    """

    def __init__(self, ctx: api.TrainContext) -> None:
        import copy

        import torch
        from translator_plugins.stylegan import networks

        self.ctx = ctx
        opts = ctx.options
        size = int(opts["size"])
        if ctx.initial_config is not None:
            self.config = networks.architecture(ctx.initial_config)
            if self.config.resolution != size:
                raise api.ParameterError(f"--size {size} differs from the resolution {self.config.resolution} "
                                         "of the model to fine-tune; use --size "
                                         f"{self.config.resolution} or --from scratch")
        else:
            self.config = networks.architecture({**ctx.default_config, "resolution": size})
        generator = networks.Generator(self.config)
        if ctx.initial_model is not None:
            generator.load_state_dict(ctx.initial_model.state_dict())
        self.G_ema = copy.deepcopy(generator).eval().requires_grad_(False).to(ctx.device)
        self.G = ctx.wrap(_mixing_generator_class()(generator))
        self.D = ctx.wrap(networks.Discriminator(self.config))
        self.opt_G = ctx.make_optimizer(self.G.parameters(), "G")
        self.opt_D = ctx.make_optimizer(self.D.parameters(), "D")
        if opts["pl_weight"] > 0:
            _lazy_regularisation(self.opt_G, PL_INTERVAL)
        if opts["r1_gamma"] > 0:
            _lazy_regularisation(self.opt_D, int(opts["r1_interval"]))
        self.augment = AdaptiveAugment(p=opts["augment_p"], mode=opts["augment"], target=opts["ada_target"],
                                       kimg=opts["ada_kimg"])
        self.pl_mean = torch.zeros((), device=ctx.device)
        self.images_seen = 0
        gen = torch.Generator().manual_seed(SAMPLE_SEED)
        self.sample_z = torch.randn(8, self.config.z_dim, generator=gen).to(ctx.device)

    @property
    def generator(self) -> nn.Module:
        return self.ctx.unwrap(self.G).generator

    def networks(self) -> Mapping[str, nn.Module]:
        return {"G": self.G, "G_ema": self.G_ema, "D": self.D}

    def optimizers(self) -> Mapping[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, "D": self.opt_D}

    def _latents(self, batch: int) -> tuple[Tensor, Tensor | None, int]:
        import torch

        z = torch.randn(batch, self.config.z_dim, device=self.ctx.device)
        if torch.rand(()) < float(self.ctx.options["mixing_prob"]):
            cutoff = int(torch.randint(1, self.config.num_ws, ()))
            return z, torch.randn_like(z), cutoff
        return z, None, 0

    def train_step(self, batch: Mapping[str, Tensor], step: int) -> Mapping[str, float]:
        """One G update (+ lazy path-length step), then `ctx.d_steps` D updates (+ lazy R1), EMA, ADA."""
        import torch

        ctx, gan, opts = self.ctx, self.ctx.gan_loss, self.ctx.options
        real = batch["image"] * 2 - 1
        b = real.shape[0]
        losses: dict[str, Any] = {}

        with ctx.autocast(), ctx.frozen(self.D) as D:
            fake, ws = self.G(*self._latents(b))
            loss_G = gan.g_loss(D(self.augment(fake)))
        ctx.backward(loss_G)
        ctx.step(self.opt_G)
        losses["G"] = loss_G
        with torch.no_grad():
            self.generator.mapping.w_avg.copy_(ws[:, 0].detach().float().mean(0).lerp(
                self.generator.mapping.w_avg, 0.995))

        if opts["pl_weight"] > 0 and step % PL_INTERVAL == 0:
            losses["pl"] = self._path_length(b)

        for _ in range(ctx.d_steps):
            r1_step = opts["r1_gamma"] > 0 and step % int(opts["r1_interval"]) == 0 and not gan.uses_penalty
            real_in = real.detach().requires_grad_(r1_step)
            with ctx.autocast():
                logits_fake = self.D(self.augment(fake.detach()))
                logits_real = self.D(self.augment(real_in))
                loss_D = gan.d_loss(logits_real, logits_fake)
            self.augment.observe(logits_real)
            total = loss_D
            if r1_step:
                (grad,) = torch.autograd.grad(logits_real.float().sum(), real_in, create_graph=True)
                r1 = grad.square().sum(dim=[1, 2, 3]).mean() * (opts["r1_gamma"] / 2) * int(opts["r1_interval"])
                total = total + r1
                losses["r1"] = r1
            if gan.uses_penalty:
                total = total + gan.penalty(self.ctx.unwrap(self.D), real, fake.detach())
            ctx.backward(total)
            ctx.step(self.opt_D)
        losses["D"] = loss_D
        self.augment.step(b * ctx.world_size)
        self._update_ema(b * ctx.world_size)
        self.images_seen += b * ctx.world_size
        out = {k: float(v.detach()) if hasattr(v, "detach") else float(v) for k, v in losses.items()}
        out["augment_p"] = self.augment.p
        return out

    def _path_length(self, batch: int) -> Tensor:
        """Lazy path-length regularisation: (|J_w^T y| - a)^2, a the running mean of the lengths."""
        import torch

        ctx = self.ctx
        n = max(1, batch // 2)
        z = torch.randn(n, self.config.z_dim, device=ctx.device)
        with ctx.autocast():
            img, ws = self.G(z)
        noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
        (grad,) = torch.autograd.grad((img.float() * noise).sum(), ws, create_graph=True)
        lengths = grad.float().square().sum(2).mean(1).sqrt()
        self.pl_mean.copy_(self.pl_mean.lerp(lengths.mean().detach(), 0.01))
        penalty = (lengths - self.pl_mean).square().mean() * float(ctx.options["pl_weight"]) * PL_INTERVAL
        ctx.backward(penalty)
        ctx.step(self.opt_G)
        return penalty

    def _update_ema(self, batch: int) -> None:
        import torch

        opts = self.ctx.options
        rampup = opts.get("ema_rampup", EMA_RAMPUP)  # runs saved before the option existed
        beta = ema_beta(batch, self.images_seen, float(opts["ema_kimg"]), float(rampup))
        g = self.generator
        with torch.no_grad():
            for p_ema, p in zip(self.G_ema.parameters(), g.parameters()):
                p_ema.copy_(p.detach().lerp(p_ema, beta))
            for b_ema, b in zip(self.G_ema.buffers(), g.buffers()):
                b_ema.copy_(b)

    def samples(self, batch: Mapping[str, Tensor]) -> list[Tensor]:
        """Rows: real images; G_ema with psi 1; G_ema with psi 0.7 (fixed z); each (n, 3, R, R) in [0, 1]."""
        import torch

        n = batch["image"].shape[0]
        z = self.sample_z[:n]
        with torch.no_grad():
            rows = [batch["image"], (self.G_ema(z) + 1) / 2, (self.G_ema(z, 0.7) + 1) / 2]
        return [row.float().clamp(0, 1) for row in rows]

    def export(self) -> tuple[nn.Module, Mapping[str, Any]]:
        """G_ema (float32, CPU) and its config."""
        import copy

        return copy.deepcopy(self.G_ema).float().cpu().eval(), self.config.to_dict()

    def state_dict(self) -> dict[str, Any]:
        return {"augment": self.augment.state_dict(), "pl_mean": float(self.pl_mean),
                "images_seen": self.images_seen}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.augment.load_state_dict(state["augment"])
        self.pl_mean.fill_(float(state["pl_mean"]))
        self.images_seen = int(state["images_seen"])


def training_spec() -> api.TrainingSpec:
    """How `translator-train --plugin stylegan` trains (the paper's settings, a smaller batch)."""
    return api.TrainingSpec(
        data=api.DataKind.SINGLE,
        make_trainer=StyleGANTrainer,
        options=OPTIONS,
        architecture_options=("z_dim", "w_dim", "mapping_layers", "channel_base", "channel_max"),  # R: --size
        gan_loss="non-saturating",
        lr=0.0025,
        betas=(0.0, 0.99),
        batch_size=8,
        steps=100_000,
        decay_fraction=0.0,
    )
