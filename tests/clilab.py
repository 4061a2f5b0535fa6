"""Helpers of the ``wirelab`` CLI tests: a LabService in this process, sim labs deployed
through the Python client, ``main(argv)`` with its output captured, and the checks every
``--json`` output must pass (jq users' expectations)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from orchestrator.cli import main
from orchestrator.client import Lab, LabClient
from orchestrator.service.server import LabServer, start_server

# the stack's TCP states are the RFC's upper-case names (like ss), not enums
TCP_STATES = {
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
    "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
}  # fmt: skip
ESCAPE = "\x1b["
MTU_FAULTS_MISSING = "interface MTU faults are not in this node yet"


@contextmanager
def serving(token: str | None = None) -> Iterator[LabServer]:
    server = start_server("127.0.0.1:0", token=token)
    try:
        yield server
    finally:
        server.stop(grace=0.2)


def deploy(server: LabServer, name: str, topology: str = "quickstart") -> Lab:
    """A sim lab deployed through the Python client (its client stays open)."""
    client = LabClient(server.address)
    return client.deploy(topology, name=name, backend="sim")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        data = json.loads(self.out)
        assert_jq_friendly(data)
        return data


class Runner:
    """``wirelab ARGV`` through main(); the server by --server when the command takes it."""

    def __init__(self, server: LabServer, capsys: pytest.CaptureFixture[str]) -> None:
        self.server = server
        self.capsys = capsys

    def __call__(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def lab(self, *argv: str) -> Result:
        """A lab command with an explicit --server."""
        return self(*argv, "--server", self.server.address)


def assert_jq_friendly(data: Any, path: str = "$", key: str = "") -> None:
    """No integer as a string, no upper-case enum word, no null (unset fields are left
    out) anywhere in ``data``."""
    assert data is not None, f"{path} is null: unset fields are left out"
    if isinstance(data, dict):
        for k, value in data.items():
            assert isinstance(k, str)
            assert_jq_friendly(value, f"{path}.{k}", k)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            assert_jq_friendly(value, f"{path}[{i}]", key)
    elif isinstance(data, str):
        if ".headers." not in path:  # HTTP header values are text by nature
            assert not re.fullmatch(r"-?\d+", data), f"{path}: {data!r}: an integer as a string"
        if key != "error" and data not in TCP_STATES:
            assert not re.fullmatch(r"[A-Z]{2,}(?:_[A-Z0-9]+)*", data), (
                f"{path}: {data!r} is upper-case"
            )
