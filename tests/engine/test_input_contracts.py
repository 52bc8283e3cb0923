"""The workflow boundary's contracts, without a server: what the models accept, every value a workflow derives
from it is valid too (no workflow task can fail on input); JSON is strict (a boolean or a string is not a
number); every length, angle, count and effort is bounded once, by its annotated type."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from faults.fuzz import (
    TARGETS,
    Limits,
    analyze_requests,
    dataset_requests,
    evaluate_requests,
    generate_benchmark_requests,
    limits,
)
from shared.families import FAMILIES
from shared.ids import benchmark_id, dataset_id, dataset_item, evaluation_id, script_benchmark_id
from shared.models import (
    ID_PATTERN,
    MAX_BENCHMARK_ID_CHARS,
    MAX_GENERATOR_VERSION,
    MAX_SEED,
    AnalyzeRequest,
    CheckInterval,
    DatasetCursor,
    DatasetRequest,
    Degrees,
    DesignPartMeta,
    Effort,
    EvaluateRequest,
    EvaluationLookupRequest,
    GenerateBenchmarkRequest,
    JointSpec,
    MillimetreLength,
    MotorSpec,
    Placement,
    Quantity,
    SceneCount,
    Seed,
    SimulateRequest,
    SimulationSettings,
    Zone,
    parse_json,
    parse_json_value,
)
from workflows.manufacturing import analysis_id

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fields(e: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {".".join(str(x) for x in err["loc"]) for err in e.value.errors()}


# --------------------------------------------------------------------------------------------
# Item 4: derived values
# --------------------------------------------------------------------------------------------


def test_all_names_every_family_and_only_alone() -> None:
    assert DatasetRequest(families=["all"], count=3).families == list(FAMILIES)
    assert DatasetRequest.model_validate_json('{"families": [" All "], "count": 3}').families == list(
        FAMILIES
    )
    from shared.boundary import dataset_request_problem
    from shared.settings import Settings

    mixed = DatasetRequest(families=["all", "chute"], count=3)  # "all" means all only alone
    assert "unknown family ['all']" in (dataset_request_problem(mixed, Settings()) or "")


def test_a_dataset_whose_last_seed_passes_the_largest_is_rejected_naming_base_seed() -> None:
    with pytest.raises(ValidationError) as e:
        DatasetRequest(families=["gap"], count=2, base_seed=MAX_SEED)
    assert _fields(e) == {"base_seed"} and str(MAX_SEED + 1) in str(e.value)
    # the last seeds that fit are fine, with one family and with several
    assert DatasetRequest(families=["gap"], count=1, base_seed=MAX_SEED)
    assert DatasetRequest(families=list(FAMILIES), count=len(FAMILIES), base_seed=MAX_SEED)
    with pytest.raises(ValidationError):
        DatasetRequest(families=list(FAMILIES), count=len(FAMILIES) + 1, base_seed=MAX_SEED)
    with pytest.raises(ValidationError):  # the default base_seed is checked too
        DatasetRequest(families=["gap"], count=MAX_SEED + 2)


def _at_the_edge() -> st.SearchStrategy[dict[str, Any]]:
    """Requests at the end of the seed range: the largest count the families and base seed allow."""

    def edge(families: list[str], left: int) -> dict[str, Any]:
        return {"families": families, "base_seed": MAX_SEED - left, "count": (left + 1) * len(families)}

    return st.builds(
        edge, st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=4, unique=True), st.integers(0, 1000)
    )


def _check_evaluation_ids(bid: str) -> None:
    """An evaluation of benchmark ``bid`` gets an id (an identifier), and the requests that carry it validate."""
    EvaluateRequest(benchmark_id=bid, design={"script": {"path": "/d.py"}})
    for n_scenes in (None, 64):
        eid = evaluation_id(bid, "f" * 64, n_scenes, True, "proven-on")
        assert re.fullmatch(ID_PATTERN, eid), eid
        EvaluationLookupRequest(benchmark_id=bid, design_sha256="f" * 64, n_scenes=n_scenes)


@PROPERTY
@given(st.one_of(dataset_requests(), _at_the_edge()), st.sampled_from([1, MAX_GENERATOR_VERSION]))
def test_every_value_a_dataset_derives_from_an_accepted_request_is_valid(
    value: dict[str, Any], version: int
) -> None:
    """What GenerateDataset derives (its dataset id, cursor, every child's family, seed, benchmark id, child
    request and the evaluations of that benchmark) validates for every request the model accepts, at both
    ends of the generator versions: the workflow cannot fail a task on a derived value."""
    req = parse_json(DatasetRequest, to_json(value))
    ds = dataset_id(req, version)
    DatasetCursor(dataset_id=ds, generator_version=version, chain="0" * 12)
    for index in {0, 1, req.count // 2, req.count - 2, req.count - 1} & set(range(req.count)):
        family, seed = dataset_item(req, index)
        child = GenerateBenchmarkRequest(
            family=family,
            seed=seed,
            n_scenes=req.n_scenes,
            check_interval_steps=req.check_interval_steps,
            dataset_id=ds,
            generator_version=version,
        )
        # the child's JSON passes the strict boundary of GenerateBenchmark
        assert parse_json(GenerateBenchmarkRequest, child.model_dump_json()) == child
        bid = benchmark_id(family, seed, version)
        assert len(bid) <= MAX_BENCHMARK_ID_CHARS
        _check_evaluation_ids(bid)
    # continuing as new: the request with its cursor passes the boundary again
    resumed = req.model_copy(
        update={"resume": DatasetCursor(dataset_id=ds, generator_version=version, chain="a" * 12)}
    )
    assert parse_json(DatasetRequest, resumed.model_dump_json()) == resumed


@PROPERTY
@given(generate_benchmark_requests(), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_every_id_a_benchmark_request_derives_is_valid(value: dict[str, Any], sha: str) -> None:
    req = parse_json(GenerateBenchmarkRequest, to_json(value))
    assert req.family in FAMILIES
    for version in (req.generator_version or 1, MAX_GENERATOR_VERSION):
        for bid in (benchmark_id(req.family, req.seed, version), script_benchmark_id(sha, version)):
            assert len(bid) <= MAX_BENCHMARK_ID_CHARS
            _check_evaluation_ids(bid)


@PROPERTY
@given(evaluate_requests())
def test_every_id_an_evaluation_derives_is_valid(value: dict[str, Any]) -> None:
    req = parse_json(EvaluateRequest, to_json(value))
    _check_evaluation_ids(req.benchmark_id)
    # the scenes to simulate are the request's or the benchmark's own: both of the type SimulateRequest takes
    assert limits(EvaluateRequest, "n_scenes") == limits(SimulationSettings, "n_scenes")
    assert limits(SimulateRequest, "n_scenes") == limits(SceneCount)


@PROPERTY
@given(analyze_requests(), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_an_analysis_id_is_an_identifier_for_every_accepted_request(value: dict[str, Any], sha: str) -> None:
    req = parse_json(AnalyzeRequest, to_json(value))
    aid = analysis_id(req, sha)
    assert re.fullmatch(ID_PATTERN, aid), aid
    assert analysis_id(req.model_copy(update={"webhook": None}), sha) == aid


def test_every_family_id_fits_at_the_largest_seed_and_version() -> None:
    for family in FAMILIES:
        bid = benchmark_id(family, MAX_SEED, MAX_GENERATOR_VERSION)
        assert len(bid) <= MAX_BENCHMARK_ID_CHARS
        _check_evaluation_ids(bid)
    with pytest.raises(ValidationError) as e:
        EvaluateRequest(benchmark_id="a" * (MAX_BENCHMARK_ID_CHARS + 1), design={"script": {"path": "/d.py"}})
    assert _fields(e) == {"benchmark_id"}


# --------------------------------------------------------------------------------------------
# Item 8: strict JSON
# --------------------------------------------------------------------------------------------

ANALYSIS = {"part": {"path": "/parts/p.step"}, "method": "cnc", "material": "aluminum_6061", "quantity": 10}
EVALUATION = {"benchmark_id": "chute-s0-v1", "design": {"script": {"path": "/parts/d.py"}}}


@pytest.mark.parametrize(
    ("model", "value", "field"),
    [
        (DatasetRequest, {"families": ["gap"], "count": True}, "count"),
        (DatasetRequest, {"families": ["gap"], "count": "1"}, "count"),
        (DatasetRequest, {"families": ["gap"], "count": 1.0}, "count"),
        (DatasetRequest, {"families": ["gap"], "count": 1, "base_seed": "1"}, "base_seed"),
        (DatasetRequest, {"families": ["gap"], "count": 1, "max_parallel": True}, "max_parallel"),
        (GenerateBenchmarkRequest, {"family": "gap", "seed": "1"}, "seed"),
        (GenerateBenchmarkRequest, {"family": "gap", "seed": 1, "n_scenes": 8.0}, "n_scenes"),
        (AnalyzeRequest, {**ANALYSIS, "quantity": "10"}, "quantity"),
        (AnalyzeRequest, {**ANALYSIS, "ladder": [1, "10"]}, "ladder.1"),
        (AnalyzeRequest, {**ANALYSIS, "alternatives": 1}, "alternatives"),
        (
            AnalyzeRequest,
            {**ANALYSIS, "price_table": {"materials": {"abs": {"price_usd_per_kg": "3"}}}},
            "price_table.materials.abs.price_usd_per_kg",
        ),
        (EvaluateRequest, {**EVALUATION, "evidence": "no"}, "evidence"),
        (EvaluateRequest, {**EVALUATION, "n_scenes": "8"}, "n_scenes"),
    ],
)
def test_lax_json_is_rejected_naming_the_field(
    model: type[BaseModel], value: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as e:
        parse_json(model, json.dumps(value))
    assert _fields(e) == {field}
    model.model_validate(value)  # lax Python would have taken it: the strictness is the boundary's


DOCUMENTED = [
    # the README's workflow input table and examples, and what the CLI sends
    (
        DatasetRequest,
        {
            "families": ["chute", "gap", "detour"],
            "count": 9,
            "base_seed": 0,
            "dataset_id": "my-set",
            "max_parallel": 4,
            "chunk_size": 100,
            "n_scenes": 8,
            "check_interval_steps": 10,
        },
    ),
    (DatasetRequest, {"families": ["chute"], "count": 4, "base_seed": 7}),
    (GenerateBenchmarkRequest, {"family": "chute", "seed": 3, "n_scenes": 8, "check_interval_steps": 10}),
    (GenerateBenchmarkRequest, {"family": "gap", "seed": 3}),
    (GenerateBenchmarkRequest, {"script": {"path": "/abs/path/bench.py"}}),
    (
        AnalyzeRequest,
        {
            "part": {"path": "/abs/path/part.step"},
            "method": "injection_molding",
            "material": "abs",
            "quantity": 5000,
            "ladder": [1, 100, 10000],
            "alternatives": True,
            "price_table": {
                "name": "acme",
                "materials": {"ALUMINUM-6061": {"price_usd_per_kg": 9.5, "source": "acme metals"}},
                "processes": {"CNC": {"machine_rate_usd_per_h": 85, "source": "our shop rate"}},
            },
        },
    ),
    (
        AnalyzeRequest,
        {
            "part": {"path": "/parts/bracket.step"},
            "method": "cnc",
            "material": "aluminum_6061",
            "quantity": 100,
        },
    ),
    (
        EvaluateRequest,
        {
            "benchmark_id": "chute-s0-v1",
            "design": {"script": {"path": "/abs/path/design.py"}},
            "n_scenes": 8,
            "evidence": True,
        },
    ),
    (
        EvaluateRequest,
        {
            "benchmark_id": "chute-s0-v1",
            "design": {
                "parts": [
                    {
                        "source": {"path": "/abs/arm.step"},
                        "metadata": {"label": "arm", "material": "aluminum_6061", "method": "cnc_milling"},
                    }
                ]
            },
        },
    ),
]


@pytest.mark.parametrize(("model", "value"), DOCUMENTED)
def test_documented_inputs_pass_the_strict_boundary(model: type[BaseModel], value: dict[str, Any]) -> None:
    parse_json(model, json.dumps(value))


@PROPERTY
@given(st.sampled_from(TARGETS).flatmap(lambda t: t.valid().map(lambda v: (t.model, v))))
def test_what_the_python_client_sends_passes_the_strict_boundary(pair: tuple[type[BaseModel], Any]) -> None:
    """A request built in Python (lax there: it is the caller's own code) is sent as its model's JSON, which
    the workflow takes as the same request."""
    model, value = pair
    built = model.model_validate(value)
    assert parse_json(model, built.model_dump_json()) == built
    assert parse_json(model, to_json(built)) == built


# --------------------------------------------------------------------------------------------
# Item 7: physical bounds, once, in the types
# --------------------------------------------------------------------------------------------


def test_the_bounds_live_in_the_types_and_the_fuzzer_reads_them() -> None:
    assert limits(Seed) == Limits(0, MAX_SEED, integer=True)
    assert limits(SceneCount) == Limits(1, 64, integer=True)
    assert limits(CheckInterval) == Limits(1, 1000, integer=True)
    assert limits(Quantity).lo == 1 and limits(Quantity).integer
    assert limits(MillimetreLength) == Limits(-10_000, 10_000)
    # the models' fields carry their type's bounds (read through ``X | None``)
    for model, field, tp in [
        (GenerateBenchmarkRequest, "seed", Seed),
        (GenerateBenchmarkRequest, "n_scenes", SceneCount),
        (DatasetRequest, "n_scenes", SceneCount),
        (EvaluateRequest, "n_scenes", SceneCount),
        (SimulateRequest, "n_scenes", SceneCount),
        (SimulationSettings, "n_scenes", SceneCount),
        (DatasetRequest, "check_interval_steps", CheckInterval),
        (AnalyzeRequest, "quantity", Quantity),
        (MotorSpec, "max_effort", Effort),
        (MotorSpec, "phase_deg", Degrees),
    ]:
        assert limits(model, field) == limits(tp), (model.__name__, field)


@pytest.mark.parametrize("bad", [1e308, -1e308, math.inf, math.nan, 10_000.001])
def test_lengths_angles_and_efforts_are_finite_and_physical(bad: float) -> None:
    for model, value, field in [
        (Placement, {"position_mm": [bad, 0, 0]}, "position_mm.0"),
        (Placement, {"rotation_deg": [0, 0, bad * 1e3]}, "rotation_deg.2"),
        (JointSpec, {"type": "slide", "axis": [0, 0, 1], "anchor_mm": [0, bad, 0]}, "anchor_mm.1"),
        (JointSpec, {"type": "slide", "axis": [0, 0, bad]}, "axis.2"),
        (JointSpec, {"type": "slide", "axis": [0, 0, 1], "range": [0, bad]}, "range.1"),
        (MotorSpec, {"mode": "on_off", "max_effort": bad * 100}, "max_effort"),
        (MotorSpec, {"mode": "constant_velocity", "max_effort": 1, "velocity": bad * 100}, "velocity"),
        (Zone, {"min_mm": [0, 0, 0], "max_mm": [1, 1, bad]}, "max_mm.2"),
    ]:
        with pytest.raises(ValidationError) as e:
            parse_json_value(model, value)
        assert _fields(e) == {field}, (model.__name__, value)
    with pytest.raises(ValidationError) as e:
        parse_json_value(
            DesignPartMeta,
            {"label": "far", "material": "abs", "method": "fdm", "placement": {"position_mm": [bad, 0, 0]}},
        )
    assert _fields(e) == {"placement.position_mm.0"}


def test_the_bounds_themselves_are_accepted_and_design_findings_keep_their_rules() -> None:
    Placement(position_mm=(10_000, -10_000, 0), rotation_deg=(3600, -3600, 0))
    # signs design validation reports with its own rule stay valid for the model
    MotorSpec(mode="on_off", max_effort=-2, stall_s=0, period_s=0, duty=2)
    JointSpec(type="hinge", axis=(0, 0, 0), range=(10, -10))


def test_a_price_table_file_is_as_strict_as_the_workflow(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``mechbench analyze --prices``: a price given as a string is refused by the CLI, as the workflow
    refuses it in JSON; a typed TOML table passes."""
    from workers.cli.analyze import _read_price_table
    from workers.cli.common import BadInput

    good = tmp_path / "good.toml"
    good.write_text(
        'name = "acme"\n[materials.aluminum_6061]\nprice_usd_per_kg = 9.5\n[processes.cnc]\nmargin = 0.2\n'
    )
    assert _read_price_table(str(good)).name == "acme"
    bad = tmp_path / "bad.toml"
    bad.write_text('[materials.aluminum_6061]\nprice_usd_per_kg = "9.5"\n')
    with pytest.raises(BadInput, match="price_usd_per_kg"):
        _read_price_table(str(bad))
