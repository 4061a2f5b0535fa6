"""The virtual backend end to end: a LabService on 127.0.0.1, labs deployed with
``backend="virtual"`` and driven with the typed client only. Durations are virtual: a
link's delay and rate show exactly in ping times and transfer durations, whatever the CPU
is doing, and the fault timeline plays out as lab time is let pass."""

from __future__ import annotations

import json
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client import FailedPrecondition, Lab, LabClient, LabError
from orchestrator.service.server import LabServer, start_server
from tests.clilab import Runner

TIMELINE = """
name: vtimeline
nodes:
  h1: {kind: host}
  r1: {kind: router}
  h2: {kind: host, apps: [sink:5001]}
links:
  - endpoints: [h1, r1]
    delay: 10ms
  - endpoints: [r1, h2]
    delay: 10ms
    rate: 20mbit
faults:
  - {at: 2s, endpoint: r1:eth1, loss: 100%, duration: 3s, seed: 1}
  - {at: 10s, node: r1, action: stop, duration: 2s}
"""


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
def wan(client: LabClient) -> Iterator[Lab]:
    lab = client.deploy("wan", backend="virtual", seed=5)
    yield lab
    lab.destroy()


def test_the_lab_runs_on_the_virtual_backend(wan: Lab) -> None:
    info = wan.refresh()
    assert info.backend == "virtual" and info.state == "running"
    assert {n.agent for n in info.nodes} == {f"virtual:wan/{n}" for n in ("home", "r1", "server")}


def test_ping_times_are_the_links_delays_exactly(wan: Lab) -> None:
    report = wan.ping("home", "server", count=4)
    assert report.received == 4
    rtts = [p.rtt_ms for p in report.results[1:]]  # the first one also resolves ARP
    # 2 x (5 ms + 20 ms) of propagation (an idle rate-limited link sends a lone frame at
    # once): the same to the nanosecond every time, whatever the CPU does
    assert all(r is not None and r == pytest.approx(50.0, abs=1e-6) for r in rtts)
    assert len({round(r or 0.0, 9) for r in rtts}) == 1


def test_a_transfer_takes_the_virtual_time_the_link_rate_implies(wan: Lab) -> None:
    result = wan.transfer("server", "home", size="1MB")
    assert result.sha256_match and result.bytes == 1_000_000
    # 10 Mbit/s bottleneck: at least 0.8 s for the payload alone, plus slow start
    assert 0.8 < result.seconds < 3.0
    assert 0.3e7 < result.goodput_bps < 1e7


def test_traceroute_sees_each_hop_at_its_delay(wan: Lab) -> None:
    report = wan.traceroute("home", "server", probes=1)
    assert report.reached
    assert [h.responder for h in report.hops] == [wan.address("r1"), wan.address("server")]
    first = report.hops[0].probes[0].rtt_ms
    assert first == pytest.approx(10.0, abs=1e-6)  # 2 x 5 ms on the access line


def test_show_views_answer(wan: Lab) -> None:
    status = wan.status("r1")
    assert status.ready and [i.name for i in status.interfaces] == ["eth0", "eth1"]
    assert any(r.prefix.startswith("0.0.0.0") or r.kind for r in wan.routes("home"))
    assert wan.arp("home")  # resolved by the pings above
    counters = wan.counters("r1")
    assert counters.stack["ip_forw_datagrams"] > 0
    assert wan.connections("server") is not None


def test_capture_records_frames_with_virtual_timestamps(wan: Lab) -> None:
    chunks = wan.capture_stream("home", "eth0", max_packets=4)
    header = next(chunks)
    assert struct.unpack("<I", header.data[:4])[0] == 0xA1B2C3D4
    before = wan.wait(0)
    done = threading.Event()

    def ping() -> None:
        wan.ping("home", "server", count=2)
        done.set()

    thread = threading.Thread(target=ping)
    thread.start()
    data = b"".join(c.data for c in chunks)
    thread.join(30)
    assert done.is_set()
    stamps = []
    offset = 0
    while offset < len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, offset)
        stamps.append(sec + usec / 1e6)
        offset += 16 + incl
    assert len(stamps) == 4
    # virtual seconds since the lab began, not the wall clock (1970 + minutes)
    assert all(before - 0.001 <= s < before + 5.0 for s in stamps)


