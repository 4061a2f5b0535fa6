"""Linux-kind node set-up: devices found by address, the commands, the verification."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

import topology
from orchestrator.lab import linuxnode
from orchestrator.lab.linuxnode import LinuxNodeError
from topology import Node


def lx(name: str = "lx2") -> Node:
    return topology.load_file(topology.example_path("mixed-linux")).node(name)


ADDR = [
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "10.200.0.10", "prefixlen": 24}]},
]


def kernel(mtu: int = 1500, mac: str = "02:00:00:00:02:10", routes: list[object] | None = None,
           forward: str = "0") -> str:  # fmt: skip
    links = [{"ifname": "eth0", "mtu": mtu, "address": mac, "addr_info": ADDR[1]["addr_info"]}]
    if routes is None:
        routes = [
            {"dst": "default", "gateway": "10.200.0.2", "dev": "eth0"},
            {"dst": "10.200.0.0/24", "dev": "eth0", "protocol": "kernel"},
        ]
    return f"{json.dumps(links)}\n\n{json.dumps(routes)}\n\n{forward}\n"


def test_devices_are_found_by_the_planned_address() -> None:
    assert linuxnode.map_devices(lx(), ADDR) == {"eth0": "eth0"}


def test_a_missing_or_different_address_is_an_error_naming_the_interface() -> None:
    with pytest.raises(LinuxNodeError, match=r"lx2: eth0: no device has 10\.200\.0\.10/24"):
        linuxnode.map_devices(lx(), ADDR[:1])
    wrong = [{"ifname": "eth3", "addr_info": [
        {"family": "inet", "local": "10.200.0.10", "prefixlen": 16}]}]  # fmt: skip
    with pytest.raises(LinuxNodeError, match=r"eth3 has 10\.200\.0\.10/16, planned /24"):
        linuxnode.map_devices(lx(), wrong)


def test_setup_renames_and_sets_mac_mtu_offloads_and_replaces_the_default_route() -> None:
    commands = linuxnode.setup_commands(lx(), {"eth0": "eth7"})
    assert commands == [
        "ip link set dev eth7 down",
        "ip link set dev eth7 name wl-tmp0",
        "ip link set dev wl-tmp0 name eth0",
        "ip link set dev eth0 up",
        "ip link set dev eth0 address 02:00:00:00:02:10",
        "ip link set dev eth0 mtu 1500",
        "ethtool -K eth0 tx off tso off gso off gro off",
        "while ip -4 route del default 2>/dev/null; do :; done",
        "ip -4 route replace 0.0.0.0/0 via 10.200.0.2 dev eth0",
    ]
    script = linuxnode.setup_script(commands)
    assert script.startswith("set -e\n") and "echo '+ ip link set dev eth0 mtu 1500'" in script


def test_devices_named_in_the_wrong_order_swap_through_temporary_names() -> None:
    """Docker names devices by connect order: planned eth0 may be the kernel's eth1."""
    cmds = linuxnode.rename_commands({"eth0": "eth1", "eth1": "eth0", "eth2": "eth2"})
    assert cmds == [
        "ip link set dev eth0 down", "ip link set dev eth0 name wl-tmp0",
        "ip link set dev eth1 down", "ip link set dev eth1 name wl-tmp1",
        "ip link set dev wl-tmp0 name eth1", "ip link set dev eth1 up",
        "ip link set dev wl-tmp1 name eth0", "ip link set dev eth0 up",
    ]  # fmt: skip
    assert linuxnode.rename_commands({"eth0": "eth0"}) == []


def test_verify_accepts_a_kernel_as_planned() -> None:
    assert linuxnode.verify(lx(), kernel()) == []


