"""Fuzzing the workflow boundary: malformed and hostile inputs for the four workflow input models.

- ``malformed(name)``: a hypothesis strategy of JSON-like values (what ``temporal workflow start --input``
  could send) that the input model must reject: a valid request with one to three invalidating mutations
  (a required field dropped, a wrong type, an out-of-range or huge number, NaN/inf, what lax coercion would
  accept (``true`` or ``"1"`` or ``1.0`` for an integer, ``"no"`` for a boolean), an unknown field, an id,
  path, file name or key that tries to escape, deeply nested garbage), a combination of valid fields whose
  derived values are out of range (a dataset's seeds), or no object at all. Numeric and length bounds are
  read from the contract types (:func:`limits`, :func:`lengths`), never retyped here.
- ``hostile_inputs(part_root)``: a few valid-shaped requests (and wrong argument counts) that pass the model
  but must fail inside the workflow, quickly, with a typed non-retryable error: part paths outside the
  worker's part roots, object keys that escape the store, unknown families or benchmarks, limits.
- ``check_model_boundary`` / ``model_rejects``: the workflow boundary (:func:`shared.models.parse_json`,
  strict, of the JSON the client's converter sends) rejects a value with a ``ValidationError`` and nothing
  else.
- ``fuzz_workflows``: sends the values raw to the workflows (bypassing the model) on a running worker and
  classifies each outcome; see :class:`FuzzReport`.

The modules, by what they fuzz: :mod:`~faults.fuzz.strategies` (escape strings, wrong types, garbage),
:mod:`~faults.fuzz.bounds` (the contract's bounds and the numbers either side of them),
:mod:`~faults.fuzz.mutation` (a valid value made invalid), :mod:`~faults.fuzz.parts` (part and script
sources, stored artifacts), :mod:`~faults.fuzz.benchmarks` (benchmark and dataset requests),
:mod:`~faults.fuzz.analysis` (manufacturing analysis requests), :mod:`~faults.fuzz.designs` (design part
metadata and evaluation requests), :mod:`~faults.fuzz.targets` (the four workflows and their strategies),
:mod:`~faults.fuzz.hostile` (valid-shaped hostile requests), :mod:`~faults.fuzz.boundary` (drawing values and
the model boundary) and :mod:`~faults.fuzz.runner` (sending them to a running worker).

Light imports only (hypothesis, pydantic, the contracts); Temporal is imported when the runner runs.
None of the inputs can start real work: every fuzzed value is checked to be rejected by its model before
it is sent, and the hostile ones fail at the first boundary check of their workflow.
"""

from faults.fuzz.analysis import analyze_requests, malformed_analyze_request
from faults.fuzz.benchmarks import (
    dataset_requests,
    generate_benchmark_requests,
    malformed_dataset_request,
    malformed_generate_benchmark_request,
)
from faults.fuzz.boundary import ModelCheck, check_model_boundary, draw, model_rejects, on_the_wire
from faults.fuzz.bounds import Lengths, Limits, bad_value, lengths, limits, valid_value
from faults.fuzz.designs import (
    design_part_metadata,
    designs,
    evaluate_requests,
    malformed_design_part_metadata,
    malformed_evaluate_request,
)
from faults.fuzz.hostile import Case, hostile_inputs
from faults.fuzz.parts import bad_part_source, part_source
from faults.fuzz.runner import FuzzReport, TypeReport, fuzz_workflows
from faults.fuzz.strategies import ESCAPES, JSON, bad_bool, bad_identifier, bad_token, hostile_text
from faults.fuzz.targets import TARGETS, Target, malformed, target

__all__ = [
    "ESCAPES",
    "JSON",
    "TARGETS",
    "Case",
    "FuzzReport",
    "Lengths",
    "Limits",
    "ModelCheck",
    "Target",
    "TypeReport",
    "analyze_requests",
    "bad_bool",
    "bad_identifier",
    "bad_part_source",
    "bad_token",
    "bad_value",
    "check_model_boundary",
    "dataset_requests",
    "design_part_metadata",
    "designs",
    "draw",
    "evaluate_requests",
    "fuzz_workflows",
    "generate_benchmark_requests",
    "hostile_inputs",
    "hostile_text",
    "lengths",
    "limits",
    "malformed",
    "malformed_analyze_request",
    "malformed_dataset_request",
    "malformed_design_part_metadata",
    "malformed_evaluate_request",
    "malformed_generate_benchmark_request",
    "model_rejects",
    "on_the_wire",
    "part_source",
    "target",
    "valid_value",
]
