"""A lab's event stream: lab events (faults, node actions) and every node agent's own
(link, TCP state, node faults), fanned out to watchers through bounded queues."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from orchestrator.domain.errors import LabError
from orchestrator.domain.events import EventKind, LabEvent
from orchestrator.wire.agent import AgentWire

QUEUE_LIMIT = 10_000
NODE_KINDS = (EventKind.LINK, EventKind.TCP, EventKind.NODE_FAULT)


@dataclass(eq=False)
class Subscription:
    nodes: frozenset[str]
    kinds: frozenset[EventKind]  # node event kinds wanted (empty: all); lab events always come
    queue: queue.Queue[LabEvent] = field(default_factory=lambda: queue.Queue(QUEUE_LIMIT))
    dropped: int = 0

    def wants(self, event: LabEvent) -> bool:
        if event.node and self.nodes and event.node not in self.nodes:
            return False
        if event.kind in NODE_KINDS and self.kinds:
            return event.kind in self.kinds
        return True


class EventHub:
    """Fan-out of one lab's events (bounded queues; what a slow watcher misses is counted)."""

    def __init__(self, lab: str) -> None:
        self.lab = lab
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self.closed = False

    def subscribe(self, nodes: Iterable[str] = (), kinds: Iterable[EventKind] = ()) -> Subscription:
        sub = Subscription(frozenset(nodes), frozenset(kinds))
        sub.queue.put(LabEvent(EventKind.SUBSCRIBED, time.time(), self.lab))
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, event: LabEvent) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if not sub.wants(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except queue.Full:
                sub.dropped += 1

    def close(self) -> None:
        self.closed = True
        self.publish(LabEvent(EventKind.DESTROYED, time.time(), self.lab))


class Pump:
    """Streams one node agent's events into the hub (reconnecting across restarts)."""

    def __init__(
        self,
        lab: str,
        node: str,
        agent: Callable[[], AgentWire],
        deliver: Callable[[LabEvent], None],
    ) -> None:
        self.lab, self.node, self._agent, self._deliver = lab, node, agent, deliver
        self._cancel: Callable[[], object] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"events-{node}", daemon=True)
        self._thread.start()

    def _started(self, cancel: Callable[[], object]) -> None:
        self._cancel = cancel
        if self._stop.is_set():
            cancel()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for event in self._agent().events(self.lab, on_start=self._started):
                    self._deliver(event)
            except LabError:
                pass
            self._stop.wait(0.2)

    def close(self) -> None:
        self._stop.set()
        cancel = self._cancel
        if cancel is not None:
            cancel()
        self._thread.join(2.0)
