import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for these tests; install torch==2.13.0")
