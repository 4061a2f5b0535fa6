"""Node image inputs: the content hash is stable, and any source or dependency change moves it."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

from orchestrator.image.build import (
    BASE_PACKAGES,
    ImageError,
    base_tag,
    compute_inputs,
    parse_requirement,
    pinned_requirements,
    source_files,
)

PYPROJECT = (
    '[project]\nname = "wirelab"\nversion = "0"\ndependencies = ["PyYAML>=6.0", "rich>=13"]\n'
    '[project.optional-dependencies]\nnode = ["PyYAML>=6.0"]\n'
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {
        "pyproject.toml": PYPROJECT,
        "setup.py": "from setuptools import setup\nsetup()\n",
        "README.md": "# wirelab\n",
        "nodes/__init__.py": "",
        "nodes/wire/ipv4.py": "X = 1\n",
        "topology/__init__.py": "",
        "topology/examples/quickstart.yaml": "nodes: {}\n",
        "orchestrator/__init__.py": "",
        "proto/wirelab/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def digest(root: Path) -> str:
    return compute_inputs(root, base="wirelab-base:test").digest


def test_the_hash_is_stable(tree: Path) -> None:
    assert digest(tree) == digest(tree)


def test_the_tag_names_the_digest(tree: Path) -> None:
    inputs = compute_inputs(tree)
    assert re.fullmatch(r"wirelab-node:[0-9a-f]{12}", inputs.tag)
    assert inputs.digest.startswith(inputs.tag.split(":")[1])
    assert inputs.base == base_tag()


def test_a_changed_source_file_changes_the_hash(tree: Path) -> None:
    before = digest(tree)
    (tree / "nodes/wire/ipv4.py").write_text("X = 2\n")
    assert digest(tree) != before


@pytest.mark.parametrize(
    "name", ["nodes/wire/new.py", "topology/examples/more.yaml", "proto/wirelab/v1/x_pb2.py"]
)
def test_a_new_source_file_changes_the_hash(tree: Path, name: str) -> None:
    before = digest(tree)
    (tree / name).parent.mkdir(parents=True, exist_ok=True)
    (tree / name).write_text("")
    assert digest(tree) != before


def test_a_renamed_file_changes_the_hash(tree: Path) -> None:
    before = digest(tree)
    (tree / "nodes/wire/ipv4.py").rename(tree / "nodes/wire/ip.py")
    assert digest(tree) != before


def test_packaging_files_count(tree: Path) -> None:
    for name in ("pyproject.toml", "setup.py", "README.md"):
        before = digest(tree)
        with (tree / name).open("a") as f:
            f.write("\n# changed\n")
        assert digest(tree) != before, name


@pytest.mark.parametrize(
    "name",
    [
        "nodes/wire/__pycache__/ipv4.cpython-311.pyc",
        "nodes/stale.pyc",
        "nodes/.hidden",
        "wirelab.egg-info/PKG-INFO",
        "tests/unit/test_x.py",
        "bench/results.json",
        ".mypy_cache/x.json",
    ],
)
def test_junk_and_other_trees_do_not_count(tree: Path, name: str) -> None:
    before = digest(tree)
    (tree / name).parent.mkdir(parents=True, exist_ok=True)
    (tree / name).write_text("junk")
    assert digest(tree) == before


def test_the_base_tag_counts(tree: Path) -> None:
    a = compute_inputs(tree, base="wirelab-base:a").digest
    b = compute_inputs(tree, base="wirelab-base:b").digest
    assert a != b


def test_dependencies_count(tree: Path) -> None:
    before = digest(tree)
    text = PYPROJECT.replace(
        'node = ["PyYAML>=6.0"]', 'node = ["PyYAML>=6.0", "not-installed-pkg>=1"]'
    )
    (tree / "pyproject.toml").write_text(text)
    assert digest(tree) != before
    assert "not-installed-pkg>=1" in compute_inputs(tree).requirements


def test_only_what_a_node_needs_goes_into_the_image(tree: Path) -> None:
    """The control plane's dependencies (rich here) stay out: the node extra decides."""
    reqs = compute_inputs(tree).requirements
    assert any(r.lower().startswith("pyyaml") for r in reqs)
    assert not any(r.startswith("rich") for r in reqs)
    (tree / "pyproject.toml").write_text(PYPROJECT.split("[project.optional")[0])
    with pytest.raises(ImageError, match="no optional-dependencies 'node'"):
        compute_inputs(tree)


