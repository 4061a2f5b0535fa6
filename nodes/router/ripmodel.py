"""RIP's configuration and the records its engine reports (:mod:`nodes.router.rip`):
route changes for the event stream, neighbours and routes for the ``show ... rip`` view.
Addresses are the stack's integers; times are seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RipConfig:
    update_interval: float = 30.0
    timeout: float = 180.0
    garbage: float = 120.0
    triggered_updates: bool = True
    split_horizon: bool = True
    poisoned_reverse: bool = False
    passive: frozenset[str] = frozenset()  # interfaces that listen but never send
    redistribute_connected: bool = True
    redistribute_static: bool = True
    originate_default: bool = False  # advertise 0.0.0.0/0 (FRR default-information originate)
    auth_key: bytes | None = None  # RFC 2082 keyed MD5 on every interface
    auth_key_id: int = 1
    silent: bool = False  # a host: learn routes, never advertise (RFC 2453 3.9.1)

    def __post_init__(self) -> None:
        for name in ("update_interval", "timeout", "garbage"):
            if not getattr(self, name) > 0:
                raise ValueError(f"rip {name} must be > 0, got {getattr(self, name)!r}")
        if self.timeout <= self.update_interval:
            raise ValueError(
                f"rip timeout {self.timeout:g} s must exceed the update interval "
                f"{self.update_interval:g} s (routes would time out between updates)"
            )
        if self.auth_key is not None and not 0 < len(self.auth_key) <= 16:
            raise ValueError("rip auth key must be 1..16 bytes")
        if not 0 <= self.auth_key_id <= 255:
            raise ValueError(f"rip auth key id must be 0..255, got {self.auth_key_id}")


@dataclass(frozen=True, slots=True)
class RouteChange:
    """A RIP route added to, changed in or withdrawn from the FIB."""

    time: float
    prefix: int
    prefix_len: int
    change: str  # added | changed | withdrawn
    metric: int  # 16 when withdrawn
    old_metric: int | None
    gateway: int | None
    ifname: str | None
    neighbor: int | None


@dataclass(frozen=True, slots=True)
class NeighborInfo:
    address: int
    ifname: str
    age: float  # seconds since its last valid message
    packets: int
    bad_packets: int
    bad_routes: int
    routes: int  # destinations it is the next hop of
    auth_sequence: int | None


@dataclass(frozen=True, slots=True)
class RouteInfo:
    prefix: int
    prefix_len: int
    origin: str
    metric: int
    ifname: str | None
    gateway: int | None
    neighbor: int | None
    tag: int
    age: float  # since its last update (a learned route) or change
    gc_in: float | None  # seconds until it is deleted (withdrawn routes)
    offers: int  # neighbours offering it


@dataclass(frozen=True, slots=True)
class RipStatus:
    config: RipConfig
    interfaces: tuple[tuple[str, bool, bool], ...]  # (name, up, passive)
    next_update_in: float | None
    triggered_in: float | None
    neighbors: tuple[NeighborInfo, ...]
    routes: tuple[RouteInfo, ...]
