"""Designs: the parts a person or an agent submits to solve a benchmark, checked before anything simulates.

A design arrives as parts with metadata (:class:`~shared.models.DesignPartMeta`'s fields, as raw JSON:
from a design script's ``build()`` or from a JSON file next to STEP/STL files). :func:`check_design` turns
them into placed shapes and :class:`~shared.models.PartSpec`s, or into findings that each name the
offending part, so a bad design gets a validation report instead of a crash or a retry loop:

- ``design.no_parts`` / ``design.too_many_parts``: the design has no part, or more than allowed;
- ``part.invalid_metadata`` (``part.unknown_material``, ``part.unknown_method``, ``part.invalid_label``):
  a field that does not parse, strictly as JSON (``"fixed": "no"`` or ``"velocity": "5"`` is no value), or
  lies outside its physical bound (a placement beyond ±10 m, an effort beyond 100 kN); the message lists what
  is accepted;
- ``part.duplicate_label`` / ``part.label_clash``: two design parts share a label, or one takes a
  benchmark part's (or the payload's) label;
- ``part.method_material``: the method does not make parts of that material (the catalogue's pairing);
- ``part.unreadable``: the file (or the script's shape) is not a closed solid, or has no volume once placed;
- ``part.out_of_range``: placed, the part reaches beyond ±10 m of the origin (``MAX_LENGTH_MM``; its file's
  own coordinates can put it there);
- ``joint.invalid_axis`` (zero or non-finite), ``joint.invalid_range`` (low >= high, or a hinge range
  wider than a full turn), ``motor.without_joint``, ``motor.invalid_limit`` (``max_effort`` or
  ``stall_s`` not positive, an on/off ``effort`` above ``max_effort``), ``motor.invalid_parameter``
  (period, duty, frequency out of range);
- the assembly, all parts together (``engines/cad/assembly.py``): joints to missing parents, cycles, anchors
  off a part, unknown catalogue items, motors beyond their item's limits;
- then the geometry, exactly as a benchmark's reference solution is proven
  (:func:`engines.cad.validate.validate_geometry` with the design in the reference's place):
  ``design.outside_build_zone``, ``design.in_forbidden_zone``, ``part.interference`` (with a fixture or
  another design part), ``payload.design_interference`` (the payload's spawn envelope).

Jointed parts are checked at their placed pose; the space they sweep while moving is not (the simulation
judges what they hit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from build123d import Shape, Solid
from OCP.BRepBuilderAPI import (
    BRepBuilderAPI_MakeFace,
    BRepBuilderAPI_MakePolygon,
    BRepBuilderAPI_MakeSolid,
    BRepBuilderAPI_Sewing,
)
from OCP.gp import gp_Pnt
from OCP.ShapeFix import ShapeFix_Solid
from OCP.TopAbs import TopAbs_SHELL
from OCP.TopExp import TopExp_Explorer
from OCP.TopoDS import TopoDS
from pydantic import ValidationError

from engines.cad.assembly import assembly_findings
from engines.cad.build import bbox_of, part_volume_mm3
from engines.cad.placement import place
from engines.cad.validate import validate_geometry
from engines.manufacturing.extract import PartError, load_step, load_stl
from shared.materials import check_method, mass_kg
from shared.models import (
    MAX_DESIGN_PARTS,
    MAX_LENGTH_MM,
    BenchmarkDefinition,
    DesignPartMeta,
    Finding,
    GeometryReport,
    JointType,
    MotorMode,
    PartRole,
    PartSpec,
    Severity,
    parse_json_value,
)

MAX_STL_TRIANGLES_FOR_DESIGN = 20_000
"""An STL design part becomes a B-rep solid (one face per triangle) for the interference checks; larger
meshes are refused with a finding (export STEP instead)."""


@dataclass(frozen=True)
class DesignInput:
    """One submitted part before checking: its raw metadata and its file."""

    metadata: Mapping[str, Any]
    data: bytes
    format: Literal["step", "stl"]
    source: str
    """Where it came from, for messages: a file name, or ``script part 2``."""


@dataclass(frozen=True)
class CheckedPart:
    meta: DesignPartMeta
    spec: PartSpec
    shape: Shape
    """Placed, world millimetres: what the scene and the geometry checks use."""
    modelled: Shape
    """As modelled (before placement): what the manufacturing engine prices."""
    data: bytes
    format: Literal["step", "stl"]


@dataclass(frozen=True)
class DesignCheck:
    parts: list[CheckedPart]
    findings: list[Finding]

    @property
    def valid(self) -> bool:
        return bool(self.parts) and not any(f.severity == Severity.BLOCKING for f in self.findings)


def _name(raw: Mapping[str, Any], index: int) -> str:
    label = raw.get("label") if isinstance(raw, Mapping) else None
    return label[:64] if isinstance(label, str) and label else f"part #{index}"


MAX_FINDINGS = 60
"""A report lists at most this many findings (the last one says how many more there were)."""
MAX_MESSAGE_CHARS = 600


def _metadata_findings(error: ValidationError, who: str) -> list[Finding]:
    """One finding per problem kind of this part (material, method, label, the rest together)."""
    by_rule: dict[str, list[str]] = {}
    for err in error.errors():
        field = ".".join(str(x) for x in err["loc"])[:80] or "metadata"
        head = str(err["loc"][0]) if err["loc"] else ""
        rule = {
            "material": "part.unknown_material",
            "method": "part.unknown_method",
            "label": "part.invalid_label",
        }.get(head, "part.invalid_metadata")
        by_rule.setdefault(rule, []).append(f"{field}: {err['msg']}")
    return [
        Finding(rule=rule, message=_clip(f"part {who!r}: " + "; ".join(problems)), parts=[who])
        for rule, problems in by_rule.items()
    ]


def _clip(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 3] + "..."


def bounded(findings: list[Finding]) -> list[Finding]:
    """At most :data:`MAX_FINDINGS` findings, blocking ones first, each message clipped, so a report stays
    a small payload whatever a design holds."""
    ordered = sorted(findings, key=lambda f: f.severity != Severity.BLOCKING)
    kept = [f.model_copy(update={"message": _clip(f.message)}) for f in ordered[:MAX_FINDINGS]]
    if len(ordered) > MAX_FINDINGS:
        rest = ordered[MAX_FINDINGS:]
        kept[-1] = Finding(
            rule="design.more_findings",
            message=f"{len(rest) + 1} more findings not listed (rules: {', '.join(sorted({f.rule for f in rest}))[:300]})",
            parts=sorted({p for f in rest for p in f.parts})[:MAX_DESIGN_PARTS],
        )
    return kept


def metadata_findings(meta: DesignPartMeta) -> list[Finding]:
    """Semantic checks of one part's metadata: method/material pairing, joint and motor limits."""
    who = meta.label
    found: list[Finding] = []

    def add(rule: str, message: str, measured: float | None = None, limit: float | None = None) -> None:
        found.append(
            Finding(
                rule=rule, message=f"part {who!r}: {message}", parts=[who], measured=measured, limit=limit
            )
        )

    problem = check_method(meta.material, meta.method)
    if problem:
        add("part.method_material", problem)
    joint, motor = meta.joint, meta.motor
    if joint is not None and joint.type is not JointType.FIXED:  # a fixed joint has no axis to use
        norm = math.sqrt(sum(c * c for c in joint.axis))
        if not norm > 1e-9:
            add(
                "joint.invalid_axis",
                f"the {joint.type.value} joint's axis {joint.axis} has no direction",
                norm,
                0.0,
            )
        if joint.range is not None:
            low, high = joint.range
            if not low < high:
                add("joint.invalid_range", f"joint range ({low:g}, {high:g}): low must be below high")
            elif joint.type is JointType.HINGE and high - low > 360.0:
                add("joint.invalid_range", f"hinge range ({low:g}, {high:g}) deg spans more than a full turn")
    if motor is not None:
        if joint is None:
            add("motor.without_joint", "a motor needs a joint to drive (add 'joint': hinge or slide)")
        if not motor.max_effort > 0:
            add(
                "motor.invalid_limit",
                f"max_effort must be > 0, got {motor.max_effort:g}",
                motor.max_effort,
                0.0,
            )
        if not motor.stall_s > 0:
            add("motor.invalid_limit", f"stall_s must be > 0, got {motor.stall_s:g}", motor.stall_s, 0.0)
        if motor.mode is MotorMode.ON_OFF:
            if not motor.period_s > 0:
                add("motor.invalid_parameter", f"on_off period_s must be > 0, got {motor.period_s:g}")
            if not 0 < motor.duty <= 1:
                add("motor.invalid_parameter", f"on_off duty must be in (0, 1], got {motor.duty:g}")
            if motor.max_effort > 0 and abs(motor.effort) > motor.max_effort:
                add(
                    "motor.invalid_limit",
                    f"on_off effort {motor.effort:g} exceeds max_effort {motor.max_effort:g}",
                    abs(motor.effort),
                    motor.max_effort,
                )
        if motor.mode is MotorMode.SINUSOIDAL and motor.frequency_hz < 0:
            add(
                "motor.invalid_parameter", f"sinusoidal frequency_hz must be >= 0, got {motor.frequency_hz:g}"
            )
    return found


