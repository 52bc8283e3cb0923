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


def scene_glb_key(benchmark_id: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/scene.glb"


def trajectory_key(benchmark_id: str, mode: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/{mode}-trajectory.npz"


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
