"""orchestrator.lab.hostnet: the lab bridges' notrack rules (issue 11, frames cross links
as sent). The pure parts (which bridges, the nft script, nft's JSON read back, what a
claim or a release leaves, what deploy and destroy say) and the host driver against a fake
``nft``; the real host is exercised by tests/docker/test_docker_fragments.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from orchestrator.lab import hostnet as H
from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import Backend, LabObjects, NetworkInfo
from orchestrator.lab.hostnet import HostNet, HostNetError, LabRule, Ruleset

# `nft -j list table inet wirelab` on this machine (nftables 1.0.6): a lab with two
# bridges (printed as a set) and one with one bridge (printed as the bare element).
LISTED: dict[str, list[Any]] = {
    "nftables": [
        {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "wirelab", "handle": 7}},
        {
            "chain": {
                "family": "inet",
                "table": "wirelab",
                "name": "prerouting",
                "handle": 1,
                "type": "filter",
                "hook": "prerouting",
                "prio": -450,
                "policy": "accept",
            }
        },
        {
            "rule": {
                "family": "inet",
                "table": "wirelab",
                "chain": "prerouting",
                "handle": 3,
                "comment": "wirelab lab fragprobe",
                "expr": [
                    {
                        "match": {
                            "op": "==",
                            "left": {"meta": {"key": "iifname"}},
                            "right": {"set": ["br-8cf30a55ba00", "br-1cc8ed57248d"]},
                        }
                    },
                    {"counter": {"packets": 11, "bytes": 3720}},
                    {"notrack": None},
                ],
            }
        },
        {
            "rule": {
                "family": "inet",
                "table": "wirelab",
                "chain": "prerouting",
                "handle": 4,
                "comment": "wirelab lab other",
                "expr": [
                    {
                        "match": {
                            "op": "==",
                            "left": {"meta": {"key": "iifname"}},
                            "right": "br-000000000000",
                        }
                    },
                    {"counter": {"packets": 0, "bytes": 0}},
                    {"notrack": None},
                ],
            }
        },
    ]
}
A = LabRule("fragprobe", ("br-1cc8ed57248d", "br-8cf30a55ba00"), 11, 3720)
B = LabRule("other", ("br-000000000000",))


def listed(*rules: object) -> str:
    head = LISTED["nftables"][:3]
    return json.dumps({"nftables": [*head, *rules]})


# ---- which bridges -----------------------------------------------------------------------


def net(name: str, id_: str, link: str | None) -> NetworkInfo:
    kind = L.KIND_DATA if link else L.KIND_MANAGEMENT
    return NetworkInfo(name, id_, {L.LAB: "x", L.KIND: kind, L.LINK: link or ""}, "")


def test_a_labs_bridges_are_its_data_networks_devices() -> None:
    networks = [
        net("wl.x._mgmt", "eb68e8fff632" + "0" * 52, None),
        net("wl.x.b", "c814a44000f7" + "1" * 52, "b"),
        net("wl.x.a", "6d9354631e53" + "2" * 52, "a"),
        net("wl.x.c", "", "c"),  # a stub without an id (nothing found)
    ]
    assert H.bridge_names(networks) == ("br-6d9354631e53", "br-c814a44000f7")


# ---- nft's JSON read back ------------------------------------------------------------------


def test_the_labs_rules_are_read_from_nfts_json() -> None:
    found = H.parse_ruleset(json.dumps(LISTED))
    assert found == Ruleset(table=True, rules=(A, B), foreign=0)
    assert found.rule("other") == B and found.labs == ("fragprobe", "other")


def test_no_table_and_rules_that_are_not_a_labs() -> None:
    assert H.parse_ruleset("") == Ruleset(table=False)
    stranger = {"rule": {"chain": "prerouting", "comment": "mine", "expr": [{"notrack": None}]}}
    no_notrack = json.loads(json.dumps(LISTED["nftables"][3]))
    no_notrack["rule"]["expr"].pop()  # an iifname match and a counter, no notrack
    found = H.parse_ruleset(listed(stranger, no_notrack))
    assert found == Ruleset(table=True, rules=(), foreign=2)


def test_unreadable_json_is_an_error() -> None:
    with pytest.raises(HostNetError, match="cannot read nft's JSON"):
        H.parse_ruleset("table inet wirelab {")


# ---- the nft script ------------------------------------------------------------------------


def test_the_table_is_rewritten_in_one_transaction_counters_carried() -> None:
    script = H.render(Ruleset(table=True, rules=(A,)), [A, B])
    assert script == (
        "add table inet wirelab\n"
        "delete table inet wirelab\n"
        "table inet wirelab {\n"
        "\tchain prerouting {\n"
        "\t\ttype filter hook prerouting priority -450; policy accept;\n"
        '\t\tiifname { "br-1cc8ed57248d", "br-8cf30a55ba00" } counter packets 11 bytes 3720 '
        'notrack comment "wirelab lab fragprobe"\n'
        '\t\tiifname { "br-000000000000" } counter packets 0 bytes 0 '
        'notrack comment "wirelab lab other"\n'
        "\t}\n"
        "}\n"
    )


def test_the_table_goes_with_the_last_rule() -> None:
    assert H.render(Ruleset(table=True, rules=(A,)), []) == "delete table inet wirelab\n"
    assert H.render(Ruleset(table=False), []) == ""


@pytest.mark.parametrize(
    "rule",
    [
        LabRule('x" accept; #', ("br-1",)),
        LabRule("x", ("br 1",)),
        LabRule("x", ("a-very-long-interface",)),
        LabRule("x", ('br-1" }',)),
    ],
)
def test_names_nft_would_misread_are_refused(rule: LabRule) -> None:
    with pytest.raises(HostNetError):
        rule.text()


# ---- what a claim or a release leaves ---------------------------------------------------------

HERE = {"br-1cc8ed57248d", "br-8cf30a55ba00", "br-000000000000", "br-new000000001", "docker0"}


def test_a_claim_adds_the_labs_rule() -> None:
    after = H.plan_claim(Ruleset(table=False), "lab1", ["br-new000000001"], HERE)
    assert after == (LabRule("lab1", ("br-new000000001",)),)


def test_a_redeploy_replaces_the_rule_in_place_and_the_same_bridges_keep_counters() -> None:
    current = Ruleset(table=True, rules=(A, B))
    same = H.plan_claim(current, "fragprobe", list(reversed(A.bridges)), HERE)
    assert same == (A, B)
    assert not H._changed(current, same)
    new = H.plan_claim(current, "fragprobe", ["br-new000000001", "br-gone00000000"], HERE)
    assert new == (LabRule("fragprobe", ("br-new000000001",)), B)
    assert H._changed(current, new)


def test_a_claim_drops_rules_whose_bridges_are_all_gone() -> None:
    current = Ruleset(table=True, rules=(A, B))
    after = H.plan_claim(current, "lab1", ["br-new000000001"], HERE - {"br-000000000000"})
    assert after == (A, LabRule("lab1", ("br-new000000001",)))


def test_a_lab_with_no_bridge_on_this_host_gets_no_rule() -> None:
    current = Ruleset(table=True, rules=(A,))
    assert H.plan_claim(current, "fragprobe", ["br-elsewhere00"], HERE) == ()


def test_a_release_keeps_the_others_and_the_last_one_empties_the_table() -> None:
    current = Ruleset(table=True, rules=(A, B))
    assert H.plan_release(current, "fragprobe", HERE) == (B,)
    assert H.plan_release(Ruleset(table=True, rules=(B,)), "other", HERE) == ()
    assert H._changed(Ruleset(table=True, rules=(B,)), [])
    assert not H._changed(Ruleset(table=False), [])
    assert H._changed(Ruleset(table=True, rules=(B,), foreign=1), [B])  # a stranger goes


# ---- what deploy and destroy say -------------------------------------------------------------


def test_claim_messages_say_what_changed_on_the_host() -> None:
    new = (LabRule("lab1", ("br-a", "br-b")),)
    first = H.claim_message(Ruleset(table=False), new, "lab1")
    assert first.startswith("added nft table inet wirelab (notrack at prerouting priority -450)")
    assert "lab's 2 bridges skip the host's conntrack" in first
    assert "destroy removes it with the last lab that needs it" in first
    shared = H.claim_message(Ruleset(table=True, rules=(B,)), (B, *new), "lab1")
    assert "added the lab's rule to nft table inet wirelab" in shared
    assert "shared with other" in shared
    again = H.claim_message(Ruleset(table=True, rules=new), new, "lab1")
    assert again.startswith("nft table inet wirelab (notrack at prerouting priority -450) already")
    assert "no bridge of lab lab1" in H.claim_message(Ruleset(table=False), (), "lab1")


def test_release_messages_say_what_was_restored() -> None:
    last = H.release_message(Ruleset(table=True, rules=(A,)), (), "fragprobe")
    assert last == (
        "removed the lab's notrack rule; deleted nft table inet wirelab (no lab needs it): "
        "the host's ruleset is as before"
    )
    kept = H.release_message(Ruleset(table=True, rules=(A, B)), (B,), "fragprobe")
    assert kept == "removed the lab's notrack rule; nft table inet wirelab kept for other"
    stale = H.release_message(Ruleset(table=True, rules=(A, B)), (), "fragprobe")
    assert stale is not None and "dropped stale rules of other" in stale
    assert H.release_message(Ruleset(table=False), (), "fragprobe") is None
    assert H.release_message(Ruleset(table=True, rules=(B,)), (B,), "fragprobe") is None


# ---- the host driver, against a fake nft ------------------------------------------------------


class FakeNft:
    """Answers ``nft -j list table`` with ``listing`` (None: no such table), records scripts."""

    def __init__(self, listing: str | None, *, refuse: str = "") -> None:
        self.listing = listing
        self.refuse = refuse
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, argv: Sequence[str], stdin: str) -> tuple[int, str, str]:
        self.calls.append((list(argv), stdin))
        if self.refuse:
            return 1, "", self.refuse
        if argv[1:3] == ["-j", "list"]:
            if self.listing is None:
                return 1, "", "Error: No such file or directory\nlist table inet wirelab"
            return 0, self.listing, ""
        return 0, "", ""

    @property
    def scripts(self) -> list[str]:
        return [stdin for argv, stdin in self.calls if argv[1:] == ["-f", "-"]]


def host(tmp_path: Path, nft: FakeNft, bridges: Sequence[str]) -> HostNet:
    sys_net = tmp_path / "net"
    sys_net.mkdir()
    for b in bridges:
        (sys_net / b).mkdir()
    return HostNet(lock_dir=tmp_path, sys_net=sys_net, run=nft)


def test_a_claim_on_a_clean_host_creates_the_table(tmp_path: Path) -> None:
    nft = FakeNft(None)
    message = host(tmp_path, nft, ["br-aaa", "docker0"]).claim("lab1", ["br-aaa"])
    assert message.startswith("added nft table inet wirelab")
    assert nft.calls[0][0] == ["nft", "-j", "list", "table", "inet", "wirelab"]
    assert nft.scripts == [H.render(Ruleset(table=False), [LabRule("lab1", ("br-aaa",))])]
    assert (tmp_path / H.LOCK_NAME).exists()


def test_a_claim_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    nft = FakeNft(json.dumps(LISTED))
    hn = host(tmp_path, nft, [*A.bridges, *B.bridges])
    assert "already" in hn.claim("fragprobe", list(A.bridges))
    assert nft.scripts == []


def test_bridges_that_are_not_on_this_host_are_an_error(tmp_path: Path) -> None:
    nft = FakeNft(None)
    with pytest.raises(HostNetError, match="not on this host"):
        host(tmp_path, nft, ["docker0"]).claim("lab1", ["br-aaa"])
    assert nft.calls == []


def test_without_root_the_error_says_so(tmp_path: Path) -> None:
    nft = FakeNft(None, refuse="Error: Could not process rule: Operation not permitted")
    with pytest.raises(HostNetError, match="needs root"):
        host(tmp_path, nft, ["br-aaa"]).claim("lab1", ["br-aaa"])
    # a release that cannot even read the table has nothing of ours to undo: silent
    assert HostNet(lock_dir=tmp_path, run=nft).release("lab1") is None


def test_a_lock_that_cannot_be_opened_fails_a_claim_and_silences_a_release(
    tmp_path: Path,
) -> None:
    nft = FakeNft(json.dumps(LISTED))
    hn = HostNet(lock_dir=tmp_path / "missing", sys_net=tmp_path, run=nft)
    with pytest.raises(HostNetError, match=r"wirelab-hostnet\.lock"):
        hn.claim("lab1", ["br-aaa"])
    assert hn.release("fragprobe") is None and nft.calls == []


def test_a_release_whose_change_fails_says_so(tmp_path: Path) -> None:
    class Refusing(FakeNft):
        def __call__(self, argv: Sequence[str], stdin: str) -> tuple[int, str, str]:
            if argv[1:] == ["-f", "-"]:
                return 1, "", "Error: Could not process rule: Device or resource busy"
            return super().__call__(argv, stdin)

    nft = Refusing(json.dumps(LISTED))
    with pytest.raises(HostNetError, match="resource busy"):
        host(tmp_path, nft, list(B.bridges)).release("fragprobe")


def test_the_last_release_deletes_the_table(tmp_path: Path) -> None:
    nft = FakeNft(listed(LISTED["nftables"][3]))
    message = host(tmp_path, nft, list(A.bridges)).release("fragprobe")
    assert message is not None and "deleted nft table inet wirelab" in message
    assert nft.scripts == ["delete table inet wirelab\n"]


def test_a_release_of_a_lab_without_a_rule_leaves_the_others(tmp_path: Path) -> None:
    nft = FakeNft(json.dumps(LISTED))
    assert host(tmp_path, nft, [*A.bridges, *B.bridges]).release("nobody") is None
    assert nft.scripts == []


# ---- the hooks -------------------------------------------------------------------------------


class StubBackend:
    def __init__(self, name: str, networks: Sequence[NetworkInfo]) -> None:
        self.name = name
        self.networks = tuple(networks)

    def find(self, lab: str) -> LabObjects:
        return LabObjects(lab, (), self.networks)


def stub(name: str, networks: Sequence[NetworkInfo]) -> Backend:
    return cast(Backend, StubBackend(name, networks))


Event = tuple[str, str | None, int, int, str]


def recorder(events: list[Event]) -> H.Report:
    def report(step: str, node: str | None, done: int, total: int, message: str) -> None:
        events.append((step, node, done, total, message))

    return report


def test_deploy_reports_the_change_and_destroy_the_restore(tmp_path: Path) -> None:
    events: list[Event] = []
    backend = stub("docker", [net("wl.x.a", "aaaaaaaaaaaa" + "0" * 52, "a")])
    nft = FakeNft(None)
    hn = host(tmp_path, nft, ["br-aaaaaaaaaaaa"])
    H.on_deploy(backend, "x", recorder(events), host=hn)
    assert events[0][:4] == ("host", None, 1, 1) and "added nft table" in events[0][4]
    nft.listing = listed(
        {
            "rule": {
                "chain": "prerouting",
                "comment": "wirelab lab x",
                "expr": [
                    {"match": {"left": {"meta": {"key": "iifname"}}, "right": "br-aaaaaaaaaaaa"}},
                    {"notrack": None},
                ],
            }
        }
    )
    H.on_destroy(backend, "x", recorder(events), host=hn)
    assert events[1][0] == "host" and "the host's ruleset is as before" in events[1][4]


def test_a_host_that_cannot_be_changed_does_not_fail_the_deploy(tmp_path: Path) -> None:
    events: list[Event] = []
    backend = stub("docker", [net("wl.x.a", "aaaaaaaaaaaa" + "0" * 52, "a")])
    hn = host(tmp_path, FakeNft(None, refuse="Operation not permitted"), ["br-aaaaaaaaaaaa"])
    H.on_deploy(backend, "x", recorder(events), host=hn)
    assert "still reassembles IPv4 fragments" in events[0][4] and "needs root" in events[0][4]


def test_other_backends_leave_the_host_alone(tmp_path: Path) -> None:
    events: list[Event] = []
    nft = FakeNft(None)
    for name in ("fake", "sim"):
        backend = stub(name, [net("wl.x.a", "aaaaaaaaaaaa", "a")])
        H.on_deploy(backend, "x", recorder(events), host=HostNet(run=nft))
        H.on_destroy(backend, "x", recorder(events), host=HostNet(run=nft))
    assert events == [] and nft.calls == []
