"""The faults: timeline builds the fault engine's own model (nodes.faults); what the engine
would refuse is refused at its line."""

from __future__ import annotations

import pytest

from nodes.faults.match import Match, Prefix
from nodes.faults.model import Direction, Distribution, Effects, GilbertElliott, RateLimit
from topology import FaultEntry, TargetKind, TopologyError, load_text
from topology.model import NodeAction

HEAD = """\
name: t
nodes:
  h1: {kind: host}
  r1: {kind: router}
  h2: {kind: host}
links:
  - endpoints: [h1, r1]
  - endpoints: [r1, h2]
faults:
"""
FIRST = HEAD.count("\n") + 1  # the line of the first fault


def faults(*lines: str) -> tuple[FaultEntry, ...]:
    return load_text(HEAD + "".join(f"  - {line}\n" for line in lines)).faults


def problems(*lines: str) -> list[tuple[int, int, str, str]]:
    text = HEAD + "".join(f"  - {line}\n" for line in lines)
    with pytest.raises(TopologyError) as info:
        load_text(text, file="t.yaml")
    return [(d.line, d.column, d.path, d.message) for d in info.value.diagnostics]


def column(line: str, token: str) -> int:
    return len("  - ") + line.index(token) + 1


def test_effects_are_the_engines_model_with_units() -> None:
    (entry,) = faults(
        "{endpoint: r1:eth0, at: 2m, duration: 30s, loss: 5%, delay: 20ms, jitter: 1ms, "
        "distribution: normal, duplicate: 0.01, corrupt: 1%, rate: 10Mbit/s, mtu: 1400, "
        "blackhole_mtu: 1300, direction: egress, seed: 7}"
    )
    assert entry.at == 120.0 and entry.duration == 30.0 and entry.seed == 7
    assert entry.target.kind is TargetKind.ENDPOINT
    assert (entry.target.node, entry.target.iface) == ("r1", "eth0")
    assert entry.direction is Direction.EGRESS
    assert entry.effects == Effects(
        loss=0.05,
        delay=0.02,
        jitter=0.001,
        distribution=Distribution.NORMAL,
        duplicate=0.01,
        corrupt=0.01,
        rate=RateLimit(10e6),
        mtu=1400,
        blackhole_mtu=1300,
    )


def test_gilbert_elliott_follows_netem_parameters() -> None:
    (entry,) = faults("{link: h1-r1, ge: {p: 1%, r: 0.3, h: 0.1, k: 0.99}}")
    ge = entry.effects.gilbert_elliott
    assert ge is not None and (ge.p, ge.r) == (0.01, 0.3)
    assert ge.loss_bad == pytest.approx(0.9) and ge.loss_good == pytest.approx(0.01)
    (entry,) = faults("{link: h1-r1, ge: {p: 0.1, r: 0.5}}")
    assert entry.effects.gilbert_elliott == GilbertElliott(p=0.1, r=0.5)


def test_match_builds_the_engines_match() -> None:
    (entry,) = faults("{link: h1-r1, loss: 1, match: {protocol: tcp, dst: 10.0.2.0/24, dport: 80}}")
    assert entry.match == Match(protocol=6, dst=Prefix(0x0A000200, 24), dst_port=80)
    (entry,) = faults("{link: h1-r1, loss: 1, match: {src: 10.0.0.1}}")
    assert entry.match == Match(src=Prefix(0x0A000001, 32))
    (entry,) = faults("{link: h1-r1, loss: 1, match: {}}")
    assert entry.match is None


def test_targets_and_actions() -> None:
    link, node, action, part = faults(
        "{link: r1-h2, down: true}",
        "{node: r1, delay: 1}",
        "{node: h2, action: restart, at: 1.5}",
        "{partition: [[h1], [r1, h2]], duration: 10}",
    )
    assert (link.target.kind, link.target.link, link.effects.down) == (
        TargetKind.LINK,
        "r1-h2",
        True,
    )
    assert node.target.node == "r1" and node.effects.delay == 1.0
    assert action.action is NodeAction.RESTART and action.at == 1.5 and action.effects.empty
    assert part.target.groups == (("h1",), ("r1", "h2"))


