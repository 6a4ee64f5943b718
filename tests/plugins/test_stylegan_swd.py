"""Sliced Wasserstein distance of the model card: levels, ordering, bad input."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from translator_plugins.stylegan import swd

torch.set_num_threads(1)


def test_swd_levels_and_ordering():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(12, 3, 32, 32, generator=g), torch.rand(12, 3, 32, 32, generator=g)
    blurred = F.avg_pool2d(torch.rand(12, 3, 32, 32, generator=g), 5, 1, 2)
    same, other = swd.swd(a, b), swd.swd(a, blurred)
    assert set(same) == {"swd_32px", "swd_16px", "swd_mean"}
    assert other["swd_32px"] > 1.5 * same["swd_32px"] and other["swd_mean"] > same["swd_mean"]
    assert swd.swd(a, b) == same  # seeded
    with pytest.raises(ValueError):
        swd.swd(a, a[:3])
