"""The in-process wire: point-to-point links and multi-access segments joining
(node, ifname) ports, each with an optional propagation delay.

A segment learns source MACs like a switch, so a unicast frame to a known MAC goes to
one port; broadcasts, multicasts and unknown destinations flood to every other port.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Port = tuple[str, str]  # (node name, interface name)


@dataclass(slots=True)
class Segment:
    name: str
    ports: list[Port]
    delay: float = 0.0
    up: bool = True
    macs: dict[bytes, Port] = field(default_factory=dict)
    frames: int = 0
    dropped_down: int = 0

    def targets(self, src: Port, frame: bytes) -> list[Port]:
        """The ports a frame sent from ``src`` reaches (learning switch)."""
        if not self.up:
            self.dropped_down += 1
            return []
        self.frames += 1
        ports = self.ports
        if len(ports) == 2:
            return [ports[1] if ports[0] == src else ports[0]]
        self.macs[bytes(frame[6:12])] = src
        if not frame[0] & 1:
            known = self.macs.get(bytes(frame[0:6]))
            if known is not None:
                return [] if known == src else [known]
        return [p for p in ports if p != src]


class Wire:
    """Every segment of a simulation, indexed by port."""

    def __init__(self) -> None:
        self.segments: dict[str, Segment] = {}
        self._by_port: dict[Port, Segment] = {}

    def connect(self, *ports: Port, delay: float = 0.0, name: str | None = None) -> Segment:
        """Join ports: two make a point-to-point link, more a LAN segment."""
        if len(ports) < 2:
            raise ValueError("a link or segment needs at least two ports")
        if delay < 0:
            raise ValueError(f"negative propagation delay {delay}")
        for p in ports:
            if p in self._by_port:
                raise ValueError(f"port {p[0]}:{p[1]} is already connected")
        seg_name = name or "--".join(f"{n}:{i}" for n, i in ports)
        if seg_name in self.segments:
            raise ValueError(f"segment {seg_name} already exists")
        seg = Segment(seg_name, list(ports), delay)
        self.segments[seg_name] = seg
        for p in ports:
            self._by_port[p] = seg
        return seg

    def segment_of(self, port: Port) -> Segment | None:
        return self._by_port.get(port)

    def transmit(self, src: Port, frame: bytes) -> tuple[float, list[Port]]:
        """(propagation delay, receiving ports) for a frame sent from ``src``."""
        seg = self._by_port.get(src)
        if seg is None:
            return 0.0, []
        return seg.delay, seg.targets(src, frame)
