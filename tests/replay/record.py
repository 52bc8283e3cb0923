"""Record replay histories of every shipped workflow (run with `make histories`, then commit the JSON).

Starts its own dev server and worker, runs each workflow for real, and writes one JSON history per run
(``temporal workflow show -o json`` format) into ``tests/replay/histories``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

HISTORIES = Path(__file__).parent / "histories"


async def record() -> list[Path]:
    from temporalio.testing import WorkflowEnvironment

    from shared.models import DatasetRequest, GenerateBenchmarkRequest
    from shared.settings import Settings
    from shared.temporal import DATA_CONVERTER, SEARCH_ATTRIBUTES, WF_GENERATE_BENCHMARK, WF_GENERATE_DATASET
    from workers.devstack import temporal_binary
    from workers.worker import running_worker

    HISTORIES.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), store="local")
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_binary(),
            data_converter=DATA_CONVERTER,
            search_attributes=SEARCH_ATTRIBUTES,
            ui=False,
        )
        try:
            client = env.client
            queue = f"record-{uuid.uuid4().hex[:6]}"
            async with running_worker(client, settings, task_queue=queue):
                runs = [
                    ("generate_benchmark", WF_GENERATE_BENCHMARK, GenerateBenchmarkRequest(family="gap", seed=3)),
                    (
                        "generate_dataset",
                        WF_GENERATE_DATASET,
                        DatasetRequest(families=["chute", "detour", "gap"], count=3, base_seed=5, chunk_size=2),
                    ),
                    # a second time: every benchmark is reused from the store
                    (
                        "generate_dataset_reused",
                        WF_GENERATE_DATASET,
                        DatasetRequest(families=["chute", "detour", "gap"], count=3, base_seed=5, chunk_size=2),
                    ),
                ]
                for name, wf, arg in runs:
                    wf_id = f"{name}-{uuid.uuid4().hex[:6]}"
                    handle = await client.start_workflow(wf, arg, id=wf_id, task_queue=queue)
                    await handle.result()
                    executions = [e async for e in client.list_workflows(f'WorkflowId = "{wf_id}"')]
                    executions.sort(key=lambda e: e.start_time)
                    for i, execution in enumerate(executions, start=1):
                        handle = client.get_workflow_handle(wf_id, run_id=execution.run_id)
                        path = HISTORIES / f"{name}-run{i}.json"
                        path.write_text((await handle.fetch_history()).to_json())
                        written.append(path)
        finally:
            await env.shutdown()
    return written


def main() -> None:
    for old in HISTORIES.glob("*.json"):
        old.unlink()
    paths = asyncio.run(record())
    for p in paths:
        print(f"wrote {p}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
