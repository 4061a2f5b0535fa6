"""Taking interfaces from the kernel (nodes/io/takeover.py) with the kernel faked: which
commands run, which sysctls are written, the state file, and the error paths. The real
thing is proven in tests/netns/test_netns_takeover.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from nodes.io import takeover
from nodes.io.ifaces import InterfaceInfo
from nodes.io.takeover import TakeoverError, take_over
from nodes.wire.addr import ip_from_str

MAC1, MAC2 = bytes.fromhex("0242ac1e0002"), bytes.fromhex("0242ac1f0002")


class FakeKernel:
    def __init__(self, proc_sys: Path) -> None:
        self.ifaces = {
            "eth1": InterfaceInfo("eth1", 3, MAC1, ip_from_str("172.30.0.2"), 24, 1500, True),
            "eth2": InterfaceInfo("eth2", 4, MAC2, ip_from_str("172.31.0.2"), 16, 9000, True),
        }
        self.commands: list[list[str]] = []
        self.proc_sys = proc_sys
        for name in self.ifaces:
            self.sysctl(f"net/ipv6/conf/{name}/disable_ipv6", "0")
        self.sysctl("net/ipv4/ip_forward", "0")

    def sysctl(self, key: str, value: str | None = None) -> str:
        path = self.proc_sys / key
        if value is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value + "\n")
        return path.read_text().strip()

    def ip(self, args: Sequence[str]) -> None:
        self.commands.append(list(args))
        if args[:2] == ["-4", "addr"] and args[2] == "flush":
            old = self.ifaces[args[-1]]
            self.ifaces[old.name] = InterfaceInfo(
                old.name, old.index, old.mac, None, None, old.mtu, old.up
            )

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def by_address(ip: int) -> InterfaceInfo | None:
            return next((i for i in self.ifaces.values() if i.address == ip), None)

        def by_mac(mac: bytes) -> InterfaceInfo | None:
            return next((i for i in self.ifaces.values() if i.mac == mac), None)

        monkeypatch.setattr(takeover, "find_by_address", by_address)
        monkeypatch.setattr(takeover, "find_by_mac", by_mac)
        monkeypatch.setattr(takeover, "interface_info", self.ifaces.get)
        monkeypatch.setattr(takeover, "kernel_interfaces", lambda: list(self.ifaces.values()))


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeKernel:
    k = FakeKernel(tmp_path / "sys")
    k.install(monkeypatch)
    return k


def test_takes_interfaces_by_address_in_the_given_order(kernel: FakeKernel, tmp_path: Path) -> None:
    state = tmp_path / "run" / "takeover.json"
    got = take_over(["172.31.0.2", "172.30.0.2"], state_file=state, proc_sys=kernel.proc_sys,
                    ip=kernel.ip)  # fmt: skip
    assert [(t.name, t.prefix_len, t.mtu, t.mac) for t in got] == [
        ("eth2", 16, 9000, MAC2),
        ("eth1", 24, 1500, MAC1),
    ]
    assert kernel.commands == [
        ["link", "set", "dev", "eth2", "arp", "off", "up"],
        ["-4", "addr", "flush", "dev", "eth2"],
        ["link", "set", "dev", "eth1", "arp", "off", "up"],
        ["-4", "addr", "flush", "dev", "eth1"],
    ]
    assert kernel.sysctl("net/ipv6/conf/eth1/disable_ipv6") == "1"
    assert kernel.sysctl("net/ipv6/conf/eth2/disable_ipv6") == "1"
    assert kernel.sysctl("net/ipv4/ip_forward") == "0"
    saved = json.loads(state.read_text())
    assert saved["172.30.0.2"] == {
        "name": "eth1", "mac": "02:42:ac:1e:00:02", "address": "172.30.0.2",
        "prefix_len": 24, "mtu": 1500,
    }  # fmt: skip


def test_a_second_run_finds_flushed_interfaces_by_mac(kernel: FakeKernel, tmp_path: Path) -> None:
    state = tmp_path / "takeover.json"
    first = take_over(["172.30.0.2"], state_file=state, proc_sys=kernel.proc_sys, ip=kernel.ip)
    again = take_over(["172.30.0.2"], state_file=state, proc_sys=kernel.proc_sys, ip=kernel.ip)
    assert again == first
    with pytest.raises(TakeoverError, match=r"no interface has IPv4 address 172\.30\.0\.2"):
        take_over(["172.30.0.2"], state_file=None, proc_sys=kernel.proc_sys, ip=kernel.ip)


def test_nothing_changes_when_an_address_is_missing(kernel: FakeKernel, tmp_path: Path) -> None:
    with pytest.raises(TakeoverError, match=r"10\.9\.9\.9; interfaces: eth1 .*eth2"):
        take_over(["172.30.0.2", "10.9.9.9"], state_file=tmp_path / "s.json",
                  proc_sys=kernel.proc_sys, ip=kernel.ip)  # fmt: skip
    assert kernel.commands == [] and not (tmp_path / "s.json").exists()
    with pytest.raises(TakeoverError, match="two addresses map to one interface"):
        take_over(["172.30.0.2", "172.30.0.2"], state_file=None, proc_sys=kernel.proc_sys,
                  ip=kernel.ip)  # fmt: skip


def test_forwarding_is_switched_off(kernel: FakeKernel) -> None:
    kernel.sysctl("net/ipv4/ip_forward", "1")
    take_over(["172.30.0.2"], state_file=None, proc_sys=kernel.proc_sys, ip=kernel.ip)
    assert kernel.sysctl("net/ipv4/ip_forward") == "0"


def test_read_only_proc_sys_falls_back_or_refuses(
    kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unprivileged container mounts /proc/sys read-only."""
    monkeypatch.setattr(takeover, "_sysctl_write", lambda path, value: path.name == "ip_forward")
    take_over(["172.30.0.2"], state_file=None, proc_sys=kernel.proc_sys, ip=kernel.ip)
    assert kernel.commands[:2] == [
        ["-6", "addr", "flush", "dev", "eth1"],
        ["link", "set", "dev", "eth1", "addrgenmode", "none"],
    ]
    monkeypatch.setattr(takeover, "_sysctl_write", lambda path, value: False)
    with pytest.raises(TakeoverError, match="ip_forward"):
        take_over(["172.31.0.2"], state_file=None, proc_sys=kernel.proc_sys, ip=kernel.ip)


def test_sysctl_write_reports_what_holds(tmp_path: Path) -> None:
    path = tmp_path / "disable_ipv6"
    path.write_text("0\n")
    assert takeover._sysctl_write(path, "1") and path.read_text() == "1\n"
    assert takeover._sysctl_write(path, "1")


def test_the_ip_command_error_is_reported() -> None:
    with pytest.raises(
        TakeoverError, match=r"ip link set dev wl-no-such-if0|iproute2\) is not installed"
    ):
        takeover.run_ip(["link", "set", "dev", "wl-no-such-if0", "up"])
