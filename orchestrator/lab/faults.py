"""Lab faults: one API over the node agents' fault engines, plus partitions, durations,
linux MTU changes and the topology's timeline.

A lab fault (:class:`~orchestrator.domain.faults.FaultRequest`) fans out to *parts*, one
node fault each, and its counters are the parts' counters summed:

    endpoint node:iface   that interface of that node (a linux node's interface: the
                          peers on its link do the frame effects, egress <-> ingress,
                          matching its address; its kernel takes the MTU)
    link NAME             every member of the link or LAN; direction both = each frame
                          once (egress at every member), egress/ingress = that side; an
                          MTU applies to every member's interface
    node NAME             every interface of the node ("*")
    partition groups      for each blocked pair of groups, every node of the sending group
                          drops (egress, loss 100%) IPv4 to each address of the other group

Our nodes own their parts' deadlines (a fault expires even if the orchestrator dies);
an MTU on a linux node is the kernel interface's own MTU, changed and restored here (the
lab's scheduler keeps that deadline). When an MTU fault ends, the linux nodes' kernels
forget the path MTUs they learned from it (their route cache is flushed), so the path is
as it was before the fault. The manager keeps the last counters it saw, so
expired and cleared faults still report what they did. After a node restarts, the faults
with parts on it that have not expired are installed again with their remaining duration
and the same seed (and the counters of the earlier incarnation carried over).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from nodes.faults.match import Match, Prefix
from nodes.faults.model import EMPTY_EFFECTS, Direction, Effects, FaultCounters, FaultSpec
from orchestrator.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LabError,
    NotFound,
)
from orchestrator.domain.events import EventKind, FaultChange, LabEvent, NodeFaultChange
from orchestrator.domain.faults import (
    FaultPart,
    FaultRequest,
    FaultState,
    LabFault,
    describe,
    sum_counters,
)
from orchestrator.domain.requests import fault_id_of
from orchestrator.domain.results import ExecResult
from orchestrator.lab.scheduler import Scheduler
from orchestrator.wire.agent import AgentWire
from topology import IfRef, Lab, NodeKind, TargetKind

log = logging.getLogger(__name__)
PARTITION = Effects(loss=1.0)  # a match excludes "down"
LINUX_MTU_TIMEOUT = 15.0


class Nodes(Protocol):
    """What the manager needs of the running lab."""

    def agent(self, node: str, field_name: str = "node") -> AgentWire: ...

    def exec(self, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult: ...

    def flush_path_mtus(self) -> None: ...


@dataclass(eq=False)
class _Part:
    node: str
    agent_id: str
    spec: FaultSpec
    linux: bool = False  # a kernel MTU on a linux node (applied and restored by the lab)
    info: FaultPart | None = None  # last seen on the agent
    carried: FaultCounters = field(default_factory=FaultCounters)
    installed: bool = False  # on the node now (as far as we know)

    def counters(self) -> FaultCounters:
        live = [self.info.counters] if self.info is not None else []
        return sum_counters([self.carried, *live])


@dataclass(eq=False)
class _Fault:
    fault_id: str
    request: FaultRequest
    origin: str
    seed: int
    created: float  # monotonic
    parts: list[_Part]
    cleared: bool = False

    def remaining(self, now: float) -> float | None:
        d = self.request.duration
        return None if d is None else max(0.0, self.created + d - now)

    def state(self, now: float) -> FaultState:
        if self.cleared:
            return FaultState.CLEARED
        remaining = self.remaining(now)
        return FaultState.EXPIRED if remaining is not None and remaining <= 0 else FaultState.ACTIVE

    def view(self, lab: str, now: float) -> LabFault:
        remaining = self.remaining(now)
        parts = []
        for p in self.parts:
            info = p.info
            parts.append(
                FaultPart(
                    node=p.node,
                    fault_id=p.agent_id,
                    spec=p.spec,
                    seed=self.seed,
                    age_ms=info.age_ms if info is not None else (now - self.created) * 1e3,
                    remaining_ms=info.remaining_ms if info is not None else None,
                    counters=p.counters(),
                    first_hit_ms=info.first_hit_ms if info is not None else None,
                )
            )
        return LabFault(
            fault_id=self.fault_id,
            lab=lab,
            request=replace(self.request, fault_id=self.fault_id, seed=self.seed),
            state=self.state(now),
            origin=self.origin,
            seed=self.seed,
            age_ms=(now - self.created) * 1000.0,
            remaining_ms=None if remaining is None else remaining * 1000.0,
            counters=sum_counters([p.counters() for p in self.parts]),
            parts=tuple(parts),
            description=describe(self.request),
        )


# ---- expanding targets into parts ------------------------------------------------------


class Expander:
    """Request -> node fault specs, validated against the planned lab."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def _node(self, name: str | None, field_name: str) -> str:
        try:
            return self.lab.node(name or "").name
        except KeyError:
            have = ", ".join(n.name for n in self.lab.nodes)
            raise NotFound(
                f"lab {self.lab.name} has no node {name!r} (have {have})", field_name
            ) from None

    def _agent(self, node: str) -> bool:
        return self.lab.node(node).kind is not NodeKind.LINUX

    def expand(self, request: FaultRequest) -> list[tuple[str, FaultSpec, bool]]:
        """(node, spec, linux MTU part?) for every part of ``request``."""
        t = request.target
        where = f"target.{t.kind.value}"
        if t.kind is TargetKind.PARTITION:
            return [(n, s, False) for n, s in self._partition(request, where)]
        if request.effects.empty:
            raise InvalidArgument("needs at least one effect", "effects")
        if t.kind is TargetKind.ENDPOINT:
            node = self._node(t.node, where)
            names = [i.name for i in self.lab.node(node).interfaces]
            if t.iface not in names:
                raise NotFound(f"{node} has no interface {t.iface!r} (have {', '.join(names)})",
                               where)  # fmt: skip
            return self._endpoint(IfRef(node, t.iface or ""), request, request.direction, where)
        if t.kind is TargetKind.LINK:
            try:
                segment = self.lab.segment(t.link or "")
            except KeyError:
                have = ", ".join(s.name for s in self.lab.segments)
                raise NotFound(
                    f"lab {self.lab.name} has no link or LAN {t.link!r} (have {have})", where
                ) from None
            way = Direction.EGRESS if request.direction is Direction.BOTH else request.direction
            out = []
            for member in segment.members:
                out += self._endpoint(member, request, way, where)
            return out
        node = self._node(t.node, where)
        if self._agent(node):
            return [(node, self._spec("*", request, request.direction), False)]
        out = []
        for i in self.lab.node(node).interfaces:
            out += self._endpoint(i.ref, request, request.direction, where)
        return out

    @staticmethod
    def _spec(
        iface: str,
        request: FaultRequest,
        direction: Direction,
        effects: Effects | None = None,
        match: Match | None = None,
    ) -> FaultSpec:
        return FaultSpec(
            iface,
            request.effects if effects is None else effects,
            direction,
            request.match if match is None else match,
            request.seed,
            request.duration,
        )

    def _endpoint(
        self, ref: IfRef, request: FaultRequest, direction: Direction, where: str
    ) -> list[tuple[str, FaultSpec, bool]]:
        if self._agent(ref.node):
            return [(ref.node, self._spec(ref.iface, request, direction), False)]
        out: list[tuple[str, FaultSpec, bool]] = []
        effects = request.effects
        if effects.mtu is not None:  # the linux node's kernel takes the MTU itself
            mtu_only = FaultSpec(ref.iface, Effects(mtu=effects.mtu), Direction.BOTH, None,
                                 request.seed, request.duration)  # fmt: skip
            out.append((ref.node, mtu_only, True))
            effects = replace(effects, mtu=None)
            if effects == EMPTY_EFFECTS:
                return out
        if effects.down:  # a down link drops everything; at the peers, with a match, that is
            effects = PARTITION  # all of the linux node's traffic lost (down takes no match)
        # frame effects: the linux node's peers on the segment do them, matching its address
        iface = self.lab.interface(ref)
        segment = self.lab.segment(iface.segment)
        peers = [m for m in segment.members if m != ref and self._agent(m.node)]
        if not peers:
            raise FailedPrecondition(
                f"{ref} is on a linux node with no wirelab peer on {segment.name} to impair "
                "its traffic",
                where,
            )
        address = Prefix(int(iface.address), 32)
        base = request.match or Match()
        sides = (
            (Direction.EGRESS, Direction.INGRESS) if direction is Direction.BOTH else (direction,)
        )
        for side in sides:
            for peer in peers:
                if side is Direction.EGRESS:  # what the linux node sends arrives at the peer
                    match = base if base.src is not None else replace(base, src=address)
                    spec = self._spec(peer.iface, request, Direction.INGRESS, effects, match)
                else:
                    match = base if base.dst is not None else replace(base, dst=address)
                    spec = self._spec(peer.iface, request, Direction.EGRESS, effects, match)
                out.append((peer.node, spec, False))
        return out

    def _partition(self, request: FaultRequest, where: str) -> list[tuple[str, FaultSpec]]:
        groups = [list(g) for g in request.target.groups]
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
            if request.one_way
            else [(i, j) for i in range(len(groups)) for j in range(len(groups)) if i != j]
        )
        out: list[tuple[str, FaultSpec]] = []
        for i, j in pairs:
            for sender in groups[i]:
                for receiver in groups[j]:
                    out += self._block(sender, receiver, request, where)
        return out

    def _block(
        self, sender: str, receiver: str, request: FaultRequest, where: str
    ) -> list[tuple[str, FaultSpec]]:
        """Drop what ``sender`` sends to ``receiver``'s addresses (at the sender, or at the
        receiver's ingress when the sender is a linux node)."""
        out = []
        src_addrs = [Prefix(int(i.address), 32) for i in self.lab.node(sender).interfaces]
        for iface in self.lab.node(receiver).interfaces:
            if self._agent(sender):
                match = Match(dst=Prefix(int(iface.address), 32))
                out.append((sender, FaultSpec("*", PARTITION, Direction.EGRESS, match,
                                              request.seed, request.duration)))  # fmt: skip
            elif self._agent(receiver):
                for src in src_addrs:
                    out.append((receiver, FaultSpec("*", PARTITION, Direction.INGRESS,
                                                    Match(src=src), request.seed,
                                                    request.duration)))  # fmt: skip
            else:
                raise FailedPrecondition(
                    f"cannot separate two linux nodes ({sender}, {receiver}): no agent on either",
                    where,
                )
        return out


