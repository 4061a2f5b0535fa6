"""Lab-level faults: one API over the node agents' fault engines, plus node actions,
partitions, durations and the topology's timeline.

A lab fault has a target and effects (common.proto's FaultSpec). It fans out to *parts*,
one agent fault each, and its counters are the parts' counters summed:

    endpoint node:iface   that interface of that node (a linux node's interface: the
                          peers on its link do it, egress <-> ingress, matching its address)
    link NAME             every member of the link or LAN; direction both = each frame
                          once (egress at every member), egress/ingress = that side
    node NAME             every interface of the node ("*")
    partition groups      for each blocked pair of groups, every node of the sending group
                          drops (egress, loss 100%) IPv4 to each address of the other group

The node agents own the deadlines (a fault expires even if the orchestrator dies); the
manager keeps the last counters it saw, so expired and cleared faults still report what
they did. After a node restarts, the faults with parts on it that have not expired are
installed again with their remaining duration and the same seed (and the counters of the
earlier incarnation carried over).

Also here: unit parsers for people (``5%``, ``10ms``, ``100mbit``) and a small real-time
scheduler (timeline entries, node-action undo after a duration).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import grpc
from wirelab.v1 import common_pb2, lab_pb2, node_pb2

from nodes.agent import topb
from nodes.faults import Direction, Effects, FaultSpec, Match
from orchestrator.labs import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LabRuntime,
    NotFound,
    ServiceError,
    from_rpc_error,
)
from topology import FaultEntry, IfRef, Lab, NodeKind, TargetKind

log = logging.getLogger(__name__)

COUNTER_FIELDS = tuple(f.name for f in common_pb2.FaultCounters.DESCRIPTOR.fields)
EFFECT_FIELDS = ("loss", "delay_ms", "jitter_ms", "duplicate", "corrupt", "reorder", "down")
RPC_TIMEOUT = 5.0
Publish = Callable[[lab_pb2.LabEvent], None]

EGRESS, INGRESS = common_pb2.DIRECTION_EGRESS, common_pb2.DIRECTION_INGRESS
BOTH_WAYS = (common_pb2.DIRECTION_UNSPECIFIED, common_pb2.DIRECTION_BOTH)


# ---- units (the CLI's notations) -------------------------------------------------------

_NUMBER = r"([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)"
_DURATION_RE = re.compile(rf"^\s*{_NUMBER}\s*(us|ms|s|m)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*([kmg]?)(?:bit|bps|bit/s)?\s*$", re.IGNORECASE)
_RATE_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def parse_probability(text: str) -> float:
    """``5%`` or ``0.05`` -> 0.05."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ValueError(f"bad probability {text!r}: use a percentage like 5% or 0..1") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"bad probability {text!r}: must be within 0%..100% (0..1)")
    return value


def parse_duration(text: str) -> float:
    """``10ms``, ``1.5s``, ``200us``, ``2m`` or plain seconds -> seconds."""
    m = _DURATION_RE.match(text)
    if m is None:
        raise ValueError(f"bad duration {text!r}: use a number with a unit like 10ms, 2s, 1m")
    return float(m.group(1)) * _DURATION_UNITS[(m.group(2) or "s").lower()]


def parse_rate(text: str) -> float:
    """``100mbit``, ``512kbit``, ``1gbit``, ``10mbps`` or plain bits/s -> bits per second."""
    m = _RATE_RE.match(text)
    if m is None or float(m.group(1)) <= 0:
        raise ValueError(f"bad rate {text!r}: use bits/s with a unit like 100mbit, 512kbit")
    return float(m.group(1)) * _RATE_SCALE[m.group(2).lower()]


def parse_size(text: str) -> int:
    """``10MB``, ``1MiB``, ``500k`` or plain bytes -> bytes."""
    m = re.match(r"^\s*([0-9]*\.?[0-9]+)\s*([kmg]?)(i?)b?\s*$", text, re.IGNORECASE)
    if m is None:
        raise ValueError(f"bad size {text!r}: use bytes with a unit like 10MB, 1MiB, 500k")
    base = 1024 if m.group(3) else 1000
    power = " kmg".index((m.group(2) or " ").lower())
    return int(float(m.group(1)) * base**power)


