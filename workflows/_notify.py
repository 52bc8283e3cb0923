"""Completion notifications from workflows: once the work is done and recorded, the result is POSTed to the
webhook the request named (the ``notify_webhook`` activity). A notification that cannot be delivered is a
warning in the workflow's log, never a failure of the work it reports.

The request names a target configured on the worker (its URL and token never enter the history) or a URL that
holds no secret; the request models refuse a URL with a query string in new workflows (see
``shared.models.WebhookUrl`` and ``shared.webhooks.PATCH_NO_SECRET_URLS``)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from shared.models import WebhookDelivery, WebhookRequest, redact_url
    from shared.temporal import ACT_NOTIFY_WEBHOOK, WEBHOOK
    from shared.webhooks import is_target_name

PATCH_WEBHOOK = "webhook-notification"
"""Histories recorded before notifications existed have no webhook, so they never reach the patch; it marks
the new command for workers that will replay these histories."""


def shown(webhook: str) -> str:
    """How summaries and logs name a webhook: ``target <name>``, or the URL without its query string."""
    return f"target {webhook}" if is_target_name(webhook) else redact_url(webhook)


async def notify(webhook: str | None, event: str, result: BaseModel) -> None:
    if webhook is None or not workflow.patched(PATCH_WEBHOOK):
        return
    info = workflow.info()
    try:
        await workflow.execute_activity(
            ACT_NOTIFY_WEBHOOK,
            WebhookRequest(
                url=webhook,
                event=event,  # type: ignore[arg-type]
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                result=result.model_dump(mode="json"),
            ),
            result_type=WebhookDelivery,
            summary=f"notify {shown(webhook)}",
            **WEBHOOK.kwargs(),
        )
    except ActivityError as e:
        workflow.logger.warning("webhook %s not notified: %s", shown(webhook), e.cause or e)
