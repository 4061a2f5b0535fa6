"""What the two in-process backends (:mod:`.sim`, real time; :mod:`.virtual`, virtual
time) share: they run our nodes only, and they describe their labs' objects alike."""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.lab.backends.base import (
    BackendError,
    EndpointInfo,
    LabObjects,
    NetworkInfo,
    NetworkSpec,
    NodeInfo,
    NodeSpec,
)
from topology import Lab, NodeKind


def refuse_linux(lab: Lab, what: str) -> None:
    """BackendError naming ``lab``'s linux nodes: ``what`` says which backend and why."""
    linux = [n.name for n in lab.nodes if n.kind is NodeKind.LINUX]
    if linux:
        verb = "is a linux node" if len(linux) == 1 else "are linux nodes"
        raise BackendError(
            f"{what}; {', '.join(linux)} {verb} (the kernel's stack): use the docker backend"
        )


def lab_objects(
    lab: str,
    nodes: Iterable[tuple[NodeSpec, str, str]],  # (spec, state, agent address)
    networks: Iterable[NetworkSpec],
    image: str,
) -> LabObjects:
    """A lab's nodes and networks as :meth:`Backend.find` reports them."""
    networks = list(networks)
    prefix = {n.name: n.subnet.prefixlen for n in networks}
    return LabObjects(
        lab,
        tuple(
            NodeInfo(
                spec.name, spec.name, dict(spec.labels), state, image,
                tuple(
                    EndpointInfo(a.network, str(a.address), prefix.get(a.network, 0), "")
                    for a in spec.attachments
                ),
                address,
            )
            for spec, state, address in nodes
        ),
        tuple(NetworkInfo(n.name, n.name, dict(n.labels), str(n.subnet)) for n in networks),
    )  # fmt: skip
