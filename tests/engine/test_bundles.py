"""Design and benchmark bundles: the sandbox's ``design``/``benchmark`` exporters, the defensive readers,
benchmark scripts turned into a FamilyDesign, and the examples (a chute design that solves ``chute`` seed 0,
one that does not, a ``ramp`` benchmark script that is publishable).

Every sandbox run costs a fresh interpreter importing build123d (~2.5 s), so all of them start at once in
one module fixture (two at a time) and the tests look their results up; the many small cases of the
exporters' checks run in this process instead, on the same converter functions.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import struct
import warnings
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from build123d import Box as BoxPart
from build123d import BuildPart, Cylinder, Pos, Shape

from engines.cad import build as build_module
from engines.cad.bundle import (
    MAX_PARTS,
    BenchmarkBundle,
    BundleError,
    BundlePart,
    read_benchmark_bundle,
    read_design_bundle,
    write_bundle,
)
from engines.cad.export import load_step
from engines.cad.families import FAMILIES, FamilyDesign
from engines.cad.script_benchmark import (
    InvalidBenchmarkScript,
    benchmark_design,
    benchmark_design_from_bytes,
    design_parts,
)
from engines.cad.validate import validate_geometry
from engines.physics.collision_pack import unpack
from engines.physics.runner import simulate
from runtime import confine, sandbox_exports
from runtime.sandbox import ScriptError, ScriptInvalidResult, ScriptResult, run_script
from shared.models import (
    BenchmarkDefinition,
    ManufacturingMethod,
    MaterialId,
    Outcome,
    PartRole,
    SimulationMode,
    SimulationSettings,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
LANDLOCK_ABI = confine.landlock_abi()

DESIGN_SCRIPT = """
from build123d import *

def build():
    with BuildPart() as bracket:
        Box(40, 20, 5)
    post = Pos(0, 0, 10) * Cylinder(4, 10)
    return (
        {
            "shape": bracket,
            "label": "bracket",
            "material": "pla",
            "method": "fdm",
            "placement": {"position_mm": (1, 2, 3)},
            "note": {"why": ("tuple", 1.5, None, True)},
        },
        {"shape": post, "material": "steel_carbon"},
    )
