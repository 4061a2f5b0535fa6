"""Your code on our stack, through the LabService on the sim backend: the kvstore example
(topology/examples/kvstore.yaml, its ./code folder) across h1 - r1 - h2, user apps started
and stopped by module:factory with arguments, a crashing app reported, a code folder's
module re-imported after an edit, and the forward relay from the loopback onto our TCP."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.client import (
    FailedPrecondition,
    InvalidArgument,
    Lab,
    LabClient,
)
from orchestrator.domain.results import AppInfo
from orchestrator.service.server import LabServer, start_server

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0")
    try:
        yield srv
    finally:
        srv.stop(grace=0.2)


@pytest.fixture(scope="module")
def client(server: LabServer) -> Iterator[LabClient]:
    with LabClient(server.address) as c:
        yield c


@pytest.fixture(scope="module")
def kv(client: LabClient) -> Iterator[Lab]:
    lab = client.deploy(str(EXAMPLES / "kvstore.yaml"), name="appstest-kv", backend="sim")
    try:
        yield lab
    finally:
        lab.destroy()


def app(lab: Lab, node: str, app_id: str) -> AppInfo:
    for info in lab.apps(node)[node]:
        if info.app_id == app_id:
            return info
    raise KeyError(app_id)


def wait(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def test_the_kvstore_example_runs_at_deploy(kv: Lab) -> None:
    wait(lambda: app(kv, "h1", "kvstore:load").state == "finished")
    load = app(kv, "h1", "kvstore:load")
    assert load.stats["ok"] == 400 and load.stats["bad"] == 0 and load.error == ""
    assert load.stats["rtt_us_max"] > 0
    serve = app(kv, "h2", "kvstore:serve:7000")
    assert serve.state == "running" and serve.running and serve.port == 7000
    assert serve.stats["connections"] >= 1 and serve.stats["requests"] >= 401  # + QUIT
    assert serve.stats["accepted"] == serve.stats["connections"]
    info = kv.refresh()
    assert info.node("h2").apps == ("kvstore:serve:7000",)
    assert info.node("h1").container == "" and info.engine == ""  # sim: no containers


def test_a_finished_app_starts_again_with_new_arguments(kv: Lab) -> None:
    wait(lambda: app(kv, "h1", "kvstore:load").state == "finished")
    started = kv.start_app("h1", "kvstore:load", args={"server": "h2", "port": 7000, "requests": 7})
    assert started.app_id == "kvstore:load" and started.state in ("running", "finished")
    wait(lambda: app(kv, "h1", "kvstore:load").state == "finished")
    assert app(kv, "h1", "kvstore:load").stats["ok"] == 14


def test_unknown_modules_and_factories_are_named(kv: Lab) -> None:
    with pytest.raises(FailedPrecondition, match=r"cannot import nosuch\.mod.*code folder"):
        kv.start_app("h1", "nosuch.mod:make")
    with pytest.raises(FailedPrecondition, match=r"kvstore has no 'nope' \(it defines .*serve"):
        kv.start_app("h1", "kvstore:nope")
    with pytest.raises(InvalidArgument, match="module:factory"):
        kv.start_app("h1", "not an app")
    with pytest.raises(InvalidArgument, match="apply to forward and your own apps, not echo"):
        kv.start_app("h1", "echo", 7007, args={"x": 1})


def test_the_forward_relay_carries_a_kernel_client_over_our_tcp(kv: Lab) -> None:
    with socket.socket() as probe:  # a free loopback port on this machine (sim: the server's)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    info = kv.forward("h1", "h2:eth0:7000", local_port=port)
    assert info.app_id == f"forward:{port}" and info.kind == "forward"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"SET relay yes\nGET relay\n")
            got = b""
            while got.count(b"\n") < 2:
                chunk = conn.recv(4096)
                assert chunk, got
                got += chunk
            ours = [  # h1's side of the relay is a connection of our stack
                c for c in kv.connections("h1").connections
                if (c.remote_address, c.remote_port) == (kv.address("h2"), 7000)
            ]  # fmt: skip
            assert [c.state for c in ours].count("ESTABLISHED") == 1  # (loads: TIME_WAIT)
            conn.sendall(b"QUIT\n")
            while got.count(b"\n") < 3:
                chunk = conn.recv(4096)
                assert chunk, got
                got += chunk
        assert got == b"OK\nVALUE yes\nBYE\n"
        wait(lambda: app(kv, "h1", f"forward:{port}").stats.get("bytes_in", 0) == len(got))
        stats = app(kv, "h1", f"forward:{port}").stats
        assert stats["connections"] == 1 and stats["bytes_out"] == len(b"SET relay yes\n") + len(
            b"GET relay\nQUIT\n"
        )
        assert stats["connect_failures"] == 0
    finally:
        stopped = kv.stop_app("h1", f"forward:{port}")
    assert stopped.state == "stopped" and not stopped.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(InvalidArgument, match="neither a node"):
        kv.forward("h1", "nowhere:80")


CRASHY = """
import asyncio

