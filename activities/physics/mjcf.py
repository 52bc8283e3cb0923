"""Scene compiler: a benchmark definition plus its convex collision pieces become one self-contained MJCF.

Millimetres become metres here and only here. Meshes are inlined (``<mesh vertex=... face=...>``) with a
fixed number of decimals, so the same input always yields the same XML text.

Frames: every mesh keeps its CAD world frame. MuJoCo re-centres each mesh on its own inertial frame at
compile time and moves the geom by the inverse offset, so a geom's world pose is unchanged (checked by
``tests/engine/test_physics.py``: compiled world AABBs equal the input vertices' AABBs / 1000).

Contact model (the constants below):
- MuJoCo mixes a pair's friction by taking the maximum per component, so a pair slides with
  ``max(mu_payload, mu_part)``;
- fixtures and parts use ``condim=3`` (sliding friction only); the payload uses ``condim=6`` so
  torsional and rolling friction apply to it and a ball on a flat floor eventually stops, as real balls do;
- the payload's rolling friction is a rolling-resistance coefficient times its radius (MuJoCo's rolling
  friction is a length: resisting torque = coefficient * normal force), torsional likewise;
- elliptic friction cones with ``impratio=10`` make resting contacts stiffer in the tangent plane: a free ABS
  block on a 15 degree aluminium slope creeps 0.8 mm in 3 s instead of 3.2 mm with the default pyramidal
  cone. A steel ball rolls down an incline at (5/7) g sin(theta) within 1-2 % (less the rolling resistance).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

import numpy as np

from activities.physics.collision_pack import Piece
from shared.materials import props
from shared.models import BenchmarkDefinition, Box, PartSpec, SimulationMode

MM_TO_M = 1e-3
DECIMALS = 7
"""Decimals of every length written to the XML, in metres (0.1 micrometre)."""

PAYLOAD_BODY = "payload"
"""Name of the payload body and of its free joint."""

GRAVITY_M_S2 = 9.81


class SceneCompileError(ValueError):
    """The definition and collision pieces do not form a valid MuJoCo scene (deterministic: do not retry)."""


PAYLOAD_CONDIM = 6
PART_CONDIM = 3
ROLLING_RESISTANCE = 0.003
"""Dimensionless rolling-resistance coefficient of the payload (a hard ball on a hard surface)."""
TORSIONAL_PER_RADIUS = 0.03
"""Torsional friction length of the payload as a share of its radius (a small contact patch)."""
FRICTION_CONE = "elliptic"
IMPRATIO = 10.0
CONTACT_TIMECONST_STEPS = 2.0
"""Contact stiffness: ``solref`` time constant in timesteps (MuJoCo's stable minimum is 2). MuJoCo's default
of 0.02 s is far too soft at millimetre scale: a 10 mm ball dropped 190 mm sank 12.6 mm into the floor."""

_GOAL_RGBA = (0.1, 0.8, 0.2, 0.3)
_FORBIDDEN_RGBA = (0.9, 0.1, 0.1, 0.3)
_BUILD_RGBA = (0.5, 0.5, 0.5, 0.12)
_CAMERA_DIRECTION = np.array([0.55, -1.0, 0.75])
_CAMERA_FOVY_DEG = 45.0
_MIN_HALF_SIZE_M = 1e-5


def _num(x: float) -> str:
    s = f"{x:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _nums(values: Iterable[float]) -> str:
    return " ".join(_num(x) for x in values)


def _m(values_mm: Iterable[float]) -> str:
    return _nums(v * MM_TO_M for v in values_mm)


def _rgba(values: Sequence[float]) -> str:
    return " ".join(f"{v:g}" for v in values)


def _add_mesh(asset: ET.Element, name: str, piece: Piece) -> None:
    vertices, faces = piece
    ET.SubElement(
        asset,
        "mesh",
        name=name,
        vertex=_nums((np.asarray(vertices, dtype=np.float64) * MM_TO_M).ravel().tolist()),
        face=" ".join(str(i) for i in np.asarray(faces, dtype=np.int64).ravel().tolist()),
    )


def _add_part(asset: ET.Element, worldbody: ET.Element, part: PartSpec, pieces: list[Piece]) -> None:
    material = props(part.material)
    common = {
        "type": "mesh",
        "friction": f"{material.friction:g} 0 0",
        "condim": str(PART_CONDIM),
        "rgba": _rgba(material.rgba),
    }
    if part.fixed:
        parent, offset = worldbody, None
    else:
        centre = part.bbox.center_mm
        parent = ET.SubElement(worldbody, "body", name=part.label, pos=_m(centre))
        ET.SubElement(parent, "freejoint", name=part.label)
        offset = _m(-c for c in centre)
        common["density"] = f"{material.density_kg_m3:g}"
    for i, piece in enumerate(pieces):
        name = f"{part.label}/{i}"
        _add_mesh(asset, name, piece)
        geom = ET.SubElement(parent, "geom", name=name, mesh=name, **common)
        if offset is not None:
            geom.set("pos", offset)


def _add_zone(worldbody: ET.Element, name: str, box: Box, rgba: Sequence[float]) -> None:
    half = (max(s * MM_TO_M / 2, _MIN_HALF_SIZE_M) for s in box.size_mm)
    ET.SubElement(
        worldbody, "site", name=name, type="box", pos=_m(box.center_mm), size=_nums(half), rgba=_rgba(rgba)
    )


def _camera_pose(bounds: Box) -> tuple[str, str, float]:
    """Position, xyaxes and scene extent (m) of a camera that frames ``bounds``."""
    centre = np.array(bounds.center_mm) * MM_TO_M
    radius = max(float(np.linalg.norm(bounds.size_mm)) * MM_TO_M / 2, 1e-3)
    direction = _CAMERA_DIRECTION / np.linalg.norm(_CAMERA_DIRECTION)
    distance = 1.05 * radius / math.sin(math.radians(_CAMERA_FOVY_DEG) / 2)
    forward = -direction
    x_axis = np.cross(forward, [0.0, 0.0, 1.0])
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.cross(x_axis, forward)
    return _nums(centre + direction * distance), _nums(np.concatenate([x_axis, y_axis])), 2 * radius


def compile_scene_xml(
    definition: BenchmarkDefinition, collision: dict[str, list[Piece]], mode: SimulationMode
) -> str:
    """MJCF text of the scene: fixtures, the reference solution in ``REFERENCE`` mode, payload and zones.

    Raises :class:`SceneCompileError` when a part has no collision pieces.
    """
    parts = list(definition.fixtures)
    if SimulationMode(mode) is SimulationMode.REFERENCE:
        parts += definition.reference_solution
    missing = [p.label for p in parts if not collision.get(p.label)]
    if missing:
        raise SceneCompileError(f"no collision pieces for parts {missing}")

    sim = definition.simulation
    root = ET.Element("mujoco", model=f"{definition.benchmark_id}-{SimulationMode(mode).value}")
    ET.SubElement(root, "compiler", angle="radian", autolimits="true")
    option = ET.SubElement(
        root,
        "option",
        timestep=repr(sim.timestep_s),
        gravity=f"0 0 {-GRAVITY_M_S2:g}",
        integrator="implicitfast",
        cone=FRICTION_CONE,
        impratio=f"{IMPRATIO:g}",
    )
    # Keep a diverged state instead of silently resetting it: the runner reports it as an instability.
    ET.SubElement(option, "flag", autoreset="disable")
    default = ET.SubElement(root, "default")
    ET.SubElement(default, "geom", solref=f"{_num(CONTACT_TIMECONST_STEPS * sim.timestep_s)} 1")

    cam_pos, cam_axes, extent = _camera_pose(definition.simulation_bounds)
    ET.SubElement(root, "statistic", center=_m(definition.simulation_bounds.center_mm), extent=_num(extent))
    visual = ET.SubElement(root, "visual")
    ET.SubElement(visual, "global", offwidth="1280", offheight="960")
    ET.SubElement(visual, "quality", shadowsize="4096")
    ET.SubElement(
        visual, "headlight", ambient="0.35 0.35 0.35", diffuse="0.5 0.5 0.5", specular="0.1 0.1 0.1"
    )

    asset = ET.SubElement(root, "asset")
    worldbody = ET.SubElement(root, "worldbody")
    light_pos = np.array(definition.simulation_bounds.center_mm) * MM_TO_M + [0.0, 0.0, extent]
    ET.SubElement(
        worldbody,
        "light",
        name="key",
        directional="true",
        pos=_nums(light_pos),
        dir="0.3 0.4 -1",
        castshadow="true",
    )
    ET.SubElement(
        worldbody, "camera", name="overview", pos=cam_pos, xyaxes=cam_axes, fovy=f"{_CAMERA_FOVY_DEG:g}"
    )

    for part in parts:
        _add_part(asset, worldbody, part, collision[part.label])

    payload = definition.payload
    material = props(payload.material)
    radius_m = payload.radius_mm * MM_TO_M
    body = ET.SubElement(worldbody, "body", name=PAYLOAD_BODY, pos=_m(payload.start_mm))
    ET.SubElement(body, "freejoint", name=PAYLOAD_BODY)
    ET.SubElement(
        body,
        "geom",
        name=payload.label,
        type="sphere",
        size=_num(radius_m),
        density=f"{material.density_kg_m3:g}",
        friction=_nums((material.friction, TORSIONAL_PER_RADIUS * radius_m, ROLLING_RESISTANCE * radius_m)),
        condim=str(PAYLOAD_CONDIM),
        rgba=_rgba(material.rgba),
    )

    _add_zone(worldbody, "goal", definition.goal_zone, _GOAL_RGBA)
    for zone in definition.forbidden_zones:
        _add_zone(worldbody, f"forbidden/{zone.name}", zone, _FORBIDDEN_RGBA)
    _add_zone(worldbody, "build_zone", definition.build_zone, _BUILD_RGBA)

    ET.indent(root)
    return ET.tostring(root, encoding="unicode")