"""

GARBAGE_SCRIPT = "from build123d import Box\n\ndef build():\n    return {}\n"
GARBAGE: dict[str, tuple[str, str, str]] = {
    # name: (exporter, what build() returns, expected message)
    "box_not_list": ("design", "Box(1, 2, 3)", "build()'s result is a Box, not a list of parts"),
    "no_shape": (
        "design",
        "[{'shape': Box(1, 1, 1), 'label': 'a'}, {'label': 'lid', 'material': 'pla'}]",
        "item 1 (label 'lid') has no 'shape'",
    ),
    "set_metadata": (
        "design",
        "[{'shape': Box(1, 1, 1), 'label': 'a', 'tags': {'x', 'y'}}]",
        "item 0 (label 'a'): metadata['tags'] is a set, not a JSON value",
    ),
    "nan_metadata": (
        "design",
        (
            "[{'shape': Box(1, 1, 1), 'label': 'a'},"
            " {'shape': Box(1, 1, 1), 'label': 'b', 'placement': {'position_mm': [0, float('nan'), 0]}}]"
        ),
        "item 1 (label 'b'): metadata['placement']['position_mm'][1] is nan, not a finite number",
    ),
    "too_many_parts": (
        "design",
        "[{'shape': Box(1, 1, 1), 'label': f'p{i}'} for i in range(33)]",
        "build()'s result has 33 parts; at most 32",
    ),
    "benchmark_without_fixtures": (
        "benchmark",
        "{'reference_solution': [{'shape': Box(1, 1, 1), 'label': 'r'}], 'payload': {}}",
        "build()'s dict has no 'fixtures'",
    ),
}

RUNS: dict[str, tuple[str, str]] = {
    "design": ("design", DESIGN_SCRIPT),
    "chute_design": ("design", (EXAMPLES / "designs" / "chute_design.py").read_text()),
    "ramp_benchmark": ("benchmark", (EXAMPLES / "benchmarks" / "ramp_benchmark.py").read_text()),
    **{name: (exporter, GARBAGE_SCRIPT.format(value)) for name, (exporter, value, _) in GARBAGE.items()},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScriptResult | ScriptError]:
    """Every sandbox run of this module, two at a time: name -> result or the ScriptError it raised."""
    root = tmp_path_factory.mktemp("bundle-runs")

    def run(item: tuple[str, tuple[str, str]]) -> tuple[str, ScriptResult | ScriptError]:
        name, (exporter, script) = item
        try:
            return name, run_script(script, exporter, tmp_root=root, require_confinement=LANDLOCK_ABI > 0)
        except ScriptError as e:
            return name, e

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="bundle-run") as pool:
        results = dict(pool.map(run, RUNS.items()))
    assert list(root.iterdir()) == [], "run_script left its directory behind"
    return results


def _ok(runs: dict[str, ScriptResult | ScriptError], name: str) -> bytes:
    result = runs[name]
    assert isinstance(result, ScriptResult), f"{name}: {result}"
    return result.data


# --------------------------------------------------------------------------------------------
# Exporters through the sandbox, read back
# --------------------------------------------------------------------------------------------


def test_design_exporter_round_trip(runs: dict[str, ScriptResult | ScriptError]) -> None:
    data = _ok(runs, "design")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["manifest.json", "parts/0.step", "parts/1.step"]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["kind"] == "design"
    assert [p["step"] for p in manifest["parts"]] == ["parts/0.step", "parts/1.step"]

    parts = read_design_bundle(data)
    assert [p.metadata for p in parts] == [
        {
            "label": "bracket",
            "material": "pla",
            "method": "fdm",
            "placement": {"position_mm": [1, 2, 3]},
            "note": {"why": ["tuple", 1.5, None, True]},  # unknown keys pass through; tuples become lists
        },
        {"material": "steel_carbon"},
    ]
    bracket, post = (load_step(p.step) for p in parts)
    assert bracket.volume == pytest.approx(40 * 20 * 5, rel=1e-6)
    assert post.volume == pytest.approx(math.pi * 4**2 * 10, rel=1e-6)
    assert post.bounding_box().min.Z == pytest.approx(5.0)
    assert b"'bracket'" in parts[0].step and b"'part'" in parts[1].step  # STEP roots named by label

    # The same value converted in this process gives the same bytes (deterministic archive and STEP).
    with BuildPart() as builder:
        BoxPart(40, 20, 5)
    again = sandbox_exports.design(
        (
            {
                "shape": builder,
                "label": "bracket",
                "material": "pla",
                "method": "fdm",
                "placement": {"position_mm": (1, 2, 3)},
                "note": {"why": ("tuple", 1.5, None, True)},
            },
            {"shape": Pos(0, 0, 10) * Cylinder(4, 10), "material": "steel_carbon"},
        )
    )
    assert again == data


def test_benchmark_exporter_round_trip(runs: dict[str, ScriptResult | ScriptError]) -> None:
    bundle = read_benchmark_bundle(_ok(runs, "ramp_benchmark"))
    assert [p.metadata["label"] for p in bundle.fixtures] == ["floor", "backstop"]
    assert [p.metadata["label"] for p in bundle.reference_solution] == ["ramp"]
    assert set(bundle.benchmark) == {
        "description",
        "params",
        "payload",
        "goal_zone",
        "forbidden_zones",
        "build_zone",
        "simulation_bounds",
        "simulation",
    }
    assert all(load_step(p.step).solids() for p in bundle.fixtures + bundle.reference_solution)


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_results_are_invalid_and_name_the_item(
    runs: dict[str, ScriptResult | ScriptError], name: str
) -> None:
    result = runs[name]
    assert isinstance(result, ScriptInvalidResult), f"{name}: {result!r}"
    assert result.kind == "invalid_result"
    assert GARBAGE[name][2] in result.summary


# --------------------------------------------------------------------------------------------
# Exporters' checks, in this process
# --------------------------------------------------------------------------------------------


def _cube() -> Shape:
    return BoxPart(1, 1, 1)


def _deep(n: int) -> Any:
    value: Any = 0
    for _ in range(n):
        value = [value]
    return value


class _Odd:
    pass


DESIGN_GARBAGE = [
    ([], "empty list"),
    ("hello", "build()'s result is a str"),
    ([_cube()], "item 0 is a Box, not a dict"),
    ([{"shape": _cube(), 3: "x"}], "item 0 has a key 3 of type int"),
    ([{"shape": "cube", "label": "c"}], "item 0 (label 'c'): 'shape' is a str, not a build123d"),
    ([{"shape": _cube(), "label": "c", "x": _Odd()}], "metadata['x'] is a _Odd"),
    ([{"shape": _cube(), "label": "c", "x": math.inf}], "metadata['x'] is inf"),
    ([{"shape": _cube(), "label": "c", "x": {1: 2}}], "metadata['x'] has a key 1 of type int"),
    ([{"shape": _cube(), "label": "c", "x": 10**30}], "metadata['x']: integer out of range"),
    ([{"shape": _cube(), "label": "c", "x": _deep(40)}], "nested more than 32 levels deep"),
    ([{"shape": _cube(), "label": "c", "x": "y" * 70_000}], "item 0 (label 'c'): metadata: more than 64 KiB"),
    ([{"shape": _cube(), "label": "c", "x": list(range(10**6))}], "metadata: more than 64 KiB"),
]


@pytest.mark.parametrize(("value", "message"), DESIGN_GARBAGE, ids=[m for _, m in DESIGN_GARBAGE])
def test_design_exporter_refuses(value: object, message: str) -> None:
    with pytest.raises(sandbox_exports.InvalidResult) as info:
        sandbox_exports.design(value)
    assert message in str(info.value)


def test_design_exporter_refuses_a_cycle() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(sandbox_exports.InvalidResult, match="nested more than"):
        sandbox_exports.design([{"shape": _cube(), "x": loop}])


def _benchmark_value(**changes: object) -> dict[str, Any]:
    value: dict[str, Any] = {
        "fixtures": [{"shape": _cube(), "label": "floor", "material": "aluminum_6061"}],
        "reference_solution": [{"shape": _cube(), "label": "r", "material": "pla", "method": "fdm"}],
        "payload": {"radius_mm": 5, "material": "steel_carbon", "start_mm": [0, 0, 10]},
    }
    value.update(changes)
    return {k: v for k, v in value.items() if v is not None}


BENCHMARK_GARBAGE = [
    ([1, 2], "build()'s result is a list, not a dict"),
    (_benchmark_value(reference_solution=None), "build()'s dict has no 'reference_solution'"),
    (_benchmark_value(fixtures=_cube()), "build()['fixtures'] is a Box, not a list of parts"),
    (_benchmark_value(reference_solution=[]), "build()['reference_solution'] is an empty list"),
    (
        _benchmark_value(fixtures=[{"shape": _cube(), "label": "f"}, {"label": "g"}]),
        "fixtures[1] (label 'g') has no 'shape'",
    ),
    (_benchmark_value(payload={"radius_mm": math.nan}), "build()'s dict['payload']['radius_mm'] is nan"),
    (_benchmark_value(goal_zone=_cube()), "build()'s dict['goal_zone'] is a Box, not a JSON value"),
]


@pytest.mark.parametrize(("value", "message"), BENCHMARK_GARBAGE, ids=[m for _, m in BENCHMARK_GARBAGE])
def test_benchmark_exporter_refuses(value: object, message: str) -> None:
    with pytest.raises(sandbox_exports.InvalidResult) as info:
        sandbox_exports.benchmark(value)
    assert message in str(info.value)


def test_benchmark_exporter_layout() -> None:
    data = sandbox_exports.benchmark(_benchmark_value(params={"a": 1.5}))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["fixtures/0.step", "manifest.json", "reference/0.step"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest == {
        "kind": "benchmark",
        "benchmark": {
            "params": {"a": 1.5},
            "payload": {"material": "steel_carbon", "radius_mm": 5, "start_mm": [0, 0, 10]},
        },
        "fixtures": [
            {"metadata": {"label": "floor", "material": "aluminum_6061"}, "step": "fixtures/0.step"}
        ],
        "reference_solution": [
            {"metadata": {"label": "r", "material": "pla", "method": "fdm"}, "step": "reference/0.step"}
        ],
    }


# --------------------------------------------------------------------------------------------
# Readers against hostile bundles
# --------------------------------------------------------------------------------------------

STEP = b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"


def _design_bytes(n: int = 1) -> bytes:
    parts = [{"metadata": {"label": f"p{i}"}, "step": f"parts/{i}.step"} for i in range(n)]
    return write_bundle({"kind": "design", "parts": parts}, {f"parts/{i}.step": STEP for i in range(n)})


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _manifest(value: object) -> bytes:
    return json.dumps(value).encode()


GOOD_MANIFEST = {"kind": "design", "parts": [{"metadata": {"label": "p"}, "step": "parts/0.step"}]}


def _declare_size(data: bytes, name: bytes, size: int) -> bytes:
    """``data`` with the central-directory entry of ``name`` declaring ``size`` bytes (both sizes)."""
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        (name_len,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + name_len] == name:
            break
        at += 4
    patched = bytearray(data)
    struct.pack_into("<LL", patched, at + 20, size, size)
    return bytes(patched)


def test_design_reader_accepts_a_good_bundle() -> None:
    parts = read_design_bundle(_design_bytes(3))
    assert [p.metadata for p in parts] == [{"label": "p0"}, {"label": "p1"}, {"label": "p2"}]
    assert all(p.step == STEP for p in parts)


HOSTILE = {
    "not a zip": (b"hello, world", "not a ZIP archive"),
    "empty": (b"", "not a ZIP archive"),
    "a STEP file": (STEP, "not a ZIP archive"),
    "truncated": (_design_bytes()[:-30], "not a ZIP archive"),
    "archive comment": (_design_bytes()[:-2] + b"\x03\x00abc", "no end record at its end"),
    "dot-dot member": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST)), ("parts/0.step", STEP), ("../x", b"x")]),
        "unexpected member '../x'",
    ),
    "absolute member": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST)), ("/etc/passwd", b"x")]),
        "unexpected member '/etc/passwd'",
    ),
    "nested dot-dot": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST)), ("parts/../../0.step", STEP)]),
        "unexpected member",
    ),
    "deflated member": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST)), ("parts/0.step", STEP)], zipfile.ZIP_DEFLATED),
        "is compressed",
    ),
    "huge declared size": (
        _declare_size(_design_bytes(), b"parts/0.step", 0x7FFF0000),
        "declare more than",
    ),
    "duplicate member": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST)), ("parts/0.step", STEP), ("parts/0.step", STEP)]),
        "appears twice",
    ),
    "no manifest": (_zip([("parts/0.step", STEP)]), "no manifest.json"),
    "manifest not JSON": (_zip([("manifest.json", b"{not json"), ("parts/0.step", STEP)]), "not valid JSON"),
    "manifest with NaN": (
        _zip([("manifest.json", b'{"kind": "design", "parts": NaN}'), ("parts/0.step", STEP)]),
        "not valid JSON",
    ),
    "manifest with duplicate keys": (
        _zip([("manifest.json", b'{"kind": "design", "kind": "design"}'), ("parts/0.step", STEP)]),
        "duplicate key",
    ),
    "manifest too deep": (
        _zip([("manifest.json", b"[" * 100_000 + b"]" * 100_000), ("parts/0.step", STEP)]),
        "not valid JSON",
    ),
    "manifest a list": (_zip([("manifest.json", b"[]"), ("parts/0.step", STEP)]), "must hold a JSON object"),
    "kind mismatch": (
        _zip([("manifest.json", _manifest({**GOOD_MANIFEST, "kind": "benchmark"})), ("parts/0.step", STEP)]),
        "expected a 'design' bundle, got kind 'benchmark'",
    ),
    "extra manifest key": (
        _zip([("manifest.json", _manifest({**GOOD_MANIFEST, "extra": 1})), ("parts/0.step", STEP)]),
        "unexpected keys ['extra']",
    ),
    "parts not a list": (
        _zip([("manifest.json", _manifest({"kind": "design", "parts": {}}))]),
        "'parts' must be a list",
    ),
    "no parts": (_zip([("manifest.json", _manifest({"kind": "design", "parts": []}))]), "'parts' is empty"),
    "metadata not an object": (
        _zip(
            [
                (
                    "manifest.json",
                    _manifest({"kind": "design", "parts": [{"metadata": 1, "step": "parts/0.step"}]}),
                ),
                ("parts/0.step", STEP),
            ]
        ),
        "parts[0].metadata must be an object",
    ),
    "step elsewhere": (
        _zip(
            [
                (
                    "manifest.json",
                    _manifest({"kind": "design", "parts": [{"metadata": {}, "step": "/etc/passwd"}]}),
                ),
                ("parts/0.step", STEP),
            ]
        ),
        "parts[0].step must be 'parts/0.step'",
    ),
    "missing member": (_zip([("manifest.json", _manifest(GOOD_MANIFEST))]), "'parts/0.step' is missing"),
    "unlisted member": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST)), ("parts/0.step", STEP), ("parts/1.step", STEP)]),
        "members the manifest does not list: ['parts/1.step']",
    ),
    "not STEP data": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST)), ("parts/0.step", b"MZ\x90\x00")]),
        "is not STEP data",
    ),
    "too many parts": (_design_bytes(MAX_PARTS + 1), "at most 32"),
    "too many members": (
        _zip([("manifest.json", _manifest(GOOD_MANIFEST))] + [(f"parts/{i}.step", STEP) for i in range(100)]),
        "declares 101 members",
    ),
    "bad CRC": (_design_bytes().replace(b"END-ISO-10303-21;", b"END-ISO-10303-22;"), "cannot be read"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_design_reader_refuses_hostile_bundles(case: str) -> None:
    data, message = HOSTILE[case]
    with pytest.raises(BundleError) as info:
        read_design_bundle(data)
    assert message in str(info.value)


def test_reader_size_limit_is_a_parameter() -> None:
    data = _design_bytes()
    assert read_design_bundle(data, max_total_bytes=len(data))
    with pytest.raises(BundleError, match="declare more than 100 bytes"):
        read_design_bundle(data, max_total_bytes=100)


def test_benchmark_reader_refuses_a_design_bundle_and_vice_versa(
    runs: dict[str, ScriptResult | ScriptError],
) -> None:
    with pytest.raises(BundleError, match="expected a 'benchmark' bundle, got kind 'design'"):
        read_benchmark_bundle(_design_bytes())
    with pytest.raises(BundleError, match="expected a 'design' bundle, got kind 'benchmark'"):
        read_design_bundle(_ok(runs, "ramp_benchmark"))
    manifest = {
        "kind": "benchmark",
        "benchmark": [],
        "fixtures": [{"metadata": {}, "step": "fixtures/0.step"}],
        "reference_solution": [{"metadata": {}, "step": "reference/0.step"}],
    }
    members = {"fixtures/0.step": STEP, "reference/0.step": STEP}
    with pytest.raises(BundleError, match="'benchmark' must be an object"):
        read_benchmark_bundle(write_bundle(manifest, members))
    manifest["benchmark"] = {}
    manifest["reference_solution"] = [{"metadata": {}, "step": "parts/0.step"}]
    with pytest.raises(BundleError, match=r"reference_solution\[0\]\.step must be 'reference/0.step'"):
        read_benchmark_bundle(write_bundle(manifest, members))


# --------------------------------------------------------------------------------------------
# Benchmark scripts -> FamilyDesign -> a publishable benchmark
# --------------------------------------------------------------------------------------------


def _build(
    monkeypatch: pytest.MonkeyPatch, name: str, design: FamilyDesign
) -> tuple[BenchmarkDefinition, dict[str, Any], dict[str, Shape]]:
    definition, blobs, shapes = build_module.build_from_design(design, name, 0, 1, f"{name}-s0-v1")
    collision = unpack(next(b for b in blobs if b.key.endswith("/collision.npz")).data)
    return definition, collision, shapes


@pytest.fixture(scope="module")
def ramp_bundle(runs: dict[str, ScriptResult | ScriptError]) -> BenchmarkBundle:
    return read_benchmark_bundle(_ok(runs, "ramp_benchmark"))


def test_ramp_benchmark_is_publishable(ramp_bundle: BenchmarkBundle, monkeypatch: pytest.MonkeyPatch) -> None:
    design = benchmark_design(ramp_bundle)
    assert [(p.label, p.role, p.method) for p in design.fixtures + design.reference] == [
        ("floor", PartRole.FIXTURE, None),
        ("backstop", PartRole.FIXTURE, None),
        ("ramp", PartRole.REFERENCE, ManufacturingMethod.CNC_MILLING),
    ]
    assert design.fixtures[1].material == MaterialId.HARDWOOD
    assert design.params["radius_mm"] == 12.0 and design.description.startswith("A 24 mm steel ball")
    ramp = design.reference[0].shape.bounding_box()  # placed: tilted down along +y, resting on the floor
    assert ramp.min.Z == pytest.approx(0.0, abs=0.01) and ramp.max.Z > 50 and ramp.min.Y < -30

    definition, collision, shapes = _build(monkeypatch, "ramp", design)
    geometry = validate_geometry(definition, shapes)
    assert geometry.valid, geometry.findings
    n = definition.simulation.n_scenes
    baseline = simulate(definition, collision, SimulationMode.BASELINE, n)
    assert baseline.success_share == 0.0, baseline.outcome_counts
    assert Outcome.PHYSICS_INSTABILITY.value not in baseline.outcome_counts
    reference = simulate(definition, collision, SimulationMode.REFERENCE, n)
    assert reference.success_share >= definition.simulation.required_success_share, reference.outcome_counts
    assert Outcome.FORBIDDEN_ZONE.value not in reference.outcome_counts


@pytest.mark.parametrize(
    ("name", "expect_solved"), [("chute_design.py", True), ("chute_design_bad.py", False)]
)
def test_chute_design_examples(
    runs: dict[str, ScriptResult | ScriptError],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    expect_solved: bool,
) -> None:
    """The good example through the sandbox; the bad one converted in this process (same exporter)."""
    if expect_solved:
        data = _ok(runs, "chute_design")
    else:
        namespace: dict[str, Any] = {}
        exec(compile((EXAMPLES / "designs" / name).read_text(), name, "exec"), namespace)  # noqa: S102
        data = sandbox_exports.design(namespace["build"]())
    parts = design_parts(read_design_bundle(data))
    assert all(p.material == MaterialId.ALUMINUM_6061 for p in parts)
    assert all(p.method == ManufacturingMethod.CNC_MILLING for p in parts)

    chute = FAMILIES["chute"].generate(0)
    if expect_solved:  # the same chute as the family's reference solution
        got, want = parts[0].shape.bounding_box(), chute.reference[0].shape.bounding_box()
        assert (got.min - want.min).length < 0.01 and (got.max - want.max).length < 0.01
    definition, collision, shapes = _build(
        monkeypatch, "chute-design", dataclasses.replace(chute, reference=parts)
    )
    assert validate_geometry(definition, shapes).valid
    report = simulate(definition, collision, SimulationMode.REFERENCE, definition.simulation.n_scenes)
    solved = report.success_share >= definition.simulation.required_success_share
    assert solved == expect_solved, report.outcome_counts


def _edited(bundle: BenchmarkBundle, **changes: Any) -> BenchmarkBundle:
    return dataclasses.replace(bundle, **changes)


def _with_meta(part: BundlePart, **changes: Any) -> BundlePart:
    metadata = {**part.metadata, **changes}
    return BundlePart(metadata={k: v for k, v in metadata.items() if v is not None}, step=part.step)


def test_benchmark_design_names_the_offending_part_or_field(ramp_bundle: BenchmarkBundle) -> None:
    floor, wall = ramp_bundle.fixtures
    (ramp,) = ramp_bundle.reference_solution
    spec = ramp_bundle.benchmark

    def fails(bundle: BenchmarkBundle, *fragments: str) -> None:
        with pytest.raises(InvalidBenchmarkScript) as info:
            benchmark_design(bundle)
        for fragment in fragments:
            assert fragment in str(info.value), str(info.value)

    fails(
        _edited(ramp_bundle, fixtures=[floor, _with_meta(wall, material="unobtainium")]),
        "fixture 1 ('backstop')",
        "material",
    )
    fails(
        _edited(ramp_bundle, fixtures=[floor, _with_meta(wall, method="cnc")]),
        "fixture 1 ('backstop')",
        "method",
    )
    fails(_edited(ramp_bundle, fixtures=[_with_meta(floor, label="Floor!")]), "fixture 0 ('Floor!')", "label")
    fails(
        _edited(ramp_bundle, reference_solution=[_with_meta(ramp, method=None)]),
        "reference part 0 ('ramp')",
        "method",
    )
    fails(
        _edited(ramp_bundle, reference_solution=[_with_meta(ramp, placement={"position_mm": [0, 0]})]),
        "reference part 0 ('ramp')",
        "placement.position_mm",
    )
    fails(
        _edited(
            ramp_bundle,
            reference_solution=[BundlePart(metadata=ramp.metadata, step=b"ISO-10303-21;\ngarbage")],
        ),
        "reference part 0 ('ramp')",
        "STEP data cannot be read",
    )
    fails(_edited(ramp_bundle, reference_solution=[_with_meta(ramp, label="floor")]), "duplicated: ['floor']")
    fails(
        _edited(ramp_bundle, benchmark={**spec, "payload": {**spec["payload"], "radius_mm": -1}}),
        "payload: radius_mm",
    )
    fails(
        _edited(ramp_bundle, benchmark={**spec, "goal_zone": {"min_mm": [1, 1, 1], "max_mm": [0, 0, 0]}}),
        "goal_zone",
    )
    fails(
        _edited(ramp_bundle, benchmark={**spec, "forbidden_zones": [{"name": "Pit!", **spec["goal_zone"]}]}),
        "forbidden_zones.0: name",
    )
    fails(_edited(ramp_bundle, benchmark={**spec, "simulation": {"n_scenes": 0}}), "simulation: n_scenes")
    fails(_edited(ramp_bundle, benchmark={**spec, "params": {"a": "x"}}), "params.a")
    fails(_edited(ramp_bundle, benchmark={**spec, "goal": {}}), "unknown benchmark keys ['goal']")
    extra = {**spec["payload"], "label": "second"}
    fails(
        _edited(ramp_bundle, benchmark={**spec, "extra_payloads": [extra] * 4}),
        "extra_payloads: at most 3 (4 payloads in all), got 4",
    )
    fails(
        _edited(ramp_bundle, benchmark={**spec, "extra_payloads": [{**extra, "label": "payload"}]}),
        "duplicated: ['payload']",
    )
    fails(_edited(ramp_bundle, benchmark={**spec, "max_motors": -1}), "max_motors")
    fails(
        _edited(ramp_bundle, benchmark={k: v for k, v in spec.items() if k != "build_zone"}),
        "missing benchmark keys ['build_zone']",
    )


def test_benchmark_design_defaults(ramp_bundle: BenchmarkBundle) -> None:
    spec = {
        k: v
        for k, v in ramp_bundle.benchmark.items()
        if k not in ("simulation", "params", "description", "forbidden_zones")
    }
    design = benchmark_design(_edited(ramp_bundle, benchmark=spec))
    assert design.simulation == SimulationSettings()
    assert design.params == {} and design.description == "" and design.forbidden_zones == []
    assert design.fixtures[0].fixed is True
    assert design.extra_payloads == [] and design.max_motors is None
    two = benchmark_design(
        _edited(
            ramp_bundle,
            benchmark={**spec, "extra_payloads": [{**spec["payload"], "label": "b"}], "max_motors": 0},
        )
    )
    assert [p.label for p in two.extra_payloads] == ["b"] and two.max_motors == 0


def test_benchmark_design_from_bytes(runs: dict[str, ScriptResult | ScriptError]) -> None:
    assert benchmark_design_from_bytes(_ok(runs, "ramp_benchmark")).reference[0].label == "ramp"
    with pytest.raises(InvalidBenchmarkScript, match="not a valid benchmark bundle"):
        benchmark_design_from_bytes(b"junk")


@pytest.fixture(autouse=True)
def _families_untouched() -> Iterator[None]:
    before = dict(FAMILIES)
    yield
    assert FAMILIES == before
