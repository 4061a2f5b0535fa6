"""The CLI's RIP views on a sim lab: ``show LAB NODE rip`` and ``routes`` (table and
``--json``), ``validate`` listing who runs RIP, ``events --kind rip_route``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.client import LabClient
from tests.clilab import Runner, serving

TOPOLOGY = """name: riptest-cli
pool: 10.66.0.0/16
routing: rip
rip: {update: 1s, timeout: 4s, garbage: 3s}
nodes:
  h1: {kind: host}
  r1: {kind: router, rip: {poisoned_reverse: true}}
  r2: {kind: router}
  h2: {kind: host, routing: rip}
links:
  - endpoints: [h1, r1]
  - endpoints: [r1, r2]
  - endpoints: [r2, h2]
"""


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_show_rip_routes_and_validate(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with serving() as server, LabClient(server.address) as client:
        lab = client.deploy(yaml=TOPOLOGY, backend="sim")
        try:
            wl = Runner(server, capsys)
            far = ".".join(lab.address("h2").split(".")[:3]) + ".0/24"
            assert wait(lambda: any(r.prefix == far and r.kind == "rip"
                                    for r in lab.routes("r1")), 10.0)  # fmt: skip
            assert wait(lambda: lab.rip("r1").counters["rip_out_updates"] > 0, 5.0)
            r = wl.lab("show", lab.name, "r1", "rip", "--json")
            assert r.code == 0, r.err
            data = r.json()
            assert data["enabled"] and data["daemon"] == "wirelab" and data["poisoned_reverse"]
            assert data["update_s"] == 1 and data["timeout_s"] == 4 and data["garbage_s"] == 3
            assert [n["iface"] for n in data["neighbors"]] == ["eth1"]
            assert data["counters"]["rip_out_updates"] > 0
            assert {r["origin"] for r in data["routes"]} == {"connected", "rip"}
            shown = wl.lab("show", lab.name, "r1", "rip").out
            assert "RIPv2 (wirelab)" in shown and "poisoned reverse" in shown
            assert "NEIGHBOUR" in shown and far in shown
            r = wl.lab("show", lab.name, "r1", "routes", "--json")
            (learned,) = [e for e in r.json() if e["prefix"] == far]
            assert learned["kind"] == "rip" and learned["metric"] == 2
            assert learned["age_ms"] >= 0 and learned["learned_from"]
            table = wl.lab("show", lab.name, "r1", "routes").out
            assert "AGE" in table and "FROM" in table and "rip" in table
            listening = wl.lab("show", lab.name, "h2", "rip").out
            assert "listening only" in listening  # a host with routing: rip
            assert "not running" in wl.lab("show", lab.name, "h1", "rip").out
            # h2's link goes down at r2: r1 shows the route withdrawn (metric 16) until
            # garbage collection (3 s) deletes it
            lab.set_interface("r2", "eth1", up=False)

            def withdrawn() -> bool:
                return any(e.prefix == far and e.kind == "rip" and e.metric == 16
                           for e in lab.routes("r1"))  # fmt: skip

            assert wait(withdrawn, 4.0)
            assert "16 unreachable" in wl.lab("show", lab.name, "r1", "routes").out
            assert wait(lambda: all(e.prefix != far for e in lab.routes("r1")), 5.0)
        finally:
            lab.destroy()
    path = tmp_path / "rip.yaml"
    path.write_text(TOPOLOGY)
    r = wl("validate", str(path))
    assert r.code == 0, r.err
    assert "routing rip" in r.out and "rip (listens)" in r.out
    assert "update 1 s, timeout 4 s, garbage 3 s" in r.out