def mesh_solid(data: bytes) -> Shape:
    """A closed STL mesh as a B-rep solid (one planar face per triangle), for booleans and volumes."""
    mesh = load_stl(data)
    if len(mesh.faces) > MAX_STL_TRIANGLES_FOR_DESIGN:
        raise PartError(
            f"the STL has {len(mesh.faces)} triangles; design parts given as STL are limited to "
            f"{MAX_STL_TRIANGLES_FOR_DESIGN} (export STEP instead)"
        )
    sewing = BRepBuilderAPI_Sewing(1e-6)
    vertices = mesh.vertices.tolist()
    for a, b, c in mesh.faces.tolist():
        polygon = BRepBuilderAPI_MakePolygon(
            gp_Pnt(*vertices[a]), gp_Pnt(*vertices[b]), gp_Pnt(*vertices[c]), True
        )
        face = BRepBuilderAPI_MakeFace(polygon.Wire(), True)
        if face.IsDone():
            sewing.Add(face.Face())
    sewing.Perform()
    explorer = TopExp_Explorer(sewing.SewedShape(), TopAbs_SHELL)
    if not explorer.More():
        raise PartError("the STL mesh does not sew into a closed shell")
    maker = BRepBuilderAPI_MakeSolid(TopoDS.Shell(explorer.Current()))
    fix = ShapeFix_Solid(maker.Solid())
    fix.Perform()
    solid = Solid(fix.Solid())
    if not solid.is_valid or not solid.volume > 0:
        raise PartError("the STL mesh does not make a valid solid")
    return solid


