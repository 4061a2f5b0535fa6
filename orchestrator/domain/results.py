"""What a node and a measurement report: plain frozen records, the same for our stack and
for linux-kind nodes (whose kernel tools' output is parsed into them).

Field names carry their units (``rtt_ms``, ``uptime_s``, ``size_bytes``, ``goodput_bps``);
a value that may be missing is ``None`` (an unanswered probe's ``rtt_ms``), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nodes.faults.link import LinkProps
from nodes.faults.model import Direction, FaultCounters
from orchestrator.domain.faults import FaultPart

# ---- node state -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterfaceStatus:
    """One interface as the node sees it now."""

    name: str
    device: str  # the kernel device (raw socket), "mem:..." in process
    mac: str
    address: str
    prefix_len: int
    mtu: int  # in force now (an MTU fault lowers it while it holds)
    up: bool
    base_mtu: int  # configured (at deploy, then by set_interface)


@dataclass(frozen=True, slots=True)
class Versions:
    wirelab: str = ""
    python: str = ""
    grpc: str = ""
    protobuf: str = ""


@dataclass(frozen=True, slots=True)
class NodeStatus:
    name: str
    kind: str  # host | router
    ready: bool
    uptime_s: float
    interfaces: tuple[InterfaceStatus, ...] = ()
    versions: Versions = field(default_factory=Versions)
    lab: str = ""
    apps: tuple[str, ...] = ()  # app ids running
    faults: int = 0  # node faults installed


@dataclass(frozen=True, slots=True)
class RouteEntry:
    prefix: str  # "10.0.2.0/24"; "0.0.0.0/0" is the default route
    gateway: str  # "" when directly connected
    iface: str
    kind: str  # connected | static | rip
    metric: int = 0  # rip: the hop count, 16 while the route is being withdrawn
    age_ms: float | None = None  # rip: since the route was last refreshed
    learned_from: str | None = None  # rip: the neighbour that announced it


@dataclass(frozen=True, slots=True)
class RipInterface:
    name: str
    up: bool = False
    passive: bool = False  # listens, never sends


@dataclass(frozen=True, slots=True)
class RipNeighbor:
    address: str
    iface: str = ""
    last_heard_ms: float = 0.0  # ago
    packets: int = 0  # responses accepted
    bad_packets: int = 0
    bad_routes: int = 0
    routes: int = 0  # routes in use learned from it
    auth_sequence: int | None = None  # the last RFC 2082 sequence number accepted


@dataclass(frozen=True, slots=True)
class RipRoute:
    """A destination of the RIP table (ours, or FRR's ``show ip rip``)."""

    prefix: str
    origin: str  # rip | connected | static | default
    metric: int  # 16: unreachable, being withdrawn
    iface: str = ""
    gateway: str = ""
    learned_from: str = ""
    tag: int = 0
    age_ms: float = 0.0
    gc_in_ms: float | None = None  # while withdrawn: until it is deleted
    offers: int = 0  # neighbours offering it


@dataclass(frozen=True, slots=True)
class RipStatus:
    """``show LAB NODE rip``: RIP's timers and options, neighbours, table and counters."""

    enabled: bool
    daemon: str = "wirelab"  # or "frr" (a linux router's ripd)
    update_s: float = 0.0
    timeout_s: float = 0.0
    garbage_s: float = 0.0
    triggered_updates: bool = False
    split_horizon: bool = False
    poisoned_reverse: bool = False
    silent: bool = False  # a host: learns, never sends
    authentication: bool = False
    redistribute: tuple[str, ...] = ()
    next_update_ms: float | None = None
    triggered_update_ms: float | None = None
    interfaces: tuple[RipInterface, ...] = ()
    neighbors: tuple[RipNeighbor, ...] = ()
    routes: tuple[RipRoute, ...] = ()
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArpEntry:
    iface: str
    address: str
    mac: str  # "" while incomplete
    state: str  # incomplete | reachable | stale | delay | probe
    queued_packets: int = 0


@dataclass(frozen=True, slots=True)
class TcpConnection:
    """One TCP connection, like a line of ``ss -tin``."""

    state: str
    local_address: str
    local_port: int
    remote_address: str
    remote_port: int
    congestion_control: str = ""
    ca_state: str = ""
    cwnd: int = 0  # segments
    cwnd_bytes: int = 0
    ssthresh: int | None = None  # segments; None while infinite
    srtt_ms: float | None = None
    rttvar_ms: float = 0.0
    rto_ms: float = 0.0
    mss: int = 0
    pmtu: int = 0
    rcv_mss: int = 0
    snd_wscale: int = 0
    rcv_wscale: int = 0
    snd_wnd_bytes: int = 0
    rcv_wnd_bytes: int = 0
    bytes_sent: int = 0
    bytes_retrans: int = 0
    bytes_acked: int = 0
    bytes_received: int = 0
    segs_out: int = 0
    segs_in: int = 0
    data_segs_out: int = 0
    data_segs_in: int = 0
    retrans: int = 0
    retransmits: int = 0
    lost_bytes: int = 0
    sacked_bytes: int = 0
    dup_acks: int = 0
    unacked_bytes: int = 0
    send_queue_bytes: int = 0
    recv_queue_bytes: int = 0
    ooo_bytes: int = 0
    sack: bool = False
    timestamps: bool = False


@dataclass(frozen=True, slots=True)
class TcpListener:
    local_address: str
    local_port: int
    backlog: int = 0
    syn_queue: int = 0
    accept_queue: int = 0


@dataclass(frozen=True, slots=True)
class Connections:
    connections: tuple[TcpConnection, ...] = ()
    listeners: tuple[TcpListener, ...] = ()


@dataclass(frozen=True, slots=True)
class AppInfo:
    app_id: str  # "kind:port" ("module:factory" for a user app started without a port)
    kind: str  # a built-in's name or module:factory
    port: int
    running: bool
    stats: dict[str, int] = field(default_factory=dict)
    state: str = ""  # running | stopped | failed | finished ("": an agent that does not say)
    error: str = ""  # failed: what the app raised and where


# ---- measurements -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PingProbe:
    seq: int
    replied: bool = False
    source: str = ""  # who replied (or who sent the ICMP error)
    rtt_ms: float | None = None
    ttl: int = 0
    size_bytes: int = 0
    icmp_type: int | None = None  # an ICMP error instead of a reply
    icmp_code: int | None = None
    next_hop_mtu: int | None = None  # frag-needed's MTU
    route: tuple[str, ...] = ()  # record route
    send_failed: bool = False  # no route, or DF and too big locally


@dataclass(frozen=True, slots=True)
class PingReport:
    results: tuple[PingProbe, ...] = ()
    transmitted: int = 0
    received: int = 0
    errors: int = 0
    loss: float = 0.0  # fraction 0..1
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None


@dataclass(frozen=True, slots=True)
class TraceProbe:
    ttl: int
    responder: str = ""  # "" : no answer
    rtt_ms: float | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


@dataclass(frozen=True, slots=True)
class TraceHop:
    ttl: int
    responder: str = ""  # the first answer at this TTL ("" : none)
    probes: tuple[TraceProbe, ...] = ()


@dataclass(frozen=True, slots=True)
class TraceReport:
    hops: tuple[TraceHop, ...] = ()
    reached: bool = False


@dataclass(frozen=True, slots=True)
class TcpSample:
    time_ms: float  # since the transfer started
    cwnd: int
    ssthresh: int | None = None
    inflight_bytes: int = 0
    srtt_ms: float | None = None
    retrans: int = 0
    ca_state: str = ""


@dataclass(frozen=True, slots=True)
class NodeLoad:
    """How busy one of our nodes' event loop was during a measurement (the saturation
    guard, nodes/io/load.py): the fraction of wall time it worked rather than waited, how
    often its timers woke more than 1 ms late. ``saturated``: busy >= 90% or late >= 20%
    of its timer wake-ups: it was CPU-bound, and the figures show our CPU, not the lab's
    links."""

    node: str
    busy_fraction: float = 0.0
    late_fraction: float = 0.0
    wakeups: int = 0  # timer wake-ups in the interval
    wall_s: float = 0.0  # the interval the node measured
    saturated: bool = False


@dataclass(frozen=True, slots=True)
class TransferReport:
    """A bulk transfer checked end to end by sha256."""

    size_bytes: int  # asked for
    bytes: int = 0  # sent by the source
    bytes_received: int = 0  # read by the destination's sink
    seconds: float = 0.0
    goodput_bps: float = 0.0
    sender_sha256: str = ""
    receiver_sha256: str = ""
    sha256_match: bool = False
    retransmits: int = 0  # retransmitted segments
    bytes_retrans: int = 0
    error: str = ""  # "" : success
    samples: tuple[TcpSample, ...] = ()  # cwnd / ssthresh / in flight over time
    final: TcpConnection | None = None  # the sender's last view of the connection
    source_address: str = ""
    destination_address: str = ""
    port: int = 0
    timeout_s: float = 0.0
    # the saturation guard: every node of ours with its loop's load during the transfer,
    # and those that were CPU-bound (then goodput and RTTs are our CPU's, not the lab's)
    loads: tuple[NodeLoad, ...] = ()
    cpu_bound_nodes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.sha256_match and not self.error

    @property
    def cpu_bound(self) -> bool:
        return bool(self.cpu_bound_nodes)

    @property
    def cpu_bound_note(self) -> str:
        """The saturation guard's words ("" when no node of ours was CPU-bound)."""
        if not self.cpu_bound_nodes:
            return ""
        busy = {load.node: load for load in self.loads}
        parts = []
        for node in self.cpu_bound_nodes:
            load = busy.get(node)
            parts.append(
                node
                if load is None
                else f"{node} (loop busy {load.busy_fraction:.0%}, "
                f"{load.late_fraction:.0%} of timer wake-ups late)"
            )
        return (
            f"CPU-bound: {', '.join(parts)}: goodput and RTTs show our stack's CPU limit, "
            "not the lab's links"
        )

    @property
    def complete(self) -> bool:
        """Everything asked for arrived (whether or not the digests were compared)."""
        return self.bytes_received >= self.size_bytes and self.bytes >= self.size_bytes


@dataclass(frozen=True, slots=True)
class HttpReport:
    status: int = 0  # 0: no response
    bytes: int = 0  # body bytes
    sha256: str = ""
    seconds: float = 0.0
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400 and not self.error


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    output: str  # stdout and stderr together


@dataclass(frozen=True, slots=True)
class CaptureChunk:
    """Part of a pcap stream: the first chunk holds only the file header."""

    data: bytes
    packets: int = 0
    dropped: int = 0  # frames lost so far because the reader was too slow


@dataclass(frozen=True, slots=True)
class LinkCounters:
    """A link property layer of a node (one interface, one direction) and what it did:
    frames seen, dropped by loss, by a full queue (``shaped``), by CoDel (``dropped_aqm``),
    queued and delayed."""

    iface: str
    direction: Direction
    shaping: LinkProps
    seed: int = 0
    counters: FaultCounters = field(default_factory=FaultCounters)


@dataclass(frozen=True, slots=True)
class NodeCounters:
    """A node's counters: ``stack`` like ``netstat -s`` (ip_*, icmp_*, udp_*, tcp_*,
    arp_*), ``io`` the event loop's, ``ports`` per interface, ``faults`` per node fault,
    ``links`` per link property layer."""

    stack: dict[str, int] = field(default_factory=dict)
    io: dict[str, int] = field(default_factory=dict)
    ports: dict[str, dict[str, int]] = field(default_factory=dict)
    faults: tuple[FaultPart, ...] = ()
    links: tuple[LinkCounters, ...] = ()


@dataclass(frozen=True, slots=True)
class BulkSendResult:
    """The sender's half of a transfer (our nodes' BulkSend)."""

    bytes: int = 0
    seconds: float = 0.0
    goodput_bps: float = 0.0
    sha256: str = ""
    retransmits: int = 0
    bytes_retrans: int = 0
    error: str = ""
    samples: tuple[TcpSample, ...] = ()
    final: TcpConnection | None = None
    local_port: int = 0


@dataclass(frozen=True, slots=True)
class SinkResult:
    """One connection a sink received (``finished`` False: still receiving)."""

    remote_address: str
    remote_port: int
    bytes: int = 0
    sha256: str = ""
    seconds: float = 0.0
    goodput_bps: float = 0.0
    error: str = ""
    finished: bool = False


@dataclass(frozen=True, slots=True)
class UdpReport:
    sent: int = 0
    replies: int = 0
    lost: int = 0
    duplicates: int = 0
    send_failures: int = 0
    rtt_min_ms: float = 0.0
    rtt_avg_ms: float = 0.0
    rtt_max_ms: float = 0.0
