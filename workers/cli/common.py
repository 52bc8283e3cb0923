"""What every ``mechbench`` command shares besides its own work: the exit codes, one error line (or, with
``--json``, one JSON object on stdout) for every way a command can fail, the innermost typed error of a
failed workflow, a refusal of the shared input boundary (:mod:`shared.boundary`) or of a model as bad input,
links to a workflow in the Web UI, and the hint for a server that cannot be reached.

Light imports: the Temporal SDK is imported where a function needs it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shared.boundary import BoundaryError
from shared.models import ErrorType

if TYPE_CHECKING:
    from shared.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_DESIGN_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

BAD_INPUT_ERRORS = frozenset(
    {
        ErrorType.INVALID_REQUEST,
        ErrorType.INVALID_FAMILY,
        ErrorType.INVALID_PART,
        ErrorType.INVALID_GEOMETRY,
        ErrorType.INFEASIBLE_PARAMETERS,
    }
)
"""Typed errors that mean the input cannot work, whoever runs it: exit 2."""

DEFAULT_TEMPORAL_PORT = 7233
"""The ``temporal`` CLI's default server port (``--address`` is needed for any other)."""


class CommandError(Exception):
    """How a command ends when it does not end well: the exit code, a type (an ``ErrorType`` value for typed
    errors), a one-line message and, optionally, more detail (shown with ``-v`` and in the JSON)."""

    def __init__(
        self,
        message: str,
        *,
        code: int = EXIT_FAILED,
        error_type: str = "Error",
        detail: str = "",
        workflow_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.error_type = error_type
        self.detail = detail
        self.workflow_id = workflow_id

    def line(self) -> str:
        return f"{self.error_type}: {self.message}"

    def as_json(self) -> str:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message, "exit_code": self.code}
        if self.detail:
            error["detail"] = self.detail
        if self.workflow_id:
            error["workflow_id"] = self.workflow_id
        return json.dumps({"error": error}, indent=2)


class BadInput(CommandError):
    """Bad input or settings, found before anything was started or written: exit 2."""

    def __init__(self, message: str, error_type: str = ErrorType.INVALID_REQUEST) -> None:
        super().__init__(message, code=EXIT_BAD_INPUT, error_type=str(error_type))


def validation_message(e: ValidationError) -> str:
    """A model's refusal in one line, each field named as a workflow's input check names it."""
    parts = []
    for item in e.errors():
        field = ".".join(str(x) for x in item["loc"]) or "input"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


def checked(check: Callable[..., Any], *args: Any) -> Any:
    """A check of the shared input boundary; its refusal is bad input (exit 2) with the same message and
    type the worker would give."""
    try:
        return check(*args)
    except BoundaryError as e:
        raise BadInput(str(e), e.error_type) from None


def one_line(message: str) -> tuple[str, str]:
    """A message's first line (its headline) and the rest (e.g. a script's output tail)."""
    text = message.strip()
    first, _, rest = text.partition("\n")
    return first.strip(), rest.strip()


def typed_cause(exc: BaseException) -> BaseException | None:
    """The innermost error a failed workflow carries: the deepest ``ApplicationError`` of a mechbench type,
    else the first ``ApplicationError``, else the deepest cause (a timeout, a cancellation ...)."""
    from temporalio.exceptions import ApplicationError

    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = getattr(cur, "cause", None) or cur.__cause__
    known = {str(t) for t in ErrorType}
    typed = [c for c in chain if isinstance(c, ApplicationError) and c.type in known]
    if typed:
        return typed[-1]
    apps = [c for c in chain if isinstance(c, ApplicationError)]
    if apps:
        return apps[0]
    return chain[-1] if len(chain) > 1 else None


def workflow_failure(
    e: BaseException, workflow_id: str | None, codes: dict[str, int] | None = None
) -> CommandError:
    """A failed workflow as a :class:`CommandError`: its innermost typed error, exit 2 for bad input (or
    what ``codes`` maps the type to), 1 for anything else."""
    from temporalio.exceptions import ApplicationError

    cause = typed_cause(e) or e
    if isinstance(cause, ApplicationError):
        error_type = cause.type or "ApplicationError"
        message = cause.message
    else:
        error_type = type(cause).__name__
        message = str(cause) or error_type
    headline, detail = one_line(message)
    if codes and error_type in codes:
        code = codes[error_type]
    else:
        code = EXIT_BAD_INPUT if error_type in BAD_INPUT_ERRORS else EXIT_FAILED
    return CommandError(headline, code=code, error_type=error_type, detail=detail, workflow_id=workflow_id)


def unreachable(settings: Settings, error: BaseException, embedded_flag: bool) -> CommandError:
    """No Temporal server at the configured address: one line saying what to do, not a transport dump."""
    from shared.temporal import unreachable as temporal_unreachable  # the SDK only where a client is made

    why = temporal_unreachable(error)
    reason = f" ({why})" if why else ""
    embedded = ", add --embedded to run one just for this command" if embedded_flag else ""
    return CommandError(
        f"cannot reach the Temporal server at {settings.temporal_address}{reason}: start one with "
        f"`mechbench dev`{embedded}, or point MECHBENCH_TEMPORAL_ADDRESS at yours",
        code=EXIT_FAILED,
        error_type="ServerUnreachable",
    )


def local_ui_url(settings: Settings) -> str | None:
    """The Web UI of the embedded dev server (``mechbench dev``) when settings point at it, else None (a
    remote cluster's UI address is not known here)."""
    host, _, port = settings.temporal_address.rpartition(":")
    local = {"localhost", "127.0.0.1", "::1", "[::1]", settings.dev_ip}
    if host in local and port == str(settings.dev_port):
        return f"http://{settings.dev_ip}:{settings.dev_ui_port}"
    return None


def workflow_url(ui_url: str | None, settings: Settings, workflow_id: str) -> str | None:
    if ui_url is None:
        return None
    return f"{ui_url}/namespaces/{settings.temporal_namespace}/workflows/{workflow_id}"


def temporal_cli_flags(address: str, namespace: str) -> str:
    """``--address``/``--namespace`` for a ``temporal`` command line, when they are not its defaults."""
    flags = ""
    host, _, port = address.rpartition(":")
    if port != str(DEFAULT_TEMPORAL_PORT) or host not in ("localhost", "127.0.0.1"):
        flags += f" --address {address}"
    if namespace != "default":
        flags += f" --namespace {namespace}"
    return flags


def check_html_target(option: str, target: Path) -> None:
    """``target`` can take a page: not a directory, in a directory that exists (else :class:`BadInput`)."""
    if target.is_dir():
        raise BadInput(f"{option}: {str(target)!r} is a directory; name the HTML file to write")
    if not target.absolute().parent.is_dir():
        raise BadInput(f"{option}: the directory of {str(target)!r} does not exist")


async def write_page_atomically(target: Path, page: str) -> Path:
    """Write ``page`` to ``target`` whole or not at all (a reader sees the old page or the new one, never half
    of one) and return its resolved path."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        await asyncio.to_thread(tmp.write_text, page, "utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target.resolve()
