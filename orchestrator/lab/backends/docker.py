"""The Docker backend: nodes are containers of the node image, links and LANs are bridge
networks (docker SDK, Docker 20.10 API 1.41).

- Data networks: plain bridges with the planned subnet and gateway, IP masquerading off.
  Not ``--internal``: Docker then drops every bridged packet whose source or destination
  lies outside the bridge's subnet, which breaks routing through our nodes (DESIGN.md §4).
- No management network: each node agent listens on a Unix socket in a host directory
  bind-mounted into its container (``<root>/<lab>/<node>`` at ``/run/wirelab``,
  :mod:`.agentdirs`), and the host dials ``unix://<root>/<lab>/<node>/agent.sock`` (the
  ``wirelab.agent`` label). So the agents are on no network but their data links, and a
  destroy removes only the lab's data networks: a network that every node of the lab was
  attached to was the one Docker 20.10 kept "active endpoints" of after every container
  was gone (moby #42119), which only a dockerd restart cleared. A node's directory goes
  with its container; destroy then removes the lab's directory.
- Containers: NET_RAW + NET_ADMIN and nothing else (never privileged; every other
  capability is dropped, so e.g. ``tcpdump`` in a linux node cannot switch to its
  unprivileged user and fails: capture with our agents' Capture RPC), IPv6 off,
  ip_forward off (on only for a forwarding linux node); created on their first network
  with its planned address, then connected to the others in the plan's order (Docker 20.10
  cannot name interfaces: nodes find them by address).
- Node actions are Docker's own (``docker kill``, ``stop``, ``start``, ``restart``,
  ``pause``, ``unpause``), checked first against the state table of :mod:`.actions` (the
  same errors as the other backends) and waited for (bounded) until the container is in
  the state the action leads to. A started or restarted node's agent comes up
  unconfigured (NOT_SERVING) on the same socket (it replaces the stale one): its driver
  (the lab session, orchestrator/lab/session.py) configures it again. Its data interfaces
  get the same addresses and MACs back, and the agent finds them again through its
  take-over state file (nodes/io/takeover.py, in the same mounted directory).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import docker
import docker.errors
import grpc

from orchestrator.domain.results import ExecResult
from orchestrator.lab import labels as L
from orchestrator.lab.backends import agentdirs
from orchestrator.lab.backends.actions import transition
from orchestrator.lab.backends.base import (
    AgentSocket,
    BackendError,
    EndpointInfo,
    LabObjects,
    NetworkInfo,
    NetworkSpec,
    NodeInfo,
    NodeSpec,
)
from orchestrator.lab.clock import LabClock, RealClock
from orchestrator.wire.agent import AgentPool, open_channel
from topology import Lab
from topology.plan import default_pool

CAPABILITIES = ("NET_RAW", "NET_ADMIN")
LOCK_DIR = Path(tempfile.gettempdir())
STOP_TIMEOUT = 5  # s: ``stop``/``restart`` send SIGTERM, then SIGKILL after this
STATE_WAIT = 15.0  # s: a container reaches the state its action leads to


def subnet_clash(lab: Lab, networks: Sequence[dict[str, Any]]) -> str | None:
    """Why ``lab`` cannot be deployed next to these Docker networks (``api.networks()``), or
    None: one of its subnets overlaps a network that is not its own. Docker would refuse
    that network half-way through the deploy; saying it first names the other lab and the
    way out (labs without ``pool:`` take a /16 derived from their name, and two names can
    derive the same one)."""
    taken = []
    for net in networks:
        labels = net.get("Labels") or {}
        if labels.get(L.LAB) == lab.name:
            continue  # its own: a redeploy or a replacement
        for config in (net.get("IPAM") or {}).get("Config") or []:
            with contextlib.suppress(KeyError, ValueError, TypeError):
                taken.append((IPv4Network(config["Subnet"]), str(net.get("Name")), labels))
    for segment in lab.segments:
        for subnet, name, labels in taken:
            if not segment.subnet.overlaps(subnet):
                continue
            other = labels.get(L.LAB)
            owner = f"network {name} of lab {other}" if other else f"Docker network {name}"
            derived = lab.pool == default_pool(lab.name)
            fix = (
                f"the lab's pool {lab.pool} is derived from its name: set `pool:` in the "
                "topology to a free range, or rename the lab"
                if derived
                else f"set `pool:` (now {lab.pool}) to a free range"
            )
            return (
                f"segment {segment.name}'s subnet {segment.subnet} overlaps {owner} "
                f"({subnet}); {fix}" + (f", or destroy lab {other}" if other else "")
            )
    return None


IMAGE_ENV = "WIRELAB_NODE_IMAGE"
STALE_ENDPOINT_RETRIES = (0.2, 0.5, 1.0, 2.0)  # seconds between "active endpoints" retries


class DockerBackend:
    name = "docker"

    def __init__(
        self,
        *,
        image: str | None = None,
        client: Any = None,
        lock_dir: Path = LOCK_DIR,
        run_dir: Path | None = None,
    ) -> None:
        # the node image: given, else $WIRELAB_NODE_IMAGE (one derived from wirelab-node with
        # the user's packages installed), else the one built from these sources
        self._image = image if image is not None else os.environ.get(IMAGE_ENV) or None
        self._client = client
        self.lock_dir = lock_dir
        self.run_dir = run_dir if run_dir is not None else agentdirs.default_root()
        self._init = threading.Lock()

    @property
    def engine(self) -> str:
        """The engine this backend talks to as the docker CLI names it (its DOCKER_HOST;
        "": the default socket), so that ``wirelab exec -it`` reaches the same one."""
        return os.environ.get("DOCKER_HOST", "")

    # ---- plumbing ----------------------------------------------------------------------
    @property
    def api(self) -> Any:
        """The low-level docker.APIClient (created on first use)."""
        with self._init:
            if self._client is None:
                try:
                    self._client = docker.from_env(max_pool_size=32, timeout=120)
                except docker.errors.DockerException as exc:
                    raise BackendError(f"cannot reach the Docker engine: {exc}") from None
            return self._client.api

    def node_api(self, lab: str, node: str) -> Any:
        """The engine that holds ``node``'s container (here: the one engine; the swarm
        backend picks the daemon the node is placed on)."""
        return self.api

    def engines(self) -> list[Any]:
        """Every engine that may hold a lab's containers."""
        return [self.api]

    def network_api(self) -> Any:
        """The engine where the lab's networks are created and found."""
        return self.api

    @staticmethod
    def _error(what: str, exc: Exception) -> BackendError:
        if isinstance(exc, docker.errors.APIError):
            return BackendError(f"{what}: {exc.explanation or exc}")
        return BackendError(f"{what}: {exc}")

    # ---- planning ----------------------------------------------------------------------
    def check(self, lab: Lab) -> None:
        try:
            self.api.ping()
        except (docker.errors.DockerException, OSError) as exc:
            raise BackendError(
                f"the Docker engine does not answer ({exc}); start dockerd or run "
                "`python -m orchestrator.image build` once as root"
            ) from None
        try:
            networks = self.api.networks()
        except docker.errors.APIError as exc:
            raise self._error("list networks", exc) from None
        clash = subnet_clash(lab, networks)
        if clash is not None:
            raise BackendError(clash)
        missing = self._missing_images(lab)
        if missing:
            raise BackendError(missing)

    def _missing_images(self, lab: Lab) -> str:
        """Why the users' images of ``lab``'s linux nodes cannot run ("" when all are in
        the engine). wirelab never pulls: an image is built or loaded by its owner."""
        wanted: dict[str, list[str]] = {}
        for node in lab.nodes:
            if node.workload.own_image:
                wanted.setdefault(node.workload.image, []).append(node.name)
        lines = []
        for image, nodes in wanted.items():
            try:
                self.api.inspect_image(image)
            except docker.errors.ImageNotFound:
                lines.append(
                    f"image {image} (node {', '.join(nodes)}) is not in this Docker engine, "
                    "and wirelab never pulls one: build it (docker build -t "
                    f"{image} DIR) or load it (docker load -i FILE), then deploy again"
                )
            except docker.errors.APIError as exc:
                raise self._error(f"inspect image {image}", exc) from None
        return "; ".join(lines)

    def image(self) -> str:
        if self._image is None:
            from orchestrator.image.build import build
            from orchestrator.image.engine import Progress

            self._image = build(progress=Progress(quiet=True)).tag
        else:
            try:
                self.api.inspect_image(self._image)
            except docker.errors.ImageNotFound:
                raise BackendError(
                    f"no image {self._image} (the node image; {IMAGE_ENV} names yours): build "
                    "it with `python -m orchestrator.image build`, or yours FROM wirelab-node"
                ) from None
        return self._image

    def agent_socket(self, lab: str, node: str) -> AgentSocket:
        """``<run_dir>/<lab>/<node>/agent.sock``, the directory mounted at /run/wirelab."""
        return agentdirs.agent_socket(self.run_dir, lab, node)

    def management_subnet(self, lab: Lab, hosts: int) -> IPv4Network | None:
        return None  # every agent listens on its Unix socket

    @contextlib.contextmanager
    def lock(self, lab: str) -> Iterator[object]:
        path = self.lock_dir / f"wirelab-lab-{lab}.lock"
        with path.open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield None
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ---- objects -----------------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> None:
        ipam = docker.types.IPAMConfig(pool_configs=[self.ipam_pool(spec)])
        try:
            self.network_api().create_network(
                spec.name, ipam=ipam, labels=dict(spec.labels), check_duplicate=True,
                **self.network_args(spec),
            )  # fmt: skip
        except docker.errors.APIError as exc:
            raise self._error(f"network {spec.name} ({spec.subnet})", exc) from None

    def ipam_pool(self, spec: NetworkSpec) -> Any:
        """The network's address pool: the planned subnet and gateway."""
        return docker.types.IPAMPool(subnet=str(spec.subnet), gateway=str(spec.gateway))

    def network_args(self, spec: NetworkSpec) -> dict[str, Any]:
        """Driver, options and flags of a lab network (docker: a plain bridge)."""
        return {
            "driver": "bridge",
            "options": {
                "com.docker.network.bridge.enable_ip_masquerade": "false",
                "com.docker.network.driver.mtu": str(spec.mtu),
            },
            "internal": spec.management,
        }

    def create_node(self, spec: NodeSpec) -> None:
        api = self.node_api(spec.lab, spec.node)
        order = [a for a in (spec.management, *spec.attachments) if a is not None]
        first, rest = (order[0], order[1:]) if order else (None, [])
        for mount in spec.mounts:
            if not mount.read_only:  # the user's folders (code) are mounted as they are
                agentdirs.fresh_node_dir(mount.source)
        binds = [f"{m.source}:{m.target}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts]
        binds += [f"{b.source}:{b.target}:{'ro' if b.read_only else 'rw'}" for b in spec.binds]
        # the user's image keeps Docker's default capabilities (its service may bind port 80);
        # the lab configures its interfaces from the host (deploy.py), so it needs no more
        # a node that runs FRR adds the capabilities FRR insists on (orchestrator.lab.frr)
        caps: dict[str, Any] = (
            ({"cap_add": [*CAPABILITIES, *spec.capabilities]} if spec.capabilities else {})
            if spec.own_image
            else {"cap_drop": ["ALL"], "cap_add": [*CAPABILITIES, *spec.capabilities]}
        )
        host_config = api.create_host_config(
            **caps,
            sysctls=dict(spec.sysctls),
            network_mode=first.network if first is not None else "none",
            binds=binds or None,
        )
        networking = None
        if first is not None:
            endpoint = api.create_endpoint_config(ipv4_address=str(first.address))
            networking = api.create_networking_config({first.network: endpoint})
        try:
            api.create_container(
                spec.image,
                command=list(spec.command) or None,
                environment=dict(spec.env) or None,
                name=spec.name,
                hostname=spec.node,
                labels=dict(spec.labels),
                host_config=host_config,
                networking_config=networking,
                stop_signal="SIGTERM",
            )
            for a in rest:
                api.connect_container_to_network(spec.name, a.network, ipv4_address=str(a.address))
        except docker.errors.APIError as exc:
            raise self._error(f"container {spec.name}", exc) from None

    # ---- node actions ------------------------------------------------------------------
    def start_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "start", lambda api, name: api.start(name))

    def kill_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "kill", lambda api, name: api.kill(name))

    def stop_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "stop", lambda api, name: api.stop(name, timeout=STOP_TIMEOUT))

    def restart_node(self, lab: str, node: str) -> None:
        self._action(
            lab, node, "restart", lambda api, name: api.restart(name, timeout=STOP_TIMEOUT)
        )

    def pause_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "pause", lambda api, name: api.pause(name))

    def unpause_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "unpause", lambda api, name: api.unpause(name))

    def _action(self, lab: str, node: str, action: str, call: Callable[[Any, str], object]) -> None:
        name = L.container_name(lab, node)
        state = self.node_state(lab, node)
        if state == "missing":
            raise BackendError(f"lab {lab} has no container for {node}")
        target = transition(node, action, state)
        try:
            call(self.node_api(lab, node), name)
        except docker.errors.APIError as exc:
            raise self._error(f"{action} {name}", exc) from None
        if target != state and target in ("exited", "created"):
            self._wait_state(lab, node, target, action)  # docker kill only sends the signal
        # start/restart/pause/unpause return when done; a node that crashes at once is
        # "exited" for its driver to see (deploy reports its logs)

    def _wait_state(self, lab: str, node: str, target: str, action: str) -> None:
        deadline = time.monotonic() + STATE_WAIT
        while True:
            state = self.node_state(lab, node)
            if state == target:
                return
            if time.monotonic() > deadline:
                raise BackendError(
                    f"{action} {node}: it is still {state} after {STATE_WAIT:.0f} s "
                    f"(expected {target}); logs:\n{self.logs(lab, node)}"
                )
            time.sleep(0.05)

    def _inspect(self, lab: str, node: str) -> dict[str, Any]:
        try:
            info: dict[str, Any] = self.node_api(lab, node).inspect_container(
                L.container_name(lab, node)
            )
        except docker.errors.NotFound:
            raise BackendError(f"lab {lab} has no container for {node}") from None
        return info

    def agent_address(self, lab: str, node: str) -> str:
        labels = self._inspect(lab, node)["Config"].get("Labels") or {}
        address = labels.get(L.AGENT)
        if not address:
            raise BackendError(f"{node} runs no node agent")
        return str(address)

    def node_state(self, lab: str, node: str) -> str:
        try:
            return str(self._inspect(lab, node)["State"]["Status"])
        except BackendError:
            return "missing"

    def logs(self, lab: str, node: str, *, tail: int = 20) -> str:
        try:
            data = self.node_api(lab, node).logs(L.container_name(lab, node), tail=tail)
        except docker.errors.APIError as exc:
            return f"(no logs: {exc.explanation or exc})"
        return bytes(data).decode(errors="replace")

    def exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        """``argv`` in the container, killed after ``timeout`` (by coreutils' timeout in
        the lab's image; a user's image need have none: then the engine's exec is left
        running in the container past ``timeout`` and the answer says it timed out)."""
        name = L.container_name(lab, node)
        api = self.node_api(lab, node)
        try:
            labels = api.inspect_container(name)["Config"].get("Labels") or {}
        except docker.errors.APIError as exc:
            raise self._error(f"exec in {name}", exc) from None
        own = labels.get(L.OWN_IMAGE) == "true"
        limited = (
            list(argv) if own else ["timeout", "-s", "KILL", f"{max(1, round(timeout))}", *argv]
        )
        answer: dict[str, Any] = {}

        def run() -> None:
            try:
                created = api.exec_create(name, limited, stdout=True, stderr=True)
                answer["output"] = api.exec_start(created["Id"])
                answer["code"] = api.exec_inspect(created["Id"])["ExitCode"]
            except docker.errors.APIError as exc:
                answer["error"] = exc

        if own:
            worker = threading.Thread(target=run, name=f"exec-{name}", daemon=True)
            worker.start()
            worker.join(timeout + 1.0)
            if worker.is_alive():
                return ExecResult(-1, f"(timed out after {timeout:.0f} s: {' '.join(argv)})")
        else:
            run()
        if "error" in answer:
            raise self._error(f"exec in {name}", answer["error"]) from None
        code = answer.get("code")
        text = bytes(answer.get("output", b"")).decode(errors="replace")
        if code in (124, 137) and not own:
            text += f"\n(timed out after {timeout:.0f} s: {' '.join(argv)})"
        return ExecResult(int(code if code is not None else -1), text)

    def netns_exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        """``nsenter -t PID -n``: the host's program in the container's network namespace
        (its /proc/sys/net is the container's, and writable)."""
        name = L.container_name(lab, node)
        try:
            pid = int(self.node_api(lab, node).inspect_container(name)["State"]["Pid"])
        except docker.errors.APIError as exc:
            raise self._error(f"inspect {name}", exc) from None
        if pid <= 0:
            raise BackendError(f"{name} is not running")
        try:
            done = subprocess.run(
                ["nsenter", "-t", str(pid), "-n", *argv],
                capture_output=True, text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendError(f"nsenter into {name}: {exc}") from None
        return ExecResult(done.returncode, done.stdout + done.stderr)

    def remove_node(self, lab: str, node: str) -> None:
        """Remove the container, then its agent's directory (found by its label)."""
        name = L.container_name(lab, node)
        api = self.node_api(lab, node)
        try:
            labels = api.inspect_container(name)["Config"].get("Labels") or {}
        except docker.errors.NotFound:
            labels = {}
        except docker.errors.APIError as exc:
            raise self._error(f"inspect {name}", exc) from None
        try:
            api.remove_container(name, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise self._error(f"remove {name}", exc) from None
            return  # another remover owns it (and its directory)
        agentdirs.remove_node_dir(str(labels.get(L.AGENT, "")), lab, node)

    def remove_lab_files(self, lab: str) -> None:
        """The lab's agent directory (``<run_dir>/<lab>``), whatever is left in it."""
        agentdirs.remove_lab_dir(self.run_dir, lab)

    def remove_network(self, lab: str, name: str) -> None:
        """Remove a network. Docker 20.10 sometimes still counts endpoints of containers
        just removed (moby #42119): "has active endpoints" with none attached is retried
        for a few seconds; if the count stays, the error says what it is and what clears
        it (a dockerd restart), instead of Docker's bare refusal."""
        delays = list(STALE_ENDPOINT_RETRIES)
        while True:
            try:
                self.network_api().remove_network(name)
                return
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as exc:
                if "active endpoints" not in str(exc):
                    raise self._error(f"remove network {name}", exc) from None
                attached = self._attached(name)
                if attached:
                    raise BackendError(
                        f"remove network {name}: still attached: {', '.join(attached)}"
                    ) from None
                if not delays:
                    raise BackendError(
                        f"remove network {name}: Docker counts active endpoints but none is "
                        "attached (a Docker 20.10 endpoint-count leak, moby #42119); "
                        "restarting dockerd clears it, then destroy the lab again"
                    ) from None
                time.sleep(delays.pop(0))

    def _attached(self, name: str) -> list[str]:
        """Names of the containers Docker lists on network ``name``."""
        try:
            info = self.network_api().inspect_network(name)
        except docker.errors.APIError:
            return []
        containers = info.get("Containers") or {}
        return sorted(str(c.get("Name") or cid[:12]) for cid, c in containers.items())

    # ---- discovery ---------------------------------------------------------------------
    def find(self, lab: str) -> LabObjects:
        filters = {"label": L.label_filter(lab)}
        try:
            containers = [
                c for api in self.engines() for c in api.containers(all=True, filters=filters)
            ]
            networks = self.network_api().networks(filters=filters)
        except docker.errors.APIError as exc:
            raise self._error(f"list lab {lab}", exc) from None
        nodes = tuple(_node_info(c) for c in containers)
        nets = tuple(
            NetworkInfo(n["Name"], n["Id"], n.get("Labels") or {}, _subnet(n)) for n in networks
        )
        return LabObjects(lab, nodes, nets)

    def lab_names(self) -> list[str]:
        filters = {"label": L.label_filter()}
        names = {
            c["Labels"].get(L.LAB, "")
            for api in self.engines()
            for c in api.containers(all=True, filters=filters)
        }
        names |= {
            (n.get("Labels") or {}).get(L.LAB, "")
            for n in self.network_api().networks(filters=filters)
        }
        return sorted(names - {""})

    def agents(self) -> AgentPool:
        return AgentPool()  # one per deploy: it closes its channels when done

    # ---- what a running lab's service needs -------------------------------------------
    def channel(self, address: str) -> grpc.Channel:
        return open_channel(address)

    def clock(self, lab: str) -> LabClock:
        return RealClock(lab)


def _subnet(network: dict[str, Any]) -> str:
    configs = (network.get("IPAM") or {}).get("Config") or []
    return str(configs[0].get("Subnet", "")) if configs else ""


def _node_info(c: dict[str, Any]) -> NodeInfo:
    labels: dict[str, str] = c.get("Labels") or {}
    networks: dict[str, Any] = (c.get("NetworkSettings") or {}).get("Networks") or {}
    endpoints = tuple(
        EndpointInfo(
            name,
            str(n.get("IPAddress", "")),
            int(n.get("IPPrefixLen") or 0),
            str(n.get("MacAddress", "")),
        )
        for name, n in sorted(networks.items())
    )
    name = (c.get("Names") or ["/?"])[0].lstrip("/")
    return NodeInfo(
        name,
        c["Id"],
        labels,
        str(c.get("State", "")),
        str(c.get("Image", "")),
        endpoints,
        labels.get(L.AGENT, ""),
    )
