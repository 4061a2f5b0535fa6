"""Figures, the results document (bench/results.json), its schema check and the table.

A :class:`Figure` is one benchmark: samples of ours, optional samples of the Linux
kernel on the same topology in the same run, a target. ``met`` compares the median with
the target; ``ratio`` is ours/linux of the medians.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import median, ratio

SCHEMA_VERSION = 1
OPS = (">=", "<=")


@dataclass(frozen=True, slots=True)
class Target:
    op: str  # ">=" (higher is better) or "<=" (lower is better)
    value: float

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"target op must be one of {OPS}, got {self.op!r}")

    def met(self, value: float) -> bool:
        return value >= self.value if self.op == ">=" else value <= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:,g}"


@dataclass(slots=True)
class Figure:
    name: str
    unit: str
    description: str
    target: Target | None = None
    samples: list[float] = field(default_factory=list)
    linux: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    stat: str = "median"  # what `median` of the samples means here (e.g. "p99 per run")
    # the saturation guard: runs during which a node of ours was CPU-bound (its event loop
    # busy >= 90% or its timers late): the figure is then our CPU's limit
    cpu_bound: list[str] = field(default_factory=list)
    # why the figure was not measured on this machine (e.g. the swarm figures without root)
    skipped: str | None = None

    @property
    def median(self) -> float | None:
        return median(self.samples) if self.samples else None

    @property
    def linux_median(self) -> float | None:
        return median(self.linux) if self.linux else None

    @property
    def ratio(self) -> float | None:
        return ratio(self.median, self.linux_median)

    @property
    def met(self) -> bool | None:
        """None when there is no target; False when there is no sample."""
        if self.target is None:
            return None
        m = self.median
        return m is not None and self.target.met(m)

    def to_dict(self) -> dict[str, Any]:
        def summary(values: Sequence[float]) -> dict[str, Any] | None:
            if not values:
                return None
            return {
                "median": median(values),
                "min": min(values),
                "max": max(values),
                "samples": list(values),
            }

        ours = summary(self.samples) or {"median": None, "min": None, "max": None, "samples": []}
        return {
            "name": self.name,
            "unit": self.unit,
            "description": self.description,
            "stat": self.stat,
            **ours,
            "target": None
            if self.target is None
            else {"op": self.target.op, "value": self.target.value},
            "met": self.met,
            "linux": summary(self.linux),
            "ratio": self.ratio,
            "notes": list(self.notes),
            "cpu_bound": list(self.cpu_bound),
            "error": self.error,
            "skipped": self.skipped,
        }


# ---- the machine and the commit -------------------------------------------------------------


def _meminfo_bytes(path: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return []


def machine() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_bytes": _meminfo_bytes(),
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "hostname": platform.node(),
    }


def git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def commit_info(root: Path) -> dict[str, Any]:
    return {
        "commit": git("rev-parse", "HEAD", cwd=root),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no", cwd=root)),
    }


def document(
    figures: Sequence[Figure],
    *,
    root: Path,
    options: Mapping[str, Any],
    load_before: Sequence[float],
    started: float,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        **commit_info(root),
        "machine": machine(),
        "load": {"before": list(load_before), "after": loadavg()},
        "options": dict(options),
        "figures": [f.to_dict() for f in figures],
    }


# ---- schema ---------------------------------------------------------------------------------

_NUM = (int, float)


def validate(doc: Any) -> list[str]:
    """What is wrong with a results document (empty: it follows the schema)."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return ["the document is not an object"]
    for key, kind in (
        ("schema", int),
        ("timestamp", str),
        ("commit", str),
        ("dirty", bool),
        ("machine", dict),
        ("load", dict),
        ("options", dict),
        ("figures", list),
    ):
        if not isinstance(doc.get(key), kind):
            problems.append(f"{key}: missing or not a {kind.__name__}")
    if doc.get("schema") != SCHEMA_VERSION:
        problems.append(f"schema: {doc.get('schema')!r}, expected {SCHEMA_VERSION}")
    mach = doc.get("machine")
    if isinstance(mach, dict):
        for key in ("cores", "memory_bytes", "kernel", "python"):
            if key not in mach:
                problems.append(f"machine.{key}: missing")
    for i, fig in enumerate(doc.get("figures") or []):
        problems += [f"figures[{i}].{p}" for p in _validate_figure(fig)]
    return problems


