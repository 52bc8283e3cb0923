"""Completion notifications from workflows: once the work is done and recorded, the result is POSTed to the
webhook the request named (the ``notify_webhook`` activity). A notification that cannot be delivered is a
warning in the workflow's log, never a failure of the work it reports."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from shared.models import WebhookDelivery, WebhookRequest, redact_url
    from shared.temporal import ACT_NOTIFY_WEBHOOK, WEBHOOK

PATCH_WEBHOOK = "webhook-notification"
"""Histories recorded before notifications existed have no webhook, so they never reach the patch; it marks
the new command for workers that will replay these histories."""


async def notify(url: str | None, event: str, result: BaseModel) -> None:
    if url is None or not workflow.patched(PATCH_WEBHOOK):
        return
    info = workflow.info()
    try:
        await workflow.execute_activity(
            ACT_NOTIFY_WEBHOOK,
            WebhookRequest(
                url=url,
                event=event,  # type: ignore[arg-type]
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                result=result.model_dump(mode="json"),
            ),
            result_type=WebhookDelivery,
            summary=f"notify {redact_url(url)}",
            **WEBHOOK.kwargs(),
        )
    except ActivityError as e:
        workflow.logger.warning("webhook %s not notified: %s", redact_url(url), e.cause or e)
