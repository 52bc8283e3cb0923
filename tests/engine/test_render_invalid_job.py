"""The build-design job (runtime.jobs.evaluation.build_design_job, called directly with a local store, no
Temporal): an invalid design comes back with a PNG of itself in the scene; a valid one, or a failed render,
without one, and the findings never depend on the picture."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco's first import, if it has not happened yet

import io

import numpy as np
import pytest
from PIL import Image

from engines.cad.build import build_benchmark
from engines.cad.export import step_bytes
from engines.cad.primitives import box
from engines.physics import render
from engines.physics.render import RenderUnavailable
from runtime import jobs
from runtime.jobs import evaluation as job
from shared.keys import evaluation_evidence_key, upload_key
from shared.models import (
    BenchmarkDefinition,
    BuildDesignRequest,
    BuiltDesign,
    HeavyProgress,
    StagedDesign,
    StagedDesignPart,
    StagedPart,
)
from shared.refs import sha256_hex
from shared.settings import Settings
from shared.store import ObjectStore

ALU = {"material": "aluminum_6061", "method": "cnc"}
INSIDE = ((40.0, -10.0, 30.0), (60.0, 10.0, 50.0))
"""A block inside the chute's build zone (x -47..167, y -43..43, z 0..159), touching nothing."""
OUTSIDE = ((40.0, 60.0, 30.0), (70.0, 90.0, 60.0))
"""A block beyond the build zone's +y side."""


@pytest.fixture
def store(tmp_path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:  # type: ignore[no-untyped-def]
    """The jobs' store: a local directory of this test's own."""
    monkeypatch.setattr(jobs, "_settings", Settings(data_dir=tmp_path, store="local", mujoco_gl="egl"))
    return jobs.open_store()


@pytest.fixture
def chute(store: ObjectStore) -> BenchmarkDefinition:
    """chute seed 0 with its artifacts (fixtures' STEP, collision pack) in the store."""
    definition, blobs, _ = build_benchmark("chute", 0, 1, "chute-s0-v1")
    store.put_many(blobs)
    return definition


def _request(
    store: ObjectStore, definition: BenchmarkDefinition, *blocks: tuple[str, tuple]
) -> BuildDesignRequest:
    parts = []
    for label, (lo, hi) in blocks:
        data = step_bytes(box(lo, hi))
        ref = store.put_bytes(upload_key(sha256_hex(data), ".step"), data, "model/step")
        parts.append(
            StagedDesignPart(
                part=StagedPart(artifact=ref, format="step", filename=f"{label}.step"),
                metadata={"label": label, **ALU},
            )
        )
    return BuildDesignRequest(
        evaluation_id="ev-invalid-picture", definition=definition, design=StagedDesign.of(parts=parts)
    )


def _build(req: BuildDesignRequest) -> tuple[BuiltDesign, list[str]]:
    stages: list[str] = []

    def progress(p: HeavyProgress) -> None:
        stages.append(p.stage)

    return job.build_design_job(req, progress, None), stages


@pytest.fixture
def gl() -> None:
    """Skip, with the reason, when this process cannot make a GL context."""
    import mujoco

    model = mujoco.MjModel.from_xml_string("<mujoco><worldbody><geom size='1'/></worldbody></mujoco>")
    try:
        render.render_frames(model, model.qpos0, width=8, height=6)
    except RenderUnavailable as e:
        pytest.skip(f"no GL context in this test process (MuJoCo backend {render.gl_backend()!r}): {e}")


def test_an_invalid_design_comes_with_a_png_of_itself_in_the_store(gl: None, store, chute) -> None:  # type: ignore[no-untyped-def]
    built, stages = _build(_request(store, chute, ("fine", INSIDE), ("stray", OUTSIDE)))
    assert not built.valid and built.scene is None
    assert {(f.rule, p) for f in built.findings for p in f.parts} >= {("design.outside_build_zone", "stray")}
    assert built.picture is not None and "picture" in stages
    assert built.picture.key == evaluation_evidence_key("ev-invalid-picture", "invalid.png")
    assert built.picture.media_type == "image/png"
    data = store.get_ref(built.picture)  # checks the digest and the size
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (640, 480)
    r, g, b = (np.asarray(image.convert("RGB"))[..., k].astype(int) for k in range(3))
    assert ((r > 90) & (g < 0.35 * r) & (b < 0.35 * r)).sum() > 500, "the stray block is red"
    assert ((b > 90) & (b - r > 60) & (g < 0.8 * b)).sum() > 200, "the fine block is design blue"
    assert BuiltDesign.model_validate_json(built.model_dump_json()) == built


def test_a_valid_design_has_no_invalid_picture(store, chute) -> None:  # type: ignore[no-untyped-def]
    built, stages = _build(_request(store, chute, ("fine", INSIDE)))
    assert built.valid and built.scene is not None, built.findings
    assert built.picture is None and "picture" not in stages
    assert not store.exists(evaluation_evidence_key("ev-invalid-picture", "invalid.png"))


def test_a_failed_render_leaves_the_picture_out_not_the_findings(
    store, chute, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RenderUnavailable("no GL here")

    monkeypatch.setattr(job, "invalid_picture_png", broken)
    built, _ = _build(_request(store, chute, ("fine", INSIDE), ("stray", OUTSIDE)))
    assert not built.valid and built.picture is None
    assert ("design.outside_build_zone", "stray") in {(f.rule, p) for f in built.findings for p in f.parts}

    monkeypatch.setattr(
        jobs, "_settings", jobs.current_settings().model_copy(update={"mujoco_gl": "disabled"})
    )
    built, stages = _build(_request(store, chute, ("stray", OUTSIDE)))
    assert not built.valid and built.picture is None and "picture" not in stages
