"""Valid-shaped but hostile inputs: requests every model accepts that the workflow must refuse, at once, with a
typed non-retryable error (paths outside the part roots, escaping object keys, unknown families or
benchmarks, limits, state from outside), and workflows started with the wrong number of arguments."""

from __future__ import annotations

from dataclasses import dataclass

from faults.fuzz.parts import PATH_CHARS, SHA256_HEX
from faults.fuzz.strategies import JSON, nest
from shared.models import MAX_BENCHMARK_ID_CHARS, MAX_DESIGN_PARTS, MAX_GENERATOR_VERSION, MAX_SEED


@dataclass(frozen=True)
class Case:
    label: str
    args: tuple[JSON, ...]
    """The workflow's arguments: one for a request; none or two for a wrong argument count."""
    hostile: bool = False


NO_ROOT = "/nonexistent-mechbench-part-root"


def _escaping_artifact(key: str, suffix_format: str) -> dict[str, JSON]:
    return {"artifact": {"key": key, "sha256": "0" * SHA256_HEX, "size_bytes": 10}, "format": suffix_format}


def _longest_path(name: str) -> str:
    """An absolute path of ``a/`` directories ending in ``name``, exactly as long as a part path may be."""
    return ("/" + "a/" * PATH_CHARS)[: PATH_CHARS - len(name)] + name


