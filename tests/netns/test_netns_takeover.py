"""The kernel gives our addresses up: after the take-over it never answers ARP, sends RST
or ICMP for them, and with our stack running each probe gets exactly one answer (ours).

Probes from the Linux peer: an ARP request, an ICMP echo, UDP to a closed port, a TCP SYN
to a closed port. All frames coming back over the veth are captured in the peer.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .netns_lab import NetnsPair


def kinds(result: dict[str, object]) -> Counter[str]:
    frames = result["frames"]
    assert isinstance(frames, list)
    return Counter(str(f) for f in frames if f != "ipv6")  # the peer's own IPv6 chatter aside


def ip_in_receives(pair: NetnsPair) -> int:
    """The node namespace kernel's Ip InReceives counter (/proc/net/snmp)."""
    lines = [ln.split() for ln in pair.run(pair.node_ns, "cat", "/proc/net/snmp").stdout
             .splitlines() if ln.startswith("Ip:")]  # fmt: skip
    header, values = lines[0], lines[1]
    return int(values[header.index("InReceives")])


def test_kernel_is_silent_after_take_over_and_our_stack_answers_once(
    pair: NetnsPair, tmp_path: Path
) -> None:
    # 1. control: before the take-over the node's kernel answers every probe
    before = kinds(pair.peer_probe("probe", pair.peer_if, pair.node_ip, "--wait", "0.5"))
    assert before["arp-reply"] >= 1 and before["icmp-echo-reply"] == 1
    assert before["icmp-unreach-3-udp"] == 1 and before["tcp-rst"] == 1

    # 2. take-over: the kernel loses the address; the peer still knows the MAC, so its
    #    IP probes do reach the node namespace -- and nothing answers
    state = tmp_path / "takeover.json"
    taken = pair.take_over(state)
    assert [(t["name"], t["address"], t["prefix_len"]) for t in taken] == [
        (pair.node_if, pair.node_ip, 24)
    ]
    assert pair.run(pair.node_ns, "ip", "-4", "-o", "addr", "show", pair.node_if).stdout == ""
    assert pair.run(pair.node_ns, "sysctl", "-n", f"net.ipv6.conf.{pair.node_if}.disable_ipv6"
                    ).stdout.strip() == "1"  # fmt: skip
    pair.run(pair.peer_ns, "ip", "neigh", "replace", pair.node_ip, "lladdr", pair.node_mac,
             "dev", pair.peer_if, "nud", "permanent")  # fmt: skip
    received = ip_in_receives(pair)
    silent = pair.peer_probe("probe", pair.peer_if, pair.node_ip, "--wait", "0.5")
    assert silent["frames"] == [], f"the node's kernel still talks: {silent}"
    assert ip_in_receives(pair) - received >= 3  # ICMP, UDP, TCP did reach that kernel

    # 3. our stack under the runner (found again by MAC via the state file): one answer each
    node = pair.start_node(state)
    assert node.interfaces[0]["name"] == pair.node_if
    answered = kinds(pair.peer_probe("probe", pair.peer_if, pair.node_ip, "--wait", "0.7"))
    counters = node.stop()
    tcp_answer = answered.pop("tcp-rst", 0) + answered.pop("icmp-unreach-2-tcp", 0)
    assert tcp_answer == 1  # RST once a TCP engine is registered, protocol unreachable before
    answered.pop("arp-request", None)  # our stack may resolve the peer itself
    assert answered == Counter({"arp-reply": 1, "icmp-echo-reply": 1, "icmp-unreach-3-udp": 1}), (
        json.dumps(counters["host"])
    )
    host = counters["host"]
    assert host["arp_out_replies"] == 1 and host["icmp_out_echo_reps"] == 1
    assert host["udp_no_ports"] == 1
