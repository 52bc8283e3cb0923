"""The mutation engine: a valid value (a hypothesis strategy of JSON objects) made invalid by one to three
mutations on distinct top-level keys (a bad value, a required field dropped, an unknown field), or replaced
by something that is no object at all."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import strategies as st

from faults.fuzz.strategies import JSON, big_ints, deep_garbage, garbage, hostile_text

_DROP = object()
"""Mutation value: remove the field."""


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, picked in proportion to its weight (``st.one_of`` flattens nested choices
    and picks among all their branches evenly)."""
    table = [s for w, s in choices for _ in range(w)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


def _apply(base: dict[str, JSON], mutations: Sequence[tuple[str, JSON]]) -> dict[str, JSON]:
    out = dict(base)
    for key, value in mutations:
        if value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def extra_key(fields: Iterable[str]) -> st.SearchStrategy[str]:
    known = set(fields)
    return st.one_of(
        st.sampled_from(
            ["__proto__", "constructor", "$where", "../x", "Family", "id ", "\x00", "\u202efamily"]
        ),
        st.text(min_size=1, max_size=20),
    ).filter(lambda k: k not in known)


def mutated(
    base: st.SearchStrategy[dict[str, JSON]],
    invalid: dict[str, st.SearchStrategy[JSON]],
    required: Sequence[str],
    fields: Iterable[str],
    max_mutations: int = 3,
) -> st.SearchStrategy[dict[str, JSON]]:
    """``base`` (valid) with 1..max_mutations mutations on distinct top-level keys, each of which makes the
    value invalid whatever the others do: an invalid value for a field, a required field dropped, an
    unknown field added."""
    names = sorted(invalid)
    one = weighted(
        (8, st.sampled_from(names).flatmap(lambda k: invalid[k].map(lambda v: (k, v)))),
        (1 if required else 0, st.sampled_from(list(required or ["-"])).map(lambda k: (k, _DROP))),
        (1, st.tuples(extra_key(fields), garbage(6))),
    )
    return st.builds(
        _apply, base, st.lists(one, min_size=1, max_size=max_mutations, unique_by=lambda m: m[0])
    )


def one_mutation(
    base: st.SearchStrategy[dict[str, JSON]],
    invalid: dict[str, st.SearchStrategy[JSON]],
    required: Sequence[str],
    fields: Iterable[str],
) -> st.SearchStrategy[dict[str, JSON]]:
    """A nested model's invalid value: its valid example with exactly one invalidating mutation."""
    return mutated(base, invalid, required, fields, max_mutations=1)


def non_object(base: st.SearchStrategy[dict[str, JSON]], none: bool = True) -> st.SearchStrategy[JSON]:
    """Values that are not an object at all (including the object JSON-encoded twice); ``none``: also
    None (leave it out where None is a valid value)."""

    return st.one_of(
        *([st.none()] if none else []),
        st.booleans(),
        st.integers(),
        big_ints(),
        st.floats(),
        st.text(max_size=50),
        hostile_text(),
        base.map(lambda d: [d]),
        base.map(lambda d: json.dumps(d)),
        st.lists(garbage(6), max_size=5),
        deep_garbage(),
    )


def with_non_object(
    base: st.SearchStrategy[dict[str, JSON]], objects: st.SearchStrategy[JSON]
) -> st.SearchStrategy[JSON]:
    # mostly objects: they reach the deeper validators
    return weighted((9, objects), (1, non_object(base)))
