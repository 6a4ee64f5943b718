"""Training pix2pix (Isola et al. 2017, sections 3.1 and 3.3) with `translator-train`.

Objective: G* = arg min_G max_D L_cGAN(G, D) + lambda * L_L1(G), where the conditional PatchGAN
D sees the input beside the real or the generated output, and L_L1 = E ||y - G(x)||_1. The
paper's defaults: lambda 100, Adam lr 2e-4 with beta1 0.5, batch size 1, the non-saturating GAN
loss (G maximises log D(x, G(x)), section 3.3), the D loss halved "to slow down the rate at
which D learns relative to G". As in the reference, D is updated before G on each batch.

Data: paired folders (`--data DIR` with A/ and B/, or side-by-side AB images), or with
`--sketches auto` photos alone: the input A is then a random line drawing of the photo B
(`sketches.extract_sketches` with the `sketches.MIXED` styles: XDoG and Canny, strokes of 1 to
3 px), different at every step.

Imports only `translator.api` and this package; torch is imported when training starts.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from translator import api

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

SKETCHES = ("off", "auto")
OPTIONS: tuple[api.Param, ...] = (
    api.Float(name="lambda_l1", default=100.0, minimum=0.0, maximum=10_000.0,
              help="weight of the L1 loss between output and target (lambda in the paper)"),
    api.Int(name="ndf", default=64, minimum=1, maximum=1024,
            help="discriminator width, channels of its first layer"),
    api.Int(name="n_layers_d", default=3, minimum=1, maximum=8,
            help="strided layers of the PatchGAN discriminator (3: 70x70 patches)"),
    api.Choice(name="sketches", choices=SKETCHES, default="off",
               help="auto: learn sketch to photo from photos alone; --data is then a folder of photos "
                    "(or the B/ of a paired folder) and every input is a random line drawing of its photo"),
)


def derives_input(options: Mapping[str, Any]) -> bool:
    """True when the trainer makes the input A itself from the photo B (`--sketches auto`)."""
    return options.get("sketches") == "auto"


class Pix2PixTrainer:
    """A U-Net generator and a conditional PatchGAN discriminator (see `api.Trainer`).

    Batches hold "A" and "B" (paired data) or only "B" (`--sketches auto`), (B, 3, H, W) in
    [0, 1], H and W multiples of 2**num_downs; the networks work in [-1, 1]. Fine-tuning starts G
    from `ctx.initial_model` (its architecture is kept; another `upsample` layout keeps the layers
    whose shapes fit and starts the upsampling fresh); D always starts fresh.
    """

    def __init__(self, ctx: api.TrainContext) -> None:
        from translator.api.layers import load_matching
        from translator_plugins.pix2pix import networks

        self.ctx = ctx
        opts = ctx.options
        size = int(opts.get("size", 0))
        base = ctx.initial_config if ctx.initial_config is not None else ctx.default_config
        self.config = {**base, "size": size}
        levels = self.config["num_downs"]
        if size % 2**levels:
            raise api.ParameterError(f"--size {size} must be a multiple of {2**levels} for a "
                                     f"{levels}-level U-Net (use --num-downs {_levels_for(size)} "
                                     "or another --size)")
        generator = networks.build_generator(self.config)
        if ctx.initial_model is not None:
            load_matching(generator, ctx.initial_model.G.state_dict())
        self.G = ctx.wrap(generator)
        self.D = ctx.wrap(networks.build_discriminator(opts["ndf"], opts["n_layers_d"], self.config["norm"]))
        self.opt_G = ctx.make_optimizer(self.G.parameters(), "G")
        self.opt_D = ctx.make_optimizer(self.D.parameters(), "D")
        self.lambda_l1 = float(opts["lambda_l1"])
        self.sketches = derives_input(opts)

    def networks(self) -> Mapping[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def optimizers(self) -> Mapping[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, "D": self.opt_D}

    def inputs(self, batch: Mapping[str, Tensor], seed: int) -> Tensor:
        """The input A of a batch in [0, 1]: given, or drawn from "B" with `seed` (`--sketches auto`)."""
        if not self.sketches:
            if "A" not in batch:
                raise api.DataError("pix2pix needs paired data (A and B); for photos alone use --sketches auto")
            return batch["A"]
        from translator_plugins.pix2pix.sketches import MIXED, extract_sketches

        return extract_sketches(batch["B"], seed, MIXED)

    def train_step(self, batch: Mapping[str, Tensor], step: int) -> Mapping[str, float]:
        """`ctx.d_steps` updates of D on (A, B) against (A, G(A)), then one update of G."""
        import torch
        import torch.nn.functional as F

        ctx, gan = self.ctx, self.ctx.gan_loss
        seed = (ctx.seed * 1_000_003 + step) * ctx.world_size + ctx.rank
        real_A = self.inputs(batch, seed) * 2 - 1
        real_B = batch["B"] * 2 - 1
        with ctx.autocast():
            fake_B = self.G(real_A)
        real_AB = torch.cat([real_A, real_B], dim=1)
        fake_AB = torch.cat([real_A, fake_B.float()], dim=1)
        for _ in range(ctx.d_steps):
            with ctx.autocast():
                loss_D = 0.5 * gan.d_loss(self.D(real_AB), self.D(fake_AB.detach()))
            if gan.uses_penalty:
                loss_D = loss_D + gan.penalty(ctx.unwrap(self.D), real_AB, fake_AB.detach())
            ctx.backward(loss_D)
            ctx.step(self.opt_D)

        with ctx.autocast(), ctx.frozen(self.D) as D:
            loss_G_GAN = gan.g_loss(D(fake_AB))
        loss_L1 = F.l1_loss(fake_B.float(), real_B) * self.lambda_l1
        ctx.backward(loss_G_GAN + loss_L1)
        ctx.step(self.opt_G)
        losses = {"G_GAN": loss_G_GAN, "G_L1": loss_L1, "D": loss_D}
        return {k: float(v.detach()) for k, v in losses.items()}

    def samples(self, batch: Mapping[str, Tensor]) -> list[Tensor]:
        """Rows: input A, G(A) as the exported model computes it (eval mode), target B."""
        import torch

        G = self.ctx.unwrap(self.G)
        real_A = self.inputs(batch, self.ctx.seed)
        was_training = G.training
        G.eval()
        try:
            with torch.no_grad(), self.ctx.autocast():
                fake_B = (G(real_A * 2 - 1).float() + 1) / 2
        finally:
            G.train(was_training)
        return [real_A, fake_B, batch["B"]]

    def export(self) -> tuple[nn.Module, Mapping[str, Any]]:
        """The inference `Pix2Pix` (float32, CPU, eval mode) and its config."""
        from translator_plugins.pix2pix import networks

        model = networks.Pix2Pix(self.config)
        model.G.load_state_dict(self.ctx.unwrap(self.G).state_dict())
        return model.float().cpu().eval(), dict(self.config)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        del state  # nothing beyond networks and optimizers; sketches are seeded by the step


def _levels_for(size: int) -> int:
    """The most U-Net levels (5..8) a training crop of `size` pixels allows, at least 5."""
    levels = 5
    while levels < 8 and size % 2 ** (levels + 1) == 0:
        levels += 1
    return levels


def training_spec() -> api.TrainingSpec:
    """How `translator-train --plugin pix2pix` trains (the paper's settings as defaults)."""
    return api.TrainingSpec(
        data=api.DataKind.PAIRED,
        make_trainer=Pix2PixTrainer,
        options=OPTIONS,
        architecture_options=("ngf", "num_downs", "norm", "use_dropout", "upsample"),  # size: --size
        fine_tune_options=("upsample",),
        scratch_config={"upsample": "resize"},
        gan_loss="non-saturating",
        steps=200_000,
        input_from_target=derives_input,
    )