@pytest.mark.parametrize(
    ("line", "token", "path", "message"),
    [
        ("{link: h1-r1, loss: 5%, ge: {p: 0.1, r: 0.5}}", "{p:", "faults[0].ge",
         "cannot be combined with loss > 0: pick one"),
        ("{link: h1-r1, reorder: 10%}", "10%", "faults[0].reorder", "needs delay > 0"),
        ("{link: h1-r1, down: true, match: {protocol: tcp}}", "{protocol",
         "faults[0].match", "cannot be combined with down"),
        ("{link: h1-r1, loss: 1, match: {protocol: icmp, dport: 80}}", "80",
         "faults[0].match.dport", "needs protocol tcp or udp"),
        ("{link: h1-r1, delay: 2h}", "2h", "faults[0].delay", "must be within 0..3600 s"),
        ("{link: h1-r1, rate: 10mbps}", "10mbps", "faults[0].rate",
         "ambiguous rate '10mbps': tc reads bps (and B) as BYTES per second; write 10mbit"),
        ("{link: h1-r1, rate: 2tbit}", "2tbit", "faults[0].rate", "must be within 1..1e+12"),
        ("{link: h1-r1, loss: 1, duration: 0}", "0}", "faults[0].duration",
         "must be longer than zero"),
        ("{link: h1-r1, delay: 5 parsecs}", "5 parsecs", "faults[0].delay",
         "bad duration '5 parsecs': unknown unit 'parsecs'"),
        ("{link: h1-r1, mtu: 20}", "20", "faults[0].mtu", "20 is out of range; allowed: 68..65535"),
        ("{link: h1-r1, blackhole_mtu: 1400.5}", "1400.5", "faults[0].blackhole_mtu",
         "expected an integer, got a number"),
        ("{endpoint: h1, loss: 1}", "h1,", "faults[0].endpoint", "bad endpoint 'h1'"),
        ("{partition: [[h1], []]}", "[]", "faults[0].partition[1]",
         "a partition group needs at least one node"),
        ("{partition: [[h1]]}", "[[h1]]", "faults[0].partition",
         "a partition needs at least two groups"),
        ("{node: h1, action: explode}", "explode", "faults[0].action", "unknown action 'explode'"),
        ("{node: h1, link: h1-r1, loss: 1}", "{node", "faults[0]", "a fault has one target, got 2"),
        ("{node: h1, action: kill, loss: 1}", "{node", "faults[0]",
         "an action applies to a node target alone"),
        ("{node: h1, lose: 1}", "lose", "faults[0].lose", "unknown fault key 'lose'"),
        ("{node: h1, ge: {p: 0.1, r: 0.2, q: 1}}", "q:", "faults[0].ge.q", "unknown ge key 'q'"),
        ("{node: h1, loss: 1, match: {proto: tcp}}", "proto", "faults[0].match.proto",
         "unknown match key 'proto'"),
        ("{node: h1, loss: 1, direction: sideways}", "sideways", "faults[0].direction",
         "unknown direction 'sideways'"),
    ],
)  # fmt: skip
def test_what_the_engine_refuses_is_refused_at_its_key(
    line: str, token: str, path: str, message: str
) -> None:
    ((at_line, at_column, at_path, text),) = problems(line)
    assert (at_line, at_path) == (FIRST, path)
    assert at_column == column(line, token)
    assert text.startswith(message), text


def test_unknown_keys_suggest_the_fault_key() -> None:
    with pytest.raises(TopologyError) as info:
        load_text(HEAD + "  - {node: h1, blackhole: 1400}\n")
    (d,) = info.value.diagnostics
    assert d.suggestion == "blackhole_mtu"
    assert "mtu" in d.allowed and "partition" in d.allowed


def test_references_are_checked_with_the_structure() -> None:
    found = problems(
        "{node: h9, loss: 1}", "{link: nope, loss: 2}", "{endpoint: h1:eth7, delay: 1}"
    )
    assert [(p[2], p[3]) for p in found] == [
        ("faults[0].node", "unknown node 'h9'"),
        ("faults[1].loss", "2.0 is out of range; allowed: 0.0..1.0"),
    ]


def test_a_link_with_a_structural_error_is_still_a_known_link() -> None:
    text = HEAD.replace(
        "  - endpoints: [r1, h2]\n", "  - {name: core, endpoints: [r1, h2], mtu: 1}\n"
    )
    with pytest.raises(TopologyError) as info:
        load_text(text + "  - {link: core, loss: 1%}\n")
    assert [d.path for d in info.value.diagnostics] == ["links[1].mtu"]
