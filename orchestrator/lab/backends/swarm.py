"""The Docker Swarm backend: one lab across the nodes of an existing swarm.

The backend talks to a swarm **manager** (``WIRELAB_SWARM_MANAGER``, else ``DOCKER_HOST``,
else the local socket) and to each swarm node's own engine, whose API address it reads from
the node's label ``wirelab.engine`` (labels are state: ``docker node update --label-add
wirelab.engine=tcp://host:2376 NODE``; the manager's own engine needs none). Everything
else is the docker backend's (:class:`.docker.DockerBackend`, subclassed): the same
containers, capabilities, labels, node actions, exec and agents.

- **Links and LANs are attachable overlay networks** (VXLAN), created on the manager with
  the planned subnet and gateway, labelled like every lab object, ``--internal`` (no
  ``docker_gwbridge`` leg in the nodes: they are on their data links only) and, with
  ``encrypted=True`` (``WIRELAB_SWARM_ENCRYPTED=1``), IPsec-encrypted between hosts.
- **Nodes are plain containers** created on the engine of the swarm node they are placed
  on, attached to the overlays (``docker run --network <attachable overlay>`` on a worker).
  Placement comes from the topology's per-node ``placement:`` (a swarm node's hostname, or
  ``node.hostname==NAME`` / ``node.labels.KEY==VALUE``); nodes without one are spread over
  the swarm's ready nodes (the least loaded first, in the swarm's order). The chosen node is
  the container's ``wirelab.swarm.host`` label.
- **MTUs.** VXLAN costs 50 bytes (outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8; IPsec 26
  more when encrypted). Docker's overlay ``com.docker.network.driver.mtu`` option is the
  *underlay's* MTU and the containers get that minus the overhead, so a link planned at
  MTU M is created with the option M + overhead and the node's interface has M. Planned
  MTUs above ``underlay_mtu`` - overhead (1450 on a 1500-byte underlay) are lowered to it
  when the lab is deployed, and the deploy says so; raise ``underlay_mtu``
  (``WIRELAB_SWARM_UNDERLAY_MTU``) where the hosts' network carries larger frames.
- **MACs.** The overlay does not flood: each host's VXLAN device answers ARP for remote
  containers itself (proxy ARP, from the swarm's gossip) with Docker's MAC for that
  address, ``02:42:`` + the IPv4 address, and forwards only to MACs it knows. A node that
  switched to another MAC (our planned MACs) would be unreachable from other hosts (seen
  here: ARP answered with the old MAC, then silence). So on swarm every interface's
  planned MAC is ``02:42:<address>`` (:meth:`SwarmBackend.adapt_lab`). Broadcasts other
  than ARP (gratuitous ARP, RIP) do not cross hosts, and an address set live (``iface set
  --address``) is unknown to the other hosts' overlays.
- **Agents** listen on Unix sockets in host directories bind-mounted into the nodes, as on
  docker; ``netns_exec`` enters a node's namespace by its PID. Both need the orchestrator
  on the same machine as every engine: true of ``make swarm-test``'s three daemons on one
  machine, not of a swarm of separate machines (those need agents on TCP over a management
  overlay that the orchestrator can reach, and a shell on each host for ``netns_exec``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import docker
import docker.errors

from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import BackendError, NetworkSpec, NodeSpec
from orchestrator.lab.backends.docker import LOCK_DIR, DockerBackend, subnet_clash
from topology import Lab, Node
from topology.model import Interface

VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
ESP_OVERHEAD = 26  # moby's overlay: what an encrypted network takes off more
ENGINE_LABEL = "wirelab.engine"  # a swarm node's engine API address
HOST_LABEL = "wirelab.swarm.host"  # on a container: the swarm node it runs on
DEFAULT_IMAGE = "wirelab-node:latest"
TASK_WAIT = 30.0  # s: a removed container's attachment task leaves its network


@dataclass(frozen=True, slots=True)
class SwarmNode:
    hostname: str
    labels: dict[str, str]
    engine: str  # its engine's API address ("" when the backend cannot reach it)
    ready: bool


def overlay_name(name: str) -> str:
    """A lab network's name as the swarm takes it: a DNS name component (no dots), so
    ``wl.lab.h1-r1`` is ``wl_lab_h1-r1``."""
    out = name.replace(".", "_")
    if len(out) > 63:
        raise BackendError(f"network name {out} is longer than the swarm's 63 characters")
    return out


def host_range(subnet: IPv4Network, used: Iterable[IPv4Address], hosts: int) -> IPv4Network:
    """The block at the top of ``subnet`` from which the swarm may take addresses of its
    own: each host where an overlay is instantiated takes one (its load-balancer endpoint,
    ``lb-<network>``) from the network's pool, and would take a node's planned address (the
    node then cannot attach: "context deadline exceeded", seen here). The largest block at
    the top that holds none of ``used`` and room for ``hosts`` (the broadcast address not
    counted); BackendError when even the smallest does not fit."""
    taken = set(used)
    for prefix in range(subnet.prefixlen + 1, 31):
        block = list(subnet.subnets(new_prefix=prefix))[-1]
        room = block.num_addresses - 1  # the subnet's broadcast address is the block's last
        if room >= hosts and not any(a in block for a in taken):
            return block
    raise BackendError(
        f"subnet {subnet} has no free block at its top for the swarm's {hosts} per-host "
        "addresses: give the lab a larger pool"
    )


def docker_mac(address: IPv4Address) -> bytes:
    """The MAC Docker's overlay gives the endpoint with ``address`` (02:42 + the address)."""
    return b"\x02\x42" + address.packed