def test_source_files_are_relative_sorted_and_complete(tree: Path) -> None:
    files = [p.as_posix() for p in source_files(tree)]
    assert files == sorted(files)
    assert {"pyproject.toml", "setup.py", "README.md", "nodes/wire/ipv4.py"} <= set(files)
    assert "topology/examples/quickstart.yaml" in files


def test_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a wirelab source checkout"):
        compute_inputs(tmp_path)


def test_the_base_tag_covers_packages_and_suite() -> None:
    assert base_tag() == base_tag(tuple(reversed(BASE_PACKAGES)))
    assert base_tag() != base_tag((*BASE_PACKAGES, "tshark"))
    assert base_tag() != base_tag(suite="trixie")
    assert re.fullmatch(r"wirelab-base:[0-9a-f]{12}", base_tag())


# -- requirements ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("PyYAML>=6.0", ("pyyaml", frozenset(), None)),
        ("grpcio_tools >= 1.60", ("grpcio-tools", frozenset(), None)),
        (
            "x[A,b] ==1; python_version < '3.8'",
            ("x", frozenset({"a", "b"}), "python_version < '3.8'"),
        ),
        ('attrs; extra == "tests"', ("attrs", frozenset(), 'extra == "tests"')),
    ],
)
def test_parse_requirement(text: str, want: tuple[str, frozenset[str], str | None]) -> None:
    assert parse_requirement(text) == want


def test_requirements_are_pinned_to_the_installed_versions() -> None:
    version = importlib.metadata.version("PyYAML")
    assert pinned_requirements(["PyYAML>=6.0"]) == [f"pyyaml=={version}"]


def test_the_closure_follows_dependencies_but_not_unasked_extras() -> None:
    pins = pinned_requirements(["pytest>=8"])
    names = {p.split("==")[0] for p in pins}
    assert {"pytest", "pluggy", "iniconfig", "packaging"} <= names
    assert not {"hypothesis", "xmlschema", "requests"} & names  # pytest's "dev" extra


def test_missing_and_conditional_requirements() -> None:
    pins = pinned_requirements(["not-installed-pkg>=1", "other-missing; python_version < '3'"])
    assert pins == ["not-installed-pkg>=1"]


def test_pruning_spares_the_newest_and_the_recent() -> None:
    from orchestrator.image.build import prunable

    listing = "\n".join([
        "wirelab-node:latest\t2026-11-21 23:09:08 +0000 UTC",
        "wirelab-node:aaaa\t2026-11-21 23:09:08 +0000 UTC",
        "wirelab-node:bbbb\t2026-11-21 23:04:18 +0000 UTC",
        "wirelab-node:cccc\t2026-11-21 22:30:00 +0000 UTC",  # beyond keep, 40 min old
        "wirelab-node:dddd\t2026-11-21 21:00:00 +0000 UTC",  # beyond keep, 2 h 10 min old
        "wirelab-node:eeee\tyesterday-ish",  # unparsable: treated as new
        "wirelab-node:<none>\t2026-11-20 10:00:00 +0000 UTC",
    ])  # fmt: skip
    now = 1795302600.0  # 2026-11-21 23:10:00 UTC
    assert prunable(listing, keep=2, min_age=3600, now=now) == ["wirelab-node:dddd"]
    assert prunable(listing, keep=2, min_age=0, now=now) == [
        "wirelab-node:cccc", "wirelab-node:dddd",
    ]  # fmt: skip
    assert prunable(listing, keep=5, min_age=0, now=now) == []
