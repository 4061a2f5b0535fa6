"""Who gets a segment: the 4-tuple table of connections and the listeners, each with a
SYN queue (half-open children) and an accept queue (established, not yet accepted)."""

from __future__ import annotations

import random
from collections import deque

from nodes.stack.tcp.config import SocketOptions
from nodes.stack.tcp.connection import Connection

Key = tuple[int, int, int, int]  # (local ip, local port, remote ip, remote port)


class Listener:
    __slots__ = ("accept_queue", "backlog", "closed", "cookie_time", "local", "opts", "port",
                 "syn_queue")  # fmt: skip

    def __init__(self, local: int, port: int, backlog: int, opts: SocketOptions) -> None:
        self.local = local  # 0 = any address
        self.port = port
        self.backlog = backlog
        self.opts = opts
        self.syn_queue: dict[Key, Connection] = {}
        self.accept_queue: deque[Connection] = deque()
        self.cookie_time: float | None = None  # when cookies were last sent
        self.closed = False

    def accept_queue_full(self) -> bool:
        return len(self.accept_queue) > self.backlog  # Linux sk_acceptq_is_full

    def syn_queue_full(self) -> bool:
        return len(self.syn_queue) >= self.backlog  # Linux inet_csk_reqsk_queue_is_full


class Demux:
    __slots__ = ("conns", "listeners")

    def __init__(self) -> None:
        self.conns: dict[Key, Connection] = {}
        self.listeners: dict[tuple[int, int], Listener] = {}

    def listener_for(self, local: int, port: int) -> Listener | None:
        return self.listeners.get((local, port)) or self.listeners.get((0, port))

    def port_in_use(self, local: int, port: int) -> bool:
        if (local, port) in self.listeners or (0, port) in self.listeners:
            return True
        return any(k[1] == port and k[0] in (local, 0) for k in self.conns)

    def ephemeral_port(
        self, local: int, remote: int, rport: int, port_range: tuple[int, int], rng: random.Random
    ) -> int:
        lo, hi = port_range
        span = hi - lo + 1
        start = rng.randrange(span)
        for i in range(span):
            port = lo + (start + i) % span
            if (local, port, remote, rport) not in self.conns and not (
                (local, port) in self.listeners or (0, port) in self.listeners
            ):
                return port
        raise OSError(99, "EADDRNOTAVAIL: no free ephemeral port")
