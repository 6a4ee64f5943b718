"""The shared adversarial losses: values, directions of the gradients, the WGAN-GP penalty."""
from __future__ import annotations

import math

import pytest
import torch

from translator.errors import ParameterError
from translator.training.losses import GAN_LOSSES, GANLoss


def test_unknown_loss_is_a_parameter_error():
    with pytest.raises(ParameterError, match="wgan"):
        GANLoss("wgan")


@pytest.mark.parametrize("name", GAN_LOSSES)
def test_d_loss_is_lower_when_d_tells_real_from_fake(name):
    loss = GANLoss(name)
    good = loss.d_loss(torch.full((2, 1, 3, 3), 1.0), torch.full((2, 1, 3, 3), -1.0))
    bad = loss.d_loss(torch.full((2, 1, 3, 3), -1.0), torch.full((2, 1, 3, 3), 1.0))
    assert good.shape == () and float(good) < float(bad)


@pytest.mark.parametrize("name", GAN_LOSSES)
def test_g_loss_pushes_fakes_towards_real(name):
    fake = torch.zeros(4, 1, 2, 2, requires_grad=True)
    GANLoss(name).g_loss(fake).backward()
    assert (fake.grad < 0).all()  # descending the loss raises D's score of the fakes


def test_known_values():
    real, fake = torch.tensor([2.0]), torch.tensor([0.5])
    sig = torch.sigmoid
    assert math.isclose(float(GANLoss("vanilla").d_loss(real, fake)),
                        -math.log(sig(real)) - math.log(1 - sig(fake)), rel_tol=1e-5)
    assert math.isclose(float(GANLoss("vanilla").g_loss(fake)), math.log(1 - sig(fake)), rel_tol=1e-5)
    assert math.isclose(float(GANLoss("non-saturating").g_loss(fake)), -math.log(sig(fake)), rel_tol=1e-5)
    assert math.isclose(float(GANLoss("lsgan").d_loss(real, fake)), 1.0 + 0.25, rel_tol=1e-6)
    assert math.isclose(float(GANLoss("lsgan").g_loss(fake)), 0.25, rel_tol=1e-6)
    assert math.isclose(float(GANLoss("hinge").d_loss(real, fake)), 0.0 + 1.5, rel_tol=1e-6)
    assert math.isclose(float(GANLoss("wgan-gp").d_loss(real, fake)), -1.5, rel_tol=1e-6)


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (2.0, 10.0), (0.5, 2.5)])
def test_gradient_penalty_of_a_linear_critic(norm, expected):
    # D(x) = <w, x> has gradient w everywhere: the penalty is 10 * (|w| - 1)^2.
    w = torch.randn(3, 4, 4)
    w = w / w.norm() * norm
    critic = lambda x: (x * w).flatten(1).sum(1)
    real, fake = torch.rand(5, 3, 4, 4), torch.rand(5, 3, 4, 4)
    penalty = GANLoss("wgan-gp").penalty(critic, real, fake)
    assert math.isclose(float(penalty), expected, abs_tol=1e-4)
    assert float(GANLoss("lsgan").penalty(critic, real, fake)) == 0.0


def test_gradient_penalty_trains_the_critic():
    critic = torch.nn.Conv2d(3, 1, 3)
    real, fake = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    penalty = GANLoss("wgan-gp").penalty(critic, real, fake)
    penalty.backward()
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="one shape"):
        GANLoss("wgan-gp").penalty(critic, real, fake[:1])
