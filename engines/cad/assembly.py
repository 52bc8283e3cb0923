"""Assemblies: the checks of how parts join each other and which bought motors drive them.

A part's ``joint`` holds it to the world or to a ``parent`` part of the same design (hinge, slide or fixed,
i.e. fastened); its ``motor`` names a catalogue item (``shared/data/cots.toml``). Before anything simulates,
:func:`assembly_findings` checks every part of a design (or a family's reference) together and names the
part in each finding:

- ``joint.unknown_parent``: the parent is not a part of this design (or did not load);
- ``joint.cycle``: parents lead back to the part itself (the joints must form a tree rooted at the world);
- ``joint.fixed_without_parent``: a fixed joint needs a part to be fastened to (``fixed: true`` holds a
  part to the world);
- ``joint.anchor_off_part``: a hinge's anchor is not on both parts, or a fixed or slide joint joins parts
  that do not touch (their bounding boxes are more than :data:`TOUCH_MM` apart);
- ``joint.unknown_item``: a fixed joint's fastener or a hinge's bearing is not in the catalogue;
- ``motor.unknown_item`` / ``motor.item_mismatch`` / ``motor.over_item_limit``: the motor names no
  catalogue motor, one that drives the other kind of joint (rotary for hinges, linear for slides), or is
  asked for more torque, force or speed than the item gives, or a linear item drives a slide whose range is
  missing or longer than the item's stroke (the finding names the item and its limit);
- ``motor.on_fixed_joint``: a fastened joint has nothing to drive;
- ``design.too_many_motors``: the benchmark allows fewer motors (``max_motors``; the lever's is 0: it must be
  solved passively).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared import cots
from shared.models import Box, Finding, JointType, MotorMode, PartSpec

TOUCH_MM = 1.0
"""How far apart two joined parts' bounding boxes, or a hinge's anchor and a part's box, may be."""


def _near(box: Box, point: Sequence[float], slack: float = TOUCH_MM) -> bool:
    return all(box.min_mm[k] - slack <= point[k] <= box.max_mm[k] + slack for k in range(3))


def _touch(a: Box, b: Box, slack: float = TOUCH_MM) -> bool:
    return all(a.min_mm[k] - slack <= b.max_mm[k] and b.min_mm[k] - slack <= a.max_mm[k] for k in range(3))


def _finding(
    rule: str,
    part: str,
    message: str,
    measured: float | None = None,
    limit: float | None = None,
    unit: str | None = None,
) -> Finding:
    return Finding(
        rule=rule,
        message=f"part {part!r}: {message}",
        parts=[part],
        measured=measured,
        limit=limit,
        unit=unit,
    )


def _longer(stroke_mm: float) -> list[str]:
    """Linear motors with a longer stroke than ``stroke_mm``, with their strokes (or "none is longer")."""
    longer = [
        f"{k}: {m.stroke_mm:g} mm"
        for k, m in cots.CATALOGUE.motors.items()
        if m.stroke_mm is not None and m.stroke_mm > stroke_mm
    ]
    return longer or ["none is longer"]


def motor_findings(part: PartSpec) -> list[Finding]:
    """The part's motor against its catalogue item."""
    m, j = part.motor, part.joint
    if m is None:
        return []
    if j is not None and j.type is JointType.FIXED:
        return [
            _finding("motor.on_fixed_joint", part.label, "a fixed (fastened) joint has no motion to drive")
        ]
    item = cots.motor(m.item)
    if item is None:
        wanted = (
            cots.MotorKind.LINEAR if j is not None and j.type is JointType.SLIDE else cots.MotorKind.ROTARY
        )
        what = (
            f"motor item {m.item!r} is not in the catalogue"
            if m.item
            else "the motor names no catalogue item"
        )
        return [
            _finding(
                "motor.unknown_item",
                part.label,
                f"{what}; {wanted.value} motors: {', '.join(cots.motor_items(wanted))}",
            )
        ]
    found: list[Finding] = []
    if j is not None and item.joint() is not j.type:
        found.append(
            _finding(
                "motor.item_mismatch",
                part.label,
                f"{m.item} is a {item.kind.value} motor; it drives a {item.joint().value}, "
                f"not a {j.type.value}",
            )
        )
        return found
    effort_unit, speed_unit = item.units
    asked = max(m.max_effort, abs(m.effort) if m.mode is MotorMode.ON_OFF else 0.0)
    if asked > item.max_effort + 1e-9:
        found.append(
            _finding(
                "motor.over_item_limit",
                part.label,
                f"max_effort {asked:g} {effort_unit} exceeds what {m.item} gives "
                f"({item.max_effort:g} {effort_unit})",
                asked,
                item.max_effort,
                effort_unit,
            )
        )
    if item.stroke_mm is not None and j is not None and j.type is JointType.SLIDE:
        span = None if j.range is None else j.range[1] - j.range[0]
        if span is None or span > item.stroke_mm + 1e-9:
            travel = "has no range (it could travel without end)" if span is None else f"spans {span:g} mm"
            found.append(
                _finding(
                    "motor.over_item_limit",
                    part.label,
                    f"the slide {travel}; {m.item} travels {item.stroke_mm:g} mm: give the slide a range "
                    f"within its stroke, or choose a longer linear motor ({', '.join(_longer(item.stroke_mm))})",
                    span,
                    item.stroke_mm,
                    "mm",
                )
            )
    speed = cots.peak_speed(m)
    if speed > item.max_speed + 1e-9:
        found.append(
            _finding(
                "motor.over_item_limit",
                part.label,
                f"the motion asks {speed:.4g} {speed_unit}, more than {m.item} gives "
                f"({item.max_speed:g} {speed_unit})",
                speed,
                item.max_speed,
                speed_unit,
            )
        )
    return found


