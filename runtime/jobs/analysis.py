"""Heavy jobs of manufacturing analysis: a part's geometry facts, and a part script run in the sandbox."""

from __future__ import annotations

from engines.manufacturing.extract import PartError, extract
from engines.manufacturing.facts import FACTS_VERSION
from runtime.jobs import NPZ, JobError, Progress, open_store, sandbox_limits
from shared.keys import part_facts_key, upload_key
from shared.models import ErrorType, FactsRequest, FactsResult, HeavyProgress, StagedPart
from shared.refs import make_ref, sha256_hex
from shared.store import ObjectNotFound


def facts_job(req: FactsRequest, progress: Progress, resume: HeavyProgress | None) -> FactsResult:
    """Geometry facts of a staged part, from the cache when this exact file was analysed before."""
    part = req.part
    if part.format not in ("step", "stl"):
        raise JobError(f"facts: a {part.format} part must be staged as STEP first", ErrorType.INVALID_REQUEST)
    store = open_store()
    key = part_facts_key(part.artifact.sha256, FACTS_VERSION)
    try:
        return FactsResult(facts=make_ref(key, store.get_bytes(key), NPZ), cached=True)
    except ObjectNotFound:
        pass
    progress(HeavyProgress(stage="facts", detail=f"{part.format} {part.artifact.size_bytes} bytes"))
    data = store.get_ref(part.artifact)
    try:
        facts = extract(data, part.format)
    except PartError as e:
        raise JobError(f"{part.filename or part.format}: {e}", ErrorType.INVALID_PART) from e
    ref = store.put_bytes(key, facts.to_npz(), NPZ)
    return FactsResult(facts=ref, cached=False)


def part_script_job(req: StagedPart, progress: Progress, resume: HeavyProgress | None) -> StagedPart:
    """Run an untrusted part script in the sandbox (a fresh, confined, resource-limited process) and
    stage the STEP of the solid its ``build()`` returns. A failing, hanging or hostile script is a typed,
    non-retryable ``InvalidPart`` with the script's own error; the job process itself is never at risk."""
    from runtime.sandbox import ScriptError, run_script

    if req.format != "script":
        raise JobError(f"part_script: expected a script, got {req.format}", ErrorType.INVALID_REQUEST)
    store = open_store()
    script = store.get_ref(req.artifact)
    progress(HeavyProgress(stage="script", detail=f"{req.filename or 'script'} in the sandbox"))
    try:
        result = run_script(script, "part_step", **sandbox_limits())
    except ScriptError as e:
        raise JobError(f"part script {req.filename or ''}: {e}".strip(), ErrorType.INVALID_PART) from e
    step = result.data
    ref = store.put_bytes(upload_key(sha256_hex(step), ".step"), step)
    name = f"{req.filename}.step" if req.filename else None
    return StagedPart(artifact=ref, format="step", filename=name)
