"""What the dataset report shows, read from the store (:mod:`workers.report` renders it).

No HTML here: the manifest (or, while the dataset is still running, its manifest parts), and per entry its
result, definition, thumbnail and, for a benchmark rejected as trivial or not robust, the picture of its best
random design. Every picture is checked against its reference and must be a PNG; a missing or damaged object
costs its card a detail (``problems``, a note on the placeholder), never the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from shared.keys import benchmark_definition_key, benchmark_result_key, manifest_key, manifest_part_key
from shared.models import (
    ArtifactRef,
    BenchmarkDefinition,
    BenchmarkResult,
    DatasetEntry,
    DatasetManifest,
    DifficultyCard,
    Identifier,
    ManifestPartRequest,
    Proof,
    ProofResult,
    RandomProofReport,
    RobustProofReport,
    Verdict,
)
from shared.store import IntegrityError, ObjectNotFound, ObjectStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NO_PICTURE = "no picture"

UNCERTIFIED = (Proof.NOT_TRIVIAL_RANDOM, Proof.ROBUST)
"""Rejections the page shows with pictures: random designs solve it (trivial), or its reference is fragile."""

_ID = TypeAdapter(Identifier)
T = TypeVar("T")


class DatasetNotFound(LookupError):
    """The store holds neither a manifest nor a manifest part for this dataset id."""


def check_dataset_id(dataset_id: str) -> str:
    """The id as the store names datasets (:data:`~shared.models.ID_PATTERN`); ``ValueError`` otherwise."""
    try:
        return _ID.validate_python(dataset_id)
    except ValidationError:
        raise ValueError(
            f"{dataset_id!r:.80} is not a dataset id (lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit, at most 64 characters)"
        ) from None


def parts_prefix(dataset_id: str) -> str:
    """Where the dataset's manifest parts live (``datasets/<id>/parts/``), as :mod:`shared.keys` names them."""
    return manifest_part_key(dataset_id, "chain", 0).rpartition("/")[0] + "/"


def known_datasets(store: ObjectStore, limit: int = 20) -> list[str]:
    """Ids of (at most ``limit``) datasets with a manifest, or with manifest parts (still running), sorted."""
    ids: list[str] = []
    for key in store.list("datasets/"):
        parts = key.split("/")
        held = (len(parts) == 3 and parts[2] == "manifest.json") or (len(parts) == 4 and parts[2] == "parts")
        if held and parts[1] not in ids:
            ids.append(parts[1])
            if len(ids) >= limit:
                break
    return ids


def _first(*values: T | None) -> T | None:
    return next((v for v in values if v is not None), None)


