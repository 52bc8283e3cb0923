"""A dataset as files for people and tools outside mechbench (``mechbench export DATASET_ID --out DIR``).

Reads the object store only (no Temporal). Writes, into ``DIR``::

    README.md                             dataset card (Hugging Face YAML header: configs, splits, features)
    benchmarks.parquet                    the agent view: one row per benchmark, no reference solution
    files/<benchmark_id>/fixtures/<label>.step   the fixtures' STEP files, as stored
    files/<benchmark_id>/scene.glb        fixtures and payload (the stored scene without the reference's nodes)
    grader/grader.parquet                 the grader view: id, reference solution, parameters, proofs, ...
    grader/files/<benchmark_id>/reference/<label>.step   the reference solution's STEP files
    grader/files/<benchmark_id>/scene.glb, thumbnail.png  the stored scene and picture (both show the reference)

Everything that shows or describes the reference solution lives under ``grader/``: the agent view's columns
are a whitelist (its Parquet schema), and the stored GLB and thumbnail, which show the reference, are grader
files; the agent gets a GLB rebuilt from the stored one without the reference's nodes. The family parameters
go to the grader too (some size the reference: ``chute_length_mm``), as do the reference's cost, weight and
the caps' headroom (the caps' limits stay in the agent view), the difficulty card's reference-derived numbers
and the rejection reasons. Paths in both tables are relative to ``DIR``.

Only published benchmarks by default (``include_rejected`` adds the rest, with nulls where nothing was built).
Numbers a benchmark recorded before certification lacks (level, random designs, folds) are nulls. Nothing is
half-written: the export is built in a temporary directory beside ``DIR`` and renamed onto it at the end.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shared.keys import benchmark_result_key, manifest_key
from shared.models import (
    ArtifactRef,
    BenchmarkDefinition,
    BenchmarkResult,
    DatasetEntry,
    DatasetManifest,
    PartSpec,
    Verdict,
)
from shared.store import IntegrityError, LocalStore, ObjectNotFound, ObjectStore
from workers.export_card import AGENT_TABLE, GRADER_DIR, GRADER_TABLE, dataset_card
from workers.export_schema import AGENT_SCHEMA, GRADER_SCHEMA
from workers.report_data import (
    BenchmarkCard,
    DatasetNotFound,
    check_dataset_id,
    first_line,
    parts_prefix,
    stored_definition,
)


class DatasetRunning(LookupError):
    """The dataset has manifest parts but no merged manifest yet: it is still running."""


class OutputRefused(ValueError):
    """``--out`` cannot be written: not a directory, non-empty without ``force``, or holding the store."""


class ExportError(RuntimeError):
    """An object the export needs is missing from the store or does not match its reference."""


@dataclass(frozen=True)
class ExportSummary:
    dataset_id: str
    out: Path
    rows: int
    counts: dict[str, int]
    """The manifest's entries by verdict (all of them, exported or not)."""
    files: int
    bytes: int


def check_out(
    out: Path, force: bool = False, protected: tuple[Path, ...] = (), store_root: Path | None = None
) -> Path:
    """The absolute output directory, or :class:`OutputRefused`: its parent must exist, it must be absent or an
    empty directory (any directory with ``force``), it must not be, nor hold, a ``protected`` path (the data
    directory, the store), and it must not lie inside the local store's directory."""
    target = out.expanduser().absolute()
    if not target.parent.is_dir():
        raise OutputRefused(f"the directory holding {str(out)!r} does not exist")
    if target.exists() or target.is_symlink():
        if not target.is_dir() or target.is_symlink():
            raise OutputRefused(f"{str(out)!r} exists and is not a directory")
        if any(target.iterdir()) and not force:
            raise OutputRefused(f"{str(out)!r} is not empty (add --force to replace it)")
    real = target.resolve()
    for p in (*protected, *([store_root] if store_root is not None else [])):
        if p.resolve().is_relative_to(real):
            raise OutputRefused(f"{str(out)!r} holds {p}, which an export must not replace")
    if store_root is not None and real.is_relative_to(store_root.resolve()):
        raise OutputRefused(f"{str(out)!r} lies inside the store ({store_root})")
    return target


