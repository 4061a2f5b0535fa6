"""No input makes the loader raise anything but TopologyError (issue 11): random text,
mutated examples and random YAML trees shaped like topologies, each answered with a Lab or
with positioned diagnostics of at most 1 KiB, never an internal error. Deterministic (the
suite's hypothesis profile is derandomized) and bounded (small inputs, fixed example counts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from topology import Lab, TopologyError, load_text
from topology.errors import MAX_LINE

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "topology" / "examples").glob("*.yaml"))
README = Path(__file__).resolve().parents[2] / "topology" / "README.md"
SOURCES = [p.read_text() for p in EXAMPLES]

WORDS = [
    "host", "router", "linux", "h1", "r1", "h1:eth0", "r1:eth1", "eth0", "10.0.0.0/24",
    "10.0.0.1", "10.0.0.1/24", "default", "auto", "none", "static", "5%", "0.5", "150%",
    "20ms", "2m", "1.5s", "-1s", "10mbit", "10mbps", "1e999", "echo", "http-server:80",
    "sink:x", "02:00:00:00:00:01", "01:00:5e:00:00:01", "egress", "both", "tcp", "icmp",
    "kill", "cubic", "vegas", "h1-r1", "", " ", "é", "\t",
]  # fmt: skip
KEYS = [
    "name", "defaults", "pool", "routes", "nodes", "links", "lans", "faults", "kind", "forward",
    "apps", "endpoints", "subnet", "mtu", "members", "node", "iface", "address", "mac", "dst",
    "via", "dev", "app", "port", "at", "endpoint", "link", "partition", "direction", "match",
    "action", "duration", "seed", "loss", "ge", "delay", "jitter", "distribution", "rate",
    "blackhole_mtu", "down", "reorder", "protocol", "sport", "p", "r", "h", "k", "msl",
    "syn_retries", "congestion_control", "sack", "h1", "r1", "h2",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from(WORDS),
    st.text(max_size=12),
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5),
    ),
    max_leaves=12,
)
node_bodies = st.fixed_dictionaries(
    {"kind": st.sampled_from(["host", "router", "linux"]) | trees},
    optional={k: trees for k in ("forward", "apps", "routes", "msl", "sack", "ttl", "bogus")},
)
labs = st.fixed_dictionaries(
    {"name": st.sampled_from(["t", "lab-1"]) | trees},
    optional={
        "nodes": st.dictionaries(st.sampled_from(["h1", "r1", "h2", "1x"]), node_bodies | trees,
                                 max_size=4),
        "links": st.lists(
            st.fixed_dictionaries({"endpoints": st.lists(st.sampled_from(WORDS) | trees,
                                                         max_size=3)},
                                  optional={"subnet": trees, "mtu": trees, "name": trees}),
            max_size=3,
        ),
        "lans": st.dictionaries(st.sampled_from(["l", "office"]),
                                st.fixed_dictionaries({"members": trees}), max_size=2),
        "faults": st.lists(st.dictionaries(st.sampled_from(KEYS), trees, max_size=5), max_size=3),
        "defaults": trees,
        "pool": trees,
        "routes": trees,
    },
)  # fmt: skip


def answered(text: str) -> None:
    """``load_text`` gives a Lab or a TopologyError whose diagnostics are short and known."""
    try:
        assert isinstance(load_text(text, file="fuzz.yaml"), Lab)
    except TopologyError as exc:
        for d in exc.diagnostics:
            assert "internal error" not in d.message, d.format()
            assert len(d.format()) <= MAX_LINE
            assert d.line >= 0 and d.column >= 0


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
def test_random_text(text: str) -> None:
    answered(text)


@settings(max_examples=300)
@given(st.sampled_from(SOURCES), st.data())
def test_mutated_examples(source: str, data: st.DataObject) -> None:
    text = source
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        insert = data.draw(st.text(alphabet="[]{}:,-&*!|>'\"# \n\t0aé\x00", max_size=4))
        text = text[:at] + insert + text[at + cut :]
    answered(text)


@settings(max_examples=200)
@given(trees)
def test_random_yaml_trees(tree: Any) -> None:
    answered(dump(tree))


@settings(max_examples=150)
@given(labs)
def test_random_lab_shaped_trees(lab: dict[str, Any]) -> None:
    answered(dump(lab))


def test_a_minimal_lab_shaped_tree_loads() -> None:
    """The smallest lab the lab-shaped strategy can draw is valid: the others are near it."""
    assert load_text(dump({"name": "t", "nodes": {"h1": {"kind": "host"}}})).name == "t"
