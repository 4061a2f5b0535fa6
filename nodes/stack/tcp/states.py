"""The TCP state machine as one table (h11's rule: everything that changes the state lives
here). A connection calls :func:`transition` with an :class:`Event`; anything not in the
table is a programming error and raises. RFC 9293 figure 5, plus the transitions Linux
adds (an orphaned FIN_WAIT_2 timing out, a SYN_RCVD closing before the handshake ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from mypy_extensions import mypyc_attr


class State(Enum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN_SENT"
    SYN_RCVD = "SYN_RCVD"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN_WAIT_1"
    FIN_WAIT_2 = "FIN_WAIT_2"
    CLOSE_WAIT = "CLOSE_WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST_ACK"
    TIME_WAIT = "TIME_WAIT"

    # Members are singletons compared by identity: hash them by identity too. Enum's own
    # __hash__ is Python code, and ``state in SOME_SET`` runs on every segment.
    __hash__ = object.__hash__


class Event(Enum):
    PASSIVE_OPEN = "passive open"  # listen()
    ACTIVE_OPEN = "active open"  # connect(): SYN sent
    RCV_SYN = "receive SYN"  # LISTEN: SYN-ACK sent; SYN_SENT: simultaneous open
    RCV_SYN_ACK = "receive SYN-ACK"  # SYN_SENT -> ESTABLISHED
    RCV_ACK_OF_SYN = "receive ACK of SYN"  # SYN_RCVD -> ESTABLISHED
    CLOSE = "close"  # application close/shutdown(SHUT_WR): FIN queued
    RCV_FIN = "receive FIN"
    RCV_ACK_OF_FIN = "receive ACK of FIN"
    TIMEOUT = "timeout"  # TIME_WAIT 2MSL, orphan FIN_WAIT_2, retransmission give-up
    RCV_RST = "receive RST"
    ABORT = "abort"  # application abort / linger 0 / fatal error: RST sent or not

    __hash__ = object.__hash__  # as State's


S, E = State, Event


def _table() -> dict[tuple[State, Event], State]:
    table = {
        (S.CLOSED, E.PASSIVE_OPEN): S.LISTEN,
        (S.CLOSED, E.ACTIVE_OPEN): S.SYN_SENT,
        (S.LISTEN, E.RCV_SYN): S.SYN_RCVD,
        (S.LISTEN, E.CLOSE): S.CLOSED,
        (S.SYN_SENT, E.RCV_SYN_ACK): S.ESTABLISHED,
        (S.SYN_SENT, E.RCV_SYN): S.SYN_RCVD,  # simultaneous open
        (S.SYN_SENT, E.CLOSE): S.CLOSED,
        (S.SYN_RCVD, E.RCV_ACK_OF_SYN): S.ESTABLISHED,
        (S.SYN_RCVD, E.CLOSE): S.FIN_WAIT_1,
        (S.SYN_RCVD, E.RCV_FIN): S.CLOSE_WAIT,
        (S.ESTABLISHED, E.CLOSE): S.FIN_WAIT_1,
        (S.ESTABLISHED, E.RCV_FIN): S.CLOSE_WAIT,
        (S.FIN_WAIT_1, E.RCV_ACK_OF_FIN): S.FIN_WAIT_2,
        (S.FIN_WAIT_1, E.RCV_FIN): S.CLOSING,  # simultaneous close
        (S.FIN_WAIT_2, E.RCV_FIN): S.TIME_WAIT,
        (S.FIN_WAIT_2, E.TIMEOUT): S.CLOSED,  # orphan: tcp_fin_timeout
        (S.CLOSE_WAIT, E.CLOSE): S.LAST_ACK,
        (S.CLOSING, E.RCV_ACK_OF_FIN): S.TIME_WAIT,
        (S.LAST_ACK, E.RCV_ACK_OF_FIN): S.CLOSED,
        (S.TIME_WAIT, E.TIMEOUT): S.CLOSED,
    }
    # Resets, aborts and retransmission give-up end every state that has a peer.
    for s in State:
        if s is not S.CLOSED:
            table[(s, E.ABORT)] = S.CLOSED
            table.setdefault((s, E.TIMEOUT), S.CLOSED)
            if s is not S.LISTEN:
                table[(s, E.RCV_RST)] = S.CLOSED
    return table


TRANSITIONS: Mapping[tuple[State, Event], State] = MappingProxyType(_table())

SYNCHRONIZED = frozenset(
    {S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT}
)
CAN_SEND = frozenset({S.ESTABLISHED, S.CLOSE_WAIT})
CAN_RECEIVE_DATA = frozenset({S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2})
FIN_SENT = frozenset({S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSING, S.LAST_ACK, S.TIME_WAIT})
FIN_RECEIVED = frozenset({S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT})


@mypyc_attr(native_class=False)  # compiled (setup.py): a native class cannot extend RuntimeError
class InvalidTransition(RuntimeError):
    pass


def transition(state: State, event: Event) -> State:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"no transition from {state.name} on {event.value}") from None
