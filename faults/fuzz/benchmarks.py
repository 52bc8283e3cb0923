"""Benchmark and dataset requests (:class:`~shared.models.GenerateBenchmarkRequest`,
:class:`~shared.models.DatasetRequest`): valid examples and their malformed variants, a dataset's resume
cursor included, and datasets whose fields are each valid but whose last seed is not."""

from __future__ import annotations

from hypothesis import strategies as st

from faults.fuzz.bounds import bad_value, limits, valid_value
from faults.fuzz.mutation import mutated, one_mutation, with_non_object
from faults.fuzz.parts import bad_script_source
from faults.fuzz.strategies import HEX, JSON, bad_identifier, hostile_text, non_string, valid_identifier
from shared.families import FAMILIES
from shared.models import (
    MAX_FAMILIES,
    MAX_SEED,
    CheckInterval,
    ChunkSize,
    DatasetCursor,
    DatasetRequest,
    GenerateBenchmarkRequest,
    GeneratorVersion,
    Parallelism,
    SceneCount,
    Seed,
)

_COUNT = limits(DatasetRequest, "count")
_MOST_VALID_COUNT = 10
"""The largest count a valid dataset request is drawn with (small: it only has to reach the validators)."""


def _family() -> st.SearchStrategy[str]:
    return st.sampled_from(FAMILIES).flatmap(lambda f: st.sampled_from([f, f.upper(), f" {f} "]))


def generate_benchmark_requests() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.GenerateBenchmarkRequest` values (built-in family and seed)."""
    return st.fixed_dictionaries(
        {"family": _family(), "seed": valid_value(Seed)},
        optional={
            "n_scenes": valid_value(SceneCount),
            "check_interval_steps": valid_value(CheckInterval),
            "dataset_id": valid_identifier(),
            "generator_version": valid_value(GeneratorVersion),
        },
    )


def malformed_generate_benchmark_request() -> st.SearchStrategy[JSON]:
    base = generate_benchmark_requests()
    invalid = {
        # None: neither family nor a (valid) script is left
        "family": st.one_of(bad_identifier(), non_string()),
        "script": st.one_of(bad_script_source(), non_string(optional=True)),
        "seed": bad_value(Seed),
        "n_scenes": bad_value(SceneCount, optional=True),
        "check_interval_steps": bad_value(CheckInterval, optional=True),
        "dataset_id": st.one_of(bad_identifier(), non_string(optional=True)),
        "generator_version": bad_value(GeneratorVersion, optional=True),
    }
    return with_non_object(base, mutated(base, invalid, ["family"], GenerateBenchmarkRequest.model_fields))


def dataset_requests() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "families": st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=4, unique=True),
            "count": st.integers(int(_COUNT.lo or 0), _MOST_VALID_COUNT),
        },
        optional={
            # the last seeds (base_seed + (count - 1) // len(families)) may not pass the largest seed
            "base_seed": valid_value(Seed).map(lambda s: min(s, MAX_SEED - (_MOST_VALID_COUNT - 1))),
            "dataset_id": valid_identifier(),
            "max_parallel": valid_value(Parallelism),
            "chunk_size": valid_value(ChunkSize),
            "n_scenes": valid_value(SceneCount),
            "check_interval_steps": valid_value(CheckInterval),
        },
    )


def _cursor() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "dataset_id": valid_identifier(),
            "generator_version": valid_value(GeneratorVersion),
            "chain": st.text(alphabet=HEX, min_size=12, max_size=12),
        },
        optional={"next_index": st.integers(0, 1000), "published": st.integers(0, 1000)},
    )


def _bad_cursor() -> st.SearchStrategy[JSON]:
    bad_chain = st.one_of(
        hostile_text(),
        st.text(alphabet=HEX, max_size=11),
        st.text(alphabet=HEX, min_size=13, max_size=20),
        st.just("0123456789AB"),
        st.just("0123456789ab\n"),
        non_string(),
    )
    invalid = {
        "dataset_id": st.one_of(bad_identifier(), non_string()),
        "generator_version": bad_value(GeneratorVersion),
        "chain": bad_chain,
        "next_index": bad_value(DatasetCursor, "next_index"),
        "published": bad_value(DatasetCursor, "published"),
    }
    fields = [
        "dataset_id",
        "generator_version",
        "chain",
        "next_index",
        "part_count",
        "published",
        "rejected",
        "failed",
    ]
    return one_mutation(
        _cursor(), invalid, ["dataset_id", "generator_version", "chain"], fields
    ) | non_string(optional=True)


def _bad_families() -> st.SearchStrategy[JSON]:
    def insert(fams: list[str], bad: str, at: int) -> list[str]:
        return [*fams[:at], bad, *fams[at:]]

    good = st.lists(st.sampled_from(FAMILIES), max_size=3, unique=True)
    return st.one_of(
        st.just([]),
        st.builds(insert, good, bad_identifier(), st.integers(0, 3)),
        st.builds(insert, good, non_string(), st.integers(0, 3)),
        st.sampled_from(FAMILIES).map(lambda f: [f, f.upper()]),
        st.sampled_from(FAMILIES).map(lambda f: [f, f" {f}"]),
        st.sampled_from(FAMILIES),  # a string, not a list
        non_string().filter(
            lambda v: not isinstance(v, list) or any(not isinstance(x, str) for x in v) or not v
        ),
    )


def malformed_dataset_request() -> st.SearchStrategy[JSON]:
    base = dataset_requests()
    invalid = {
        "families": _bad_families(),
        # over every seed even with the most families (the seeds' bound is checked with them, below)
        "count": st.one_of(
            bad_value(DatasetRequest, "count"), st.integers(min_value=(MAX_SEED + 1) * MAX_FAMILIES + 1)
        ),
        "base_seed": bad_value(Seed),
        "dataset_id": st.one_of(bad_identifier(), non_string(optional=True)),
        "max_parallel": bad_value(Parallelism),
        "chunk_size": bad_value(ChunkSize),
        "n_scenes": bad_value(SceneCount, optional=True),
        "check_interval_steps": bad_value(CheckInterval, optional=True),
        "resume": _bad_cursor(),
    }
    return with_non_object(
        base,
        st.one_of(
            mutated(base, invalid, ["families", "count"], DatasetRequest.model_fields),
            _seeds_past_the_end(base),
        ),
    )


def _seeds_past_the_end(base: st.SearchStrategy[dict[str, JSON]]) -> st.SearchStrategy[dict[str, JSON]]:
    """A valid request whose last benchmark's seed (``base_seed + (count - 1) // len(families)``) passes the
    largest seed: each field is valid, their combination is not."""

    def past(req: dict[str, JSON], left: int, extra: int) -> dict[str, JSON]:
        n = len(req["families"])
        return {**req, "base_seed": MAX_SEED - left, "count": (left + 1) * n + 1 + extra}

    return st.builds(past, base, st.integers(0, 10**6), st.integers(0, 10**6))
