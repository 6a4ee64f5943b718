"""Training the colorizer with `translator-train --plugin colorize --data DIR` (self-supervised).

Any folder of colour photos will do: each crop is split into its Lab lightness L (the input)
and chroma ab (the target). As in Zhang et al. 2017 (section 3.3) the network also gets
simulated user hints: a random number of small patches (none for a fraction `p_no_hints` of the
images) holding the mean true ab there, so the same model colorizes automatically and follows
hints when given (networks built with `hints`; one without learns automatic colours only, and the
translator spreads hints outside it). Loss: smooth-L1 (Huber, delta 1 ab unit as in the paper) on
ab, each pixel weighted by the rarity of its true colour (class rebalancing of Zhang et al. 2016,
section 2.2, over ab bins of side `AB_BIN`, from a histogram of the colours seen so far; strength
`rebalance`, 0 for plain regression) so the common grays and browns do not win by default; plus an
optional PatchGAN term on (L, ab) with weight `gan_weight` (0 by default). Grayscale images in
the folder are skipped and counted (`metrics.reject_grayscale`).

Imports only `translator.api` and this package; torch is imported when training starts.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from translator import api
from translator_plugins.colorize.metrics import reject_grayscale

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

SCRATCH_CONFIG = {"hints": False, "upsample": "resize"}
"""A U-Net trained now learns automatic colours (the translator spreads hints edge-aware) and
upsamples by resize-convolution (no checkerboard), like the bundled model."""

OPTIONS: tuple[api.Param, ...] = (
    api.Float(name="gan_weight", default=0.0, minimum=0.0, maximum=100.0,
              help="weight of the PatchGAN term (0: plain smooth-L1 regression of ab)"),
    api.Float(name="p_no_hints", default=0.5, minimum=0.0, maximum=1.0,
              help="fraction of training images without any simulated hint (automatic colorization)"),
    api.Int(name="ndf", default=64, minimum=4, maximum=512,
            help="PatchGAN width, with gan_weight > 0"),
    api.Float(name="rebalance", default=0.5, minimum=0.0, maximum=1.0,
              help="class rebalancing of the loss: 0 off, 0.5 the paper's (rare colours weigh more)"),
)
HUBER_DELTA = 1.0
"""Huber delta in ab units (the paper's)."""
SAMPLE_HINTS = 10
"""Simulated hints in the "with hints" row of the sample grids (and the model card's metric)."""
AB_BIN = 10.0
"""Side of the ab bins of class rebalancing, in ab units (the paper's grid)."""
AB_BINS = 22
"""Bins per axis: the grid covers a and b in [-110, 110)."""
PRIOR_SIGMA = 0.5
"""Gaussian smoothing of the colour histogram, in bins (5 ab units, the paper's)."""


def ab_bin_index(ab: Tensor) -> Tensor:
    """ab (B, 2, H, W) in Lab units -> (B, H, W) index of its bin in the `AB_BINS`**2 grid."""
    cells = ((ab + AB_BIN * AB_BINS / 2) / AB_BIN).floor().long().clamp(0, AB_BINS - 1)
    return cells[:, 0] * AB_BINS + cells[:, 1]


def rebalance_weights(counts: Tensor, strength: float) -> Tensor:
    """Per-bin loss weights (`AB_BINS`**2,) from a colour histogram `counts` of the same shape.

    With p the histogram smoothed by `PRIOR_SIGMA` and normalised, and Q the number of bins seen:
    w = 1 / (strength * p + (1 - strength) / Q), scaled so the expected weight under p is 1
    (Zhang et al. 2016, eq. 4, with lambda = 1 - strength). strength 0 gives all ones.
    """
    import kornia
    import torch

    if strength <= 0 or float(counts.sum()) <= 0:
        return torch.ones(AB_BINS * AB_BINS, dtype=torch.float32)
    grid = counts.double().view(1, 1, AB_BINS, AB_BINS)
    grid = kornia.filters.gaussian_blur2d(grid, (5, 5), (PRIOR_SIGMA, PRIOR_SIGMA), border_type="constant")
    prior = (grid / grid.sum()).flatten()
    seen = max(int((counts > 0).sum()), 1)
    weights = 1.0 / (strength * prior + (1.0 - strength) / seen)
    return (weights / (prior * weights).sum()).float()


class ColorizeTrainer:
    """The colorizer (and, with gan_weight > 0, a PatchGAN critic); see `api.Trainer`.

    Batches hold "image", (B, 3, S, S) RGB in [0, 1]. Fine-tuning starts from `ctx.initial_model`
    of any architecture (ECCV16 ignores hints; its bin centres stay fixed).
    """

    def __init__(self, ctx: api.TrainContext) -> None:
        import torch

        from translator_plugins.colorize import networks

        self.ctx = ctx
        opts = ctx.options
        self.config = dict(ctx.initial_config if ctx.initial_config is not None else ctx.default_config)
        net = networks.build(self.config)
        if ctx.initial_model is not None:
            net.load_state_dict(ctx.initial_model.state_dict())
        if hasattr(net, "chroma"):  # the network learns its raw ab; the model's calibrated scale is kept for export
            net.chroma = 1.0
        size = int(opts.get("size", 0) or 0)
        if size % net.size_multiple:
            raise api.ParameterError(f"--size {size} must be a multiple of {net.size_multiple} for this "
                                     f"colorize network")
        self.G = ctx.wrap(net)
        self.opt_G = ctx.make_optimizer(self.G.parameters(), "G")
        self.gan_weight = float(opts["gan_weight"])
        self.p_no_hints = float(opts["p_no_hints"])
        self.rebalance = float(opts.get("rebalance", 0.0))
        self.ab_counts = torch.zeros(AB_BINS * AB_BINS, dtype=torch.float64)
        """Histogram of the true ab of every training pixel seen (for `rebalance_weights`)."""
        self.D: nn.Module | None = None
        self.opt_D: torch.optim.Optimizer | None = None
        if self.gan_weight > 0:
            self.D = ctx.wrap(networks.PatchDiscriminator(int(opts["ndf"])))
            self.opt_D = ctx.make_optimizer(self.D.parameters(), "D")
        self.hint_generator = torch.Generator().manual_seed(ctx.seed * 7919 + ctx.rank)

    def networks(self) -> Mapping[str, nn.Module]:
        return {"G": self.G, **({"D": self.D} if self.D is not None else {})}

    def optimizers(self) -> Mapping[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, **({"D": self.opt_D} if self.opt_D is not None else {})}

    def train_step(self, batch: Mapping[str, Tensor], step: int) -> Mapping[str, float]:
        """One update of the colorizer, then `ctx.d_steps` critic updates when gan_weight > 0."""
        import torch
        import torch.nn.functional as F

        from translator_plugins.colorize import hints, lab

        ctx = self.ctx
        with torch.no_grad():
            truth = lab.rgb_to_lab(batch["image"])
            lightness, ab = truth[:, :1], truth[:, 1:]
            if ctx.unwrap(self.G).follows_hints:
                hint_ab, hint_mask = hints.simulate_hints(ab.cpu(), self.hint_generator, p_none=self.p_no_hints)
                hint_ab, hint_mask = hint_ab.to(ab.device), hint_mask.to(ab.device)
            else:
                hint_ab = hint_mask = None
            pixel_weight = self._pixel_weights(ab)
        with ctx.autocast():
            predicted = self.G(lightness, hint_ab, hint_mask).float()
            huber = F.smooth_l1_loss(lab.normalize_ab(predicted), lab.normalize_ab(ab),
                                     beta=HUBER_DELTA / lab.AB_NORM, reduction="none")
            loss_ab = (huber * pixel_weight).mean() * lab.AB_NORM
            loss = loss_ab
            if self.D is not None:
                fake = self._critic_input(lightness, predicted)
                with ctx.frozen(self.D) as D:
                    loss_gan = ctx.gan_loss.g_loss(D(fake)) * self.gan_weight
                loss = loss + loss_gan
        ctx.backward(loss)
        ctx.step(self.opt_G)
        losses = {"ab": loss_ab}
        if self.D is not None:
            real = self._critic_input(lightness, ab)
            for _ in range(ctx.d_steps):
                loss_D = self._d_loss(real, fake.detach())
                ctx.backward(loss_D)
                ctx.step(self.opt_D)
            losses.update(G_gan=loss_gan, D=loss_D)
        return {k: float(v.detach()) for k, v in losses.items()}

    def _pixel_weights(self, ab: Tensor) -> Tensor:
        """(B, 1, H, W) class-rebalancing weight of each pixel's true ab; ones when `rebalance` is 0.
        Adds the batch to the colour histogram first."""
        import torch

        if self.rebalance <= 0:
            return torch.ones_like(ab[:, :1])
        index = ab_bin_index(ab)
        self.ab_counts += torch.bincount(index.flatten().cpu(), minlength=AB_BINS * AB_BINS).double()
        weights = rebalance_weights(self.ab_counts, self.rebalance).to(ab.device)
        return weights[index].unsqueeze(1)

    @staticmethod
    def _critic_input(lightness: Tensor, ab: Tensor) -> Tensor:
        import torch

        from translator_plugins.colorize import lab

        return torch.cat([lab.normalize_l(lightness), lab.normalize_ab(ab)], dim=1)

    def _d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        gan = self.ctx.gan_loss
        with self.ctx.autocast():
            loss = 0.5 * gan.d_loss(self.D(real), self.D(fake))
        if gan.uses_penalty:
            loss = loss + gan.penalty(self.ctx.unwrap(self.D), real, fake)
        return loss

    def samples(self, batch: Mapping[str, Tensor]) -> list[Tensor]:
        """Rows: gray input, automatic colorization, with `SAMPLE_HINTS` simulated hints, truth."""
        import torch

        from translator_plugins.colorize import hints, lab, propagate

        net = self.ctx.unwrap(self.G)
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad(), self.ctx.autocast():
                truth = lab.rgb_to_lab(batch["image"])
                lightness, ab = truth[:, :1], truth[:, 1:]
                zeros = torch.zeros_like(ab)
                automatic = net(lightness, zeros, zeros[:, :1]).float()
                generator = torch.Generator().manual_seed(0)  # the same hints at every step
                hint_ab, mask = hints.simulate_hints(ab.cpu(), generator, count=SAMPLE_HINTS)
                hint_ab, mask = hint_ab.to(ab.device), mask.to(ab.device)
                if net.follows_hints:
                    hinted = net(lightness, hint_ab, mask).float()
                else:
                    hinted = propagate.spread_corrections(lightness, automatic, hint_ab, mask)
        finally:
            net.train(was_training)
        return [lab.lab_to_rgb(lightness, zeros), lab.colorize_rgb(lightness, automatic),
                lab.colorize_rgb(lightness, hinted), batch["image"].float()]

    def export(self) -> tuple[nn.Module, Mapping[str, Any]]:
        """The colorizer (float32, CPU, eval) and its config."""
        from translator_plugins.colorize import networks

        model = networks.build(self.config)
        model.load_state_dict(self.ctx.unwrap(self.G).state_dict())
        return model.float().cpu().eval(), dict(self.config)

    def state_dict(self) -> dict[str, Any]:
        return {"hint_generator": self.hint_generator.get_state(), "ab_counts": self.ab_counts.clone()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.hint_generator.set_state(state["hint_generator"])
        if "ab_counts" in state:
            self.ab_counts = state["ab_counts"].double().cpu().clone()


def training_spec() -> api.TrainingSpec:
    """How `translator-train --plugin colorize` trains (defaults sized for a GPU)."""
    return api.TrainingSpec(
        data=api.DataKind.SINGLE,
        make_trainer=ColorizeTrainer,
        options=OPTIONS,
        architecture_options=("width", "depth", "middle", "hints", "upsample"),  # ours, the U-Net
        scratch_config=SCRATCH_CONFIG,
        betas=(0.9, 0.99),
        batch_size=16,
        size=176,
        steps=50_000,
        decay_fraction=0.3,
        reject=reject_grayscale,
    )
