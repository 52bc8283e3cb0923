"""The building blocks every input's strategy uses: strings that try to escape (traversal, absolute paths,
NUL, odd unicode, very long names), identifiers and non-identifiers, wrong types, huge integers, deep
garbage, lax booleans and enum tokens that normalise to nothing known."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st

from shared.models import ID_PATTERN, ManufacturingMethod, MaterialId

JSON = Any
"""A JSON-like value: dict, list, str, int, float, bool or None."""
MAX_TEXT = 20_000
"""Longest string any strategy produces: payloads stay far below Temporal's 2 MB blob limit."""

LONG_NAME = "a" * 10_000
INT64 = 2**63
_ID = re.compile(ID_PATTERN.removeprefix("^").removesuffix("$"))
"""An :data:`~shared.models.Identifier`: the contract's pattern without its anchors (``fullmatch`` anchors
it, and hypothesis draws other strings from the anchored spelling, which would change the seeded values)."""
HEX = "0123456789abcdef"

# --------------------------------------------------------------------------------------------
# Escape strings
# --------------------------------------------------------------------------------------------

ESCAPES: tuple[str, ...] = (
    "..",
    ".",
    "../x",
    "../../../../etc/passwd",
    "/",
    "/abs",
    "/etc/passwd",
    "a/../../b",
    "a/./b",
    "a//b",
    "uploads/../../x.step",
    "..\\..\\windows\\system32",
    "C:\\evil",
    "\\\\server\\share",
    "\x00",
    "a\x00b",
    "x.step\x00.py",
    "~",
    "~root/.ssh/id_rsa",
    "$HOME",
    "%2e%2e%2f",
    "..%2fetc",
    "\n",
    "a\nb",
    " ",
    "\t",
    "\u202egpj.exe",  # right-to-left override
    "a\u200bb",  # zero-width space
    "\ufeffbom",  # byte-order mark
    "\u200f..",  # right-to-left mark
    "e\u0301",  # combining acute
    "\u0301",
    "a\uff0fb",  # fullwidth solidus
    "\uff0e\uff0e\uff0fx",  # fullwidth dots and solidus
    "a\u2215b",  # division slash
    "a\u2044b",  # fraction slash
    "\U0001f600",
    "\U0001f4a5.step",
    "\u0130",  # dotted capital I: lower() grows a combining dot
    "stra\u00dfe",
    "\x7f",
    "\x1b[31m",
    LONG_NAME,
    "a" * 65,
    "a" * 256,
    "/" + "a" * 1100,
)
"""Ids, paths, file names and keys that try to escape or to confuse a reader."""

POISON: tuple[str, ...] = (
    "/", "\\", "\x00", "..", "\u202e", "\u200b", "\u200f", "\u0301", "\uff0f", "\u2215", "\U0001f600",
    ":", "%", " ", "\n", "*", "?", "'", '"', "<", ">", "|", "$", "\x7f",
)  # fmt: skip
"""Fragments none of which an identifier may contain."""

SAFE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-."


def _capped(s: str) -> str:
    return s[:MAX_TEXT]


def hostile_text() -> st.SearchStrategy[str]:
    """Strings that try to escape: traversal, absolute paths, NUL, very long names, odd unicode."""
    safe = st.text(alphabet=SAFE_CHARS, max_size=12)
    return st.one_of(
        st.sampled_from(ESCAPES),
        st.builds(lambda a, p, b: a + p + b, safe, st.sampled_from(POISON), safe),
        st.lists(
            st.sampled_from(["..", ".", "", "etc", "passwd", "a", "\x00", "\u202e", "uploads"]),
            min_size=2,
            max_size=8,
        ).map("/".join),
        st.text(max_size=40),
        st.text(min_size=65, max_size=300),
    ).map(_capped)


def _normalised_id(s: str) -> str:
    """What :data:`shared.models.FamilyName` makes of a string before matching (Identifier: unchanged)."""
    return s.strip().lower()


def bad_identifier() -> st.SearchStrategy[str]:
    """Strings that are no identifier, even after the family name's trim and lower-casing."""
    return hostile_text().filter(lambda s: _ID.fullmatch(_normalised_id(s)) is None)


def valid_identifier() -> st.SearchStrategy[str]:
    return st.from_regex(_ID, fullmatch=True)


# --------------------------------------------------------------------------------------------
# Wrong types and numbers
# --------------------------------------------------------------------------------------------


def big_ints() -> st.SearchStrategy[int]:
    return st.sampled_from([INT64 - 1, INT64, 2**64, -INT64 - 1, 10**30, -(10**30), 10**400, -(10**400)])


def garbage(max_leaves: int = 10) -> st.SearchStrategy[JSON]:
    """Any JSON-like value, small, with escape strings among the leaves."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        big_ints(),
        st.floats(),
        st.text(max_size=30),
        hostile_text(),
    )
    return st.recursive(
        scalars,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=max_leaves,
    )


def nest(depth: int, kind: str, leaf: JSON) -> JSON:
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def deep_garbage() -> st.SearchStrategy[JSON]:
    """Nesting deep enough to trip recursion limits (JSON decoders stop near 200 levels)."""
    return st.builds(
        nest, st.integers(30, 240), st.sampled_from(["list", "dict"]), st.one_of(st.none(), hostile_text())
    )


def containers() -> st.SearchStrategy[JSON]:
    return st.one_of(
        st.lists(garbage(4), max_size=3),
        st.dictionaries(st.text(max_size=8), garbage(4), max_size=3),
        deep_garbage(),
    )


def non_string(optional: bool = False) -> st.SearchStrategy[JSON]:
    """Values no string field accepts (pydantic does not turn numbers into strings)."""
    s = st.one_of(st.booleans(), st.integers(), big_ints(), st.floats(), containers())
    return s if optional else s | st.none()


LAX_BOOLS: tuple[JSON, ...] = (0, 1, 0.0, 1.0, "true", "false", "True", "yes", "no", "on", "off", "t", "f", "y",
                               "n", "0", "1")  # fmt: skip
"""What lax coercion turns into a boolean; the strict JSON boundary takes only ``true`` and ``false``."""


def bad_bool() -> st.SearchStrategy[JSON]:
    return st.one_of(
        st.sampled_from(LAX_BOOLS),
        st.integers(),
        st.floats(),
        hostile_text(),
        containers(),
        st.none(),
    )


def bad_token(valid: Iterable[str], normalise: Callable[[Any], Any]) -> st.SearchStrategy[JSON]:
    """Values an enum field rejects after its boundary normalisation."""
    ok = set(valid)
    words = st.sampled_from(["laser", "unobtainium", "cnc milling!", "steel carbon", "STEP", "3d", ""])
    return st.one_of(
        st.one_of(words, hostile_text()).filter(lambda s: normalise(s) not in ok),
        non_string(),
    )


METHODS = [m.value for m in ManufacturingMethod]
MATERIALS = [m.value for m in MaterialId]
METHOD_SPELLINGS = [*METHODS, "cnc", "CNC", "milling", "im", "Injection-Molding", "3dp", "fdm", "3d printing"]
MATERIAL_SPELLINGS = [*MATERIALS, "ALUMINUM-6061", "Steel Carbon", " abs "]
