"""Design submissions: the metadata a design file or script gives each part
(:class:`~shared.models.DesignPartMeta`: placement, joint, motor), designs of parts or a script, and the
evaluation requests (:class:`~shared.models.EvaluateRequest`) that carry them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from faults.fuzz.bounds import bad_value, valid_value
from faults.fuzz.mutation import extra_key, mutated, non_object, one_mutation, with_non_object
from faults.fuzz.parts import bad_part_source, bad_script_source, part_source, script_source
from faults.fuzz.strategies import (
    JSON,
    MATERIAL_SPELLINGS,
    MATERIALS,
    METHOD_SPELLINGS,
    METHODS,
    bad_bool,
    bad_identifier,
    bad_token,
    garbage,
    hostile_text,
    non_string,
    valid_identifier,
)
from shared.models import (
    MAX_BENCHMARK_ID_CHARS,
    MAX_DESIGN_PARTS,
    Degrees,
    DesignPartMeta,
    Effort,
    EvaluateRequest,
    Frequency,
    JointCoordinate,
    JointSpec,
    JointSpeed,
    MillimetreLength,
    MotorMode,
    MotorSpec,
    Placement,
    SceneCount,
    Seconds,
    normalise_method,
    normalise_token,
)


def _vec(element: st.SearchStrategy[JSON]) -> st.SearchStrategy[list[JSON]]:
    return st.lists(element, min_size=3, max_size=3)


def _bad_vec(tp: Any) -> st.SearchStrategy[JSON]:
    """A 3-vector of ``tp`` that is not one: one bad component, the wrong length, not a list."""
    good = valid_value(tp)

    def put(v: list[JSON], bad: JSON, at: int) -> list[JSON]:
        return [*v[:at], bad, *v[at + 1 :]]

    return st.one_of(
        st.builds(put, _vec(good), bad_value(tp, optional=True), st.integers(0, 2)),
        st.lists(good, max_size=2),
        st.lists(good, min_size=4, max_size=5),
        hostile_text(),
        st.booleans(),
        st.integers(),
    )


def placements() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.Placement` values, within the contract's bounds."""
    return st.fixed_dictionaries(
        {},
        optional={
            "position_mm": _vec(valid_value(MillimetreLength)),
            "rotation_deg": _vec(valid_value(Degrees)),
        },
    )


def _bad_placement() -> st.SearchStrategy[JSON]:
    invalid = {"position_mm": _bad_vec(MillimetreLength), "rotation_deg": _bad_vec(Degrees)}
    return one_mutation(placements(), invalid, [], list(Placement.model_fields)) | non_object(
        placements(), none=False
    )