def _validate_figure(fig: Any) -> list[str]:
    if not isinstance(fig, dict):
        return ["not an object"]
    out: list[str] = []
    for key in ("name", "unit", "description", "stat"):
        if not isinstance(fig.get(key), str) or (key != "description" and not fig.get(key)):
            out.append(f"{key}: missing or not a string")
    samples = fig.get("samples")
    if not isinstance(samples, list) or not all(isinstance(s, _NUM) for s in samples):
        out.append("samples: not a list of numbers")
        samples = []
    for key in ("median", "min", "max"):
        value = fig.get(key)
        if samples and not isinstance(value, _NUM):
            out.append(f"{key}: not a number")
        if not samples and value is not None:
            out.append(f"{key}: must be null without samples")
    lo, mid, hi = (fig.get(k) for k in ("min", "median", "max"))
    if (
        samples
        and isinstance(lo, _NUM)
        and isinstance(mid, _NUM)
        and isinstance(hi, _NUM)
        and not lo <= mid <= hi
    ):
        out.append("median: not within min..max")
    target = fig.get("target")
    if target is not None and (
        not isinstance(target, dict)
        or target.get("op") not in OPS
        or not isinstance(target.get("value"), _NUM)
    ):
        out.append("target: must be null or {op: >=|<=, value: number}")
    if "met" not in fig or fig["met"] not in (True, False, None):
        out.append("met: must be true, false or null")
    elif (target is None) != (fig["met"] is None):
        out.append("met: null exactly when there is no target")
    linux = fig.get("linux")
    if linux is not None and (
        not isinstance(linux, dict)
        or not all(isinstance(linux.get(k), _NUM) for k in ("median", "min", "max"))
    ):
        out.append("linux: must be null or {median, min, max, samples}")
    if fig.get("ratio") is not None and not isinstance(fig["ratio"], _NUM):
        out.append("ratio: not a number")
    if linux is None and fig.get("ratio") is not None:
        out.append("ratio: given without a linux counterpart")
    if not isinstance(fig.get("notes"), list):
        out.append("notes: not a list")
    if fig.get("error") is not None and not isinstance(fig["error"], str):
        out.append("error: not a string")
    if fig.get("skipped") is not None and not isinstance(fig["skipped"], str):
        out.append("skipped: not a string")
    return out


# ---- the table ------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    mag = abs(value)
    if mag == 0:
        return "0"
    if mag >= 1e5:
        return f"{value:,.0f}"
    if mag >= 100:
        return f"{value:.0f}"
    if mag >= 10:
        return f"{value:.1f}"
    if mag >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


HEADERS = ("figure", "unit", "median", "min", "max", "target", "met", "linux", "ours/linux")


def rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for f in figures:
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        if f.error is not None and not f.samples:
            met = "ERROR"
        elif f.skipped is not None and not f.samples:
            met = "skipped"
        out.append(
            (
                f.name,
                f.unit,
                _fmt(f.median),
                _fmt(min(f.samples) if f.samples else None),
                _fmt(max(f.samples) if f.samples else None),
                "-" if f.target is None else str(f.target),
                met,
                _fmt(f.linux_median),
                "-" if f.ratio is None else f"{f.ratio:.2f}",
            )
        )
    return out


def render_table(figures: Sequence[Figure], *, markdown: bool = False) -> str:
    table = [HEADERS, *rows(figures)]
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
        lines += ["", *cpu_bound_lines(figures)] if cpu_bound_lines(figures) else []
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]
    numeric = {2, 3, 4, 7, 8}

    def line(r: Sequence[str]) -> str:
        cells = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADERS), sep, *(line(r) for r in table[1:]), *cpu_bound_lines(figures)])


def cpu_bound_lines(figures: Sequence[Figure]) -> list[str]:
    """The saturation guard under the table: which figures were measured CPU-bound."""
    out = []
    for f in figures:
        if f.cpu_bound:
            out.append(f"CPU-bound: {f.name}: {'; '.join(f.cpu_bound)}")
    return out
