import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for these tests; install torch==2.13.0")


def pytest_terminal_summary(terminalreporter):
    """The property-based tests' count of calls made on both libraries (tests/fuzzkit.py)."""
    import sys

    fuzzkit = sys.modules.get("fuzzkit")
    if fuzzkit is not None and fuzzkit.CALLS:
        counts = ", ".join(f"{kind} {count}" for kind, count in sorted(fuzzkit.CALLS.items()))
        terminalreporter.write_line(f"fuzzed calls: {counts} (total {sum(fuzzkit.CALLS.values())})")
