"""Training CycleGAN (Zhu et al. 2017, section 4 and appendix 7.1) with `translator-train`.

Objective: L = L_GAN(G, D_B) + L_GAN(F, D_A) + lambda_cycle * L_cyc(G, F) + L_identity, with
G = G_AB: A -> B, F = G_BA: B -> A, D_B judging domain B and D_A domain A. The paper's defaults:
least-squares GAN loss, lambda_cycle 10, identity loss weight 0.5 * lambda_cycle, a history
of 50 generated images per discriminator, Adam lr 2e-4 with beta1 0.5, constant learning rate
for the first half of the steps then a linear decay to zero, batch size 1. The discriminator
loss is halved (as in the paper, "to slow down D").

Imports only `translator.api` and this package; torch is imported when training starts.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from translator import api

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

OPTIONS: tuple[api.Param, ...] = (
    api.Float(name="lambda_cycle", default=10.0, minimum=0.0, maximum=1000.0,
              help="weight of the cycle-consistency loss (lambda in the paper)"),
    api.Float(name="lambda_identity", default=0.5, minimum=0.0, maximum=100.0,
              help="weight of the identity loss, as a multiple of lambda_cycle (0 disables it)"),
    api.Int(name="pool_size", default=50, minimum=0, maximum=10_000,
            help="generated images each discriminator remembers (0: no history)"),
)


class CycleGANTrainer:
    """Two generators, two PatchGAN discriminators, two image pools (see `api.Trainer`).

    Batches hold "A" and "B", (B, 3, H, W) in [0, 1], H and W multiples of 4; the networks work
    in [-1, 1]. Fine-tuning starts both generators from `ctx.initial_model` (a generator the
    model lacks starts fresh; with another `upsample` layout, so do the upsampling layers);
    discriminators always start fresh.
    """

    def __init__(self, ctx: api.TrainContext) -> None:
        from translator.api.layers import load_matching
        from translator_plugins.cyclegan import networks

        self.ctx = ctx
        opts = ctx.options
        base = ctx.initial_config if ctx.initial_config is not None else ctx.default_config
        self.config = {**base, "directions": list(networks.DIRECTIONS)}  # trains both generators
        generators = {d: networks.build_generator(self.config) for d in networks.DIRECTIONS}
        initial = ctx.initial_model
        if initial is not None:
            for direction, generator in generators.items():
                if direction in initial.directions:
                    load_matching(generator, initial.generator(direction).state_dict())
        self.G_AB = ctx.wrap(generators["AtoB"])
        self.G_BA = ctx.wrap(generators["BtoA"])
        self.D_A = ctx.wrap(networks.build_discriminator(self.config))
        self.D_B = ctx.wrap(networks.build_discriminator(self.config))
        self.opt_G = ctx.make_optimizer([*self.G_AB.parameters(), *self.G_BA.parameters()], "G")
        self.opt_D = ctx.make_optimizer([*self.D_A.parameters(), *self.D_B.parameters()], "D")
        self.pool_A = ctx.image_pool(opts["pool_size"])
        self.pool_B = ctx.image_pool(opts["pool_size"])
        self.lambda_cycle = float(opts["lambda_cycle"])
        self.lambda_identity = float(opts["lambda_identity"])

    def networks(self) -> Mapping[str, nn.Module]:
        return {"G_AB": self.G_AB, "G_BA": self.G_BA, "D_A": self.D_A, "D_B": self.D_B}

    def optimizers(self) -> Mapping[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, "D": self.opt_D}

    def train_step(self, batch: Mapping[str, Tensor], step: int) -> Mapping[str, float]:
        """One generator update of G and F together, then `ctx.d_steps` updates of D_A and D_B."""
        import torch.nn.functional as F

        ctx, gan = self.ctx, self.ctx.gan_loss
        real_A, real_B = batch["A"] * 2 - 1, batch["B"] * 2 - 1
        with ctx.autocast():
            fake_B = self.G_AB(real_A)
            rec_A = self.G_BA(fake_B)
            fake_A = self.G_BA(real_B)
            rec_B = self.G_AB(fake_A)
            with ctx.frozen(self.D_A) as D_A, ctx.frozen(self.D_B) as D_B:
                loss_G_AB = gan.g_loss(D_B(fake_B))
                loss_G_BA = gan.g_loss(D_A(fake_A))
            loss_cycle_A = F.l1_loss(rec_A.float(), real_A) * self.lambda_cycle
            loss_cycle_B = F.l1_loss(rec_B.float(), real_B) * self.lambda_cycle
            loss_G = loss_G_AB + loss_G_BA + loss_cycle_A + loss_cycle_B
            weight_idt = self.lambda_cycle * self.lambda_identity
            if weight_idt > 0:
                loss_idt_A = F.l1_loss(self.G_BA(real_A).float(), real_A) * weight_idt
                loss_idt_B = F.l1_loss(self.G_AB(real_B).float(), real_B) * weight_idt
                loss_G = loss_G + loss_idt_A + loss_idt_B
        ctx.backward(loss_G)
        ctx.step(self.opt_G)

        pooled_B = self.pool_B.query(fake_B)
        pooled_A = self.pool_A.query(fake_A)
        for _ in range(ctx.d_steps):
            loss_D_A = self._d_loss(self.D_A, real_A, pooled_A)
            loss_D_B = self._d_loss(self.D_B, real_B, pooled_B)
            ctx.backward(loss_D_A + loss_D_B)
            ctx.step(self.opt_D)
        losses = {"G_AB": loss_G_AB, "G_BA": loss_G_BA, "cycle_A": loss_cycle_A, "cycle_B": loss_cycle_B,
                  "D_A": loss_D_A, "D_B": loss_D_B}
        if weight_idt > 0:
            losses.update(idt_A=loss_idt_A, idt_B=loss_idt_B)
        return {k: float(v.detach()) for k, v in losses.items()}

    def _d_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        """0.5 * (D loss on real and pooled fake images) + gradient penalty (wgan-gp only)."""
        gan = self.ctx.gan_loss
        with self.ctx.autocast():
            loss = 0.5 * gan.d_loss(D(real), D(fake.detach()))
        if gan.uses_penalty:
            loss = loss + gan.penalty(self.ctx.unwrap(D), real, fake)
        return loss

    def samples(self, batch: Mapping[str, Tensor]) -> list[Tensor]:
        """Rows: real A, fake B, rec A, real B, fake A, rec B; each (B, 3, H, W) in [0, 1]."""
        import torch

        G_AB, G_BA = self.ctx.unwrap(self.G_AB), self.ctx.unwrap(self.G_BA)
        with torch.no_grad(), self.ctx.autocast():
            real_A, real_B = batch["A"] * 2 - 1, batch["B"] * 2 - 1
            fake_B, fake_A = G_AB(real_A), G_BA(real_B)
            rows = [real_A, fake_B, G_BA(fake_B), real_B, fake_A, G_AB(fake_A)]
        return [(row.float() + 1) / 2 for row in rows]

    def export(self) -> tuple[nn.Module, Mapping[str, Any]]:
        """The inference `CycleGAN` (both generators, float32, CPU) and its config."""
        from translator_plugins.cyclegan import networks

        model = networks.CycleGAN(self.config)
        model.G_AB.load_state_dict(self.ctx.unwrap(self.G_AB).state_dict())
        model.G_BA.load_state_dict(self.ctx.unwrap(self.G_BA).state_dict())
        return model.float().cpu().eval(), dict(self.config)

    def state_dict(self) -> dict[str, Any]:
        return {"pool_A": self.pool_A.state_dict(), "pool_B": self.pool_B.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.pool_A.load_state_dict(state["pool_A"])
        self.pool_B.load_state_dict(state["pool_B"])


def training_spec() -> api.TrainingSpec:
    """How `translator-train --plugin cyclegan` trains (the paper's settings as defaults)."""
    return api.TrainingSpec(
        data=api.DataKind.UNPAIRED,
        make_trainer=CycleGANTrainer,
        options=OPTIONS,
        architecture_options=("ngf", "ndf", "n_blocks", "n_layers_d", "norm", "use_dropout", "upsample",
                              "down_padding"),
        fine_tune_options=("ndf", "n_layers_d", "upsample", "down_padding"),
        scratch_config={"upsample": "resize", "down_padding": "reflect"},
        steps=200_000,
    )
