"""Journals: write a lab's journal, replay one (orchestrator/client/replay.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.cli import common
from orchestrator.cli.common import LabArg, ServerOpt, TokenOpt
from orchestrator.cli.labs import BackendChoice
from orchestrator.client.replay import Replay, Step, read_journal
from orchestrator.client.replay import replay as run_replay

REPLAY_JSON = (
    "{lab, backend, replayed_lab, same, differ, steps: [{seq, t, op, request, original: "
    "{result|error}, replayed: {result|error}, same, differences: [{path, original, "
    "replayed}]}]}"
)
SHOWN_DIFFERENCES = 3


@common.command
def journal(
    lab: LabArg,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="write it to this file (default: stdout)"),
    ] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Print a lab's journal, JSON lines: a header (seed, topology, backend, clock), then
    each operation applied to the lab with its lab time and its result. `wirelab replay`
    runs it again."""
    with common.lab(server, token, lab) as handle:
        lines = handle.journal()
    if output is None:
        sys.stdout.write("".join(line + "\n" for line in lines))
    else:
        output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        common.note(f"{len(lines) - 1} operations of lab {lab} written to {output}")
    return common.EXIT_OK


@common.command
def replay(
    journal_file: Annotated[
        Path, typer.Argument(metavar="JOURNAL", help="a journal (wirelab journal LAB -o FILE)")
    ],
    backend: Annotated[
        BackendChoice | None,
        typer.Option(help="the backend to replay on (default: the journal's)", show_default=False),
    ] = None,
    name: Annotated[
        str,
        typer.Option(
            help="the replayed lab's name (default: the journal's, or LAB-replay when taken: "
            "addresses then differ, as subnets follow the lab's name)"
        ),
    ] = "",
    keep: Annotated[bool, typer.Option(help="keep the replayed lab deployed")] = False,
    as_json: Annotated[bool, common.json_opt(REPLAY_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Deploy a journal's topology with its seed, apply its operations at their lab times,
    and show each result beside the original. Exit 1 when a result differs."""
    header, entries = read_journal(journal_file)
    with common.client(server, token) as c:
        run = run_replay(
            c, header, entries,
            backend=backend.value if backend else "",
            name=name,
            keep=keep,
            on_deployed=None if as_json else lambda lab: common.note(
                f"replaying {len(entries)} operations of lab {header['lab']} on lab {lab.name} "
                f"({lab.info.backend})"
            ),
            on_step=None if as_json else _show_step,
        )  # fmt: skip
    if as_json:
        common.print_json(_replay_json(run))
    else:
        differ = len(run.differing)
        common.note(
            f"{len(run.steps)} operations replayed: {len(run.steps) - differ} same, {differ} differ"
        )
    return common.EXIT_FAILED if run.differing else common.EXIT_OK


def _show_step(step: Step) -> None:
    node = step.request.get("node", "")
    what = f"{step.op} {node}".rstrip()
    line = f"{step.seq:>4}  t={step.t:>8.3f}s  {what:<24} "
    if step.same:
        common.out().print(line + "same", soft_wrap=True, markup=False)
        return
    shown = ", ".join(
        f"{d.path}: {_short(d.original)} -> {_short(d.replayed)}"
        for d in step.differences[:SHOWN_DIFFERENCES]
    )
    more = len(step.differences) - SHOWN_DIFFERENCES
    tail = f" (+{more} more)" if more > 0 else ""
    common.out().print(f"{line}DIFFERS {shown}{tail}", soft_wrap=True, markup=False)


def _short(value: Any) -> str:
    text = "absent" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _replay_json(run: Replay) -> dict[str, Any]:
    return {
        "lab": run.header["lab"],
        "backend": run.header.get("backend", ""),
        "replayed_lab": run.lab,
        "same": len(run.steps) - len(run.differing),
        "differ": len(run.differing),
        "steps": [
            {
                "seq": s.seq,
                "t": s.t,
                "op": s.op,
                "request": s.request,
                "original": s.original,
                "replayed": s.replayed,
                "same": s.same,
                "differences": [
                    {"path": d.path, "original": d.original, "replayed": d.replayed}
                    for d in s.differences
                ],
            }
            for s in run.steps
        ],
    }
