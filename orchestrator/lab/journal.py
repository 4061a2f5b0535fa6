"""A lab's journal: its seed, its topology, and each operation applied to it, in order,
with the lab time it began at and what it gave, so that the run can be replayed
(:mod:`orchestrator.client.replay`).

The journal is JSON lines (``wirelab journal LAB -o run.jsonl``): a header line, then one
line per operation::

    {"format": "wirelab-journal/1", "lab": "wan", "seed": 7, "backend": "sim",
     "clock": "wall", "source": "wan.yaml", "topology": "name: wan ...", "timeline": true,
     "attached": false, "dropped": 0}
    {"seq": 1, "t": 0.512, "op": "AddFault", "request": {...}, "result": {...}}
    {"seq": 2, "t": 1.03, "op": "Ping", "request": {...}, "error": {"code": "NOT_FOUND",
     "message": "node: lab wan has no node 'h9'"}}

``t`` is the lab time in seconds since the lab was deployed (``clock`` says whether that
is wall or virtual time; ``timeline``: whether the topology's fault timeline ran);
``request`` and ``result`` are the LabService's messages as
JSON data (field names of lab.proto, integers as numbers, enums as words). A lab attached
by a new server (``attached``) starts its journal then. Past :data:`MAX_ENTRIES` the
oldest entries are kept and later ones counted in ``dropped``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

FORMAT = "wirelab-journal/1"
MAX_ENTRIES = 100_000


@dataclass
class Journal:
    header: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(
        cls,
        *,
        lab: str,
        topology: str,
        source: str,
        seed: int,
        backend: str,
        clock: str = "wall",
        timeline: bool = True,
        attached: bool = False,
    ) -> Journal:
        return cls(
            {
                "format": FORMAT,
                "lab": lab,
                "seed": seed,
                "backend": backend,
                "clock": clock,
                "source": source,
                "topology": topology,
                "timeline": timeline,
                "attached": attached,
            }
        )

    def record(
        self,
        op: str,
        t: float,
        request: dict[str, Any],
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, str] | None = None,
    ) -> None:
        """One operation that began at lab time ``t``: its result or its error."""
        entry: dict[str, Any] = {"seq": 0, "t": round(t, 6), "op": op, "request": request}
        if error is not None:
            entry["error"] = error
        else:
            entry["result"] = result if result is not None else {}
        with self._lock:
            if len(self.entries) >= MAX_ENTRIES:
                self.dropped += 1
                return
            entry["seq"] = len(self.entries) + 1
            self.entries.append(entry)

    def lines(self) -> list[str]:
        """The journal as JSON lines, header first."""
        with self._lock:
            header = {**self.header, "dropped": self.dropped}
            entries = list(self.entries)
        return [json.dumps(header, sort_keys=False)] + [json.dumps(e) for e in entries]