def test_wait_moves_the_lab_clock_by_exactly_the_duration(wan: Lab) -> None:
    t0 = wan.wait(0)
    t1 = wan.wait("1.5s")
    assert t1 - t0 == pytest.approx(1.5, abs=1e-9)


def test_node_actions_kill_pause_and_start(wan: Lab) -> None:
    wan.node_action("r1", "kill")
    with pytest.raises(LabError) as info:
        wan.status("r1")
    assert type(info.value).__name__ == "Unavailable"
    assert wan.ping("home", "server", count=1, wait="500ms").received == 0
    wan.node_action("r1", "start")  # unconfigured again, configured by the service
    assert wan.ping("home", "server", count=2).received == 2
    wan.node_action("r1", "pause")
    with pytest.raises(LabError):
        wan.status("r1")
    assert wan.ping("home", "server", count=1, wait="500ms").received == 0
    wan.node_action("r1", "unpause")
    assert wan.ping("home", "server", count=2).received == 2


def test_the_fault_timeline_plays_out_in_lab_time(client: LabClient) -> None:
    lab = client.deploy(yaml=TIMELINE, backend="virtual")
    try:
        assert lab.ping("h1", "h2", count=2).received == 2  # before t=2 s
        assert lab.faults() == []
        lab.wait(max(0.0, 2.5 - lab.wait(0)))
        assert [f.origin for f in lab.faults()] == ["timeline"]
        assert lab.ping("h1", "h2", count=2, wait="300ms").received == 0
        lab.wait(3.0)  # the loss fault's 3 s are over (the node owns its deadline)
        assert lab.ping("h1", "h2", count=2).received == 2
        lab.wait(max(0.0, 10.5 - lab.wait(0)))
        assert lab.refresh().nodes[1].state == "exited"  # r1 stopped at t=10 s ...
        lab.wait(2.0)
        assert lab.refresh().nodes[1].state == "running"  # ... and started at t=12 s
        assert lab.ping("h1", "h2", count=2).received == 2
    finally:
        lab.destroy()


def test_linux_nodes_are_refused_by_name(client: LabClient) -> None:
    with pytest.raises(FailedPrecondition) as info:
        client.deploy("linux-router", backend="virtual")
    message = str(info.value)
    assert "lx1, lxr, lx2" in message and "virtual" in message and "docker" in message


def test_the_cli_deploys_waits_and_replays_a_virtual_journal_identically(
    server: LabServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("WIRELAB_SERVER", server.address)
    monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
    monkeypatch.delenv("WIRELAB_TOKEN", raising=False)
    wl = Runner(server, capsys)
    r = wl.lab("deploy", "wan", "--name", "vcli", "--backend", "virtual", "--seed", "3", "--json")
    assert r.code == 0, r.err
    assert r.json()["backend"] == "virtual"
    r = wl("wait", "vcli", "2.5s", "--json")
    assert r.code == 0 and r.json()["lab_time_s"] == pytest.approx(2.5, abs=1e-9)
    assert wl("ping", "vcli", "home", "server", "-c", "2").code == 0
    assert wl("fault", "add", "vcli", "--link", "r1:eth1", "--loss", "20%", "--seed", "4").code == 0
    assert wl("ping", "vcli", "home", "server", "-c", "5").code in (0, 1)
    out = tmp_path / "run.jsonl"
    assert wl("journal", "vcli", "-o", str(out)).code == 0
    header, *lines = out.read_text().splitlines()
    assert json.loads(header)["clock"] == "virtual"
    ops = [json.loads(line).get("op") for line in lines]
    assert ops[0] == "Wait" and "Ping" in ops and "AddFault" in ops
    assert wl("destroy", "vcli").code == 0
    r = wl("replay", str(out), "--json")
    assert r.code == 0, r.out[-2000:]
    replay = r.json()
    assert replay["backend"] == "virtual" and replay["differ"] == 0
    assert replay["same"] == len(ops)


def test_wait_on_a_real_time_lab_sleeps_and_a_bad_duration_is_refused(
    client: LabClient, wan: Lab
) -> None:
    from orchestrator.client import InvalidArgument

    lab = client.deploy("quickstart", backend="sim", name="vwait-sim")
    try:
        before = lab.wait(0)
        started = time.monotonic()
        after = lab.wait("300ms")
        assert time.monotonic() - started >= 0.3 and after - before >= 0.3
    finally:
        lab.destroy()
    with pytest.raises(InvalidArgument, match="duration"):
        wan.client.wire.wait("wan", -1.0, 5.0)