def hostile_inputs(part_root: str | None = None, sdk_limits: bool = False) -> dict[str, list[Case]]:
    """Per workflow: requests the model accepts that the workflow must refuse with a typed, non-retryable
    error before any heavy work: paths outside ``part_root`` (the worker's ``MECHBENCH_PART_ROOTS``),
    object keys that escape the store, unknown families or benchmarks, counts over the limit, continue-as-new
    state from outside, and a workflow started with no input or with two.

    ``sdk_limits`` adds two inputs of which one is nested too deep to decode: the Python SDK decodes the
    arguments of a workflow started with more arguments than it takes before any workflow or interceptor
    code runs, so that one fails the workflow task (a retry loop) whatever the application does."""
    root = (part_root or NO_ROOT).rstrip("/")
    escape_keys = [
        "../../../../etc/passwd",
        "/etc/passwd",
        "uploads/../../x",
        "uploads/a\x00b",
        "uploads/\u202egpj",
        "uploads/" + "a" * 600,
    ]
    missing = "uploads/" + "0" * 64

    def arity(example: JSON) -> list[Case]:
        cases = [Case("no input", (), True), Case("two inputs", (example, example), True)]
        if sdk_limits:
            cases.append(Case("two inputs, one undecodable", (example, nest(230, "list", 0)), True))
        return cases

    gb: list[Case] = [
        Case("unknown family", ({"family": "no-such-family", "seed": 1},)),
        Case("other generator version", ({"family": "chute", "seed": 0, "generator_version": 999},)),
        Case(
            "largest generator version",
            ({"family": "gap", "seed": MAX_SEED, "generator_version": MAX_GENERATOR_VERSION},),
        ),
        Case("script /etc/passwd", ({"script": {"path": "/etc/passwd", "format": "script"}},)),
        Case(
            "script traversal", ({"script": {"path": f"{root}/../../../../etc/passwd", "format": "script"}},)
        ),
        Case("script relative path", ({"script": {"path": "bench.py"}},)),
        Case("script long name", ({"script": {"path": f"{root}/{'a' * 300}.py"}},)),
        Case("script odd unicode", ({"script": {"path": f"{root}/\u202egpj.py", "filename": "e\u0301.py"}},)),
        Case("script missing object", ({"script": _escaping_artifact(missing + ".py", "script")},)),
        Case(
            "script over the size limit",
            (
                {
                    "script": {
                        "artifact": {"key": missing + ".py", "sha256": "0" * SHA256_HEX, "size_bytes": 10**12}
                    }
                },
            ),
        ),
        *[
            Case(f"script key {k[:24]!r}", ({"script": _escaping_artifact(k, "script")},))
            for k in escape_keys
        ],
    ]
    ds: list[Case] = [
        Case("unknown family", ({"families": ["no-such-family"], "count": 1},)),
        Case("count over the limit", ({"families": ["chute"], "count": 10**9},)),
        Case("every seed of two families", ({"families": ["gap", "lift"], "count": 2 * (MAX_SEED + 1)},)),
        Case(
            "resume from outside",
            (
                {
                    "families": ["gap"],
                    "count": 1,
                    "resume": {"dataset_id": "sneaky", "generator_version": 1, "chain": "0123456789ab"},
                },
            ),
        ),
    ]
    analysis = {"method": "cnc", "material": "aluminum_6061", "quantity": 1}
    an: list[Case] = [
        Case("path /etc/passwd", ({**analysis, "part": {"path": "/etc/passwd", "format": "step"}},)),
        Case(
            "path traversal",
            ({**analysis, "part": {"path": f"{root}/../../../../etc/passwd", "format": "step"}},),
        ),
        Case("path /proc", ({**analysis, "part": {"path": "/proc/self/environ", "format": "stl"}},)),
        Case("path /dev/zero", ({**analysis, "part": {"path": "/dev/zero", "format": "stl"}},)),
        Case("relative path", ({**analysis, "part": {"path": "part.step"}},)),
        Case("the root itself", ({**analysis, "part": {"path": root, "format": "step"}},)),
        Case("missing file", ({**analysis, "part": {"path": f"{root}/missing.step"}},)),
        Case("long name", ({**analysis, "part": {"path": f"{root}/{'a' * 300}.step"}},)),
        Case(f"{PATH_CHARS}-character path", ({**analysis, "part": {"path": _longest_path("xx.step")}},)),
        Case("odd unicode path", ({**analysis, "part": {"path": f"{root}/\u202egpj.step"}},)),
        Case("fullwidth solidus", ({**analysis, "part": {"path": "/\uff0fetc\uff0fpasswd.step"}},)),
        Case(
            "method not for the material",
            ({**analysis, "method": "im", "part": {"path": "/etc/passwd", "format": "step"}},),
        ),
        Case("missing object", ({**analysis, "part": _escaping_artifact(missing + ".step", "step")},)),
        Case(
            "object over the size limit",
            (
                {
                    **analysis,
                    "part": {
                        "artifact": {
                            "key": missing + ".stl",
                            "sha256": "0" * SHA256_HEX,
                            "size_bytes": 10**30,
                        }
                    },
                },
            ),
        ),
        *[
            Case(f"key {k[:24]!r}", ({**analysis, "part": _escaping_artifact(k, "step")},))
            for k in escape_keys
        ],
    ]
    meta = {"label": "p", "material": "abs", "method": "fdm"}
    design = {"parts": [{"source": {"path": "/etc/passwd", "format": "step"}, "metadata": meta}]}
    ev: list[Case] = [
        Case("unknown benchmark", ({"benchmark_id": "no-such-benchmark-s0-v1", "design": design},)),
        Case("longest id", ({"benchmark_id": "a" * MAX_BENCHMARK_ID_CHARS, "design": design},)),
        Case(
            "unknown benchmark, escaping keys",
            (
                {
                    "benchmark_id": "chute-s0-v9",
                    "design": {
                        "parts": [
                            {"source": _escaping_artifact(k, "step"), "metadata": meta} for k in escape_keys
                        ]
                    },
                },
            ),
        ),
        Case(
            "unknown benchmark, script",
            (
                {
                    "benchmark_id": "chute-s0-v9",
                    "design": {"script": {"path": "/etc/passwd", "format": "script"}},
                },
            ),
        ),
        Case(
            "unknown benchmark, many parts",
            ({"benchmark_id": "gap-s1-v9", "design": {"parts": [design["parts"][0]] * MAX_DESIGN_PARTS}},),
        ),
        Case(
            "unknown benchmark, deep metadata",
            (
                {
                    "benchmark_id": "gap-s1-v9",
                    "design": {
                        "parts": [
                            {
                                "source": {"path": "/etc/passwd", "format": "stl"},
                                "metadata": nest(150, "dict", "x"),
                            }
                        ]
                    },
                },
            ),
        ),
        Case(
            "unknown benchmark, wide metadata",
            (
                {
                    "benchmark_id": "gap-s1-v9",
                    "design": {
                        "parts": [
                            {
                                "source": {"path": "/etc/passwd", "format": "stl"},
                                "metadata": {f"k{i}": "v" * 50 for i in range(2000)},
                            }
                        ]
                    },
                },
            ),
        ),
    ]
    out = {
        "GenerateBenchmark": gb + arity({"family": "no-such-family"}),
        "GenerateDataset": ds + arity({"families": ["no-such-family"], "count": 1}),
        "AnalyzeManufacturing": an + arity({**analysis, "part": {"path": "/etc/passwd", "format": "step"}}),
        "EvaluateDesign": ev + arity({"benchmark_id": "no-such-benchmark", "design": design}),
    }
    return {name: [Case(c.label, c.args, True) for c in cases] for name, cases in out.items()}
