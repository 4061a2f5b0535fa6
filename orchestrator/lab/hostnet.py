"""Lab links carry frames exactly as sent: the host's connection tracking skips the lab's
bridges (issue 11).

Docker loads br_netfilter (``net.bridge.bridge-nf-call-iptables=1``), so every IPv4 frame
crossing a Docker bridge also passes the host's IPv4 netfilter hooks, and with them
conntrack's defragmentation (prerouting, priority -400): the host reassembles fragments and
re-fragments them on output. A lone, overlapping or incomplete series never reaches the
neighbour, and a node never sees a partial datagram (no reassembly timeout, no ICMP time
exceeded code 1). Measured on this host (kernel 6.18, nftables 1.0.6, Docker 20.10):

- the per-bridge ``nf_call_iptables`` option is no lever: it is 0 on Docker's bridges and
  br_netfilter runs when it OR the global sysctl is 1;
- an iptables raw-table ``-j CT --notrack`` (iptables-nft or -legacy: priority -300) comes
  after defrag: its counter stays 0 and the lone fragment is still swallowed;
- an nftables chain on prerouting at priority -450 that marks a frame ``notrack`` works:
  conntrack's defrag skips untracked packets (``nf_defrag_ipv4``), so lone, overlapping and
  incomplete series arrive byte-equal and our host's reassembly timeout sends ICMP 11/1.
  A bridged frame shows the BRIDGE (``br-<id>``) as ``iifname`` there, not the veth port;
- without it, TCP segments far outside conntrack's window and a lone SYN-ACK are marked
  INVALID by conntrack; they still pass today only because Docker accepts everything
  within a bridge (``iifname br-x oifname br-x accept``); untracked, nothing judges them.

So this module keeps ONE nftables table of wirelab's own, ``inet wirelab``: a chain on
prerouting at priority -450 with one rule per lab, ``iifname { <its data bridges> } counter
notrack comment "wirelab lab <name>"``. Only frames entering those bridges are affected:
docker0, a management network if any, and every other container keep the host's conntrack,
Docker's isolation rules (they match interfaces, not connection state) and its NAT. No
sysctl changes. Deploy adds the lab's rule (a progress message says so), destroy removes
it, and the table goes with the last rule: the host is then as before. Every change
rewrites the table in one nft transaction (counters carried over), under a host-wide
lock; rules whose bridges are all gone (labs removed behind wirelab's back) are dropped
on the way.

Not fixable here (it needs the global sysctl, which Docker's other networks rely on):
br_netfilter validates IPv4 headers before any hook, so a frame whose IP header checksum
is wrong, or whose total length exceeds the frame, is dropped on the bridge, and bytes
after the total length (Ethernet padding, trailers) are cut.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import Backend, NetworkInfo

log = logging.getLogger(__name__)

FAMILY = "inet"  # IPv4 and IPv6 (br_netfilter passes both; nf_defrag_ipv6 is also at -400)
TABLE = "wirelab"
CHAIN = "prerouting"
PRIORITY = -450  # below conntrack's defrag (-400) and the raw table (-300)
COMMENT_PREFIX = "wirelab lab "
STEP = "host"  # the deploy/destroy progress step of these messages
LOCK_NAME = "wirelab-hostnet.lock"
SYS_NET = Path("/sys/class/net")
NFT_TIMEOUT = 30.0
WHERE = f"nft table {FAMILY} {TABLE}"
WHAT = f"notrack at prerouting priority {PRIORITY}"
_IFNAME = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")  # IFNAMSIZ - 1, nothing to quote
_LABNAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# deploy's reporter: (step, node, done, total, message)
Report = Callable[[str, str | None, int, int, str], None]


class HostNetError(RuntimeError):
    """The host's ruleset could not be read or changed (the message says why)."""


