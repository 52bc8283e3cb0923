"""Workflow input validation at the boundary.

Workflows take their input as a raw payload and validate it here, so input that does not match the model
(from `temporal workflow start --input`, or an old client) fails the workflow at once with
``InvalidRequest`` and a message naming each field, while any other decoding problem inside the workflow
(say, after an incompatible deploy) stays an ordinary workflow-task failure that a fixed deploy can resume.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

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
