"""Prometheus metrics of every service, defined once. Names carry the `ttct_` prefix."""
from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

HTTP_DURATION = Histogram("ttct_http_request_duration_seconds", "HTTP request duration",
                          ["method", "route", "status"])
PROCESSING = Histogram("ttct_event_batch_processing_seconds", "Time to apply one fetched batch of events",
                       ["consumer"])
EVENTS = Counter("ttct_events_received_total", "Events received by a consumer, by outcome",
                 ["consumer", "outcome"])
OUTBOX_LAG = Gauge("ttct_outbox_lag_seconds", "Age of the oldest event not yet published")
OUTBOX_PENDING = Gauge("ttct_outbox_pending_events", "Events stored but not yet published")
CONSUMER_LAG = Gauge("ttct_consumer_pending_messages", "Messages in the stream not yet delivered to the consumer",
                     ["stream", "consumer"])
DEAD_LETTERS = Gauge("ttct_dead_letters", "Events in the dead-letter table", ["consumer"])
WEBHOOK_ATTEMPTS = Counter("ttct_webhook_attempts_total", "Webhook delivery attempts by outcome", ["outcome"])


class RequestTimer:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and a stream per request)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            HTTP_DURATION.labels(scope["method"], getattr(route, "path", "unmatched"), str(status[0])).observe(
                time.perf_counter() - started)


def install(app: FastAPI) -> None:
    app.add_middleware(RequestTimer)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