@dataclass(frozen=True)
class BenchmarkCard:
    """One manifest entry with what the store holds about it."""

    entry: DatasetEntry
    result: BenchmarkResult | None = None
    definition: BenchmarkDefinition | None = None
    thumbnail_png: bytes | None = None
    """The PNG, verified against the definition's reference; None shows the placeholder."""
    picture_note: str = NO_PICTURE
    """Why there is no picture (shown on the placeholder)."""
    problems: list[str] = field(default_factory=list)
    """Stored objects that could not be read (shown on the card; the report is still written)."""
    best_random_png: bytes | None = None
    """The picture of the best random design, verified; read only for a trivial or non-robust rejection."""
    best_random_note: str = NO_PICTURE

    @property
    def random(self) -> RandomProofReport | None:
        return self.result.random if self.result is not None else None

    @property
    def robust(self) -> RobustProofReport | None:
        return self.result.robust if self.result is not None else None

    @property
    def difficulty(self) -> DifficultyCard | None:
        return self.result.difficulty if self.result is not None else None

    @property
    def uncertified(self) -> Proof | None:
        """``not_trivial_random`` or ``robust`` when that proof rejected the benchmark, else None."""
        if self.entry.verdict != Verdict.REJECTED:
            return None
        failed = self.entry.failed_proof or (self.result.failed_proof if self.result is not None else None)
        return failed if failed in UNCERTIFIED else None

    # The certification numbers: the manifest entry's, else the difficulty card's, else the proof reports'
    # (entries written before they carried them). None for a result recorded before certification.

    @property
    def level(self) -> int | None:
        d = self.difficulty
        return _first(self.entry.level, d.level if d is not None else None)

    @property
    def random_designs(self) -> int | None:
        d, r = self.difficulty, self.random
        return _first(
            self.entry.random_designs,
            d.random_designs if d is not None else None,
            r.simulated if r is not None else None,
        )

    @property
    def random_solve_rate(self) -> float | None:
        d, r = self.difficulty, self.random
        return _first(
            self.entry.random_solve_rate,
            d.random_solve_rate if d is not None else None,
            r.solve_rate if r is not None else None,
        )

    @property
    def random_upper_bound(self) -> float | None:
        d, r = self.difficulty, self.random
        return _first(
            self.entry.random_upper_bound,
            d.random_upper_bound if d is not None else None,
            r.upper_bound if r is not None else None,
        )

    @property
    def random_solved(self) -> int | None:
        """Random designs that solved it: the report's count, else the rate times the designs."""
        if self.random is not None and self.random.solve_rate is not None:
            return self.random.solved
        n, rate = self.random_designs, self.random_solve_rate
        return round(n * rate) if n is not None and rate is not None else None

    @property
    def robust_share(self) -> float | None:
        d, r = self.difficulty, self.robust
        return _first(
            self.entry.robust_share,
            d.robust_share if d is not None else None,
            r.share if r is not None else None,
        )

    @property
    def slacks(self) -> tuple[float | None, float | None]:
        """Cost and weight slack (cap over the reference, minus one): the difficulty card's, else computed
        from the result's caps as :func:`engines.certify.difficulty.card` does."""
        d = self.difficulty
        if d is not None:
            return d.cost_slack, d.weight_slack
        caps = self.result.caps if self.result is not None else None
        if caps is None:
            return None, None
        cost = (
            caps.max_unit_cost_usd / caps.reference_unit_cost_usd - 1
            if caps.reference_unit_cost_usd > 0
            else None
        )
        weight = caps.max_weight_kg / caps.reference_weight_kg - 1 if caps.reference_weight_kg > 0 else None
        return cost, weight

    @property
    def failing_proof(self) -> ProofResult | None:
        """The proof that decided a rejection: the entry's failed proof, else the first that did not pass."""
        if self.result is None:
            return None
        proofs = self.result.proofs
        wanted = self.entry.failed_proof or self.result.failed_proof
        for p in proofs:
            if wanted is not None and p.proof == wanted:
                return p
        return next((p for p in proofs if not p.passed), None)


@dataclass(frozen=True)
class DatasetReport:
    dataset_id: str
    manifest: DatasetManifest | None
    """None while the dataset is still running: the cards then come from its manifest parts."""
    cards: list[BenchmarkCard]
    parts_read: int = 0
    """Manifest parts the cards were read from (a running dataset); 0 with a merged manifest."""
    problems: list[str] = field(default_factory=list)
    """Manifest parts that could not be read (shown in the header)."""

    @property
    def running(self) -> bool:
        return self.manifest is None

    @property
    def counts(self) -> Counter[Verdict]:
        return Counter(c.entry.verdict for c in self.cards)

    @property
    def pictures(self) -> int:
        return sum(c.thumbnail_png is not None for c in self.cards)

    @property
    def families(self) -> list[str]:
        """Families in request order, then any others the entries name."""
        asked = self.manifest.request.families if self.manifest is not None else []
        return list(dict.fromkeys([*asked, *(c.entry.family for c in self.cards)]))


def gather_report(store: ObjectStore, dataset_id: str) -> DatasetReport:
    """Read the manifest and, per entry, its result, definition and pictures. Without a merged manifest (the
    dataset is still running) the entries come from the manifest parts its runs have written so far.

    Raises ``ValueError`` for an id that is not a dataset id and :class:`DatasetNotFound` when the store
    has no such dataset (neither a manifest nor a part). A missing or damaged benchmark object only costs its
    card a detail, a damaged part the header a line."""
    dataset_id = check_dataset_id(dataset_id)
    try:
        manifest = store.get_model(manifest_key(dataset_id), DatasetManifest)
    except ObjectNotFound:
        running = _read_parts(store, dataset_id)
        if running is None:
            raise DatasetNotFound(dataset_id) from None
        entries, read, problems = running
        return DatasetReport(
            dataset_id=dataset_id,
            manifest=None,
            cards=[_card(store, e) for e in entries],
            parts_read=read,
            problems=problems,
        )
    entries = sorted(manifest.entries, key=lambda e: e.index)
    return DatasetReport(dataset_id=dataset_id, manifest=manifest, cards=[_card(store, e) for e in entries])


