"""Configure a linux-kind node: the container's own kernel stack set up from the plan.

Docker has already put the planned IPv4 address on each data interface (its names follow
connect order, so interfaces are found by address). Three commands run inside the node:

1. ``ip -j -4 addr show``: which device holds which planned address (and its prefix);
2. one ``sh`` script: each device renamed to its planned name (``tcpdump -i eth0`` in the
   node then captures the link the topology calls eth0; a device in the way goes through
   a temporary name first), the planned MAC and MTU on each, offloads off (``ethtool -K
   DEV tx off tso off gso off gro off``: DESIGN.md §4, a Linux sender otherwise hands our
   raw readers unfinished checksums and 64 KB GSO frames), Docker's default route removed
   (it points at the bridge's gateway, which belongs to the host) and the topology's
   routes added;
3. ``ip -j addr show`` + ``ip -j -4 route show`` + ``ip_forward``: verified against the plan.

Live changes (:func:`set_interface_script`, :func:`route_script`) and the live view
(:func:`live_interfaces`) use the same commands later.

ip_forward itself is a sysctl set when the container is created (``/proc/sys`` is
read-only inside it): 1 only for a linux node with ``forward: true`` (a Linux-kernel
router), which also gets rp_filter off (:func:`orchestrator.deploy.sysctls`) and, with
``routes: auto``, a route to every remote subnet like our routers.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Protocol

from topology import Node, NodeKind

if TYPE_CHECKING:
    from orchestrator.domain.results import ExecResult
    from orchestrator.lab.backends.base import Backend

OFFLOADS = ("tx", "tso", "gso", "gro")
VERIFY_SCRIPT = (
    "ip -j addr show; echo; ip -j -4 route show; echo; cat /proc/sys/net/ipv4/ip_forward"
)


class LinuxNodeError(RuntimeError):
    """A linux node could not be set up as planned (names the node and what is wrong)."""


class Executor(Protocol):
    def __call__(self, argv: Sequence[str]) -> tuple[int, str]: ...


@dataclass(frozen=True, slots=True)
class LinuxNodeReport:
    node: str
    devices: Mapping[str, str]  # topology iface -> the kernel device Docker had named
    commands: tuple[str, ...]


def forwards(node: Node) -> bool:
    """Whether the node's kernel routes (the ip_forward sysctl it is created with): a linux
    node with ``forward: true``. Our own nodes keep the kernel out (ip_forward 0)."""
    return node.kind is NodeKind.LINUX and node.forwards


def _json_lines(text: str) -> list[Any]:
    """``ip -j`` documents, one per non-empty line (other lines are returned as strings)."""
    out: list[Any] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append(line)
    return out


def map_devices(node: Node, addr_json: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Planned interface -> kernel device, by the IPv4 address Docker assigned."""
    by_address: dict[str, tuple[str, int]] = {}
    for link in addr_json:
        for info in link.get("addr_info", ()):
            if info.get("family") == "inet":
                by_address[str(info["local"])] = (str(link["ifname"]), int(info["prefixlen"]))
    devices: dict[str, str] = {}
    problems: list[str] = []
    for iface in node.interfaces:
        found = by_address.get(str(iface.address))
        if found is None:
            problems.append(f"{iface.name}: no device has {iface.cidr}")
        elif found[1] != iface.network.prefixlen:
            problems.append(
                f"{iface.name}: {found[0]} has {iface.address}/{found[1]}, "
                f"planned /{iface.network.prefixlen}"
            )
        else:
            devices[iface.name] = found[0]
    if problems:
        have = ", ".join(f"{dev} {addr}/{plen}" for addr, (dev, plen) in sorted(by_address.items()))
        raise LinuxNodeError(f"{node.name}: " + "; ".join(problems) + f" (devices: {have})")
    return devices


def rename_commands(devices: Mapping[str, str]) -> list[str]:
    """Rename each device to its planned interface name (through a temporary name, so
    eth0 and eth1 can swap); a device must be down while it is renamed."""
    q = shlex.quote
    moves = {dev: name for name, dev in devices.items() if dev != name}
    cmds: list[str] = []
    for i, dev in enumerate(sorted(moves)):
        cmds.append(f"ip link set dev {q(dev)} down")
        cmds.append(f"ip link set dev {q(dev)} name wl-tmp{i}")
    for i, dev in enumerate(sorted(moves)):
        cmds.append(f"ip link set dev wl-tmp{i} name {q(moves[dev])}")
        cmds.append(f"ip link set dev {q(moves[dev])} up")
    return cmds


