import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for these tests; install torch==2.13.0")

# The pool sizes the threaded fast paths are checked at: none, one worker, and more threads than cores.
THREAD_COUNTS = [1, 2, 3]


@pytest.fixture(params=THREAD_COUNTS, ids=lambda n: f"threads{n}")
def threads(request):
    """Runs the test with tapegrad's pool at each of THREAD_COUNTS."""
    import tapegrad

    before = tapegrad.get_num_threads()
    tapegrad.set_num_threads(request.param)
    yield request.param
    tapegrad.set_num_threads(before)


def pytest_terminal_summary(terminalreporter):
    """The property-based tests' count of calls made on both libraries (tests/fuzzkit.py)."""
    import sys

    fuzzkit = sys.modules.get("fuzzkit")
    if fuzzkit is not None and fuzzkit.CALLS:
        counts = ", ".join(f"{kind} {count}" for kind, count in sorted(fuzzkit.CALLS.items()))
        terminalreporter.write_line(f"fuzzed calls: {counts} (total {sum(fuzzkit.CALLS.values())})")
