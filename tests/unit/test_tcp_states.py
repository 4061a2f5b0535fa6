from __future__ import annotations

import pytest

from nodes.stack.tcp.states import TRANSITIONS, Event, InvalidTransition, State, transition


def walk(state: State, *events: Event) -> list[State]:
    out = []
    for e in events:
        state = transition(state, e)
        out.append(state)
    return out


def test_active_open_and_active_close() -> None:
    assert walk(
        State.CLOSED, Event.ACTIVE_OPEN, Event.RCV_SYN_ACK, Event.CLOSE, Event.RCV_ACK_OF_FIN,
        Event.RCV_FIN, Event.TIMEOUT,
    ) == [State.SYN_SENT, State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2,
          State.TIME_WAIT, State.CLOSED]  # fmt: skip


def test_passive_open_and_passive_close() -> None:
    assert walk(
        State.LISTEN, Event.RCV_SYN, Event.RCV_ACK_OF_SYN, Event.RCV_FIN, Event.CLOSE,
        Event.RCV_ACK_OF_FIN,
    ) == [State.SYN_RCVD, State.ESTABLISHED, State.CLOSE_WAIT, State.LAST_ACK,
          State.CLOSED]  # fmt: skip


def test_simultaneous_open_and_close() -> None:
    assert walk(State.SYN_SENT, Event.RCV_SYN, Event.RCV_ACK_OF_SYN) == [
        State.SYN_RCVD, State.ESTABLISHED,
    ]  # fmt: skip
    assert walk(State.ESTABLISHED, Event.CLOSE, Event.RCV_FIN, Event.RCV_ACK_OF_FIN) == [
        State.FIN_WAIT_1, State.CLOSING, State.TIME_WAIT,
    ]  # fmt: skip


def test_reset_and_abort_from_everywhere_but_closed() -> None:
    for s in State:
        if s is State.CLOSED:
            with pytest.raises(InvalidTransition):
                transition(s, Event.ABORT)
        else:
            assert transition(s, Event.ABORT) is State.CLOSED


def test_undefined_transitions_raise() -> None:
    with pytest.raises(InvalidTransition, match="TIME_WAIT"):
        transition(State.TIME_WAIT, Event.CLOSE)
    with pytest.raises(TypeError):
        TRANSITIONS[(State.CLOSED, Event.CLOSE)] = State.CLOSED  # type: ignore[index]


def test_the_connection_changes_state_only_through_the_table() -> None:
    import ast
    from pathlib import Path

    # the sources, not inspect.getsource: compiled by mypyc (setup.py) a module has none
    tcp = Path(__file__).resolve().parents[2] / "nodes" / "stack" / "tcp"
    writers = []
    for module in ("connection", "incoming", "output", "tcb", "timers"):
        for node in ast.walk(ast.parse((tcp / f"{module}.py").read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for sub in ast.walk(node):
                targets = sub.targets if isinstance(sub, ast.Assign) else []
                writers += [node.name for t in targets
                            if isinstance(t, ast.Attribute) and t.attr == "state"]  # fmt: skip
    # __init__ starts CLOSED (or LISTEN for a listener's child); _event applies the table
    assert sorted(set(writers)) == ["__init__", "_event"]
