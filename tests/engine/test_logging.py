"""structlog JSON logging: Temporal context flattened into keys, one handler per process."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
import temporalio.activity
import temporalio.workflow
from temporalio.testing import ActivityEnvironment

from shared.logging import configure_logging, get_logger


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Configure logging into a buffer; restore the process-wide logging state afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_flags = (
        temporalio.workflow.logger.workflow_info_on_message,
        temporalio.activity.logger.activity_info_on_message,
    )
    buf = io.StringIO()
    configure_logging("DEBUG", json=True, stream=buf)
    try:
        yield buf
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.reset_defaults()
        (
            temporalio.workflow.logger.workflow_info_on_message,
            temporalio.activity.logger.activity_info_on_message,
        ) = saved_flags


def _lines(buf: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


FAKE_ACTIVITY = {
    "activity_id": "7",
    "activity_type": "simulate_scene",
    "attempt": 3,
    "namespace": "default",
    "task_queue": "mechbench-heavy",
    "workflow_id": "evaluate-abc",
    "workflow_run_id": "run-123",
    "workflow_type": "EvaluateDesign",
}


def test_stdlib_record_with_temporal_activity_extra_is_flattened(stream: io.StringIO) -> None:
    logging.getLogger("temporalio.activity").info(
        "heartbeat %d", 5, extra={"temporal_activity": FAKE_ACTIVITY, "unrelated": "dropped"}
    )
    [line] = _lines(stream)
    assert line["event"] == "heartbeat 5"
    assert line["level"] == "info"
    assert line["logger"] == "temporalio.activity"
    assert line["workflow_id"] == "evaluate-abc"
    assert line["run_id"] == "run-123"
    assert line["activity_type"] == "simulate_scene"
    assert line["attempt"] == 3
    assert line["activity_id"] == "7"
    assert line["task_queue"] == "mechbench-heavy"
    assert "temporal_activity" not in line
    assert "unrelated" not in line
    assert "T" in line["timestamp"]


def test_stdlib_record_with_temporal_workflow_extra_is_flattened(stream: io.StringIO) -> None:
    details = {
        "attempt": 1,
        "namespace": "default",
        "run_id": "run-9",
        "task_queue": "mechbench",
        "workflow_id": "dataset-x",
        "workflow_type": "GenerateDataset",
        "update_id": "u1",
        "update_name": "cancel_item",
    }
    logging.getLogger("temporalio.workflow").warning("stage done", extra={"temporal_workflow": details})
    [line] = _lines(stream)
    assert line["level"] == "warning"
    assert (line["workflow_id"], line["run_id"], line["attempt"]) == ("dataset-x", "run-9", 1)
    assert line["workflow_type"] == "GenerateDataset"
    assert line["update_name"] == "cancel_item"
    assert "activity_type" not in line
    assert "temporal_workflow" not in line


def test_plain_stdlib_record(stream: io.StringIO) -> None:
    logging.getLogger("some.lib").debug("hello %s", "world")
    [line] = _lines(stream)
    assert line["event"] == "hello world"
    assert line["level"] == "debug"
    assert "workflow_id" not in line


def test_structlog_logger_emits_json(stream: io.StringIO) -> None:
    log = get_logger("mechbench.test", component="store")
    log.info("stored", key="runs/x", size_bytes=12)
    [line] = _lines(stream)
    assert line["event"] == "stored"
    assert line["component"] == "store"
    assert line["key"] == "runs/x"
    assert line["size_bytes"] == 12
    assert line["logger"] == "mechbench.test"
    assert line["level"] == "info"


def test_exceptions_are_rendered(stream: io.StringIO) -> None:
    try:
        raise ValueError("bad geometry")
    except ValueError:
        get_logger("mechbench.test").exception("failed")
        logging.getLogger("other").exception("failed too")
    lines = _lines(stream)
    assert len(lines) == 2
    for line in lines:
        assert "ValueError: bad geometry" in line["exception"]
        assert line["level"] == "error"


def test_level_filters(stream: io.StringIO) -> None:
    configure_logging("WARNING", json=True, stream=stream)
    logging.getLogger("x").info("hidden")
    get_logger("x").info("hidden too")
    logging.getLogger("x").error("shown")
    assert [line["event"] for line in _lines(stream)] == ["shown"]


def test_reconfiguring_replaces_the_handler(stream: io.StringIO) -> None:
    second = io.StringIO()
    configure_logging("INFO", json=True, stream=second)
    configure_logging("INFO", json=True, stream=second)
    logging.getLogger("x").info("once")
    assert stream.getvalue() == ""
    assert [line["event"] for line in _lines(second)] == ["once"]


def test_console_mode(stream: io.StringIO) -> None:
    buf = io.StringIO()
    configure_logging("INFO", json=False, stream=buf)
    logging.getLogger("x").info("readable", extra={"temporal_activity": FAKE_ACTIVITY})
    out = buf.getvalue()
    assert "readable" in out
    assert "workflow_id=evaluate-abc" in out


def test_temporal_message_suffix_disabled(stream: io.StringIO) -> None:
    assert temporalio.workflow.logger.workflow_info_on_message is False
    assert temporalio.activity.logger.activity_info_on_message is False


async def test_real_activity_logger_and_structlog_inside_activity(stream: io.StringIO) -> None:
    """The SDK's own activity logger (run by ActivityEnvironment, no server) gets flattened keys."""

    @temporalio.activity.defn(name="probe_activity")
    async def probe() -> None:
        temporalio.activity.logger.info("from sdk logger")
        get_logger("mechbench.activity").info("from structlog")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, activity_type="probe_activity", workflow_id="eval-1", workflow_run_id="run-1", attempt=2
    )
    await env.run(probe)
    lines = [line for line in _lines(stream) if line["logger"] != "asyncio"]
    assert [line["event"] for line in lines] == ["from sdk logger", "from structlog"]
    for line in lines:
        assert line["activity_type"] == "probe_activity"
        assert line["workflow_id"] == "eval-1"
        assert line["run_id"] == "run-1"
        assert line["attempt"] == 2
    assert "(" not in lines[0]["event"]  # no info dict appended to the message
