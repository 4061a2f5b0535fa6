"""Labels are the orchestrator's only state: every container and network of a lab carries
them, so deploy, destroy and inspect find a lab with nothing but the Docker engine (also
when the orchestrator that deployed it died).

    wirelab.lab             the lab's name (on everything)
    wirelab.node            the node (containers)
    wirelab.link            the link or LAN (data networks); "" on a management network
    wirelab.kind            host | router | linux (containers); "management" | "data" (networks)
    wirelab.topology-hash   a hash of the planned lab: the same topology deploys as a no-op
    wirelab.interfaces      containers: "eth0=h1-r1,eth1=lan" (topology iface -> link)
    wirelab.agent           containers running a node agent: its gRPC address as the host
                            dials it, "unix:///run/wirelab/<lab>/<node>/agent.sock" (docker:
                            a Unix socket in the node's directory, mounted into it) or
                            "ip:port" (an agent on a management network)

Object names are ``wl.<lab>.<node>`` (containers), ``wl.<lab>.<link>`` (data networks) and
``wl.<lab>._mgmt`` (a management network, for backends whose agents listen on TCP):
topology names start with a letter and have no dots, so the three never collide, neither
within a lab nor across labs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from topology import Lab, Node, lab_to_dict

PREFIX = "wirelab."
LAB = "wirelab.lab"
NODE = "wirelab.node"
LINK = "wirelab.link"
KIND = "wirelab.kind"
TOPOLOGY_HASH = "wirelab.topology-hash"
INTERFACES = "wirelab.interfaces"
AGENT = "wirelab.agent"
OWN_IMAGE = "wirelab.own-image"  # "true": a linux node running its user's image

KIND_MANAGEMENT = "management"
KIND_DATA = "data"
NAME_PREFIX = "wl"
MANAGEMENT_SUFFIX = "_mgmt"


def topology_hash(lab: Lab) -> str:
    """A stable digest of everything that is deployed (the file's path is left out)."""
    data = lab_to_dict(lab)
    data.pop("source", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def container_name(lab: str, node: str) -> str:
    return f"{NAME_PREFIX}.{lab}.{node}"


def network_name(lab: str, link: str) -> str:
    return f"{NAME_PREFIX}.{lab}.{link}"


def management_network_name(lab: str) -> str:
    return f"{NAME_PREFIX}.{lab}.{MANAGEMENT_SUFFIX}"


def interfaces_label(node: Node) -> str:
    return ",".join(f"{i.name}={i.segment}" for i in node.interfaces)


def parse_interfaces_label(text: str) -> dict[str, str]:
    """``"eth0=a,eth1=b"`` -> ``{"eth0": "a", "eth1": "b"}`` (iface -> link)."""
    out: dict[str, str] = {}
    for item in filter(None, text.split(",")):
        iface, _, link = item.partition("=")
        out[iface] = link
    return out


def node_labels(lab: Lab, node: Node, digest: str, agent: str | None) -> dict[str, str]:
    labels = {
        LAB: lab.name,
        NODE: node.name,
        LINK: "",
        KIND: node.kind.value,
        TOPOLOGY_HASH: digest,
        INTERFACES: interfaces_label(node),
    }
    if agent is not None:
        labels[AGENT] = agent
    if node.workload.own_image:
        labels[OWN_IMAGE] = "true"
    return labels


def network_labels(lab: Lab, link: str | None, digest: str) -> dict[str, str]:
    return {
        LAB: lab.name,
        NODE: "",
        LINK: link or "",
        KIND: KIND_DATA if link else KIND_MANAGEMENT,
        TOPOLOGY_HASH: digest,
    }


def label_filter(lab: str | None = None) -> list[str]:
    """Docker ``label`` filters selecting one lab (or every wirelab lab)."""
    return [f"{LAB}={lab}"] if lab is not None else [LAB]


def is_wirelab(labels: Mapping[str, str] | None) -> bool:
    return bool(labels) and LAB in (labels or {})
