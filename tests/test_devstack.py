"""The local stack (`make run`, the end-to-end tests, the benchmarks): a start that fails on the
way leaves nothing running."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from scripts.devstack import Stack
from tests.conftest import free_ports

pytestmark = pytest.mark.e2e


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_start_that_fails_after_cognito_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: Stack) -> None:
        raise RuntimeError("seeding failed")

    monkeypatch.setattr(Stack, "seed_merchants", fail)
    stack = Stack(data_dir=tmp_path / "data", ports=free_ports())
    with pytest.raises(RuntimeError, match="seeding failed"):
        stack.start()
    assert stack.cognito is not None
    assert stack.cognito.process.proc is None  # stopped, not left behind
    assert not _listening(stack.ports.cognito)
