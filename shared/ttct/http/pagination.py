"""Cursor pagination for list endpoints, the same in every service.

A list answers at most `limit` items, in a stable order (its sort key ends with a unique column). When more
follow, the answer carries an opaque cursor, the URL-safe base64 of the last item's sort key as JSON, in two
headers: `X-Next-Cursor: <cursor>` and `Link: <same URL with cursor=…>; rel="next"`. The body stays a plain JSON
list, so clients written before pagination keep working (the default limit holds the largest roster).
The next page is the same request with `?cursor=`; a cursor survives inserts and deletes (keyset, not offset).

    page: Page = Depends(page_params)
    rows = await views.list_things(pool, after=page.after(date, UUID), limit=page.fetch)
    return page.answer(request, response, rows, key=lambda r: (r["starts_on"], r["class_id"]))

The adapter reads `WHERE (sort columns) > (after…)` (when after is not None) `ORDER BY sort columns LIMIT fetch`.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Query, Request, Response

from ttct.domain.errors import Invalid

DEFAULT_LIMIT = 5000  # = the largest class (capacity ≤ 5000): a client written before pagination sees whole lists
MAX_LIMIT = 5000
MAX_CURSOR = 512

T = TypeVar("T")

def _int(value: Any) -> int:
    if not isinstance(value, int) or not -(2**63) <= value < 2**63:  # what PostgreSQL's bigint holds
        raise ValueError("not a bigint")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError("not text")
    return value


_PARSERS: dict[type, Callable[[Any], Any]] = {
    date: date.fromisoformat, datetime: datetime.fromisoformat, time: time.fromisoformat, UUID: UUID,
    int: _int, str: _text, Decimal: Decimal,
}


def _invalid_cursor() -> Invalid:
    return Invalid("the cursor is not one this list gave out; start again without it",
                   "Con trỏ phân trang không hợp lệ; hãy tải lại từ đầu (bỏ tham số cursor)", code="invalid-cursor")


def encode_cursor(key: Sequence[Any]) -> str:
    """The opaque cursor of a sort key (dates, times, UUIDs, numbers, strings)."""
    raw = json.dumps([v.isoformat() if isinstance(v, date | time) else v if isinstance(v, int) else str(v)
                      for v in key], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> tuple[Any, ...]:
    """The sort key a cursor holds, each part parsed as `types` says; Invalid (422) for anything else."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not isinstance(raw, list) or len(raw) != len(types):
            raise ValueError("wrong shape")
        return tuple(_PARSERS[t](v) for t, v in zip(types, raw, strict=True))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error, ArithmeticError):
        raise _invalid_cursor() from None


@dataclass(frozen=True)
class Page:
    limit: int
    cursor: str | None

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than the page, to know whether another page follows."""
        return self.limit + 1

    def after(self, *types: type) -> tuple[Any, ...] | None:
        return decode_cursor(self.cursor, types) if self.cursor else None

    def answer(self, request: Request, response: Response, rows: Sequence[T],
               key: Callable[[T], Sequence[Any]]) -> list[T]:
        """The page's rows; when more follow, the next cursor in `X-Next-Cursor` and `Link: <…>; rel="next"`."""
        shown = list(rows[: self.limit])
        if len(rows) > self.limit and shown:
            cursor = encode_cursor(key(shown[-1]))
            url = request.url.include_query_params(cursor=cursor, limit=self.limit)
            response.headers["X-Next-Cursor"] = cursor
            response.headers["Link"] = f'<{url}>; rel="next"'
        return shown


def page_params(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="the most items to answer"),
    cursor: str | None = Query(None, min_length=1, max_length=MAX_CURSOR, pattern=r"^[A-Za-z0-9_-]+$",
                               description="the X-Next-Cursor of the previous page (opaque)"),
) -> Page:
    """A route dependency: `page: Page = Depends(page_params)`."""
    return Page(limit, cursor)


PAGE_HEADERS: dict[str, Any] = {
    "X-Next-Cursor": {"description": "present when more items follow: pass it as ?cursor= for the next page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'present when more items follow: <URL of the next page>; rel="next"',
             "schema": {"type": "string"}},
}


def paged(description: str = "one page of the list, in its stable order") -> dict[int | str, dict[str, Any]]:
    """`responses=` documenting a list route's pagination headers on its 200 answer."""
    return {200: {"description": description, "headers": PAGE_HEADERS}}