def _read_parts(store: ObjectStore, dataset_id: str) -> tuple[list[DatasetEntry], int, list[str]] | None:
    """The entries of every manifest part of the dataset (one per index), the parts read and the problems;
    None when there is no part. Parts of several runs (a rerun beside an abandoned one) hold the same
    benchmarks at the same indices: a finished verdict wins over a failed one, else the first part read."""
    keys = [k for k in store.list(parts_prefix(dataset_id)) if k.endswith(".json")]
    if not keys:
        return None
    by_index: dict[int, DatasetEntry] = {}
    problems: list[str] = []
    read = 0
    for key in keys:
        name = key.rpartition("/")[2]
        try:
            part = store.get_model(key, ManifestPartRequest)
        except ObjectNotFound:
            continue  # removed since listed
        except (ValueError, IntegrityError) as e:  # ValidationError is a ValueError
            problems.append(f"manifest part {name} unreadable: {first_line(e)}")
            continue
        if part.dataset_id != dataset_id:
            problems.append(f"manifest part {name} belongs to dataset {part.dataset_id}")
            continue
        read += 1
        for entry in part.entries:
            held = by_index.get(entry.index)
            if held is None or (held.verdict == Verdict.FAILED and entry.verdict != Verdict.FAILED):
                by_index[entry.index] = entry
    return sorted(by_index.values(), key=lambda e: e.index), read, problems


def _card(store: ObjectStore, entry: DatasetEntry) -> BenchmarkCard:
    bid = entry.benchmark_id
    problems: list[str] = []
    result: BenchmarkResult | None = None
    try:
        result = store.get_model(benchmark_result_key(bid), BenchmarkResult)
    except ObjectNotFound:
        pass  # a failed generation leaves no result
    except (ValueError, IntegrityError) as e:
        problems.append(f"result unreadable: {first_line(e)}")

    definition: BenchmarkDefinition | None = None
    try:
        definition = stored_definition(store, bid, result)
    except ObjectNotFound:
        problems.append("definition missing from the store")
    except (ValueError, IntegrityError) as e:
        problems.append(f"definition unreadable: {first_line(e)}")

    thumb = definition.artifacts.thumbnail if definition is not None else None
    png, note = _read_png(store, thumb, "thumbnail")
    card = BenchmarkCard(
        entry=entry,
        result=result,
        definition=definition,
        thumbnail_png=png,
        picture_note=note,
        problems=problems,
    )
    if card.uncertified is None:
        return card
    random = card.random
    if random is None:
        best, best_note = None, "no picture (no random designs recorded)"
    elif random.best_picture is None:
        best, best_note = None, "no picture (none rendered for the best random design)"
    else:
        best, best_note = _read_png(store, random.best_picture, "picture")
    return replace(card, best_random_png=best, best_random_note=best_note)


def stored_definition(
    store: ObjectStore, benchmark_id: str, result: BenchmarkResult | None
) -> BenchmarkDefinition | None:
    """The benchmark's definition: the one its result refers to (checked against the reference), else the one
    stored under its key (a rejection recorded before it referred to one), else None. Raises what the store
    raises for a missing, damaged or undecodable object."""
    if result is not None and result.definition is not None:
        return BenchmarkDefinition.model_validate_json(store.get_ref(result.definition))
    if store.exists(benchmark_definition_key(benchmark_id)):
        return store.get_model(benchmark_definition_key(benchmark_id), BenchmarkDefinition)
    return None


def _read_png(store: ObjectStore, ref: ArtifactRef | None, what: str) -> tuple[bytes | None, str]:
    """The PNG behind ``ref``, verified against it, or None and why not."""
    if ref is None:
        return None, NO_PICTURE
    try:
        data = store.get_ref(ref)
    except ObjectNotFound:
        return None, f"no picture ({what} missing from the store)"
    except IntegrityError:
        return None, f"no picture ({what} does not match its reference)"
    if not data.startswith(PNG_SIGNATURE):
        return None, f"no picture ({what} is not a PNG)"
    return data, NO_PICTURE


def first_line(e: BaseException) -> str:
    """An error's first line (at most 200 characters), or its type's name."""
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__
