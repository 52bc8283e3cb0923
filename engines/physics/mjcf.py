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
- payload shapes: a sphere and a capsule (which roll) are ``sphere``/``capsule`` geoms with the contact above;
  a box and a cylinder (which rest on a flat face and slide) are ``box``/``cylinder`` geoms with ``condim=3``
  and sliding friction only, like the parts: a block on an incline then holds while ``tan(theta) < mu`` and
  slides at ``g (sin theta - mu cos theta)`` beyond (checked in ``tests/engine/test_family_slide.py``), and
  no rolling resistance holds up a block that tips over. A sphere's geom and contact are what they were before
  shapes existed (a test pins the scene text);
- elliptic friction cones with ``impratio=10`` make resting contacts stiffer in the tangent plane: a free ABS
  block on a 15 degree aluminium slope creeps 0.8 mm in 3 s instead of 3.2 mm with the default pyramidal
  cone. A steel ball rolls down an incline at (5/7) g sin(theta) within 1-2 % (less the rolling resistance).

Parts (``PartSpec``), in this order of precedence:
- with a ``joint``: a body named after the label, a child of its ``parent`` part's body (or of the world)
  placed at the joint's anchor (a hinge's ``anchor_mm``, else the part's bounding-box centre; a slide's or a
  fixed joint's bounding-box centre) relative to that body, and not rotated. It holds one ``hinge``/``slide``
  joint named after the label (axis normalised; ``range`` in radians or metres and ``limited`` when given;
  ``damping``), or none for a ``fixed`` (fastened) joint, which welds it to the parent; its geoms are offset
  by minus the anchor, so their world pose is unchanged and ``qpos = 0`` is the placed pose. Parents compile
  before their children; MuJoCo does not collide a body with its parent. Density comes from the material,
  as for free parts;
- ``fixed``: geoms of the world body (no body of their own);
- otherwise free: a body with a ``freejoint`` at the bounding-box centre.
Parts without a joint compile to exactly the XML they compiled to before joints existed (a test pins it).

Motors: a part's ``motor`` becomes one actuator on its joint, named after the label, with
``forcerange = ±max_effort`` (``forcelimited``). Controls are set by the runner (``engines.physics.runner``),
in MuJoCo units (rad, rad/s, m, m/s, N, N*m):
- ``constant_velocity``: ``<velocity kv>``, ``kv = max_effort / VELOCITY_SERVO_FULL_ERROR`` (full effort at a
  20 deg/s or 20 mm/s speed error); ctrl is the target speed. Below its limit a stiff velocity servo is
  stable at any gain (``implicitfast`` integrates actuator damping implicitly);
- ``sinusoidal``: ``<position kp kv>``, ``kp = max_effort / POSITION_SERVO_FULL_ERROR`` (full effort at a 2 deg
  or 2 mm position error) and ``kv = kp * POSITION_SERVO_DAMPING_S``; the runner adds the target's speed times
  ``POSITION_SERVO_DAMPING_S`` to ctrl, so the servo acts on the position and the speed error (a PD servo,
  no steady lag behind a moving target);
- ``on_off``: ``<motor gear=1 ctrlrange=±max_effort>``; ctrl is the torque (N*m) or force (N), which the
  runner lowers with the joint's speed along the item's torque-speed line (``engines.physics.judge``).
A servo's joint also gets an ``armature`` (a geared motor's rotor inertia, see :data:`SERVO_ARMATURE_STEPS`)
so that a servo at its force limit, which MuJoCo integrates explicitly, cannot chatter.

Over 400 lines because fixtures, parts, joints, motors, zones and cameras all go into one MJCF document whose
element order and number formatting must stay stable (the same input, the same XML text), which is easiest to
keep when one module writes all of it.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

import numpy as np

from engines.physics.collision_pack import Piece
from shared.materials import props
from shared.models import (
    BenchmarkDefinition,
    Box,
    JointType,
    MotorMode,
    PartRole,
    PartSpec,
    Payload,
    SimulationMode,
)

MM_TO_M = 1e-3
DECIMALS = 7
"""Decimals of every length written to the XML, in metres (0.1 micrometre)."""

PAYLOAD_BODY = "payload"
"""Name of the (first) payload's body and of its free joint; an extra payload's are ``payload/<label>``."""


