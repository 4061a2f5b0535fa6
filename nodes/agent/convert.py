"""Proto -> domain: parse and validate requests. Every problem raises ArgumentError naming
the field by its proto path (``interfaces[1].address: ...``, ``fault.loss: ...``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace

from wirelab.v1 import common_pb2, node_pb2

from nodes.agent.config import AppSpec, InterfaceSpec, Kind, NodeConfig, RouteSpec
from nodes.agent.errors import ArgumentError
from nodes.apps.registry import APP_KINDS
from nodes.faults import (
    NO_LINK_PROPS,
    Codel,
    Direction,
    Distribution,
    Effects,
    FaultSpec,
    FaultSpecError,
    GilbertElliott,
    LinkProps,
    Match,
    RateLimit,
)
from nodes.router.ripmodel import RipConfig
from nodes.stack.config import StackConfig
from nodes.stack.tcp import congestion
from nodes.stack.tcp.config import TcpConfig

MIN_MTU, MAX_MTU = 68, 65535
MAX_DELAY_MS = 3600e3
MAX_DURATION_MS = 10 * 365 * 86400e3
DEFAULT_APP_PORTS = {"http-server": 80, "echo": 7, "sink": 5001, "udp-echo": 7}
_DIRECTIONS: dict[int, Direction] = {
    common_pb2.DIRECTION_UNSPECIFIED: Direction.BOTH,
    common_pb2.DIRECTION_BOTH: Direction.BOTH,
    common_pb2.DIRECTION_EGRESS: Direction.EGRESS,
    common_pb2.DIRECTION_INGRESS: Direction.INGRESS,
}
_DISTRIBUTIONS: dict[int, Distribution] = {
    common_pb2.DELAY_DISTRIBUTION_UNSPECIFIED: Distribution.UNIFORM,
    common_pb2.DELAY_DISTRIBUTION_UNIFORM: Distribution.UNIFORM,
    common_pb2.DELAY_DISTRIBUTION_NORMAL: Distribution.NORMAL,
}


# ---- scalars ----------------------------------------------------------------------------
def ipv4(field: str, text: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text.strip()))
    except ValueError:
        raise ArgumentError(field, f"must be an IPv4 address like 10.0.0.1, got {text!r}") from None


def prefix(field: str, text: str) -> tuple[int, int]:
    """'10.0.0.0/24' -> (address, 24); host bits must be clear; a bare address is a /32."""
    try:
        net = ipaddress.IPv4Network(text.strip(), strict=True)
    except ValueError as exc:
        raise ArgumentError(
            field, f"must be an IPv4 prefix like 10.0.0.0/24, got {text!r} ({exc})"
        ) from None
    return int(net.network_address), net.prefixlen


def mac(field: str, text: str) -> bytes:
    parts = text.strip().replace("-", ":").split(":")
    try:
        if len(parts) != 6 or any(len(p) != 2 for p in parts):
            raise ValueError
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise ArgumentError(field, f"must be a MAC like 02:00:00:00:00:01, got {text!r}") from None


def check_range(field: str, value: float, low: float, high: float, unit: str = "") -> None:
    if not low <= value <= high or value != value:
        raise ArgumentError(field, f"must be within {low:g}..{high:g}{unit}, got {value!r}")


def host_address(field: str, address: int, prefix_len: int) -> None:
    """An interface address must be a unicast host address of its subnet."""
    net = ipaddress.IPv4Network((address, prefix_len), strict=False)
    ip = ipaddress.IPv4Address(address)
    bad = (
        ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_reserved
        or (prefix_len < 31 and ip in (net.network_address, net.broadcast_address))
    )  # fmt: skip
    if bad:
        raise ArgumentError(field, f"{ip}/{prefix_len} is not a host address of its subnet")


def mtu(field: str, value: int) -> int:
    check_range(field, value, MIN_MTU, MAX_MTU)
    return value


def port(field: str, value: int, *, default: int | None = None) -> int:
    if value == 0 and default is not None:
        return default
    check_range(field, value, 1, 65535)
    return value


def seconds(field: str, ms: float, *, low: float = 0.0, high: float = 86400e3) -> float:
    check_range(field, ms, low, high, " ms")
    return ms / 1000.0


# ---- configure ----------------------------------------------------------------------------
def node_kind(field: str, kind: int) -> Kind:
    if kind == node_pb2.NODE_KIND_HOST:
        return Kind.HOST
    if kind == node_pb2.NODE_KIND_ROUTER:
        return Kind.ROUTER
    if kind == node_pb2.NODE_KIND_LINUX:
        raise ArgumentError(
            field, "linux nodes run the kernel's stack; the node agent serves host and router"
        )
    raise ArgumentError(field, "must be NODE_KIND_HOST or NODE_KIND_ROUTER")


def interface(field: str, msg: node_pb2.InterfaceConfig) -> InterfaceSpec:
    name = msg.name.strip()
    if not name or name == "*" or len(name) > 64:
        raise ArgumentError(
            f"{field}.name", f"must name the interface (like eth0), got {msg.name!r}"
        )
    check_range(f"{field}.prefix_len", msg.prefix_len, 0, 32)
    return InterfaceSpec(
        name=name,
        address=ipv4(f"{field}.address", msg.address),
        prefix_len=msg.prefix_len,
        mac=mac(f"{field}.mac", msg.mac) if msg.mac else None,
        mtu=mtu(f"{field}.mtu", msg.mtu) if msg.HasField("mtu") else 1500,
        up=msg.up if msg.HasField("up") else True,
        egress=link_shaping(f"{field}.egress", msg.egress)
        if msg.HasField("egress")
        else NO_LINK_PROPS,
        ingress=(
            link_shaping(f"{field}.ingress", msg.ingress)
            if msg.HasField("ingress")
            else NO_LINK_PROPS
        ),
    )


def codel(field: str, msg: common_pb2.Codel) -> Codel:
    defaults = Codel()
    target = defaults.target
    interval = defaults.interval
    if msg.HasField("target_ms"):
        target = seconds(f"{field}.target_ms", msg.target_ms, low=0.001, high=60e3)
    if msg.HasField("interval_ms"):
        interval = seconds(f"{field}.interval_ms", msg.interval_ms, low=0.001, high=600e3)
    return Codel(target, interval)


def link_shaping(field: str, msg: common_pb2.LinkShaping) -> LinkProps:
    """A LinkShaping message -> LinkProps (one direction of a link)."""
    try:
        return LinkProps(
            rate=msg.rate_bps if msg.HasField("rate_bps") else None,
            delay=seconds(f"{field}.delay_ms", msg.delay_ms, high=MAX_DELAY_MS),
            jitter=seconds(f"{field}.jitter_ms", msg.jitter_ms, high=MAX_DELAY_MS),
            loss=msg.loss,
            queue_packets=msg.queue_packets if msg.HasField("queue_packets") else None,
            queue_bytes=msg.queue_bytes if msg.HasField("queue_bytes") else None,
            codel=codel(f"{field}.codel", msg.codel) if msg.HasField("codel") else None,
        )
    except FaultSpecError as err:
        name = {"rate": "rate_bps", "queue": "queue_packets"}.get(err.field, err.field)
        raise ArgumentError(f"{field}.{name}", err.problem) from None


def route(field: str, msg: node_pb2.RouteConfig, ifaces: Iterable[str]) -> RouteSpec:
    net, length = prefix(f"{field}.prefix", msg.prefix)
    gateway = ipv4(f"{field}.gateway", msg.gateway) if msg.gateway else None
    iface = msg.iface or None
    names = list(ifaces)
    if iface is not None and iface not in names:
        raise ArgumentError(f"{field}.iface", f"no interface {iface!r} (have {', '.join(names)})")
    if gateway is None and iface is None:
        raise ArgumentError(f"{field}.gateway", "a route needs a gateway or an interface")
    return RouteSpec(net, length, gateway, iface, msg.metric)


def app(field: str, msg: node_pb2.AppConfig) -> AppSpec:
    if msg.kind not in APP_KINDS:
        raise ArgumentError(
            f"{field}.kind", f"must be one of {', '.join(APP_KINDS)}, got {msg.kind!r}"
        )
    if msg.HasField("seed") and msg.kind != "http-server":
        raise ArgumentError(f"{field}.seed", f"applies to http-server only, not {msg.kind}")
    if msg.HasField("rcvbuf_bytes"):
        if msg.kind != "sink":
            raise ArgumentError(f"{field}.rcvbuf_bytes", f"applies to sink only, not {msg.kind}")
        check_range(f"{field}.rcvbuf_bytes", msg.rcvbuf_bytes, 1024, 1 << 30)
    return AppSpec(
        kind=msg.kind,
        port=port(f"{field}.port", msg.port, default=DEFAULT_APP_PORTS[msg.kind]),
        seed=msg.seed if msg.HasField("seed") else None,
        rcvbuf=msg.rcvbuf_bytes if msg.HasField("rcvbuf_bytes") else None,
    )


def stack_options(
    field: str, opts: common_pb2.StackOptions, *, forwarding: bool
) -> tuple[StackConfig, TcpConfig]:
    """StackOptions -> (StackConfig, TcpConfig); absent fields keep Linux's defaults."""
    stack, tcp = StackConfig(forwarding=forwarding), TcpConfig()
    s: dict[str, object] = {}
    t: dict[str, object] = {}
    if opts.HasField("congestion_control"):
        name = opts.congestion_control
        if name not in congestion.ALGORITHMS:
            known = ", ".join(sorted(congestion.ALGORITHMS))
            raise ArgumentError(
                f"{field}.congestion_control", f"must be one of {known}, got {name!r}"
            )
        t["congestion"] = name
    for proto_name, name, low, high in (
        ("msl_ms", "msl", 0.0, 3600e3),
        ("fin_timeout_ms", "fin_timeout", 0.0, 3600e3),
        ("rto_min_ms", "rto_min", 1.0, 60e3),
    ):
        if opts.HasField(proto_name):
            t[name] = seconds(
                f"{field}.{proto_name}", getattr(opts, proto_name), low=low, high=high
            )
    for proto_name, name, low, high in (
        ("syn_retries", "syn_retries", 1, 127),
        ("synack_retries", "synack_retries", 1, 255),
        ("retries1", "retries1", 1, 255),
        ("retries2", "retries2", 1, 255),
        ("orphan_retries", "orphan_retries", 1, 255),
        ("initial_cwnd", "initial_window", 1, 1000),
        ("rmem_bytes", "rmem", 1024, 1 << 30),
        ("wmem_bytes", "wmem", 1024, 1 << 30),
        ("mtu_probing", "mtu_probing", 0, 2),
        ("base_mss", "base_mss", 48, 65495),
    ):
        if opts.HasField(proto_name):
            value = getattr(opts, proto_name)
            check_range(f"{field}.{proto_name}", value, low, high)
            t[name] = value
    for proto_name, name in (
        ("sack", "sack"),
        ("timestamps", "timestamps"),
        ("wscale", "window_scaling"),
        ("syncookies", "syncookies"),
        ("hystart", "hystart"),
        ("tlp", "tlp"),
    ):
        if opts.HasField(proto_name):
            t[name] = getattr(opts, proto_name)
    if opts.HasField("delayed_ack") and not opts.delayed_ack:
        t["delack"] = 0.0  # the ACK goes out at the next timer turn
    if opts.HasField("ttl"):
        check_range(f"{field}.ttl", opts.ttl, 1, 255)
        s["default_ttl"] = opts.ttl
    if opts.HasField("arp_reachable_ms"):
        s["arp_reachable_time"] = seconds(f"{field}.arp_reachable_ms", opts.arp_reachable_ms)
    if opts.HasField("arp_retries"):
        check_range(f"{field}.arp_retries", opts.arp_retries, 1, 100)
        s["arp_mcast_solicit"] = opts.arp_retries
    if opts.HasField("reassembly_timeout_ms"):
        s["ipfrag_time"] = seconds(f"{field}.reassembly_timeout_ms", opts.reassembly_timeout_ms)
    return replace(stack, **s), replace(tcp, **t)  # type: ignore[arg-type]


