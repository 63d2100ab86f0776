"""Papers through the API: which format a request asks for (`?format=`, else the Accept header), the file as the
answer (with a download name), and the OpenAPI description of such a route.

A file that names learners is recorded in the access log of personal data like a JSON answer (the audit
middleware reads `request.state.audit_learner_ids`, since it cannot look inside a PDF).
"""
# no `from __future__ import annotations`: the format's Literal is built at run time, per route
import asyncio
import re
import unicodedata
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from ttct.domain.errors import DomainError
from ttct.http.conventions import problems
from ttct.papers import spreadsheets
from ttct.papers.model import Workbook


class Format(StrEnum):
    json = "json"
    pdf = "pdf"
    xlsx = "xlsx"
    csv = "csv"


MEDIA_TYPES = {Format.json: "application/json", Format.pdf: "application/pdf",
               Format.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               Format.csv: "text/csv"}
FILES = (Format.pdf, Format.xlsx, Format.csv)


class NotAcceptable(DomainError):
    status = 406
    code = "not-acceptable"


def _accepted(header: str) -> list[str]:
    """The media types of an Accept header, most wanted first (q=0 ones dropped)."""
    ranked = []
    for i, part in enumerate(header.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            weight = float(q)
        except ValueError:
            weight = 0.0
        if media and weight > 0:
            ranked.append((-weight, i, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def negotiate(offered: tuple[Format, ...], asked: str | None, accept: str | None) -> Format:
    if asked:
        return Format(asked)
    if not accept:
        return offered[0]
    for media in _accepted(accept):
        for fmt in offered:
            if media in (MEDIA_TYPES[fmt], "*/*") or (media.endswith("/*")
                                                     and MEDIA_TYPES[fmt].startswith(media[:-1])):
                return fmt
    names = ", ".join(MEDIA_TYPES[f] for f in offered)
    raise NotAcceptable(f"this resource is offered as {names}; ask with ?format= or an Accept header naming one",
                        f"Tài liệu này chỉ có dạng {names}; hãy chọn bằng ?format= hoặc tiêu đề Accept")


def format_choice(*offered: Format):
    """A route dependency: the format the request asks for, among `offered` (the first when it names none)."""
    values = tuple(f.value for f in offered)

    async def choose(request: Request,
                     format: Literal[values] | None = Query(  # type: ignore[valid-type]
                         None, description=f"one of {', '.join(values)}; without it the Accept header decides "
                                           f"(default {values[0]})")) -> Format:
        return negotiate(offered, format, request.headers.get("accept"))

    return Depends(choose)


def documented(offered: tuple[Format, ...], description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route answering files (and JSON, when offered: its schema comes from response_model)."""
    content = {MEDIA_TYPES[f]: {"schema": {"type": "string", "format": "binary"}} for f in offered
               if f is not Format.json}
    return {200: {"description": description, "content": content,
                  "headers": {"Content-Disposition": {"description": "attachment; the file's name",
                                                      "schema": {"type": "string"}}}},
            **{406: {**problems(406)[406], "description": "the Accept header names none of the offered formats"}}}


def slug(text: str) -> str:
    """ASCII for a file name: "Lớp Sơ cấp khóa 1" → "lop-so-cap-khoa-1"."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:80] or "tai-lieu"


async def respond(request: Request, fmt: Format, *, name: str, learner_ids: Iterable[UUID | str],
                  pdf: Callable[[], bytes] | None = None, workbook: Callable[[], Workbook] | None = None) -> Response:
    """The paper as `fmt` (drawn in a worker thread: a class of 500 takes a while), downloaded as `name`.<ext>;
    the learners it names go to the access log."""
    if fmt is Format.pdf and pdf is not None:
        content = await asyncio.to_thread(pdf)
    elif fmt is Format.xlsx and workbook is not None:
        content = await asyncio.to_thread(lambda: spreadsheets.xlsx(workbook()))
    elif fmt is Format.csv and workbook is not None:
        content = spreadsheets.csv_bytes(workbook().sheets[0])
    else:
        raise NotAcceptable(f"not offered as {fmt}", f"Tài liệu này không có dạng {fmt}")
    request.state.audit_learner_ids = {str(i) for i in learner_ids}
    filename = f"{slug(name)}.{fmt.value}"
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(f'{name}.{fmt.value}')}"
    media = MEDIA_TYPES[fmt] + ("; charset=utf-8" if fmt is Format.csv else "")
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})
