"""The four services' public HTTP APIs, called with the signed-in person's own bearer token: the console holds no
data and decides nothing, so row-level security, the access log, Idempotency-Key and If-Match apply to people as
to any integrating system."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Problem(Exception):
    """A refusal (RFC 9457) from a service: its status, code, details and, for invalid input, the fields."""

    status: int
    code: str
    detail: str
    detail_vi: str
    errors: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, response: httpx.Response) -> Problem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("code") or str(body.get("type") or response.status_code).rsplit(":", 1)[-1]
        return cls(response.status_code, str(code),
                   str(body.get("detail") or response.reason_phrase), str(body.get("detail_vi") or ""),
                   list(body.get("errors") or []))


class Api:
    """One person's view of the services: every call carries their token."""

    def __init__(self, client: httpx.AsyncClient, bases: dict[str, str], token: str) -> None:
        self._client, self._bases, self._auth = client, bases, {"Authorization": f"Bearer {token}"}

    async def _call(self, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self._auth, **kw.pop("headers", {})}
        if method != "GET":  # a form sent twice (a double click, a retried request) does one thing once
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        response = await self._client.request(method, f"{self._bases[service]}/v1{path}", headers=headers, **kw)
        if response.status_code >= 400:
            raise Problem.of(response)
        return response

    async def get(self, service: str, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return (await self._call("GET", service, path, params=query)).json()

    async def get_page(self, service: str, path: str, **params: Any) -> tuple[Any, str | None]:
        """One page of a list and the cursor of the next (X-Next-Cursor; None on the last page)."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        response = await self._call("GET", service, path, params=query)
        return response.json(), response.headers.get("X-Next-Cursor")

    async def get_every_page(self, service: str, path: str, **params: Any) -> list[Any]:
        """A whole list, page after page: for a register the console sorts itself (in Vietnamese order), which a
        first page alone would sort wrongly once the register outgrows it."""
        rows, cursor = await self.get_page(service, path, **params)
        while cursor:
            more, cursor = await self.get_page(service, path, **params, cursor=cursor)
            rows.extend(more)
        return rows

    async def download(self, service: str, path: str, **params: Any) -> httpx.Response:
        """A paper or a table (PDF, XLSX, CSV) as the service made it, to be handed on to the browser unchanged."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return await self._call("GET", service, path, params=query)

    async def upload(self, service: str, path: str, *, filename: str, content: bytes, fields: dict[str, str],
                     **params: Any) -> Any:
        """A file sent on as it came (multipart), with the form's other fields."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        data = {k: v for k, v in fields.items() if v}
        return (await self._call("POST", service, path, params=query, data=data,
                                 files={"file": (filename, content)})).json()

    async def get_tagged(self, service: str, path: str) -> tuple[Any, str | None]:
        """A resource and its ETag (its version: sent back as If-Match, a change made since is refused)."""
        response = await self._call("GET", service, path)
        return response.json(), response.headers.get("ETag")

    async def post(self, service: str, path: str, body: dict[str, Any], *, if_match: str | None = None,
                   idempotency_key: str | None = None) -> Any:
        return await self.send("POST", service, path, body, if_match=if_match, idempotency_key=idempotency_key)

    async def send(self, method: str, service: str, path: str, body: dict[str, Any], *, if_match: str | None = None,
                   idempotency_key: str | None = None) -> Any:
        headers = {k: v for k, v in {"If-Match": if_match, "Idempotency-Key": idempotency_key}.items() if v}
        return (await self._call(method, service, path, json=body, headers=headers)).json()

    async def download(self, service: str, path: str, **params: Any) -> httpx.Response:
        """A paper (PDF, XLSX, CSV) as the service made it, to hand on to the browser unchanged."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return await self._call("GET", service, path, params=query)


async def public_get(client: httpx.AsyncClient, bases: dict[str, str], service: str, path: str) -> Any:
    """A public route (no token): what anyone may read, e.g. whether a certificate is genuine."""
    response = await client.get(f"{bases[service]}/v1{path}")
    if response.status_code >= 400:
        raise Problem.of(response)
    return response.json()


async def public_post(client: httpx.AsyncClient, bases: dict[str, str], service: str, path: str, body: Any) -> Any:
    """A public route (no token) that takes something from anyone holding a code, e.g. a learner's own form."""
    response = await client.post(f"{bases[service]}/v1{path}", json=body)
    if response.status_code >= 400:
        raise Problem.of(response)
    return response.json()