def load_part(data: bytes, fmt: Literal["step", "stl"]) -> Shape:
    """The part's geometry as a B-rep shape with at least one solid; :class:`PartError` otherwise."""
    return load_step(data) if fmt == "step" else mesh_solid(data)


def check_design(
    definition: BenchmarkDefinition,
    inputs: Sequence[DesignInput],
    fixture_shapes: Mapping[str, Shape],
    tolerance_mm3: float = 1.0,
) -> DesignCheck:
    """Check a design against a benchmark: metadata, files, then geometry; every finding names its parts.

    ``fixture_shapes`` are the benchmark's fixtures by label (world millimetres). The returned parts are
    those that parsed and loaded; the design is valid only when there are parts and no blocking finding.
    """
    findings: list[Finding] = []
    if not inputs:
        findings.append(Finding(rule="design.no_parts", message="the design has no parts", parts=[]))
        return DesignCheck([], findings)
    if len(inputs) > MAX_DESIGN_PARTS:
        findings.append(
            Finding(
                rule="design.too_many_parts",
                message=f"the design has {len(inputs)} parts; at most {MAX_DESIGN_PARTS} are accepted",
                measured=float(len(inputs)),
                limit=float(MAX_DESIGN_PARTS),
            )
        )
        return DesignCheck([], findings)

    taken = {p.label for p in definition.fixtures} | {p.label for p in definition.payloads}
    seen: dict[str, int] = {}
    parts: list[CheckedPart] = []
    for index, item in enumerate(inputs):
        who = _name(item.metadata, index)
        try:
            meta = parse_json_value(DesignPartMeta, dict(item.metadata))
        except ValidationError as e:
            findings += _metadata_findings(e, who)
            continue
        if meta.label in seen:
            findings.append(
                Finding(
                    rule="part.duplicate_label",
                    message=f"parts #{seen[meta.label]} and #{index} are both labelled {meta.label!r}",
                    parts=[meta.label],
                )
            )
            continue
        seen[meta.label] = index
        if meta.label in taken:
            findings.append(
                Finding(
                    rule="part.label_clash",
                    message=f"part {meta.label!r}: the benchmark already has a part with that label; rename it",
                    parts=[meta.label],
                )
            )
            continue
        problems = metadata_findings(meta)
        findings += problems
        try:
            modelled = load_part(item.data, item.format)
        except PartError as e:
            findings.append(
                Finding(
                    rule="part.unreadable",
                    message=f"part {meta.label!r} ({item.source}): {e}",
                    parts=[meta.label],
                )
            )
            continue
        if problems:
            continue
        shape = place(modelled, meta.placement)
        problem = _out_of_world(shape)
        volume = part_volume_mm3(shape) if problem is None else 0.0
        if problem is not None or not volume > 0:
            findings.append(
                Finding(
                    rule="part.out_of_range" if problem else "part.unreadable",
                    message=f"part {meta.label!r} ({item.source}): {problem or 'placed, it has no volume'}",
                    parts=[meta.label],
                )
            )
            continue
        spec = PartSpec(
            label=meta.label,
            role=PartRole.DESIGN,
            material=meta.material,
            method=meta.method,
            fixed=meta.fixed,
            volume_mm3=round(volume, 6),
            mass_kg=mass_kg(meta.material, volume),
            bbox=bbox_of(shape),
            joint=meta.joint,
            motor=meta.motor,
        )
        parts.append(CheckedPart(meta, spec, shape, modelled, item.data, item.format))

    if not parts:
        return DesignCheck(parts, bounded(findings))
    findings += assembly_findings([p.spec for p in parts], definition.max_motors)
    # Geometry of every part that parsed and loaded, even when others did not: the report names them all.
    report = check_geometry(definition, parts, fixture_shapes, tolerance_mm3)
    return DesignCheck(parts, bounded(findings + report.findings))