def _hinge_anchor(part: PartSpec) -> tuple[float, float, float]:
    j = part.joint
    return j.anchor_mm if j is not None and j.anchor_mm is not None else part.bbox.center_mm


def assembly_findings(parts: Sequence[PartSpec], max_motors: int | None = None) -> list[Finding]:
    """Every joint and motor of ``parts`` checked together (see the module docstring); ``max_motors`` is the
    benchmark's limit (None: none)."""
    by_label = {p.label: p for p in parts}
    found: list[Finding] = []
    motorised = [p.label for p in parts if p.motor is not None]
    if max_motors is not None and len(motorised) > max_motors:
        allowed = (
            "no motor" if max_motors == 0 else f"at most {max_motors} motor{'s' if max_motors > 1 else ''}"
        )
        found.append(
            Finding(
                rule="design.too_many_motors",
                message=f"this benchmark allows {allowed}; parts {', '.join(repr(x) for x in motorised)} have one",
                parts=motorised,
                measured=float(len(motorised)),
                limit=float(max_motors),
            )
        )
    for part in parts:
        found += motor_findings(part)
        j = part.joint
        if j is None:
            continue
        if j.type is JointType.FIXED and j.parent is None:
            found.append(
                _finding(
                    "joint.fixed_without_parent",
                    part.label,
                    "a fixed joint needs a parent part; to hold a part to the world use fixed: true",
                )
            )
        if j.type is JointType.FIXED and cots.fastener(j.fastener) is None:
            found.append(
                _finding(
                    "joint.unknown_item",
                    part.label,
                    f"fastener {j.fastener!r} is not in the catalogue; fasteners: "
                    f"{', '.join(cots.CATALOGUE.fasteners)}",
                )
            )
        if j.type is JointType.HINGE and j.bearing is not None and cots.bearing(j.bearing) is None:
            found.append(
                _finding(
                    "joint.unknown_item",
                    part.label,
                    f"bearing {j.bearing!r} is not in the catalogue; bearings: "
                    f"{', '.join(cots.CATALOGUE.bearings)}",
                )
            )
        if j.parent is None:
            continue
        parent = by_label.get(j.parent)
        if parent is None or parent.label == part.label:
            why = "itself" if j.parent == part.label else f"{j.parent!r}, which is not a part of this design"
            found.append(_finding("joint.unknown_parent", part.label, f"its joint's parent is {why}"))
            continue
        if j.type is JointType.HINGE:
            anchor = _hinge_anchor(part)
            off = [p.label for p in (part, parent) if not _near(p.bbox, anchor)]
            if off:
                found.append(
                    _finding(
                        "joint.anchor_off_part",
                        part.label,
                        f"the hinge anchor {tuple(round(c, 3) for c in anchor)} mm is not on "
                        f"{' and '.join(repr(x) for x in off)} (within {TOUCH_MM:g} mm)",
                    )
                )
        elif not _touch(part.bbox, parent.bbox):
            found.append(
                _finding(
                    "joint.anchor_off_part",
                    part.label,
                    f"its {j.type.value} joint to {j.parent!r} joins parts that do not touch "
                    f"(within {TOUCH_MM:g} mm)",
                )
            )
    found += _cycles(parts)
    return found


def _cycles(parts: Sequence[PartSpec]) -> list[Finding]:
    parent = {
        p.label: p.joint.parent
        for p in parts
        if p.joint is not None
        and p.joint.parent is not None
        and p.joint.parent != p.label  # self: unknown_parent
    }
    reported: set[str] = set()
    found: list[Finding] = []
    for start in parent:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in parent and node not in seen:
            seen.append(node)
            node = parent[node]
        if node is not None and node in seen:
            loop = seen[seen.index(node) :]
            if not reported.intersection(loop):
                reported.update(loop)
                found.append(
                    Finding(
                        rule="joint.cycle",
                        message=f"parts {' -> '.join(loop + [node])} are joined in a cycle; joints "
                        "must form a tree rooted at the world",
                        parts=sorted(loop),
                    )
                )
    return found
