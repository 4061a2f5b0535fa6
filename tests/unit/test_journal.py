"""A lab's journal (orchestrator/lab/journal.py) and what replay reads of it
(orchestrator/client/replay.py): its lines, its bounds, the errors a bad file gives, the
JSON form of the LabService's messages both ways, and how two results are compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wirelab.v1 import lab_pb2, node_pb2

from orchestrator.client import replay
from orchestrator.domain.errors import InvalidArgument, NotFound
from orchestrator.lab import journal as J
from orchestrator.wire.generic import json_message, message_json


def started() -> J.Journal:
    return J.Journal.start(lab="wan", topology="name: wan\n", source="wan.yaml", seed=7,
                           backend="sim")  # fmt: skip


def test_the_header_then_one_line_per_operation_in_order() -> None:
    j = started()
    j.record("Ping", 1.25, {"lab": "wan", "node": "h1"}, result={"results": []})
    j.record("GetRoutes", 2.5, {"lab": "wan", "node": "h9"},
             error=NotFound("lab wan has no node 'h9'", "node").as_json())  # fmt: skip
    lines = [json.loads(line) for line in j.lines()]
    header, first, second = lines
    assert header["format"] == J.FORMAT == "wirelab-journal/1"
    assert (header["lab"], header["seed"], header["backend"], header["clock"]) == (
        "wan", 7, "sim", "wall")  # fmt: skip
    assert header["topology"] == "name: wan\n" and header["dropped"] == 0
    assert (first["seq"], first["t"], first["op"]) == (1, 1.25, "Ping")
    assert first["result"] == {"results": []} and "error" not in first
    assert second["error"] == {"code": "not_found", "message": "node: lab wan has no node 'h9'"}
    assert "result" not in second


def test_past_its_bound_the_journal_counts_what_it_drops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(J, "MAX_ENTRIES", 3)
    j = started()
    for i in range(5):
        j.record("GetCounters", float(i), {"node": "h1"}, result={})
    lines = j.lines()
    assert len(lines) == 4 and json.loads(lines[0])["dropped"] == 2
    assert [json.loads(line)["seq"] for line in lines[1:]] == [1, 2, 3]


def test_a_written_journal_reads_back(tmp_path: Path) -> None:
    j = started()
    j.record("Ping", 0.5, {"lab": "wan", "node": "h1"}, result={"transmitted": 1})
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(j.lines()) + "\n")
    header, entries = replay.read_journal(path)
    assert header["seed"] == 7 and [e["op"] for e in entries] == ["Ping"]


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        ([], "is empty: no journal header"),
        (["{not json"], "line 1: not JSON"),
        (["[1, 2]"], "line 1: not a JSON object"),
        (['{"format": "pcap"}'], "line 1: not a wirelab journal (format wirelab-journal/1"),
        (['{"format": "wirelab-journal/1", "lab": "x"}'], "the header has no topology, seed"),
        (
            ['{"format": "wirelab-journal/1", "lab": "x", "topology": "", "seed": 1}', "",
             '{"seq": 1, "t": 0, "op": "Ping", "request": {}}'],
            "line 3: an entry without result or error",
        ),
        (
            ['{"format": "wirelab-journal/1", "lab": "x", "topology": "", "seed": 1}',
             '{"seq": 1, "t": "soon", "op": "Ping", "request": {}, "result": {}}'],
            "line 2: t must be a number",
        ),
    ],
)  # fmt: skip
def test_a_bad_journal_names_its_line(lines: list[str], said: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        replay.read_journal(lines)
    assert said in caught.value.message and caught.value.field == "journal"


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"cannot read .*nope\.jsonl"):
        replay.read_journal(tmp_path / "nope.jsonl")


def test_messages_become_json_a_jq_user_reads_and_come_back() -> None:
    action = lab_pb2.NodeActionRequest(lab="wan", node="h1", action=lab_pb2.NODE_ACTION_KILL)
    assert message_json(action) == {"lab": "wan", "node": "h1", "action": "kill"}
    counters = node_pb2.GetCountersResponse()
    counters.stack["tcp_retrans_segs"] = 2**40  # a 64-bit counter: a number, not a string
    data = message_json(counters)
    assert data == {"stack": {"tcp_retrans_segs": 2**40}}
    assert json_message(json.loads(json.dumps(data)), node_pb2.GetCountersResponse()) == counters
    ping = lab_pb2.LabPingRequest(lab="wan", node="h1")
    ping.ping.destination = "h2"
    ping.ping.count = 3
    data = message_json(ping)
    assert data == {"lab": "wan", "node": "h1", "ping": {"destination": "h2", "count": 3}}
    assert json_message(data, lab_pb2.LabPingRequest()) == ping


def test_a_request_that_does_not_fit_its_message_names_the_field() -> None:
    with pytest.raises(ValueError, match="NodeActionRequest has no field 'nod'"):
        json_message({"nod": "h1"}, lab_pb2.NodeActionRequest())
    with pytest.raises(ValueError, match="is not a NodeActionKind"):
        json_message({"action": "explode"}, lab_pb2.NodeActionRequest())


def test_differences_are_paths_with_both_values() -> None:
    original = {"result": {"received": 3, "hops": [{"address": "10.0.0.1"}], "gone": 1}}
    replayed = {"result": {"received": 2, "hops": [{"address": "10.0.0.1"}], "new": True}}
    found = {d.path: (d.original, d.replayed) for d in replay.differences(original, replayed)}
    assert found == {
        "result.received": (3, 2),
        "result.gone": (1, None),
        "result.new": (None, True),
    }
    assert replay.differences(original, json.loads(json.dumps(original))) == []
    assert [d.path for d in replay.differences({"error": {"code": "x"}}, {"result": {}})] == [
        "error", "result"]  # fmt: skip


def test_the_original_lab_name_is_read_as_the_replayed_one() -> None:
    rename = replay._renamer("wan", "wan-replay")
    got = rename({"m": "lab wan has no node", "n": ["wan"], "k": "wanderer", "h": "r1.wan.x"})
    assert got == {"m": "lab wan-replay has no node", "n": ["wan-replay"], "k": "wanderer",
                   "h": "r1.wan.x"}  # fmt: skip
