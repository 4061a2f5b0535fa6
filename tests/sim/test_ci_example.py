"""A CI-shaped example: network-fault tests of the kind a team keeps in CI, on the bundled
``wan`` topology (a home on a 1/16 Mbit/s access line, 5 ms; a server 20 ms away behind
10 Mbit/s with CoDel), in virtual time. The README shows this module.

Each test is one scenario; ``test_ten_runs_give_identical_results`` runs them all ten
times on fresh labs and checks that every number came out the same each time: no flaky
timing, no retries, no sleeps. The whole module takes a few seconds of wall time for
about a minute of lab time.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.client import Lab, LabClient
from orchestrator.domain.jsonout import to_json

pytestmark = pytest.mark.wirelab_topology("wan", backend="virtual", seed=7)


# ---- the scenarios (each returns what it measured) ---------------------------------------
def baseline(lab: Lab) -> dict[str, Any]:
    ping = lab.ping("home", "server", count=3)
    upload = lab.transfer("home", "server", size="100KB")
    return {"ping": to_json(ping), "upload": to_json(upload)}


def lossy_wan(lab: Lab) -> dict[str, Any]:
    fault = lab.add_fault(endpoint="r1:eth1", loss="5%", seed=1)
    result = lab.transfer("server", "home", size="300KB")
    counters = lab.fault_counters(fault.fault_id)
    lab.clear_fault(fault.fault_id)
    return {"transfer": to_json(result), "fault": to_json(counters)}


def latency_spike(lab: Lab) -> dict[str, Any]:
    fault = lab.add_fault(link="r1:eth1", delay="100ms", jitter="10ms", seed=2)
    ping = lab.ping("home", "server", count=3)
    result = lab.transfer("server", "home", size="200KB")
    lab.clear_fault(fault.fault_id)
    return {"ping": to_json(ping), "transfer": to_json(result)}


def partition_heals(lab: Lab) -> dict[str, Any]:
    lab.partition(["home"], ["r1", "server"], duration="2s")
    during = lab.ping("home", "server", count=2, wait="200ms")
    lab.wait("2s")  # the node agents end the partition when its 2 s are over
    after = lab.ping("home", "server", count=2)
    return {"during": during.received, "after": after.received}


def router_restart(lab: Lab) -> dict[str, Any]:
    lab.node_action("r1", "restart")
    ping = lab.ping("home", "server", count=3)
    result = lab.transfer("server", "home", size="100KB")
    return {"ping": to_json(ping), "transfer": to_json(result)}


SCENARIOS = (baseline, lossy_wan, latency_spike, partition_heals, router_restart)


# ---- the tests a CI job runs ----------------------------------------------------------------
def test_baseline_rtt_and_upload(wirelab_lab: Lab) -> None:
    out = baseline(wirelab_lab)
    rtts = [p["rtt_ms"] for p in out["ping"]["results"][1:]]
    assert rtts == [pytest.approx(50.0, abs=1e-6)] * 2  # 2 x (5 + 20) ms, exactly
    upload = out["upload"]
    assert upload["sha256_match"]
    assert upload["goodput_bps"] < 1e6  # the 1 Mbit/s upload line is the bottleneck


def test_transfer_survives_5_percent_loss(wirelab_lab: Lab) -> None:
    out = lossy_wan(wirelab_lab)
    assert out["transfer"]["sha256_match"]
    assert out["transfer"]["retransmits"] > 0
    assert out["fault"]["dropped_loss"] > 0


def test_latency_spike_shows_in_rtt_and_slows_the_transfer(wirelab_lab: Lab) -> None:
    clean = wirelab_lab.transfer("server", "home", size="200KB")
    out = latency_spike(wirelab_lab)
    assert out["ping"]["rtt_min_ms"] >= 140.0  # 50 ms + 2 x (100 +- 10) ms
    assert out["transfer"]["sha256_match"]
    assert out["transfer"]["seconds"] > clean.seconds


def test_partition_blocks_then_heals(wirelab_lab: Lab) -> None:
    assert partition_heals(wirelab_lab) == {"during": 0, "after": 2}


def test_router_restart_recovers(wirelab_lab: Lab) -> None:
    out = router_restart(wirelab_lab)
    assert out["ping"]["received"] == 3
    assert out["transfer"]["sha256_match"]


def test_ten_runs_give_identical_results(
    request: pytest.FixtureRequest, wirelab_client: LabClient
) -> None:
    if request.config.getoption("--wirelab-backend") not in (None, "virtual"):
        pytest.skip("identical results are the virtual backend's promise")
    digests = []
    for _ in range(10):
        lab = wirelab_client.deploy("wan", backend="virtual", name="ci-run", seed=7)
        try:
            digest = {s.__name__: s(lab) for s in SCENARIOS}
        finally:
            lab.destroy()
        digests.append(json.dumps(digest, sort_keys=True))
    assert digests[0].count('"sha256_match": true') == 4
    assert all(d == digests[0] for d in digests), "a run differed"
