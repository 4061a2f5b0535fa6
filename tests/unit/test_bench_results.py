"""bench.results: figures, the results document's schema, the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.results import Figure, Target, document, render_table, validate


def figures() -> list[Figure]:
    good = Figure("tcp_goodput_1500", "MB/s", "goodput", Target(">=", 100))
    good.samples += [120.0, 90.0, 110.0]
    good.linux += [200.0, 220.0, 240.0]
    lat = Figure("tcp_rr_p50_us", "us", "rr", Target("<=", 150), samples=[400.0])
    info = Figure("sim_wall_goodput", "MB/s", "info", None, samples=[9.0])
    broken = Figure("udp_forward_pps", "pkt/s", "pps", Target(">=", 150_000), error="boom")
    return [good, lat, info, broken]


def test_figure_summary_met_and_ratio() -> None:
    good, lat, info, broken = figures()
    assert good.median == 110.0 and good.met is True
    assert good.linux_median == 220.0 and good.ratio == pytest.approx(0.5)
    assert lat.met is False and lat.ratio is None
    assert info.met is None
    assert broken.met is False and broken.median is None


def test_target_ops() -> None:
    assert Target(">=", 1).met(1.0) and not Target(">=", 1).met(0.99)
    assert Target("<=", 5).met(5.0) and not Target("<=", 5).met(5.01)
    with pytest.raises(ValueError):
        Target("<", 1)


def test_document_follows_the_schema_and_is_json(tmp_path: Path) -> None:
    doc = document(
        figures(), root=tmp_path, options={"quick": True}, load_before=[0.1, 0.2, 0.3], started=0
    )
    assert validate(json.loads(json.dumps(doc))) == []
    by_name = {f["name"]: f for f in doc["figures"]}
    good = by_name["tcp_goodput_1500"]
    assert (good["median"], good["min"], good["max"]) == (110.0, 90.0, 120.0)
    assert good["samples"] == [120.0, 90.0, 110.0]
    assert good["target"] == {"op": ">=", "value": 100}
    assert good["met"] is True and good["ratio"] == pytest.approx(0.5)
    assert good["linux"]["median"] == 220.0
    assert by_name["udp_forward_pps"]["error"] == "boom"
    assert by_name["udp_forward_pps"]["median"] is None
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["python"]


def test_validate_reports_broken_documents(tmp_path: Path) -> None:
    doc = document(figures(), root=tmp_path, options={}, load_before=[], started=0)
    fig = doc["figures"][0]
    fig["met"] = None  # has a target
    fig["median"] = 1000.0  # outside min..max
    doc["figures"][2]["ratio"] = 2.0  # no linux side
    del doc["machine"]["kernel"]
    problems = validate(doc)
    assert any("figures[0].met" in p for p in problems)
    assert any("figures[0].median" in p for p in problems)
    assert any("figures[2].ratio" in p for p in problems)
    assert any("machine.kernel" in p for p in problems)
    assert validate([]) == ["the document is not an object"]


def test_table_has_every_figure_and_marks_errors() -> None:
    text = render_table(figures())
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["figure", "unit", "median"]
    assert len(lines) == 2 + 4
    assert "ERROR" in lines[-1] and ">= 150,000" in lines[-1]
    assert "0.50" in lines[2]  # ours/linux of the goodput
    md = render_table(figures(), markdown=True)
    assert md.splitlines()[0].startswith("| figure | unit |")
    assert md.count("\n") == 5


def test_the_table_names_the_figures_measured_cpu_bound() -> None:
    """The saturation guard in bench output: a run whose node was CPU-bound is listed
    under the table and kept in results.json."""
    calm = Figure("udp_forward_pps", "pkt/s", "udp", samples=[1.0])
    busy = Figure("tcp_goodput_1500", "MB/s", "tcp", samples=[24.0, 25.0])
    busy.cpu_bound.append("run 2: r1 loop busy 97%")
    for markdown in (False, True):
        text = render_table([calm, busy], markdown=markdown)
        assert "CPU-bound: tcp_goodput_1500: run 2: r1 loop busy 97%" in text
        assert "CPU-bound: udp_forward_pps" not in text
    assert busy.to_dict()["cpu_bound"] == ["run 2: r1 loop busy 97%"]
    assert "CPU-bound" not in render_table([calm])


def test_a_skipped_figure_says_why_in_the_table_and_the_document(tmp_path: Path) -> None:
    fig = Figure("swarm_goodput_1500", "MB/s", "swarm", skipped="the swarm lab needs root")
    assert "skipped" in render_table([fig]).splitlines()[-1]
    doc = document([fig], root=tmp_path, options={}, load_before=[], started=0)
    assert validate(doc) == []
    assert doc["figures"][0]["skipped"] == "the swarm lab needs root"
    assert doc["figures"][0]["error"] is None and doc["figures"][0]["median"] is None
    doc["figures"][0]["skipped"] = 1
    assert validate(doc) == ["figures[0].skipped: not a string"]
