"""The registry of heavy jobs: one entry per job that runs in a supervised child of the fork server.

An entry names the job, its activity type, its request and result models, its engine function and where and
how its activity runs. Everything else is derived from it: the job map of :mod:`runtime.jobs` (which the fork
server warms), the activity definitions of :mod:`activities.heavy` (which the heavy worker registers), the
``ACT_*`` names of :mod:`shared.temporal` and the options of the workflows' calls
(:func:`shared.temporal.heavy_options`). Adding a heavy job is one entry here, its engine function and its
call in a workflow.

Light imports only: workflow modules import this inside the sandbox, and the fork server reads it before it
imports any engine. The engine is named by a dotted path for that reason, and the profile by its name in
:mod:`shared.temporal` (which imports the Temporal SDK, which the fork server does without).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.models import (
    BuildDesignRequest,
    BuildRequest,
    BuildResult,
    BuiltDesign,
    Evidence,
    EvidenceRequest,
    FactsRequest,
    FactsResult,
    Model,
    RandomProofReport,
    RandomProofRequest,
    RobustProofReport,
    RobustProofRequest,
    SimulateRequest,
    SimulationReport,
    StagedPart,
)


@dataclass(frozen=True)
class HeavyJobSpec:
    """One heavy job. ``job`` is what the supervisor sends the fork server; ``activity`` is the Temporal
    activity type (stable: histories, the CLI and the fault suite name it), empty for a job no workflow
    runs."""

    job: str
    request: type[Model]
    result: type[Model]
    engine: str
    """``module:function`` of the engine function, ``fn(request, progress, resume) -> result``."""
    activity: str = ""
    doc: str = ""
    """What the activity does (its docstring)."""
    profile: Literal["HEAVY"] = "HEAVY"
    """Its timeout and retry profile in :mod:`shared.temporal`; the activity counts the job's attempt budget.
    Every heavy job runs on the heavy queue beside the workflow's (``shared.temporal.heavy_queue_for``)."""
    metric: Literal["simulation", "step_seconds"] | None = None
    """What the activity records after a success (:mod:`shared.metrics`): the simulation's steps per second, or
    the job's duration as an analysis step named after the job."""


class DiagnoseRequest(Model):
    """The operator self-test's input (see ``runtime.jobs.diagnose``); no workflow runs it."""

    action: Literal["echo", "sleep", "busy", "crash", "fail", "deadlock"]
    seconds: float = 0.0


class DiagnoseResult(Model):
    action: str
    pid: int
    tmp: str = ""
    """The job's temporary directory (inside its worker's private directory)."""
    sandbox_zygote: bool = False
    """Whether a script this job ran now would fork from a listening sandbox zygote (else: a fresh
    interpreter)."""


BUILD_BENCHMARK = HeavyJobSpec(
    job="build",
    activity="build_benchmark",
    request=BuildRequest,
    result=BuildResult,
    engine="runtime.jobs.generation:build_job",
    doc="Build the CAD, store the artifacts and validate the geometry.",
)
SIMULATE_BENCHMARK = HeavyJobSpec(
    job="simulate",
    activity="simulate_benchmark",
    request=SimulateRequest,
    result=SimulationReport,
    engine="runtime.jobs.generation:simulate_job",
    doc="Run the jittered scenes; a retry resumes after the last finished scene.",
    metric="simulation",
)
EXTRACT_PART_FACTS = HeavyJobSpec(
    job="facts",
    activity="extract_part_facts",
    request=FactsRequest,
    result=FactsResult,
    engine="runtime.jobs.analysis:facts_job",
    doc="Geometry facts of a part file (cached by its content hash).",
    metric="step_seconds",
)
RUN_PART_SCRIPT = HeavyJobSpec(
    job="part_script",
    activity="run_part_script",
    request=StagedPart,
    result=StagedPart,
    engine="runtime.jobs.analysis:part_script_job",
    doc="Run a part script in a sandbox and stage the STEP it builds.",
)
BUILD_DESIGN = HeavyJobSpec(
    job="build_design",
    activity="build_design",
    request=BuildDesignRequest,
    result=BuiltDesign,
    engine="runtime.jobs.evaluation:build_design_job",
    doc="Run the design script in a sandbox (or read the part files), validate the design against the "
    "benchmark and prepare its scene.",
)
RENDER_EVIDENCE = HeavyJobSpec(
    job="evidence",
    activity="render_evidence",
    request=EvidenceRequest,
    result=Evidence,
    engine="runtime.jobs.evaluation:evidence_job",
    doc="Replay the representative scene: full trajectory, frame strip, animation and a picture.",
)
RANDOM_PROOF = HeavyJobSpec(
    job="random_proof",
    activity="prove_not_trivial_random",
    request=RandomProofRequest,
    result=RandomProofReport,
    engine="runtime.jobs.certify:random_job",
    doc="Simulate one shard of the benchmark's random designs and count those that solve it; a retry resumes "
    "after the last finished batch.",
)
ROBUST_PROOF = HeavyJobSpec(
    job="robust_proof",
    activity="prove_robust",
    request=RobustProofRequest,
    result=RobustProofReport,
    engine="runtime.jobs.certify:robust_job",
    doc="Simulate the reference solution moved and turned a little, K times, on the jittered scenes.",
)
DIAGNOSE = HeavyJobSpec(
    job="diagnose",
    request=DiagnoseRequest,
    result=DiagnoseResult,
    engine="runtime.jobs.diagnose:diagnose_job",
)

HEAVY_JOBS = (
    BUILD_BENCHMARK,
    SIMULATE_BENCHMARK,
    EXTRACT_PART_FACTS,
    RUN_PART_SCRIPT,
    BUILD_DESIGN,
    RENDER_EVIDENCE,
    RANDOM_PROOF,
    ROBUST_PROOF,
    DIAGNOSE,
)
"""Every heavy job; job names and activity types are unique (checked below, at import)."""

for _names in ([s.job for s in HEAVY_JOBS], [s.activity for s in HEAVY_JOBS if s.activity]):
    if len(set(_names)) != len(_names):
        raise ValueError(f"heavy jobs: duplicate names in {_names}")
