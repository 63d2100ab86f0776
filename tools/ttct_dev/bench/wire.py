"""A minimal HTTP/1.1 keep-alive client for the load generator's POSTs.

Why not httpx: the load generator shares the machine's 2 cores with what it measures, and httpx (with h11)
spends about a millisecond of CPU per request, as much as a service spends handling it. This client writes the
request in one go and reads a Content-Length response; it understands nothing else, which is all the services'
JSON answers need.
"""
from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit


class Response:
    __slots__ = ("status_code", "body")

    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code, self.body = status_code, body

    def json(self) -> dict:
        return json.loads(self.body) if self.body else {}


class WireError(Exception):
    pass


ANSWER_TIMEOUT = 60.0  # seconds


class Wire:
    """POST JSON to one server over up to `connections` kept-alive connections."""

    def __init__(self, base_url: str, headers: dict[str, str], connections: int = 64) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self._head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{self.host}:{self.port}", **headers,
                                                          "Content-Type": "application/json"}.items())
        self._idle: asyncio.LifoQueue = asyncio.LifoQueue()
        self._gate = asyncio.Semaphore(connections)

    async def post(self, path: str, body: dict) -> Response:
        payload = json.dumps(body, ensure_ascii=False).encode()
        request = (f"POST {path} HTTP/1.1\r\n{self._head}Content-Length: {len(payload)}\r\n\r\n").encode() + payload
        async with self._gate:
            for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more on a new one
                conn = self._idle.get_nowait() if not self._idle.empty() else None
                fresh = conn is None
                if fresh:
                    conn = await asyncio.open_connection(self.host, self.port)
                reader, writer = conn
                try:
                    writer.write(request)
                    # an answer that never comes is an error of that request, not a run that waits for ever
                    response, keep = await asyncio.wait_for(_read(reader), ANSWER_TIMEOUT)
                except (OSError, asyncio.IncompleteReadError, WireError, TimeoutError):
                    writer.close()
                    if fresh or attempt == 2:
                        raise
                    continue
                if keep:
                    self._idle.put_nowait(conn)
                else:
                    writer.close()
                return response
        raise WireError("unreachable")

    async def close(self) -> None:
        while not self._idle.empty():
            _, writer = self._idle.get_nowait()
            writer.close()


async def _read(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise WireError(f"not an HTTP/1.x answer: {lines[0]!r}")
    length, keep = None, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
        elif name == "transfer-encoding":
            raise WireError("chunked answers are not supported")
    body = await reader.readexactly(length) if length else b""
    return Response(int(parts[1]), body), keep