# ---- linux MTUs ---------------------------------------------------------------------------


class _LinuxMtus:
    """Kernel MTUs of linux nodes' interfaces under MTU faults: the lowest holds; the MTU
    found before the first fault comes back after the last."""

    def __init__(self, nodes: Nodes) -> None:
        self.nodes = nodes
        self._held: dict[tuple[str, str], dict[str, int]] = {}  # (node, iface) -> {part: mtu}
        self._base: dict[tuple[str, str], int] = {}

    def _run(self, node: str, script: str) -> str:
        result = self.nodes.exec(node, ["sh", "-c", script], timeout=LINUX_MTU_TIMEOUT)
        if result.exit_code != 0:
            raise FailedPrecondition(f"{node}: {result.output.strip()[-300:]}", "node")
        return result.output

    def hold(self, part: _Part) -> None:
        key = (part.node, part.spec.iface)
        if key not in self._base:
            text = self._run(part.node, f"cat /sys/class/net/{part.spec.iface}/mtu")
            self._base[key] = int(text.strip() or 1500)
        assert part.spec.effects.mtu is not None
        self._held.setdefault(key, {})[part.agent_id] = part.spec.effects.mtu
        self._apply(key)

    def release(self, part: _Part) -> None:
        key = (part.node, part.spec.iface)
        held = self._held.get(key, {})
        if held.pop(part.agent_id, None) is None:
            return
        self._apply(key)
        if not held:
            self._held.pop(key, None)
            self._base.pop(key, None)

    def _apply(self, key: tuple[str, str]) -> None:
        mtu = min([self._base[key], *self._held.get(key, {}).values()])
        self._run(key[0], f"ip link set dev {key[1]} mtu {mtu}")


