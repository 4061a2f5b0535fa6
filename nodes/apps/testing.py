"""Helpers for running the apps in the in-process simulation (tests, examples)."""

from __future__ import annotations

import random
from collections.abc import Callable

from nodes.io.simulate import Line, build_line
from nodes.stack.host import Host
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.engine import TcpEngine
from nodes.wire.ipv4 import IPProto


def with_tcp(host: Host, config: TcpConfig | None = None, *, seed: int = 0) -> TcpEngine:
    """The host's TCP engine, registering a new one when it has none."""
    engine = host.tcp
    if isinstance(engine, TcpEngine):
        return engine
    engine = TcpEngine(host, config or TcpConfig(), random.Random(seed))
    host.register_protocol(IPProto.TCP, engine)
    return engine


def tcp_line(
    routers: int = 1, *, delay: float = 0.001, config: TcpConfig | None = None, seed: int = 0
) -> Line:
    """``build_line`` with a TCP engine on both end hosts."""
    line = build_line(routers, delay=delay, seed=seed)
    with_tcp(line.left, config, seed=seed + 100)
    with_tcp(line.right, config, seed=seed + 101)
    return line


def run_until(line: Line, predicate: Callable[[], bool], *, timeout: float = 60.0) -> None:
    """``sim.run`` that fails loudly (with the virtual time) when ``predicate`` never holds."""
    if not line.sim.run(predicate, timeout=timeout):
        raise AssertionError(f"condition not reached by t={line.sim.now:.3f}s")