@dataclass(frozen=True, slots=True)
class LabRule:
    """One lab's rule: frames entering these bridges skip conntrack."""

    lab: str
    bridges: tuple[str, ...]
    packets: int = 0
    bytes: int = 0

    def text(self) -> str:
        if not _LABNAME.match(self.lab):
            raise HostNetError(f"lab name {self.lab!r} cannot go into an nft comment")
        for bridge in self.bridges:
            if not _IFNAME.match(bridge):
                raise HostNetError(f"{bridge!r} is not an interface name")
        names = ", ".join(f'"{b}"' for b in self.bridges)
        return (
            f"iifname {{ {names} }} counter packets {self.packets} bytes {self.bytes} "
            f'notrack comment "{COMMENT_PREFIX}{self.lab}"'
        )


@dataclass(frozen=True, slots=True)
class Ruleset:
    """wirelab's table as found on the host."""

    table: bool  # the table exists
    rules: tuple[LabRule, ...] = ()  # the labs' rules, in chain order
    foreign: int = 0  # rules of the table that are not a lab's (dropped by the next change)

    def rule(self, lab: str) -> LabRule | None:
        return next((r for r in self.rules if r.lab == lab), None)

    @property
    def labs(self) -> tuple[str, ...]:
        return tuple(r.lab for r in self.rules)


# ---- pure parts ------------------------------------------------------------------------------


def bridge_names(networks: Sequence[NetworkInfo]) -> tuple[str, ...]:
    """The host bridges of a lab's data networks (Docker names a bridge network's device
    ``br-`` + the first 12 characters of its id); a management network is left out."""
    out = {
        f"br-{n.id[:12]}"
        for n in networks
        if n.id and n.labels.get(L.KIND, L.KIND_DATA) == L.KIND_DATA and n.labels.get(L.LINK)
    }
    return tuple(sorted(out))


