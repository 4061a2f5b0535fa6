"""Requests to a running lab, built from what people write.

Every builder takes loose values (``delay="20ms"``, ``loss="5%"``, ``rate="10mbit"``,
``size="10MB"``, numbers in seconds / fractions / bit/s / bytes, ``timedelta``) or typed
ones, checks them, and returns a frozen request whose fields carry their units in their
names. A bad value raises :class:`~orchestrator.domain.errors.InvalidArgument` naming the
argument. The Python client, the CLI and the service all build requests here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from nodes.faults.errors import FaultSpecError
from nodes.faults.match import Match
from nodes.faults.model import Direction, Distribution, Effects, GilbertElliott, RateLimit
from orchestrator.domain import values
from orchestrator.domain.errors import InvalidArgument, echo
from orchestrator.domain.faults import FaultRequest
from orchestrator.domain.values import Duration, Probability, Rate, Size
from topology.model import FaultTarget, TargetKind

MAX_COUNT = 100_000
DEFAULT_TRANSFER_SIZE = 1 << 20
DEFAULT_TRANSFER_TIMEOUT = 60.0
DEFAULT_HTTP_TIMEOUT = 30.0
DEFAULT_EXEC_TIMEOUT = 30.0
MAX_TIMEOUT = 7 * 86400.0
NODE_ACTIONS = ("kill", "stop", "start", "restart", "pause", "unpause")
UNDO = {"kill": "start", "stop": "start", "pause": "unpause"}


# ---- faults -------------------------------------------------------------------------------

GeValue = GilbertElliott | Sequence[Probability] | Mapping[str, Probability]
MatchValue = Match | Mapping[str, Any] | str


def effects(
    *,
    loss: Probability | None = None,
    ge: GeValue | None = None,
    delay: Duration | None = None,
    jitter: Duration | None = None,
    distribution: str | Distribution | None = None,
    duplicate: Probability | None = None,
    corrupt: Probability | None = None,
    reorder: Probability | None = None,
    rate: Rate | RateLimit | None = None,
    mtu: int | None = None,
    blackhole_mtu: int | None = None,
    down: bool = False,
) -> Effects:
    """:class:`Effects` from loose values (each argument named in errors)."""
    found: dict[str, Any] = {"down": down}
    for name, value in (("loss", loss), ("duplicate", duplicate), ("corrupt", corrupt),
                        ("reorder", reorder)):  # fmt: skip
        if value is not None:
            found[name] = values.probability(value, name)
    for name, when in (("delay", delay), ("jitter", jitter)):
        if when is not None:
            found[name] = values.duration(when, name, high=3600.0)
    if distribution is not None:
        found["distribution"] = distribution
    if rate is not None:
        found["rate"] = (
            rate if isinstance(rate, RateLimit) else RateLimit(values.rate(rate, "rate"))
        )
    for name, mtu_value in (("mtu", mtu), ("blackhole_mtu", blackhole_mtu)):
        if mtu_value is not None:
            found[name] = values.integer(mtu_value, name, 68, 65535)
    if ge is not None:
        found["gilbert_elliott"] = gilbert_elliott(ge)
    try:
        return Effects(**found)
    except FaultSpecError as exc:
        raise InvalidArgument(
            exc.problem, "ge" if exc.field == "gilbert_elliott" else exc.field
        ) from None


def gilbert_elliott(value: GeValue) -> GilbertElliott:
    """``(p, r[, loss_bad[, loss_good]])``, a mapping with those keys, or the object."""
    if isinstance(value, GilbertElliott):
        return value
    names = ("p", "r", "loss_bad", "loss_good")
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise InvalidArgument(
                f"unknown key {echo(unknown[0])}; allowed: {', '.join(names)}", "ge"
            )
        items = dict(value)
    else:
        if not 1 <= len(value) <= 4:
            raise InvalidArgument("give p[, r[, loss_bad[, loss_good]]]", "ge")
        items = dict(zip(names, value, strict=False))
    probs = {k: values.probability(v, f"ge.{k}") for k, v in items.items()}
    if "p" not in probs:
        raise InvalidArgument("p is required", "ge")
    try:
        return GilbertElliott(**probs)
    except FaultSpecError as exc:
        raise InvalidArgument(exc.problem, exc.field.replace("gilbert_elliott", "ge")) from None


def match(value: MatchValue) -> Match:
    """A :class:`Match` from a mapping (protocol, src, dst, sport, dport) or the CLI's
    ``tcp,dst=10.0.1.2,dport=80``."""
    if isinstance(value, Match):
        return value
    items: dict[str, Any]
    if isinstance(value, str):
        items = {}
        for item in filter(None, (x.strip() for x in value.split(","))):
            key, eq, text = item.partition("=")
            items["protocol" if not eq else key.strip()] = item if not eq else text.strip()
    else:
        items = dict(value)
    allowed = ("protocol", "src", "dst", "sport", "dport")
    unknown = [k for k in items if k not in allowed]
    if unknown:
        raise InvalidArgument(
            f"unknown criterion {echo(unknown[0])}; allowed: {', '.join(allowed)}", "match"
        )
    ports: dict[str, int] = {}
    for key, name in (("sport", "src_port"), ("dport", "dst_port")):
        if items.get(key) is not None:
            port = items[key]
            if isinstance(port, str) and port.isdigit():
                port = int(port)
            ports[name] = values.integer(port, f"match.{key}", 0, 65535)
    try:
        return Match.of(protocol=items.get("protocol"), src=items.get("src"), dst=items.get("dst"),
                        **ports)  # fmt: skip
    except FaultSpecError as exc:
        raise InvalidArgument(exc.problem, exc.field) from None


def direction(value: str | Direction) -> Direction:
    try:
        return Direction(str(value).lower())
    except ValueError:
        allowed = ", ".join(d.value for d in Direction)
        raise InvalidArgument(f"must be one of {allowed}, got {echo(value)}", "direction") from None


def target(
    *,
    endpoint: str | None = None,
    link: str | None = None,
    node: str | None = None,
    partition: Sequence[Sequence[str]] | None = None,
) -> FaultTarget:
    """Exactly one of ``endpoint="r1:eth1"``, ``link="r1-h2"`` (a link or LAN by name; a
    ``node:iface`` there is taken as an endpoint), ``node="r1"``, ``partition=[[a], [b]]``."""
    given = [k for k, v in (("endpoint", endpoint), ("link", link), ("node", node),
                            ("partition", partition)) if v is not None]  # fmt: skip
    if len(given) != 1:
        raise InvalidArgument(
            "give exactly one target: endpoint, link, node or partition"
            + (f" (got {', '.join(given)})" if given else ""),
            "target",
        )
    if link is not None and ":" in link:
        endpoint, link = link, None
    if endpoint is not None:
        name, colon, iface = endpoint.strip().partition(":")
        if not colon or not name or not iface:
            raise InvalidArgument(f"expected node:iface, got {echo(endpoint)}", "endpoint")
        return FaultTarget(TargetKind.ENDPOINT, node=name, iface=iface)
    if link is not None:
        return FaultTarget(TargetKind.LINK, link=link.strip())
    if node is not None:
        return FaultTarget(TargetKind.NODE, node=node.strip())
    assert partition is not None
    groups = tuple(tuple(n.strip() for n in g if n.strip()) for g in partition)
    if len(groups) < 2 or any(not g for g in groups):
        raise InvalidArgument("give at least two non-empty groups of nodes", "partition")
    flat = [n for g in groups for n in g]
    if len(flat) != len(set(flat)):
        raise InvalidArgument("a node appears in more than one group", "partition")
    return FaultTarget(TargetKind.PARTITION, groups=groups)


def fault(
    *,
    endpoint: str | None = None,
    link: str | None = None,
    node: str | None = None,
    partition: Sequence[Sequence[str]] | None = None,
    direction: str | Direction = Direction.BOTH,
    match: MatchValue | None = None,
    seed: int | None = None,
    duration: Duration | None = None,
    fault_id: str = "",
    one_way: bool = False,
    **effect_values: Any,
) -> FaultRequest:
    """A fault request: one target, effects as :func:`effects` keywords, and ``direction``,
    ``match``, ``seed``, ``duration``, ``fault_id``. ``one_way`` (partitions) is direction
    egress."""
    tgt = target(endpoint=endpoint, link=link, node=node, partition=partition)
    way = _direction(direction)
    if one_way:
        if tgt.kind is not TargetKind.PARTITION:
            raise InvalidArgument("applies to partitions only", "one_way")
        way = Direction.EGRESS
    allowed = effects.__kwdefaults__ or {}
    unknown = sorted(set(effect_values) - set(allowed))
    if unknown:
        raise InvalidArgument(
            f"unknown effect {echo(unknown[0])}; allowed: {', '.join(allowed)}", "effects"
        )
    made = effects(**effect_values)
    if tgt.kind is TargetKind.PARTITION:
        if not made.empty:
            raise InvalidArgument("a partition drops traffic between groups; it takes no effects",
                                  "effects")  # fmt: skip
    elif made.empty:
        raise InvalidArgument(f"needs at least one effect ({', '.join(allowed)})", "effects")
    if made.down and match is not None:
        raise InvalidArgument("cannot be combined with down: a down link drops everything", "match")
    return FaultRequest(
        target=tgt,
        effects=made,
        direction=way,
        match=None if match is None else globals()["match"](match),
        seed=None if seed is None else values.integer(seed, "seed", 0, 2**64 - 1),
        duration=None if duration is None else _positive(duration, "duration"),
        fault_id=fault_id_of(fault_id),
    )


_direction = direction


def _positive(value: Duration, field: str) -> float:
    seconds = values.duration(value, field, high=10 * 365 * 86400.0)
    if seconds <= 0:
        raise InvalidArgument("must be > 0 (leave it out: until cleared)", field)
    return seconds


def fault_id_of(text: str) -> str:
    """A fault id: "" (the lab names it) or 1..64 of letters, digits, ``_ . : -``."""
    text = text.strip()
    if text and (len(text) > 64 or not all(c.isalnum() or c in "_.:-" for c in text)
                 or not text.isascii()):  # fmt: skip
        raise InvalidArgument(f"bad id {echo(text)}: 1..64 of letters, digits, _ . : -", "fault_id")
    return text


def node_action(action: str, duration: Duration | None = None) -> tuple[str, float | None]:
    if action not in NODE_ACTIONS:
        raise InvalidArgument(
            f"unknown action {echo(action)}; allowed: {', '.join(NODE_ACTIONS)}", "action"
        )
    if duration is None:
        return action, None
    if action not in UNDO:
        raise InvalidArgument(f"a duration undoes kill, stop or pause, not {action}", "duration")
    return action, _positive(duration, "duration")


# ---- measurements -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PingRequest:
    destination: str  # node, node:iface or address
    count: int = 1
    interval_s: float | None = None  # default 1 s
    size_bytes: int | None = None  # ICMP data, default 56
    ttl: int | None = None
    dont_fragment: bool = False
    wait_s: float | None = None  # for the last reply, default 1 s
    record_route: bool = False

    @property
    def budget_s(self) -> float:
        """How long the ping may take, at most."""
        return self.count * (self.interval_s or 1.0) + (self.wait_s or 1.0)


def ping(
    destination: str,
    *,
    count: int = 1,
    interval: Duration | None = None,
    size: Size | None = None,
    ttl: int | None = None,
    dont_fragment: bool = False,
    wait: Duration | None = None,
    record_route: bool = False,
) -> PingRequest:
    return PingRequest(
        destination=_destination(destination),
        count=values.integer(count, "count", 1, MAX_COUNT),
        interval_s=None if interval is None else values.duration(interval, "interval", low=0.001),
        size_bytes=None if size is None else values.size(size, "size", high=65507),
        ttl=None if ttl is None else values.integer(ttl, "ttl", 1, 255),
        dont_fragment=bool(dont_fragment),
        wait_s=None if wait is None else values.duration(wait, "wait", low=0.001),
        record_route=bool(record_route),
    )


@dataclass(frozen=True, slots=True)
class TraceRequest:
    destination: str
    method: str = "udp"  # udp | icmp
    max_hops: int | None = None  # default 30
    probes: int | None = None  # per hop, default 3
    wait_s: float | None = None  # per probe, default 1 s

    @property
    def budget_s(self) -> float:
        return (self.max_hops or 30) * (self.probes or 3) * (self.wait_s or 1.0)


def traceroute(
    destination: str,
    *,
    method: str = "udp",
    max_hops: int | None = None,
    probes: int | None = None,
    wait: Duration | None = None,
) -> TraceRequest:
    method = method or "udp"
    if method not in ("udp", "icmp"):
        raise InvalidArgument(f"must be udp or icmp, got {echo(method)}", "method")
    return TraceRequest(
        destination=_destination(destination),
        method=method,
        max_hops=None if max_hops is None else values.integer(max_hops, "max_hops", 1, 255),
        probes=None if probes is None else values.integer(probes, "probes", 1, 10),
        wait_s=None if wait is None else values.duration(wait, "wait", low=0.001, high=60.0),
    )


@dataclass(frozen=True, slots=True)
class TransferRequest:
    source: str
    destination: str  # node, node:iface or address (a sink listens there)
    size_bytes: int = DEFAULT_TRANSFER_SIZE
    congestion_control: str = ""  # "" : the sender's default
    port: int = 5001
    sample_interval_s: float | None = None  # sender samples, default 10 ms
    timeout_s: float = DEFAULT_TRANSFER_TIMEOUT
    seed: int = 1  # of the pattern bytes


def transfer(
    source: str,
    destination: str,
    *,
    size: Size = DEFAULT_TRANSFER_SIZE,
    congestion_control: str = "",
    port: int = 0,
    sample_interval: Duration | None = None,
    timeout: Duration = DEFAULT_TRANSFER_TIMEOUT,
    seed: int | None = None,
) -> TransferRequest:
    if congestion_control not in ("", "cubic", "reno"):
        raise InvalidArgument(
            f"must be cubic or reno, got {echo(congestion_control)}", "congestion_control"
        )
    return TransferRequest(
        source=_name(source, "source"),
        destination=_destination(destination),
        size_bytes=values.size(size, "size", low=1),
        congestion_control=congestion_control,
        port=5001 if port == 0 else values.integer(port, "port", 1, 65535),
        sample_interval_s=(
            None if sample_interval is None
            else values.duration(sample_interval, "sample_interval", low=0.001)
        ),
        timeout_s=values.duration(timeout, "timeout", low=0.001, high=MAX_TIMEOUT),
        seed=1 if seed is None else values.integer(seed, "seed", 0, 2**64 - 1),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class HttpRequest:
    url: str  # http://NODE-or-ADDRESS[:PORT]/PATH
    timeout_s: float = DEFAULT_HTTP_TIMEOUT


def http(url: str, *, timeout: Duration = DEFAULT_HTTP_TIMEOUT) -> HttpRequest:
    if not isinstance(url, str) or not url.strip().startswith("http://"):
        raise InvalidArgument(f"expected http://HOST[:PORT]/PATH, got {echo(url)}", "url")
    return HttpRequest(
        url.strip(), values.duration(timeout, "timeout", low=0.001, high=MAX_TIMEOUT)
    )


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    iface: str = "*"  # an interface, or * for all
    max_packets: int | None = None
    duration_s: float | None = None
    snaplen_bytes: int | None = None


def capture(
    iface: str = "*",
    *,
    max_packets: int | None = None,
    duration: Duration | None = None,
    snaplen: int | None = None,
) -> CaptureRequest:
    if max_packets is not None:
        max_packets = values.integer(max_packets, "max_packets", 1, 1 << 40)
    seconds = None
    if duration is not None:
        seconds = values.duration(duration, "duration", low=0.001, high=MAX_TIMEOUT)
    if snaplen is not None:
        snaplen = values.integer(snaplen, "snaplen", 14, 262144)
    return CaptureRequest((iface or "*").strip(), max_packets, seconds, snaplen)


# ---- apps ----------------------------------------------------------------------------------

MAX_APP_ARGS = 64
MAX_APP_ARG_BYTES = 4096  # a name and its value (the node agent's limit)
AppArgs = Mapping[str, object] | Sequence[str]


def app_args(args: AppArgs | None) -> dict[str, str]:
    """An app's arguments as the node gets them (strings by name) from a mapping of loose
    values (``{"size": 100, "verbose": True}``: numbers and booleans become ``100`` and
    ``true``, as in a topology's ``args:``) or ``NAME=VALUE`` items (the CLI's ``--arg``)."""
    if args is None:
        return {}
    if isinstance(args, str):
        raise InvalidArgument(f"expected NAME=VALUE items or a mapping, got {echo(args)}", "args")
    items: list[tuple[object, object]] = []
    if isinstance(args, Mapping):
        items = list(args.items())
    else:
        for item in args:
            key, eq, text = str(item).partition("=")
            if not eq:
                raise InvalidArgument(f"expected NAME=VALUE, got {echo(item)}", "args")
            items.append((key.strip(), text))
    out: dict[str, str] = {}
    for name, value in items:
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"an argument needs a name, got {echo(name)}", "args")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str | int | float):
            text = str(value)
        else:
            raise InvalidArgument(
                f"{name}: expected a string, number or boolean, got {echo(value)}", "args"
            )
        if len(name.encode()) + len(text.encode()) > MAX_APP_ARG_BYTES:
            raise InvalidArgument(f"{name}: at most {MAX_APP_ARG_BYTES} bytes", "args")
        if name in out:
            raise InvalidArgument(f"{name} is given twice", "args")
        out[name] = text
    if len(out) > MAX_APP_ARGS:
        raise InvalidArgument(f"at most {MAX_APP_ARGS} arguments, got {len(out)}", "args")
    return out


# ---- live configuration -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterfaceChange:
    """A change of one interface of a running node; None leaves that part as it is."""

    iface: str
    mtu: int | None = None
    up: bool | None = None
    address: IPv4Interface | None = None  # with its prefix length

    @property
    def empty(self) -> bool:
        return self.mtu is None and self.up is None and self.address is None


def interface_change(
    iface: str, *, mtu: int | None = None, up: bool | None = None, address: str | None = None
) -> InterfaceChange:
    change = InterfaceChange(
        iface=_name(iface, "iface"),
        mtu=None if mtu is None else values.integer(mtu, "mtu", 68, 65535),
        up=up,
        address=None if address is None else _interface_address(address),
    )
    if change.empty:
        raise InvalidArgument("give at least one of mtu, up, address", "iface")
    return change


def _interface_address(text: str) -> IPv4Interface:
    try:
        return IPv4Interface(text.strip())
    except ValueError:
        raise InvalidArgument(
            f"expected an IPv4 address like 10.0.1.5/24, got {echo(text)}", "address"
        ) from None


@dataclass(frozen=True, slots=True)
class RouteRequest:
    prefix: IPv4Network  # 0.0.0.0/0: the default route
    via: str = ""  # the gateway ("" : directly on ``dev``)
    dev: str = ""  # "" : the interface whose subnet holds the gateway
    metric: int = 0


def route(prefix: str, *, via: str = "", dev: str = "", metric: int = 0) -> RouteRequest:
    if not via and not dev:
        raise InvalidArgument("a route needs a gateway (via) or an interface (dev)", "via")
    return RouteRequest(
        prefix=prefix_of(prefix),
        via=_address(via, "via") if via else "",
        dev=dev.strip(),
        metric=values.integer(metric, "metric", 0, 2**31),
    )


def prefix_of(text: str) -> IPv4Network:
    """``default``, ``a.b.c.d/len`` or ``a.b.c.d`` (a /32); host bits must be clear."""
    text = text.strip()
    if text == "default":
        return IPv4Network("0.0.0.0/0")
    try:
        return IPv4Network(text)
    except ValueError as exc:
        raise InvalidArgument(
            f"expected a prefix like 10.0.2.0/24 or default, got {echo(text)} ({exc})", "prefix"
        ) from None


def _address(text: str, field: str) -> str:
    try:
        return str(IPv4Address(text.strip()))
    except ValueError:
        raise InvalidArgument(
            f"expected an IPv4 address like 10.0.1.1, got {echo(text)}", field
        ) from None


def _destination(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("is required (a node, node:iface or an address)", "destination")
    return text.strip()


def _name(text: str, field: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("is required", field)
    return text.strip()
