"""A running lab, from Python: every call of the lab service with the lab's name filled
in, taking people's values (``"20ms"``, ``"5%"``, ``"10mbit"``, ``"10MB"``) or typed ones
(seconds, fractions, bit/s, bytes, ``timedelta``), returning the domain's records.

    lab = client.deploy("topology/examples/quickstart.yaml")
    fault = lab.add_fault(endpoint="r1:eth1", loss="5%", delay="20ms", seed=1)
    result = lab.transfer("h1", "h2", size="1MB")
    assert result.sha256_match and lab.fault(fault.fault_id).counters.dropped > 0
    lab.set_interface("r1", "eth1", mtu=1000)
    lab.destroy()

The pytest plugin's ``wirelab_lab`` fixture hands out this same object.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from orchestrator.domain import requests
from orchestrator.domain.errors import InvalidArgument
from orchestrator.domain.events import EventKind, LabEvent
from orchestrator.domain.faults import FaultCounters, LabFault
from orchestrator.domain.lab import InterfaceInfo, LabInfo, NodeActionResult
from orchestrator.domain.results import (
    AppInfo,
    ArpEntry,
    CaptureChunk,
    Connections,
    ExecResult,
    HttpReport,
    NodeCounters,
    NodeStatus,
    PingReport,
    RipStatus,
    RouteEntry,
    TraceReport,
    TransferReport,
)
from orchestrator.domain.values import Duration, Size

if TYPE_CHECKING:
    from orchestrator.client.connect import LabClient
    from orchestrator.wire.lab import LabWire

RPC = 30.0  # seconds on top of what a measurement itself may take


class CpuBoundWarning(UserWarning):
    """A measurement ran while a node of ours was CPU-bound (the saturation guard): its
    goodput and RTTs show our stack's CPU limit, not the lab's links. The pytest plugin
    shows every one (``-W error::orchestrator.client.lab.CpuBoundWarning`` fails the
    test instead)."""

    def __init__(self, lab: str, source: str, destination: str, report: TransferReport) -> None:
        self.lab, self.report = lab, report
        self.nodes = report.cpu_bound_nodes
        text = report.cpu_bound_note
        super().__init__(f"lab {lab}: transfer {source} -> {destination}: {text}")


class Lab:
    """One deployed lab (see the module docstring)."""

    def __init__(self, client: LabClient, info: LabInfo) -> None:
        self.client = client
        self.info = info
        self.name = info.name

    @property
    def _wire(self) -> LabWire:
        return self.client.wire

    # ---- the lab ---------------------------------------------------------------------------
    def refresh(self) -> LabInfo:
        """The lab now (live interface values, node states, active faults)."""
        self.info = self._wire.lab(self.name)
        return self.info

    @property
    def nodes(self) -> list[str]:
        return [n.name for n in self.info.nodes]

    def address(self, node: str, iface: str | None = None) -> str:
        """The planned address of ``node``'s interface (its first one by default)."""
        return self.info.address(node, iface)

    def destroy(self) -> list[str]:
        return self.client.destroy(self.name)

    def journal(self) -> list[str]:
        """The lab's journal as JSON lines: a header (seed, topology, backend, clock), then
        each operation with its lab time and result (orchestrator/lab/journal.py)."""
        return self._wire.journal(self.name)

    def write_journal(self, path: str | Path) -> Path:
        """The journal into ``path`` (JSON lines, for ``wirelab replay``)."""
        target = Path(path)
        target.write_text("".join(line + "\n" for line in self.journal()), encoding="utf-8")
        return target

    # ---- faults ----------------------------------------------------------------------------
    def add_fault(self, **kwargs: Any) -> LabFault:
        """One target (``endpoint="r1:eth1"``, ``link=``, ``node=``, ``partition=``) and
        effects: ``loss``, ``ge``, ``delay``, ``jitter``, ``distribution``, ``duplicate``,
        ``corrupt``, ``reorder``, ``rate``, ``mtu``, ``blackhole_mtu``, ``down``; plus
        ``direction``, ``match``, ``seed``, ``duration``, ``fault_id``."""
        return self._wire.add_fault(self.name, requests.fault(**kwargs))

    def partition(
        self,
        *groups: Sequence[str],
        one_way: bool = False,
        duration: Duration | None = None,
        fault_id: str = "",
    ) -> LabFault:
        request = requests.fault(
            partition=groups, one_way=one_way, duration=duration, fault_id=fault_id
        )
        return self._wire.add_fault(self.name, request)

    def node_action(
        self, node: str, action: str, *, duration: Duration | None = None
    ) -> NodeActionResult:
        action, seconds = requests.node_action(action, duration)
        return self._wire.node_action(self.name, node, action, seconds)

    def faults(self, *, active_only: bool = False) -> list[LabFault]:
        return self._wire.faults(self.name, active_only=active_only)

    def fault(self, fault_id: str) -> LabFault:
        for f in self.faults():
            if f.fault_id == fault_id:
                return f
        from orchestrator.domain.errors import NotFound

        raise NotFound(f"lab {self.name} has no fault {fault_id!r}", "fault_id")

    def fault_counters(self, fault_id: str) -> FaultCounters:
        return self.fault(fault_id).counters

    def clear_fault(self, fault_id: str) -> list[LabFault]:
        return self._wire.clear_fault(self.name, fault_id)

    def clear_faults(self) -> list[LabFault]:
        return self._wire.clear_fault(self.name, all=True)

    # ---- measurements -------------------------------------------------------------------------
    def ping(self, node: str, destination: str, **kwargs: Any) -> PingReport:
        """``count``, ``interval``, ``size``, ``ttl``, ``dont_fragment``, ``wait``,
        ``record_route``."""
        req = requests.ping(destination, **kwargs)
        return self._wire.ping(self.name, node, req, req.budget_s + RPC)

    def traceroute(self, node: str, destination: str, **kwargs: Any) -> TraceReport:
        """``method`` (udp, icmp), ``max_hops``, ``probes``, ``wait``."""
        req = requests.traceroute(destination, **kwargs)
        return self._wire.traceroute(self.name, node, req, req.budget_s + RPC)

    def transfer(self, source: str, destination: str, **kwargs: Any) -> TransferReport:
        """``size``, ``congestion_control``, ``port``, ``sample_interval``, ``timeout``,
        ``seed``."""
        report = self._wire.transfer(self.name, requests.transfer(source, destination, **kwargs))
        if report.cpu_bound_nodes:
            warnings.warn(CpuBoundWarning(self.name, source, destination, report), stacklevel=2)
        return report

    def http_get(self, node: str, url: str, *, timeout: Duration = 30.0) -> HttpReport:
        return self._wire.http_get(self.name, node, requests.http(url, timeout=timeout))

    # ---- node state and live configuration ----------------------------------------------------
    def status(self, node: str) -> NodeStatus:
        return self._wire.status(self.name, node)

    def routes(self, node: str) -> list[RouteEntry]:
        return self._wire.routes(self.name, node)

    def rip(self, node: str) -> RipStatus:
        """RIP on ``node``: timers, neighbours, the RIP table, counters (ours or FRR's)."""
        return self._wire.rip(self.name, node)

    def arp(self, node: str) -> list[ArpEntry]:
        return self._wire.arp(self.name, node)

    def connections(self, node: str) -> Connections:
        return self._wire.connections(self.name, node)

    def counters(self, node: str) -> NodeCounters:
        return self._wire.counters(self.name, node)

    def set_interface(
        self,
        node: str,
        iface: str,
        *,
        mtu: int | None = None,
        up: bool | None = None,
        address: str | None = None,
    ) -> InterfaceInfo:
        """Change an interface of a running node (it stays so until changed again)."""
        change = requests.interface_change(iface, mtu=mtu, up=up, address=address)
        return self._wire.set_interface(self.name, node, change)

    def add_route(
        self, node: str, prefix: str, *, via: str = "", dev: str = "", metric: int = 0
    ) -> RouteEntry:
        route = requests.route(prefix, via=via, dev=dev, metric=metric)
        return self._wire.add_route(self.name, node, route)

    def delete_route(self, node: str, prefix: str) -> RouteEntry:
        return self._wire.delete_route(self.name, node, prefix)

    # ---- apps, shells, captures, events -------------------------------------------------------
    def start_app(
        self, node: str, kind: str, port: int = 0, args: Mapping[str, object] | None = None
    ) -> AppInfo:
        """Start a built-in (``echo``, ``sink`` ...) or your own app (``module:factory``,
        loaded from the lab's code folder or the node image; ``args`` become strings)."""
        return self._wire.start_app(self.name, node, kind, port, requests.app_args(args))

    def forward(self, node: str, to: str, local_port: int = 0) -> AppInfo:
        """Relay ``127.0.0.1:local_port`` in ``node``'s container over our stack to ``to``
        (``h2:80``, ``h2:eth1:80`` or ``10.0.2.2:80``; local_port 0: ``to``'s port), so
        that curl, iperf3 or nc there talk through our TCP. Stop it with ``stop_app``."""
        _, colon, port = to.rpartition(":")
        if not colon or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidArgument(f"expected HOST:PORT, got {to[:100]!r}", "to")
        return self.start_app(node, "forward", local_port or int(port), {"to": to})

    def stop_app(self, node: str, app_id: str) -> AppInfo:
        return self._wire.stop_app(self.name, node, app_id)

    def apps(self, node: str = "") -> dict[str, list[AppInfo]]:
        return self._wire.apps(self.name, node)

    def exec(self, node: str, argv: Sequence[str], *, timeout: Duration = 30.0) -> ExecResult:
        from orchestrator.domain.values import duration as seconds

        return self._wire.exec(self.name, node, argv, seconds(timeout, "timeout", low=0.001))

    def wait(self, duration: Duration, *, timeout: Duration | None = None) -> float:
        """Let ``duration`` of lab time pass and return the lab's time after it (seconds
        since deploy). In a virtual lab this is how its clock moves on between operations
        (timeline faults fire, fault durations end, apps run), as fast as the CPU allows;
        in a real-time lab it sleeps. ``timeout``: the wall-clock bound of the call
        (default: none)."""
        from orchestrator.domain.values import duration as seconds

        wanted = seconds(duration, "duration", low=0.0)
        bound = None if timeout is None else seconds(timeout, "timeout", low=0.001)
        return self._wire.wait(self.name, wanted, bound)

    def capture_stream(
        self,
        node: str,
        iface: str = "*",
        *,
        max_packets: int | None = None,
        duration: Duration | None = None,
        snaplen: int | None = None,
    ) -> Iterator[CaptureChunk]:
        """The pcap stream (the first chunk is the file header: capturing from then on)."""
        req = requests.capture(iface, max_packets=max_packets, duration=duration, snaplen=snaplen)
        return self._wire.capture(self.name, node, req)

    def capture(
        self,
        node: str,
        iface: str = "*",
        *,
        max_packets: int | None = None,
        duration: Duration | None = None,
    ) -> bytes:
        """A whole pcap file (give max_packets or duration, or it never ends)."""
        if max_packets is None and duration is None:
            from orchestrator.domain.errors import InvalidArgument

            raise InvalidArgument("give max_packets or duration", "capture")
        chunks = self.capture_stream(node, iface, max_packets=max_packets, duration=duration)
        return b"".join(c.data for c in chunks)

    def capture_to(self, out: IO[bytes], node: str, iface: str = "*", **kwargs: Any) -> int:
        """Write the pcap stream to ``out``; returns the packets written."""
        packets = 0
        for chunk in self.capture_stream(node, iface, **kwargs):
            out.write(chunk.data)
            out.flush()
            packets += chunk.packets
        return packets

    def events(
        self,
        nodes: Sequence[str] = (),
        kinds: Sequence[EventKind | str] = (),
        *,
        on_start: Callable[[Callable[[], object]], object] | None = None,
    ) -> Iterator[LabEvent]:
        """The lab's events, from a ``subscribed`` one on (node kinds filter node events);
        ``on_start(cancel)`` receives a function that ends the stream (from any thread)."""
        return self._wire.events(self.name, nodes, [EventKind(k) for k in kinds], on_start)

    def __repr__(self) -> str:
        return f"<wirelab Lab {self.name} ({self.info.backend}): {', '.join(self.nodes)}>"


__all__ = ["Lab", "Size"]
