"""no_grad / enable_grad / set_grad_enabled against PyTorch: context managers, decorators, threads."""
import threading

import pytest
import torch

import tapegrad

LIBS = [torch, tapegrad]
lib_param = pytest.mark.parametrize("lib", LIBS, ids=["torch", "tapegrad"])


@pytest.fixture(autouse=True)
def grad_mode_restored():
    yield
    assert torch.is_grad_enabled() and tapegrad.is_grad_enabled(), "a test leaked a disabled grad mode"


def both(fn):
    assert fn(tapegrad) == fn(torch)


def test_is_grad_enabled_by_default():
    both(lambda lib: lib.is_grad_enabled())


def test_context_managers_nest():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        seen = [lib.is_grad_enabled()]
        with lib.no_grad():
            seen.append(lib.is_grad_enabled())
            seen.append((a * 2).requires_grad)
            with lib.enable_grad():
                seen.append(lib.is_grad_enabled())
                seen.append((a * 2).requires_grad)
                with lib.set_grad_enabled(False):
                    seen.append((a * 2).requires_grad)
                seen.append(lib.is_grad_enabled())
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
        return seen

    both(run)


def test_no_grad_outputs():
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            b = a * 2
            c = a.exp().sum()
        return [b.requires_grad, b.is_leaf, b.grad_fn is None, c.requires_grad, a.requires_grad]

    both(run)


def test_enter_returns_none():
    def run(lib):
        with lib.no_grad() as x, lib.enable_grad() as y, lib.set_grad_enabled(True) as z:
            return [x, y, z]

    both(run)


def test_mode_restored_after_exception():
    def run(lib):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError("boom")
        inside_enable = None
        with lib.no_grad():
            with pytest.raises(KeyError):
                with lib.enable_grad():
                    raise KeyError("boom")
            inside_enable = lib.is_grad_enabled()
        return [lib.is_grad_enabled(), inside_enable]

    both(run)


def test_decorators_with_parentheses():
    def run(lib):
        @lib.no_grad()
        def off(x):
            return x * 2

        @lib.enable_grad()
        def on(x):
            return x * 2

        @lib.set_grad_enabled(False)
        def off2(x):
            return x * 2

        a = lib.ones(2, requires_grad=True)
        after_decoration = lib.is_grad_enabled()
        with lib.no_grad():
            inner_on = on(a).requires_grad
        return [off(a).requires_grad, off2(a).requires_grad, inner_on, after_decoration,
                lib.is_grad_enabled(), off.__name__]

    both(run)


def test_decorators_without_parentheses():
    def run(lib):
        @lib.no_grad
        def off():
            """Doc."""
            return lib.is_grad_enabled()

        @lib.enable_grad
        def on():
            return lib.is_grad_enabled()

        with lib.no_grad():
            inner = on()
        return [off(), inner, off.__name__, off.__doc__, lib.is_grad_enabled()]

    both(run)


def test_decorated_method():
    def run(lib):
        class Model:
            @lib.no_grad()
            def predict(self, x):
                return (x * 2).requires_grad

        return Model().predict(lib.ones(2, requires_grad=True))

    both(run)


def test_decorated_generator_switches_mode_per_step():
    def run(lib):
        @lib.no_grad()
        def steps():
            yield lib.is_grad_enabled()
            yield lib.is_grad_enabled()

        it = steps()
        first = next(it)
        between = lib.is_grad_enabled()
        second = next(it)
        return [first, between, second, list(it)]

    both(run)


def test_decorated_function_is_reentrant():
    def run(lib):
        @lib.no_grad()
        def depth(n):
            return lib.is_grad_enabled() if n == 0 else depth(n - 1)

        return [depth(3), lib.is_grad_enabled()]

    both(run)


def test_set_grad_enabled_as_a_call():
    def run(lib):
        lib.set_grad_enabled(False)
        off = lib.is_grad_enabled()
        lib.set_grad_enabled(True)
        return [off, lib.is_grad_enabled()]

    both(run)


def test_set_grad_enabled_restores_the_mode_from_before_the_call():
    def run(lib):
        ctx = lib.set_grad_enabled(False)
        during = lib.is_grad_enabled()
        with ctx:
            inside = lib.is_grad_enabled()
        return [during, inside, lib.is_grad_enabled()]

    both(run)


def test_set_grad_enabled_rejects_non_bool():
    def run(lib):
        with pytest.raises(TypeError) as info:
            lib.set_grad_enabled("yes")
        return [str(info.value), lib.is_grad_enabled()]

    both(run)


def test_clone():
    def run(lib):
        with lib.no_grad().clone():
            a = lib.is_grad_enabled()
        with lib.no_grad():
            with lib.set_grad_enabled(True).clone():
                b = lib.is_grad_enabled()
        return [a, b]

    both(run)


def test_autograd_namespace():
    for name in ["no_grad", "enable_grad", "set_grad_enabled"]:
        assert getattr(tapegrad.autograd, name) is getattr(tapegrad, name)
        assert getattr(tapegrad.autograd.grad_mode, name) is getattr(tapegrad, name)


@lib_param
def test_no_grad_is_thread_local(lib):
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with lib.no_grad():
            seen["worker"] = lib.is_grad_enabled()
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen["main"] = lib.is_grad_enabled()
    seen["main_requires_grad"] = (lib.ones(2, requires_grad=True) * 2).requires_grad
    release.set()
    t.join()
    assert seen == {"worker": False, "main": True, "main_requires_grad": True}


@lib_param
def test_new_threads_start_with_grad_enabled(lib):
    seen = []
    with lib.no_grad():
        t = threading.Thread(target=lambda: seen.append(lib.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


@lib_param
def test_decorated_function_in_threads(lib):
    @lib.no_grad()
    def off():
        return lib.is_grad_enabled()

    results = []
    threads = [threading.Thread(target=lambda: results.append((off(), lib.is_grad_enabled()))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(False, True)] * 4
