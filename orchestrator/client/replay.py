"""Replay a lab's journal (orchestrator/lab/journal.py): deploy its topology again with its
seed, apply each operation at the lab time it was first applied, and set each result
beside the original, marking those that differ.

    header, entries = read_journal("run.jsonl")
    run = replay(client, header, entries, backend="sim")
    for step in run.steps:
        print(step.seq, step.op, "same" if step.same else step.differences)

The replayed lab takes the journal's lab name when the server has no lab of that name,
else ``<lab>-replay`` (or the name given); the original's lab name is read as the new one
before results are compared. The planner derives a lab's subnets from its name, so under
another name the addresses in results differ too. Wall-clock figures (RTTs,
durations, goodput) differ from run to run on the docker and sim backends: a replay shows
how much.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.domain.errors import InvalidArgument, LabError
from orchestrator.lab.journal import FORMAT

if TYPE_CHECKING:
    from orchestrator.client.connect import LabClient
    from orchestrator.client.lab import Lab

CALL_TIMEOUT = 900.0  # one replayed operation (a transfer bounds itself)
MAX_DIFFERENCES = 50  # per step


@dataclass(frozen=True, slots=True)
class Difference:
    path: str  # "result.received", "result.hops[2].address"
    original: Any
    replayed: Any


@dataclass(frozen=True, slots=True)
class Step:
    seq: int
    t: float
    op: str
    request: dict[str, Any]
    original: dict[str, Any]  # {"result": ...} or {"error": ...}
    replayed: dict[str, Any]
    differences: tuple[Difference, ...] = ()

    @property
    def same(self) -> bool:
        return not self.differences


@dataclass
class Replay:
    lab: str  # the replayed lab's name
    header: dict[str, Any]
    steps: list[Step] = field(default_factory=list)

    @property
    def differing(self) -> list[Step]:
        return [s for s in self.steps if not s.same]


def read_journal(source: str | Path | Iterable[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, entries) of a journal file (or its lines); InvalidArgument naming the line
    that is not a journal's."""
    name = str(source) if isinstance(source, str | Path) else "<journal>"
    if isinstance(source, str | Path):
        try:
            lines: Iterable[str] = Path(source).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InvalidArgument(f"cannot read {name}: {exc.strerror}", "journal") from None
    else:
        lines = source

    def bad(number: int, what: str) -> InvalidArgument:
        return InvalidArgument(f"{name} line {number}: {what}", "journal")

    header: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad(number, f"not JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise bad(number, "not a JSON object")
        if header is None:
            if item.get("format") != FORMAT:
                got = str(item.get("format"))[:40]
                raise bad(number, f"not a wirelab journal (format {FORMAT} expected, got {got!r})")
            missing = [k for k in ("lab", "topology", "seed") if k not in item]
            if missing:
                raise bad(number, f"the header has no {', '.join(missing)}")
            header = item
            continue
        missing = [k for k in ("seq", "t", "op", "request") if k not in item]
        if missing or not ("result" in item or "error" in item):
            raise bad(number, f"an entry without {', '.join(missing) or 'result or error'}")
        if not isinstance(item["t"], int | float) or not isinstance(item["request"], dict):
            raise bad(number, "t must be a number and request an object")
        entries.append(item)
    if header is None:
        raise InvalidArgument(f"{name} is empty: no journal header", "journal")
    return header, entries


def replay(
    client: LabClient,
    header: dict[str, Any],
    entries: list[dict[str, Any]],
    *,
    backend: str = "",
    name: str = "",
    keep: bool = False,
    on_step: Callable[[Step], None] | None = None,
    on_deployed: Callable[[Lab], None] | None = None,
) -> Replay:
    """Deploy the journal's topology (``backend``: the journal's own by default) and apply
    its operations at their lab times; destroys the replayed lab unless ``keep``."""
    original_lab = str(header["lab"])
    new_name = name or _free_name(client, original_lab)
    lab = client.deploy(
        yaml=str(header["topology"]),
        name=new_name,
        backend=backend or str(header.get("backend", "")),
        seed=int(header["seed"]),
        skip_timeline=not header.get("timeline", True),
        replace=True,
    )
    if on_deployed is not None:
        on_deployed(lab)
    run = Replay(lab.name, header)
    rename = _renamer(original_lab, lab.name)
    try:
        for entry in entries:
            _wait_until(lab, float(entry["t"]))
            request = {**entry["request"], "lab": lab.name}
            try:
                replayed: dict[str, Any] = {
                    "result": lab.client.wire.call_json(entry["op"], request, CALL_TIMEOUT)
                }
            except LabError as exc:
                replayed = {"error": exc.as_json()}
            original = rename({k: entry[k] for k in ("result", "error") if k in entry})
            step = Step(
                int(entry["seq"]), float(entry["t"]), str(entry["op"]), entry["request"],
                original, replayed, tuple(differences(original, replayed)),
            )  # fmt: skip
            run.steps.append(step)
            if on_step is not None:
                on_step(step)
    finally:
        if not keep:
            client.destroy(lab.name)
    return run


def _free_name(client: LabClient, lab: str) -> str:
    """The journal's own lab name when the server has no such lab (the planner derives a
    lab's subnets from its name, so only the same name gives the same addresses), else
    ``<lab>-replay``."""
    taken = {s.name for s in client.labs()}
    return lab if lab not in taken else f"{lab}-replay"


def _wait_until(lab: Lab, t: float) -> None:
    """Let the replayed lab reach lab time ``t``: virtual time passes at once, real time
    is slept (by the server: ``Wait``)."""
    now = lab.wait(0)
    if t > now:
        lab.wait(t - now)


def _renamer(old: str, new: str) -> Callable[[Any], Any]:
    pattern = re.compile(rf"(?<![\w.-]){re.escape(old)}(?![\w-])")

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(new, value)
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    return rename


def differences(original: Any, replayed: Any, path: str = "") -> list[Difference]:
    """Where two JSON values differ (at most MAX_DIFFERENCES), by path."""
    out: list[Difference] = []
    _diff(original, replayed, path, out)
    return out


def _diff(a: Any, b: Any, path: str, out: list[Difference]) -> None:
    if len(out) >= MAX_DIFFERENCES:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=lambda k: (k not in a, str(k))):
            sub = f"{path}.{key}" if path else str(key)
            _diff(a.get(key), b.get(key), sub, out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]", out)
        return
    if a != b:
        out.append(Difference(path, a, b))