@pytest.mark.parametrize(
    "output,problem",
    [
        (kernel(mtu=1400), "MTU 1400, planned 1500"),
        (kernel(mac="02:42:0a:c8:00:0a"), "MAC 02:42:0a:c8:00:0a"),
        (kernel(routes=[]), "route 0.0.0.0/0 via 10.200.0.2 dev eth0 is missing"),
        (
            kernel(routes=[{"dst": "default", "gateway": "10.200.0.2", "dev": "eth0"},
                           {"dst": "default", "gateway": "10.200.0.1", "dev": "eth0"}]),
            "a default route via 10.200.0.1 dev eth0 is not planned",
        ),
        (kernel(forward="1"), "net.ipv4.ip_forward is 1"),
        ("garbage", "unexpected verification output"),
    ],
)  # fmt: skip
def test_verify_names_what_differs(output: str, problem: str) -> None:
    problems = linuxnode.verify(lx(), output)
    assert any(problem in p for p in problems), problems


class Recorder:
    def __init__(self, answers: Sequence[tuple[int, str]]) -> None:
        self.answers = list(answers)
        self.argvs: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> tuple[int, str]:
        self.argvs.append(list(argv))
        return self.answers.pop(0)


def test_configure_runs_three_commands() -> None:
    run = Recorder([(0, json.dumps(ADDR) + "\n"), (0, "+ ...\n"), (0, kernel())])
    report = linuxnode.configure(lx(), run)
    assert report.devices == {"eth0": "eth0"}
    assert run.argvs[0] == ["ip", "-j", "-4", "addr", "show"]
    assert run.argvs[1][:2] == ["sh", "-c"] and "ethtool -K eth0" in run.argvs[1][2]
    assert run.argvs[2] == ["sh", "-c", linuxnode.VERIFY_SCRIPT]


def test_configure_reports_a_failing_script_with_its_output() -> None:
    run = Recorder([(0, json.dumps(ADDR)), (1, "+ ethtool -K eth0 ...\nCannot change tx\n")])
    with pytest.raises(
        LinuxNodeError, match=r"(?s)lx2: setup failed .exit status 1.*Cannot change"
    ):
        linuxnode.configure(lx(), run)


def test_configure_refuses_other_kinds() -> None:
    with pytest.raises(LinuxNodeError, match="r1 is a router node"):
        linuxnode.configure(lx("r1"), Recorder([]))


KERNEL_ROUTER = """\
name: kr
nodes:
  lx1: {kind: linux}
  lxr: {kind: linux, forward: true}
  r1: {kind: router}
  h: {kind: host}
links:
  - {endpoints: [lx1, lxr], subnet: 10.9.1.0/24}
  - {endpoints: [lxr, r1], subnet: 10.9.2.0/24}
  - {endpoints: [r1, h], subnet: 10.9.3.0/24}
"""


def kernel_router() -> Node:
    return topology.load_text(KERNEL_ROUTER).node("lxr")


def router_kernel(forward: str) -> str:
    links = [
        {"ifname": f"eth{k}", "mtu": 1500, "address": i.mac_str,
         "addr_info": [{"family": "inet", "local": str(i.address), "prefixlen": 24}]}
        for k, i in enumerate(kernel_router().interfaces)
    ]  # fmt: skip
    routes = [{"dst": "10.9.3.0/24", "gateway": "10.9.2.3", "dev": "eth1"}]
    return f"{json.dumps(links)}\n\n{json.dumps(routes)}\n\n{forward}\n"


def test_forwards_follows_the_forward_option_of_linux_nodes() -> None:
    lab = topology.load_text(KERNEL_ROUTER)
    assert [n.name for n in lab.nodes if linuxnode.forwards(n)] == ["lxr"]
    assert not linuxnode.forwards(lab.node("r1"))  # our router: the kernel stays out


def test_a_forwarding_linux_node_gets_routes_to_remote_subnets() -> None:
    node = kernel_router()
    commands = linuxnode.setup_commands(node, {"eth0": "eth0", "eth1": "eth1"})
    assert commands[-1] == "ip -4 route replace 10.9.3.0/24 via 10.9.2.3 dev eth1"
    assert not any("default" in c and "replace" in c for c in commands)


def test_verify_wants_ip_forward_on_for_a_forwarding_linux_node() -> None:
    assert linuxnode.verify(kernel_router(), router_kernel("1")) == []
    assert linuxnode.verify(kernel_router(), router_kernel("0")) == ["net.ipv4.ip_forward is 0"]