def rip_options(
    field: str, msg: node_pb2.RipOptions, ifaces: Iterable[str], kind: Kind
) -> RipConfig:
    """RipOptions -> RipConfig; absent fields keep RFC 2453's defaults."""
    names = list(ifaces)
    for i, name in enumerate(msg.passive):
        if name not in names:
            raise ArgumentError(
                f"{field}.passive[{i}]", f"no interface {name!r} (have {', '.join(names)})"
            )
    if kind is Kind.HOST and not msg.silent:
        raise ArgumentError(
            f"{field}.silent", "a host does not forward: it only listens (silent: true)"
        )
    key = msg.auth_key.encode("utf-8") if msg.auth_key else None
    if key is not None and len(key) > 16:
        raise ArgumentError(f"{field}.auth_key", f"at most 16 bytes, got {len(key)}")
    values: dict[str, object] = {}
    for proto_name, name in (
        ("update_ms", "update_interval"),
        ("timeout_ms", "timeout"),
        ("garbage_ms", "garbage"),
    ):
        if msg.HasField(proto_name):
            values[name] = seconds(
                f"{field}.{proto_name}", getattr(msg, proto_name), low=100.0, high=86400e3
            )
    for name in ("triggered_updates", "split_horizon", "poisoned_reverse",
                 "redistribute_connected", "redistribute_static"):  # fmt: skip
        if msg.HasField(name):
            values[name] = getattr(msg, name)
    if msg.HasField("auth_key_id"):
        check_range(f"{field}.auth_key_id", msg.auth_key_id, 0, 255)
        values["auth_key_id"] = msg.auth_key_id
    try:
        return RipConfig(
            passive=frozenset(msg.passive), originate_default=msg.originate_default,
            auth_key=key, silent=msg.silent, **values,  # type: ignore[arg-type]
        )  # fmt: skip
    except ValueError as exc:
        raise ArgumentError(field, str(exc)) from None


