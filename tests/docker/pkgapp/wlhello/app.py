"""A tiny HTTP/1.0 server on the app API: every request gets ``hello from NODE``."""

from __future__ import annotations

import asyncio

from nodes.apps.api import AppContext


async def serve(ctx: AppContext) -> None:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request line and headers
        body = f"hello from {ctx.node}\n".encode()
        head = f"HTTP/1.0 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + body)
        ctx.count("served")
        await writer.drain()
        writer.close()

    server = await ctx.start_server(session)
    await server.serve_forever()
