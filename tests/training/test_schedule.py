"""Constant, then linear decay of the learning rate."""
from __future__ import annotations

import pytest
import torch

from translator.training.schedule import LinearDecay


def test_constant_then_linear_to_near_zero():
    schedule = LinearDecay(total=10, decay=4)
    factors = [schedule.factor(s) for s in range(10)]
    assert factors[:6] == [1.0] * 6
    assert factors[6:] == pytest.approx([0.8, 0.6, 0.4, 0.2])
    assert LinearDecay(total=5, decay=0).factor(4) == 1.0


def test_apply_sets_every_group_from_its_initial_lr():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = LinearDecay(total=4, decay=4)
    schedule.apply([opt], 0)
    schedule.apply([opt], 3)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.2)
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_bad_decay_raises():
    with pytest.raises(ValueError):
        LinearDecay(total=3, decay=4)
