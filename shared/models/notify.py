"""Completion notifications: the webhook a request names, what the ``notify_webhook`` activity sends, and what
logs may show of a URL."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator

from shared import webhooks
from shared.models.common import Model


def _webhook_address(value: str) -> str:
    if webhooks.is_target_name(value):
        return value
    problem = webhooks.url_form_problem(value)
    if problem:
        raise ValueError(f"webhook: {problem} (or the name of a webhook target configured on the worker)")
    return value


def _request_webhook(value: str) -> str:
    _webhook_address(value)
    problem = webhooks.request_secret_problem(value)
    if problem and not _recorded_before_the_secret_rule():
        raise ValueError(f"webhook: {problem}")
    return value


def _recorded_before_the_secret_rule() -> bool:
    """A workflow replaying a history recorded before webhook URLs with a query string were refused, or a
    dataset run continued from one, keeps its URL: the history replays and the work ends as it began. A new
    workflow records the patch marker and refuses the URL (``InvalidRequest``)."""
    from temporalio import workflow

    if not workflow.in_workflow():
        return False
    return workflow.info().continued_run_id is not None or not workflow.patched(webhooks.PATCH_NO_SECRET_URLS)


WebhookUrl = Annotated[str, AfterValidator(_request_webhook)]
"""A request's receiver of its completion notification: the name of a webhook target configured on the
worker (``MECHBENCH_WEBHOOK_TARGETS``; its URL and token never enter the history), or an http(s) URL that
holds no secret (no user, password, query string or fragment). Rules: :mod:`shared.webhooks`."""

WebhookAddress = Annotated[str, AfterValidator(_webhook_address)]
"""A target name or a URL, as the ``notify_webhook`` activity receives it (a URL recorded before query
strings were refused still passes, so old histories replay and in-flight notifications are sent)."""


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path`` of a URL: what logs and errors may show (no query, no fragment)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class WebhookRequest(Model):
    """A completion notification to POST (the ``notify_webhook`` activity)."""

    url: WebhookAddress
    """The request's ``webhook``: a target name or a URL."""
    event: Literal["dataset.completed", "evaluation.completed", "analysis.completed"]
    workflow_id: str
    run_id: str
    result: dict[str, Any]


class WebhookDelivery(Model):
    url: str
    """``target <name>``, or the request's URL without a query string."""
    status: int