def setup_commands(node: Node, devices: Mapping[str, str]) -> list[str]:
    """The shell commands that make the kernel match the plan (run with ``set -e``);
    ``devices`` maps each planned interface to its kernel device before renaming."""
    q = shlex.quote
    cmds = rename_commands(devices)
    for iface in node.interfaces:
        dev = q(iface.name)
        cmds.append(f"ip link set dev {dev} address {iface.mac_str}")
        cmds.append(f"ip link set dev {dev} mtu {iface.mtu}")
        cmds.append(f"ethtool -K {dev} " + " ".join(f"{o} off" for o in OFFLOADS))
    cmds.append("while ip -4 route del default 2>/dev/null; do :; done")
    for route in node.routes:
        cmds.append(f"ip -4 route replace {route.dst} via {route.via} dev {q(route.dev)}")
    return cmds


def setup_script(commands: Sequence[str]) -> str:
    return "set -e\n" + "\n".join(f"echo '+ {c}'; {c}" for c in commands) + "\n"


def verify(node: Node, output: str) -> list[str]:
    """What differs from the plan in ``VERIFY_SCRIPT``'s output (empty: all is well);
    every device carries its planned name by then."""
    docs = _json_lines(output)
    if len(docs) < 3 or not isinstance(docs[0], list) or not isinstance(docs[1], list):
        return [f"unexpected verification output: {output.strip()[:300]!r}"]
    links = {str(link["ifname"]): link for link in docs[0]}
    routes: list[Mapping[str, Any]] = docs[1]
    problems: list[str] = []
    for iface in node.interfaces:
        link = links.get(iface.name)
        if link is None:
            problems.append(f"{iface.name}: no device has that name (have {', '.join(links)})")
            continue
        if int(link.get("mtu", 0)) != iface.mtu:
            problems.append(f"{iface.name}: MTU {link.get('mtu')}, planned {iface.mtu}")
        if str(link.get("address", "")).lower() != iface.mac_str:
            problems.append(f"{iface.name}: MAC {link.get('address')}, planned {iface.mac_str}")
        inet = [a for a in link.get("addr_info", ()) if a.get("family") == "inet"]
        if [(a.get("local"), a.get("prefixlen")) for a in inet] != [
            (str(iface.address), iface.network.prefixlen)
        ]:
            problems.append(f"{iface.name}: addresses {inet}, planned {iface.cidr}")
    have = {(_route_dst(r), str(r.get("gateway", "")), str(r.get("dev", ""))) for r in routes}
    for route in node.routes:
        want = (str(route.dst), str(route.via), route.dev)
        if want not in have:
            problems.append(f"route {route.dst} via {route.via} dev {want[2]} is missing")
    planned_default = {str(r.via) for r in node.routes if r.is_default}
    for dst, gateway, dev in sorted(have):
        if dst == "0.0.0.0/0" and gateway not in planned_default:
            problems.append(f"a default route via {gateway} dev {dev} is not planned")
    forward = str(docs[2]).strip()
    if forward != ("1" if forwards(node) else "0"):
        problems.append(f"net.ipv4.ip_forward is {forward}")
    return problems


def _route_dst(route: Mapping[str, Any]) -> str:
    dst = str(route.get("dst", ""))
    if dst == "default":
        return "0.0.0.0/0"
    if "/" not in dst:
        return f"{IPv4Address(dst)}/32"
    return dst


