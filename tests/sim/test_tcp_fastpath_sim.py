"""Header prediction end to end: a bulk transfer h1 -> r1 -> h2, clean and through loss,
reordering and duplication, gives the same connection (every ``ss -ti`` field), the same
counters on every node and the same virtual time with the fast path as without it; and
on the clean path nearly every segment takes it."""

from __future__ import annotations

import pytest

from nodes.faults.model import Direction, Effects, FaultSpec
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Transfer, line_transfer

FAST = ("tcp_fastpath_acks", "tcp_fastpath_data")


def _run(prediction: bool, faults: list[FaultSpec]) -> Transfer:
    return line_transfer(
        1 << 20, delay=0.002, config=TcpConfig(header_prediction=prediction), faults=faults
    )


def _counters(t: Transfer) -> dict[str, dict[str, int]]:
    line = t.line
    nodes = {"h1": line.left, "h2": line.right}
    return {
        name: {k: v for k, v in node.counters().items() if k not in FAST}
        for name, node in nodes.items()
    }


IMPAIRMENTS = {
    "clean": [],
    "loss": [
        FaultSpec(i, Effects(loss=0.02), Direction.INGRESS, seed=5 + k)
        for k, i in enumerate(("eth0", "eth1"))
    ],
    "reorder+dup": [
        FaultSpec(
            "eth0", Effects(delay=0.001, reorder=0.9, duplicate=0.01), Direction.INGRESS, seed=9
        ),
        FaultSpec("eth1", Effects(loss=0.01), Direction.INGRESS, seed=10),
    ],
}


@pytest.mark.parametrize("name", sorted(IMPAIRMENTS))
def test_a_transfer_is_the_same_with_and_without_header_prediction(name: str) -> None:
    fast, slow = (_run(p, IMPAIRMENTS[name]) for p in (True, False))
    assert fast.sha256 == slow.sha256 and fast.received == 1 << 20
    assert fast.elapsed == slow.elapsed
    assert fast.sender.info() == slow.sender.info()
    assert fast.receiver.info() == slow.receiver.info()
    assert _counters(fast) == _counters(slow)
    sender, receiver = fast.line.left.counters(), fast.line.right.counters()
    assert sender["tcp_fastpath_acks"] > 0 and receiver["tcp_fastpath_data"] > 0
    assert slow.line.left.counters()["tcp_fastpath_acks"] == 0
    assert (fast.sender.info().retrans > 0) == (name != "clean")  # the faults took effect
    if name == "clean":  # all but the handshake's and the first segments' way
        assert sender["tcp_fastpath_acks"] >= sender["tcp_in_segs"] - 2
        assert receiver["tcp_fastpath_data"] >= receiver["tcp_in_segs"] - 3