def payload_body(definition: BenchmarkDefinition, index: int) -> str:
    """The body (and free joint) name of payload ``index`` of :attr:`BenchmarkDefinition.payloads`."""
    return PAYLOAD_BODY if index == 0 else f"{PAYLOAD_BODY}/{definition.payloads[index].label}"


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

VELOCITY_SERVO_FULL_ERROR = {JointType.HINGE: math.radians(20.0), JointType.SLIDE: 20.0 * MM_TO_M}
"""Speed error (rad/s, m/s) at which a ``constant_velocity`` servo gives its full ``max_effort``: 20 deg/s or
20 mm/s. Small enough that a motor keeps its speed within a few percent under a moderate load, large enough
that it does not chatter at the force limit."""
POSITION_SERVO_FULL_ERROR = {JointType.HINGE: math.radians(2.0), JointType.SLIDE: 2.0 * MM_TO_M}
"""Position error (rad, m) at which a ``sinusoidal`` servo gives its full ``max_effort``: 2 deg or 2 mm, a
stiff servo whose sag under a load is that share of 2 deg / 2 mm."""
POSITION_SERVO_DAMPING_S = 0.01
"""``kv / kp`` of the position servo (s). A stiff servo on a light part is stable with a semi-implicit step
only if ``kv / kp`` exceeds half a timestep (5 ms at the largest allowed 10 ms); 10 ms keeps it overdamped
for light parts and adds no lag, since the runner feeds the target speed forward."""
SERVO_ARMATURE_STEPS = 2.0
"""A servo motor's joint gets a reflected rotor inertia (``armature``) of ``SERVO_ARMATURE_STEPS * timestep *
kv`` (velocity servo) or ``(SERVO_ARMATURE_STEPS * timestep)**2 * kp`` (position servo).

Why: at its force limit a servo's force is clamped and MuJoCo integrates it explicitly. Were the joint's
inertia small against the servo's gain, one step at full effort would overshoot the target by more than the
servo's full-effort error and the servo would chatter between +max_effort and -max_effort for ever (a 10 N
velocity servo on a 100 g slide alternated between 0 and 200 mm/s every step; a 5000 N position servo on
135 g jumped 148 mm per step). With this armature a full-effort step changes the speed by at most half the
velocity servo's full-effort speed error, and the position servo's natural frequency is at most
``0.5 / timestep``, so a saturated servo settles. Physically it is a geared motor's rotor inertia: with the
gains above, about ``0.0115 * max_effort`` kg*m^2 for a hinge velocity motor (N*m) and ``0.2 * max_effort`` kg
for a slide one (N) at a 2 ms step; it caps a velocity motor's acceleration at about 5000 deg/s^2 or
5 m/s^2, and adds nothing while the joint turns at constant speed."""
MIN_AXIS_NORM = 1e-9
"""A joint axis shorter than this cannot be normalised."""

_GOAL_RGBA = (0.1, 0.8, 0.2, 0.3)
_FORBIDDEN_RGBA = (0.9, 0.1, 0.1, 0.3)
_BUILD_RGBA = (0.5, 0.5, 0.5, 0.12)
MOVING_FIXTURE_RGBA = (0.95, 0.6, 0.05, 1.0)
"""A benchmark's own moving fixture (one with a joint) is drawn amber, whatever its material, so pictures
show what moves by itself."""
DESIGN_RGBA = (0.15, 0.45, 0.95, 1.0)
"""A submitted design's parts are drawn blue, whatever their material, so pictures tell them from the
benchmark's fixtures."""
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


def _sig(x: float) -> str:
    """A gain or coefficient with 9 significant digits (they span many decades, unlike lengths)."""
    return f"{x:.9g}"


def _unit_axis(part: PartSpec) -> tuple[float, float, float]:
    assert part.joint is not None
    axis = np.asarray(part.joint.axis, dtype=np.float64)
    norm = float(np.linalg.norm(axis))
    if not math.isfinite(norm) or norm < MIN_AXIS_NORM:
        raise SceneCompileError(f"part {part.label!r}: joint axis {part.joint.axis} is zero or not finite")
    x, y, z = (axis / norm).tolist()
    return x, y, z


