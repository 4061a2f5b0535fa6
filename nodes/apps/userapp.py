"""A user app in a node: its factory loaded (:mod:`nodes.apps.loader`), called with an
:class:`~nodes.apps.api.AppContext` inside the node's asyncio loop (:mod:`nodes.io.aio`),
and everything it opens tracked so that stopping it, or its crash, closes it all.

States: ``running`` until stopped (``stopped``), until an exception it does not handle
(``failed``: :attr:`UserApp.error` says what and where), or ``finished`` when its main
coroutine returned and it serves nothing any more.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from nodes.apps.loader import CODE_DIR, AppLoadError, AppStartError, describe, load_factory
from nodes.io.aio import OWNER, AioBridge, TcpServer

RUNNING, STOPPED, FAILED, FINISHED = "running", "stopped", "failed", "finished"
START_STEPS = 3  # asyncio iterations of a new app's main coroutine before StartApp answers


class UserApp:
    """One running user app (``kind`` is its ``module:factory``)."""

    def __init__(
        self,
        bridge: AioBridge,
        kind: str,
        port: int,
        args: Mapping[str, str],
        *,
        app_id: str,
        addresses: Sequence[str] = (),
        code_paths: Sequence[str] = (CODE_DIR,),
    ) -> None:
        self.bridge = bridge
        self.kind, self.port, self.app_id = kind, port, app_id
        self.args: Mapping[str, str] = dict(args)
        self.node = bridge.host.name
        self.addresses = tuple(addresses)
        self.code_paths = tuple(code_paths)
        self.log = logging.getLogger(f"wirelab.app.{app_id}")
        self.state = RUNNING
        self.error = ""
        self.errors = 0
        self._counters: dict[str, int] = {}
        self._owned: weakref.WeakSet[Any] = weakref.WeakSet()
        self._closer: Callable[[], object] | None = None
        self._main: asyncio.Task[Any] | None = None
        self._context = contextvars.copy_context()
        self._context.run(OWNER.set, self)

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self, *, now: float) -> None:
        """Load and call the factory; AppLoadError / AppStartError when that fails (nothing
        is left running then)."""
        factory = load_factory(self.kind, self.code_paths)
        from nodes.apps.api import AppContext

        ctx = AppContext(self)
        try:
            result = self.bridge.run_soon(lambda: factory(ctx), context=self._context)
        except Exception as exc:
            self._release()
            raise AppStartError(f"{self.kind} raised at start: {describe(exc)}") from None
        if asyncio.iscoroutine(result):
            self._main = self.spawn(result)
            self._main.add_done_callback(self._main_done)
            for _ in range(START_STEPS):  # what fails at once (a port in use) fails StartApp
                self.bridge.step()
            if self.state == FAILED:
                raise AppStartError(f"{self.kind} failed at start: {self.error}")
        elif result is not None:
            close = getattr(result, "close", None)
            if not callable(close):
                self._release()
                raise AppStartError(
                    f"{self.kind} returned a {type(result).__name__}: a factory returns a "
                    "coroutine, an object with close(), or None"
                )
            self._closer = close
        self.bridge.wake()

    def close(self, *, now: float) -> None:
        """Stop the app: its close(), then every server, connection, task and timer."""
        if self.state in (STOPPED,):
            return
        closer, self._closer = self._closer, None
        if closer is not None and self.state == RUNNING:
            try:
                self._context.run(closer)
            except Exception as exc:
                self._record(exc, "close() raised")
        if self.state == RUNNING:
            self.state = STOPPED
        self._release()

    def fail(self, exc: BaseException | None, message: str = "") -> None:
        """An exception the app did not handle: count it, report it, stop the app."""
        self._record(exc, message)
        if self.state == RUNNING:
            self.state = FAILED
            self._closer = None
            self._release(abort=True)  # its peers learn it did not end cleanly (RST)

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    # ---- what AppContext calls -----------------------------------------------------------
    def now(self) -> float:
        return self.bridge.now()

    def count(self, name: str, n: int = 1) -> None:
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"count({name!r}, {n!r}): n must be an int >= 0")
        self._counters[name] = self._counters.get(name, 0) + n

    def counters(self) -> dict[str, int]:
        return dict(self._counters)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = self.bridge.loop.create_task(coro, context=self._context)
        task.add_done_callback(self._task_done)
        self.bridge.wake()
        return task

    def call_at(self, when: float, fn: Callable[..., object], *args: Any) -> asyncio.TimerHandle:
        handle = self.bridge.loop.call_at(when, fn, *args, context=self._context)
        self._owned.add(handle)
        return handle

    def adopt(self, thing: Any) -> None:
        """A task, transport, server or timer this app opened (closed when it stops)."""
        if self.state != RUNNING:
            _close(thing)  # a callback of a stopped app opened it: it goes at once
            return
        self._owned.add(thing)

    # ---- stats ---------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        out = {k: v for k, v in self._counters.items() if v >= 0}
        out["errors"] = self.errors
        servers = [t for t in list(self._owned) if isinstance(t, TcpServer)]
        if servers:
            out["accepted"] = sum(s.accepted for s in servers)
        return out

    # ---- internals -----------------------------------------------------------------------
    def _record(self, exc: BaseException | None, message: str) -> None:
        self.errors += 1
        text = describe(exc) if exc is not None else message
        if message and exc is not None:
            text = f"{message}: {text}"
        self.error = text
        self.log.error("%s on %s: %s", self.app_id, self.node, text, exc_info=exc)

    def _release(self, *, abort: bool = False) -> None:
        for thing in list(self._owned):
            _close(thing, abort)
        self._owned.clear()
        if self._main is not None and not self._main.done():
            self._main.cancel()

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.fail(exc, "a task raised")

    def _main_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is not None or self.state != RUNNING:
            return
        live = [t for t in list(self._owned) if not _is_done(t)]
        if not live and self._closer is None:
            self.state = FINISHED


def _is_done(thing: Any) -> bool:
    if isinstance(thing, asyncio.Future):
        return thing.done()
    if isinstance(thing, asyncio.TimerHandle):
        return thing.cancelled()
    if isinstance(thing, TcpServer):
        return not thing.is_serving()
    closing = getattr(thing, "is_closing", None)
    return bool(closing()) if callable(closing) else False


def _close(thing: Any, abort: bool = False) -> None:
    if isinstance(thing, asyncio.Future | asyncio.TimerHandle):
        thing.cancel()
        return
    close = getattr(thing, "abort", None) if abort else None
    if not callable(close):
        close = getattr(thing, "close", None)
    if callable(close):
        close()


__all__ = ["AppLoadError", "AppStartError", "UserApp"]
