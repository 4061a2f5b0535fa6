"""nodes/router/rip.py: the RIPv2 engine on one router, frames in and out (decoded by
scapy), time driven by hand: requests, responses, timers, triggered updates, split horizon
and poisoned reverse, metric 16, keyed MD5, redistribution, passive and silent modes."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.layers.rip import RIP, RIPAuth, RIPEntry
from scapy.packet import Packet, Raw

from nodes.router.fib import RouteKind
from nodes.router.rip import RipEngine
from nodes.router.ripmodel import RipConfig
from nodes.router.router import Router
from nodes.wire.addr import ip_from_str, prefix_mask
from nodes.wire.rip import INFINITY, Md5Key, RipCommand, RipEntry, build_rip, md5_digest

NEIGHBOR = {"eth0": "10.0.1.2", "eth1": "10.0.2.2", "eth2": "10.0.3.2"}
PEER_MAC = "02:00:00:00:99:01"


@dataclass
class Rig:
    """Router r: eth0 10.0.1.1/24, eth1 10.0.2.1/24, eth2 10.0.3.1/24, RIP on."""

    config: RipConfig = field(default_factory=RipConfig)
    seed: int = 1
    now: float = 0.0
    out: list[tuple[float, str, Packet]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.r = Router("r", rng=random.Random(0))
        for i in range(3):
            self.r.add_interface(f"eth{i}", f"02:00:00:00:00:0{i}", f"10.0.{i + 1}.1", 24)
        self.rip = RipEngine(self.r, self.config, rng=random.Random(self.seed), now=0.0)
        self._collect()

    def _collect(self) -> None:
        for ifname, frame in self.r.frames_to_send():
            self.out.append((self.now, ifname, Ether(frame)))

    def run(self, until: float) -> None:
        """Every timer due by ``until``, at its own time."""
        for _ in range(100_000):
            t = self.r.next_deadline()
            if t is None or t > until:
                break
            self.now = max(self.now, t)
            self.r.on_timer(now=self.now)
            self._collect()
        self._collect()
        self.now = until

    def take(self) -> list[tuple[float, str, Packet]]:
        out, self.out = self.out, []
        return out

    def rip_out(self) -> list[tuple[float, str, Packet]]:
        """RIP messages sent since the last call (other frames dropped)."""
        return [(t, i, p) for t, i, p in self.take() if p.haslayer(RIP)]

    def receive(self, ifname: str, data: bytes, *, src: str | None = None,
                dst: str = "224.0.0.9", sport: int = 520) -> None:  # fmt: skip
        src = src or NEIGHBOR[ifname]
        mac = "01:00:5e:00:00:09" if dst == "224.0.0.9" else self.r.interfaces.get(ifname).mac
        frame = (
            Ether(src=PEER_MAC, dst=mac if isinstance(mac, str) else _mac(mac))
            / IP(src=src, dst=dst, ttl=1)
            / UDP(sport=sport, dport=520)
            / Raw(data)
        )
        self.r.receive_frame(ifname, bytes(frame), now=self.now)
        self.run(self.now)

    def announce(self, ifname: str, routes: dict[str, int], **kw: object) -> None:
        entries = [entry(p, m) for p, m in routes.items()]
        key = kw.pop("md5", None)
        data = build_rip(RipCommand.RESPONSE, entries, md5=key)  # type: ignore[arg-type]
        self.receive(ifname, data, **kw)  # type: ignore[arg-type]

    def fib(self, prefix: str) -> tuple[str | None, int, RouteKind] | None:
        net, plen = prefix.split("/")
        r = self.r.fib.get(ip_from_str(net), int(plen))
        if r is None:
            return None
        gw = None if r.gateway is None else ".".join(str(b) for b in r.gateway.to_bytes(4, "big"))
        return gw, r.metric, r.kind

    def metric(self, prefix: str) -> int | None:
        net, plen = prefix.split("/")
        route = self.rip.routes.get((ip_from_str(net), int(plen)))
        return None if route is None else route.metric


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def entry(prefix: str, metric: int) -> RipEntry:
    net, plen = prefix.split("/")
    return RipEntry(ip_from_str(net), prefix_mask(int(plen)), metric)


def routes_in(pkt: Packet) -> dict[str, int]:
    """prefix -> metric of a RIP message as scapy decodes it."""
    out = {}
    layer = pkt[RIP].payload
    while layer and not isinstance(layer, Raw):
        if isinstance(layer, RIPEntry) and layer.AF == 2:
            plen = bin(int.from_bytes(bytes(map(int, layer.mask.split("."))), "big")).count("1")
            out[f"{layer.addr}/{plen}"] = layer.metric
        layer = layer.payload
    return out


CONNECTED = {"10.0.1.0/24": 1, "10.0.2.0/24": 1, "10.0.3.0/24": 1}


def test_start_asks_every_neighbour_for_its_table_on_224_0_0_9() -> None:
    rig = Rig()
    sent = rig.rip_out()
    assert sorted(i for _, i, _ in sent) == ["eth0", "eth1", "eth2"]
    for _, ifname, pkt in sent:
        assert pkt[Ether].dst == "01:00:5e:00:00:09"
        assert pkt[IP].dst == "224.0.0.9" and pkt[IP].ttl == 1
        assert pkt[IP].src == f"10.0.{int(ifname[-1]) + 1}.1"
        assert pkt[UDP].sport == 520 and pkt[UDP].dport == 520
        assert pkt[RIP].cmd == 1 and pkt[RIP].version == 2
        e = pkt[RIPEntry]
        assert e.AF == 0 and e.metric == 16
    assert rig.r.counters()["rip_out_requests"] == 3


def test_regular_updates_every_30_s_with_jitter_carry_the_connected_routes() -> None:
    rig = Rig()
    rig.take()
    rig.run(200.0)
    times = sorted({round(t, 6) for t, i, p in rig.rip_out() if p[RIP].cmd == 2 and i == "eth0"})
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) >= 6 and all(25.0 <= g <= 35.0 for g in gaps), gaps
    assert len(set(gaps)) > 1  # jittered (RFC 2453 3.8: no synchronised updates)
    rig.run(230.0)
    assert rig.r.counters()["rip_out_updates"] >= 3 * 6


def test_update_content_split_horizon_by_default() -> None:
    rig = Rig()
    rig.announce("eth0", {"10.9.0.0/16": 1})
    assert rig.fib("10.9.0.0/16") == ("10.0.1.2", 2, RouteKind.RIP)
    rig.take()
    rig.run(40.0)
    by_iface = {i: routes_in(p) for _, i, p in rig.rip_out() if p[RIP].cmd == 2}
    # split horizon: nothing goes back out of the interface it points through, the
    # interface's own subnet included (as FRR's ripd does)
    assert by_iface["eth1"] == {"10.0.1.0/24": 1, "10.0.3.0/24": 1, "10.9.0.0/16": 2}
    assert by_iface["eth0"] == {"10.0.2.0/24": 1, "10.0.3.0/24": 1}


def test_poisoned_reverse_sends_it_back_with_16() -> None:
    rig = Rig(RipConfig(poisoned_reverse=True))
    rig.announce("eth0", {"10.9.0.0/16": 1})
    rig.take()
    rig.run(40.0)
    by_iface = {i: routes_in(p) for _, i, p in rig.rip_out() if p[RIP].cmd == 2}
    assert by_iface["eth0"] == {"10.0.1.0/24": 16, "10.0.2.0/24": 1, "10.0.3.0/24": 1,
                                "10.9.0.0/16": 16}  # fmt: skip
    assert by_iface["eth1"]["10.9.0.0/16"] == 2


def test_without_split_horizon_it_goes_back_with_its_metric() -> None:
    rig = Rig(RipConfig(split_horizon=False))
    rig.announce("eth0", {"10.9.0.0/16": 1})
    rig.take()
    rig.run(40.0)
    by_iface = {i: routes_in(p) for _, i, p in rig.rip_out() if p[RIP].cmd == 2}
    assert by_iface["eth0"]["10.9.0.0/16"] == 2


def test_triggered_update_after_a_random_1_to_5_s_with_the_changed_routes_only() -> None:
    delays = set()
    for seed in range(8):
        rig = Rig(seed=seed)
        rig.run(2.0)
        rig.take()
        rig.announce("eth0", {"10.9.0.0/16": 3})
        heard = rig.now
        rig.run(heard + 6.0)
        trig = [(t, i, p) for t, i, p in rig.rip_out() if p[RIP].cmd == 2]
        assert trig, "no triggered update"
        t0 = trig[0][0]
        assert all(t == t0 for t, _, _ in trig)  # all interfaces at once
        delays.add(round(t0 - heard, 3))
        assert 1.0 <= t0 - heard <= 5.0
        assert {i: routes_in(p) for _, i, p in trig} == {
            "eth1": {"10.9.0.0/16": 4},
            "eth2": {"10.9.0.0/16": 4},
        }  # fmt: skip  (split horizon: nothing changed for eth0)
        assert rig.r.counters()["rip_out_triggered_updates"] == 2
    assert len(delays) >= 4  # random, from the seed


def test_same_seed_same_timing() -> None:
    def timeline(seed: int) -> list[tuple[float, str]]:
        rig = Rig(seed=seed)
        rig.announce("eth0", {"10.9.0.0/16": 3})
        rig.run(100.0)
        return [(round(t, 9), i) for t, i, _ in rig.rip_out()]

    assert timeline(4) == timeline(4)
    assert timeline(4) != timeline(5)


def test_triggered_updates_can_be_switched_off() -> None:
    rig = Rig(RipConfig(triggered_updates=False))
    rig.run(2.0)
    rig.take()
    rig.announce("eth0", {"10.9.0.0/16": 3})
    nxt = rig.rip._next_update
    rig.run(nxt - 0.01)
    assert rig.rip_out() == []
    assert rig.r.counters()["rip_out_triggered_updates"] == 0


def test_timeout_then_garbage_collection_default_timers() -> None:
    rig = Rig()
    rig.announce("eth0", {"10.9.0.0/16": 1})
    heard = rig.now
    rig.run(heard + 179.9)
    assert rig.fib("10.9.0.0/16") is not None
    rig.run(heard + 180.0)
    assert rig.fib("10.9.0.0/16") is None  # out of the FIB at the timeout
    assert rig.metric("10.9.0.0/16") == INFINITY  # advertised as unreachable meanwhile
    rig.take()
    rig.run(heard + 180.0 + 119.9)
    adverts = [routes_in(p) for _, i, p in rig.rip_out() if i == "eth1" and p[RIP].cmd == 2]
    assert adverts and all(a.get("10.9.0.0/16") == INFINITY for a in adverts)
    rig.run(heard + 300.0)
    assert rig.metric("10.9.0.0/16") is None  # deleted after garbage collection


def test_timers_are_configurable() -> None:
    rig = Rig(RipConfig(update_interval=5.0, timeout=15.0, garbage=10.0))
    rig.announce("eth0", {"10.9.0.0/16": 1})
    heard = rig.now
    rig.run(heard + 14.9)
    assert rig.fib("10.9.0.0/16") is not None
    rig.run(heard + 15.0)
    assert rig.fib("10.9.0.0/16") is None and rig.metric("10.9.0.0/16") == INFINITY
    rig.run(heard + 25.0)
    assert rig.metric("10.9.0.0/16") is None
    times = sorted({round(t, 6) for t, i, p in rig.take() if i == "eth2" and p.haslayer(RIP)
                    and p[RIP].cmd == 2})  # fmt: skip
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and all(1.0 <= g <= 9.0 for g in gaps), gaps  # 5 s, jittered by <= 5/6 s
    with pytest.raises(ValueError):
        RipConfig(update_interval=30.0, timeout=30.0)


def test_refresh_restarts_the_timeout() -> None:
    rig = Rig()
    rig.announce("eth0", {"10.9.0.0/16": 1})
    rig.run(100.0)
    rig.announce("eth0", {"10.9.0.0/16": 1})
    rig.run(250.0)
    assert rig.fib("10.9.0.0/16") is not None
    rig.run(100.0 + 180.0)
    assert rig.fib("10.9.0.0/16") is None


def test_metric_16_withdraws_and_a_better_offer_wins() -> None:
    rig = Rig()
    rig.announce("eth0", {"10.9.0.0/16": 3})
    rig.announce("eth1", {"10.9.0.0/16": 5})
    assert rig.fib("10.9.0.0/16") == ("10.0.1.2", 4, RouteKind.RIP)
    rig.announce("eth1", {"10.9.0.0/16": 1})
    assert rig.fib("10.9.0.0/16") == ("10.0.2.2", 2, RouteKind.RIP)
    rig.announce("eth1", {"10.9.0.0/16": 16})  # withdrawn: the other offer takes over
    assert rig.fib("10.9.0.0/16") == ("10.0.1.2", 4, RouteKind.RIP)
    rig.announce("eth0", {"10.9.0.0/16": 16})
    assert rig.fib("10.9.0.0/16") is None and rig.metric("10.9.0.0/16") == INFINITY
    rig.announce("eth0", {"10.8.0.0/16": 15})  # 15 + 1: unreachable, never installed
    assert rig.fib("10.8.0.0/16") is None
    changes = [(c.change, c.metric) for c in rig.rip.drain_events()]
    assert changes == [("added", 4), ("changed", 2), ("changed", 4), ("withdrawn", 16)]


def test_equal_metric_keeps_the_route_in_use() -> None:
    rig = Rig()
    rig.announce("eth1", {"10.9.0.0/16": 2})
    rig.announce("eth0", {"10.9.0.0/16": 2})
    assert rig.fib("10.9.0.0/16") == ("10.0.2.2", 3, RouteKind.RIP)


def test_bad_entries_are_dropped_one_by_one() -> None:
    rig = Rig()
    entries = [
        RipEntry(ip_from_str("10.1.0.0"), 0xFF00FF00, 1),  # mask not contiguous
        RipEntry(ip_from_str("10.2.0.1"), prefix_mask(24), 1),  # host bits set
        entry("10.3.0.0/24", 0),  # metric 0
        entry("10.4.0.0/24", 17),  # metric above 16
        entry("127.0.0.0/8", 1),  # loopback
        entry("224.1.0.0/16", 1),  # multicast
        entry("10.5.0.0/24", 2),  # fine
    ]
    rig.receive("eth0", build_rip(RipCommand.RESPONSE, entries))
    c = rig.r.counters()
    assert c["rip_in_bad_routes"] == 6 and c["rip_in_responses"] == 1
    assert rig.fib("10.5.0.0/24") == ("10.0.1.2", 3, RouteKind.RIP)
    assert rig.rip.status(rig.now).neighbors[0].bad_routes == 6


def test_bad_packets_are_counted_not_fatal() -> None:
    rig = Rig()
    good = build_rip(RipCommand.RESPONSE, [entry("10.9.0.0/16", 1)])
    rig.receive("eth0", b"\x02\x02\x00")  # truncated
    rig.receive("eth0", b"\x02\x01\x00\x00" + good[4:])  # version 1
    rig.receive("eth0", good, sport=5555)  # a response not from port 520
    rig.receive("eth0", good, src="10.7.7.7")  # not from a connected subnet
    assert rig.r.counters()["rip_in_bad_packets"] == 4
    assert rig.fib("10.9.0.0/16") is None


def test_next_hop_field_on_the_same_link_is_used() -> None:
    rig = Rig()
    data = build_rip(RipCommand.RESPONSE,
                     [RipEntry(ip_from_str("10.9.0.0"), prefix_mask(16), 1,
                               ip_from_str("10.0.1.7"))])  # fmt: skip
    rig.receive("eth0", data)
    assert rig.fib("10.9.0.0/16") == ("10.0.1.7", 2, RouteKind.RIP)


def test_connected_and_static_routes_are_redistributed_and_win_over_rip() -> None:
    rig = Rig()
    rig.r.add_route("172.16.0.0", 12, "10.0.3.9")
    rig.announce("eth0", {"172.16.0.0/12": 1, "10.0.2.0/24": 1})
    assert rig.fib("172.16.0.0/12") == ("10.0.3.9", 0, RouteKind.STATIC)
    assert rig.fib("10.0.2.0/24") == (None, 0, RouteKind.CONNECTED)
    rig.take()
    rig.run(40.0)
    by_iface = {i: routes_in(p) for _, i, p in rig.rip_out() if p[RIP].cmd == 2}
    assert by_iface["eth0"] == {"10.0.2.0/24": 1, "10.0.3.0/24": 1, "172.16.0.0/12": 1}
    # the static route goes: RIP's offer for it, kept meanwhile, takes over
    rig.r.fib.remove(ip_from_str("172.16.0.0"), 12)
    rig.run(rig.now)
    assert rig.fib("172.16.0.0/12") == ("10.0.1.2", 2, RouteKind.RIP)


def test_redistribution_can_be_switched_off() -> None:
    rig = Rig(RipConfig(redistribute_static=False, redistribute_connected=False,
                        originate_default=True))  # fmt: skip
    rig.r.add_route("172.16.0.0", 12, "10.0.3.9")
    rig.take()
    rig.run(40.0)
    by_iface = {i: routes_in(p) for _, i, p in rig.rip_out() if p[RIP].cmd == 2}
    assert by_iface["eth0"] == {"0.0.0.0/0": 1}


def test_an_interface_going_down_withdraws_what_it_carried() -> None:
    rig = Rig()
    rig.announce("eth0", {"10.9.0.0/16": 1})
    rig.run(40.0)
    rig.take()
    rig.r.set_interface_up("eth0", False)
    rig.run(rig.now)
    assert rig.fib("10.9.0.0/16") is None and rig.metric("10.9.0.0/16") == INFINITY
    assert rig.metric("10.0.1.0/24") == INFINITY  # its subnet too
    rig.run(rig.now + 5.0)
    trig = {i: routes_in(p) for _, i, p in rig.rip_out() if p[RIP].cmd == 2}
    assert trig["eth1"] == {"10.0.1.0/24": 16, "10.9.0.0/16": 16}
    assert "eth0" not in trig
    rig.r.set_interface_up("eth0", True)
    rig.run(rig.now)
    requests = [i for _, i, p in rig.rip_out() if p[RIP].cmd == 1]
    assert requests == ["eth0"]  # asks again at once


def test_requests_are_answered() -> None:
    rig = Rig()
    rig.announce("eth1", {"10.9.0.0/16": 2})
    rig.take()
    ask = build_rip(RipCommand.REQUEST, [RipEntry(0, 0, INFINITY, family=0)])
    rig.receive("eth0", ask, src="10.0.1.5", sport=5000, dst="10.0.1.1")
    arp = [p for _, _, p in rig.take() if p.haslayer(ARP)]
    assert arp and arp[0][ARP].pdst == "10.0.1.5"
    reply = Ether(src=PEER_MAC, dst=_mac(rig.r.interfaces.get("eth0").mac)) / ARP(
        op=2,
        hwsrc=PEER_MAC,
        psrc="10.0.1.5",
        hwdst=_mac(rig.r.interfaces.get("eth0").mac),
        pdst="10.0.1.1",
    )
    rig.r.receive_frame("eth0", bytes(reply), now=rig.now)
    rig.run(rig.now)
    (answer,) = [p for _, _, p in rig.rip_out()]
    assert answer[IP].dst == "10.0.1.5" and answer[UDP].dport == 5000 and answer[RIP].cmd == 2
    assert routes_in(answer) == {"10.0.2.0/24": 1, "10.0.3.0/24": 1, "10.9.0.0/16": 3}
    # a request for given prefixes: their metrics as they are (16: unknown)
    ask = build_rip(RipCommand.REQUEST, [entry("10.9.0.0/16", 0), entry("10.66.0.0/16", 0)])
    rig.receive("eth0", ask, src="10.0.1.5", sport=5000, dst="10.0.1.1")
    (answer,) = [p for _, _, p in rig.rip_out()]
    assert routes_in(answer) == {"10.9.0.0/16": 3, "10.66.0.0/16": 16}
    assert rig.r.counters()["rip_out_responses"] == 2


def test_passive_interface_listens_but_never_sends() -> None:
    rig = Rig(RipConfig(passive=frozenset({"eth2"})))
    rig.announce("eth2", {"10.9.0.0/16": 1})
    assert rig.fib("10.9.0.0/16") is not None
    rig.run(100.0)
    assert {i for _, i, p in rig.rip_out()} == {"eth0", "eth1"}


def test_silent_mode_learns_and_never_sends() -> None:
    rig = Rig(RipConfig(silent=True))
    rig.announce("eth0", {"0.0.0.0/0": 1})
    assert rig.fib("0.0.0.0/0") == ("10.0.1.2", 2, RouteKind.RIP)
    rig.run(100.0)
    assert [p for _, _, p in rig.rip_out() if p[RIP].cmd == 2] == []
    assert rig.rip.status(rig.now).next_update_in is None


KEY = b"wirelab-key"


def md5_response(routes: dict[str, int], *, seq: int, key: bytes = KEY, key_id: int = 1) -> bytes:
    return build_rip(RipCommand.RESPONSE, [entry(p, m) for p, m in routes.items()],
                     md5=Md5Key(key, key_id, seq))  # fmt: skip


def test_md5_accepts_the_right_key_and_signs_what_it_sends() -> None:
    rig = Rig(RipConfig(auth_key=KEY, auth_key_id=1))
    rig.receive("eth0", md5_response({"10.9.0.0/16": 1}, seq=10))
    assert rig.fib("10.9.0.0/16") is not None
    assert rig.rip.status(rig.now).neighbors[0].auth_sequence == 10
    rig.take()
    rig.run(40.0)
    sent = [p for _, _, p in rig.rip_out()]
    assert sent
    seqs = []
    for pkt in sent:
        raw = bytes(pkt[RIP])
        auth = pkt[RIPAuth]
        assert auth.authtype == 3 and auth.keyid == 1 and auth.authdatalen == 16
        off = auth.digestoffset
        assert raw[off : off + 4] == b"\xff\xff\x00\x01"
        assert raw[off + 4 :] == md5_digest(raw[: off + 4], KEY)
        seqs.append(auth.seqnum)
    assert seqs == sorted(seqs)  # non-decreasing (RFC 2082)


@pytest.mark.parametrize(
    ("data", "counter"),
    [
        (md5_response({"10.9.0.0/16": 1}, seq=1, key=b"wrong"), "rip_in_auth_failures"),
        (md5_response({"10.9.0.0/16": 1}, seq=1, key_id=2), "rip_in_auth_failures"),
        (build_rip(RipCommand.RESPONSE, [entry("10.9.0.0/16", 1)]), "rip_in_auth_failures"),
    ],
)
def test_md5_rejects_wrong_key_wrong_id_and_no_auth(data: bytes, counter: str) -> None:
    rig = Rig(RipConfig(auth_key=KEY))
    rig.receive("eth0", data)
    assert rig.fib("10.9.0.0/16") is None
    assert rig.r.counters()[counter] == 1


def test_md5_replays_are_dropped() -> None:
    rig = Rig(RipConfig(auth_key=KEY))
    rig.receive("eth0", md5_response({"10.9.0.0/16": 1}, seq=50))
    rig.receive("eth0", md5_response({"10.9.0.0/16": 16}, seq=49))  # an old message again
    assert rig.fib("10.9.0.0/16") is not None
    assert rig.r.counters()["rip_in_auth_replays"] == 1
    rig.receive("eth0", md5_response({"10.9.0.0/16": 16}, seq=50))  # equal is allowed
    assert rig.fib("10.9.0.0/16") is None


def test_authenticated_messages_are_refused_without_a_key() -> None:
    rig = Rig()
    rig.receive("eth0", md5_response({"10.9.0.0/16": 1}, seq=1))
    assert rig.fib("10.9.0.0/16") is None
    assert rig.r.counters()["rip_in_bad_packets"] == 1


def test_status_lists_neighbours_routes_and_timers() -> None:
    rig = Rig()
    rig.announce("eth0", {"10.9.0.0/16": 1, "10.8.0.0/16": 4})
    rig.run(rig.now + 3.0)
    st = rig.rip.status(rig.now)
    (nb,) = st.neighbors
    assert nb.ifname == "eth0" and nb.routes == 2 and nb.packets == 1 and nb.age == 3.0
    routes = {(r.prefix, r.prefix_len): r for r in st.routes}
    learned = routes[(ip_from_str("10.9.0.0"), 16)]
    assert learned.origin == "rip" and learned.metric == 2 and learned.age == 3.0
    assert routes[(ip_from_str("10.0.1.0"), 24)].origin == "connected"
    assert st.next_update_in is not None and 0 < st.next_update_in <= 35.0
    assert st.interfaces == (("eth0", True, False), ("eth1", True, False), ("eth2", True, False))
    route = rig.r.fib.get(ip_from_str("10.9.0.0"), 16)
    assert route is not None and rig.r.fib.age(route, rig.now) == 3.0


def test_multicast_not_joined_is_not_delivered() -> None:
    rig = Rig()
    rig.rip.close()
    rig.r.leave_group("eth0", 0xE0000009)
    data = build_rip(RipCommand.RESPONSE, [entry("10.9.0.0/16", 1)])
    rig.receive("eth0", data)
    assert rig.r.counters()["ip_in_mcast_not_joined"] == 1