def _check_joint_and_motor(part: PartSpec) -> None:
    """The backstop for what design validation reports first (naming the part, in users' terms)."""
    joint, motor = part.joint, part.motor
    if motor is not None and (joint is None or joint.type is JointType.FIXED):
        raise SceneCompileError(f"part {part.label!r} has a motor but no joint to drive")
    if joint is not None:
        _unit_axis(part)
        if joint.range is not None and not joint.range[0] < joint.range[1]:
            raise SceneCompileError(f"part {part.label!r}: joint range {joint.range} must have low < high")
    if motor is not None:
        if not motor.max_effort > 0:
            raise SceneCompileError(f"part {part.label!r}: motor max_effort {motor.max_effort:g} must be > 0")
        if not motor.stall_s > 0:
            raise SceneCompileError(f"part {part.label!r}: motor stall_s {motor.stall_s:g} must be > 0")
        if motor.mode is MotorMode.ON_OFF and not motor.period_s > 0:
            raise SceneCompileError(
                f"part {part.label!r}: on_off motor period_s {motor.period_s:g} must be > 0"
            )


def _joint_anchor_mm(part: PartSpec) -> tuple[float, float, float]:
    assert part.joint is not None
    if part.joint.type is JointType.HINGE and part.joint.anchor_mm is not None:
        return part.joint.anchor_mm
    return part.bbox.center_mm


def _servo_gains(part: PartSpec) -> tuple[float, float]:
    """``(kp, kv)`` of the part's servo motor (``kp = 0`` for a velocity servo); ``(0, 0)`` without one."""
    joint, motor = part.joint, part.motor
    if joint is None or motor is None:
        return 0.0, 0.0
    if motor.mode is MotorMode.CONSTANT_VELOCITY:
        return 0.0, motor.max_effort / VELOCITY_SERVO_FULL_ERROR[joint.type]
    if motor.mode is MotorMode.SINUSOIDAL:
        kp = motor.max_effort / POSITION_SERVO_FULL_ERROR[joint.type]
        return kp, kp * POSITION_SERVO_DAMPING_S
    return 0.0, 0.0


def _add_joint(parent: ET.Element, part: PartSpec, timestep_s: float) -> None:
    joint = part.joint
    assert joint is not None
    attrs = {"name": part.label, "type": joint.type.value, "axis": _nums(_unit_axis(part))}
    if joint.range is not None:
        low, high = joint.range
        if joint.type is JointType.HINGE:
            attrs["range"] = _nums((math.radians(low), math.radians(high)))
        else:
            attrs["range"] = _m((low, high))
        attrs["limited"] = "true"
    attrs["damping"] = _sig(joint.damping)
    kp, kv = _servo_gains(part)
    horizon = SERVO_ARMATURE_STEPS * timestep_s
    armature = horizon * horizon * kp if kp else horizon * kv
    if armature:
        attrs["armature"] = _sig(armature)
    ET.SubElement(parent, "joint", **attrs)


def _add_actuator(actuators: ET.Element, part: PartSpec) -> None:
    joint, motor = part.joint, part.motor
    assert joint is not None and motor is not None
    effort = motor.max_effort
    kp, kv = _servo_gains(part)
    common = {
        "name": part.label,
        "joint": part.label,
        "forcelimited": "true",
        "forcerange": f"{_sig(-effort)} {_sig(effort)}",
    }
    if motor.mode is MotorMode.CONSTANT_VELOCITY:
        ET.SubElement(actuators, "velocity", kv=_sig(kv), **common)
    elif motor.mode is MotorMode.SINUSOIDAL:
        ET.SubElement(actuators, "position", kp=_sig(kp), kv=_sig(kv), **common)
    else:
        ET.SubElement(
            actuators,
            "motor",
            gear="1",
            ctrllimited="true",
            ctrlrange=f"{_sig(-effort)} {_sig(effort)}",
            **common,
        )


Bodies = dict[str, tuple[ET.Element, tuple[float, float, float]]]
"""The body of every part that has one, by label, with the body's world position (mm)."""


