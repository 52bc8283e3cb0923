"""``mechbench export`` of a real dataset (generated through GenerateDataset, certification included): the
agent view and the grader file load with pyarrow and with Hugging Face ``datasets`` (through the dataset
card's own configs too), the agent view holds no trace of the reference solution (no column, no file, no
node of its GLB, none of its STEP hashes or labels in the table's bytes), every relative path names a file
that is there, and refusals (unknown dataset, a non-empty or dangerous --out, a damaged stored object)
write nothing, from Python and from the CLI alike."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import trimesh
import yaml

from shared.keys import benchmark_result_key
from shared.models import BenchmarkDefinition, BenchmarkResult, DatasetRequest, DatasetResult, Verdict
from shared.store import LocalStore, make_store
from shared.temporal import WF_GENERATE_DATASET
from tests.helpers import run_cli, session_cli_env
from workers.export import (
    DatasetRunning,
    ExportError,
    OutputRefused,
    export_dataset,
)
from workers.export_card import AGENT_TABLE, GRADER_TABLE
from workers.export_schema import AGENT_SCHEMA
from workers.report import DatasetNotFound

pytestmark = pytest.mark.temporal


@pytest.fixture(scope="module")
async def dataset(temporal_env, worker_queue, test_settings) -> str:  # type: ignore[no-untyped-def]
    req = DatasetRequest(
        families=["chute", "gap", "detour"],
        count=3,
        base_seed=52,
        dataset_id=f"export-{uuid.uuid4().hex[:8]}",
    )
    result: DatasetResult = await temporal_env.client.execute_workflow(
        WF_GENERATE_DATASET,
        req,
        id=f"export-{uuid.uuid4().hex[:8]}",
        task_queue=worker_queue,
        result_type=DatasetResult,
    )
    assert result.published == 3, result
    assert req.dataset_id is not None
    return req.dataset_id


def _references(store: LocalStore, dataset_id: str, out: Path) -> list[BenchmarkDefinition]:
    rows = pq.read_table(out / AGENT_TABLE).to_pylist()
    defs = []
    for row in rows:
        result = store.get_model(benchmark_result_key(row["id"]), BenchmarkResult)
        assert result.definition is not None
        defs.append(BenchmarkDefinition.model_validate_json(store.get_ref(result.definition)))
    return defs


async def test_export_loads_and_the_agent_view_holds_no_reference(
    dataset: str, test_settings, tmp_path: Path
) -> None:
    store = make_store(test_settings)
    assert isinstance(store, LocalStore)
    out = tmp_path / "export"
    summary = await asyncio.to_thread(export_dataset, store, dataset, out)
    assert summary.rows == 3 and summary.counts == {"published": 3}

    agent = pq.read_table(out / AGENT_TABLE)
    assert agent.schema.equals(AGENT_SCHEMA)
    assert not [c for c in agent.column_names if "reference" in c or c in ("params", "thumbnail")]
    rows = agent.to_pylist()
    assert {r["family"] for r in rows} == {"chute", "gap", "detour"}
    for r in rows:
        assert r["verdict"] == "published" and 0 <= r["level"] <= 5
        # designs the sampler found no valid draw for (a part that fits nowhere) are not simulated
        assert 0.9 * test_settings.random_designs <= r["random_designs"] <= test_settings.random_designs
        assert r["random_upper_bound"] < 0.10
        assert 0 <= r["within_family_fold"] < 10 and 0 <= r["cross_family_fold"] < 10
        assert r["description"] and r["caps"]["max_unit_cost_usd"] > 0 and r["fixtures"]
        for f in r["fixtures"]:
            data = (out / f["step"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["step_sha256"]

    defs = _references(store, dataset, out)
    table_bytes = (out / AGENT_TABLE).read_bytes()
    for d, r in zip(defs, rows, strict=True):
        glb = trimesh.load(io.BytesIO((out / r["scene_glb"]).read_bytes()), file_type="glb", force="scene")
        names = set(glb.graph.nodes_geometry) | set(glb.geometry)
        for part in d.reference_solution:
            assert part.label not in names, (r["id"], part.label, names)
            assert part.step is not None and part.step.sha256.encode() not in table_bytes
        assert {f.label for f in d.fixtures} <= names
    agent_files = [p.relative_to(out).as_posix() for p in (out / "files").rglob("*") if p.is_file()]
    assert agent_files and not [p for p in agent_files if "reference" in p or p.endswith(".png")]

    grader = {g["id"]: g for g in pq.read_table(out / GRADER_TABLE).to_pylist()}
    for d, r in zip(defs, rows, strict=True):
        g = grader[r["id"]]
        assert [p["label"] for p in g["reference_solution"]] == [p.label for p in d.reference_solution]
        for p, spec in zip(g["reference_solution"], d.reference_solution, strict=True):
            assert spec.step is not None and (out / p["step"]).read_bytes() == store.get_ref(spec.step)
        assert (out / g["thumbnail"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        names = {pr["proof"] for pr in g["proofs"]}
        assert {"not_trivial_random", "robust"} <= names and g["difficulty"]["level"] == r["level"]

    card = (out / "README.md").read_text("utf-8")
    header = yaml.safe_load(card.split("---\n")[1])
    configs = {c["config_name"]: c for c in header["configs"]}
    assert configs["default"]["data_files"] == [{"split": "test", "path": AGENT_TABLE}]
    assert configs["grader"]["data_files"] == [{"split": "test", "path": GRADER_TABLE}]
    info = {i["config_name"]: i for i in header["dataset_info"]}
    assert [f["name"] for f in info["default"]["features"]] == agent.column_names
    assert info["default"]["splits"][0]["num_examples"] == 3

    import datasets

    cache = str(tmp_path / "hf-cache")
    plain = datasets.load_dataset("parquet", data_files={"test": str(out / AGENT_TABLE)}, cache_dir=cache)
    assert plain["test"].num_rows == 3 and set(plain["test"]["id"]) == {r["id"] for r in rows}
    by_card = datasets.load_dataset(str(out), cache_dir=cache)  # the card's configs: default = agent view
    assert by_card["test"].column_names == agent.column_names
    graded = datasets.load_dataset(str(out), "grader", cache_dir=cache)
    assert "reference_solution" in graded["test"].column_names


class DamagedStore(LocalStore):
    """The session's store with one object damaged on the way out (its bytes cut in half)."""

    def __init__(self, root: Path, damaged: str) -> None:
        super().__init__(root)
        self.damaged = damaged

    def _get(self, key: str) -> bytes:
        data = super()._get(key)
        return data[: len(data) // 2] if key == self.damaged else data


async def test_export_refusals_write_nothing(dataset: str, test_settings, tmp_path: Path) -> None:
    store = make_store(test_settings)
    assert isinstance(store, LocalStore)
    with pytest.raises(DatasetNotFound):
        export_dataset(store, "no-such-dataset", tmp_path / "a")
    with pytest.raises(ValueError):
        export_dataset(store, "../escape", tmp_path / "a")
    assert not (tmp_path / "a").exists()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(OutputRefused, match="not empty"):
        export_dataset(store, dataset, busy)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    for inside in (store.root / "x", test_settings.data_dir):
        with pytest.raises(OutputRefused):
            export_dataset(store, dataset, inside, force=True, protected=(test_settings.data_dir,))
    assert not (store.root / "x").exists()
    with pytest.raises(OutputRefused, match="cannot write"):
        export_dataset(store, dataset, Path("/proc/mechbench-export"))

    first = pq.read_table(_export_once(store, dataset, tmp_path / "first") / AGENT_TABLE).to_pylist()
    step_key = first[0]["fixtures"][0]["step"]
    damaged = DamagedStore(store.root, _stored_key_of(store, first[0]["id"], step_key))
    with pytest.raises(ExportError, match="does not match"):
        export_dataset(damaged, dataset, busy, force=True)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]  # --force replaces only a finished export
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary directory left

    export_dataset(store, dataset, busy, force=True)
    assert (busy / AGENT_TABLE).is_file() and not (busy / "keep.txt").exists()


