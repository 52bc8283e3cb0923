"""Small pieces of the dataset report's HTML: escaping, numbers, pictures and a benchmark's description.

:func:`esc` is the one escape every string read from the store goes through. The number formatters return
markup-free text (a dash, ``&ndash;``, for a missing number: results recorded before certification lack
the certification numbers); the picture helpers return a complete element.
"""

from __future__ import annotations

import base64
import html
import math

from shared.models import PartSpec, Payload, RandomPart
from workers.report_data import NO_PICTURE, BenchmarkCard

DASH = "&ndash;"


def payload_text(payload: Payload) -> str:
    """``30 mm steel_carbon ball``, ``40 x 30 x 60 mm abs box``, ``20 mm x 50 mm ... cylinder``: its size
    (diameter; full sides; diameter by full height, a capsule's from tip to tip), material and shape."""
    full = [2 * v for v in payload.half_extents_mm]
    w, h = full[0], full[2]
    if payload.shape == "sphere":
        size = f"{w:.0f} mm"
    elif payload.shape == "box":
        size = " x ".join(f"{v:.0f}" for v in full) + " mm"
    else:
        size = f"{w:.0f} mm x {h:.0f} mm"
    noun = "ball" if payload.shape == "sphere" else payload.shape
    return f"{size} {payload.material} {noun}"


def esc(value: object) -> str:
    """``value`` as HTML text, safe in element content and in a quoted attribute."""
    return html.escape(str(value), quote=True)


def money(x: float | None) -> str:
    return DASH if x is None else f"${x:,.2f}"


def kg(x: float | None) -> str:
    return DASH if x is None else f"{x:.3f} kg"


def share(x: float | None) -> str:
    """A share as a whole percentage (0.875 -> 88%)."""
    return DASH if x is None else f"{x:.0%}"


def pct(x: float | None) -> str:
    """A share as a percentage to three significant digits (0.0149 -> 1.49%)."""
    if x is None:
        return DASH
    return f"{100 * x:.3g}%" if math.isfinite(x) else esc(x)


def slack(x: float | None) -> str:
    if x is None:
        return DASH
    return f"{100 * x:+.3g}%" if math.isfinite(x) else esc(x)


def num(x: float | None) -> str:
    if x is None:
        return DASH
    return f"{x:.4g}" if math.isfinite(x) else esc(x)


def integer(x: int | None) -> str:
    return DASH if x is None else str(x)


def mm(x: float | None) -> str:
    return DASH if x is None else f"{x:.1f} mm"


def level(card: BenchmarkCard) -> str:
    return DASH if card.level is None else f'<span class="level">{card.level}</span> of 5'


def rate(card: BenchmarkCard) -> str:
    """The random solve rate with its upper bound: ``1% (≤ 4.64%)``."""
    solve, upper = card.random_solve_rate, card.random_upper_bound
    if solve is None and upper is None:
        return DASH
    return pct(solve) + ("" if upper is None else f" (&le; {pct(upper)})")


def img(png: bytes, css_class: str, alt: str) -> str:
    """The PNG inline as a ``data:`` URI (the page loads nothing)."""
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return f'<img class="{css_class}" src="{src}" width="320" height="240" alt="{esc(alt)}">'


def placeholder(note: str) -> str:
    """Where a picture would be: "no picture", and why when the note says."""
    detail = note[len(NO_PICTURE) :].strip(" ()") if note.startswith(NO_PICTURE) else note
    return (
        f'<div class="placeholder" role="img" aria-label="{esc(NO_PICTURE)}">{esc(NO_PICTURE)}'
        + (f"<small>{esc(detail)}</small>" if detail else "")
        + "</div>"
    )


# ------------------------------------------------------------------------------------------------
# Words (plain text: escape them where they are placed)
# ------------------------------------------------------------------------------------------------


def _xyz(v: tuple[float, ...], digits: int = 0) -> str:
    return ", ".join(f"{x:.{digits}f}" for x in v)


def _axis(v: tuple[float, ...]) -> str:
    """The axis a direction mostly points along."""
    return "xyz"[max(range(3), key=lambda i: abs(v[i]))]


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def _spec_text(p: PartSpec) -> str:
    bits = [str(p.material)] + ([str(p.method)] if p.method is not None else [])
    if p.joint is not None:
        bits.append(f"{p.joint.type.value} {_axis(p.joint.axis)}")
    else:
        bits.append("fixed" if p.fixed else "free")
    if p.motor is not None:
        bits.append(f"{p.motor.mode.value.replace('_', ' ')} motor")
    size = "×".join(f"{x:.0f}" for x in p.bbox.size_mm)
    return f"{p.label} ({size} mm, {', '.join(bits)})"


def description(card: BenchmarkCard) -> str:
    """One line: the family and seed, what an agent is given (the definition's description, else the goal
    in numbers) and what the reference does. Plain text."""
    e, d = card.entry, card.definition
    head = f"{e.family}, seed {e.seed}"
    if d is None:
        return f"{head}: no definition in the store."
    goal = d.description.strip()
    if not goal:
        g = d.goal_zone
        goal = (
            f"get the {payload_text(d.payload)} from "
            f"({_xyz(d.payload.start_mm)}) mm into the goal zone ({_xyz(g.min_mm)})–({_xyz(g.max_mm)}) mm"
        )
        for p in d.extra_payloads:
            pg = d.goal_of(p)
            goal += f"; the {payload_text(p)} from ({_xyz(p.start_mm)}) mm into ({_xyz(pg.min_mm)})–({_xyz(pg.max_mm)}) mm"
    ref = d.reference_solution
    if ref:
        what = f"{len(ref)} part{'' if len(ref) == 1 else 's'}: " + "; ".join(_spec_text(p) for p in ref)
    else:
        what = "none recorded"
    return f"{head}: {_sentence(goal)} Reference: {_sentence(what)}"


def random_part(p: RandomPart) -> str:
    """One part of a random design, in words. Plain text."""
    dims = "×".join(f"{x:.4g}" for x in p.dims_mm)
    text = f"{p.kind} {dims} mm, {p.material} {p.method}, at ({_xyz(p.center_mm)}) mm"
    if any(p.euler_deg):
        text += f", turned ({_xyz(p.euler_deg)})°"
    return text + (f", {p.joint}" if p.joint else "")
