"""Random configurations x random impairments: a bidirectional transfer with half-closes
must arrive byte-exact and both ends must finish the close, for every seed."""

from __future__ import annotations

import contextlib
import random

import pytest

from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Network, Packet


def impaired_network(rng: random.Random, seed: int) -> Network:
    loss, dup = rng.choice([0, 0.01, 0.05, 0.15]), rng.choice([0, 0.05])
    reorder, corrupt = rng.choice([0, 0.2]), rng.choice([0, 0.02])
    cfg = TcpConfig(
        sack=rng.random() < 0.7, timestamps=rng.random() < 0.7,
        window_scaling=rng.random() < 0.7, congestion=rng.choice(["reno", "cubic"]),
        rmem=rng.choice([4096, 65536, 1 << 20]), wmem=rng.choice([8192, 262144]),
    )  # fmt: skip
    net = Network(delay=rng.choice([0.0005, 0.005, 0.05]), rate=rng.choice([None, 1e6, 1e7]),
                  config_a=cfg, config_b=cfg, seed=seed)  # fmt: skip

    def impair(now: float, pkt: Packet) -> list[tuple[float, bytes]]:
        if rng.random() < loss:
            return []
        data = bytearray(pkt.payload)
        if rng.random() < corrupt:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        extra = rng.random() * 0.01 if rng.random() < reorder else 0.0
        out = [(extra, bytes(data))]
        if rng.random() < dup:
            out.append((extra + 0.001, bytes(data)))
        return out

    net.filter = impair
    return net


@pytest.mark.parametrize("seed", range(40))
def test_bidirectional_transfer_and_close_under_random_impairments(seed: int) -> None:
    rng = random.Random(seed)
    net = impaired_network(rng, seed)
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    up, down = rng.randbytes(100_000), rng.randbytes(30_000)
    got = {0: bytearray(), 1: bytearray()}
    sent = [0, 0]
    peer: list[TcpSocket] = []

    def pump() -> bool:
        if not peer:
            with contextlib.suppress(BlockingIOError):
                peer.append(srv.accept())
        ends = [(cli, up), (peer[0], down)] if peer else [(cli, up)]
        for k, (sock, data) in enumerate(ends):
            if sock.state not in ("ESTABLISHED", "CLOSE_WAIT"):
                continue
            while sent[k] < len(data) and sock.sendall_possible():
                sent[k] += sock.send(data[sent[k] : sent[k] + 7000], now=net.now)
            if sent[k] == len(data):
                sock.shutdown(now=net.now)
        for k, (sock, _) in enumerate(ends):
            with contextlib.suppress(BlockingIOError):
                while chunk := sock.recv(1 << 20, now=net.now):
                    got[1 - k] += chunk
        finished = ("TIME_WAIT", "CLOSED")
        return bool(peer) and cli.state in finished and peer[0].state in finished

    net.run(until=pump, max_time=900.0)
    assert bytes(got[0]) == up and bytes(got[1]) == down
    assert pump()
