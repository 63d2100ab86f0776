"""The composition root: settings, runtime (consumers and the dispatcher worker) and routes wired together."""
from __future__ import annotations

from fastapi import FastAPI

from ttct.app import build_app
from ttct.runtime import Runtime

from notification.adapters.schema import SCHEMA
from notification.entrypoints import http_endpoints, http_log
from notification.entrypoints.consumers import PROJECTIONS
from notification.entrypoints.worker import dispatch_webhooks
from notification.settings import NotificationSettings


def create_app(settings: NotificationSettings) -> FastAPI:
    runtime = Runtime(settings, schema=SCHEMA, projections=PROJECTIONS, workers=[dispatch_webhooks])
    return build_app(runtime, title="Notification", routers=[http_endpoints.router, http_log.router],
                     description="Tells sending organisations how their learners did: result notices by signed "
                                 "webhooks (Standard Webhooks v1), retried, with a delivery log.")
