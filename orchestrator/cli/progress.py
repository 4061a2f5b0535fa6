"""Progress on stderr: deploy steps as rich progress bars, the node image build's steps,
and a spinner while something long runs. On a terminal they redraw in place; otherwise
(a file, a pipe, CI) or with NO_COLOR (no escape codes at all) they print one plain line
per finished step, or nothing for a spinner."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from orchestrator.cli.common import no_color
from orchestrator.domain.lab import DeployProgress
from orchestrator.image.engine import Progress as ImageProgressBase


def animated(console: Console) -> bool:
    """Whether to redraw in place (cursor movements are escape codes too)."""
    return console.is_terminal and not no_color()


class DeployView:
    """A deploy's progress events (``LabClient.deploy(progress=view)``): one bar per step.
    The ``backend`` step's line (which backend, and why) is always printed."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = animated(console)
        self._bars: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._printed: set[str] = set()

    def __call__(self, event: DeployProgress) -> None:
        if event.step in ("backend", "existing"):
            self._line(f"{event.step}: {event.message}")
            return
        if event.total == 0:
            return  # nothing to do in this step (no linux nodes, say)
        if self.live:
            self._bar(event)
        elif event.done >= event.total and event.step not in self._printed:
            self._printed.add(event.step)
            self._line(f"{event.step:<10} {event.done}/{event.total} {event.message}".rstrip())

    def _line(self, text: str) -> None:
        if self._bars is not None:
            self._bars.console.print(text, soft_wrap=True)
        else:
            self.console.print(text, soft_wrap=True)

    def _bar(self, event: DeployProgress) -> None:
        if self._bars is None:
            self._bars = Progress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description:<10}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[what]}", markup=False),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._bars.start()
        total = event.total
        done = min(event.done, total)
        what = "" if done >= total else event.node or event.message
        task = self._tasks.get(event.step)
        if task is None:
            task = self._bars.add_task(event.step, total=total, what=what)
            self._tasks[event.step] = task
        self._bars.update(task, completed=done, total=total, what=what)

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def __enter__(self) -> DeployView:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ImageProgress(ImageProgressBase):
    """The node image build's steps: a spinner naming the running step on a terminal, and
    a line per message (``[wirelab] ...``) either way."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        super().__init__(quiet=quiet)
        self.console = console
        self._status: contextlib.AbstractContextManager[object] | None = None

    def info(self, message: str) -> None:
        if self.quiet:
            return
        self.console.print(f"[wirelab] {message}", soft_wrap=True)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.quiet or not animated(self.console):
            with super().step(name):
                yield
            return
        with self.console.status(f"{name} ...", spinner="dots"), super().step(name):
            yield


@contextlib.contextmanager
def spinner(console: Console, text: str) -> Iterator[None]:
    """A spinner with ``text`` while the block runs (terminal only; gone afterwards)."""
    if not animated(console):
        yield
        return
    with console.status(text, spinner="dots"):
        yield
