"""ARP neighbour cache (RFC 826, Linux neighbour state machine, simplified).

States: INCOMPLETE (resolving, broadcast probes ``mcast_solicit`` times ``retrans_time``
apart, packets queued), REACHABLE (confirmed within ``reachable_time``), STALE (usable,
unconfirmed), DELAY (used while stale: wait ``delay_first_probe``), PROBE (unicast probes
``ucast_solicit`` times). REACHABLE -> STALE is computed lazily from the timestamps; only
probing entries carry timers. A resolution that fails hands its queued IP packets back
(``failed``) so the host can send ICMP host unreachable to their senders.

The table is bounded as Linux bounds its neighbour table (``neigh_alloc``,
``neigh_forced_gc``, ``neigh_periodic_work``):

* below ``gc_thresh1`` entries nothing is collected;
* from ``gc_thresh1`` on, a periodic GC every ``reachable_time / 2`` removes entries that
  carry no timer and were not used or confirmed for ``gc_stale_time``;
* creating an entry at or above ``gc_thresh2`` (at most every 5 s) or at ``gc_thresh3``
  first runs a forced GC: entries without a timer (not INCOMPLETE/DELAY/PROBE) that were
  not updated in the last 5 s go, oldest first, down to ``gc_thresh2``;
* at ``gc_thresh3`` an entry that still does not fit is refused (``arp_table_fulls``): the
  packet that wanted it is dropped, and a request for us from that sender gets no reply
  (Linux's ``arp_process`` answers only when ``neigh_event_ns`` gave it an entry).

Entries are only created where Linux creates them: to send to a next hop, and from the
sender of an ARP request that targets one of our addresses. Replies and other requests
only update an existing entry (arp_accept=0). Packets queued while resolving are capped
per entry (``unres_qlen_bytes``, oldest dropped) and for the whole table
(``arp_unres_total_bytes``, the new packet dropped), each charged its length plus
``UNRES_OVERHEAD`` (what holding it costs, like an skb's truesize).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.interfaces import Interface, Interfaces
from nodes.wire.addr import BROADCAST_MAC, ZERO_MAC, is_multicast, multicast_mac
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
    # packets waiting for resolution; created on the first one (an empty deque costs
    # ~600 bytes, times gc_thresh3 entries)
    pending: deque[bytes] | None = None
    queued_bytes: int = 0  # what ``pending`` is charged (lengths + UNRES_OVERHEAD each)
    hh: bytes | None = None  # the Ethernet header to this neighbour, kept with ``mac``
    updated: float = 0.0  # last state change (Linux neigh->updated: forced GC's age)

    @property
    def queue(self) -> Sequence[bytes]:
        """The packets waiting for resolution, oldest first."""
        return self.pending if self.pending is not None else ()


UNRES_OVERHEAD = 64  # bytes charged per queued packet on top of its length
FORCED_GC_AGE = 5.0  # Linux: forced GC spares entries updated in the last 5 s
FORCED_GC_INTERVAL = 5.0  # Linux: above gc_thresh2, forced GC at most every 5 s


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
        # in the order of ``Neighbor.updated``, oldest first (forced GC's order)
        self.neighbors: dict[tuple[str, int], Neighbor] = {}
        self._probing: set[tuple[str, int]] = set()
        self.failed: list[bytes] = []  # IP packets whose next hop never resolved
        self.unres_bytes = 0  # what every entry's queue is charged, together
        self._last_flush = -FORCED_GC_INTERVAL  # when forced GC last ran
        # a forced GC that freed nothing proves none can until then (see _forced_gc)
        self._gc_futile_until = -1.0
        self._gc_due: float | None = None  # next periodic GC (armed from gc_thresh1 on)

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
            if (next_hop >> 28) == 0xE:  # a multicast group: its MAC, no resolution
                return ethernet_header(multicast_mac(next_hop), iface.mac, ETH_P_IP)
            return None
        n.used = now
        state = n.state
        if state is NeighState.REACHABLE:
            if now - n.confirmed <= self._cfg.arp_reachable_time:
                return n.hh
            n.state = state = NeighState.STALE
        if state is NeighState.STALE:
            n.state = NeighState.DELAY
            self._touch((iface.name, next_hop), n, now)
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
            n = self._create(key, None, NeighState.INCOMPLETE, now=now)
            if n is None:
                self._c.inc("ip_out_discards")  # no entry, nowhere to queue it
                return
            n.probes = 1
            self._send_request(iface, next_hop, BROADCAST_MAC)
            self._schedule(n, now + self._cfg.arp_retrans_time)
        self._enqueue(n, packet)

    def _enqueue(self, n: Neighbor, packet: bytes) -> None:
        cfg = self._cfg
        cap = cfg.arp_unres_qlen_bytes
        cost = len(packet) + UNRES_OVERHEAD
        if cost > cap or self.unres_bytes - n.queued_bytes + cost > cfg.arp_unres_total_bytes:
            self._c.inc("arp_unresolved_discards")  # too big, or the table's total is used
            return
        queue = n.pending
        if queue is None:
            queue = n.pending = deque()
        while queue and n.queued_bytes + cost > cap:
            dropped = len(queue.popleft()) + UNRES_OVERHEAD  # Linux drops the oldest
            n.queued_bytes -= dropped
            self.unres_bytes -= dropped
            self._c.inc("arp_unresolved_discards")
        if self.unres_bytes + cost > cfg.arp_unres_total_bytes:
            self._c.inc("arp_unresolved_discards")
            return
        queue.append(packet)
        n.queued_bytes += cost
        self.unres_bytes += cost

    def _take_queue(self, n: Neighbor) -> deque[bytes]:
        """Empty ``n``'s queue and return what it held (its charge is released)."""
        queue = n.pending
        n.pending = None
        self.unres_bytes -= n.queued_bytes
        n.queued_bytes = 0
        return queue if queue is not None else deque()

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

    # ---- the table's bounds ------------------------------------------------------
    def _create(
        self, key: tuple[str, int], mac: bytes | None, state: NeighState, *, now: float
    ) -> Neighbor | None:
        """A new entry, unless the table is full after a forced GC (Linux neigh_alloc)."""
        cfg = self._cfg
        entries = len(self.neighbors)
        full = entries >= cfg.arp_gc_thresh3
        soft = entries >= cfg.arp_gc_thresh2 and now - self._last_flush > FORCED_GC_INTERVAL
        if (full or soft) and not self._forced_gc(now) and full:
            self._c.inc("arp_table_fulls")
            return None
        n = Neighbor(key[0], key[1], mac, state, used=now, updated=now)
        self.neighbors[key] = n
        self._c.inc("arp_allocs")
        if self._gc_due is None and len(self.neighbors) >= cfg.arp_gc_thresh1:
            self._gc_due = now + cfg.arp_reachable_time / 2
        return n

    def _forced_gc(self, now: float) -> int:
        """Linux neigh_forced_gc: drop entries without a timer that were not updated in the
        last 5 s, oldest first, until the table is down to gc_thresh2. How many went.

        The table is kept in ``updated`` order (see :meth:`_touch`), so the scan stops at
        the first entry without a timer that is too young. When nothing went, none can
        before that entry is 5 s old (an entry that loses its timer later is updated then):
        under a flood at gc_thresh3 that spares a scan per packet."""
        self._c.inc("arp_forced_gc_runs")
        self._last_flush = now
        max_clean = len(self.neighbors) - self._cfg.arp_gc_thresh2
        if max_clean <= 0 or now <= self._gc_futile_until:
            return 0
        probing = self._probing
        victims: list[tuple[str, int]] = []
        youngest_kept = now
        for key, n in self.neighbors.items():
            if key in probing:
                continue
            if now - n.updated <= FORCED_GC_AGE:
                youngest_kept = n.updated
                break
            victims.append(key)
            if len(victims) >= max_clean:
                break
        for key in victims:
            self._delete(key)
        if not victims:
            self._gc_futile_until = youngest_kept + FORCED_GC_AGE
        return len(victims)

    def _touch(self, key: tuple[str, int], n: Neighbor, now: float) -> None:
        """``n`` changed state now: it moves to the young end of the table."""
        n.updated = now
        table = self.neighbors
        del table[key]
        table[key] = n

    # ---- input path --------------------------------------------------------------
    def receive(self, iface: Interface, pkt: ArpPacket, *, now: float) -> None:
        sender = pkt.sender_ip
        if (
            pkt.sender_mac[0] & 1  # multicast or broadcast MAC
            or is_multicast(sender)
            or sender == 0xFFFFFFFF
            or (sender >> 24) == 127
        ):  # Linux: ip_route_input fails for a martian source, no reply, no entry
            self._c.inc("arp_in_bad_sender")
            return
        owner = self._ifaces.owner_of(pkt.sender_ip)
        if owner is not None and pkt.sender_mac != owner.mac:
            self._c.inc("arp_conflicts")  # someone else claims our address
            return
        if pkt.op == ArpOp.REQUEST:
            self._c.inc("arp_in_requests")
            if self._for_us(iface, pkt.target_ip) and pkt.sender_ip != pkt.target_ip:
                if pkt.sender_ip != 0 and not self._learn(
                    iface, pkt.sender_ip, pkt.sender_mac, now=now, confirmed=False, create=True
                ):
                    return  # the table is full: Linux sends no reply either
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

    def _learn(
        self,
        iface: Interface,
        ip: int,
        mac: bytes,
        *,
        now: float,
        confirmed: bool,
        create: bool = False,
    ) -> bool:
        """Update the entry for ``ip`` (create it as STALE when ``create``); False when
        there is none and the table had no room for it."""
        key = (iface.name, ip)
        n = self.neighbors.get(key)
        if n is None:
            if not create:
                return False
            n = self._create(key, mac, NeighState.STALE, now=now)
            if n is None:
                return False
        else:
            self._touch(key, n, now)
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
        if n.pending is not None:
            for packet in self._take_queue(n):
                self._emit(iface, mac, EtherType.IPV4, packet)
        return True

    # ---- timers ------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        best = self._gc_due
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
                    self.failed.extend(self._take_queue(n))
                    self._delete(key)
            elif n.state is NeighState.DELAY:
                n.state, n.probes = NeighState.PROBE, 1
                self._touch(key, n, now)
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
        if self._gc_due is not None and now >= self._gc_due:
            self._periodic_gc(now)

    def _periodic_gc(self, now: float) -> None:
        """Linux neigh_periodic_work: from gc_thresh1 entries on, every reachable_time / 2,
        drop the entries without a timer unused and unconfirmed for gc_stale_time."""
        cfg = self._cfg
        if len(self.neighbors) >= cfg.arp_gc_thresh1:
            self._c.inc("arp_periodic_gc_runs")
            limit, reachable = cfg.arp_gc_stale_time, cfg.arp_reachable_time
            for key, n in list(self.neighbors.items()):
                if key in self._probing:
                    continue
                if n.state is NeighState.REACHABLE and now - n.confirmed > reachable:
                    n.state = NeighState.STALE
                if now - max(n.used, n.confirmed) > limit:
                    self._delete(key)
        below = len(self.neighbors) < cfg.arp_gc_thresh1
        self._gc_due = None if below else now + cfg.arp_reachable_time / 2

    def _delete(self, key: tuple[str, int]) -> None:
        n = self.neighbors.pop(key, None)
        if n is not None:
            self._c.inc("arp_destroys")
            if n.pending is not None:
                self._take_queue(n)
        self._probing.discard(key)

    def flush(self, ifname: str) -> None:
        """Forget every neighbour on ``ifname`` (interface down); queued packets drop."""
        for key, n in list(self.neighbors.items()):
            if key[0] == ifname:
                self._c.inc("arp_failed_packets", len(n.queue))
                self._delete(key)

    def lookup(self, ifname: str, ip: int) -> Neighbor | None:
        return self.neighbors.get((ifname, ip))
