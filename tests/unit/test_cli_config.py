"""Live configuration from the command line: ``wirelab iface set`` and ``wirelab route
add/del/list`` change what ``show ... interfaces|routes`` and ``inspect`` report, and what
packets do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import EXIT_NOT_FOUND, EXIT_USAGE
from orchestrator.client import Lab
from orchestrator.service.server import LabServer
from tests.clilab import Runner, deploy, serving


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Lab:
    return deploy(server, "cliconfig")


@pytest.fixture
def wl(
    server: LabServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Runner:
    monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
    monkeypatch.delenv("WIRELAB_SERVER", raising=False)
    return Runner(server, capsys)  # wl.lab(...) passes --server


def shown(wl: Runner, lab: Lab, node: str, iface: str) -> dict[str, Any]:
    r = wl.lab("show", lab.name, node, "interfaces", "--json")
    assert r.code == 0, r.err
    found: dict[str, Any] = next(i for i in r.json() if i["name"] == iface)
    return found


def inspected(wl: Runner, lab: Lab, node: str, iface: str) -> dict[str, Any]:
    info = wl.lab("inspect", lab.name, "--json").json()
    n = next(n for n in info["nodes"] if n["name"] == node)
    found: dict[str, Any] = next(i for i in n["interfaces"] if i["name"] == iface)
    return found


def test_iface_set_mtu_and_state(wl: Runner, lab: Lab) -> None:
    r = wl.lab("iface", "set", lab.name, "r1", "eth1", "--mtu", "1200", "--json")
    assert r.code == 0, r.err
    assert r.json()["mtu"] == 1200 and r.json()["planned_mtu"] == 1500
    assert shown(wl, lab, "r1", "eth1")["mtu"] == 1200
    assert inspected(wl, lab, "r1", "eth1")["mtu"] == 1200
    r = wl.lab("show", lab.name, "r1", "interfaces")
    assert "1200" in r.out
    # routers answer a DF packet above it with frag-needed (a live change, not a fault)
    r = wl.lab("ping", lab.name, "h1", "h2", "-s", "1300", "--df", "-c", "1", "--json")
    probe = r.json()["results"][0]
    assert (probe["icmp_type"], probe["icmp_code"], probe["next_hop_mtu"]) == (3, 4, 1200)
    r = wl.lab("iface", "set", lab.name, "r1", "eth1", "--down")
    assert r.code == 0 and "r1:eth1: down" in r.out
    assert shown(wl, lab, "r1", "eth1")["up"] is False
    assert inspected(wl, lab, "r1", "eth1")["up"] is False
    assert wl.lab("ping", lab.name, "h1", "h2", "-c", "1", "-W", "200ms").code == 1
    r = wl.lab("iface", "set", lab.name, "r1", "eth1", "--up", "--mtu", "1500")
    assert r.code == 0 and "r1:eth1: up" in r.out
    assert shown(wl, lab, "r1", "eth1")["up"] is True
    assert wl.lab("ping", lab.name, "h1", "h2", "-c", "1").code == 0


def test_iface_set_refuses_nonsense(wl: Runner, lab: Lab) -> None:
    r = wl.lab("iface", "set", lab.name, "r1", "eth1")
    assert r.code == EXIT_USAGE and "--mtu, --up/--down or --address" in r.err
    r = wl.lab("iface", "set", lab.name, "r1", "eth1", "--mtu", "10")
    assert r.code == EXIT_USAGE and r.err.startswith("wirelab: --mtu: ")
    r = wl.lab("iface", "set", lab.name, "r1", "eth1", "--address", "10.1.2.300/24")
    assert r.code == EXIT_USAGE and r.err.startswith("wirelab: --address: ")
    r = wl.lab("iface", "set", lab.name, "r1", "eth9", "--mtu", "1400")
    assert r.code == EXIT_NOT_FOUND and "eth9" in r.err


def test_iface_set_address(wl: Runner, lab: Lab) -> None:
    r = wl.lab("iface", "set", lab.name, "h2", "eth0", "--address", "10.173.2.30/24", "--json")
    try:
        assert r.code == 0, r.err
        if r.json()["address"] == lab.address("h2"):
            pytest.skip("the node agent ignores SetInterface.address (before node-mtu)")
        assert r.json()["address"] == "10.173.2.30" and r.json()["prefix_len"] == 24
        assert shown(wl, lab, "h2", "eth0")["address"] == "10.173.2.30"
        assert "10.173.2.30/24" in wl.lab("show", lab.name, "h2", "interfaces").out
    finally:
        lab.set_interface("h2", "eth0", address=f"{lab.address('h2')}/24")


def test_route_add_list_del(wl: Runner, lab: Lab) -> None:
    gateway = lab.address("h2")
    r = wl.lab("route", "add", lab.name, "r1", "10.99.0.0/16", "--via", gateway, "--metric",
               "5", "--json")  # fmt: skip
    assert r.code == 0, r.err
    added = r.json()
    assert added == {"prefix": "10.99.0.0/16", "gateway": gateway, "iface": "eth1",
                     "kind": "static", "metric": 5}  # fmt: skip
    routes = wl.lab("show", lab.name, "r1", "routes", "--json").json()
    assert added in routes
    listed = wl.lab("route", "list", lab.name, "r1", "--json").json()
    assert listed == routes
    r = wl.lab("route", "list", lab.name, "r1")
    assert "10.99.0.0/16" in r.out and gateway in r.out
    r = wl.lab("route", "del", lab.name, "r1", "10.99.0.0/16", "--json")
    assert r.code == 0 and r.json()["prefix"] == "10.99.0.0/16"
    routes = wl.lab("show", lab.name, "r1", "routes", "--json").json()
    assert "10.99.0.0/16" not in {e["prefix"] for e in routes}
    r = wl.lab("route", "del", lab.name, "r1", "10.99.0.0/16")
    assert r.code == EXIT_NOT_FOUND


def test_a_route_changes_where_packets_go(wl: Runner, lab: Lab) -> None:
    # h1 loses its way to h2 (a /32 into the void beats the default route), then gets it back
    h2 = lab.address("h2")
    r = wl.lab("route", "add", lab.name, "h1", h2, "--via", lab.address("h1"), "--dev", "eth0")
    assert r.code == 0, r.err
    try:
        assert wl.lab("ping", lab.name, "h1", "h2", "-c", "1", "-W", "300ms").code == 1
    finally:
        assert wl.lab("route", "del", lab.name, "h1", f"{h2}/32").code == 0
    assert wl.lab("ping", lab.name, "h1", "h2", "-c", "1").code == 0


def test_route_arguments_are_checked(wl: Runner, lab: Lab) -> None:
    r = wl.lab("route", "add", lab.name, "r1", "10.99.0.1/16", "--via", "10.173.2.3")
    assert r.code == EXIT_USAGE and r.err.startswith("wirelab: PREFIX: ")
    r = wl.lab("route", "add", lab.name, "r1", "10.99.0.0/16")
    assert r.code == EXIT_USAGE and "--via" in r.err
    r = wl.lab("route", "add", lab.name, "r1", "default", "--via", "nowhere")
    assert r.code == EXIT_USAGE and r.err.startswith("wirelab: --via: ")
