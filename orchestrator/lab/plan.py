"""The deploy plan: the networks and nodes a backend creates for a planned lab.

Every link and LAN is one network (its subnet and MTU from the plan); every node is one
container created with its networks, sysctls, labels, mounts and command (our nodes run
the agent, linux nodes idle).

Where each agent listens is the backend's choice (base.py): a Unix socket in a host
directory mounted into the node (docker; no management network, the agent is on no
network but its data links), else TCP: on the lab's management network when the backend
gives it a subnet (one address per such agent, the network listed first), or wherever the
backend puts it (sim). The agent's address goes into the node's ``wirelab.agent`` label.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from orchestrator.lab import frr, linuxnode
from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import (
    AGENT_PORT,
    AgentSocket,
    Attachment,
    Backend,
    Mount,
    NetworkSpec,
    NodeSpec,
)
from topology import Lab, Node, NodeKind

AGENT_PYTHON = "/opt/wirelab/bin/python"  # orchestrator.image.build.VENV's interpreter
IDLE_COMMAND = ("/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done")


@dataclass(frozen=True, slots=True)
class DeployPlan:
    lab: Lab
    digest: str
    networks: tuple[NetworkSpec, ...]  # the management network first, if any
    nodes: tuple[NodeSpec, ...]


def sysctls(node: Node) -> dict[str, str]:
    """The kernel settings a node's container is created with (``/proc/sys`` is read-only
    inside it, so they cannot be changed later).

    Every node: no IPv6. The kernel forwards only on a linux node with ``forward: true``
    (our nodes route in our stack and keep the kernel out, nodes/io/takeover.py). Such a
    Linux router also gets reverse-path filtering off: the effective rp_filter of an
    interface is max(``all``, the interface's own), and the interfaces inherit the host's
    value (they are moved into the container before these sysctls are written), so
    ``all``, ``default`` and each data interface (``ethN``: Docker names them by connect
    order and a linux node has no other network) are set to 0.
    """
    out = {
        "net.ipv6.conf.all.disable_ipv6": "1",
        "net.ipv6.conf.default.disable_ipv6": "1",
        "net.ipv4.ip_forward": "1" if linuxnode.forwards(node) else "0",
    }
    if linuxnode.forwards(node):
        devices = ("all", "default", *(f"eth{i}" for i in range(len(node.interfaces))))
        out |= {f"net.ipv4.conf.{dev}.rp_filter": "0" for dev in devices}
    return out


def agent_command(node: Node, listen: str) -> tuple[str, ...]:
    return (
        AGENT_PYTHON,
        "-m",
        "nodes.agent.launch",  # nodes.agent in a leaner process (no ssl, no OpenSSL hashlib)
        "--listen",
        listen,
        "--name",
        node.name,
        "--kind",
        node.kind.value,
    )


def make_plan(lab: Lab, backend: Backend, image: str) -> DeployPlan:
    digest = L.topology_hash(lab)
    agents = [n for n in lab.nodes if n.kind is not NodeKind.LINUX]
    sockets: dict[str, AgentSocket] = {}
    for node in agents:
        socket = backend.agent_socket(lab.name, node.name)
        if socket is not None:
            sockets[node.name] = socket
    on_tcp = [n for n in agents if n.name not in sockets]
    networks: list[NetworkSpec] = []
    mgmt_addresses: dict[str, IPv4Address] = {}
    mgmt_name = L.management_network_name(lab.name)
    subnet = backend.management_subnet(lab, len(on_tcp)) if on_tcp else None
    if subnet is not None:
        gateway = subnet.network_address + 1
        hosts = (h for h in subnet.hosts() if h != gateway)
        mgmt_addresses = {n.name: next(hosts) for n in on_tcp}
        labels = L.network_labels(lab, None, digest)
        networks.append(
            NetworkSpec(
                lab.name,
                mgmt_name,
                link=None,
                subnet=subnet,
                gateway=gateway,
                mtu=1500,
                members=(),
                labels=labels,
            )
        )
    for seg in lab.segments:
        labels = L.network_labels(lab, seg.name, digest)
        networks.append(
            NetworkSpec(
                lab.name,
                L.network_name(lab.name, seg.name),
                link=seg.name,
                subnet=seg.subnet,
                gateway=seg.gateway,
                mtu=seg.mtu,
                members=seg.members,
                labels=labels,
            )
        )
    nodes = []
    for node in lab.nodes:
        mgmt_ip = mgmt_addresses.get(node.name)
        socket = sockets.get(node.name)
        mounts: tuple[Mount, ...] = ()
        address: str | None = None  # the agent's address as the orchestrator dials it
        work = node.workload
        if node.kind is NodeKind.LINUX:
            command: tuple[str, ...] = (
                work.cmd if work.cmd is not None else () if work.own_image else IDLE_COMMAND
            )
        elif socket is not None:
            command = agent_command(node, socket.listen)
            address, mounts = socket.address, (socket.mount,)
        elif mgmt_ip is not None:
            address = f"{mgmt_ip}:{AGENT_PORT}"
            command = agent_command(node, address)
        else:  # the backend finds the address itself (agent_address)
            command = agent_command(node, f"0.0.0.0:{AGENT_PORT}")
        attachments = tuple(
            Attachment(L.network_name(lab.name, i.segment), i.name, i.address)
            for i in node.interfaces
        )
        nodes.append(
            NodeSpec(
                lab=lab.name,
                node=node.name,
                kind=node.kind,
                name=L.container_name(lab.name, node.name),
                image=work.image or image,
                command=command,
                management=None if mgmt_ip is None else Attachment(mgmt_name, "", mgmt_ip),
                attachments=attachments,
                sysctls=sysctls(node),
                labels=L.node_labels(lab, node, digest, address),
                mounts=mounts,
                env=work.env,
                binds=work.binds,
                own_image=work.own_image,
                capabilities=frr.CAPABILITIES if frr.runs_frr(node) else (),
            )
        )
    return DeployPlan(lab, digest, tuple(networks), tuple(nodes))
