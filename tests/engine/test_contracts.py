"""The contracts reject bad input at the boundary, naming the field, and normalise what people type."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.ids import benchmark_id, dataset_id, dataset_item
from shared.models import (
    Box,
    DatasetRequest,
    GenerateBenchmarkRequest,
    ManufacturingMethod,
    MaterialId,
    PartSpec,
    ProofBasis,
)


def _fields(e: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {".".join(str(x) for x in err["loc"]) for err in e.value.errors()}


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/b", "A" * 70, "", "x\x00", "ｘ", "a b"])
def test_ids_with_path_or_odd_characters_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError) as e:
        DatasetRequest(families=["chute"], count=1, dataset_id=bad)
    assert _fields(e) == {"dataset_id"}


def test_family_names_are_normalised_but_must_be_distinct() -> None:
    assert GenerateBenchmarkRequest(family=" Chute ", seed=1).family == "chute"
    with pytest.raises(ValidationError, match="more than once"):
        DatasetRequest(families=["chute", "CHUTE"], count=2)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cnc", "cnc_milling"),
        ("CNC", "cnc_milling"),
        ("3DP", "fdm_printing"),
        ("Injection-Molding", "injection_molding"),
    ],
)
def test_enums_parse_case_insensitively(given: str, expected: str) -> None:
    part = PartSpec(
        label="p",
        role="reference",
        material="ALUMINUM-6061",
        method=given,
        volume_mm3=1,
        mass_kg=1,
        bbox=Box(min_mm=(0, 0, 0), max_mm=(1, 1, 1)),
    )
    assert part.method == ManufacturingMethod(expected)
    assert part.material == MaterialId.ALUMINUM_6061


def test_count_seed_and_unknown_fields() -> None:
    with pytest.raises(ValidationError) as e:
        DatasetRequest(families=[], count=0, base_seed=-1, surprise=True)  # type: ignore[call-arg]
    assert _fields(e) == {"families", "count", "base_seed", "surprise"}


def test_boxes_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="min"):
        Box(min_mm=(0, 0, 1), max_mm=(1, 1, 0))


def test_ids_are_deterministic_and_the_plan_round_robins() -> None:
    req = DatasetRequest(families=["chute", "gap"], count=5, base_seed=10)
    assert dataset_id(req, 1) == dataset_id(req.model_copy(), 1) != dataset_id(req, 2)
    assert [dataset_item(req, i) for i in range(5)] == [
        ("chute", 10),
        ("gap", 10),
        ("chute", 11),
        ("gap", 11),
        ("chute", 12),
    ]
    assert benchmark_id("gap", 3, 1) == "gap-s3-v1"


def test_proof_basis_covers() -> None:
    wanted = ProofBasis(
        n_scenes=8,
        check_interval_steps=10,
        max_reference_unit_cost_usd=150,
        max_reference_weight_kg=5,
        caps_headroom=1.5,
    )
    assert wanted.covers(wanted)
    assert not ProofBasis(n_scenes=2, check_interval_steps=10).covers(wanted)
    # a rejection that never reached the affordability proof does not depend on the ceilings
    assert ProofBasis(n_scenes=8, check_interval_steps=10).covers(wanted)
    assert not wanted.model_copy(update={"caps_headroom": 2.0}).covers(wanted)


def test_a_certified_basis_covers_only_the_same_certification() -> None:
    """Every parameter a certification verdict depends on (the plan's basis) must match for reuse: sampler
    version, N, threshold, confidence, K and the required share of perturbations."""
    from shared.models import CertifyPlan
    from shared.models.proofs import CERTIFICATION_FIELDS

    plan = CertifyPlan(
        sampler_version=1,
        random_designs=1000,
        trivial_threshold=0.1,
        confidence=0.95,
        perturbations=16,
        robust_required_share=0.75,
        shard_size=250,
    )
    ceilings = ProofBasis(
        n_scenes=8, check_interval_steps=10, max_reference_unit_cost_usd=150, max_reference_weight_kg=5
    )
    wanted = ceilings.with_certification(plan.basis())
    assert wanted.covers(wanted) and set(CERTIFICATION_FIELDS) == {
        k for k, v in plan.basis().model_dump().items() if v is not None
    }
    others = {"sampler_version": 2, "random_designs": 300, "trivial_threshold": 0.05}
    others |= {"random_confidence": 0.99, "perturbations": 8, "robust_required_share": 1.0}
    for field, value in others.items():
        assert not wanted.model_copy(update={field: value}).covers(wanted), field
    # the shard size changes how the work is split, not the verdict
    assert wanted.covers(ceilings.with_certification(plan.model_copy(update={"shard_size": 100}).basis()))


def test_a_failed_childs_reason_is_its_innermost_error() -> None:
    from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, RetryState

    from workflows.dataset import _failure_reason

    inner = ApplicationError(
        "build: worker child process crashed (killed by SIGSEGV)\nmore", type="WorkerChildCrashed"
    )
    activity = ActivityError(
        "Activity task failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="w",
        activity_type="build_benchmark",
        activity_id="1",
        retry_state=RetryState.MAXIMUM_ATTEMPTS_REACHED,
    )
    activity.__cause__ = inner
    child = ChildWorkflowError(
        "Child Workflow execution failed",
        namespace="default",
        workflow_id="x",
        run_id="y",
        workflow_type="GenerateBenchmark",
        initiated_event_id=1,
        started_event_id=2,
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    child.__cause__ = activity
    assert (
        _failure_reason(child)
        == "build_benchmark: WorkerChildCrashed: build: worker child process crashed (killed by SIGSEGV)"
    )
    assert _failure_reason(RuntimeError("")) == "RuntimeError"


def test_a_benchmark_script_has_no_seed() -> None:
    from shared.models import GenerateBenchmarkRequest

    assert GenerateBenchmarkRequest(script={"path": "/x/b.py"}).seed == 0
    with pytest.raises(ValueError, match="seed"):
        GenerateBenchmarkRequest(script={"path": "/x/b.py"}, seed=5)
    with pytest.raises(ValueError, match="exactly one"):
        GenerateBenchmarkRequest(family="chute", script={"path": "/x/b.py"})


def test_the_stall_bound_must_exceed_the_sandbox_wall_limit() -> None:
    """Else a script that waits would be a stalled job, retried, instead of its own deterministic timeout."""
    from shared.settings import Settings

    with pytest.raises(ValidationError, match="stall_timeout_s .* must be above sandbox_wall_s"):
        Settings(sandbox_wall_s=200.0)
    assert Settings(sandbox_wall_s=200.0, stall_timeout_s=260.0).stall_timeout_s == 260.0


def test_the_contracts_package_exports_every_name_and_imports_without_temporal() -> None:
    """``from shared.models import X`` reaches every contract whichever module keeps it, each model builds its
    JSON schema (every annotation resolves in its module), and the package imports with temporalio blocked:
    the workflow sandbox imports it, so it stays pydantic and stdlib."""
    import inspect
    import pkgutil
    import subprocess
    import sys

    import shared.models as contracts

    modules = [f"shared.models.{m.name}" for m in pkgutil.iter_modules(contracts.__path__)]
    for module in map(importlib.import_module, modules):
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == module.__name__:
                assert name.startswith("_") or name in contracts.__all__, f"{module.__name__}.{name}"
    for name in contracts.__all__:
        obj = getattr(contracts, name)
        if inspect.isclass(obj) and issubclass(obj, contracts.Model) and obj is not contracts.Model:
            assert obj.model_json_schema()["title"] == name
    blocked = "import sys; sys.modules['temporalio'] = None\n" + "".join(f"import {m}\n" for m in modules)
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", blocked], check=True, cwd=root)
