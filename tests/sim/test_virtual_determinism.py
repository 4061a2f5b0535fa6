"""Bit-exact determinism of virtual labs: the same YAML, seed and operations give the same
frames (pcap bytes), counters and results, in one process, across processes with
different hash seeds, and in the pure and the compiled build (tests/virtualrun.py is the
scenario: ping, a transfer under a seeded loss-and-jitter fault while r1 captures,
traceroute, clear, wait, a transfer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.client import LabClient
from orchestrator.service.server import LabServer, start_server
from tests import virtualrun

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client() -> Iterator[LabClient]:
    server: LabServer = start_server("127.0.0.1:0")
    try:
        with LabClient(server.address) as c:
            yield c
    finally:
        server.stop(grace=0.2)


@pytest.fixture(scope="module")
def first(client: LabClient) -> dict[str, Any]:
    digest: dict[str, Any] = json.loads(json.dumps(virtualrun.run(client), sort_keys=True))
    return digest


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_the_scenario_did_what_it_claims(first: dict[str, Any]) -> None:
    assert first["ping"]["received"] == 3
    assert first["lossy"]["sha256_match"] and first["lossy"]["retransmits"] > 0
    assert first["fault"]["dropped_loss"] > 0 and first["fault"]["delayed"] > 0
    assert first["pcap_bytes"] > 300 * 16  # 300 records
    assert first["clean"]["sha256_match"] and first["clean"]["retransmits"] == 0
    assert first["counters"]["r1"]["stack"]["ip_forw_datagrams"] > 500


def test_two_runs_in_one_process_are_identical(client: LabClient, first: dict[str, Any]) -> None:
    again = json.loads(json.dumps(virtualrun.run(client), sort_keys=True))
    assert _differences(first, again) == []


@pytest.mark.parametrize("hash_seed", ["1", "4242"])
def test_runs_in_other_processes_are_identical(first: dict[str, Any], hash_seed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, "-m", "tests.virtualrun"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    other = json.loads(done.stdout.strip().splitlines()[-1])
    assert _differences(first, other) == []


def test_the_pure_and_the_compiled_build_give_identical_runs(first: dict[str, Any]) -> None:
    """``make test-compiled`` runs this against the compiled wheel and names the pure build's
    interpreter (the editable venv) in WIRELAB_OTHER_BUILD_PYTHON: the scenario there, pure
    (checked), must give the same frames, counters and results as here, compiled."""
    other = os.environ.get("WIRELAB_OTHER_BUILD_PYTHON")
    if os.environ.get("WIRELAB_EXPECT_COMPILED") != "1" or not other:
        pytest.skip("make test-compiled compares the compiled build with the pure one")
    script = (
        "import runpy, nodes.stack.tcp.engine as e; "
        "assert e.__file__.endswith('.py'), e.__file__; "
        "runpy.run_module('tests.virtualrun', run_name='__main__')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [other, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    pure = json.loads(done.stdout.strip().splitlines()[-1])
    assert _differences(first, pure) == []