def configure(req: node_pb2.ConfigureRequest) -> NodeConfig:
    name = req.name.strip()
    if not name:
        raise ArgumentError("name", "must name the node")
    kind = node_kind("kind", req.kind)
    interfaces = tuple(interface(f"interfaces[{i}]", m) for i, m in enumerate(req.interfaces))
    seen: dict[object, str] = {}
    for i, spec in enumerate(interfaces):
        for key, what in ((("name", spec.name), "name"), (("addr", spec.address), "address")):
            if key in seen:
                raise ArgumentError(f"interfaces[{i}].{what}", f"the same {what} as {seen[key]}")
            seen[key] = f"interfaces[{i}]"
    names = [i.name for i in interfaces]
    routes = tuple(route(f"routes[{i}]", m, names) for i, m in enumerate(req.routes))
    apps = tuple(app(f"apps[{i}]", m) for i, m in enumerate(req.apps))
    ids = [a.app_id for a in apps]
    for i, app_id in enumerate(ids):
        if app_id in ids[:i]:
            raise ArgumentError(f"apps[{i}]", f"{app_id} is listed twice")
    stack, tcp = stack_options("stack", req.stack, forwarding=kind is Kind.ROUTER)
    rip = rip_options("rip", req.rip, names, kind) if req.HasField("rip") else None
    return NodeConfig(
        name=name,
        kind=kind,
        interfaces=interfaces,
        routes=routes,
        stack=stack,
        tcp=tcp,
        apps=apps,
        seed=req.seed if req.HasField("seed") else None,
        lab=req.lab,
        rip=rip,
    )


