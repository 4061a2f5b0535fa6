"""A line-based key-value store, written as ordinary asyncio code on wirelab's app API
(nodes/apps/api.py): it runs inside a lab node, on the node's own TCP/IP stack.

Protocol (one request per line, one reply per line; UTF-8, whitespace-separated):

    SET key value   -> OK
    GET key         -> VALUE value | NOTFOUND
    DEL key         -> DELETED | NOTFOUND
    KEYS            -> KEYS k1 k2 ...
    QUIT            -> BYE (and the server closes the connection)
    anything else   -> ERROR unknown command ...

Two apps (``topology/examples/kvstore.yaml`` starts them):

- ``kvstore:serve`` on a port (``--port 7000``): the server. Counters: ``connections``,
  ``requests``, ``errors_sent``.
- ``kvstore:load`` with ``args: {server: h2, port: 7000, requests: 200}``: a client that
  sets and reads back ``requests`` keys over one connection, checks every reply and
  finishes. Counters: ``ok``, ``bad``, ``rtt_us_max``; ``wirelab app list`` shows them.
"""

from __future__ import annotations

import asyncio

from nodes.apps.api import AppContext


async def serve(ctx: AppContext) -> None:
    """The server: one task per connection, the store shared by them."""
    store: dict[str, str] = {}

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ctx.count("connections")
        while line := await reader.readline():
            words = line.decode(errors="replace").split()
            if not words:
                continue
            ctx.count("requests")
            reply = answer(store, words)
            writer.write(reply.encode() + b"\n")
            await writer.drain()
            if reply == "BYE":
                break
        writer.close()

    def answer(store: dict[str, str], words: list[str]) -> str:
        cmd, args = words[0].upper(), words[1:]
        if cmd == "SET" and len(args) >= 2:
            store[args[0]] = " ".join(args[1:])
            return "OK"
        if cmd == "GET" and len(args) == 1:
            return f"VALUE {store[args[0]]}" if args[0] in store else "NOTFOUND"
        if cmd == "DEL" and len(args) == 1:
            return "DELETED" if store.pop(args[0], None) is not None else "NOTFOUND"
        if cmd == "KEYS" and not args:
            return " ".join(["KEYS", *sorted(store)])
        if cmd == "QUIT":
            return "BYE"
        ctx.count("errors_sent")
        return f"ERROR unknown command {' '.join(words)[:80]}"

    for name in ("connections", "requests", "errors_sent"):
        ctx.count(name, 0)
    server = await ctx.start_server(session)  # on the app's port
    ctx.log.info("kvstore serving on %s:%d", *server.address)
    await server.serve_forever()


async def load(ctx: AppContext) -> None:
    """The client: SET then GET ``requests`` keys, one round trip each, then QUIT."""
    server = ctx.args.get("server", "h2")
    port = int(ctx.args.get("port", "7000"))
    requests = int(ctx.args.get("requests", "100"))
    for name in ("ok", "bad"):
        ctx.count(name, 0)  # listed from the start (wirelab app list)
    reader, writer = await connect(ctx, server, port)
    worst = 0.0
    for i in range(requests):
        for request, expected in ((f"SET k{i} v{i}", "OK"), (f"GET k{i}", f"VALUE v{i}")):
            start = ctx.now()
            writer.write(request.encode() + b"\n")
            reply = (await reader.readline()).decode().strip()
            worst = max(worst, ctx.now() - start)
            ctx.count("ok" if reply == expected else "bad")
    writer.write(b"QUIT\n")
    await reader.readline()
    ctx.count("rtt_us_max", round(worst * 1e6))
    writer.close()
    await writer.wait_closed()


async def connect(
    ctx: AppContext, server: str, port: int, patience: float = 10.0
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect, retrying while the server or the path is not up yet (the nodes of a lab
    start their apps together at deploy: refused, unreachable or timed out, try again)."""
    deadline = ctx.now() + patience
    while True:
        try:
            return await ctx.open_connection(server, port, nodelay=True)
        except OSError:
            if ctx.now() >= deadline:
                raise
            ctx.count("connect_retries")
            await asyncio.sleep(0.2)