# ---- the manager -------------------------------------------------------------------------

Publish = Callable[[LabEvent], None]


class FaultManager:
    """Every fault of one lab (thread-safe)."""

    def __init__(self, lab: Lab, nodes: Nodes, publish: Publish, *, seed: int = 1) -> None:
        self.lab = lab
        self.nodes = nodes
        self.publish = publish
        self.seed = seed
        self.scheduler = Scheduler(lab.name)
        self._lock = threading.RLock()
        self._faults: dict[str, _Fault] = {}
        self._ids = itertools.count(1)
        self._expander = Expander(lab)
        self._linux = _LinuxMtus(nodes)

    # ---- ids and seeds ---------------------------------------------------------------
    def _new_id(self, wanted: str) -> str:
        wanted = fault_id_of(wanted)
        if wanted:
            if wanted in self._faults:
                raise AlreadyExists(f"lab {self.lab.name} has a fault {wanted!r}", "fault_id")
            return wanted
        while True:
            candidate = f"F{next(self._ids)}"
            if candidate not in self._faults:
                return candidate

    def _seed_for(self, fault_id: str) -> int:
        digest = hashlib.sha256(f"{self.lab.name}/{fault_id}/{self.seed}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 11  # < 2**53: exact in JSON tools too

    # ---- add / clear / list -------------------------------------------------------------
    def add(self, request: FaultRequest, origin: str = "api") -> LabFault:
        """Install a fault (``origin``: api, timeline; a partition's is partition)."""
        if request.target.kind is TargetKind.PARTITION and origin == "api":
            origin = "partition"
        expanded = self._expander.expand(request)
        with self._lock:
            fault_id = self._new_id(request.fault_id)
            seed = request.seed if request.seed is not None else self._seed_for(fault_id)
            parts = [
                _Part(node, f"{fault_id}.{i}", replace(spec, seed=seed), linux)
                for i, (node, spec, linux) in enumerate(expanded)
            ]
            fault = _Fault(fault_id, request, origin, seed, time.monotonic(), parts)
            installed: list[_Part] = []
            try:
                for part in parts:
                    self._install(part, part.spec)
                    installed.append(part)
            except BaseException:
                for part in installed:
                    self._remove(part)
                raise
            self._faults[fault_id] = fault
            if request.duration is not None and any(p.linux for p in parts):
                self.scheduler.call_at(fault.created + request.duration,
                                       lambda: self._expire_linux(fault))  # fmt: skip
            view = fault.view(self.lab.name, time.monotonic())
        self._event("added", view)
        return view

    def _install(self, part: _Part, spec: FaultSpec) -> None:
        if part.linux:
            self._linux.hold(part)
            part.installed = True
            return
        part.info = self.nodes.agent(part.node).add_fault(spec, part.agent_id)
        part.installed = True

    def _remove(self, part: _Part) -> None:
        if not part.installed:
            return
        part.installed = False
        if part.linux:
            try:
                self._linux.release(part)
            except LabError as exc:
                log.warning("restoring the MTU of %s:%s: %s", part.node, part.spec.iface, exc)
            return
        try:
            cleared = self.nodes.agent(part.node).clear_fault(part.agent_id)
        except LabError as exc:
            if exc.code != "not_found":
                log.info("clearing %s on %s: %s", part.agent_id, part.node, exc)
            return
        for info in cleared:
            part.info = info

    def _expire_linux(self, fault: _Fault) -> None:
        with self._lock:
            for part in fault.parts:
                if part.linux:
                    self._remove(part)
            expired = not fault.cleared and not any(p.installed for p in fault.parts)
            view = fault.view(self.lab.name, time.monotonic())
        if expired:
            self.nodes.flush_path_mtus()
            self._event("expired", view)

    def get(self, fault_id: str) -> _Fault:
        found = self._faults.get(fault_id)
        if found is None:
            have = ", ".join(self._faults) or "none"
            raise NotFound(
                f"lab {self.lab.name} has no fault {fault_id[:64]!r} (have {have[:200]})",
                "fault_id",
            )
        return found

    def clear(self, fault_id: str = "", *, all: bool = False) -> list[LabFault]:
        if all and fault_id:
            raise InvalidArgument("must be empty with all", "fault_id")
        if not all and not fault_id:
            raise InvalidArgument("give a fault id (or all)", "fault_id")
        with self._lock:
            targets = (
                [f for f in self._faults.values() if not f.cleared] if all else [self.get(fault_id)]
            )
            now = time.monotonic()
            out = []
            for fault in targets:
                was_active = fault.state(now) is FaultState.ACTIVE
                for part in fault.parts:
                    self._remove(part)
                if was_active:
                    fault.cleared = True
                out.append(fault.view(self.lab.name, now))
        if any(f.request.effects.mtu is not None for f in targets):
            self.nodes.flush_path_mtus()
        for view in out:
            self._event("cleared", view)
        return out

    def refresh(self) -> None:
        """Read every node's faults: latest counters of the parts still installed."""
        with self._lock:
            nodes = {
                p.node
                for f in self._faults.values()
                for p in f.parts
                if p.installed and not p.linux
            }
            seen: dict[str, dict[str, FaultPart]] = {}
            for node in sorted(nodes):
                try:
                    seen[node] = {i.fault_id: i for i in self.nodes.agent(node).faults()}
                except LabError:
                    continue  # a stopped node: keep the last counters seen
            for fault in self._faults.values():
                for part in fault.parts:
                    found = seen.get(part.node)
                    if found is None or not part.installed or part.linux:
                        continue
                    info = found.get(part.agent_id)
                    if info is None:
                        part.installed = False  # expired on the node
                    else:
                        part.info = info

    def list(self, *, active_only: bool = False) -> list[LabFault]:
        self.refresh()
        with self._lock:
            now = time.monotonic()
            out = [f.view(self.lab.name, now) for f in self._faults.values()]
        return [f for f in out if f.active] if active_only else out

    def describe(self, fault_id: str) -> LabFault:
        self.refresh()
        with self._lock:
            return self.get(fault_id).view(self.lab.name, time.monotonic())

    def active_count(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(f.state(now) is FaultState.ACTIVE for f in self._faults.values())

    # ---- node events ---------------------------------------------------------------------
    def on_node_event(self, event: LabEvent) -> None:
        """A node fault expired or was cleared on its node: keep its final counters."""
        change = event.node_fault
        if event.kind is not EventKind.NODE_FAULT or change is None:
            return
        if change.change not in ("expired", "cleared"):
            return
        info = change.fault
        lab_id = info.fault_id.rsplit(".", 1)[0]
        expired: LabFault | None = None
        with self._lock:
            fault = self._faults.get(lab_id)
            if fault is None:
                return
            for part in fault.parts:
                if part.node == event.node and part.agent_id == info.fault_id:
                    part.info, part.installed = info, False
            now = time.monotonic()
            if (
                change.change == "expired"
                and fault.state(now) is FaultState.EXPIRED
                and not any(p.installed for p in fault.parts)
            ):
                expired = fault.view(self.lab.name, now)
        if expired is not None:
            if expired.request.effects.mtu is not None:
                self.nodes.flush_path_mtus()
            self._event("expired", expired)

    # ---- node restarts ---------------------------------------------------------------------
    def reapply(self, node: str) -> int:
        """Install again the unexpired faults that had parts on ``node`` (it restarted and
        lost them); returns how many parts were installed."""
        count = 0
        with self._lock:
            now = time.monotonic()
            for fault in self._faults.values():
                if fault.state(now) is not FaultState.ACTIVE:
                    continue
                for part in fault.parts:
                    if part.node != node or part.linux:
                        continue
                    part.carried = part.counters()
                    part.info, part.installed = None, False
                    remaining = fault.remaining(now)
                    spec = part.spec
                    if remaining is not None:
                        spec = replace(spec, duration=max(0.001, remaining))
                    try:
                        self._install(part, spec)
                        count += 1
                    except LabError as exc:
                        log.warning("re-applying %s on %s: %s", part.agent_id, node, exc)
        return count

    def forget_node(self, node: str) -> None:
        """The node stopped: its parts are gone with it (counters kept)."""
        with self._lock:
            for fault in self._faults.values():
                for part in fault.parts:
                    if part.node == node and part.installed and not part.linux:
                        part.installed = False

    def _event(self, change: str, fault: LabFault) -> None:
        self.publish(
            LabEvent(EventKind.FAULT, time.time(), self.lab.name, fault=FaultChange(change, fault))
        )

    def close(self) -> None:
        self.scheduler.close()


__all__ = ["Expander", "FaultManager", "NodeFaultChange"]
