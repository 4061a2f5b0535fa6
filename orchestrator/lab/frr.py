"""FRR's ripd on a linux router (``kind: linux``, ``forward: true``, ``routing: rip``).

The node image carries Debian's ``frr`` package (orchestrator/image/build.py). After the
node's kernel is set up (:mod:`orchestrator.lab.linuxnode`), one ``sh`` script
(:func:`start_script`) writes ``zebra.conf`` and ``ripd.conf`` into :data:`RUN_DIR`, starts
zebra (which installs ripd's routes into the kernel, ``proto rip``) and ripd, and checks
that vtysh answers. The configuration comes from the node's :class:`~topology.RipOptions`
(:func:`ripd_config`): ``network`` per planned subnet, ``timers basic``, split horizon and
poisoned reverse per interface, passive interfaces, ``redistribute static``,
``default-information originate`` and RFC 2082 keyed MD5 through a key chain.

Why the daemons run as root, with their files outside ``/etc/frr``: the package's
``/etc/frr`` belongs to user frr (mode 0750) and the container's root has no
CAP_DAC_OVERRIDE, CAP_CHOWN or CAP_SETUID to read it or switch users; root joins the
``frrvty`` group instead (FRR insists its user is in it). FRR also sets its capabilities
at start and refuses to run unless CAP_SYS_ADMIN and CAP_NET_BIND_SERVICE (ripd binds port
520) are in the container's bounding set: :data:`CAPABILITIES` are added for these nodes
only (the plan's ``NodeSpec.capabilities``), every other node keeps NET_RAW and NET_ADMIN.

:func:`rip_status` reads ``show ip rip status`` and ``show ip rip`` into the same
:class:`~orchestrator.domain.results.RipStatus` our routers report (``daemon="frr"``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from orchestrator.domain.results import RipNeighbor, RipRoute, RipStatus
from orchestrator.lab.linuxnode import Executor
from topology import Node, NodeKind, Redistribute, RipOptions

RUN_DIR = "/run/wirelab-frr"
CAPABILITIES = ("SYS_ADMIN", "NET_BIND_SERVICE")
KEY_CHAIN = "wirelab"
VTYSH = ("vtysh", "--vty_socket", RUN_DIR)
STATUS_SCRIPT = (
    f"vtysh --vty_socket {RUN_DIR} -c 'show ip rip status' 2>/dev/null; echo '@@'; "
    f"vtysh --vty_socket {RUN_DIR} -c 'show ip rip' 2>/dev/null"
)
_ORIGINS = {"R": "rip", "C": "connected", "S": "static", "K": "static"}


class FrrError(RuntimeError):
    """FRR could not be started on a node (names the node and what went wrong)."""


def runs_frr(node: Node) -> bool:
    """A linux router with RIP: its kernel routes, FRR's ripd decides how."""
    return node.kind is NodeKind.LINUX and node.forwards and node.rip is not None


def _seconds(value: float) -> int:
    return max(1, round(value))


def ripd_config(node: Node) -> str:
    """ripd.conf for the node (``node.rip`` set; FRR's limits were checked at load)."""
    rip = node.rip
    if rip is None:
        raise ValueError(f"{node.name} does not run RIP")
    lines = ["frr defaults traditional", f"hostname {node.name}", "!"]
    if rip.auth_key is not None:
        lines += [f"key chain {KEY_CHAIN}", f" key {rip.auth_key_id}",
                  f"  key-string {rip.auth_key}", " exit", "exit", "!"]  # fmt: skip
    for iface in node.interfaces:
        body = _interface_lines(rip)
        if body:
            lines += [f"interface {iface.name}", *body, "exit", "!"]
    lines += ["router rip", " version 2"]
    lines += [f" network {i.network}" for i in node.interfaces]
    lines += [f" passive-interface {name}" for name in rip.passive]
    if Redistribute.STATIC in rip.redistribute:
        lines.append(" redistribute static")
    if rip.default_route:
        lines.append(" default-information originate")
    t = (_seconds(rip.update), _seconds(rip.timeout), _seconds(rip.garbage))
    lines += [f" timers basic {t[0]} {t[1]} {t[2]}", "exit", ""]
    return "\n".join(lines)


def _interface_lines(rip: RipOptions) -> list[str]:
    out = []
    if not rip.split_horizon:
        out.append(" no ip rip split-horizon")
    elif rip.poisoned_reverse:
        out.append(" ip rip split-horizon poisoned-reverse")
    if rip.auth_key is not None:
        out += [" ip rip authentication mode md5 auth-length rfc",
                f" ip rip authentication key-chain {KEY_CHAIN}"]  # fmt: skip
    return out


