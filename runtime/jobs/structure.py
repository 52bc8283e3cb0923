"""The structural check a heavy job hands the runner: a structural benchmark's (or evaluation's) part
surfaces from the store, its fixtures' collision pieces as supports, and the safety factor of the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engines.physics import collision_pack
from engines.physics.collision_pack import Piece
from engines.physics.loads import LoadCase
from runtime.jobs import JobError, current_settings
from shared.models import BenchmarkDefinition, ErrorType, PartStress
from shared.store import IntegrityError, ObjectNotFound, ObjectStore

if TYPE_CHECKING:
    from engines.physics.structure_check import SceneStructure


def scene_structure_of(
    definition: BenchmarkDefinition, collision: dict[str, list[Piece]], store: ObjectStore
) -> SceneStructure | None:
    """None unless ``definition`` has a ``structure``. A part whose material has no elastic data, or whose
    surface is missing, fails the job as deterministically invalid (never retried)."""
    if definition.structure is None:
        return None
    from engines.physics.structure_check import scene_structure
    from engines.structure import StructureError

    ref = definition.artifacts.surfaces
    try:
        if ref is None:
            raise ObjectNotFound(f"{definition.benchmark_id} has a structure but no part surfaces")
        surfaces = {label: pieces[0] for label, pieces in collision_pack.unpack(store.get_ref(ref)).items()}
        return scene_structure(definition, surfaces, collision, current_settings().structure_safety_factor)
    except (ObjectNotFound, IntegrityError) as e:
        raise JobError(
            f"{definition.benchmark_id}: the part surfaces of its structural check are missing or damaged ({e})",
            ErrorType.INVALID_REQUEST,
        ) from e
    except StructureError as e:
        raise JobError(f"the structural check cannot run: {e}", ErrorType.INVALID_PART) from e


def stress_map(
    structure: SceneStructure, stresses: list[PartStress], peaks: dict[str, LoadCase]
) -> bytes | None:
    """The stress map of the scene's critical part (the smallest margin), or None when nothing was loaded."""
    from engines.physics.render_stress import stress_map_png

    checked = [s for s in stresses if s.label in peaks and not s.unheld]
    if not checked:
        return None
    critical = min(checked, key=lambda s: s.margin)
    load = peaks[critical.label]
    field = structure.analyse(critical.label, load)
    prepared = structure.prepared(critical.label)
    return stress_map_png(
        prepared.mesh.nodes,
        prepared.mesh.surface,
        field.node_von_mises_mpa,
        critical.allowable_mpa,
        label=critical.label,
        peak_location_mm=field.peak_location_mm,
        supported=prepared.supported,
        load_points=load.points_mm.tolist(),
    )
