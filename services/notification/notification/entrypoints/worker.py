"""The webhook dispatcher as a Runtime worker: started after the pool, cancelled on shutdown."""
from __future__ import annotations

from ttct.runtime import Runtime

from notification.adapters.sender import WebhookSender, make_client
from notification.adapters.waker import Waker
from notification.service_layer.dispatcher import Dispatcher, Limits
from notification.settings import NotificationSettings


async def dispatch_webhooks(runtime: Runtime) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    waker = Waker(settings.database_url)
    waker.start()
    limits = Limits(concurrency=settings.webhook_concurrency, per_endpoint=settings.webhook_max_in_flight_per_endpoint,
                    lease=settings.webhook_lease, poll_interval=settings.webhook_poll_interval,
                    shutdown_grace=settings.webhook_shutdown_grace)
    try:
        async with make_client(settings.webhook_allow_private_targets, settings.webhook_timeout) as client:
            sender = WebhookSender(client, allow_private=settings.webhook_allow_private_targets,
                                   timeout=settings.webhook_timeout, clock=runtime.clock)
            await Dispatcher(runtime.pool, sender, settings.retry_policy, limits, waker.event).run()
    finally:
        await waker.stop()
