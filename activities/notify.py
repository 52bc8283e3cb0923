"""Completion notifications: POST a finished workflow's result to the webhook its request named.

The request's ``webhook`` is the name of a target configured on the worker (``MECHBENCH_WEBHOOK_TARGETS``:
the URL and its token never enter the workflow's history) or a plain URL that holds no secret. One guarded
``httpx.AsyncClient`` per worker process (:mod:`activities.egress`) sends it, only to publicly routable
addresses unless ``MECHBENCH_WEBHOOK_ALLOW_NETWORKS`` says otherwise.

Temporal retries what may pass (unreachable, timeouts, 5xx, 408, 429); a 4xx is final, and so is a refused
destination or an unknown target (``WebhookRefused``: nothing was sent, so no status or body of the target
reaches the history). Errors, logs and results name a target by its name and a URL without its query string;
httpx's own request logging is silenced.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx
from pydantic import SecretStr
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import egress
from shared.logging import get_logger
from shared.models import ErrorType, WebhookDelivery, WebhookRequest, redact_url
from shared.settings import Settings
from shared.temporal import ACT_NOTIFY_WEBHOOK
from shared.webhooks import TARGETS_SETTING, is_target_name

log = get_logger(__name__)
RETRYABLE_STATUS = {408, 429}


def http_client(settings: Settings) -> httpx.AsyncClient:
    """The worker's one outbound HTTP client. httpx logs every request with its full URL at INFO: not here."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return egress.http_client(settings.webhook_allow_networks)


def _refused(message: str) -> ApplicationError:
    return ApplicationError(message, type=ErrorType.WEBHOOK_REFUSED, non_retryable=True)


class NotifyActivities:
    def __init__(self, client: httpx.AsyncClient, targets: Mapping[str, SecretStr] | None = None) -> None:
        self._client = client
        self._targets = dict(targets or {})

    def _destination(self, webhook: str) -> tuple[str, str]:
        """``(url to POST to, how errors and logs name it)``."""
        if not is_target_name(webhook):
            return webhook, redact_url(webhook)
        url = self._targets.get(webhook)
        if url is None:
            raise _refused(f"webhook target {webhook!r} is not configured on this worker ({TARGETS_SETTING})")
        return url.get_secret_value(), f"target {webhook}"

    @activity.defn(name=ACT_NOTIFY_WEBHOOK)
    async def notify_webhook(self, req: WebhookRequest) -> WebhookDelivery:
        url, where = self._destination(req.url)
        body = {
            "event": req.event,
            "workflow_id": req.workflow_id,
            "run_id": req.run_id,
            "result": req.result,
        }
        # the same key on every attempt: a receiver can drop the duplicate of a POST whose answer was lost
        headers = {"Idempotency-Key": f"{req.workflow_id}/{req.run_id}/{req.event}"}
        try:
            response = await self._client.post(url, json=body, headers=headers)
        except egress.DestinationRefused as e:
            log.warning("webhook.refused", url=where, address=e.address, reason=e.reason)
            raise _refused(f"webhook {where}: {e}") from None
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