# ---- topology timeline -> messages ------------------------------------------------------


def effects_message(
    effects: Effects,
    direction: Direction,
    match: Match | None,
    seed: int | None,
    duration: float | None,
) -> common_pb2.FaultSpec:
    """Topology effects -> the agent's FaultSpec (its iface left empty: the target decides)."""
    spec = topb.fault_spec(FaultSpec("*", effects, direction, match, seed, duration))
    spec.iface = ""
    return spec


def entry_spec(entry: FaultEntry) -> lab_pb2.LabFaultSpec:
    """A timeline entry (without an action) -> the lab fault it installs."""
    t = entry.target
    target = lab_pb2.FaultTarget()
    if t.kind is TargetKind.ENDPOINT:
        target.endpoint = f"{t.node}:{t.iface}"
    elif t.kind is TargetKind.LINK:
        target.link = t.link or ""
    elif t.kind is TargetKind.NODE:
        target.node = t.node or ""
    else:
        target.partition.groups.extend(lab_pb2.NodeGroup(nodes=g) for g in t.groups)
        if entry.direction is not Direction.BOTH:
            target.partition.one_way = True
    effects = entry.effects if t.kind is not TargetKind.PARTITION else Effects(loss=1.0)
    direction = entry.direction if t.kind is not TargetKind.PARTITION else Direction.BOTH
    return lab_pb2.LabFaultSpec(
        target=target,
        effects=effects_message(effects, direction, entry.match, entry.seed, entry.duration),
    )


# ---- describing faults ---------------------------------------------------------------


def target_text(target: lab_pb2.FaultTarget) -> str:
    kind = target.WhichOneof("kind")
    if kind == "partition":
        sep = " -> " if target.partition.one_way else " | "
        return "partition " + sep.join(",".join(g.nodes) for g in target.partition.groups)
    if kind == "endpoint":
        return target.endpoint
    return f"{kind} {getattr(target, kind)}" if kind else "?"


def _ms(value: float) -> str:
    return f"{value / 1000:g}s" if value >= 1000 else f"{value:g}ms"


def effects_text(spec: common_pb2.FaultSpec) -> str:
    parts = []
    for name in ("loss", "duplicate", "corrupt", "reorder"):
        value = getattr(spec, name)
        if value:
            parts.append(f"{name}={value * 100:g}%")
    if spec.HasField("gilbert_elliott"):
        g = spec.gilbert_elliott
        parts.append(f"ge(p={g.p:g},r={g.r:g})" if g.HasField("r") else f"ge(p={g.p:g})")
    if spec.delay_ms:
        parts.append(f"delay={_ms(spec.delay_ms)}")
    if spec.jitter_ms:
        parts.append(f"jitter={_ms(spec.jitter_ms)}")
    if spec.HasField("rate"):
        parts.append(f"rate={_rate_text(spec.rate.rate_bps)}")
    if spec.HasField("blackhole_mtu"):
        parts.append(f"mtu={spec.blackhole_mtu}")
    if spec.down:
        parts.append("down")
    if spec.direction in (EGRESS, INGRESS):
        parts.append("(egress)" if spec.direction == EGRESS else "(ingress)")
    if spec.HasField("match"):
        m = spec.match
        what = [x for x in (m.protocol, m.src and f"src {m.src}", m.dst and f"dst {m.dst}") if x]
        if m.HasField("src_port"):
            what.append(f"sport {m.src_port}")
        if m.HasField("dst_port"):
            what.append(f"dport {m.dst_port}")
        if what:
            parts.append("[" + " ".join(what) + "]")
    if spec.HasField("duration_ms"):
        parts.append(f"for {_ms(spec.duration_ms)}")
    return " ".join(parts) or "-"


