"""Workflow input validation at the boundary.

Workflows take their input as a raw payload and validate it here, so input that does not match the model
(from `temporal workflow start --input`, or an old client) fails the workflow at once with
``InvalidRequest`` and a message naming each field, while any other decoding problem inside the workflow
(say, after an incompatible deploy) stays an ordinary workflow-task failure that a fixed deploy can resume.
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

from shared.models import ErrorType

M = TypeVar("M", bound=BaseModel)


def parse_input(raw: RawValue, model: type[M]) -> M:
    try:
        data = workflow.payload_converter().from_payload(raw.payload)
        return model.model_validate(data)
    except ValidationError as e:
        fields = "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or 'input'}: {err['msg']}" for err in e.errors()
        )
        raise ApplicationError(
            f"invalid {model.__name__}: {fields}", type=ErrorType.INVALID_REQUEST, non_retryable=True
        ) from None
    except Exception as e:  # noqa: BLE001 - not JSON at all
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
