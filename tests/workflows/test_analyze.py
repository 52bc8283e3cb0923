"""AnalyzeManufacturing end to end on the dev server: a STEP part analysed by path and by stored artifact,
the facts cache, and bad input failing at once with a typed, non-retryable error and nothing priced."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError

from engines.cad.export import step_bytes
from engines.manufacturing import samples
from shared.keys import analysis_report_key, upload_key
from shared.models import AnalyzeRequest, ManufacturingReport, PartSource
from shared.refs import sha256_hex
from shared.store import LocalStore
from shared.temporal import WF_ANALYZE_MANUFACTURING
from tests.helpers import application_error

pytestmark = pytest.mark.temporal


@pytest.fixture(scope="module")
def parts_dir(test_settings) -> Path:  # type: ignore[no-untyped-def]
    d = test_settings.data_dir / "parts"
    d.mkdir(exist_ok=True)
    (d / "pocket.step").write_bytes(step_bytes(samples.pocket_block(0.0)))
    (d / "grooved.step").write_bytes(step_bytes(samples.grooved_block()))
    (d / "broken.step").write_bytes(b"ISO-10303-21;\nHEADER;\nthis file was cut off")
    return d


async def _analyze(client: Client, queue: str, req: dict | AnalyzeRequest) -> ManufacturingReport:
    return await client.execute_workflow(
        WF_ANALYZE_MANUFACTURING,
        req,
        id=f"analyze-test-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        result_type=ManufacturingReport,
    )


async def test_analysis_by_path_reports_findings_quote_ladder_and_alternatives(
    temporal_env, worker_queue, parts_dir, test_settings
) -> None:  # type: ignore[no-untyped-def]
    req = {
        "part": {"path": str(parts_dir / "pocket.step")},
        "method": "CNC",
        "material": "aluminum-6061",
        "quantity": 25,
    }
    report = await _analyze(temporal_env.client, worker_queue, req)
    assert (report.method.value, report.material.value, report.quantity) == (
        "cnc_milling",
        "aluminum_6061",
        25,
    )
    # a sharp internal corner is left at the tool radius, as shops quote it: a warning, not a refusal
    assert report.manufacturable
    corner = next(f for f in report.findings if f.rule_id == "CNC.INTERNAL_CORNER_RADIUS")
    assert corner.severity.value == "warning" and "EDM" in corner.why + corner.fix, corner
    assert report.quote.quantity == 25 and report.quote.unit_cost_usd > 0
    assert [r.quantity for r in report.ladder] == [1, 10, 25, 100, 1000, 10000]
    alternatives = {a.method.value: a for a in report.alternatives}
    assert set(alternatives) == {"injection_molding", "fdm_printing", "sheet_metal", "cnc_turning"}
    assert not alternatives["injection_molding"].available and not alternatives["fdm_printing"].available
    assert not any(a.manufacturable for a in report.alternatives)  # a pocketed block: no sheet, not round
    assert report.part.filename == "pocket.step" and report.part.has_brep
    store = LocalStore(test_settings.local_store_dir)
    stored = ManufacturingReport.model_validate_json(store.get_bytes(analysis_report_key(report.analysis_id)))
    assert stored.quote == report.quote

    # A new quantity re-prices the same part from the cached facts.
    again = await _analyze(temporal_env.client, worker_queue, {**req, "quantity": 2500})
    assert again.facts_cached and again.facts == report.facts
    assert again.quote.unit_cost_usd < report.quote.unit_cost_usd


async def test_analysis_of_a_stored_upload_with_a_price_table(
    temporal_env, worker_queue, parts_dir, test_settings
) -> None:  # type: ignore[no-untyped-def]
    data = (parts_dir / "grooved.step").read_bytes()
    store = LocalStore(test_settings.local_store_dir)
    ref = store.put_bytes(upload_key(sha256_hex(data), ".step"), data)
    req = AnalyzeRequest(
        part=PartSource(artifact=ref, filename="grooved.step"),
        method="injection_molding",
        material="abs",
        quantity=5000,
        price_table={"name": "acme", "processes": {"im": {"machine_rate_usd_per_h": 90, "source": "acme"}}},
    )
    report = await _analyze(temporal_env.client, worker_queue, req)
    undercut = next(f for f in report.findings if f.rule_id == "IM.UNDERCUT")
    assert undercut.measured == 1
    assert "acme" in report.catalog
    assert {a.method.value for a in report.alternatives if a.available} == {"cnc_milling", "fdm_printing"}


async def test_the_tolerance_class_and_finish_are_priced_as_lines(
    temporal_env, worker_queue, parts_dir
) -> None:  # type: ignore[no-untyped-def]
    req = {
        "part": {"path": str(parts_dir / "pocket.step")},
        "method": "cnc",
        "material": "aluminum_6061",
        "quantity": 10,
        "tolerance_class": "ISO 2768-f",
        "finish": "anodize",
    }
    report = await _analyze(temporal_env.client, worker_queue, req)
    q = report.quote
    assert q.tolerance_class == "f" and q.finish == "anodise"
    items = {ln.item for ln in q.lines}
    assert {"tolerance ISO 2768-f", "finish: anodise", "finish lot minimum: anodise"} <= items
    sheet = next(a for a in report.alternatives if a.method.value == "sheet_metal")
    assert sheet.available  # the alternatives are priced with the same options


@pytest.mark.parametrize(
    ("change", "error_type", "says"),
    [
        ({"method": "injection_molding", "material": "aluminum_6061"}, "InvalidRequest", "is made by"),
        ({"quantity": 0}, "InvalidRequest", "quantity"),
        ({"material": "unobtainium"}, "InvalidRequest", "material"),
        (
            {"material": "steel_carbon", "finish": "anodise"},
            "InvalidRequest",
            "cannot be given the anodise finish",
        ),
        ({"finish": "chrome"}, "InvalidRequest", "finish"),
        ({"tolerance_class": "h7"}, "InvalidRequest", "tolerance_class"),
        ({"part": {"path": "/etc/hostname", "format": "step"}}, "InvalidRequest", "outside the directories"),
        (
            {"part": {"path": "{parts}/../../../../../../../../../etc/hostname", "format": "step"}},
            "InvalidRequest",
            "outside",
        ),
        ({"part": {"path": "relative/part.step"}}, "InvalidRequest", "absolute"),
        ({"part": {"path": "{parts}/../parts/missing.step"}}, "InvalidRequest", "cannot be read"),
        ({"part": {"path": "{parts}/broken.step"}}, "InvalidPart", "STEP"),
    ],
)
async def test_bad_requests_fail_at_once_with_a_typed_error(
    temporal_env, worker_queue, parts_dir, change, error_type, says
) -> None:  # type: ignore[no-untyped-def]
    req = {"part": {"path": str(parts_dir / "pocket.step")}, "method": "cnc", "material": "aluminum_6061"}
    req["quantity"] = 10
    if "part" in change:
        change = {
            "part": {**change["part"], "path": change["part"]["path"].replace("{parts}", str(parts_dir))}
        }
    with pytest.raises(WorkflowFailureError) as info:
        await _analyze(temporal_env.client, worker_queue, {**req, **change})
    cause = application_error(info.value)
    assert cause.type == error_type and cause.non_retryable
    assert says in cause.message


def test_cli_rejects_bad_input_before_anything_starts(tmp_path: Path) -> None:
    part = tmp_path / "p.step"
    part.write_bytes(step_bytes(samples.plate(2.0)))
    env = {"PATH": "/usr/bin:/bin", "MECHBENCH_DATA_DIR": str(tmp_path / "data"), "MECHBENCH_DEV_PORT": "1"}
    for args, says in (
        (["--method", "im", "--material", "aluminum_6061", "--quantity", "10"], "is made by"),
        (["--method", "im", "--material", "abs", "--quantity", "0"], "quantity"),
        (["--method", "laser", "--material", "abs", "--quantity", "5"], "method"),
        (
            ["--method", "cnc", "--material", "steel_carbon", "--quantity", "5", "--finish", "anodise"],
            "cannot be given the anodise finish",
        ),
        (["--method", "cnc", "--material", "abs", "--quantity", "5", "--finish", "chrome"], "finish"),
        (["--method", "cnc", "--material", "abs", "--quantity", "5", "--tolerance-class", "h7"], "tolerance"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "workers.cli", "analyze", str(part), *args],
            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False,
        )  # fmt: skip
        assert out.returncode == 2, out.stderr
        assert says in out.stderr
    assert not (tmp_path / "data" / "store").exists()  # nothing uploaded


async def test_a_part_script_runs_in_the_sandbox_and_is_analysed(
    temporal_env, worker_queue, parts_dir
) -> None:  # type: ignore[no-untyped-def]
    script = parts_dir / "bracket_script.py"
    script.write_text((Path(__file__).parents[2] / "examples" / "bracket_script.py").read_text())
    req = {"part": {"path": str(script)}, "method": "fdm", "material": "pla", "quantity": 20}
    report = await _analyze(temporal_env.client, worker_queue, req)
    assert report.part.format == "step" and report.part.filename == "bracket_script.py.step"
    assert report.part.volume_mm3 > 0 and report.quote.method.value == "fdm_printing"


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("def build(:\n    pass\n", "line 1"),
        ("def build():\n    return 'hello'\n", "build()"),
        ("import os\ndef build():\n    return open('/etc/passwd').read()\n", "Permission"),
    ],
)
async def test_a_bad_part_script_is_an_invalid_part(
    temporal_env, worker_queue, parts_dir, source, says
) -> None:  # type: ignore[no-untyped-def]
    script = parts_dir / f"bad_{uuid.uuid4().hex[:6]}.py"
    script.write_text(source)
    req = {"part": {"path": str(script)}, "method": "fdm", "material": "pla", "quantity": 1}
    with pytest.raises(WorkflowFailureError) as info:
        await _analyze(temporal_env.client, worker_queue, req)
    cause = application_error(info.value)
    assert cause.type == "InvalidPart" and cause.non_retryable
    assert says in cause.message, cause.message
