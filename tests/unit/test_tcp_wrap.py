"""Sequence numbers and timestamps that wrap around 2**32 mid-transfer, with losses."""

from __future__ import annotations

import contextlib
import random

import pytest

from nodes.stack.tcp.isn import IsnGenerator
from nodes.stack.tcp.testing import Network, Packet


def test_transfer_across_sequence_and_timestamp_wrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(IsnGenerator, "isn", lambda self, local, *a, **k: 0xFFFFF000 + local % 7)
    monkeypatch.setattr(IsnGenerator, "offset", lambda *a, **k: 0xFFFFFFFF - 50)  # TS wrap too
    rng = random.Random(4)

    def lossy(now: float, pkt: Packet) -> list[tuple[float, bytes]]:
        if len(pkt.payload) > 100 and rng.random() < 0.03:
            return []
        return [(0.0, bytes(pkt.payload))]

    net = Network(delay=0.002)
    net.filter = lossy
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(0.1)
    peer = srv.accept()
    up, down = random.Random(1).randbytes(300_000), random.Random(2).randbytes(300_000)
    got_up, got_down = bytearray(), bytearray()
    sent = [0, 0]

    def pump() -> bool:
        for k, (sock, data) in enumerate(((cli, up), (peer, down))):
            while sent[k] < len(data) and sock.sendall_possible():
                sent[k] += sock.send(data[sent[k] : sent[k] + 20_000], now=net.now)
        for sock, buf in ((peer, got_up), (cli, got_down)):
            with contextlib.suppress(BlockingIOError):
                buf += sock.recv(1 << 20, now=net.now)
        return len(got_up) == len(up) and len(got_down) == len(down)

    net.run(until=pump, max_time=60.0)
    assert bytes(got_up) == up and bytes(got_down) == down
    info = cli.info()
    assert info is not None and info.retrans > 0 and info.timestamps
    conn = cli.connection
    assert conn is not None and conn.snd_nxt > (1 << 32)  # really wrapped