def _export_once(store: LocalStore, dataset: str, out: Path) -> Path:
    export_dataset(store, dataset, out)
    return out


def _stored_key_of(store: LocalStore, benchmark_id: str, exported: str) -> str:
    """The store key of the fixture whose STEP the export wrote to ``exported``."""
    result = store.get_model(benchmark_result_key(benchmark_id), BenchmarkResult)
    assert result.definition is not None
    d = BenchmarkDefinition.model_validate_json(store.get_ref(result.definition))
    label = Path(exported).stem
    ref = next(f.step for f in d.fixtures if f.label == label)
    assert ref is not None
    return ref.key


def test_a_running_dataset_is_refused(test_settings, tmp_path: Path) -> None:
    from shared.keys import manifest_part_key

    store = LocalStore(tmp_path / "store")
    store.put_bytes(manifest_part_key("half-done", "chain", 0), b"{}")
    with pytest.raises(DatasetRunning):
        export_dataset(store, "half-done", tmp_path / "out")
    assert not (tmp_path / "out").exists()


async def test_cli_export(dataset: str, temporal_env, worker_queue, test_settings, tmp_path: Path) -> None:
    env = session_cli_env(temporal_env, worker_queue, test_settings)

    def cli(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(*args, data_dir=test_settings.data_dir, cwd=tmp_path, env=env)

    done = await asyncio.to_thread(cli, "export", dataset, "--out", str(tmp_path / "ds"), "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (
        shown["rows"] == 3
        and shown["entries"] == {Verdict.PUBLISHED.value: 3}
        and Path(shown["out"]) == (tmp_path / "ds").resolve()
    )
    assert pq.read_table(tmp_path / "ds" / AGENT_TABLE).num_rows == 3

    for args, message in (
        (["export", "no-such", "--out", str(tmp_path / "n")], "no dataset 'no-such'"),
        (["export", dataset, "--out", str(tmp_path / "ds")], "not empty"),
        (["export", dataset, "--out", str(test_settings.data_dir), "--force"], "must not replace"),
    ):
        bad = await asyncio.to_thread(cli, *args, "--json")
        assert bad.returncode == 2, bad.stderr
        failure = json.loads(bad.stdout)
        assert failure["error"]["type"] == "InvalidRequest" and message in failure["error"]["message"], (
            failure
        )
    assert not (tmp_path / "n").exists()
