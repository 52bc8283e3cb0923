"""Structured logging: structlog JSON lines (or console output), configured once per process.

Both structlog loggers (:func:`get_logger`) and standard-library loggers (including the Temporal SDK's
``workflow.logger`` and ``activity.logger``) go through one root handler rendered by
:class:`structlog.stdlib.ProcessorFormatter`. Records from the Temporal loggers carry a
``temporal_workflow`` or ``temporal_activity`` extra dict; it is flattened into top-level keys
(``workflow_id``, ``run_id``, ``activity_type``, ``attempt``, ...). structlog calls made inside a running
activity get the same keys from the activity context.

Imports stay light: ``temporalio`` is only imported inside :func:`configure_logging`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

TEMPORAL_EXTRAS = ("temporal_workflow", "temporal_activity")

_FLAT_KEYS: Mapping[str, str] = {
    "workflow_id": "workflow_id",
    "run_id": "run_id",
    "workflow_run_id": "run_id",  # the activity context names it so
    "workflow_type": "workflow_type",
    "activity_id": "activity_id",
    "activity_type": "activity_type",
    "attempt": "attempt",
    "namespace": "namespace",
    "task_queue": "task_queue",
    "update_id": "update_id",
    "update_name": "update_name",
}
"""Temporal context keys (as the SDK names them) and the flat log keys they become."""


class _MechbenchHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the root handler this module installed, so reconfiguring replaces it."""


def _flatten(event_dict: MutableMapping[str, Any], details: Mapping[str, Any]) -> None:
    for source, target in _FLAT_KEYS.items():
        if source in details and details[source] is not None:
            event_dict.setdefault(target, details[source])


def flatten_temporal_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Move the Temporal SDK's ``temporal_activity``/``temporal_workflow`` extras into top-level keys."""
    for extra in TEMPORAL_EXTRAS:
        details = event_dict.pop(extra, None)
        if isinstance(details, Mapping):
            _flatten(event_dict, details)
    return event_dict


def add_activity_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """For structlog calls made inside a running activity: add the same keys the SDK logger adds."""
    activity = sys.modules.get("temporalio.activity")
    if activity is not None and activity.in_activity():
        _flatten(event_dict, activity.info()._logger_details())
    return event_dict


def configure_logging(level: str = "INFO", json: bool = True, *, stream: TextIO | None = None) -> None:
    """Route all logging through one structlog-rendered root handler.

    Calling it again replaces the handler installed before (never stacks handlers); handlers that
    something else installed on the root logger (pytest's capture, for instance) are left alone.
    """
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    foreign_pre_chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        timestamper,
        structlog.stdlib.ExtraAdder(allow=TEMPORAL_EXTRAS),
        flatten_temporal_context,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(default=str)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json:
        final.append(structlog.processors.format_exc_info)  # ConsoleRenderer formats exceptions itself
    final.append(renderer)
    formatter = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=foreign_pre_chain, processors=final)

    handler = _MechbenchHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _MechbenchHandler)]:
        root.removeHandler(old)
        old.close()  # flushes; a StreamHandler never closes its stream
    root.addHandler(handler)
    root.setLevel(level.upper())

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.PositionalArgumentsFormatter(),
            timestamper,
            add_activity_context,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

    # The context travels as keys; do not also append it to every message.
    import temporalio.activity
    import temporalio.workflow

    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False


def get_logger(name: str | None = None, **initial_values: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger bound to the standard-library logger ``name``."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial_values)
    return logger
