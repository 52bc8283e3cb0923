"""Completion notifications: POST a finished workflow's result to the webhook its request named.

One ``httpx.AsyncClient`` per worker process (connection reuse, timeouts) is handed in by the worker. Temporal
retries what may pass (unreachable, timeouts, 5xx, 408, 429); a 4xx is final. The URL's query string can carry
a token, so only :func:`~shared.models.redact_url` forms are ever logged or put into errors, and httpx's own
request logging is silenced.
"""

from __future__ import annotations

import logging

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shared.logging import get_logger
from shared.models import ErrorType, WebhookDelivery, WebhookRequest, redact_url
from shared.temporal import ACT_NOTIFY_WEBHOOK

log = get_logger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRYABLE_STATUS = {408, 429}


def http_client() -> httpx.AsyncClient:
    """The worker's one outbound HTTP client. httpx logs every request with its full URL at INFO: not here."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return httpx.AsyncClient(
        timeout=TIMEOUT,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        headers={"User-Agent": "mechbench-webhook/1"},
    )


class NotifyActivities:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @activity.defn(name=ACT_NOTIFY_WEBHOOK)
    async def notify_webhook(self, req: WebhookRequest) -> WebhookDelivery:
        where = redact_url(req.url)
        body = {
            "event": req.event,
            "workflow_id": req.workflow_id,
            "run_id": req.run_id,
            "result": req.result,
        }
        # the same key on every attempt: a receiver can drop the duplicate of a POST whose answer was lost
        headers = {"Idempotency-Key": f"{req.workflow_id}/{req.run_id}/{req.event}"}
        try:
            response = await self._client.post(req.url, json=body, headers=headers)
        except httpx.HTTPError as e:  # its message can hold the URL: only the type is kept
            raise ApplicationError(
                f"webhook {where}: {type(e).__name__}", type=ErrorType.WEBHOOK_UNAVAILABLE
            ) from None
        status = response.status_code
        if status >= 500 or status in RETRYABLE_STATUS:
            raise ApplicationError(f"webhook {where} answered {status}", type=ErrorType.WEBHOOK_UNAVAILABLE)
        if status >= 400:
            raise ApplicationError(
                f"webhook {where} refused the notification with {status}",
                type=ErrorType.WEBHOOK_REJECTED,
                non_retryable=True,
            )
        log.info("webhook.delivered", url=where, status=status, notification=req.event)
        return WebhookDelivery(url=where, status=status)