def _add_part(
    asset: ET.Element,
    worldbody: ET.Element,
    part: PartSpec,
    pieces: list[Piece],
    timestep_s: float,
    bodies: Bodies,
) -> None:
    material = props(part.material)
    moving_fixture = part.role is PartRole.FIXTURE and part.joint is not None
    common = {
        "type": "mesh",
        "friction": f"{material.friction:g} 0 0",
        "condim": str(PART_CONDIM),
        "rgba": _rgba(
            MOVING_FIXTURE_RGBA
            if moving_fixture
            else DESIGN_RGBA
            if part.role is PartRole.DESIGN
            else material.rgba
        ),
    }
    joint = part.joint
    if joint is not None:
        # A child of its parent part's body (or of the world), placed at its anchor relative to that body.
        holder, base = bodies.get(joint.parent or "", (worldbody, (0.0, 0.0, 0.0)))
        anchor = _joint_anchor_mm(part)
        parent = ET.SubElement(
            holder, "body", name=part.label, pos=_m(a - b for a, b in zip(anchor, base, strict=True))
        )
        if joint.type is not JointType.FIXED:
            _add_joint(parent, part, timestep_s)
        bodies[part.label] = (parent, anchor)
        offset = _m(-c for c in anchor)
        common["density"] = f"{material.density_kg_m3:g}"
    elif part.fixed:
        parent, offset = worldbody, None
    else:
        centre = part.bbox.center_mm
        parent = ET.SubElement(worldbody, "body", name=part.label, pos=_m(centre))
        ET.SubElement(parent, "freejoint", name=part.label)
        bodies[part.label] = (parent, centre)
        offset = _m(-c for c in centre)
        common["density"] = f"{material.density_kg_m3:g}"
    for i, piece in enumerate(pieces):
        name = f"{part.label}/{i}"
        _add_mesh(asset, name, piece)
        geom = ET.SubElement(parent, "geom", name=name, mesh=name, **common)
        if offset is not None:
            geom.set("pos", offset)


def _parents_first(parts: Sequence[PartSpec]) -> list[PartSpec]:
    """``parts`` with every joint's parent before its children, otherwise in input order (so scenes without
    part-to-part joints compile exactly as before). A parent that is missing or in a cycle raises."""
    labels = {p.label for p in parts}
    placed: set[str] = set()
    out: list[PartSpec] = []
    pending = list(parts)
    while pending:
        rest = []
        for p in pending:
            parent = p.joint.parent if p.joint is not None else None
            if parent is not None and parent not in labels:
                raise SceneCompileError(
                    f"part {p.label!r}: its joint's parent {parent!r} is not in the scene"
                )
            if parent is None or parent in placed:
                out.append(p)
                placed.add(p.label)
            else:
                rest.append(p)
        if len(rest) == len(pending):
            raise SceneCompileError(f"parts {[p.label for p in rest]} are joined in a cycle")
        pending = rest
    return out


def _add_zone(worldbody: ET.Element, name: str, box: Box, rgba: Sequence[float]) -> None:
    half = (max(s * MM_TO_M / 2, _MIN_HALF_SIZE_M) for s in box.size_mm)
    ET.SubElement(
        worldbody, "site", name=name, type="box", pos=_m(box.center_mm), size=_nums(half), rgba=_rgba(rgba)
    )


OFFSCREEN_SIZE = (640, 480)
"""Width and height of a scene's off-screen render buffer: no picture of a scene may be larger."""
EVIDENCE_CAMERA = "evidence"
"""Camera of ``DESIGN`` scenes framing the build zone, the goal zone and the payload's spawn point."""


