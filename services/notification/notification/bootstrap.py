"""The composition root: settings, runtime (consumers and the dispatcher worker) and routes wired together."""
from __future__ import annotations

from fastapi import FastAPI
from ttct import centres
from ttct.http.app import build_app
from ttct.operations.runtime import Runtime
from ttct.privacy.personal import KeyRing

from notification.adapters import committed_order, row_security
from notification.adapters.schema import SCHEMA
from notification.entrypoints import (
    http_endpoint_controls,
    http_endpoints,
    http_feed,
    http_log,
    http_record,
    http_reports,
    http_successions,
)
from notification.entrypoints.consumers import projections
from notification.entrypoints.worker import dispatch
from notification.service_layer.projections import Projections
from notification.settings import NotificationSettings


def create_app(settings: NotificationSettings) -> FastAPI:
    ring = KeyRing()
    handlers = projections(Projections(email=bool(settings.smtp_host), centre=settings.centre, keyring=ring))
    runtime = Runtime(settings, schema=[*SCHEMA, *committed_order.SCHEMA, *row_security.SCHEMA], projections=handlers, workers=[dispatch],
                      keyring=ring,
                      # what `ttct.admin rebuild` empties: never notices or deliveries, so a rebuild re-derives the
                      # same notices (same ids, ON CONFLICT DO NOTHING) and sends nothing again
                      projection_tables=("classes", "organisations", "organisation_learners", "attendance",
                                         "final_results", "organisation_successions", *centres.TABLES))
    return build_app(runtime, title="Notification",
                     routers=[http_endpoints.router, http_log.router, http_feed.router, http_reports.router,
                              http_record.router, http_endpoint_controls.router, http_successions.router],
                     description="Tells sending organisations how their learners did: enrolment, absence and result "
                                 "notices by signed webhooks (Standard Webhooks v1), email with a PDF report and "
                                 "a polling feed, retried, with a delivery log.")
