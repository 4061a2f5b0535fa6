"""Helpers for running the apps in the in-process simulation (tests, examples)."""

from __future__ import annotations

from collections.abc import Callable

from nodes.io.simulate import Line, build_line
from nodes.stack.config import StackConfig
from nodes.stack.tcp.config import TcpConfig


def tcp_line(
    routers: int = 1, *, delay: float = 0.001, config: TcpConfig | None = None, seed: int = 0
) -> Line:
    """``build_line`` whose end hosts' TCP engines use ``config`` (every Host has TCP)."""
    host_config = None if config is None else StackConfig(tcp=config)
    return build_line(routers, delay=delay, seed=seed, host_config=host_config)


def run_until(line: Line, predicate: Callable[[], bool], *, timeout: float = 60.0) -> None:
    """``sim.run`` that fails loudly (with the virtual time) when ``predicate`` never holds."""
    if not line.sim.run(predicate, timeout=timeout):
        raise AssertionError(f"condition not reached by t={line.sim.now:.3f}s")
