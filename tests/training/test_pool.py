"""The image history of the discriminators."""
from __future__ import annotations

import pytest
import torch

from translator.training.pool import ImagePool


def test_pool_fills_then_mixes_history_and_new_images():
    pool = ImagePool(4, seed=1)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: returned as they are
    assert len(pool.images) == 4
    seen_old = seen_new = False
    for i in range(20):
        new = torch.full((2, 1, 1, 1), 100.0 + i)
        out = pool.query(new)
        assert out.shape == new.shape
        seen_old |= bool((out < 100).any()) or bool((out != new).any())
        seen_new |= bool((out == new).any())
    assert seen_old and seen_new
    assert len(pool.images) == 4


def test_pool_of_size_zero_passes_through_and_detaches():
    x = torch.rand(3, 3, 2, 2, requires_grad=True)
    out = ImagePool(0).query(x)
    assert torch.equal(out, x) and not out.requires_grad


def test_state_dict_round_trip_draws_the_same():
    pool = ImagePool(3, seed=5)
    for i in range(4):
        pool.query(torch.full((2, 3, 2, 2), float(i)))
    state = pool.state_dict()
    again = ImagePool(3, seed=99)
    again.load_state_dict(state)
    batch = torch.rand(5, 3, 2, 2)
    assert torch.equal(pool.query(batch), again.query(batch))


def test_negative_size_raises():
    with pytest.raises(ValueError):
        ImagePool(-1)
