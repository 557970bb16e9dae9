"""nn.ParameterList and nn.utils.parameters_to_vector / vector_to_parameters against PyTorch."""
import numpy as np
import pytest
import torch

import tapegrad


def build_list(lib):
    params = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.ones(3, 2, dtype=lib.float64)])
    params.append(lib.zeros(1))
    params += [lib.nn.Parameter(lib.full((2, 2), 3.0))]
    return params


def test_parameter_list_registers_and_prints_like_torch():
    ours, ref = build_list(tapegrad), build_list(torch)
    assert repr(ours) == repr(ref)
    assert len(ours) == len(ref) == 4
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert all(isinstance(p, tapegrad.nn.Parameter) for p in ours)
    assert tuple(ours[-1].shape) == (2, 2) and len(ours[1:3]) == 2
    ours[0] = tapegrad.zeros(5)
    assert isinstance(ours[0], tapegrad.nn.Parameter) and tuple(ours[0].shape) == (5,)


def test_parameter_list_in_a_module_trains():
    class Model(tapegrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = tapegrad.nn.ParameterList([tapegrad.ones(3) * i for i in range(3)])

        def forward(self, x):
            for w in self.weights:
                x = x * w + 1
            return x

    model = Model()
    model(tapegrad.ones(3)).sum().backward()
    assert len(list(model.parameters())) == 3
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("code", [
    "lib.nn.ParameterList()(1)",
    "lib.nn.ParameterList().extend(lib.ones(2))",
    "lib.nn.ParameterList([lib.ones(1)])[3]",
])
def test_parameter_list_errors_match_torch(code):
    from test_errors import check_same_error

    check_same_error(code)


def test_parameters_to_vector_and_back_match_torch():
    rng = np.random.default_rng(2)
    shapes = [(3, 2), (4,), (2, 1, 2)]
    arrays = [rng.standard_normal(s) for s in shapes]
    results = []
    for lib in (tapegrad, torch):
        params = [lib.nn.Parameter(lib.tensor(a)) for a in arrays]
        vec = lib.nn.utils.parameters_to_vector(params)
        (vec * vec).sum().backward()
        lib.nn.utils.vector_to_parameters(vec.detach() * 2, params)
        results.append([vec.detach().numpy()] + [p.grad.numpy() for p in params] + [p.detach().numpy() for p in params])
    for o, r in zip(*results):
        np.testing.assert_array_equal(o, r)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        tapegrad.nn.utils.vector_to_parameters([1.0], [tapegrad.nn.Parameter(tapegrad.ones(1))])
