"""``wirelab fault``: add/list/clear with every effect through the one unit parser, errors
naming the option, partitions and node actions, the MTU fault (the interface MTU in
force, a router's frag-needed), and the same fault from the CLI and from the Python client
ending up as the same node faults."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import EXIT_NOT_FOUND, EXIT_USAGE
from orchestrator.client import Lab
from orchestrator.domain.errors import InvalidArgument
from orchestrator.domain.jsonout import to_json
from orchestrator.service.server import LabServer
from tests.clilab import MTU_FAULTS_MISSING, Runner, deploy, serving


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Lab:
    return deploy(server, "clifaults")


@pytest.fixture
def wl(
    server: LabServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    lab: Lab,
) -> Iterator[Runner]:
    monkeypatch.setenv("WIRELAB_SERVER", server.address)
    monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
    yield Runner(server, capsys)
    lab.clear_faults()


def interface(info: dict[str, Any], node: str, iface: str) -> dict[str, Any]:
    n = next(n for n in info["nodes"] if n["name"] == node)
    found: dict[str, Any] = next(i for i in n["interfaces"] if i["name"] == iface)
    return found


def test_fault_add_list_clear(wl: Runner, lab: Lab) -> None:
    r = wl("fault", "add", lab.name, "--link", "r1:eth1", "--loss", "20%", "--delay", "1ms",
           "--seed", "5", "--direction", "egress", "--json")  # fmt: skip
    assert r.code == 0, r.err
    fault = r.json()
    effects = fault["request"]["effects"]
    assert effects == {"loss": pytest.approx(0.2), "delay_s": pytest.approx(0.001)}
    assert fault["request"]["target"] == {"kind": "endpoint", "node": "r1", "iface": "eth1"}
    assert fault["request"]["direction"] == "egress" and fault["state"] == "active"
    assert fault["seed"] == 5 and fault["origin"] == "api"
    wl("ping", lab.name, "h1", "h2", "-c", "10", "-i", "5ms", "-W", "200ms")
    r = wl("fault", "list", lab.name, "--json")
    listed = {f["fault_id"]: f for f in r.json()}
    mine = listed[fault["fault_id"]]
    assert mine["counters"]["seen"] >= 10 and isinstance(mine["counters"]["seen"], int)
    assert mine["parts"][0]["first_hit_ms"] >= 0
    r = wl("fault", "list", lab.name)
    assert r.code == 0 and "loss=20%" in r.out and "FIRST HIT" in r.out
    row = next(line for line in r.out.splitlines() if line.startswith(fault["fault_id"]))
    assert re.search(r" \d+\.\dms ", row)  # when it first acted on a frame
    r = wl("fault", "clear", lab.name, fault["fault_id"], "--json")
    assert r.code == 0 and r.json()[0]["state"] == "cleared"
    assert wl("fault", "clear", lab.name, "nope").code == EXIT_NOT_FOUND
    assert wl("fault", "clear", lab.name).code == EXIT_USAGE
    r = wl("fault", "list", lab.name, "--active", "--json")
    assert r.code == 0 and r.json() == []


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--link", "r1:eth1", "--loss", "150%"], "--loss"),
        (["--link", "r1:eth1", "--delay", "10 parsecs"], "--delay"),
        (["--link", "r1:eth1", "--rate", "fast"], "--rate"),
        (["--link", "r1:eth1", "--ge", "1%,2%,3%,4%,5%"], "--ge"),
        (["--link", "r1:eth1", "--loss", "1%", "--ge", "1%,10%"], "--ge"),
        (["--link", "r1:eth1", "--loss", "1%", "--match", "tcp,port=80"], "--match"),
        (["--link", "r1:eth1", "--loss", "1%", "--match", "tcp,dport=99999"], "--match"),
        (["--link", "r1:eth1", "--mtu", "20"], "--mtu"),
        (["--link", "r1:eth1", "--blackhole-mtu", "70000"], "--blackhole-mtu"),
        (["--link", "r1:eth1", "--loss", "1%", "--duration", "-1s"], "--duration"),
        (["--link", "r1:eth1", "--loss", "1%", "--id", "bad id"], "--id"),
        (["--link", "r1:eth1"], "effects"),
        (["--loss", "1%"], "--link/--node"),
        (["--link", "r1:eth1", "--node", "r1", "--loss", "1%"], "--link/--node"),
    ],
)
def test_fault_values_are_checked_by_the_one_parser(
    wl: Runner, lab: Lab, argv: list[str], option: str
) -> None:
    r = wl("fault", "add", lab.name, *argv)
    assert r.code == EXIT_USAGE, r
    assert r.err.startswith(f"wirelab: {option}: "), r.err
    assert len(r.err.splitlines()) == 1 and "Traceback" not in r.err


def test_fault_add_takes_every_effect(wl: Runner, lab: Lab) -> None:
    r = wl("fault", "add", lab.name, "--link", "r1-h2", "--ge", "1%,30%", "--delay", "5ms",
           "--jitter", "1ms", "--distribution", "normal", "--duplicate", "1%", "--corrupt",
           "0.5%", "--reorder", "2%", "--rate", "50mbit", "--blackhole-mtu", "1400",
           "--direction", "ingress", "--match", "tcp,dport=5001", "--duration", "1m",
           "--id", "every", "--json")  # fmt: skip
    assert r.code == 0, r.err
    fault = r.json()
    assert fault["fault_id"] == "every" and fault["remaining_ms"] > 0
    assert fault["request"]["effects"] == {
        "gilbert_elliott": {"p": 0.01, "r": 0.3},
        "delay_s": 0.005,
        "jitter_s": 0.001,
        "distribution": "normal",
        "duplicate": 0.01,
        "corrupt": 0.005,
        "reorder": 0.02,
        "rate": {"rate_bps": 50_000_000.0},
        "blackhole_mtu": 1400,
    }
    assert fault["request"]["match"] == {"protocol": "tcp", "dport": 5001}
    assert fault["request"]["duration_s"] == 60.0
    assert sorted(p["node"] for p in fault["parts"]) == ["h2", "r1"]  # the link's two ends
    r = wl("fault", "add", lab.name, "--node", "h1", "--down", "--duration", "100ms")
    assert r.code == 0 and "node h1: down for 100ms" in r.out


def test_partition_and_node_commands(wl: Runner, lab: Lab) -> None:
    r = wl("fault", "partition", lab.name, "h1", "r1,h2", "--duration", "5s", "--json")
    assert r.code == 0, r.err
    target = r.json()["request"]["target"]
    assert target == {"kind": "partition", "groups": [["h1"], ["r1", "h2"]]}
    r = wl("ping", lab.name, "h1", "h2", "-c", "1", "-W", "200ms")
    assert r.code == 1  # no reply
    assert wl("fault", "clear", lab.name, "--all").code == 0
    r = wl("fault", "partition", lab.name, "h1")
    assert r.code == EXIT_USAGE and "GROUP" in r.err
    r = wl("fault", "node", lab.name, "r1", "restart", "--json")
    if r.code == 0:
        assert r.json()["state"] == "running" and r.json()["node"] == "r1"
    else:  # a backend without node actions says so
        assert r.code == 1 and "action" in r.err
    assert wl("fault", "node", lab.name, "r1", "explode").code == EXIT_USAGE
    r = wl("fault", "node", lab.name, "r1", "restart", "--duration", "1s")
    assert r.code == EXIT_USAGE and "--duration" in r.err


def _specs(faults: list[dict[str, Any]], fault_id: str) -> list[Any]:
    fault = next(f for f in faults if f["fault_id"] == fault_id)
    return sorted(((p["node"], p["spec"]) for p in fault["parts"]), key=_where)


def _where(part: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    return part[0], part[1]["iface"]


def test_the_same_fault_from_the_cli_and_the_client_makes_the_same_node_faults(
    wl: Runner, lab: Lab
) -> None:
    cli = ["--loss", "5%", "--delay", "20ms", "--jitter", "2ms", "--distribution", "normal",
           "--match", "tcp,dst=10.0.0.0/8,dport=5001", "--direction", "egress", "--seed", "9",
           "--duration", "30s"]  # fmt: skip
    assert wl("fault", "add", lab.name, "--link", "r1:eth1", *cli, "--id", "cli").code == 0
    lab.add_fault(endpoint="r1:eth1", loss="5%", delay="20ms", jitter="2ms",
                  distribution="normal", match="tcp,dst=10.0.0.0/8,dport=5001",
                  direction="egress", seed=9, duration="30s", fault_id="py")  # fmt: skip
    # a whole link, the black hole and a rate limit
    cli2 = ["--link", "r1-h2", "--blackhole-mtu", "1200", "--rate", "10mbit", "--seed", "3"]
    assert wl("fault", "add", lab.name, *cli2, "--id", "cli2").code == 0
    lab.add_fault(link="r1-h2", blackhole_mtu=1200, rate="10mbit", seed=3, fault_id="py2")
    listed = wl("fault", "list", lab.name, "--json").json()
    for cli_id, py_id, parts in (("cli", "py", 1), ("cli2", "py2", 2)):
        from_cli, from_py = _specs(listed, cli_id), _specs(listed, py_id)
        assert len(from_cli) == parts and from_cli == from_py
        client_view = sorted(
            ((p.node, to_json(p.spec)) for p in lab.fault(py_id).parts), key=_where
        )
        assert client_view == from_cli
        counters = lab.counters("r1").faults  # installed on the node, spec for spec
        on_r1 = {f.fault_id.rsplit(".", 1)[0]: to_json(f.spec) for f in counters}
        assert on_r1[cli_id] == on_r1[py_id]


def test_an_mtu_fault_lowers_the_interface_mtu_and_routers_say_frag_needed(
    wl: Runner, lab: Lab
) -> None:
    r = wl("fault", "add", lab.name, "--link", "r1:eth1", "--mtu", "1000", "--json")
    if r.code == EXIT_USAGE and MTU_FAULTS_MISSING in r.err:
        pytest.skip(f"the node has no MTU faults yet ({r.err.strip()})")
    assert r.code == 0, r.err
    fault = r.json()
    assert fault["request"]["effects"] == {"mtu": 1000}
    eth1 = interface(wl("inspect", lab.name, "--json").json(), "r1", "eth1")
    assert eth1["mtu"] == 1000 and eth1["planned_mtu"] == 1500
    assert "1000 (planned 1500)" in wl("inspect", lab.name).out
    r = wl("ping", lab.name, "h1", "h2", "-s", "1200", "--df", "-c", "1", "--json")
    probe = r.json()["results"][0]
    assert r.code == 1 and (probe["icmp_type"], probe["icmp_code"]) == (3, 4)
    assert probe["next_hop_mtu"] == 1000 and probe["source"] == lab.address("r1")
    r = wl("ping", lab.name, "h1", "h2", "-s", "1200", "--df", "-c", "1")
    assert "Frag needed and DF set (next-hop MTU 1000)" in r.out
    assert wl("fault", "clear", lab.name, fault["fault_id"]).code == 0
    eth1 = interface(wl("inspect", lab.name, "--json").json(), "r1", "eth1")
    assert eth1["mtu"] == 1500  # its MTU back


def test_a_blackhole_mtu_drops_big_frames_silently(wl: Runner, lab: Lab) -> None:
    r = wl("fault", "add", lab.name, "--link", "r1:eth1", "--blackhole-mtu", "1000", "--json")
    assert r.code == 0, r.err
    fault_id = r.json()["fault_id"]
    r = wl("ping", lab.name, "h1", "h2", "-s", "1200", "--df", "-c", "1", "-W", "300ms", "--json")
    assert r.code == 1 and r.json()["results"][0].get("icmp_type") is None  # nothing came back
    assert wl("ping", lab.name, "h1", "h2", "-c", "1").code == 0  # small ones pass
    counters = next(f for f in wl("fault", "list", lab.name, "--json").json()
                    if f["fault_id"] == fault_id)["counters"]  # fmt: skip
    assert counters["dropped_blackhole"] >= 1


def test_invalid_arguments_from_the_client_are_the_same_errors(lab: Lab) -> None:
    with pytest.raises(InvalidArgument, match="loss"):
        lab.add_fault(endpoint="r1:eth1", loss="150%")
