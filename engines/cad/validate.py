"""Geometric validity of a benchmark: the first of the proofs a published benchmark needs (the simulations
follow: the baseline scene stays unsolved, the reference solution solves it).

Checks, each reported as a :class:`~shared.models.Finding` with a rule id, the parts involved and the
measured value against its limit:

- ``zone.outside_bounds``: goal, forbidden and build zones lie inside the simulation bounds;
- ``zone.goal_forbidden_overlap``: the goal zone shares no interior with any forbidden zone;
- ``zone.empty`` (warning): a zone with zero extent along some axis;
- ``part.missing_shape``: every part of the definition comes with its geometry;
- ``solid.invalid``: every solid is a valid BRep with a positive volume;
- ``part.interference``: no two parts (fixtures and reference solution) share more than ``tolerance_mm3``
  of volume; touching is allowed. A sort-and-sweep broadphase picks the candidate solid pairs, and only
  those get the exact (BRep boolean) check;
- ``payload.fixture_interference`` / ``payload.reference_interference`` (``payload.design_interference``
  when a submitted design is checked in the reference solution's place): the payload's solid overlaps no
  solid at any spawn point it can get: the nominal start and the corners of the jitter box
  ``start ± jitter_mm`` (the same broadphase picks the candidate payload/solid pairs);
- ``payload.fixture_in_envelope`` / ``payload.reference_in_envelope`` / ``payload.design_in_envelope``: no
  part reaches into the space the payload sweeps over its whole jitter box, between those points too (a
  sphere's: the parts are at least its radius from the box of spawn centres, an exact BRep distance);
- ``payload.envelopes_overlap``: several payloads' spawn envelopes are disjoint;
- ``payload.envelope_outside_build_zone`` / ``payload.envelope_in_forbidden_zone``: every spawn position
  (half-extent plus jitter) lies inside the build zone and clear of the forbidden zones;
- ``reference.outside_build_zone`` / ``reference.in_forbidden_zone`` (``design.*`` for a design): the
  reference parts stay inside the build zone (bounding box) and clear of the forbidden zones (exact check
  against the zone's box).

Every payload of ``BenchmarkDefinition.payloads`` is checked, and every goal zone (a payload's own too).

Over 400 lines because every check reads the same solid entries, broadphase pairs and finding format, and
the proof is easiest to audit as one list of rules over one set of solids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product

from build123d import Shape, Solid
from OCP.BRepAlgoAPI import BRepAlgoAPI_Common
from OCP.BRepExtrema import BRepExtrema_DistShapeShape
from OCP.BRepGProp import BRepGProp
from OCP.GProp import GProp_GProps

from engines.cad.broadphase import AABB, Vec3, sweep_and_prune
from engines.cad.primitives import box, payload_solid
from shared.models import BenchmarkDefinition, Box, Finding, GeometryReport, PartRole, Payload, Severity

CONTAINMENT_SLACK_MM = 1e-3
"""Bounding boxes may exceed a containing zone by this much (BRep bounding-box rounding)."""


@dataclass(frozen=True)
class _SolidEntry:
    label: str
    role: PartRole
    solid: Solid
    aabb: AABB


def common_volume_mm3(a: Shape, b: Shape) -> float:
    """Volume of the intersection of two shapes (exact BRep boolean)."""
    op = BRepAlgoAPI_Common(a.wrapped, b.wrapped)
    if not op.IsDone():
        raise RuntimeError("BRep boolean (common) failed")
    props = GProp_GProps()
    BRepGProp.VolumeProperties_s(op.Shape(), props)
    return max(props.Mass(), 0.0)


SWEEP_TOLERANCE_MM = 0.01
"""How far a part may reach into the space a payload sweeps over its spawn jitter (touching is allowed)."""
_MIN_HALF_MM = 1e-4


def _box_solid(lo: Sequence[float], hi: Sequence[float]) -> Solid:
    """A box solid; a zero-size axis (no jitter along it) is given a negligible thickness."""
    lo2 = [
        min(a, b - 2 * _MIN_HALF_MM) if b - a < 2 * _MIN_HALF_MM else a for a, b in zip(lo, hi, strict=True)
    ]
    return box(tuple(lo2), tuple(hi))  # type: ignore[arg-type]


def _distance_mm(a: Shape, b: Shape) -> float:
    """The least distance between two shapes (0 when they touch or overlap)."""
    d = BRepExtrema_DistShapeShape(a.wrapped, b.wrapped)
    if not d.IsDone():
        raise RuntimeError("BRep distance failed")
    return float(d.Value())


def _sweep_reach(payload: Payload) -> tuple[float, float] | None:
    """``(radius, half straight length along z)`` of the capsule that is the payload as spawned (a sphere, a
    capsule), or None for a box or a cylinder, checked against their envelope box."""
    if payload.shape in ("box", "cylinder"):  # flat ends: their envelope box (a cylinder's: conservative at
        return None  # its vertical edges only), not a capsule that would reach past a floor it rests on
    r = payload.radius_mm or 0.0
    return r, (payload.half_length_mm or 0.0) if payload.shape != "sphere" else 0.0


def _aabb(shape: Shape) -> AABB:
    bb = shape.bounding_box()
    return (bb.min.X, bb.min.Y, bb.min.Z), (bb.max.X, bb.max.Y, bb.max.Z)


def _aabbs_overlap(a: AABB, b: AABB) -> bool:
    return all(a[0][k] <= b[1][k] and b[0][k] <= a[1][k] for k in range(3))


def _protrusion_mm(inner: AABB, outer: Box) -> float:
    """How far ``inner`` sticks out of ``outer`` (0 when contained)."""
    lo, hi = inner
    return max(
        0.0,
        *(outer.min_mm[k] - lo[k] for k in range(3)),
        *(hi[k] - outer.max_mm[k] for k in range(3)),
    )


def _sides(inner: AABB, outer: Box) -> str:
    """Where ``inner`` sticks out of ``outer``: each face it passes and by how much, largest first
    ("3.20 mm past +x, 1.10 mm past -z")."""
    lo, hi = inner
    past = [(outer.min_mm[k] - lo[k], f"-{'xyz'[k]}") for k in range(3)]
    past += [(hi[k] - outer.max_mm[k], f"+{'xyz'[k]}") for k in range(3)]
    return ", ".join(
        f"{d:.2f} mm past {side}" for d, side in sorted(past, reverse=True) if d > CONTAINMENT_SLACK_MM
    )


def _fmt(v: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{x:.1f}" for x in v) + ")"


def _zone_findings(definition: BenchmarkDefinition) -> list[Finding]:
    findings: list[Finding] = []
    bounds = definition.simulation_bounds
    goals: list[tuple[str, Box]] = [("goal_zone", definition.goal_zone)]
    goals += [(f"goal_zone:{p.label}", p.goal_zone) for p in definition.payloads if p.goal_zone is not None]
    zones: list[tuple[str, Box]] = [*goals, ("build_zone", definition.build_zone)]
    zones += [(f"forbidden_zone:{z.name}", z) for z in definition.forbidden_zones]
    for name, zone in zones:
        if not bounds.contains_box(zone):
            out = _protrusion_mm((zone.min_mm, zone.max_mm), bounds)
            findings.append(
                Finding(
                    rule="zone.outside_bounds",
                    message=f"{name} {_fmt(zone.min_mm)}..{_fmt(zone.max_mm)} extends {out:.2f} mm beyond the "
                    f"simulation bounds {_fmt(bounds.min_mm)}..{_fmt(bounds.max_mm)}",
                    parts=[name],
                    measured=out,
                    limit=0.0,
                    unit="mm",
                )
            )
    for name, zone in zones:
        if min(zone.size_mm) <= 0:
            findings.append(
                Finding(
                    rule="zone.empty",
                    severity=Severity.WARNING,
                    message=f"{name} has no volume (size {_fmt(zone.size_mm)} mm); nothing can be inside it",
                    parts=[name],
                    measured=min(zone.size_mm),
                    limit=0.0,
                    unit="mm",
                )
            )
    for zone in definition.forbidden_zones:
        for name, goal in goals:
            if goal.overlaps(zone):
                findings.append(
                    Finding(
                        rule="zone.goal_forbidden_overlap",
                        message=f"{name.replace('_', ' ')} overlaps forbidden zone {zone.name!r}: the goal could "
                        "only be reached by entering a forbidden zone",
                        parts=[name, f"forbidden_zone:{zone.name}"],
                    )
                )
    return findings


def _payload_zone_findings(definition: BenchmarkDefinition) -> list[Finding]:
    findings: list[Finding] = []
    for payload in definition.payloads:
        findings += _one_payload_zone_findings(definition, payload)
    payloads = definition.payloads
    for i, a in enumerate(payloads):
        for b in payloads[i + 1 :]:
            if a.envelope.overlaps(b.envelope):
                findings.append(
                    Finding(
                        rule="payload.envelopes_overlap",
                        message=f"the spawn envelopes of payloads {a.label!r} and {b.label!r} overlap: they could "
                        "spawn inside each other",
                        parts=[a.label, b.label],
                    )
                )
    return findings


def _one_payload_zone_findings(definition: BenchmarkDefinition, payload: Payload) -> list[Finding]:
    findings: list[Finding] = []
    envelope = payload.envelope
    if not definition.build_zone.contains_box(envelope):
        out = _protrusion_mm((envelope.min_mm, envelope.max_mm), definition.build_zone)
        findings.append(
            Finding(
                rule="payload.envelope_outside_build_zone",
                message=f"payload {payload.label!r} spawn envelope (half-extent + jitter) extends {out:.2f} mm "
                f"beyond the build zone ({_sides((envelope.min_mm, envelope.max_mm), definition.build_zone)})",
                parts=[payload.label, "build_zone"],
                measured=out,
                limit=0.0,
                unit="mm",
            )
        )
    for zone in definition.forbidden_zones:
        if envelope.overlaps(zone):
            findings.append(
                Finding(
                    rule="payload.envelope_in_forbidden_zone",
                    message=f"payload {payload.label!r} spawn envelope overlaps forbidden zone {zone.name!r}",
                    parts=[payload.label, f"forbidden_zone:{zone.name}"],
                )
            )
    return findings


def spawn_points(payload: Payload) -> list[Vec3]:
    """The nominal start, then the corners of the jitter box ``start ± jitter_mm``, without duplicates.

    The simulation spawns the payload's centre anywhere in that box; these are the positions checked
    (points strictly between them are not). A zero jitter component collapses corners onto each other,
    so 1, 2, 4 or 8 corners remain.
    """
    start, jitter = payload.start_mm, payload.jitter_mm
    corners = [
        tuple(s + sign * j for s, sign, j in zip(start, signs, jitter))
        for signs in product((-1, 1), repeat=3)
    ]
    return list(dict.fromkeys([tuple(start), *corners]))  # type: ignore[list-item]


def _payload_solid_findings(
    payload: Payload, entries: list[_SolidEntry], tolerance_mm3: float
) -> tuple[list[Finding], int]:
    """The payload solid (as spawned) at every spawn point against every solid: broadphase, then exact volume on candidates.

    One finding per interfering part, at the spawn point with the largest overlap; returns the findings
    and the number of exact checks made. A part that misses the payload at those points but enters its
    spawn envelope (the box of every spawn position, between the points too) is ``payload.<role>_in_envelope``,
    as the random-design sampler refuses it.
    """
    hx, hy, hz = payload.half_extents_mm
    points = spawn_points(payload)
    ball_aabbs: list[AABB] = [
        ((p[0] - hx, p[1] - hy, p[2] - hz), (p[0] + hx, p[1] + hy, p[2] + hz)) for p in points
    ]
    n = len(entries)
    pairs = [(i, j - n) for i, j in sweep_and_prune([e.aabb for e in entries] + ball_aabbs) if i < n <= j]
    balls: dict[int, Solid] = {}
    # overlap[label][point index]: volume shared by the ball at that point and the part's solids.
    overlap: dict[str, dict[int, float]] = {}
    for i, k in pairs:
        ball = balls.get(k)
        if ball is None:
            ball = balls[k] = payload_solid(payload, points[k])
        volume = common_volume_mm3(ball, entries[i].solid)
        if volume > 0:
            per_point = overlap.setdefault(entries[i].label, {})
            per_point[k] = per_point.get(k, 0.0) + volume

    roles = {entry.label: entry.role for entry in entries}
    findings: list[Finding] = []
    for label in sorted(overlap):
        bad = {k: v for k, v in overlap[label].items() if v > tolerance_mm3}
        if not bad:
            continue
        worst = max(sorted(bad), key=lambda k: bad[k])  # lowest index wins ties: the nominal point first
        volume = bad[worst]
        kind = roles[label].value
        where = (
            f"its nominal spawn point {_fmt(points[worst])}"
            if worst == 0
            else f"the jittered spawn point {_fmt(points[worst])} (start {_fmt(payload.start_mm)} ± jitter "
            f"{_fmt(payload.jitter_mm)})"
        )
        others = len(bad) - 1
        also = f"; {others} more of its {len(points)} spawn points overlap it too" if others else ""
        findings.append(
            Finding(
                rule=f"payload.{kind}_interference",
                message=f"payload {payload.label!r} at {where} overlaps {kind} {label!r} by {volume:.2f} mm3{also}",
                parts=[payload.label, label],
                measured=volume,
                limit=tolerance_mm3,
                unit="mm3",
            )
        )
    envelope = payload.envelope
    env_aabb: AABB = (envelope.min_mm, envelope.max_mm)
    # Between the points: every spawn position is a centre in the jitter box. A sphere (or a capsule) misses
    # a part exactly when the part is farther than its radius from that box of centres (the box grown by half
    # the straight length along z); a box payload, spawned axis-aligned, sweeps exactly its envelope box, and
    # a cylinder at most its envelope box.
    swept: dict[str, float] = {}
    centres: Solid | None = None
    checks = len(pairs)
    reach = _sweep_reach(payload)
    for entry in entries:
        if entry.label in {f.parts[1] for f in findings} or not _aabbs_overlap(entry.aabb, env_aabb):
            continue
        checks += 1
        if reach is None:  # a box or a cylinder payload
            depth = common_volume_mm3(_box_solid(envelope.min_mm, envelope.max_mm), entry.solid)
            if depth > tolerance_mm3:
                swept[entry.label] = max(swept.get(entry.label, 0.0), depth)
            continue
        if centres is None:
            grow = (0.0, 0.0, reach[1])
            lo = tuple(s - j - g for s, j, g in zip(payload.start_mm, payload.jitter_mm, grow, strict=True))
            hi = tuple(s + j + g for s, j, g in zip(payload.start_mm, payload.jitter_mm, grow, strict=True))
            centres = _box_solid(lo, hi)
        depth = reach[0] - _distance_mm(centres, entry.solid)
        if depth > SWEEP_TOLERANCE_MM:
            swept[entry.label] = max(swept.get(entry.label, 0.0), depth)
    for label, amount in sorted(swept.items()):
        kind = roles[label].value
        volume = reach is None
        findings.append(
            Finding(
                rule=f"payload.{kind}_in_envelope",
                message=f"{kind} {label!r} reaches into the space payload {payload.label!r} can spawn in "
                f"(start {_fmt(payload.start_mm)} ± jitter {_fmt(payload.jitter_mm)}, between the checked "
                f"spawn points) by {amount:.2f} {'mm3' if volume else 'mm'}",
                parts=[payload.label, label],
                measured=amount,
                limit=tolerance_mm3 if volume else SWEEP_TOLERANCE_MM,
                unit="mm3" if volume else "mm",
            )
        )
    return findings, checks


def validate_geometry(
    definition: BenchmarkDefinition,
    shapes: Mapping[str, Shape],
    tolerance_mm3: float = 1.0,
    only: frozenset[str] | None = None,
) -> GeometryReport:
    """Prove (or refute) that ``definition`` with the part geometry ``shapes`` (by label) is valid.

    ``only`` limits the proof to what involves those parts (a design checked against a benchmark that was
    proven when it was published): the zones, the payload's envelope and pairs of other parts are not
    checked again."""
    findings = [] if only is not None else _zone_findings(definition) + _payload_zone_findings(definition)
    exact_checks = 0

    entries: list[_SolidEntry] = []
    for spec in definition.fixtures + definition.reference_solution:
        shape = shapes.get(spec.label)
        if shape is None:
            findings.append(
                Finding(
                    rule="part.missing_shape",
                    message=f"part {spec.label!r} has no geometry to validate",
                    parts=[spec.label],
                )
            )
            continue
        solids = shape.solids()
        if not solids:
            findings.append(
                Finding(
                    rule="solid.invalid", message=f"part {spec.label!r} contains no solid", parts=[spec.label]
                )
            )
        for index, solid in enumerate(solids):
            volume = solid.volume
            if not solid.is_valid or volume <= 0:
                findings.append(
                    Finding(
                        rule="solid.invalid",
                        message=f"solid {index} of part {spec.label!r} is not a valid closed solid "
                        f"(valid={solid.is_valid}, volume={volume:.3f} mm3)",
                        parts=[spec.label],
                        measured=volume,
                        unit="mm3",
                    )
                )
                continue
            entries.append(_SolidEntry(spec.label, spec.role, solid, _aabb(solid)))

    # Pairwise interference between different parts: broadphase, then exact volume on candidates only.
    candidates = [
        (i, j)
        for i, j in sweep_and_prune([e.aabb for e in entries])
        if entries[i].label != entries[j].label
        and (only is None or entries[i].label in only or entries[j].label in only)
    ]
    overlap_by_pair: dict[tuple[str, str], float] = {}
    for i, j in candidates:
        exact_checks += 1
        volume = common_volume_mm3(entries[i].solid, entries[j].solid)
        if volume > 0:
            key = (entries[i].label, entries[j].label)
            key = (min(key), max(key))
            overlap_by_pair[key] = overlap_by_pair.get(key, 0.0) + volume
    for (a, b), volume in sorted(overlap_by_pair.items()):
        if volume > tolerance_mm3:
            findings.append(
                Finding(
                    rule="part.interference",
                    message=f"parts {a!r} and {b!r} overlap by {volume:.2f} mm3 (touching is allowed; "
                    f"limit {tolerance_mm3} mm3)",
                    parts=[a, b],
                    measured=volume,
                    limit=tolerance_mm3,
                    unit="mm3",
                )
            )

    # Every payload at its nominal spawn point and at every corner of its jitter box, against every solid.
    subject = entries if only is None else [e for e in entries if e.label in only]
    for payload in definition.payloads:
        payload_findings, payload_checks = _payload_solid_findings(payload, subject, tolerance_mm3)
        findings += payload_findings
        exact_checks += payload_checks

    # Reference (or design) parts: inside the build zone, clear of forbidden zones.
    solid_zones = [zone for zone in definition.forbidden_zones if min(zone.size_mm) > 0]
    zone_solids = {zone.name: box(zone.min_mm, zone.max_mm) for zone in solid_zones}
    for spec in definition.reference_solution:
        label, kind = spec.label, spec.role.value
        part_entries = [e for e in entries if e.label == label]
        if not part_entries:
            continue
        lo = tuple(min(e.aabb[0][k] for e in part_entries) for k in range(3))
        hi = tuple(max(e.aabb[1][k] for e in part_entries) for k in range(3))
        out = _protrusion_mm((lo, hi), definition.build_zone)  # type: ignore[arg-type]
        if out > CONTAINMENT_SLACK_MM:
            findings.append(
                Finding(
                    rule=f"{kind}.outside_build_zone",
                    message=f"{kind} part {label!r} (bounding box {_fmt(lo)}..{_fmt(hi)}) extends {out:.2f} mm "
                    f"beyond the build zone {_fmt(definition.build_zone.min_mm)}..{_fmt(definition.build_zone.max_mm)}"
                    f" ({_sides((lo, hi), definition.build_zone)}): move it in or shrink it by that much",  # type: ignore[arg-type]
                    parts=[label, "build_zone"],
                    measured=out,
                    limit=0.0,
                    unit="mm",
                )
            )
        for zone in solid_zones:
            zone_aabb: AABB = (zone.min_mm, zone.max_mm)
            volume = 0.0
            for entry in part_entries:
                if _aabbs_overlap(entry.aabb, zone_aabb):
                    exact_checks += 1
                    volume += common_volume_mm3(entry.solid, zone_solids[zone.name])
            if volume > tolerance_mm3:
                findings.append(
                    Finding(
                        rule=f"{kind}.in_forbidden_zone",
                        message=f"{kind} part {label!r} occupies {volume:.2f} mm3 of forbidden zone {zone.name!r}",
                        parts=[label, f"forbidden_zone:{zone.name}"],
                        measured=volume,
                        limit=tolerance_mm3,
                        unit="mm3",
                    )
                )

    return GeometryReport(
        valid=not any(f.severity == Severity.BLOCKING for f in findings),
        findings=findings,
        n_solids=len(entries),
        candidate_pairs=len(candidates),
        exact_checks=exact_checks,
    )