def matches(node: SwarmNode, placement: str) -> bool:
    """Whether ``node`` satisfies a topology's ``placement`` (a hostname or a constraint)."""
    text = placement.strip()
    if "==" not in text:
        return node.hostname == text
    key, _, value = (part.strip() for part in text.partition("=="))
    value = value.strip()
    if key == "node.hostname":
        return node.hostname == value
    if key.startswith("node.labels."):
        return node.labels.get(key.removeprefix("node.labels.")) == value
    raise BackendError(
        f"placement {placement!r}: use a hostname, node.hostname==NAME or node.labels.KEY==VALUE"
    )


def place(lab: Lab, nodes: list[SwarmNode]) -> dict[str, str]:
    """Each lab node's swarm node (hostname): its ``placement`` if any, else spread; among
    the candidates, the one with the fewest of the lab's nodes so far (the swarm's order
    breaks ties). Pinned nodes are placed first, so spreading fills around them."""
    ready = [n for n in nodes if n.ready and n.engine]
    if not ready:
        raise BackendError("the swarm has no ready node whose engine the backend can reach")
    load = {n.hostname: 0 for n in ready}
    out: dict[str, str] = {}
    for node in sorted(lab.nodes, key=lambda n: not n.placement):
        candidates = [n for n in ready if not node.placement or matches(n, node.placement)]
        if not candidates:
            known = ", ".join(f"{n.hostname} {n.labels}" for n in ready)
            raise BackendError(
                f"node {node.name}: no ready swarm node matches placement "
                f"{node.placement!r} (ready: {known})"
            )
        chosen = min(candidates, key=lambda n: load[n.hostname])
        load[chosen.hostname] += 1
        out[node.name] = chosen.hostname
    return out


