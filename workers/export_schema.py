"""The export's Parquet schemas: the agent view's whitelist (:data:`AGENT_SCHEMA`) and the grader's.

A row is a ``dict``; ``pa.Table.from_pylist(rows, schema=...)`` keeps exactly the fields named here, nested
ones included, so nothing outside the agent view's schema can reach an agent (:func:`workers.export.whitelisted`
applies it to one row, for the MCP server).
"""

from __future__ import annotations

import pyarrow as pa

_TYPES = {"s": pa.string(), "i": pa.int32(), "l": pa.int64(), "f": pa.float64(), "b": pa.bool_()}
_TYPES["v"] = pa.list_(pa.float64())  # a 3-vector


def _fields(spec: str) -> list[tuple[str, pa.DataType]]:
    """``"name:kind ..."``: a kind of :data:`_TYPES` (``s`` string, ``i`` int32, ``l`` int64, ``f`` float64,
    ``b`` bool, ``v`` list of float64, or a struct named before), ``[]`` after it for a list of them."""
    fields = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        t = _TYPES[kind.removesuffix("[]")]
        fields.append((name, pa.list_(t) if kind.endswith("[]") else t))
    return fields


def _struct(name: str, spec: str) -> pa.StructType:
    _TYPES[name] = t = pa.struct(_fields(spec))
    return t


BOX = _struct("box", "min_mm:v max_mm:v")
NAMED_BOX = _struct("named_box", "name:s min_mm:v max_mm:v")
PART = _struct(  # joint and motor: the JointSpec's and MotorSpec's JSON, or null
    "part",
    "label:s material:s method:s fixed:b volume_mm3:f mass_kg:f bbox:box step:s step_sha256:s joint:s motor:s",
)
PAYLOAD = _struct(  # dimensions a shape does not use are null (a sphere has radius_mm only); goal_zone null:
    # the benchmark's goal_zone
    "payload",
    "label:s shape:s radius_mm:f half_length_mm:f half_size_mm:v material:s start_mm:v jitter_mm:v goal_zone:box",
)
SIMULATION = _struct(
    "simulation",
    "timestep_s:f duration_s:f check_interval_steps:i n_scenes:i required_success_share:f jitter_seed:l "
    "max_speed_m_s:f",
)
CAPS = _struct("caps", "max_unit_cost_usd:f max_weight_kg:f target_quantity:i")
STRUCTURE = _struct("structure", "max_deflection_mm:f hold_s:f")  # null: parts are rigid, nothing breaks
DIFFICULTY = _struct(
    "difficulty",
    "level:i formula:s random_designs:i random_solve_rate:f random_upper_bound:f reference_success_share:f "
    "robust_share:f cost_slack:f weight_slack:f reference_parts:i needs_joint:b needs_motor:b structural_margin:f",
)
PROOF = _struct("proof", "proof:s passed:b detail:s measured:f limit:f")
PARAM = _struct("param", "name:s value:f")
AGENT_SCHEMA = pa.schema(
    _fields(
        "id:s index:i family:s seed:l generator_version:i verdict:s failed_proof:s description:s level:i "
        "random_designs:i random_solve_rate:f random_upper_bound:f robust_share:f within_family_fold:i "
        "cross_family_fold:i max_motors:i build_zone:box goal_zone:box forbidden_zones:named_box[] simulation_bounds:box "
        "payload:payload extra_payloads:payload[] simulation:simulation caps:caps structure:structure fixtures:part[] "
        "scene_glb:s"
    )
)
"""The agent view: a whitelist (``pa.Table.from_pylist`` drops every key a row has beyond it)."""
GRADER_SCHEMA = pa.schema(
    _fields(
        "id:s reference_solution:part[] params:param[] reference_unit_cost_usd:f reference_weight_kg:f "
        "headroom_factor:f cost_basis:s reference_success_share:f difficulty:difficulty reason:s "
        "proofs:proof[] scene_glb:s thumbnail:s"
    )
)