def _rate_text(bps: float) -> str:
    for unit, scale in (("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)):
        if bps >= scale:
            return f"{bps / scale:g}{unit}"
    return f"{bps:g}bit"


def sum_counters(counters: Iterable[common_pb2.FaultCounters]) -> common_pb2.FaultCounters:
    total = common_pb2.FaultCounters()
    for c in counters:
        for name in COUNTER_FIELDS:
            setattr(total, name, getattr(total, name) + getattr(c, name))
    return total


# ---- the model ------------------------------------------------------------------------


@dataclass(eq=False)
class Part:
    """One agent fault a lab fault is made of."""

    node: str
    agent_id: str
    spec: common_pb2.FaultSpec
    info: common_pb2.FaultInfo | None = None  # last seen on the agent
    carried: common_pb2.FaultCounters = field(default_factory=common_pb2.FaultCounters)
    installed: bool = False  # on the agent now (as far as we know)

    def counters(self) -> common_pb2.FaultCounters:
        live = [self.info.counters] if self.info is not None else []
        return sum_counters([self.carried, *live])


@dataclass(eq=False)
class LabFaultState:
    fault_id: str
    target: lab_pb2.FaultTarget
    effects: common_pb2.FaultSpec
    origin: str
    seed: int
    created: float  # monotonic
    parts: list[Part]
    cleared: bool = False

    @property
    def duration(self) -> float | None:
        return self.effects.duration_ms / 1000.0 if self.effects.HasField("duration_ms") else None

    def remaining(self, now: float) -> float | None:
        d = self.duration
        return None if d is None else max(0.0, self.created + d - now)

    def state(self, now: float) -> str:
        if self.cleared:
            return "cleared"
        remaining = self.remaining(now)
        return "expired" if remaining is not None and remaining <= 0 else "active"

    def message(self, lab: str, now: float) -> lab_pb2.LabFault:
        msg = lab_pb2.LabFault(
            fault_id=self.fault_id,
            lab=lab,
            target=self.target,
            effects=self.effects,
            state=self.state(now),
            origin=self.origin,
            seed=self.seed,
            age_ms=(now - self.created) * 1000.0,
            counters=sum_counters(p.counters() for p in self.parts),
            description=f"{target_text(self.target)}: {effects_text(self.effects)}",
        )
        remaining = self.remaining(now)
        if remaining is not None:
            msg.remaining_ms = remaining * 1000.0
        for p in self.parts:
            info = common_pb2.FaultInfo(
                node=p.node, fault_id=p.agent_id, seed=self.seed, spec=p.spec, counters=p.counters()
            )
            if p.info is not None:
                info.age_ms = p.info.age_ms
                if p.info.HasField("remaining_ms"):
                    info.remaining_ms = p.info.remaining_ms
                if p.info.HasField("first_hit_ms"):
                    info.first_hit_ms = p.info.first_hit_ms
            msg.parts.append(info)
        return msg


def _has_effect(spec: common_pb2.FaultSpec) -> bool:
    return any(getattr(spec, f) for f in EFFECT_FIELDS) or any(
        spec.HasField(f) for f in ("gilbert_elliott", "rate", "blackhole_mtu")
    )


# ---- expanding targets into parts ------------------------------------------------------


class _Expander:
    """Target -> (node, agent FaultSpec) pairs, validated against the planned lab."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def _node(self, name: str, field_name: str) -> None:
        try:
            self.lab.node(name)
        except KeyError:
            have = ", ".join(n.name for n in self.lab.nodes)
            raise NotFound(
                f"lab {self.lab.name} has no node {name!r} (have {have})", field_name
            ) from None

    def _agent(self, node: str) -> bool:
        return self.lab.node(node).kind is not NodeKind.LINUX

    def expand(
        self, target: lab_pb2.FaultTarget, effects: common_pb2.FaultSpec
    ) -> list[tuple[str, common_pb2.FaultSpec]]:
        kind = target.WhichOneof("kind")
        where = f"fault.target.{kind}"
        if kind is None:
            raise InvalidArgument("give one of endpoint, link, node, partition", "fault.target")
        if kind == "partition":
            return self.partition(target.partition, effects, where)
        if not _has_effect(effects):
            raise InvalidArgument(
                "needs at least one effect (loss, ge, delay, duplicate, corrupt, reorder, rate, "
                "mtu, down)",
                "fault.effects",
            )
        if kind == "endpoint":
            node, colon, iface = target.endpoint.partition(":")
            if not colon or not node or not iface:
                raise InvalidArgument(f"expected node:iface, got {target.endpoint!r}", where)
            self._node(node, where)
            names = [i.name for i in self.lab.node(node).interfaces]
            if iface not in names:
                raise NotFound(
                    f"{node} has no interface {iface!r} (have {', '.join(names)})", where
                )
            return self._endpoint(IfRef(node, iface), effects, effects.direction, where)
        if kind == "link":
            try:
                segment = self.lab.segment(target.link)
            except KeyError:
                have = ", ".join(s.name for s in self.lab.segments)
                raise NotFound(
                    f"lab {self.lab.name} has no link or LAN {target.link!r} (have {have})", where
                ) from None
            direction: int = EGRESS if effects.direction in BOTH_WAYS else effects.direction
            out = []
            for member in segment.members:
                out += self._endpoint(member, effects, direction, where)
            return out
        self._node(target.node, where)
        planned = self.lab.node(target.node)
        if self._agent(planned.name):
            spec = _copy(effects)
            spec.iface = "*"
            return [(planned.name, spec)]
        out = []
        for i in planned.interfaces:
            out += self._endpoint(i.ref, effects, effects.direction, where)
        return out

    def _endpoint(
        self, ref: IfRef, effects: common_pb2.FaultSpec, direction: int, where: str
    ) -> list[tuple[str, common_pb2.FaultSpec]]:
        if self._agent(ref.node):
            spec = _copy(effects)
            spec.iface = ref.iface
            spec.direction = direction  # type: ignore[assignment]
            return [(ref.node, spec)]
        # a linux node: its peers on the segment do it, matching its address
        iface = self.lab.interface(ref)
        segment = self.lab.segment(iface.segment)
        peers = [m for m in segment.members if m != ref and self._agent(m.node)]
        if not peers:
            raise FailedPrecondition(
                f"{ref} is on a linux node with no wirelab peer on {segment.name} to impair "
                "its traffic",
                where,
            )
        out = []
        address = str(iface.address)
        sides = (EGRESS, INGRESS) if direction in BOTH_WAYS else (direction,)
        for side in sides:
            for peer in peers:
                spec = _copy(effects)
                spec.iface = peer.iface
                if side == EGRESS:  # what the linux node sends arrives at the peer
                    spec.direction = INGRESS
                    if not spec.match.src:
                        spec.match.src = address
                else:
                    spec.direction = EGRESS
                    if not spec.match.dst:
                        spec.match.dst = address
                out.append((peer.node, spec))
        return out

    def partition(
        self, target: lab_pb2.PartitionTarget, effects: common_pb2.FaultSpec, where: str
    ) -> list[tuple[str, common_pb2.FaultSpec]]:
        groups = [list(g.nodes) for g in target.groups]
        if len(groups) < 2 or any(not g for g in groups):
            raise InvalidArgument("needs at least two non-empty groups of nodes", f"{where}.groups")
        seen: set[str] = set()
        for i, group in enumerate(groups):
            for name in group:
                self._node(name, f"{where}.groups[{i}]")
                if name in seen:
                    raise InvalidArgument(f"node {name} is in two groups", f"{where}.groups[{i}]")
                seen.add(name)
        pairs = (
            [(0, j) for j in range(1, len(groups))]
            if target.one_way
            else [(i, j) for i in range(len(groups)) for j in range(len(groups)) if i != j]
        )
        out: list[tuple[str, common_pb2.FaultSpec]] = []
        for i, j in pairs:
            for sender in groups[i]:
                for receiver in groups[j]:
                    out += self._block(sender, receiver, effects, where)
        return out

    def _block(
        self, sender: str, receiver: str, effects: common_pb2.FaultSpec, where: str
    ) -> list[tuple[str, common_pb2.FaultSpec]]:
        """Drop what ``sender`` sends to ``receiver``'s addresses (at the sender, or at the
        receiver's ingress when the sender is a linux node)."""
        out = []
        src_addrs = [str(i.address) for i in self.lab.node(sender).interfaces]
        for iface in self.lab.node(receiver).interfaces:
            if self._agent(sender):
                spec = _partition_spec(effects, EGRESS)
                spec.match.dst = str(iface.address)
                out.append((sender, spec))
            elif self._agent(receiver):
                for src in src_addrs:
                    spec = _partition_spec(effects, INGRESS)
                    spec.match.src = src
                    out.append((receiver, spec))
            else:
                raise FailedPrecondition(
                    f"cannot separate two linux nodes ({sender}, {receiver}): no agent on either",
                    where,
                )
        return out


def _copy(spec: common_pb2.FaultSpec) -> common_pb2.FaultSpec:
    out = common_pb2.FaultSpec()
    out.CopyFrom(spec)
    return out


def _partition_spec(effects: common_pb2.FaultSpec, direction: int) -> common_pb2.FaultSpec:
    spec = common_pb2.FaultSpec(iface="*", loss=1.0)  # a match excludes "down"
    spec.direction = direction  # type: ignore[assignment]
    for name in ("seed", "duration_ms"):
        if effects.HasField(name):
            setattr(spec, name, getattr(effects, name))
    return spec


# ---- the scheduler -----------------------------------------------------------------------


class Scheduler:
    """Run callables at monotonic times on one thread (errors are logged, not raised)."""

    def __init__(self, name: str) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"sched-{name}", daemon=True)
        self._thread.start()

    def call_at(self, when: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), fn))
            self._cond.notify()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        self.call_at(time.monotonic() + delay, fn)

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception:
                log.exception("scheduled lab action failed")

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(5.0)


