"""Random sampling with an explicit generator, and the samplers whose streams follow torch's: the same seed gives
torch's numbers."""
import numpy as np
import pytest
import torch

import tapegrad


def seeded(lib, seed=7):
    g = lib.Generator()
    g.manual_seed(seed)
    return g


SAME_STREAM = {
    "rand_generator": lambda L: L.rand(2, 3, generator=seeded(L)),
    "randn_generator": lambda L: L.randn(5, generator=seeded(L), dtype=L.float64),
    "uniform_generator": lambda L: L.empty(4, 3).uniform_(-2, 3, generator=seeded(L)),
    "normal_generator": lambda L: L.empty(7).normal_(1.5, 0.5, generator=seeded(L)),
    "init_normal_generator": lambda L: L.nn.init.normal_(L.empty(3, 3), generator=seeded(L)),
}


@pytest.mark.parametrize("name", list(SAME_STREAM))
def test_generator_stream_matches_torch(name):
    ours, ref = SAME_STREAM[name](tapegrad), SAME_STREAM[name](torch)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_generator_leaves_default_stream_alone():
    tapegrad.manual_seed(0)
    expected = tapegrad.rand(3)
    tapegrad.manual_seed(0)
    tapegrad.empty(5).normal_(generator=seeded(tapegrad))
    np.testing.assert_array_equal(tapegrad.rand(3).numpy(), expected.numpy())


def test_generator_must_be_a_generator():
    with pytest.raises(TypeError):
        tapegrad.empty(3).uniform_(generator=3)