async def crash(ctx):
    ctx.count("before")
    await asyncio.sleep(0.05)
    raise ValueError("boom")

def version(ctx):
    ctx.count("v1")
    return None
"""


def test_a_code_folder_app_that_crashes_is_reported_and_an_edit_is_picked_up(
    client: LabClient, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "crashy.py").write_text(CRASHY)
    yaml = (
        "name: appstest-crash\ncode: code\nnodes:\n  h1: {kind: host}\n  h2: {kind: host}\n"
        "links:\n  - endpoints: [h1:eth0, h2:eth0]\n"
    )
    lab = client.deploy(yaml=yaml, backend="sim", base_dir=tmp_path)
    try:
        lab.start_app("h1", "crashy:crash")
        wait(lambda: app(lab, "h1", "crashy:crash").state == "failed")
        failed = app(lab, "h1", "crashy:crash")
        assert failed.error.startswith("a task raised: ValueError: boom (")
        assert "crashy.py:7)" in failed.error
        assert failed.stats["before"] == 1 and failed.stats["errors"] == 1
        assert "crashy:crash" not in lab.status("h1").apps  # a failed app is not alive
        lab.ping("h1", "h2", count=1)  # the node goes on

        assert lab.start_app("h1", "crashy:version").state == "running"
        assert app(lab, "h1", "crashy:version").stats["v1"] == 1
        lab.stop_app("h1", "crashy:version")
        (code / "crashy.py").write_text(CRASHY.replace('"v1"', '"v2"'))
        lab.start_app("h1", "crashy:version")  # imported afresh from the folder
        assert app(lab, "h1", "crashy:version").stats == {"v2": 1, "errors": 0}
    finally:
        lab.destroy()


def test_a_missing_code_folder_is_refused_at_deploy(client: LabClient, tmp_path: Path) -> None:
    yaml = "name: appstest-nocode\ncode: ./absent\nnodes:\n  h1: {kind: host}\n"
    with pytest.raises(InvalidArgument, match=r"code folder './absent' is not a folder"):
        client.deploy(yaml=yaml, backend="sim", base_dir=tmp_path)


def test_the_kvstore_example_runs_in_virtual_time_alike_twice(client: LabClient) -> None:
    """User apps and their asyncio loops on the virtual backend: the load finishes as lab
    time passes, with the same figures (round trips included) on a second lab."""
    figures = []
    for run in range(2):
        lab = client.deploy(str(EXAMPLES / "kvstore.yaml"), name=f"appstest-kvv{run}",
                            backend="virtual", seed=3)  # fmt: skip
        try:
            for _ in range(60):
                if app(lab, "h1", "kvstore:load").state == "finished":
                    break
                lab.wait("1s")
            load = app(lab, "h1", "kvstore:load")
            assert load.state == "finished" and load.stats["ok"] == 400, load
            figures.append((dict(load.stats), dict(app(lab, "h2", "kvstore:serve:7000").stats)))
        finally:
            lab.destroy()
    assert figures[0] == figures[1]
