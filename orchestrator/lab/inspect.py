"""What a backend holds for a lab, read from labels alone (works for a lab whose
orchestrator died): nodes, their networks and addresses, their agents' addresses, state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import Backend


class LabNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class InterfaceView:
    name: str  # the topology's interface name ("" when unknown)
    link: str
    address: str
    prefix_len: int
    mac: str  # what the backend assigned (linux nodes then take the planned one)


@dataclass(frozen=True, slots=True)
class NodeView:
    name: str
    kind: str
    state: str
    management: str  # its agent's gRPC address (unix:///... or ip:port); "" for linux nodes
    image: str
    interfaces: tuple[InterfaceView, ...]


@dataclass(frozen=True, slots=True)
class NetworkView:
    name: str
    link: str  # "" for a management network
    subnet: str


@dataclass(frozen=True, slots=True)
class DeployedLab:
    name: str
    topology_hash: str
    nodes: tuple[NodeView, ...]
    networks: tuple[NetworkView, ...]
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return bool(self.nodes) and all(n.state == "running" for n in self.nodes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def inspect(lab_name: str, backend: Backend) -> DeployedLab:
    """Nodes, interfaces, addresses, state and agent addresses, from labels only."""
    objects = backend.find(lab_name)
    if objects.empty:
        raise LabNotFoundError(f"no lab {lab_name!r} is deployed on the {backend.name} backend")
    link_of = {n.name: n.labels.get(L.LINK, "") for n in objects.networks}
    nodes = []
    for info in sorted(objects.nodes, key=lambda n: n.labels.get(L.NODE, n.name)):
        iface_of = {
            link: iface
            for iface, link in L.parse_interfaces_label(info.labels.get(L.INTERFACES, "")).items()
        }
        interfaces = tuple(
            InterfaceView(
                iface_of.get(link_of.get(e.network, ""), ""),
                link_of.get(e.network, ""),
                e.address,
                e.prefix_len,
                e.mac,
            )
            for e in info.endpoints
            if link_of.get(e.network, "")
        )
        nodes.append(
            NodeView(
                info.labels.get(L.NODE, info.name),
                info.labels.get(L.KIND, ""),
                info.state,
                info.agent,
                info.image,
                tuple(sorted(interfaces, key=lambda i: i.name)),
            )
        )
    networks = tuple(
        NetworkView(n.name, n.labels.get(L.LINK, ""), n.subnet)
        for n in sorted(objects.networks, key=lambda n: n.name)
    )
    hashes = objects.label_values(L.TOPOLOGY_HASH)
    return DeployedLab(lab_name, ",".join(sorted(hashes)), tuple(nodes), networks)


@dataclass(frozen=True, slots=True)
class DeployedSummary:
    name: str
    nodes: int
    running: int
    networks: int
    topology_hash: str


def list_labs(backend: Backend) -> list[DeployedSummary]:
    out = []
    for name in backend.lab_names():
        info = inspect_or_none(name, backend)
        if info is not None:
            out.append(
                DeployedSummary(
                    name,
                    len(info.nodes),
                    sum(n.state == "running" for n in info.nodes),
                    len(info.networks),
                    info.topology_hash,
                )
            )
    return out


def inspect_or_none(lab_name: str, backend: Backend) -> DeployedLab | None:
    try:
        return inspect(lab_name, backend)
    except LabNotFoundError:
        return None
