"""The dispatchers as Runtime workers: one for webhooks, one for email (when SMTP is configured); started after
the pool, cancelled on shutdown."""
from __future__ import annotations

import asyncio

from ttct.operations.runtime import Runtime

from notification.adapters.mailer import Mailer
from notification.adapters.sender import WebhookSender, make_client
from notification.adapters.waker import Waker
from notification.service_layer import digests, endpoint_health, successions
from notification.service_layer.channels import EmailChannel, WebhookChannel
from notification.service_layer.dispatcher import Dispatcher, Limits
from notification.settings import NotificationSettings


async def dispatch(runtime: Runtime) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    waker = Waker(settings.database_url)
    limits = Limits(concurrency=settings.webhook_concurrency, per_endpoint=settings.webhook_max_in_flight_per_endpoint,
                    lease=settings.webhook_lease, poll_interval=settings.webhook_poll_interval,
                    shutdown_grace=settings.webhook_shutdown_grace)
    webhook_nudge = waker.event
    email_nudge = waker.subscribe()
    waker.start()
    try:
        async with make_client(settings.webhook_allow_private_targets, settings.webhook_timeout) as client:
            sender = WebhookSender(client, allow_private=settings.webhook_allow_private_targets,
                                   timeout=settings.webhook_timeout, clock=runtime.clock)
            webhooks = WebhookChannel(
                runtime.pool, sender, settings.retry_policy, per_endpoint=limits.per_endpoint, lease=limits.lease,
                on_failed=lambda item: endpoint_health.after_failure(
                    runtime.pool, item, settings.webhook_disable_after_failures, email=bool(settings.smtp_host)))
            # A TaskGroup, not gather: cancelled, it waits until every dispatcher has drained its in-flight sends,
            # whereas gather returns as soon as one child is cancelled and the client would close under the rest.
            async with asyncio.TaskGroup() as group:
                group.create_task(Dispatcher(webhooks, limits, webhook_nudge).run())
                group.create_task(digests.run(runtime.pool, settings.digest_interval, runtime.clock))
                group.create_task(successions.run(runtime.pool, settings.succession_check_interval, runtime.clock,
                                                  email=bool(settings.smtp_host)))
                if settings.smtp_host:
                    mailer = Mailer(settings.smtp_config, clock=runtime.clock)
                    email = EmailChannel(runtime.pool, mailer, settings.retry_policy, lease=limits.lease)
                    group.create_task(Dispatcher(email, limits, email_nudge).run())
    finally:
        await waker.stop()
