"""Workflow input validation at the boundary.

Workflows take their input as a raw payload and validate it here, so input that does not match the model
(from `temporal workflow start --input`, or an old client) fails the workflow at once with
``InvalidRequest`` and a message naming each field, while any other decoding problem inside the workflow
(say, after an incompatible deploy) stays an ordinary workflow-task failure that a fixed deploy can resume.

The payload's JSON bytes are validated strictly (:func:`shared.models.parse_json`): ``"count": true``,
``"count": "1"``, ``"count": 1.0`` or ``"evidence": "no"`` are errors, not coerced. Every value a workflow
derives from its input (seeds, ids, counts) is bounded by the model too, so nothing after this check can fail
on input.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from shared.models import ErrorType, parse_json

M = TypeVar("M", bound=BaseModel)


JSON_ENCODING = b"json/plain"


def parse_input(raw: RawValue, model: type[M]) -> M:
    payload = raw.payload
    encoding = payload.metadata.get("encoding", b"")
    if encoding != JSON_ENCODING:
        got = "null" if encoding == b"binary/null" else f"a {encoding.decode(errors='replace')!r} payload"
        raise ApplicationError(
            f"invalid {model.__name__}: input: expected one JSON object, got {got}",
            type=ErrorType.INVALID_REQUEST,
            non_retryable=True,
        )
    try:
        return parse_json(model, payload.data)
    except ValidationError as e:
        fields = "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or 'input'}: {err['msg']}" for err in e.errors()
        )
        raise ApplicationError(
            f"invalid {model.__name__}: {fields}", type=ErrorType.INVALID_REQUEST, non_retryable=True
        ) from None
    except Exception as e:  # noqa: BLE001 - defensive: any other decoding error is bad input too
        raise ApplicationError(
            f"invalid {model.__name__}: {e}", type=ErrorType.INVALID_REQUEST, non_retryable=True
        ) from None


class OneInputInterceptor(Interceptor):
    """Every mechbench workflow takes exactly one input. Started with none or with several (``temporal workflow
    start`` without ``--input``, or with it twice), ``run`` would raise ``TypeError`` on every workflow task, a
    retry loop; this fails the workflow at once with ``InvalidRequest`` instead."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _OneInput


class _OneInput(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        if len(input.args) != 1:
            raise ApplicationError(
                f"invalid {workflow.info().workflow_type} input: expected one JSON object, got {len(input.args)}",
                type=ErrorType.INVALID_REQUEST,
                non_retryable=True,
            )
        return await super().execute_workflow(input)
