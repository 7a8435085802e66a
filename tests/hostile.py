"""Hostile SMTP servers for tests (issue 22): asyncio on a free port of 127.0.0.1, in
a thread. Each misbehaves in one way, at the greeting or after a message's data:

    endless   an endless multi-line reply ("220-..." lines, as fast as it can)
    trickle   a reply one byte at a time, never finished
    silent    accepts the connection and says nothing

With `after_data=True` the server speaks plain SMTP until the final "." of the
first message and misbehaves only in its reply to it; every message body it read
is kept in `bodies`.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import suppress

MODES = ("endless", "trickle", "silent")


class HostileServer:
    def __init__(self, mode: str, *, after_data: bool = False) -> None:
        assert mode in MODES
        self.mode, self.after_data = mode, after_data
        self.connections = 0
        self.bodies: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"smtp+plain://127.0.0.1:{self.port}"

    async def _misbehave(self, writer: asyncio.StreamWriter, code: bytes) -> None:
        if self.mode == "endless":
            line = code + b"-" + b"x" * 998 + b"\r\n"
            while True:
                writer.write(line * 64)
                await writer.drain()
        elif self.mode == "trickle":
            writer.write(code + b" ")
            while True:
                writer.write(b"z")
                await writer.drain()
                await asyncio.sleep(0.2)
        else:
            await asyncio.sleep(3600)

    async def _smtp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Plain SMTP up to the first message's final "."; then the misbehaviour."""
        writer.write(b"220 hostile.test ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-hostile.test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                body = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.bodies.append(body)
                await self._misbehave(writer, b"250")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with suppress(ConnectionError, asyncio.CancelledError):
            if self.after_data:
                await self._smtp(reader, writer)
            else:
                await self._misbehave(writer, b"220")
        writer.close()

    def start(self) -> HostileServer:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), self.loop
        )
        self.server = future.result(10)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in asyncio.all_tasks(self.loop):
            self.loop.call_soon_threadsafe(task.cancel)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