def parse_ruleset(text: str) -> Ruleset:
    """wirelab's table from ``nft -j list table inet wirelab`` (empty text: no table)."""
    if not text.strip():
        return Ruleset(table=False)
    try:
        items = json.loads(text)["nftables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise HostNetError(f"cannot read nft's JSON ({exc})") from None
    table = False
    rules: list[LabRule] = []
    foreign = 0
    for item in items:
        if not isinstance(item, dict):
            continue
        if "table" in item:
            t = item["table"]
            table = table or (t.get("family") == FAMILY and t.get("name") == TABLE)
        elif "rule" in item:
            rule = _lab_rule(item["rule"])
            if rule is None:
                foreign += 1
            else:
                rules.append(rule)
    return Ruleset(table, tuple(rules), foreign)


def _lab_rule(rule: dict[str, Any]) -> LabRule | None:
    comment = str(rule.get("comment", ""))
    if rule.get("chain") != CHAIN or not comment.startswith(COMMENT_PREFIX):
        return None
    bridges: tuple[str, ...] = ()
    packets = nbytes = 0
    notrack = False
    for expr in rule.get("expr") or []:
        if not isinstance(expr, dict):
            continue
        match = expr.get("match")
        if (
            isinstance(match, dict)
            and (match.get("left") or {}).get("meta", {}).get("key") == "iifname"
        ):
            right = match.get("right")
            if isinstance(right, str):  # nft prints a one-element set as the element
                bridges = (right,)
            elif isinstance(right, dict) and isinstance(right.get("set"), list):
                bridges = tuple(str(b) for b in right["set"] if isinstance(b, str))
        elif isinstance(expr.get("counter"), dict):
            packets = int(expr["counter"].get("packets", 0))
            nbytes = int(expr["counter"].get("bytes", 0))
        elif "notrack" in expr:
            notrack = True
    if not bridges or not notrack:
        return None
    return LabRule(comment[len(COMMENT_PREFIX) :], tuple(sorted(bridges)), packets, nbytes)


def render(current: Ruleset, rules: Sequence[LabRule]) -> str:
    """The nft script that makes the table hold exactly ``rules`` (one transaction:
    ``add`` + ``delete`` + the new definition), deletes it when there are none, or is
    empty when there is nothing to do."""
    if not rules:
        return f"delete table {FAMILY} {TABLE}\n" if current.table else ""
    lines = [
        f"add table {FAMILY} {TABLE}",
        f"delete table {FAMILY} {TABLE}",
        f"table {FAMILY} {TABLE} {{",
        f"\tchain {CHAIN} {{",
        f"\t\ttype filter hook prerouting priority {PRIORITY}; policy accept;",
        *(f"\t\t{r.text()}" for r in rules),
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _live(rules: Sequence[LabRule], existing: Collection[str]) -> list[LabRule]:
    """The rules that still name a bridge of this host."""
    return [r for r in rules if any(b in existing for b in r.bridges)]


def plan_claim(
    current: Ruleset, lab: str, bridges: Sequence[str], existing: Collection[str]
) -> tuple[LabRule, ...]:
    """The rules after ``lab`` claims ``bridges`` (those of them on this host): its rule is
    replaced in place (a redeploy's bridges are new ones; the same ones keep their
    counters), stale rules of other labs dropped."""
    mine = tuple(sorted(b for b in set(bridges) if b in existing))
    old = current.rule(lab)
    rule = old if old is not None and old.bridges == mine else LabRule(lab, mine)
    out: list[LabRule] = []
    placed = not mine  # no bridge here: the lab has no rule
    for r in current.rules:
        if r.lab == lab:
            if not placed:
                out.append(rule)
                placed = True
        elif any(b in existing for b in r.bridges):
            out.append(r)
    if not placed:
        out.append(rule)
    return tuple(out)


def plan_release(current: Ruleset, lab: str, existing: Collection[str]) -> tuple[LabRule, ...]:
    """The rules after ``lab`` is gone (stale rules of other labs dropped too)."""
    return tuple(_live([r for r in current.rules if r.lab != lab], existing))


def _changed(current: Ruleset, after: Sequence[LabRule]) -> bool:
    """Whether the table must be rewritten to hold exactly ``after``."""
    if not after:
        return current.table
    return not current.table or current.foreign > 0 or tuple(after) != current.rules


def claim_message(current: Ruleset, after: Sequence[LabRule], lab: str) -> str:
    rule = next((r for r in after if r.lab == lab), None)
    if rule is None:
        return f"no bridge of lab {lab} is on this host: {WHERE} unchanged"
    n = len(rule.bridges)
    bridges = f"{n} bridge{'s' if n != 1 else ''}"
    them = "them" if n != 1 else "it"
    effect = f"skip the host's conntrack, so IPv4 fragments cross {them} unreassembled"
    if current.rule(lab) == rule:
        return f"{WHERE} ({WHAT}) already lets the lab's {bridges} {effect}"
    others = [r.lab for r in after if r.lab != lab]
    change = (
        f"added {WHERE} ({WHAT})"
        if not current.table
        else f"added the lab's rule to {WHERE} ({WHAT}"
        + (f"; shared with {', '.join(others)})" if others else ")")
    )
    return (
        f"{change}: frames entering the lab's {bridges} {effect}; destroy removes it "
        "with the last lab that needs it"
    )


def release_message(current: Ruleset, after: Sequence[LabRule], lab: str) -> str | None:
    if not current.table:
        return None
    had = current.rule(lab) is not None
    stale = [r.lab for r in current.rules if r.lab != lab and r not in after]
    if not had and not stale and after:
        return None
    parts = []
    if had:
        parts.append("removed the lab's notrack rule")
    if stale:
        parts.append(f"dropped stale rules of {', '.join(stale)} (their bridges are gone)")
    if after:
        parts.append(f"{WHERE} kept for {', '.join(r.lab for r in after)}")
    else:
        parts.append(f"deleted {WHERE} (no lab needs it): the host's ruleset is as before")
    return "; ".join(parts)


# ---- the host ------------------------------------------------------------------------------


class HostNet:
    """wirelab's nftables table on this host (needs root and Debian's ``nftables``)."""

    def __init__(
        self,
        *,
        nft: str = "nft",
        lock_dir: Path | None = None,
        sys_net: Path = SYS_NET,
        run: Callable[[Sequence[str], str], tuple[int, str, str]] | None = None,
    ) -> None:
        self.nft = nft
        self.lock_dir = lock_dir or Path(tempfile.gettempdir())
        self.sys_net = sys_net
        self._run = run or _run

    def existing(self) -> frozenset[str]:
        try:
            return frozenset(os.listdir(self.sys_net))
        except OSError:
            return frozenset()

    def _nft(self, args: Sequence[str], stdin: str = "") -> str:
        if self._run is _run and shutil.which(self.nft) is None:
            raise HostNetError(f"{self.nft} not found (Debian's nftables; `make system-deps`)")
        code, out, err = self._run([self.nft, *args], stdin)
        if code != 0:
            why = err.strip() or out.strip() or f"exit {code}"
            if "Operation not permitted" in why:
                why += " (changing the host's ruleset needs root)"
            raise HostNetError(f"nft {' '.join(args)}: {why}")
        return out

    def current(self) -> Ruleset:
        try:
            return parse_ruleset(self._nft(["-j", "list", "table", FAMILY, TABLE]))
        except HostNetError as exc:
            if "No such file or directory" in str(exc):
                return Ruleset(table=False)
            raise

    def _apply(self, current: Ruleset, rules: Sequence[LabRule]) -> None:
        script = render(current, rules)
        if script:
            self._nft(["-f", "-"], script)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One change at a time on this host (every wirelab process; bridges a claim finds
        are read under it, so a lab that claimed its new bridges is never taken for stale)."""
        path = self.lock_dir / LOCK_NAME
        try:
            f = path.open("a")
        except OSError as exc:
            raise HostNetError(f"{path}: {exc.strerror} (needs root)") from None
        with f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def claim(self, lab: str, bridges: Sequence[str]) -> str:
        """Frames entering ``bridges`` skip conntrack; what changed, as a sentence."""
        with self._locked():
            existing = self.existing()
            if bridges and not any(b in existing for b in bridges):
                raise HostNetError(
                    f"the lab's bridges ({', '.join(bridges)}) are not on this host "
                    "(a remote Docker engine?)"
                )
            current = self.current()
            after = plan_claim(current, lab, bridges, existing)
            if _changed(current, after):
                self._apply(current, after)
            return claim_message(current, after, lab)

    def release(self, lab: str) -> str | None:
        """Remove ``lab``'s rule (and the table with the last one); what changed, or None
        (also when the table cannot even be read: no nft, not root, so nothing of ours)."""
        with ExitStack() as stack:
            try:
                stack.enter_context(self._locked())
                current = self.current()
            except HostNetError as exc:
                log.debug("lab %s: %s", lab, exc)
                return None
            after = plan_release(current, lab, self.existing())
            if _changed(current, after):
                self._apply(current, after)
            return release_message(current, after, lab)


def _run(argv: Sequence[str], stdin: str) -> tuple[int, str, str]:
    try:
        done = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=NFT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HostNetError(f"{argv[0]}: {exc}") from None
    return done.returncode, done.stdout, done.stderr


# ---- the hooks deploy calls (orchestrator/deploy.py) -----------------------------------------


def on_deploy(backend: Backend, lab: str, report: Report, *, host: HostNet | None = None) -> None:
    """After the lab's networks exist (or when a deployed lab is handed out again): its
    bridges skip the host's conntrack. Never fails the deploy: when the host cannot be
    changed, the message says what the lab's links then do."""
    if backend.name != "docker":
        return
    bridges = bridge_names(backend.find(lab).networks)
    try:
        message = (host or HostNet()).claim(lab, bridges)
    except HostNetError as exc:
        message = (
            "the host's conntrack still reassembles IPv4 fragments on this lab's links "
            f"(lone, overlapping or incomplete series will not cross them): {exc}"
        )
        log.warning("lab %s: %s", lab, message)
    else:
        log.info("lab %s: %s", lab, message)
    report(STEP, None, 1, 1, message)


def on_destroy(backend: Backend, lab: str, report: Report, *, host: HostNet | None = None) -> None:
    """After the lab's objects are gone: its rule goes, and the table with the last one."""
    if backend.name != "docker":
        return
    try:
        message = (host or HostNet()).release(lab)
    except HostNetError as exc:
        message = f"could not remove the lab's rule from {WHERE}: {exc}"
        log.warning("lab %s: %s", lab, message)
    else:
        if message is None:
            return
        log.info("lab %s: %s", lab, message)
    report(STEP, None, 1, 1, message)
