"""Take a node's data interfaces away from the Linux kernel (start-up of our stack).

Docker names interfaces by connect order, so each one is found by the IPv4 address Docker
assigned it. Then the kernel loses every reason to speak on it:

- its IPv4 addresses are flushed (no ARP replies, RSTs, ICMP errors for our addresses),
- ARP is switched off on it (``ip link set dev X arp off``: belt and braces),
- IPv6 is disabled (``net.ipv6.conf.X.disable_ipv6=1``; where /proc/sys is read-only, as in
  an unprivileged container, the IPv6 addresses are flushed and address generation off),
- ``net.ipv4.ip_forward`` stays 0 (the kernel must not route what reaches it).

What was found is written to a small JSON state file, so a restarted agent finds its
interfaces again (by MAC) although the kernel no longer shows the addresses.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from nodes.io.ifaces import InterfaceInfo, find_by_address, find_by_mac, interface_info
from nodes.io.ifaces import list_interfaces as kernel_interfaces
from nodes.wire.addr import ip_from_str, ip_to_str, mac_from_str, mac_to_str

log = logging.getLogger(__name__)

DEFAULT_STATE_FILE = Path("/run/wirelab/takeover.json")
PROC_SYS = Path("/proc/sys")

Command = Callable[[Sequence[str]], None]


class TakeoverError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class TakenInterface:
    name: str
    mac: bytes
    address: int
    prefix_len: int
    mtu: int

    def to_json(self) -> dict[str, object]:
        record = asdict(self)
        record.update(mac=mac_to_str(self.mac), address=ip_to_str(self.address))
        return record


def run_ip(args: Sequence[str]) -> None:
    """Run ``ip ARGS``; TakeoverError with its message when it fails."""
    try:
        proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise TakeoverError("the `ip` command (iproute2) is not installed") from exc
    if proc.returncode != 0:
        raise TakeoverError(f"ip {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")


def take_over(
    addresses: Sequence[int | str],
    *,
    state_file: Path | None = DEFAULT_STATE_FILE,
    proc_sys: Path = PROC_SYS,
    ip: Command = run_ip,
) -> list[TakenInterface]:
    """Find the interface of each address, then take them all from the kernel. Returns
    them in the order of ``addresses``. Nothing is changed when one cannot be found."""
    known = _load_state(state_file)
    taken = [_resolve(a, known) for a in addresses]
    names = [t.name for t in taken]
    if len(set(names)) != len(names):
        raise TakeoverError(f"two addresses map to one interface: {names}")
    if state_file is not None:
        known.update({ip_to_str(t.address): t for t in taken})
        _save_state(state_file, known)
    for t in taken:
        _disable_ipv6(t.name, proc_sys, ip)
        ip(["link", "set", "dev", t.name, "arp", "off", "up"])
        ip(["-4", "addr", "flush", "dev", t.name])
        left = interface_info(t.name)
        if left is not None and left.address is not None:
            raise TakeoverError(f"{t.name} still has IPv4 address {ip_to_str(left.address)}")
        log.info("took %s (%s/%d, %s)", t.name, ip_to_str(t.address), t.prefix_len,
                 mac_to_str(t.mac))  # fmt: skip
    _keep_forwarding_off(proc_sys)
    return taken


def _resolve(address: int | str, known: dict[str, TakenInterface]) -> TakenInterface:
    ip = ip_from_str(address) if isinstance(address, str) else address
    info = find_by_address(ip)
    if info is not None:
        assert info.prefix_len is not None
        return TakenInterface(info.name, info.mac, ip, info.prefix_len, info.mtu)
    earlier = known.get(ip_to_str(ip))
    if earlier is not None:  # taken by an earlier run: the kernel has no address any more
        by_mac: InterfaceInfo | None = find_by_mac(earlier.mac)
        if by_mac is not None:
            return TakenInterface(by_mac.name, by_mac.mac, ip, earlier.prefix_len, by_mac.mtu)
    present = ", ".join(i.describe() for i in kernel_interfaces()) or "none"
    raise TakeoverError(f"no interface has IPv4 address {ip_to_str(ip)}; interfaces: {present}")


def _disable_ipv6(name: str, proc_sys: Path, ip: Command) -> None:
    path = proc_sys / "net" / "ipv6" / "conf" / name / "disable_ipv6"
    if not path.parent.exists():
        return  # no IPv6 in this kernel
    if _sysctl_write(path, "1"):
        return
    log.warning("%s is read-only: flushing IPv6 addresses of %s instead", path, name)
    ip(["-6", "addr", "flush", "dev", name])
    ip(["link", "set", "dev", name, "addrgenmode", "none"])


def _keep_forwarding_off(proc_sys: Path) -> None:
    path = proc_sys / "net" / "ipv4" / "ip_forward"
    if not _sysctl_write(path, "0"):
        raise TakeoverError(
            f"{path} is 1 and cannot be written: the kernel would route our traffic "
            "(create the container with sysctl net.ipv4.ip_forward=0)"
        )


def _sysctl_write(path: Path, value: str) -> bool:
    """Set a sysctl; True when it holds ``value`` afterwards (already, or written)."""
    try:
        if path.read_text().strip() == value:
            return True
        path.write_text(value + "\n")
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return False
        raise
    return True


def _load_state(state_file: Path | None) -> dict[str, TakenInterface]:
    if state_file is None or not state_file.exists():
        return {}
    try:
        records = json.loads(state_file.read_text())
        return {key: _from_json(r) for key, r in records.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ignoring unreadable take-over state %s: %s", state_file, exc)
        return {}


def _from_json(r: dict[str, object]) -> TakenInterface:
    mac, address = mac_from_str(str(r["mac"])), ip_from_str(str(r["address"]))
    prefix_len, mtu = int(str(r["prefix_len"])), int(str(r["mtu"]))
    return TakenInterface(str(r["name"]), mac, address, prefix_len, mtu)


def _save_state(state_file: Path, known: dict[str, TakenInterface]) -> None:
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: t.to_json() for k, t in known.items()}, indent=1) + "\n")
    tmp.replace(state_file)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nodes.io.takeover ADDRESS...``: take over, print the interfaces as JSON."""
    parser = argparse.ArgumentParser(prog="python -m nodes.io.takeover", description=__doc__)
    parser.add_argument("address", nargs="+", help="IPv4 address of a data interface")
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    args = parser.parse_args(argv)
    try:
        taken = take_over(args.address, state_file=args.state_file)
    except TakeoverError as exc:
        print(f"take-over failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps([t.to_json() for t in taken]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
