"""The node container's entry point: the agent and, once configured, our stack.

    python -m nodes.agent --listen unix:///run/wirelab/agent.sock [--name h1]
        [--kind host|router] [--state-file /run/wirelab/takeover.json] [--log-level info]

Serves NodeAgent (plus health and reflection) from a thread pool right away; health
says NOT_SERVING until Configure arrives. Configure takes the data interfaces away from
the kernel (found by the IPv4 address Docker assigned each, nodes/io/takeover.py),
opens one raw socket per interface and builds the Host or Router; the event loop then
runs in the main thread. SIGTERM/SIGINT stop the loop, then the server; exit status 0.
One JSON line on stdout when listening (``{"listening": "unix:///run/wirelab/agent.sock",
"port": 0}``; on TCP, ``--listen 0.0.0.0:50051``, the port); logs go to stderr.

In a lab's container the agent listens on a Unix socket in /run/wirelab, a directory the
host mounts into the container (orchestrator/lab/backends/agentdirs.py): no network is
needed to reach it, and a restarted container's agent replaces its stale socket there.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from nodes.agent.config import Kind, NodeConfig
from nodes.agent.errors import ArgumentError
from nodes.agent.runtime import AttachedPort, NodeRuntime, PortFactory
from nodes.agent.server import start
from nodes.io.ifaces import InterfaceInfo, find_by_address
from nodes.io.raw_socket import RawSocket
from nodes.io.takeover import DEFAULT_STATE_FILE, Command, TakeoverError, run_ip, take_over
from nodes.wire.addr import ip_to_str, mac_to_str

log = logging.getLogger("nodes.agent")


def plant_macs(
    config: NodeConfig,
    *,
    find: Callable[[int], InterfaceInfo | None] = find_by_address,
    ip: Command = run_ip,
) -> list[str]:
    """Give each device the MAC its interface is planned with (``ip link set dev X address
    M``), before the take-over: our stack then sends from the device's own address (the
    bridge learns one MAC per port, nothing arrives as PACKET_OTHERHOST) and the take-over
    state records the planned MAC. Devices are found by their Docker-assigned address;
    one already taken (a restarted agent: the kernel has no address any more) is left as
    it is. Returns the devices changed."""
    changed = []
    for spec in config.interfaces:
        if spec.mac is None:
            continue
        device = find(spec.address)
        if device is None or device.mac == spec.mac:
            continue
        try:
            ip(["link", "set", "dev", device.name, "address", mac_to_str(spec.mac)])
        except TakeoverError as exc:
            raise ArgumentError(f"interfaces[{spec.name}].mac", str(exc)) from None
        log.info("%s: MAC %s -> %s (planned)", device.name, mac_to_str(device.mac),
                 mac_to_str(spec.mac))  # fmt: skip
        changed.append(device.name)
    return changed


def kernel_ports(state_file: Path | None = DEFAULT_STATE_FILE) -> PortFactory:
    """Take each configured interface from the kernel (by address) and open its socket."""

    def factory(config: NodeConfig) -> dict[str, AttachedPort]:
        addresses = [spec.address for spec in config.interfaces]
        try:
            plant_macs(config)
            taken = take_over(addresses, state_file=state_file)
        except TakeoverError as exc:
            raise ArgumentError("interfaces", str(exc)) from None
        out: dict[str, AttachedPort] = {}
        try:
            for spec, t in zip(config.interfaces, taken, strict=True):
                if spec.mac is not None and spec.mac != t.mac:
                    log.warning(
                        "%s: planned MAC %s differs from %s's %s",
                        spec.name, mac_to_str(spec.mac), t.name, mac_to_str(t.mac),
                    )  # fmt: skip
                if spec.mtu > t.mtu:
                    log.warning("%s: MTU %d is above %s's %d: larger frames will not leave",
                                spec.name, spec.mtu, t.name, t.mtu)  # fmt: skip
                out[spec.name] = AttachedPort(RawSocket(t.name), t.name, t.mac)
                log.info("%s = %s (%s/%d)", spec.name, t.name, ip_to_str(t.address),
                         spec.prefix_len)  # fmt: skip
        except BaseException:
            for attached in out.values():
                attached.port.close()
            raise
        return out

    return factory


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m nodes.agent", description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="0.0.0.0:50051",
                   help="gRPC address: host:port, or unix:///path for a Unix socket")  # fmt: skip
    p.add_argument("--name", default=None, help="refuse a Configure for another node")
    p.add_argument("--kind", choices=[k.value for k in Kind], default=None,
                   help="refuse a Configure for another kind")  # fmt: skip
    p.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    p.add_argument("--log-level", default="info")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )  # fmt: skip
    kind = Kind(args.kind) if args.kind else None
    runtime = NodeRuntime(kernel_ports(args.state_file), name=args.name, kind=kind)
    server = start(runtime, args.listen)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        runtime.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(json.dumps({"listening": args.listen, "port": server.port}), flush=True)
    try:
        runtime.run()
    finally:
        server.stop(grace=1.0)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
