"""The bundled example topologies load, validate, plan and have the promised shapes."""

from __future__ import annotations

import re
from pathlib import Path

from topology import NodeKind, example_path, lab_to_dict, load_file, load_text
from topology.routes import forward_path


def kinds(name: str) -> dict[str, NodeKind]:
    return {n.name: n.kind for n in load_file(example_path(name)).nodes}


def test_all_six_examples_exist_and_load() -> None:
    for name in ("quickstart", "line4", "diamond", "lan", "mixed-linux", "linux-router"):
        lab = load_file(example_path(name))
        assert lab.name == name
        assert lab_to_dict(lab)["name"] == name


def test_quickstart_is_host_router_host() -> None:
    lab = load_file(example_path("quickstart"))
    assert kinds("quickstart") == {"h1": "host", "r1": "router", "h2": "host"}
    assert [tuple(m.node for m in link.members) for link in lab.links] == [
        ("h1", "r1"),
        ("r1", "h2"),
    ]
    assert {str(a) for a in lab.node("h2").apps} == {
        "http-server:80", "echo:7", "sink:5001", "udp-echo:7"
    }  # fmt: skip


def test_line4_has_four_routers_in_a_row() -> None:
    assert list(kinds("line4").values()).count(NodeKind.ROUTER) == 4
    assert len(load_file(example_path("line4")).links) == 5


def test_diamond_has_two_paths() -> None:
    lab = load_file(example_path("diamond"))
    r1_peers = {
        m.node for link in lab.links if any(m.node == "r1" for m in link.members)
        for m in link.members
    } - {"r1"}  # fmt: skip
    assert r1_peers == {"h1", "r2", "r3"}
    assert len(lab.faults) == 1


def test_lan_has_a_shared_segment() -> None:
    lab = load_file(example_path("lan"))
    (lan,) = lab.lans
    assert len(lan.members) == 4
    assert lab.interface(lan.members[0]).address.packed[-1] == 254


def test_mixed_linux_has_linux_peers() -> None:
    assert list(kinds("mixed-linux").values()).count(NodeKind.LINUX) == 2


def test_linux_router_routes_linux_hosts_and_our_host_through_the_kernel_router() -> None:
    lab = load_file(example_path("linux-router"))
    assert kinds("linux-router") == {"lx1": "linux", "lxr": "linux", "lx2": "linux", "h1": "host"}
    assert [n.name for n in lab.nodes if n.forwards] == ["lxr"]
    assert lab_to_dict(lab)["nodes"][1]["forward"] is True
    for dst in ("lx2", "h1"):
        address = lab.node(dst).interfaces[0].address
        assert forward_path(lab, "lx1", address) == ["lx1", "lxr", dst]
    lxr = {i.address for i in lab.node("lxr").interfaces}
    for end in ("lx1", "lx2", "h1"):
        (default,) = lab.node(end).routes
        assert default.is_default and default.via in lxr


def test_the_format_reference_in_the_readme_loads() -> None:
    text = (Path(__file__).resolve().parents[2] / "topology" / "README.md").read_text()
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match is not None
    lab = load_text(match.group(1), file="README.md")
    assert {f.target.kind.value for f in lab.faults} == {"endpoint", "link", "node", "partition"}
