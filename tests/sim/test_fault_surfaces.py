"""One fault, four surfaces (issue 10): the same fault written in a topology file's
timeline, on the command line, through the Python client and as a raw LabService request
ends up as the same node faults: the node reports identical specs (interface, direction,
match, effects, seed, duration) for all four."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from wirelab.v1 import common_pb2, lab_pb2, lab_pb2_grpc

from orchestrator.cli import main
from orchestrator.client import Lab, LabClient
from orchestrator.domain.jsonout import to_json
from orchestrator.service.server import LabServer, start_server

TOPOLOGY = """
name: surfaces
nodes:
  h1: {kind: host}
  r1: {kind: router}
  h2: {kind: host}
links:
  - endpoints: [h1:eth0, r1:eth0]
  - endpoints: [r1:eth1, h2:eth0]
faults:
  - at: 0s
    endpoint: r1:eth1
    loss: 5%
    delay: 20ms
    jitter: 2ms
    distribution: normal
    rate: 10mbit
    mtu: 1200
    direction: egress
    match: {protocol: tcp, dst: 10.0.0.0/8, dport: 5001}
    seed: 9
    duration: 5m
"""
CLI = ["--link", "r1:eth1", "--loss", "5%", "--delay", "20ms", "--jitter", "2ms",
       "--distribution", "normal", "--rate", "10mbit", "--mtu", "1200", "--direction", "egress",
       "--match", "tcp,dst=10.0.0.0/8,dport=5001", "--seed", "9", "--duration", "5m"]  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0")
    yield srv
    srv.stop(grace=0.2)


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Iterator[Lab]:
    with LabClient(server.address) as client:
        lab = client.deploy(yaml=TOPOLOGY, backend="sim")
        yield lab
        lab.destroy()


def node_specs(lab: Lab) -> dict[str, Any]:
    """Every fault installed on r1, by lab fault id: the node's own report of its spec."""
    return {f.fault_id.rsplit(".", 1)[0]: to_json(f.spec) for f in lab.counters("r1").faults}


def test_a_fault_from_yaml_cli_client_and_grpc_is_the_same_on_the_node(
    server: LabServer, lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    deadline = time.monotonic() + 5
    while not lab.faults():  # the timeline's fault, at 0 s after deploy
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (timeline,) = lab.faults()
    assert timeline.origin == "timeline"
    assert main(["fault", "add", lab.name, *CLI, "--id", "cli", "--server", server.address]) == 0
    capsys.readouterr()
    lab.add_fault(endpoint="r1:eth1", loss="5%", delay="20ms", jitter="2ms",
                  distribution="normal", rate="10mbit", mtu=1200, direction="egress",
                  match={"protocol": "tcp", "dst": "10.0.0.0/8", "dport": 5001}, seed=9,
                  duration="5m", fault_id="py")  # fmt: skip
    effects = common_pb2.FaultSpec(
        loss=0.05, delay_ms=20, jitter_ms=2, distribution=common_pb2.DELAY_DISTRIBUTION_NORMAL,
        mtu=1200, direction=common_pb2.DIRECTION_EGRESS, seed=9, duration_ms=300_000,
        match=common_pb2.Match(protocol="tcp", dst="10.0.0.0/8", dst_port=5001),
    )  # fmt: skip
    effects.rate.rate_bps = 10e6
    spec = lab_pb2.LabFaultSpec(target=lab_pb2.FaultTarget(endpoint="r1:eth1"),
                                effects=effects, fault_id="grpc")  # fmt: skip
    import grpc

    with grpc.insecure_channel(server.address) as channel:
        lab_pb2_grpc.LabServiceStub(channel).AddFault(
            lab_pb2.AddLabFaultRequest(lab=lab.name, fault=spec), timeout=10
        )
    specs = node_specs(lab)
    first = specs[timeline.fault_id]
    assert first["iface"] == "eth1" and first["direction"] == "egress"
    assert first["effects"]["mtu"] == 1200 and first["duration_s"] == 300.0
    assert specs["cli"] == specs["py"] == specs["grpc"] == first
    # and the node acts on all four alike: its interface MTU is the faults' 1200
    assert lab.status("r1").interfaces[1].mtu == 1200