# ---- the manager -------------------------------------------------------------------------


def _agent_field(exc: ServiceError) -> ServiceError:
    """The agent names fields of its AddFaultRequest ('fault.loss'): ours are one level
    deeper ('fault.effects.loss')."""
    text = str(exc)
    if "fault." in text:
        exc.args = (text.replace("fault.", "fault.effects.", 1),)
    return exc


class FaultManager:
    """Every fault of one lab (thread-safe)."""

    def __init__(self, runtime: LabRuntime, publish: Publish, *, seed: int = 1) -> None:
        self.runtime = runtime
        self.lab = runtime.lab
        self.publish = publish
        self.seed = seed
        self.scheduler = Scheduler(self.lab.name)
        self._lock = threading.RLock()
        self._faults: dict[str, LabFaultState] = {}
        self._ids = itertools.count(1)
        self._expander = _Expander(self.lab)

    # ---- ids and seeds ---------------------------------------------------------------
    def _new_id(self, wanted: str) -> str:
        if wanted:
            if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", wanted):
                raise InvalidArgument(
                    f"bad id {wanted!r}: letters, digits, _ . : -", "fault.fault_id"
                )
            if wanted in self._faults:
                raise AlreadyExists(f"lab {self.lab.name} has a fault {wanted!r}", "fault.fault_id")
            return wanted
        while True:
            candidate = f"F{next(self._ids)}"
            if candidate not in self._faults:
                return candidate

    def _seed_for(self, fault_id: str) -> int:
        digest = hashlib.sha256(f"{self.lab.name}/{fault_id}/{self.seed}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 1

    # ---- add / clear / list -------------------------------------------------------------
    def add(self, request: lab_pb2.LabFaultSpec, origin: str = "api") -> lab_pb2.LabFault:
        effects = _copy(request.effects)
        effects.iface = ""
        if effects.HasField("duration_ms") and effects.duration_ms <= 0:
            raise InvalidArgument(
                "must be > 0 (leave it out: until cleared)", "fault.effects.duration_ms"
            )
        expanded = self._expander.expand(request.target, effects)
        with self._lock:
            fault_id = self._new_id(request.fault_id.strip())
            seed = effects.seed if effects.HasField("seed") else self._seed_for(fault_id)
            effects.seed = seed
            parts = []
            for i, (node, spec) in enumerate(expanded):
                spec.seed = seed
                parts.append(Part(node, f"{fault_id}.{i}", spec))
            fault = LabFaultState(
                fault_id, request.target, effects, origin, seed, time.monotonic(), parts
            )
            installed: list[Part] = []
            try:
                for part in parts:
                    self._install(part, part.spec)
                    installed.append(part)
            except BaseException:
                for part in installed:
                    self._remove(part)
                raise
            self._faults[fault_id] = fault
            msg = fault.message(self.lab.name, time.monotonic())
        self._event("added", msg)
        return msg

    def _install(self, part: Part, spec: common_pb2.FaultSpec) -> None:
        stub = self.runtime.agent(part.node)
        request = node_pb2.AddFaultRequest(fault=spec, fault_id=part.agent_id)
        try:
            part.info = stub.AddFault(request, timeout=RPC_TIMEOUT)
        except grpc.RpcError as exc:
            raise _agent_field(from_rpc_error(exc, node=part.node)) from None
        part.installed = True

    def _remove(self, part: Part) -> None:
        if not part.installed:
            return
        part.installed = False
        try:
            reply = self.runtime.agent(part.node).ClearFault(
                node_pb2.ClearFaultRequest(fault_id=part.agent_id), timeout=RPC_TIMEOUT
            )
        except (grpc.RpcError, ServiceError) as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            if code not in (grpc.StatusCode.NOT_FOUND, None):
                log.info("clearing %s on %s: %s", part.agent_id, part.node, exc)
            return
        for info in reply.cleared:
            part.info = info

    def get(self, fault_id: str) -> LabFaultState:
        found = self._faults.get(fault_id)
        if found is None:
            have = ", ".join(self._faults) or "none"
            raise NotFound(
                f"lab {self.lab.name} has no fault {fault_id!r} (have {have})", "fault_id"
            )
        return found

    def clear(self, fault_id: str = "", *, all: bool = False) -> list[lab_pb2.LabFault]:
        if all and fault_id:
            raise InvalidArgument("must be empty with all=true", "fault_id")
        if not all and not fault_id:
            raise InvalidArgument("give a fault id (or all=true)", "fault_id")
        with self._lock:
            if all:
                targets = [f for f in self._faults.values() if not f.cleared]
            else:
                targets = [self.get(fault_id)]
            now = time.monotonic()
            out = []
            for fault in targets:
                was_active = fault.state(now) == "active"
                for part in fault.parts:
                    self._remove(part)
                if was_active:
                    fault.cleared = True
                out.append(fault.message(self.lab.name, now))
        for msg in out:
            self._event("cleared", msg)
        return out

    def refresh(self) -> None:
        """Read every node's faults: latest counters of the parts still installed."""
        with self._lock:
            nodes = {p.node for f in self._faults.values() for p in f.parts if p.installed}
            seen: dict[str, dict[str, common_pb2.FaultInfo]] = {}
            for node in sorted(nodes):
                try:
                    reply = self.runtime.agent(node).ListFaults(
                        node_pb2.ListFaultsRequest(), timeout=RPC_TIMEOUT
                    )
                except (grpc.RpcError, ServiceError):
                    continue  # a stopped node: keep the last counters seen
                seen[node] = {i.fault_id: i for i in reply.faults}
            for fault in self._faults.values():
                for part in fault.parts:
                    found = seen.get(part.node)
                    if found is None or not part.installed:
                        continue
                    info = found.get(part.agent_id)
                    if info is None:
                        part.installed = False  # expired on the node
                    else:
                        part.info = info

    def list(self, *, active_only: bool = False) -> list[lab_pb2.LabFault]:
        self.refresh()
        with self._lock:
            now = time.monotonic()
            out = [f.message(self.lab.name, now) for f in self._faults.values()]
        return [f for f in out if f.state == "active"] if active_only else out

    def active_count(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(f.state(now) == "active" for f in self._faults.values())

    def describe(self, fault_id: str) -> lab_pb2.LabFault:
        self.refresh()
        with self._lock:
            return self.get(fault_id).message(self.lab.name, time.monotonic())

    # ---- agent events --------------------------------------------------------------------
    def on_node_event(self, node: str, event: node_pb2.Event) -> None:
        """A node fault expired or was cleared: keep its final counters."""
        if event.WhichOneof("kind") != "fault":
            return
        change, info = event.fault.change, event.fault.fault
        if change not in (node_pb2.FaultEvent.CHANGE_EXPIRED, node_pb2.FaultEvent.CHANGE_CLEARED):
            return
        lab_id = info.fault_id.rsplit(".", 1)[0]
        expired: lab_pb2.LabFault | None = None
        with self._lock:
            fault = self._faults.get(lab_id)
            if fault is None:
                return
            for part in fault.parts:
                if part.node == node and part.agent_id == info.fault_id:
                    part.info, part.installed = info, False
            now = time.monotonic()
            if (
                change == node_pb2.FaultEvent.CHANGE_EXPIRED
                and fault.state(now) == "expired"
                and not any(p.installed for p in fault.parts)
            ):
                expired = fault.message(self.lab.name, now)
        if expired is not None:
            self._event("expired", expired)

    # ---- node restarts ---------------------------------------------------------------------
    def reapply(self, node: str) -> int:
        """Install again the unexpired faults that had parts on ``node`` (it restarted and
        lost them); returns how many parts were installed."""
        count = 0
        with self._lock:
            now = time.monotonic()
            for fault in self._faults.values():
                if fault.state(now) != "active":
                    continue
                for part in fault.parts:
                    if part.node != node:
                        continue
                    part.carried = part.counters()
                    part.info, part.installed = None, False
                    spec = _copy(part.spec)
                    remaining = fault.remaining(now)
                    if remaining is not None:
                        spec.duration_ms = max(1.0, remaining * 1000.0)
                    try:
                        self._install(part, spec)
                        count += 1
                    except ServiceError as exc:
                        log.warning("re-applying %s on %s: %s", part.agent_id, node, exc)
        return count

    def forget_node(self, node: str) -> None:
        """The node stopped: its parts are gone with it (counters kept)."""
        with self._lock:
            for fault in self._faults.values():
                for part in fault.parts:
                    if part.node == node and part.installed:
                        part.installed = False

    # ---- partitions / timeline -------------------------------------------------------------
    def partition(
        self,
        groups: Sequence[Sequence[str]],
        *,
        one_way: bool = False,
        duration: float | None = None,
        fault_id: str = "",
        origin: str = "partition",
    ) -> lab_pb2.LabFault:
        target = lab_pb2.FaultTarget()
        target.partition.one_way = one_way
        target.partition.groups.extend(lab_pb2.NodeGroup(nodes=list(g)) for g in groups)
        effects = common_pb2.FaultSpec(loss=1.0)
        if duration is not None:
            effects.duration_ms = duration * 1000.0
        spec = lab_pb2.LabFaultSpec(target=target, effects=effects, fault_id=fault_id)
        return self.add(spec, origin)

    def _event(self, change: str, fault: lab_pb2.LabFault) -> None:
        self.publish(
            lab_pb2.LabEvent(
                unix_time_s=time.time(),
                lab=self.lab.name,
                fault=lab_pb2.LabFaultEvent(change=change, fault=fault),
            )
        )

    def close(self) -> None:
        self.scheduler.close()