def _out_of_world(shape: Shape) -> str | None:
    """Why a placed part is beyond the world any benchmark can hold (or None): its bounding box."""
    bb = shape.bounding_box()
    corners = (bb.min.X, bb.min.Y, bb.min.Z, bb.max.X, bb.max.Y, bb.max.Z)
    if all(math.isfinite(c) and abs(c) <= MAX_LENGTH_MM for c in corners):
        return None
    lo, hi = ", ".join(f"{c:g}" for c in corners[:3]), ", ".join(f"{c:g}" for c in corners[3:])
    return (
        f"placed, its bounding box ({lo})..({hi}) mm reaches beyond ±{MAX_LENGTH_MM:g} mm of the origin, "
        "outside any benchmark's world"
    )


def check_geometry(
    definition: BenchmarkDefinition,
    parts: Sequence[CheckedPart],
    fixture_shapes: Mapping[str, Shape],
    tolerance_mm3: float = 1.0,
) -> GeometryReport:
    """The design in the reference solution's place, proven like one (build zone, forbidden zones,
    interference, payload spawn envelope). The benchmark itself is not proven again: it was when it was
    published."""
    scene = design_scene(definition, [p.spec for p in parts])
    shapes = {**fixture_shapes, **{p.spec.label: p.shape for p in parts}}
    return validate_geometry(scene, shapes, tolerance_mm3, only=frozenset(p.spec.label for p in parts))


def design_scene(definition: BenchmarkDefinition, parts: Sequence[PartSpec]) -> BenchmarkDefinition:
    """The benchmark with ``parts`` where its reference solution was (what validation and simulation of a
    design use)."""
    return definition.model_copy(update={"reference_solution": list(parts)})
