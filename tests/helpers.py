"""Small helpers shared by the test layers."""

from __future__ import annotations

from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError


def application_error(failure: WorkflowFailureError) -> ApplicationError:
    """The innermost typed error behind a failed workflow (through the activity error)."""
    cause = failure.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    assert isinstance(cause, ApplicationError), failure
    return cause
