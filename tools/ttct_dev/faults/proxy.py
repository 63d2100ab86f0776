"""A TCP proxy in front of PostgreSQL that the harness and the tests can switch off (every connection dropped, new
ones refused: what a service sees while its database is down) and on again, on the same port."""
from __future__ import annotations

import asyncio
import contextlib
import socket
from urllib.parse import urlsplit, urlunsplit


class SwitchableProxy:
    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self._target_url, self._target = parts, (parts.hostname, parts.port or 5432)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """The target's URL, through the proxy."""
        p = self._target_url
        credentials = p.netloc.rsplit("@", 1)[0] + "@" if "@" in p.netloc else ""
        return urlunsplit((p.scheme, f"{credentials}127.0.0.1:{self.port}", p.path, p.query, p.fragment))

    async def up(self) -> SwitchableProxy:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the same port again at once
        sock.bind(("127.0.0.1", self.port))
        self._server = await asyncio.start_server(self._pipe, sock=sock)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def down_quietly(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self.down()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()
                self._writers.discard(dst)

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
