"""The fault suite's shortened run (``python -m faults --quick``), as CI makes it: worker SIGKILLs during a
dataset, a server restart on the same database, an S3 outage, cancellations, replay guards, fuzzed workflow
input and a short soak. Each scenario runs its own stack; the suite's table is printed on failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(1500)
def test_quick_fault_suite_survives_every_fault(tmp_path: Path) -> None:
    report = tmp_path / "faults.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "faults",
            "--quick",
            "--workdir",
            str(tmp_path / "stacks"),
            "--report",
            str(report),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1400,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    rows = json.loads(report.read_text())
    faults = {r["fault"] for r in rows}
    assert len(rows) >= 9 and all(r["ok"] for r in rows), rows
    assert any("SIGKILL" in f for f in faults) and any("S3" in f for f in faults), faults
