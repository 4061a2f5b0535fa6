"""A user app's life in a node (nodes/apps/userapp.py, api.py, registry.make_app): what its
factory may return, what fails StartApp, what a crash does, and that stopping it closes
everything it opened. One host with its asyncio bridge on a manual clock; the host's
own timer loop steps it, as the node's Runner does."""

from __future__ import annotations

import random
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from nodes.apps.ref import AppLoadError, AppStartError
from nodes.apps.registry import AppEnv, make_app
from nodes.apps.userapp import UserApp
from nodes.io.aio import AioBridge
from nodes.stack.host import Host


class Node:
    def __init__(self, code: Path) -> None:
        self.now = 0.0
        self.host = Host("h1", rng=random.Random(1))
        self.host.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
        self.bridge = AioBridge(self.host, lambda: self.now, {"h1": "10.0.0.1"})
        self.env = AppEnv(lambda: self.bridge, (str(code),), ("10.0.0.1",))

    def start(self, ref: str, port: int = 0, **args: str) -> UserApp:
        app = make_app(ref, port, host=self.host, now=self.now, env=self.env, args=args)
        assert isinstance(app, UserApp)
        return app

    def run(self, seconds: float) -> None:
        """Advance the clock, firing every deadline of the host (and so of the bridge)."""
        end = self.now + seconds
        for _ in range(10000):
            due = self.host.next_deadline()
            if due is None or due > end:
                break
            self.now = max(self.now, due)
            self.host.on_timer(now=self.now)
        self.now = end


def listening(node: Node) -> list[int]:
    return sorted(port for _, port in node.host.tcp.demux.listeners)


@pytest.fixture
def code(tmp_path: Path) -> Iterator[Path]:
    import sys

    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def node_with(code: Path, source: str) -> Node:
    (code / "app.py").write_text(textwrap.dedent(source))
    return Node(code)


def test_a_coroutine_runs_on_the_node_clock_with_its_context(code: Path) -> None:
    node = node_with(
        code,
        """\
        import asyncio

        async def main(ctx):
            ctx.count("started")
            ctx.count("port", ctx.port)
            ctx.count("args", len(ctx.args))
            assert ctx.node == "h1" and ctx.addresses == ("10.0.0.1",)
            assert ctx.app_id == "app:main:9000" and ctx.args["size"] == "3"
            await asyncio.sleep(2.0)
            ctx.count("slept_until", round(ctx.now()))
        """,
    )
    app = node.start("app:main", 9000, size="3")
    assert app.state == "running" and app.stats() == {"started": 1, "port": 9000, "args": 1,
                                                       "errors": 0}  # fmt: skip
    node.run(1.9)
    assert "slept_until" not in app.counters()
    node.run(0.2)
    assert app.counters()["slept_until"] == 2 and app.state == "finished"


def test_a_server_app_serves_until_stopped_and_stopping_closes_everything(code: Path) -> None:
    node = node_with(
        code,
        """\
        async def main(ctx):
            async def session(reader, writer):
                writer.write(await reader.readline())

            server = await ctx.start_server(session)
            ctx.call_later(5.0, ctx.count, "timer")
            await server.serve_forever()
        """,
    )
    app = node.start("app:main", 7000)
    assert listening(node) == [7000]
    node.run(1.0)
    assert app.state == "running" and app.stats()["accepted"] == 0
    app.close(now=node.now)
    node.run(10.0)
    assert app.state == "stopped" and "timer" not in app.counters()  # its timer went too
    assert listening(node) == []  # the port is free again
    node.start("app:main", 7000)  # and a new instance can take it


def test_an_unhandled_exception_fails_only_the_app(code: Path) -> None:
    node = node_with(
        code,
        """\
        import asyncio

        async def main(ctx):
            await ctx.start_server(lambda r, w: None)
            await asyncio.sleep(1.0)
            {}["missing"]

        def other(ctx):
            return None
        """,
    )
    app = node.start("app:main", 7000)
    calm = node.start("app:other")
    node.run(2.0)
    assert app.state == "failed" and app.errors == 1
    assert app.error.startswith("a task raised: KeyError: 'missing' (")
    assert app.error.endswith("app.py:6)")
    assert listening(node) == []  # its server was closed
    assert calm.state == "running" and node.bridge.unowned_errors == 0


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        ("def main(ctx):\n    raise ValueError('bad size')\n", AppStartError,
         "app:main raised at start: ValueError: bad size ("),
        ("def main(ctx):\n    return 42\n", AppStartError,
         "app:main returned a int: a factory returns a coroutine, an object with close(), "
         "or None"),
        ("async def main(ctx):\n    await ctx.start_server(lambda r, w: None, 80)\n",
         AppStartError, "app:main failed at start: a task raised: OSError: "),
        ("async def main(ctx):\n    await ctx.start_server(lambda r, w: None)\n",
         AppStartError, "app:main failed at start: a task raised: ValueError: app:main: give "
                        "a port (the app was started without one)"),
        ("x = (\n", AppLoadError, "importing app raised SyntaxError"),
    ],
)  # fmt: skip
def test_what_fails_at_start_fails_start_app(
    code: Path, source: str, error: type[Exception], message: str
) -> None:
    node = node_with(code, source)
    make_app("echo", 80, host=node.host, now=0.0)  # port 80 is taken
    with pytest.raises(error) as info:
        node.start("app:main")
    assert str(info.value).startswith(message)
    assert listening(node) == [80]  # nothing left behind


def test_an_object_with_close_is_closed_when_the_app_stops(code: Path) -> None:
    node = node_with(
        code,
        """\
        class Thing:
            def __init__(self, ctx):
                self.ctx = ctx
                ctx.count("made")

            def close(self):
                self.ctx.count("closed")

        make = Thing
        """,
    )
    app = node.start("app:make")
    assert app.state == "running"  # it serves until stopped
    app.close(now=0.0)
    assert app.counters() == {"made": 1, "closed": 1} and app.state == "stopped"


def test_counters_must_be_counts(code: Path) -> None:
    node = node_with(code, "def main(ctx):\n    ctx.count('x', -1)\n")
    with pytest.raises(AppStartError, match=r"n must be an int >= 0"):
        node.start("app:main")


def test_user_apps_need_the_nodes_loop_and_builtins_take_no_args(code: Path) -> None:
    node = node_with(code, "def main(ctx): ...\n")
    with pytest.raises(ValueError, match="needs the node's asyncio loop"):
        make_app("app:main", 0, host=node.host, now=0.0)
    with pytest.raises(ValueError, match="takes no args"):
        make_app("echo", 7, host=node.host, now=0.0, args={"x": "1"})
    with pytest.raises(ValueError, match="to=HOST:PORT"):
        make_app("forward", 8080, host=node.host, now=0.0, env=node.env, args={})
