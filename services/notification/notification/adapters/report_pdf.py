"""The class result report attached to its email, as a PDF made from the notice's payload alone (so a retried
email carries the same report): the shared paper of `ttct.papers.reports`, the centre's heading from the
settings (CENTRES), dated the day the results were finalised."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ttct.papers import labels, pdf, reports
from ttct.papers.settings import CentreProfile


def render_report(body: dict[str, Any], font_file: str | None = None,
                  centres: Mapping[str, CentreProfile] | None = None) -> bytes:
    d = body["data"]
    centre = (centres or {}).get(d["centre"]) or CentreProfile(name=d["centre_name"])
    on = labels.local_day(datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")))
    reported = reports.ReportedClass(d["class_title"], d.get("programme_type"))
    return pdf.render([reports.paper(centre, on, reported, d["sending_organisation"], d["learners"],
                                     d.get("dispatch_decisions") or ())], font_file)