def start_script(node: Node) -> str:
    """Write the configurations, (re)start zebra and ripd, wait until vtysh answers."""
    d = RUN_DIR
    zebra = f"hostname {node.name}\n"
    daemon = f"-d -u root -g root -z {d}/zserv.api --vty_socket {d}"
    return "\n".join([
        "set -e",
        "grep -q '^frrvty:.*[:,]root\\(,\\|$\\)' /etc/group || "
        "sed -i 's/^\\(frrvty:[^:]*:[^:]*:\\)\\(.\\+\\)$/\\1\\2,root/; "
        "s/^\\(frrvty:[^:]*:[^:]*:\\)$/\\1root/' /etc/group",
        "pkill -x ripd || true; pkill -x zebra || true",
        f"mkdir -p {d}; rm -f {d}/*.pid {d}/*.vty {d}/zserv.api",
        f"printf '%s' {shlex.quote(zebra)} > {d}/zebra.conf",
        f"printf '%s' {shlex.quote(ripd_config(node))} > {d}/ripd.conf",
        f"/usr/lib/frr/zebra {daemon} -f {d}/zebra.conf -i {d}/zebra.pid >{d}/zebra.log 2>&1",
        "i=0; while [ ! -S " + d + "/zserv.api ]; do i=$((i+1)); "
        "if [ $i -gt 100 ]; then echo 'zebra did not start:'; cat " + d + "/zebra.log; exit 1; "
        "fi; sleep 0.1; done",
        f"/usr/lib/frr/ripd {daemon} -f {d}/ripd.conf -i {d}/ripd.pid >{d}/ripd.log 2>&1",
        "i=0; until vtysh --vty_socket " + d + " -c 'show ip rip status' >/dev/null 2>&1; do "
        "i=$((i+1)); if [ $i -gt 100 ]; then echo 'ripd does not answer:'; cat " + d
        + "/ripd.log; exit 1; fi; sleep 0.1; done",
    ])  # fmt: skip


def _time_s(text: str) -> float:
    """FRR's ``MM:SS`` or ``HH:MM:SS`` ages."""
    total = 0.0
    for part in text.split(":"):
        if not part.isdigit():
            return 0.0
        total = total * 60 + int(part)
    return total


def rip_status(output: str, rip: RipOptions) -> RipStatus:
    """:data:`STATUS_SCRIPT`'s output -> the RIP view (timers as ripd reports them)."""
    status, _, table = output.partition("@@")
    update = _match(r"Sending updates every (\d+) seconds", status)
    due = _match(r"next due in (\d+) seconds", status)
    timeout = _match(r"Timeout after (\d+) seconds", status)
    garbage = _match(r"garbage collect after (\d+) seconds", status)
    redistributing = re.search(r"Redistributing:(.*)", status)
    redistribute = ["connected"] + (
        [w.strip(",") for w in redistributing.group(1).split()] if redistributing else []
    )
    if rip.default_route:
        redistribute.append("default")
    neighbors = []
    sources = status.partition("Routing Information Sources:")[2]
    for line in sources.splitlines():
        cols = line.split()
        if len(cols) == 5 and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", cols[0]):
            neighbors.append(
                RipNeighbor(
                    address=cols[0],
                    bad_packets=int(cols[1]),
                    bad_routes=int(cols[2]),
                    last_heard_ms=_time_s(cols[4]) * 1000.0,
                )
            )
    routes = _routes(table, timeout if timeout is not None else rip.timeout)
    counts = {n.address: sum(1 for r in routes if r.learned_from == n.address) for n in neighbors}
    neighbors = [
        RipNeighbor(
            n.address,
            n.iface,
            n.last_heard_ms,
            n.packets,
            n.bad_packets,
            n.bad_routes,
            counts[n.address],
        )
        for n in neighbors
    ]
    return RipStatus(
        enabled=bool(status.strip()),
        daemon="frr",
        update_s=update if update is not None else rip.update,
        timeout_s=timeout if timeout is not None else rip.timeout,
        garbage_s=garbage if garbage is not None else rip.garbage,
        triggered_updates=True,
        split_horizon=rip.split_horizon,
        poisoned_reverse=rip.poisoned_reverse,
        authentication=rip.auth_key is not None,
        redistribute=tuple(redistribute),
        next_update_ms=None if due is None else due * 1000.0,
        neighbors=tuple(neighbors),
        routes=tuple(routes),
    )


def _match(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text)
    return None if m is None else float(m.group(1))


_ROUTE = re.compile(
    r"^(?P<code>[A-Z])\((?P<sub>[a-z])\)\s+(?P<prefix>\d+\.\d+\.\d+\.\d+/\d+)\s+"
    r"(?P<hop>\d+\.\d+\.\d+\.\d+)\s+(?P<metric>\d+)\s+(?P<src>\S+)\s+(?P<tag>\d+)"
    r"(?:\s+(?P<time>[\d:]+))?"
)


def _routes(table: str, timeout: float) -> list[RipRoute]:
    """``show ip rip``: its Time column counts down to the route's timeout."""
    out = []
    for line in table.splitlines():
        m = _ROUTE.match(line.strip())
        if m is None:
            continue
        code, sub = m.group("code"), m.group("sub")
        origin = "default" if sub == "d" else _ORIGINS.get(code, "rip")
        learned = m.group("src") if code == "R" and sub == "n" else ""
        hop = m.group("hop")
        metric = int(m.group("metric"))
        left = m.group("time")
        age = 0.0 if not left else max(0.0, timeout - _time_s(left))
        out.append(
            RipRoute(
                prefix=m.group("prefix"),
                origin=origin,
                metric=metric,
                gateway="" if hop == "0.0.0.0" else hop,
                learned_from=learned,
                tag=int(m.group("tag")),
                age_ms=age * 1000.0,
            )
        )
    return out


def vtysh(*commands: str) -> Sequence[str]:
    """argv of one vtysh call in the node (``show ...`` commands, for tests and people)."""
    argv = list(VTYSH)
    for c in commands:
        argv += ["-c", c]
    return argv


def start(node: Node, run: Executor) -> None:
    """Start FRR's zebra and ripd on the node (after its kernel is set up)."""
    code, output = run(["sh", "-c", start_script(node)])
    if code != 0:
        raise FrrError(f"{node.name}: FRR did not start: {output.strip()[-400:]}")