def configure(node: Node, run: Executor) -> LinuxNodeReport:
    """Set up ``node`` through ``run`` (runs argv inside the node: exit code, output)."""
    if node.kind is not NodeKind.LINUX:
        raise LinuxNodeError(f"{node.name} is a {node.kind.value} node, not a linux node")
    code, out = run(["ip", "-j", "-4", "addr", "show"])
    if code != 0:
        raise LinuxNodeError(f"{node.name}: `ip -j -4 addr show` failed ({code}): {out.strip()}")
    docs = _json_lines(out)
    if not docs or not isinstance(docs[0], list):
        raise LinuxNodeError(f"{node.name}: cannot read `ip -j -4 addr show`: {out.strip()!r}")
    devices = map_devices(node, docs[0])
    commands = setup_commands(node, devices)
    code, out = run(["sh", "-c", setup_script(commands)])
    if code != 0:
        tail = "\n".join(out.strip().splitlines()[-8:])
        raise LinuxNodeError(f"{node.name}: setup failed (exit status {code}):\n{tail}")
    code, out = run(["sh", "-c", VERIFY_SCRIPT])
    problems = verify(node, out) if code == 0 else [f"exit status {code}: {out}"]
    if problems:
        raise LinuxNodeError(f"{node.name}: not as planned: " + "; ".join(problems))
    return LinuxNodeReport(node.name, devices, tuple(commands))


# ---- live configuration and state ------------------------------------------------------


def set_interface_script(
    iface: str, *, mtu: int | None, up: bool | None, address: str | None, old: str | None
) -> str:
    """Change one interface (``address``/``old`` as a.b.c.d/len)."""
    q = shlex.quote
    dev = q(iface)
    cmds: list[str] = []
    if mtu is not None:
        cmds.append(f"ip link set dev {dev} mtu {mtu}")
    if address is not None:
        if old is not None:
            cmds.append(f"ip -4 addr del {q(old)} dev {dev}")
        cmds.append(f"ip -4 addr add {q(address)} dev {dev}")
    if up is not None:
        cmds.append(f"ip link set dev {dev} {'up' if up else 'down'}")
    return setup_script(cmds)


def route_script(prefix: str, *, via: str = "", dev: str = "", metric: int = 0) -> str:
    q = shlex.quote
    cmd = f"ip -4 route replace {q(prefix)}"
    if via:
        cmd += f" via {q(via)}"
    if dev:
        cmd += f" dev {q(dev)}"
    if metric:
        cmd += f" metric {metric}"
    return setup_script([cmd])


def live_interfaces(output: str) -> dict[str, dict[str, Any]]:
    """``ip -j addr show`` -> {name: {mtu, up, mac, address, prefix_len}} (the first IPv4
    address of each device; loopback left out)."""
    docs = _json_lines(output)
    out: dict[str, dict[str, Any]] = {}
    if not docs or not isinstance(docs[0], list):
        return out
    for link in docs[0]:
        name = str(link.get("ifname", ""))
        if not name or name == "lo":
            continue
        inet = [a for a in link.get("addr_info", ()) if a.get("family") == "inet"]
        flags = link.get("flags", [])
        out[name] = {
            "mtu": int(link.get("mtu", 0)),
            "up": "UP" in flags,
            "mac": str(link.get("address", "")),
            "address": str(inet[0]["local"]) if inet else "",
            "prefix_len": int(inet[0]["prefixlen"]) if inet else 0,
        }
    return out


_ROUTE_KINDS = {"kernel": "connected", "rip": "rip"}


def routes(output: str) -> list[dict[str, str]]:
    """``ip -j -4 route show`` -> [{prefix, gateway, iface, kind, metric}] ("kernel" routes
    are the connected ones, "rip" those FRR's ripd installed through zebra)."""
    docs = _json_lines(output)
    if not docs or not isinstance(docs[0], list):
        return []
    return [
        {
            "prefix": _route_dst(r),
            "gateway": str(r.get("gateway", "")),
            "iface": str(r.get("dev", "")),
            "kind": _ROUTE_KINDS.get(str(r.get("protocol", "")), "static"),
            "metric": str(r.get("metric", 0)),
        }
        for r in docs[0]
    ]


def kernel_exec(
    backend: Backend, lab: str, node: Node, argv: Sequence[str], *, timeout: float
) -> ExecResult:
    """A program acting on a linux node's kernel stack: in its container when it runs the
    lab's node image (which carries ip, ethtool, ping, traceroute, python3), else, for the
    user's image (which need carry none of them), the host's own program in the
    container's network namespace: the same kernel stack either way."""
    run = backend.netns_exec if node.workload.own_image else backend.exec
    return run(lab, node.name, argv, timeout=timeout)


def exec_commands(node: Node) -> list[list[str]]:
    """A node's ``exec:`` lines as argv lists (validated when the topology was read)."""
    return [shlex.split(line) for line in node.workload.exec]
