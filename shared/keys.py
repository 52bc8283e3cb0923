"""Object-store layout: the one place that names where things live."""

from __future__ import annotations


def benchmark_prefix(benchmark_id: str) -> str:
    return f"benchmarks/{benchmark_id}"


def benchmark_result_key(benchmark_id: str) -> str:
    """The verdict; written last, so its presence means everything it refers to exists."""
    return f"{benchmark_prefix(benchmark_id)}/result.json"


def benchmark_definition_key(benchmark_id: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/definition.json"


def part_step_key(benchmark_id: str, label: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/parts/{label}.step"


def collision_key(benchmark_id: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/collision.npz"


def surfaces_key(benchmark_id: str) -> str:
    """The closed triangle surface of each reference part, for the structural check (structural benchmarks)."""
    return f"{benchmark_prefix(benchmark_id)}/surfaces.npz"


def scene_glb_key(benchmark_id: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/scene.glb"


def thumbnail_key(benchmark_id: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/thumbnail.png"


def trajectory_key(benchmark_id: str, mode: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/{mode}-trajectory.npz"


def random_best_key(benchmark_id: str, start: int) -> str:
    """A picture of the best random design of the random-design proof's shard that starts at ``start``."""
    return f"{benchmark_prefix(benchmark_id)}/random/best-{start:06d}.png"


def manifest_key(dataset_id: str) -> str:
    """The dataset's manifest; written last."""
    return f"datasets/{dataset_id}/manifest.json"


def manifest_part_key(dataset_id: str, chain: str, part_index: int) -> str:
    """One chunk's entries; ``chain`` (a hash of the workflow id) keeps concurrent runs apart."""
    return f"datasets/{dataset_id}/parts/{chain}-{part_index:05d}.json"


def upload_key(sha256: str, suffix: str) -> str:
    """A user's part file, content-addressed (``suffix`` like ``.step``)."""
    return f"uploads/{sha256}{suffix}"


def part_facts_key(sha256: str, facts_version: int, principal_frame: bool = False) -> str:
    """Geometry facts of a part file, cached by its content hash and the extractor's version. Facts of the
    part moved into its principal frame (benchmark reference parts) are kept apart from facts of the part
    as modelled (what a user's analysis of the same file measures)."""
    frame = "-principal" if principal_frame else ""
    return f"manufacturing/facts/v{facts_version}/{sha256}{frame}.npz"


def analysis_report_key(analysis_id: str) -> str:
    return f"manufacturing/reports/{analysis_id}.json"


def evaluation_prefix(evaluation_id: str) -> str:
    return f"evaluations/{evaluation_id}"


def evaluation_result_key(evaluation_id: str) -> str:
    """The evaluation's result; written last, so its presence means its evidence exists."""
    return f"{evaluation_prefix(evaluation_id)}/result.json"


def evaluation_collision_key(evaluation_id: str) -> str:
    """Convex pieces of the benchmark's fixtures and the design's parts: the scene the evaluation runs."""
    return f"{evaluation_prefix(evaluation_id)}/collision.npz"


def evaluation_surfaces_key(evaluation_id: str) -> str:
    """The closed triangle surface of each design part, for the structural check (structural benchmarks)."""
    return f"{evaluation_prefix(evaluation_id)}/surfaces.npz"


def evaluation_trajectory_key(evaluation_id: str) -> str:
    return f"{evaluation_prefix(evaluation_id)}/payload-trajectory.npz"


EVIDENCE_SCENE = "scene.npz"
EVIDENCE_FRAMES = "frames.png"
EVIDENCE_ANIMATION = "animation.webp"
EVIDENCE_PICTURE = "picture.png"
EVIDENCE_INVALID = "invalid.png"
"""An invalid design's picture, the offending parts red."""
EVIDENCE_STRESS = "stress.png"
"""The stress map of a structural benchmark's critical part."""


def evaluation_evidence_key(evaluation_id: str, name: str) -> str:
    """``name`` is one of the ``EVIDENCE_*`` names above."""
    return f"{evaluation_prefix(evaluation_id)}/evidence/{name}"


def design_pieces_key(digest: str) -> str:
    """Convex collision pieces of one placed design part, cached by a hash of its file and placement
    (CoACD takes seconds for a concave part; agents resubmit the same parts often)."""
    return f"designs/pieces/{digest}.npz"


HELD_OUT_SECRET_KEY = "private/held-out-secret"
"""The secret that derives benchmarks' held-out jitter seeds, when ``MECHBENCH_HELD_OUT_SECRET`` is not set:
made once, by the first evaluation that needs it. Nothing an agent can read serves it."""


def leaderboard_prefix(submitter: str | None = None, benchmark_id: str | None = None) -> str:
    """``leaderboard/``, a submitter's entries, or a submitter's entries on one benchmark."""
    prefix = "leaderboard/"
    if submitter is not None:
        prefix += f"{submitter}/"
        if benchmark_id is not None:
            prefix += f"{benchmark_id}/"
    return prefix


def leaderboard_entry_key(submitter: str, benchmark_id: str, design_sha256: str) -> str:
    """One attempt: a submitter's design on a benchmark (recorded once; the same design again is the same
    attempt)."""
    return f"{leaderboard_prefix(submitter, benchmark_id)}{design_sha256}.json"