def export_dataset(
    store: ObjectStore,
    dataset_id: str,
    out: Path,
    *,
    include_rejected: bool = False,
    force: bool = False,
    protected: tuple[Path, ...] = (),
) -> ExportSummary:
    """Export ``dataset_id`` into ``out`` (see the module). Raises ``ValueError`` for a malformed id,
    :class:`OutputRefused`, :class:`DatasetNotFound`, :class:`DatasetRunning` before writing anything, and
    :class:`ExportError` when a stored object is missing or damaged (then nothing is left behind either)."""
    dataset_id = check_dataset_id(dataset_id)
    root = store.root if isinstance(store, LocalStore) else None
    target = check_out(out, force, protected, root)
    manifest = _manifest(store, dataset_id)
    entries = sorted(manifest.entries, key=lambda e: e.index)
    chosen = [e for e in entries if include_rejected or e.verdict == Verdict.PUBLISHED]
    try:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    except OSError as e:
        raise OutputRefused(f"cannot write in the directory holding {str(out)!r}: {e.strerror}") from None
    try:
        agent, grader = [], []
        for entry in chosen:
            a, g = _rows(store, BenchmarkCard(entry=entry, **_read(store, entry)), manifest, tmp)
            agent.append(a)
            grader.append(g)
        tables = {
            AGENT_TABLE: pa.Table.from_pylist(agent, schema=AGENT_SCHEMA),
            GRADER_TABLE: pa.Table.from_pylist(grader, schema=GRADER_SCHEMA),
        }
        (tmp / GRADER_DIR).mkdir(exist_ok=True)
        for name, table in tables.items():
            pq.write_table(table, tmp / name)
        counts = Counter(str(e.verdict) for e in entries)
        (tmp / "README.md").write_text(dataset_card(manifest, tables, tmp, counts, include_rejected), "utf-8")
        files = [p for p in tmp.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; an export is meant to be shared
        _replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportSummary(dataset_id, target, len(agent), dict(counts), len(files), size)


def _manifest(store: ObjectStore, dataset_id: str) -> DatasetManifest:
    try:
        return store.get_model(manifest_key(dataset_id), DatasetManifest)
    except ObjectNotFound:
        if next(iter(store.list(parts_prefix(dataset_id))), None) is not None:
            raise DatasetRunning(dataset_id) from None
        raise DatasetNotFound(dataset_id) from None
    except (ValueError, IntegrityError) as e:
        raise ExportError(f"the manifest of {dataset_id} is unreadable: {first_line(e)}") from None


def _read(store: ObjectStore, entry: DatasetEntry) -> dict[str, Any]:
    """The entry's result and definition; a published entry must have both, others may lack them."""
    bid, needed = entry.benchmark_id, entry.verdict == Verdict.PUBLISHED
    result = definition = None
    try:
        result = store.get_model(benchmark_result_key(bid), BenchmarkResult)
        definition = stored_definition(store, bid, result)
    except ObjectNotFound as e:
        if needed:
            raise ExportError(
                f"{bid}: {e.args[0] if e.args else 'an object'} is missing from the store"
            ) from None
    except (ValueError, IntegrityError) as e:
        raise ExportError(f"{bid}: unreadable: {first_line(e)}") from None
    if needed and definition is None:
        raise ExportError(f"{bid}: published, but its definition is missing from the store")
    return {"result": result, "definition": definition}


def _copy(store: ObjectStore, ref: ArtifactRef | None, root: Path, rel: str) -> str | None:
    if ref is None:
        return None
    return _write(root, rel, _get(store, ref))


def _get(store: ObjectStore, ref: ArtifactRef) -> bytes:
    try:
        return store.get_ref(ref)
    except ObjectNotFound:
        raise ExportError(f"{ref.key} is missing from the store") from None
    except IntegrityError as e:
        raise ExportError(str(e)) from None


def _write(root: Path, rel: str, data: bytes) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return rel


def _parts(store: ObjectStore, specs: list[PartSpec], root: Path, folder: str) -> list[dict[str, Any]]:
    return part_rows(specs, lambda p: _copy(store, p.step, root, f"{folder}/{p.label}.step"))


def part_rows(specs: list[PartSpec], link: Callable[[PartSpec], str | None]) -> list[dict[str, Any]]:
    """The rows of parts in either view; ``link`` says where a part's STEP file is (a path, a URI)."""
    rows = []
    for p in specs:
        d = p.model_dump(mode="json", exclude={"step", "joint", "motor", "role"})
        d["step"] = link(p)
        d["step_sha256"] = p.step.sha256 if p.step is not None else None
        d["joint"] = p.joint.model_dump_json() if p.joint is not None else None
        d["motor"] = p.motor.model_dump_json() if p.motor is not None else None
        rows.append(d)
    return rows


def agent_row(
    card: BenchmarkCard,
    generator_version: int,
    fixture_link: Callable[[PartSpec], str | None],
    scene_link: Callable[[BenchmarkDefinition], str | None],
) -> dict[str, Any]:
    """What an agent may see of one benchmark, before the whitelist (:data:`AGENT_SCHEMA`) is applied: the
    export's row, and the MCP server's ``get_benchmark``. The links say where the fixtures' STEP files and
    the fixtures-only scene are (files of the export, resources of the server)."""
    e, r, d = card.entry, card.result, card.definition
    agent: dict[str, Any] = {
        "id": e.benchmark_id,
        "index": e.index,
        "family": e.family,
        "seed": e.seed,
        "generator_version": r.generator_version if r is not None else generator_version,
        "verdict": str(e.verdict),
        "failed_proof": str(e.failed_proof) if e.failed_proof is not None else None,
        "level": card.level,
        "random_designs": card.random_designs,
        "random_solve_rate": card.random_solve_rate,
        "random_upper_bound": card.random_upper_bound,
        "robust_share": card.robust_share,
        "within_family_fold": e.within_family_fold,
        "cross_family_fold": e.cross_family_fold,
    }
    caps = (d.caps if d is not None else None) or (r.caps if r is not None else None)
    if caps is not None:
        agent["caps"] = caps.model_dump(mode="json")
    if d is None:
        return agent
    agent.update(
        description=d.description,
        build_zone=d.build_zone.model_dump(mode="json"),
        goal_zone=d.goal_zone.model_dump(mode="json"),
        forbidden_zones=[z.model_dump(mode="json") for z in d.forbidden_zones],
        simulation_bounds=d.simulation_bounds.model_dump(mode="json"),
        payload=d.payload.model_dump(mode="json"),
        extra_payloads=[p.model_dump(mode="json") for p in d.extra_payloads],
        max_motors=d.max_motors,
        simulation=d.simulation.model_dump(mode="json"),
        structure=d.structure.model_dump(mode="json") if d.structure is not None else None,
        fixtures=part_rows(d.fixtures, fixture_link),
        scene_glb=scene_link(d),
    )
    return agent


def whitelisted(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with only what :data:`AGENT_SCHEMA` holds, nested fields included."""
    return pa.Table.from_pylist([row], schema=AGENT_SCHEMA).to_pylist()[0]


def fixtures_only_glb(
    store: ObjectStore, d: BenchmarkDefinition, stored: bytes | None = None
) -> bytes | None:
    """The stored scene (``stored``, when already read) without the reference solution's nodes: the stored
    one shows the reference."""
    if d.artifacts.scene_glb is None:
        return None
    scene = stored if stored is not None else _get(store, d.artifacts.scene_glb)
    return without_parts(scene, {p.label for p in d.reference_solution})


def _rows(
    store: ObjectStore, card: BenchmarkCard, manifest: DatasetManifest, root: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The agent row and the grader row of one benchmark, with its files written under ``root``."""
    e, r, d = card.entry, card.result, card.definition
    bid = e.benchmark_id
    files, secret = f"files/{bid}", f"{GRADER_DIR}/files/{bid}"
    stored = _get(store, d.artifacts.scene_glb) if d is not None and d.artifacts.scene_glb else None

    def scene(definition: BenchmarkDefinition) -> str | None:
        glb = fixtures_only_glb(store, definition, stored)
        return _write(root, f"{files}/scene.glb", glb) if glb is not None else None

    agent = agent_row(
        card,
        manifest.generator_version,
        lambda p: _copy(store, p.step, root, f"{files}/fixtures/{p.label}.step"),
        scene,
    )
    grader: dict[str, Any] = {"id": bid, "reason": e.reason or (r.reason if r is not None else None)}
    if r is not None:
        grader["proofs"] = [p.model_dump(mode="json") for p in r.proofs]
        if r.difficulty is not None:
            grader["difficulty"] = r.difficulty.model_dump(mode="json")
    shares = (
        r.difficulty.reference_success_share if r is not None and r.difficulty else None,
        e.success_share,
    )
    grader["reference_success_share"] = next((s for s in shares if s is not None), None)
    caps = (d.caps if d is not None else None) or (r.caps if r is not None else None)
    if caps is not None:
        grader.update(caps.model_dump(include={"reference_unit_cost_usd", "reference_weight_kg"}))
        grader.update(headroom_factor=caps.headroom_factor, cost_basis=caps.cost_basis)
    if d is None:
        return agent, grader
    if stored is not None:
        grader["scene_glb"] = _write(root, f"{secret}/scene.glb", stored)
    grader.update(
        reference_solution=_parts(store, d.reference_solution, root, f"{secret}/reference"),
        params=[{"name": k, "value": v} for k, v in d.params.items()],
        thumbnail=_copy(store, d.artifacts.thumbnail, root, f"{secret}/thumbnail.png"),
    )
    return agent, grader


def without_parts(glb: bytes, labels: set[str]) -> bytes:
    """A binary glTF scene (one named node and mesh per part, :func:`engines.cad.export.glb_bytes`) rebuilt
    without the parts ``labels`` names: neither their meshes nor their nodes nor their names remain."""
    import trimesh  # only the export of a scene needs it

    try:
        scene = trimesh.load(io.BytesIO(glb), file_type="glb", force="scene")
    except Exception as e:  # noqa: BLE001 - any parse failure is a damaged artifact
        raise ExportError(f"the stored scene.glb cannot be read: {first_line(e)}") from None
    kept = trimesh.Scene()
    for name, geometry in scene.geometry.items():
        for node in scene.graph.geometry_nodes.get(name, []):
            if name in labels or node in labels:
                continue
            transform, _ = scene.graph[node]
            kept.add_geometry(geometry, node_name=node, geom_name=name, transform=transform)
    data = kept.export(file_type="glb")
    if not isinstance(data, bytes):
        raise ExportError(f"glTF export produced {type(data).__name__}, not bytes")
    return data


def _replace(tmp: Path, target: Path) -> None:
    """Put the finished export in place of ``target`` (absent, empty, or replaced with ``force``)."""
    old = None
    if target.is_dir() and any(target.iterdir()):
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
    try:
        os.replace(tmp, target)  # onto an absent or empty directory
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