def adapt_lab(lab: Lab, max_mtu: int) -> tuple[Lab, list[str]]:
    """``lab`` as the overlay carries it: every interface's MAC is Docker's for its address,
    and MTUs above ``max_mtu`` are lowered to it. Returns the lab and what changed."""
    notes: list[str] = []
    lowered: set[str] = set()

    def iface(i: Interface) -> Interface:
        mtu = min(i.mtu, max_mtu)
        if mtu != i.mtu:
            lowered.add(i.segment)
        return replace(i, mac=docker_mac(i.address), mtu=mtu)

    def node(n: Node) -> Node:
        return replace(n, interfaces=tuple(iface(i) for i in n.interfaces))

    links = tuple(replace(s, mtu=min(s.mtu, max_mtu)) for s in lab.links)
    lans = tuple(replace(s, mtu=min(s.mtu, max_mtu)) for s in lab.lans)
    adapted = replace(
        lab,
        mtu=min(lab.mtu, max_mtu),
        nodes=tuple(node(n) for n in lab.nodes),
        links=links,
        lans=lans,
    )
    if lowered:
        notes.append(
            f"MTU of {', '.join(sorted(lowered))} planned at {max_mtu}, the overlay's "
            f"(the underlay's {max_mtu + VXLAN_OVERHEAD} minus VXLAN's overhead or more)"
        )
    notes.append("MACs are the overlay's 02:42:<address> (it answers ARP across hosts)")
    return adapted, notes


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class SwarmBackend(DockerBackend):
    name = "swarm"

    def __init__(
        self,
        *,
        manager: str | None = None,
        image: str | None = None,
        encrypted: bool | None = None,
        underlay_mtu: int | None = None,
        client_factory: Callable[[str], Any] | None = None,
        lock_dir: Path = LOCK_DIR,
        run_dir: Path | None = None,
    ) -> None:
        super().__init__(image=image, lock_dir=lock_dir, run_dir=run_dir)
        env = os.environ
        self.manager = (
            manager
            or env.get("WIRELAB_SWARM_MANAGER")
            or env.get("DOCKER_HOST")
            or "unix:///var/run/docker.sock"
        )
        self.encrypted = _env_flag("WIRELAB_SWARM_ENCRYPTED") if encrypted is None else encrypted
        self.underlay_mtu = underlay_mtu or int(env.get("WIRELAB_SWARM_UNDERLAY_MTU") or 1500)
        self._factory = client_factory or _api_client
        self._apis: dict[str, Any] = {}
        self._placed: dict[tuple[str, str], str] = {}  # (lab, node) -> its engine's address
        self._hostnames: dict[str, dict[str, str]] = {}  # lab -> node -> swarm hostname
        self._ranges: dict[tuple[str, str], IPv4Network] = {}  # (lab, link) -> the swarm's block
        self._lock = threading.Lock()

    # ---- engines -----------------------------------------------------------------------
    @property
    def overhead(self) -> int:
        return VXLAN_OVERHEAD + (ESP_OVERHEAD if self.encrypted else 0)

    @property
    def overlay_mtu(self) -> int:
        """The largest MTU a lab's link can have on this swarm's overlays."""
        return self.underlay_mtu - self.overhead

    def engine_api(self, address: str) -> Any:
        with self._lock:
            if address not in self._apis:
                self._apis[address] = self._factory(address)
            return self._apis[address]

    @property
    def api(self) -> Any:
        return self.engine_api(self.manager)

    def swarm_nodes(self) -> list[SwarmNode]:
        """The swarm's nodes as the manager lists them (engine: the wirelab.engine label;
        the manager's own node: the manager's address)."""
        try:
            info = self.api.info()
            me = str((info.get("Swarm") or {}).get("NodeID") or "")
            listed = self.api.nodes()
        except (docker.errors.DockerException, OSError) as exc:
            raise BackendError(f"the swarm manager {self.manager} does not answer: {exc}") from None
        out = []
        for n in listed:
            spec = n.get("Spec") or {}
            labels = {str(k): str(v) for k, v in (spec.get("Labels") or {}).items()}
            engine = labels.get(ENGINE_LABEL) or (self.manager if n.get("ID") == me else "")
            state = (n.get("Status") or {}).get("State")
            available = spec.get("Availability", "active") == "active"
            hostname = str((n.get("Description") or {}).get("Hostname") or n.get("ID"))
            out.append(SwarmNode(hostname, labels, engine, state == "ready" and available))
        return out

    def engines(self) -> list[Any]:
        return [self.engine_api(n.engine) for n in self.swarm_nodes() if n.engine]

    def node_api(self, lab: str, node: str) -> Any:
        with self._lock:
            address = self._placed.get((lab, node))
        if address is not None:
            return self.engine_api(address)
        name = L.container_name(lab, node)
        for n in self.swarm_nodes():
            if not n.engine:
                continue
            try:
                self.engine_api(n.engine).inspect_container(name)
            except docker.errors.NotFound:
                continue
            except (docker.errors.DockerException, OSError):
                continue
            with self._lock:
                self._placed[(lab, node)] = n.engine
            return self.engine_api(n.engine)
        return self.api  # nowhere: the manager says "no such container"

    # ---- planning ----------------------------------------------------------------------
    def check(self, lab: Lab) -> None:
        try:
            info = self.api.info()
        except (docker.errors.DockerException, OSError) as exc:
            raise BackendError(f"the swarm manager {self.manager} does not answer: {exc}") from None
        swarm = info.get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
            raise BackendError(
                f"the engine at {self.manager} is not a swarm manager (set "
                "WIRELAB_SWARM_MANAGER to a manager's engine; `make swarm-test` starts a swarm)"
            )
        clash = subnet_clash(lab, self.api.networks())
        if clash is not None:
            raise BackendError(clash)
        nodes = self.swarm_nodes()
        hosts = {n.hostname: n.engine for n in nodes}
        placed = place(lab, nodes)
        missing = [
            f"image {n.workload.image} (node {n.name}) is not in {placed[n.name]}'s engine, and "
            "wirelab never pulls one: load it there (docker -H <engine> load -i FILE)"
            for n in lab.nodes
            if n.workload.own_image and not _has_image(self.engine_api(hosts[placed[n.name]]),
                                                       n.workload.image)
        ]  # fmt: skip
        if missing:
            raise BackendError("; ".join(missing))
        ranges = {}
        for seg in lab.segments:
            used = [i.address for n in lab.nodes for i in n.interfaces if i.segment == seg.name]
            ranges[(lab.name, seg.name)] = host_range(seg.subnet, used, max(len(nodes), 1))
        with self._lock:
            for node, host in placed.items():
                self._placed[(lab.name, node)] = hosts[host]
            self._hostnames[lab.name] = placed
            self._ranges.update(ranges)

    def adapt_lab(self, lab: Lab) -> tuple[Lab, list[str]]:
        """The lab as deployed on this swarm (see :func:`adapt_lab`)."""
        adapted, notes = adapt_lab(lab, self.overlay_mtu)
        spread: dict[str, list[str]] = {}
        with self._lock:
            placed = dict(self._hostnames.get(lab.name, {}))
        for node, host in placed.items():
            spread.setdefault(host, []).append(node)
        if spread:
            where = "; ".join(f"{h}: {', '.join(ns)}" for h, ns in sorted(spread.items()))
            notes.append(f"placed {where}")
        return adapted, notes

    def image(self) -> str:
        """The node image (``WIRELAB_SWARM_IMAGE``, else wirelab-node:latest), which every
        reachable swarm node must hold (there is no registry to pull it from)."""
        tag = self._image or os.environ.get("WIRELAB_SWARM_IMAGE") or DEFAULT_IMAGE
        missing = []
        for n in self.swarm_nodes():
            if not n.engine:
                continue
            try:
                self.engine_api(n.engine).inspect_image(tag)
            except docker.errors.ImageNotFound:
                missing.append(n.hostname)
        if missing:
            raise BackendError(
                f"image {tag} is missing on {', '.join(missing)}: load it there "
                f"(`docker save {tag} | docker -H <engine> load`)"
            )
        self._image = tag
        return tag

    # ---- objects -----------------------------------------------------------------------
    def network_args(self, spec: NetworkSpec) -> dict[str, Any]:
        options = {"com.docker.network.driver.mtu": str(spec.mtu + self.overhead)}
        if self.encrypted:
            options["encrypted"] = "true"
        return {
            "driver": "overlay",
            "options": options,
            "attachable": True,
            "internal": True,  # no docker_gwbridge leg: nodes are on their data links only
            "scope": "swarm",
        }

    def create_network(self, spec: NetworkSpec) -> None:
        if spec.mtu + self.overhead > self.underlay_mtu:
            raise BackendError(
                f"network {spec.name}: MTU {spec.mtu} needs an underlay of "
                f"{spec.mtu + self.overhead}, the swarm's is {self.underlay_mtu}"
            )
        super().create_network(replace(spec, name=overlay_name(spec.name)))

    def ipam_pool(self, spec: NetworkSpec) -> Any:
        with self._lock:
            block = self._ranges.get((spec.lab, spec.link or ""))
        if block is None:
            raise BackendError(f"network {spec.name}: the lab was not checked first")
        return docker.types.IPAMPool(
            subnet=str(spec.subnet), gateway=str(spec.gateway), iprange=str(block)
        )

    def create_node(self, spec: NodeSpec) -> None:
        with self._lock:
            address = self._placed.get((spec.lab, spec.node))
        if address is None:
            raise BackendError(f"node {spec.node} of lab {spec.lab} is not placed (check first)")
        host = next((n.hostname for n in self.swarm_nodes() if n.engine == address), address)
        labels = {**spec.labels, HOST_LABEL: host}
        management = spec.management
        if management is not None:
            management = replace(management, network=overlay_name(management.network))
        attachments = tuple(replace(a, network=overlay_name(a.network)) for a in spec.attachments)
        super().create_node(
            replace(spec, labels=labels, management=management, attachments=attachments)
        )

    def remove_network(self, lab: str, name: str) -> None:
        """As on docker, and "in use by task" is waited out: a removed container's network
        attachment (a swarm task) lingers on the manager for a moment (seen here: about
        a second). Then waits until the manager no longer lists it: its engine's local
        copy of a network one of its containers was on goes a moment after the swarm's."""
        deadline = time.monotonic() + TASK_WAIT
        while True:
            try:
                super().remove_network(lab, name)
                break
            except BackendError as exc:
                if "in use by task" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.25)
        while any(n.get("Name") == name for n in self.api.networks(names=[name])):
            if time.monotonic() > deadline:
                raise BackendError(f"remove network {name}: the manager still lists it")
            time.sleep(0.25)

    def remove_node(self, lab: str, node: str) -> None:
        super().remove_node(lab, node)
        with self._lock:
            self._placed.pop((lab, node), None)


def _has_image(api: Any, tag: str) -> bool:
    try:
        api.inspect_image(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _api_client(address: str) -> Any:
    try:
        return docker.APIClient(base_url=address, timeout=120, max_pool_size=32)
    except docker.errors.DockerException as exc:
        raise BackendError(f"cannot reach the engine at {address}: {exc}") from None
