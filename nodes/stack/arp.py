"""ARP neighbour cache (RFC 826, Linux neighbour state machine, simplified).

States: INCOMPLETE (resolving, broadcast probes ``mcast_solicit`` times ``retrans_time``
apart, packets queued), REACHABLE (confirmed within ``reachable_time``), STALE (usable,
unconfirmed), DELAY (used while stale: wait ``delay_first_probe``), PROBE (unicast probes
``ucast_solicit`` times). REACHABLE -> STALE is computed lazily from the timestamps; only
probing entries carry timers. A resolution that fails hands its queued IP packets back
(``failed``) so the host can send ICMP host unreachable to their senders.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.interfaces import Interface, Interfaces
from nodes.wire.addr import BROADCAST_MAC, ZERO_MAC
from nodes.wire.arp import ArpOp, ArpPacket
from nodes.wire.ethernet import ETH_P_IP, EtherType, build_ethernet, ethernet_header


class NeighState(Enum):
    INCOMPLETE = "incomplete"
    REACHABLE = "reachable"
    STALE = "stale"
    DELAY = "delay"
    PROBE = "probe"


@dataclass(slots=True)
class Neighbor:
    ifname: str
    ip: int
    mac: bytes | None
    state: NeighState
    confirmed: float = 0.0
    used: float = 0.0
    probes: int = 0
    next_probe: float | None = None
    queue: deque[bytes] = field(default_factory=deque)
    queued_bytes: int = 0
    hh: bytes | None = None  # the Ethernet header to this neighbour, kept with ``mac``


class ArpEngine:
    def __init__(
        self,
        interfaces: Interfaces,
        config: StackConfig,
        counters: Counters,
        out: list[tuple[str, bytes]],
    ) -> None:
        self._ifaces = interfaces
        self._cfg = config
        self._c = counters
        self._out = out  # the host's output queue (ifname, frame)
        self.neighbors: dict[tuple[str, int], Neighbor] = {}
        self._probing: set[tuple[str, int]] = set()
        self.failed: list[bytes] = []  # IP packets whose next hop never resolved

    # ---- output path -------------------------------------------------------------
    def link_header(self, iface: Interface, next_hop: int, *, now: float) -> bytes | None:
        """The Ethernet header for an IPv4 packet to ``next_hop`` on ``iface`` when its MAC
        is known (the neighbour counts as used: REACHABLE may age to STALE, STALE starts
        the DELAY probe), else None: the caller then hands the packet to :meth:`output`,
        which queues it while resolving. The per-packet send path: one dict probe."""
        n = self.neighbors.get((iface.name, next_hop))
        if n is None or n.hh is None:
            if next_hop in self._ifaces.broadcasts or next_hop == iface.broadcast:
                return ethernet_header(BROADCAST_MAC, iface.mac, ETH_P_IP)
            return None
        n.used = now
        state = n.state
        if state is NeighState.REACHABLE:
            if now - n.confirmed <= self._cfg.arp_reachable_time:
                return n.hh
            n.state = state = NeighState.STALE
        if state is NeighState.STALE:
            n.state = NeighState.DELAY
            self._schedule(n, now + self._cfg.arp_delay_first_probe)
        return n.hh

    def output(self, iface: Interface, next_hop: int, packet: bytes, *, now: float) -> None:
        """Send an IP packet to ``next_hop`` on ``iface``: now if the MAC is known,
        else queued while resolving."""
        hh = self.link_header(iface, next_hop, now=now)
        if hh is not None:
            self._out.append((iface.name, hh + packet))
            return
        key = (iface.name, next_hop)
        n = self.neighbors.get(key)
        if n is not None and n.mac is not None:  # resolved, but no cached header
            self._emit(iface, n.mac, EtherType.IPV4, packet)
            return
        if n is None:
            n = Neighbor(iface.name, next_hop, None, NeighState.INCOMPLETE, used=now)
            self.neighbors[key] = n
            n.probes = 1
            self._send_request(iface, next_hop, BROADCAST_MAC)
            self._schedule(n, now + self._cfg.arp_retrans_time)
        self._enqueue(n, packet)

    def _enqueue(self, n: Neighbor, packet: bytes) -> None:
        cap = self._cfg.arp_unres_qlen_bytes
        while n.queue and n.queued_bytes + len(packet) > cap:
            n.queued_bytes -= len(n.queue.popleft())  # Linux drops the oldest
            self._c.inc("arp_unresolved_discards")
        if len(packet) > cap:
            self._c.inc("arp_unresolved_discards")
            return
        n.queue.append(packet)
        n.queued_bytes += len(packet)

    def _emit(self, iface: Interface, dst_mac: bytes, ethertype: int, payload: bytes) -> None:
        self._out.append((iface.name, build_ethernet(dst_mac, iface.mac, ethertype, payload)))

    def _send_request(self, iface: Interface, target: int, dst_mac: bytes) -> None:
        pkt = ArpPacket(ArpOp.REQUEST, iface.mac, iface.address, ZERO_MAC, target)
        self._emit(iface, dst_mac, EtherType.ARP, pkt.build())
        self._c.inc("arp_out_requests")

    def announce(self, iface: Interface) -> None:
        """Gratuitous ARP (a request for our own address), as Linux arp_notify."""
        pkt = ArpPacket(ArpOp.REQUEST, iface.mac, iface.address, ZERO_MAC, iface.address)
        self._emit(iface, BROADCAST_MAC, EtherType.ARP, pkt.build())
        self._c.inc("arp_out_gratuitous")

    def _schedule(self, n: Neighbor, when: float | None) -> None:
        n.next_probe = when
        key = (n.ifname, n.ip)
        if when is None:
            self._probing.discard(key)
        else:
            self._probing.add(key)

    # ---- input path --------------------------------------------------------------
    def receive(self, iface: Interface, pkt: ArpPacket, *, now: float) -> None:
        if pkt.sender_mac == BROADCAST_MAC or pkt.sender_mac[0] & 1:
            self._c.inc("arp_in_bad_sender")
            return
        owner = self._ifaces.owner_of(pkt.sender_ip)
        if owner is not None and pkt.sender_mac != owner.mac:
            self._c.inc("arp_conflicts")  # someone else claims our address
            return
        if pkt.op == ArpOp.REQUEST:
            self._c.inc("arp_in_requests")
            if self._for_us(iface, pkt.target_ip) and pkt.sender_ip != pkt.target_ip:
                if pkt.sender_ip != 0:
                    self._learn(iface, pkt.sender_ip, pkt.sender_mac, now=now, confirmed=False)
                reply = ArpPacket(
                    ArpOp.REPLY, iface.mac, pkt.target_ip, pkt.sender_mac, pkt.sender_ip
                )
                self._emit(iface, pkt.sender_mac, EtherType.ARP, reply.build())
                self._c.inc("arp_out_replies")
                return
            if (iface.name, pkt.sender_ip) in self.neighbors:
                self._learn(iface, pkt.sender_ip, pkt.sender_mac, now=now, confirmed=False)
            elif owner is None and pkt.sender_ip != pkt.target_ip:
                self._c.inc("arp_in_not_for_us")
            return
        self._c.inc("arp_in_replies")
        if (iface.name, pkt.sender_ip) in self.neighbors:
            self._learn(iface, pkt.sender_ip, pkt.sender_mac, now=now, confirmed=True)
        else:
            self._c.inc("arp_in_unsolicited")  # arp_accept=0: do not create entries

    def _for_us(self, iface: Interface, target: int) -> bool:
        if self._cfg.arp_ignore == 0:
            return self._ifaces.is_local(target)
        return target == iface.address and iface.up

    def _learn(self, iface: Interface, ip: int, mac: bytes, *, now: float, confirmed: bool) -> None:
        key = (iface.name, ip)
        n = self.neighbors.get(key)
        if n is None:
            n = Neighbor(iface.name, ip, mac, NeighState.STALE, used=now)
            self.neighbors[key] = n
        if confirmed:
            n.state, n.confirmed = NeighState.REACHABLE, now
            self._schedule(n, None)
        elif n.mac != mac or n.state is NeighState.INCOMPLETE:
            n.state = NeighState.STALE
            self._schedule(n, None)
        if n.mac != mac or n.hh is None:
            n.mac = mac
            # never a unicast header for a broadcast address (link_header sends those
            # to ff:ff:ff:ff:ff:ff before it looks at the table)
            bcast = ip in self._ifaces.broadcasts or ip == iface.broadcast
            n.hh = None if bcast else ethernet_header(mac, iface.mac, ETH_P_IP)
        while n.queue:
            self._emit(iface, mac, EtherType.IPV4, n.queue.popleft())
        n.queued_bytes = 0

    # ---- timers ------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        best: float | None = None
        for key in self._probing:
            t = self.neighbors[key].next_probe
            if t is not None and (best is None or t < best):
                best = t
        return best

    def on_timer(self, *, now: float) -> None:
        cfg = self._cfg
        for key in sorted(self._probing):
            n = self.neighbors[key]
            if n.next_probe is None or n.next_probe > now:
                continue
            iface = self._ifaces.get(n.ifname)
            if n.state is NeighState.INCOMPLETE:
                if n.probes < cfg.arp_mcast_solicit:
                    n.probes += 1
                    self._send_request(iface, n.ip, BROADCAST_MAC)
                    self._schedule(n, n.next_probe + cfg.arp_retrans_time)
                else:
                    self._c.inc("arp_resolution_failed")
                    self._c.inc("arp_failed_packets", len(n.queue))
                    self.failed.extend(n.queue)
                    self._delete(key)
            elif n.state is NeighState.DELAY:
                n.state, n.probes = NeighState.PROBE, 1
                self._send_request(iface, n.ip, n.mac or BROADCAST_MAC)
                self._schedule(n, now + cfg.arp_retrans_time)
            elif n.state is NeighState.PROBE:
                if n.probes < cfg.arp_ucast_solicit:
                    n.probes += 1
                    self._send_request(iface, n.ip, n.mac or BROADCAST_MAC)
                    self._schedule(n, n.next_probe + cfg.arp_retrans_time)
                else:
                    self._c.inc("arp_probe_failed")
                    self._delete(key)
            else:
                self._schedule(n, None)
        self._gc(now)

    def _gc(self, now: float) -> None:
        limit = self._cfg.arp_gc_stale_time
        reachable = self._cfg.arp_reachable_time
        for key, n in list(self.neighbors.items()):
            if n.state is NeighState.REACHABLE and now - n.confirmed > reachable:
                n.state = NeighState.STALE
            if n.state is NeighState.STALE and now - max(n.used, n.confirmed) > limit:
                self._delete(key)

    def _delete(self, key: tuple[str, int]) -> None:
        self.neighbors.pop(key, None)
        self._probing.discard(key)

    def flush(self, ifname: str) -> None:
        """Forget every neighbour on ``ifname`` (interface down); queued packets drop."""
        for key, n in list(self.neighbors.items()):
            if key[0] == ifname:
                self._c.inc("arp_failed_packets", len(n.queue))
                self._delete(key)

    def lookup(self, ifname: str, ip: int) -> Neighbor | None:
        return self.neighbors.get((ifname, ip))