# ---- faults ---------------------------------------------------------------------------------
def match(field: str, msg: common_pb2.Match) -> Match | None:
    has_ports = msg.HasField("src_port") or msg.HasField("dst_port")
    if not (msg.protocol or msg.src or msg.dst or has_ports):
        return None
    try:
        return Match.of(
            protocol=msg.protocol or None,
            src=msg.src or None,
            dst=msg.dst or None,
            src_port=msg.src_port if msg.HasField("src_port") else None,
            dst_port=msg.dst_port if msg.HasField("dst_port") else None,
        )
    except FaultSpecError as err:
        raise ArgumentError(f"{field}.{err.field.removeprefix('match.')}", err.problem) from None


def fault_direction(field: str, value: int) -> Direction:
    if value not in _DIRECTIONS:
        raise ArgumentError(field, f"unknown direction {value}")
    return _DIRECTIONS[value]


def fault(field: str, msg: common_pb2.FaultSpec, ifaces: Iterable[str] | None) -> FaultSpec:
    """A FaultSpec message -> nodes.faults.FaultSpec; the interface must exist (or be *)
    when ``ifaces`` are given (None: any name, as when reading a node's own report)."""
    iface = msg.iface.strip()
    names = [iface] if ifaces is None else list(ifaces)
    if iface != "*" and iface not in names:
        raise ArgumentError(
            f"{field}.iface",
            f"no interface {msg.iface!r} on this node (have {', '.join(names) or 'none'}, or *)",
        )
    if msg.direction not in _DIRECTIONS:
        raise ArgumentError(f"{field}.direction", f"unknown direction {msg.direction}")
    if msg.distribution not in _DISTRIBUTIONS:
        raise ArgumentError(f"{field}.distribution", f"unknown distribution {msg.distribution}")
    duration = None
    if msg.HasField("duration_ms"):
        duration = seconds(f"{field}.duration_ms", msg.duration_ms, high=MAX_DURATION_MS)
        if duration <= 0:
            raise ArgumentError(f"{field}.duration_ms", "must be > 0 (leave it out: forever)")
    try:
        ge = None
        if msg.HasField("gilbert_elliott"):
            g = msg.gilbert_elliott
            ge = GilbertElliott(
                p=g.p,
                r=g.r if g.HasField("r") else None,
                loss_bad=g.loss_bad if g.HasField("loss_bad") else 1.0,
                loss_good=g.loss_good if g.HasField("loss_good") else 0.0,
            )
        rate = None
        if msg.HasField("rate"):
            r = msg.rate
            rate = RateLimit(
                rate_bps=r.rate_bps,
                burst_bytes=r.burst_bytes if r.HasField("burst_bytes") else 1514,
                queue_limit_bytes=r.queue_limit_bytes if r.HasField("queue_limit_bytes") else None,
                queue_limit_packets=(
                    r.queue_limit_packets if r.HasField("queue_limit_packets") else 1000
                ),
                codel=codel(f"{field}.rate.codel", r.codel) if r.HasField("codel") else None,
            )
        effects = Effects(
            loss=msg.loss,
            gilbert_elliott=ge,
            corrupt=msg.corrupt,
            duplicate=msg.duplicate,
            rate=rate,
            delay=seconds(f"{field}.delay_ms", msg.delay_ms, high=MAX_DELAY_MS),
            jitter=seconds(f"{field}.jitter_ms", msg.jitter_ms, high=MAX_DELAY_MS),
            distribution=_DISTRIBUTIONS[msg.distribution],
            reorder=msg.reorder,
            mtu=msg.mtu if msg.HasField("mtu") else None,
            blackhole_mtu=msg.blackhole_mtu if msg.HasField("blackhole_mtu") else None,
            down=msg.down,
        )
        return FaultSpec(
            iface=iface,
            effects=effects,
            direction=_DIRECTIONS[msg.direction],
            match=match(f"{field}.match", msg.match) if msg.HasField("match") else None,
            seed=msg.seed if msg.HasField("seed") else None,
            duration=duration,
        )
    except FaultSpecError as err:
        raise ArgumentError(f"{field}.{err.field}", err.problem) from None