def evidence_frame(definition: BenchmarkDefinition) -> Box:
    """The smallest box holding the build zone, the goal zones and the payloads' spawn envelopes."""
    boxes = [definition.build_zone, definition.goal_zone]
    boxes += [b for p in definition.payloads for b in (p.envelope, definition.goal_of(p))]
    return Box(
        min_mm=tuple(min(b.min_mm[k] for b in boxes) for k in range(3)),  # type: ignore[arg-type]
        max_mm=tuple(max(b.max_mm[k] for b in boxes) for k in range(3)),  # type: ignore[arg-type]
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


def _add_payload(worldbody: ET.Element, payload: Payload, name: str) -> None:
    """A payload's body and free joint (both ``name``) and one geom of its shape (see the contact model)."""
    material = props(payload.material)
    body = ET.SubElement(worldbody, "body", name=name, pos=_m(payload.start_mm))
    ET.SubElement(body, "freejoint", name=name)
    if payload.shape in ("box", "cylinder"):
        # Flat-faced: sliding friction only, like the parts (rolling resistance would resist tipping).
        size = payload.half_size_mm if payload.shape == "box" else (payload.radius_mm, payload.half_length_mm)
        assert size is not None and None not in size
        geom_size = _m(size)  # type: ignore[arg-type]
        friction, condim = f"{material.friction:g} 0 0", str(PART_CONDIM)
    else:
        assert payload.radius_mm is not None
        radius_m = payload.radius_mm * MM_TO_M
        geom_size = _num(radius_m)
        if payload.shape == "capsule":
            assert payload.half_length_mm is not None
            geom_size = _nums((radius_m, payload.half_length_mm * MM_TO_M))
        friction = _nums((material.friction, TORSIONAL_PER_RADIUS * radius_m, ROLLING_RESISTANCE * radius_m))
        condim = str(PAYLOAD_CONDIM)
    ET.SubElement(
        body,
        "geom",
        name=payload.label,
        type=payload.shape,
        size=geom_size,
        density=f"{material.density_kg_m3:g}",
        friction=friction,
        condim=condim,
        rgba=_rgba(material.rgba),
    )


def compile_scene_xml(
    definition: BenchmarkDefinition, collision: dict[str, list[Piece]], mode: SimulationMode
) -> str:
    """MJCF text of the scene: fixtures, the reference solution in ``REFERENCE`` and ``DESIGN`` modes (an
    evaluation puts a submitted design's parts there), payload, zones and the motors' actuators.

    Raises :class:`SceneCompileError` when a part has no collision pieces, a motor but no joint, a zero or
    non-finite joint axis, a joint range with low >= high, or a motor with ``max_effort <= 0``.
    """
    parts = list(definition.fixtures)
    if SimulationMode(mode) in (SimulationMode.REFERENCE, SimulationMode.DESIGN):
        parts += definition.reference_solution
    missing = [p.label for p in parts if not collision.get(p.label)]
    if missing:
        raise SceneCompileError(f"no collision pieces for parts {missing}")
    for part in parts:
        _check_joint_and_motor(part)

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
    # The off-screen buffer fits the largest picture rendered (the 640x480 evidence picture), and no shadow map
    # is allocated: every render turns shadows off. Each renderer then opens in ~20 ms instead of ~80-120 ms.
    ET.SubElement(visual, "global", offwidth=str(OFFSCREEN_SIZE[0]), offheight=str(OFFSCREEN_SIZE[1]))
    ET.SubElement(visual, "quality", shadowsize="0")
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
    if SimulationMode(mode) is SimulationMode.DESIGN:
        # Evidence pictures of an evaluation: closer than the overview, framing where the action is.
        pos, axes, _ = _camera_pose(evidence_frame(definition))
        ET.SubElement(
            worldbody, "camera", name=EVIDENCE_CAMERA, pos=pos, xyaxes=axes, fovy=f"{_CAMERA_FOVY_DEG:g}"
        )

    bodies: Bodies = {}
    for part in _parents_first(parts):
        _add_part(asset, worldbody, part, collision[part.label], sim.timestep_s, bodies)

    for index, payload in enumerate(definition.payloads):
        _add_payload(worldbody, payload, payload_body(definition, index))

    _add_zone(worldbody, "goal", definition.goal_zone, _GOAL_RGBA)
    for payload in definition.payloads:
        if payload.goal_zone is not None:
            _add_zone(worldbody, f"goal/{payload.label}", payload.goal_zone, _GOAL_RGBA)
    for zone in definition.forbidden_zones:
        _add_zone(worldbody, f"forbidden/{zone.name}", zone, _FORBIDDEN_RGBA)
    _add_zone(worldbody, "build_zone", definition.build_zone, _BUILD_RGBA)

    motors = [part for part in parts if part.motor is not None]
    if motors:
        actuators = ET.SubElement(root, "actuator")
        for part in motors:
            _add_actuator(actuators, part)

    ET.indent(root)
    return ET.tostring(root, encoding="unicode")
