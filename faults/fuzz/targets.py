"""The four workflow input models the fuzzer targets, each with its strategies of valid and malformed
values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st
from pydantic import BaseModel

from faults.fuzz.analysis import analyze_requests, malformed_analyze_request
from faults.fuzz.benchmarks import (
    dataset_requests,
    generate_benchmark_requests,
    malformed_dataset_request,
    malformed_generate_benchmark_request,
)
from faults.fuzz.designs import evaluate_requests, malformed_evaluate_request
from faults.fuzz.strategies import JSON
from shared.models import AnalyzeRequest, DatasetRequest, EvaluateRequest, GenerateBenchmarkRequest


@dataclass(frozen=True)
class Target:
    name: str
    """The workflow's name (``shared.temporal.WF_*``)."""
    model: type[BaseModel]
    malformed: Callable[[], st.SearchStrategy[JSON]]
    valid: Callable[[], st.SearchStrategy[JSON]]


TARGETS: tuple[Target, ...] = (
    Target(
        "GenerateBenchmark",
        GenerateBenchmarkRequest,
        malformed_generate_benchmark_request,
        generate_benchmark_requests,
    ),
    Target("GenerateDataset", DatasetRequest, malformed_dataset_request, dataset_requests),
    Target("AnalyzeManufacturing", AnalyzeRequest, malformed_analyze_request, analyze_requests),
    Target("EvaluateDesign", EvaluateRequest, malformed_evaluate_request, evaluate_requests),
)
"""The four workflow input models (workflow name == ``shared.temporal.WF_*``, checked by the tests)."""


def target(name_or_model: str | type[BaseModel]) -> Target:
    for t in TARGETS:
        if name_or_model in (t.name, t.model, getattr(t.model, "__name__", None)):
            return t
    raise KeyError(name_or_model)


def malformed(name_or_model: str | type[BaseModel]) -> st.SearchStrategy[JSON]:
    """Malformed inputs for a workflow (by name) or input model."""
    return target(name_or_model).malformed()
