"""Manufacturing analysis requests (:class:`~shared.models.AnalyzeRequest`): valid examples and their
malformed variants, with quantity ladders and user price tables."""

from __future__ import annotations

from hypothesis import strategies as st

from faults.fuzz.bounds import bad_value, longest, valid_value
from faults.fuzz.mutation import mutated, one_mutation, with_non_object
from faults.fuzz.parts import bad_part_source, part_source
from faults.fuzz.strategies import (
    JSON,
    MATERIAL_SPELLINGS,
    MATERIALS,
    METHOD_SPELLINGS,
    METHODS,
    SAFE_CHARS,
    bad_bool,
    bad_token,
    non_string,
)
from shared.models import (
    MAX_LADDER_RUNGS,
    AnalyzeRequest,
    MaterialPrice,
    PriceTable,
    ProcessRates,
    Quantity,
    normalise_method,
    normalise_token,
)

_NAME_CHARS = longest(PriceTable, "name")
"""The longest name a price table may have."""


def _price_table() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "name": st.text(alphabet=SAFE_CHARS, min_size=1, max_size=20),
            "materials": st.dictionaries(
                st.sampled_from(MATERIAL_SPELLINGS).filter(lambda m: m == normalise_token(m)),
                st.fixed_dictionaries({"price_usd_per_kg": st.floats(0.01, 1000)}),
                max_size=2,
            ),
            "processes": st.dictionaries(
                st.sampled_from(METHODS),
                st.fixed_dictionaries(
                    {}, optional={"machine_rate_usd_per_h": st.floats(1, 500), "margin": st.floats(0, 0.9)}
                ),
                max_size=2,
            ),
        },
    )


def _bad_price_table() -> st.SearchStrategy[JSON]:
    bad_material = bad_token(MATERIALS, normalise_token).filter(lambda k: isinstance(k, str))
    bad_method = bad_token(METHODS, normalise_method).filter(lambda k: isinstance(k, str))
    bad_price = st.fixed_dictionaries({"price_usd_per_kg": bad_value(MaterialPrice, "price_usd_per_kg")})
    bad_rates = st.one_of(
        st.fixed_dictionaries(
            {"machine_rate_usd_per_h": bad_value(ProcessRates, "machine_rate_usd_per_h", optional=True)}
        ),
        st.fixed_dictionaries({"margin": bad_value(ProcessRates, "margin", optional=True)}),
        st.fixed_dictionaries({"setup_usd": bad_value(ProcessRates, "setup_usd", optional=True)}),
        st.fixed_dictionaries({"rate": st.floats()}),  # unknown field
    )
    invalid = {
        "name": st.one_of(
            st.just(""), st.text(min_size=_NAME_CHARS + 1, max_size=_NAME_CHARS + 100), non_string()
        ),
        "materials": st.one_of(
            st.dictionaries(
                bad_material,
                st.fixed_dictionaries({"price_usd_per_kg": st.just(1.0)}),
                min_size=1,
                max_size=2,
            ),
            st.dictionaries(st.sampled_from(MATERIALS), bad_price, min_size=1, max_size=2),
            non_string().filter(lambda v: not isinstance(v, dict) and v is not None),
        ),
        "processes": st.one_of(
            st.dictionaries(bad_method, st.just({}), min_size=1, max_size=2),
            st.dictionaries(st.sampled_from(METHODS), bad_rates, min_size=1, max_size=2),
        ),
    }
    return one_mutation(_price_table(), invalid, [], ["name", "materials", "processes"])


def analyze_requests() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "part": part_source((".step", ".stp", ".stl", ".py")),
            "method": st.sampled_from(METHOD_SPELLINGS),
            "material": st.sampled_from(MATERIAL_SPELLINGS),
            "quantity": valid_value(Quantity),
        },
        optional={
            "ladder": st.lists(valid_value(Quantity), max_size=MAX_LADDER_RUNGS),
            "price_table": _price_table(),
            "alternatives": st.booleans(),
        },
    )


def malformed_analyze_request() -> st.SearchStrategy[JSON]:
    base = analyze_requests()
    q = valid_value(Quantity)
    invalid = {
        "part": bad_part_source((".step", ".stp", ".stl", ".py")),
        "method": bad_token(METHODS, normalise_method),
        "material": bad_token(MATERIALS, normalise_token),
        "quantity": bad_value(Quantity),
        "ladder": st.one_of(
            st.builds(
                lambda a, b, x: [*a, x, *b],
                st.lists(q, max_size=5),
                st.lists(q, max_size=5),
                bad_value(Quantity),
            ),
            st.lists(q, min_size=MAX_LADDER_RUNGS + 1, max_size=40),
            st.text(max_size=20),
            st.dictionaries(st.text(max_size=5), q, max_size=3),
        ),
        "price_table": st.one_of(
            _bad_price_table(), non_string(optional=True).filter(lambda v: not isinstance(v, dict))
        ),
        "alternatives": bad_bool(),
    }
    required = ["part", "method", "material", "quantity"]
    return with_non_object(base, mutated(base, invalid, required, AnalyzeRequest.model_fields))
