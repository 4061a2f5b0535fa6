"""The agent gives each data device its planned MAC before taking it from the kernel
(nodes/agent/__main__.py: plant_macs), with the device lookup and `ip` injected."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from nodes.agent.__main__ import plant_macs
from nodes.agent.config import InterfaceSpec, Kind, NodeConfig
from nodes.agent.errors import ArgumentError
from nodes.io.ifaces import InterfaceInfo
from nodes.io.takeover import TakeoverError
from nodes.wire.addr import ip_from_str, mac_from_str

DOCKER_MAC = mac_from_str("02:42:ac:11:00:02")
PLANNED = mac_from_str("02:aa:bb:cc:dd:01")


def device(name: str, address: str, mac: bytes) -> InterfaceInfo:
    return InterfaceInfo(name, 2, mac, ip_from_str(address), 24, 1500, True)


def config(*specs: InterfaceSpec) -> NodeConfig:
    return NodeConfig(name="h1", kind=Kind.HOST, interfaces=tuple(specs))


class Ip:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, args: Sequence[str]) -> None:
        self.calls.append(list(args))
        if self.fail:
            raise TakeoverError("ip link set dev eth1 address: Operation not permitted")


def test_a_device_with_another_mac_gets_the_planned_one() -> None:
    devices = {ip_from_str("10.0.1.2"): device("eth1", "10.0.1.2", DOCKER_MAC)}
    ip = Ip()
    spec = InterfaceSpec("eth0", ip_from_str("10.0.1.2"), 24, mac=PLANNED)
    assert plant_macs(config(spec), find=devices.get, ip=ip) == ["eth1"]
    assert ip.calls == [["link", "set", "dev", "eth1", "address", "02:aa:bb:cc:dd:01"]]


def test_nothing_changes_without_a_plan_an_equal_mac_or_a_device_taken_earlier() -> None:
    devices = {ip_from_str("10.0.1.2"): device("eth0", "10.0.1.2", PLANNED)}
    ip = Ip()
    specs = (
        InterfaceSpec("eth0", ip_from_str("10.0.1.2"), 24, mac=PLANNED),  # already planned
        InterfaceSpec("eth1", ip_from_str("10.0.2.2"), 24, mac=PLANNED),  # address gone
        InterfaceSpec("eth2", ip_from_str("10.0.3.2"), 24),  # no plan: the device's MAC
    )
    assert plant_macs(config(*specs), find=devices.get, ip=ip) == []
    assert ip.calls == []


def test_a_refused_change_names_the_interface() -> None:
    devices = {ip_from_str("10.0.1.2"): device("eth1", "10.0.1.2", DOCKER_MAC)}
    spec = InterfaceSpec("eth0", ip_from_str("10.0.1.2"), 24, mac=PLANNED)
    with pytest.raises(ArgumentError, match=r"interfaces\[eth0\]\.mac: .*not permitted"):
        plant_macs(config(spec), find=devices.get, ip=Ip(fail=True))
