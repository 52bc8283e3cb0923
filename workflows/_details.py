"""What every run shows on the first tab of its page in the Web UI (its current details), set by the workflow
itself from its first workflow task on: a headline saying what this run is, then its stage.

A start from the ``mechbench`` CLI also sets a static summary (the one-line "Summary" of the list view); a raw
``temporal workflow start`` sets none unless ``--static-summary`` is given, and a workflow cannot set its own.
The headline is what makes such a run explain itself."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.models import PartSource


def show(headline: str, stage: str, detail: str = "") -> None:
    """Set the run's current details: the headline, then the stage in bold and its detail."""
    workflow.set_current_details(f"{headline}\n\n**{stage}** {detail}".rstrip())


def source_name(source: PartSource) -> str:
    """A part file's name for people: its original name, else the last segment of its path, else the stored
    object's short hash."""
    if source.filename:
        return source.filename
    if source.path:
        return source.path.rstrip("/").rsplit("/", 1)[-1]
    return f"stored part {source.artifact.sha256[:12]}" if source.artifact else "part"
