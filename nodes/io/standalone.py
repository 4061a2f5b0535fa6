"""A node without the agent: take interfaces over, run our stack on raw sockets.

    python -m nodes.io.standalone --address 10.199.0.2 [--address ...] [--router]
        [--route 0.0.0.0/0=10.199.0.1 ...] [--udp-echo 7] [--tcp-echo 7] [--no-tcp]
        [--state-file PATH]

For bring-up, debugging and the netns tests. On stdout it prints one JSON line when it
runs (``{"ready": [interfaces]}``) and one when it stops on SIGTERM/SIGINT
(``{"counters": {...}}``: the stack's, the loop's and each port's); logs go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from nodes.io.raw_socket import RawSocket
from nodes.io.runner import Hook, Runner
from nodes.io.takeover import DEFAULT_STATE_FILE, take_over
from nodes.router.router import Router
from nodes.stack.host import Host
from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.engine import TcpEngine
from nodes.stack.udp import UdpEndpoint
from nodes.wire.ipv4 import IPProto


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m nodes.io.standalone", description=__doc__)
    p.add_argument("--name", default="node")
    p.add_argument("--address", action="append", required=True, help="a data interface's IPv4")
    p.add_argument("--router", action="store_true", help="forward between interfaces")
    p.add_argument("--route", action="append", default=[], help="PREFIX/LEN=GATEWAY")
    p.add_argument("--udp-echo", type=int, default=0, help="echo UDP datagrams on this port")
    p.add_argument("--tcp-echo", type=int, default=0, help="TCP echo server on this port")
    p.add_argument("--no-tcp", action="store_true", help="no TCP engine (protocol unreachable)")
    p.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    return p.parse_args(argv)


def _echo(endpoint: UdpEndpoint) -> Hook:
    def hook(now: float) -> None:
        while (item := endpoint.recvfrom()) is not None:
            data, source = item
            endpoint.sendto(data, source, now=now)

    return hook


class TcpEcho:
    """A TCP echo server driven once per loop turn: echoes whatever arrives, closes after
    the peer's FIN once everything went back. Reads at most ``limit`` bytes ahead."""

    def __init__(self, engine: TcpEngine, port: int, *, limit: int = 1 << 20) -> None:
        self.listener = engine.socket()
        self.listener.bind(0, port)
        self.listener.listen(16)
        self.limit = limit
        self.conns: list[tuple[TcpSocket, bytearray]] = []

    def __call__(self, now: float) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                self.conns.append((self.listener.accept(), bytearray()))
        for conn in list(self.conns):
            if not self._serve(*conn, now):
                self.conns.remove(conn)

    def _serve(self, sock: TcpSocket, pending: bytearray, now: float) -> bool:
        eof = False
        try:
            while len(pending) < self.limit:
                chunk = sock.recv(65536, now=now)
                if not chunk:
                    eof = True
                    break
                pending += chunk
        except BlockingIOError:
            pass
        except OSError:
            return False  # reset: forget it
        try:
            while pending:
                del pending[: sock.send(bytes(pending[:65536]), now=now)]
        except BlockingIOError:
            pass
        except OSError:
            return False
        if eof and not pending:
            sock.close(now=now)
            return False
        return True


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    taken = take_over(args.address, state_file=args.state_file)
    host = Router(args.name) if args.router else Host(args.name)
    ports: dict[str, RawSocket] = {}
    try:
        for t in taken:
            ports[t.name] = RawSocket(t.name)
            host.add_interface(t.name, t.mac, t.address, t.prefix_len, mtu=t.mtu)
        for route in args.route:
            prefix, _, gateway = route.partition("=")
            net, _, length = prefix.partition("/")
            host.add_route(net, int(length or 32), gateway or None)
        tcp = None if args.no_tcp else TcpEngine(ip=host, rng=random.Random())
        if tcp is not None:
            host.register_protocol(IPProto.TCP, tcp)
        runner = Runner(host, ports)
        if args.tcp_echo:
            if tcp is None:
                raise SystemExit("--tcp-echo needs the TCP engine (drop --no-tcp)")
            runner.add_hook(TcpEcho(tcp, args.tcp_echo))
        if args.udp_echo:
            runner.add_hook(_echo(host.udp.bind(args.udp_echo)))

        def on_signal(signum: int, frame: FrameType | None) -> None:
            runner.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        print(json.dumps({"ready": [t.to_json() for t in taken]}), flush=True)
        runner.run()
        counters = {
            "host": host.counters(),
            "runner": runner.counters(),
            "ports": runner.port_counters(),
        }
        print(json.dumps({"counters": counters}), flush=True)
        runner.close()
    finally:
        for port in ports.values():
            port.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
