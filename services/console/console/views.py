"""Jinja2 rendering: templates with the catalogues' gettext, dd/mm/yyyy dates, and each page's common context;
and the services' files handed on to the browser."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from console import i18n, sessions

env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(),
                  extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
env.filters["day"] = i18n.day
env.filters["zip"] = zip


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    session = request.scope.get("session", {})
    p = session.get("person")
    person = sessions.of(p) if p else None
    page = env.get_template(template).render(
        request=request, lang=i18n.current.get(), person=person, csrf=session.get("csrf", ""), **context)
    return HTMLResponse(page, status_code=status)


def handed_on(file: httpx.Response) -> Response:
    """A service's paper or table given to the browser as the service made it: its type and file name kept."""
    headers = {k: v for k, v in file.headers.items() if k.lower() == "content-disposition"}
    return Response(file.content, media_type=file.headers.get("content-type"), headers=headers)
