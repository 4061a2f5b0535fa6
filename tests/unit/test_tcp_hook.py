"""The engine's state-change hook: every transition, from the single transition point,
with the connection, the old and new state and the time."""

from __future__ import annotations

from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.engine import StateListener
from nodes.stack.tcp.states import State
from nodes.stack.tcp.testing import Network

S = State


def test_every_transition_is_reported_once_in_order() -> None:
    net = Network(delay=0.005)
    seen: dict[str, list[tuple[int, State, State, float]]] = {"a": [], "b": []}

    def recorder(side: str) -> StateListener:
        def hook(conn: Connection, old: State, new: State, now: float) -> None:
            assert conn.state is new  # already applied
            seen[side].append((conn.lport, old, new, now))

        return hook

    net.a.add_state_listener(recorder("a"))
    net.b.add_state_listener(recorder("b"))
    srv = net.b.socket()
    srv.bind(0, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(1.0)
    peer = srv.accept()
    cli.close(now=net.now)
    net.run(1.0)
    peer.close(now=net.now)
    net.run(100.0)
    a = [(old, new) for _, old, new, _ in seen["a"]]
    b = [(old, new) for _, old, new, _ in seen["b"]]
    assert a == [
        (S.CLOSED, S.SYN_SENT), (S.SYN_SENT, S.ESTABLISHED), (S.ESTABLISHED, S.FIN_WAIT_1),
        (S.FIN_WAIT_1, S.FIN_WAIT_2), (S.FIN_WAIT_2, S.TIME_WAIT), (S.TIME_WAIT, S.CLOSED),
    ]  # fmt: skip
    assert b == [
        (S.LISTEN, S.SYN_RCVD), (S.SYN_RCVD, S.ESTABLISHED), (S.ESTABLISHED, S.CLOSE_WAIT),
        (S.CLOSE_WAIT, S.LAST_ACK), (S.LAST_ACK, S.CLOSED),
    ]  # fmt: skip
    times = [t for *_, t in seen["a"]]
    assert times[0] == 0.0 and times[1] == 0.01  # the SYN-ACK after one RTT
    assert times[-1] - times[-2] == 60.0  # TIME_WAIT = 2 * MSL
    assert {p for p, *_ in seen["b"]} == {80}


def test_listeners_can_be_removed() -> None:
    net = Network()
    calls: list[State] = []

    def hook(conn: Connection, old: State, new: State, now: float) -> None:
        calls.append(new)

    net.a.add_state_listener(hook)
    net.a.remove_state_listener(hook)
    net.a.socket().connect(net.addr_b, 80, now=0.0)
    assert calls == []