def joints() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.JointSpec` values (the model's view: design validation judges the rest)."""
    return st.fixed_dictionaries(
        {"type": st.sampled_from(["hinge", "slide", "HINGE"]), "axis": _vec(valid_value(MillimetreLength))},
        optional={
            "anchor_mm": _vec(valid_value(MillimetreLength)),
            "range": st.lists(valid_value(JointCoordinate), min_size=2, max_size=2),
            "damping": valid_value(JointSpec, "damping"),
        },
    )


def _bad_joint() -> st.SearchStrategy[JSON]:
    invalid = {
        "type": bad_token(["hinge", "slide"], normalise_token),
        "axis": _bad_vec(MillimetreLength),
        "anchor_mm": _bad_vec(MillimetreLength),
        "range": st.one_of(
            st.builds(lambda a, b: [a, b], valid_value(JointCoordinate), bad_value(JointCoordinate)),
            st.lists(valid_value(JointCoordinate), min_size=3, max_size=3),
        ),
        "damping": bad_value(JointSpec, "damping"),
    }
    return one_mutation(joints(), invalid, ["type"], list(JointSpec.model_fields))


_MOTOR_NUMBERS: dict[str, Any] = {
    "velocity": JointSpeed,
    "amplitude": JointCoordinate,
    "offset": JointCoordinate,
    "frequency_hz": Frequency,
    "phase_deg": Degrees,
    "effort": Effort,
    "period_s": Seconds,
    "stall_s": Seconds,
}


def motors() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.MotorSpec` values (the model's view: design validation judges the rest)."""
    return st.fixed_dictionaries(
        {"mode": st.sampled_from([m.value for m in MotorMode]), "max_effort": valid_value(Effort)},
        optional={name: valid_value(tp) for name, tp in _MOTOR_NUMBERS.items()},
    )


def _bad_motor() -> st.SearchStrategy[JSON]:
    invalid: dict[str, st.SearchStrategy[JSON]] = {
        "mode": bad_token([m.value for m in MotorMode], normalise_token),
        "max_effort": bad_value(Effort),
        **{name: bad_value(tp, optional=True) for name, tp in _MOTOR_NUMBERS.items()},
    }
    return one_mutation(motors(), invalid, ["mode", "max_effort"], list(MotorSpec.model_fields))


def design_part_metadata() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.DesignPartMeta` values: what a design file or script says about a part."""
    return st.fixed_dictionaries(
        {
            "label": valid_identifier(),
            "material": st.sampled_from(MATERIAL_SPELLINGS),
            "method": st.sampled_from(METHOD_SPELLINGS),
        },
        optional={"fixed": st.booleans(), "placement": placements(), "joint": joints(), "motor": motors()},
    )


def malformed_design_part_metadata() -> st.SearchStrategy[JSON]:
    """Part metadata design validation must report (``part.invalid_metadata`` and friends): a 1e308 mm
    placement, ``"fixed": "no"``, an effort as a string, an unknown field..."""
    base = design_part_metadata()
    invalid = {
        "label": st.one_of(bad_identifier(), non_string()),
        "material": bad_token(MATERIALS, normalise_token),
        "method": bad_token(METHODS, normalise_method),
        "fixed": bad_bool(),
        "placement": st.one_of(_bad_placement(), st.sampled_from([{"position_mm": [1e308, 0, 0]}])),
        "joint": _bad_joint(),
        "motor": _bad_motor(),
    }
    required = ["label", "material", "method"]
    return mutated(base, invalid, required, DesignPartMeta.model_fields) | non_object(base)


def _metadata() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "label": valid_identifier(),
            "material": st.sampled_from(MATERIALS),
            "method": st.sampled_from(METHODS),
        },
        optional={"fixed": st.booleans(), "placement": placements()},
    )


def _design_part() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries({"source": part_source(), "metadata": _metadata()})


def designs() -> st.SearchStrategy[dict[str, JSON]]:
    return st.one_of(
        st.lists(_design_part(), min_size=1, max_size=3).map(lambda parts: {"parts": parts}),
        script_source().map(lambda s: {"script": s}),
    )


def _bad_design_part() -> st.SearchStrategy[JSON]:
    invalid = {
        "source": st.one_of(bad_part_source(), script_source()),
        "metadata": st.one_of(non_string(), st.text(max_size=20)).filter(lambda v: not isinstance(v, dict)),
    }
    return one_mutation(_design_part(), invalid, ["source", "metadata"], ["source", "metadata"]) | non_object(
        _design_part()
    )


def _bad_design() -> st.SearchStrategy[JSON]:
    def insert(parts: list[JSON], bad: JSON, at: int) -> list[JSON]:
        return [*parts[:at], bad, *parts[at:]]

    parts = st.lists(_design_part(), max_size=2)
    return st.one_of(
        st.builds(
            lambda p, s: {"parts": p, "script": s},
            st.lists(_design_part(), min_size=0, max_size=2),
            script_source(),
        ),
        st.sampled_from([{}, {"parts": None, "script": None}, {"parts": None}]),
        st.builds(insert, parts, _bad_design_part(), st.integers(0, 2)).map(lambda p: {"parts": p}),
        _design_part().map(lambda p: {"parts": [p] * (MAX_DESIGN_PARTS + 1)}),
        bad_script_source().map(lambda s: {"script": s}),
        st.builds(
            lambda d, k, v: {**d, k: v},
            designs(),
            extra_key(["parts", "script"]),
            garbage(4),
        ),
        st.one_of(st.text(max_size=20), st.integers(), _design_part()).map(lambda p: {"parts": p}),
        non_object(designs()),
    )


def evaluate_requests() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {"benchmark_id": valid_identifier().map(lambda s: s[:MAX_BENCHMARK_ID_CHARS]), "design": designs()},
        optional={"n_scenes": valid_value(SceneCount), "evidence": st.booleans()},
    )


def malformed_evaluate_request() -> st.SearchStrategy[JSON]:
    base = evaluate_requests()
    invalid = {
        "benchmark_id": st.one_of(
            bad_identifier(),
            non_string(),
            # an identifier, but with no room for its evaluations' ids
            valid_identifier().filter(lambda s: len(s) > MAX_BENCHMARK_ID_CHARS),
        ),
        "design": _bad_design(),
        "n_scenes": bad_value(SceneCount, optional=True),
        "evidence": bad_bool(),
    }
    return with_non_object(
        base, mutated(base, invalid, ["benchmark_id", "design"], EvaluateRequest.model_fields)
    )
