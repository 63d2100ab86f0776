"""Registering sending organisations in the province's directory before enrolling their learners: enrolment
refuses a code the directory does not know, so every tool and test that enrols registers its organisations first.
"""
from __future__ import annotations

from collections.abc import Mapping

import httpx

PATH = "/v1/sending-organisations"


HEAD = {"name": "Lê Văn Bình", "role": "bí thư", "phone": "0912 345 678", "is_head": True}
"""A made-up head of the party committee (every organisation but a centre area names one), with a phone and no
email address: registering an organisation this way makes notification email nobody."""


async def register_organisations(client: httpx.AsyncClient, enrolment_url: str, organisations: Mapping[str, str],
                                 *, centre: str = "hau-loc", kind: str = "party-committee",
                                 contacts: list[dict] | None = None, headers: dict | None = None) -> None:
    """Register each organisation (code -> name) as a `kind` in `centre`'s area, unless it is registered already
    (a code registered earlier keeps its details). `client` carries a token with organisations:write (the
    centre's staff have it), or `headers` do."""
    for code, name in organisations.items():
        r = await client.post(f"{enrolment_url}{PATH}", json={
            "code": code, "name": name, "kind": kind, "centre": centre, "contacts": contacts or [HEAD]}, headers=headers)
        if r.status_code == 409 and r.json().get("type", "").endswith("organisation-exists"):
            continue
        if r.status_code != 201:
            raise RuntimeError(f"registering organisation {code} failed: {r.status_code} {r.text}")
