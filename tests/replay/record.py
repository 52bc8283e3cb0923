"""Record replay histories of every shipped workflow (``make histories``, then commit the JSON).

Starts its own dev server and worker, runs each scenario for real, and writes one JSON history per run
(``temporal workflow show -o json`` format) into ``tests/replay/histories``.

Existing histories are never overwritten: they are what running workflows out there may still replay, so
a change that breaks them must go behind ``workflow.patched``. New scenarios get new files. Pass
``--tag NAME`` to record the current code's histories next to the old ones (e.g. after a patched change).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from pathlib import Path

HISTORIES = Path(__file__).parent / "histories"


async def record(tag: str, only: set[str] | None = None) -> list[Path]:
    """Record every scenario, or only the ``only`` ones (the evaluations' benchmark is always set up)."""
    import ipaddress

    from pydantic import SecretStr
    from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

    from engines.cad.export import step_bytes
    from engines.cad.primitives import box
    from engines.manufacturing import samples
    from shared.families import FAMILIES, GENERATOR_VERSION
    from shared.ids import benchmark_id
    from shared.keys import benchmark_definition_key
    from shared.models import (
        AnalyzeRequest,
        BenchmarkDefinition,
        DatasetRequest,
        DesignPartFile,
        DesignSubmission,
        EvaluateRequest,
        EvaluationProgress,
        GenerateBenchmarkRequest,
        PartSource,
    )
    from shared.settings import Settings
    from shared.store import LocalStore
    from shared.temporal import (
        WF_ANALYZE_MANUFACTURING,
        WF_EVALUATE_DESIGN,
        WF_GENERATE_BENCHMARK,
        WF_GENERATE_DATASET,
    )
    from workers.devstack import throwaway_server
    from workers.worker import running_worker

    HISTORIES.mkdir(parents=True, exist_ok=True)
    hooks = _receiver()  # completion webhooks POST here
    examples = Path(__file__).parents[2] / "examples"
    written: list[Path] = []

    async def save(client, name: str, wf_id: str) -> None:  # type: ignore[no-untyped-def]
        """Every run of ``wf_id`` (continue-as-new chains have several), oldest first."""
        executions = [e async for e in client.list_workflows(f'WorkflowId = "{wf_id}"')]
        executions.sort(key=lambda e: e.start_time)
        for i, execution in enumerate(executions, start=1):
            path = HISTORIES / f"{name}-{tag}-run{i}.json"
            if path.exists():
                print(f"kept {path} (histories are never overwritten)")
                continue
            history = await client.get_workflow_handle(wf_id, run_id=execution.run_id).fetch_history()
            path.write_text(history.to_json())
            written.append(path)

    dataset = DatasetRequest(
        families=["chute", "detour", "gap"], count=3, base_seed=5, chunk_size=2, dataset_id="replay-set"
    )
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "grooved.step"
        part.write_bytes(step_bytes(samples.grooved_block()))
        analysis = AnalyzeRequest(
            part=PartSource(path=str(part)), method="injection_molding", material="abs", quantity=5000
        )
        settings = Settings(
            data_dir=Path(tmp),
            store="local",
            part_roots=[Path(tmp)],
            # the receiver is local, and named: its URL and token stay out of the histories
            webhook_allow_networks=[ipaddress.ip_network("127.0.0.1/32")],
            webhook_targets={"replay": SecretStr(f"{hooks}/done?token=recorded")},
            # a short random-design proof, still in two shards (the history shows them side by side)
            random_designs=200,
            random_shard_size=100,
            robust_perturbations=8,
        )
        strict = settings.model_copy(
            update={"max_reference_unit_cost_usd": 0.01, "data_dir": Path(tmp) / "strict"}
        )
        async with throwaway_server() as env:
            client = env.client
            queue, strict_queue = (f"record-{uuid.uuid4().hex[:6]}" for _ in range(2))
            async with (
                running_worker(client, settings, task_queue=queue),
                running_worker(client, strict, task_queue=strict_queue),
            ):
                runs: list[tuple[str, str, object, str]] = [
                    (
                        "generate_benchmark",
                        WF_GENERATE_BENCHMARK,
                        GenerateBenchmarkRequest(family="gap", seed=3),
                        queue,
                    ),
                    # a proof fails (affordability ceiling of $0.01): the verdict is recorded, not raised
                    (
                        "generate_benchmark_rejected",
                        WF_GENERATE_BENCHMARK,
                        GenerateBenchmarkRequest(family="chute", seed=3),
                        strict_queue,
                    ),
                    ("generate_dataset", WF_GENERATE_DATASET, dataset, queue),
                    # a second time: every benchmark is reused from the store
                    ("generate_dataset_reused", WF_GENERATE_DATASET, dataset, queue),
                    ("analyze_manufacturing", WF_ANALYZE_MANUFACTURING, analysis, queue),
                    # the same part at another quantity: facts come from the cache
                    (
                        "analyze_manufacturing_cached",
                        WF_ANALYZE_MANUFACTURING,
                        analysis.model_copy(update={"quantity": 100}),
                        queue,
                    ),
                ]
                # Evaluations need a published benchmark (chute seed 0) and design files under the part roots.
                setup = f"setup-{tag}-{uuid.uuid4().hex[:6]}"
                await client.execute_workflow(
                    WF_GENERATE_BENCHMARK,
                    GenerateBenchmarkRequest(family="chute", seed=0),
                    id=setup,
                    task_queue=queue,
                )
                store = LocalStore(settings.local_store_dir)
                chute_id = benchmark_id("chute", 0, GENERATOR_VERSION)
                chute = Path(tmp) / "chute.step"
                chute.write_bytes(store.get_bytes(f"benchmarks/{chute_id}/parts/chute.step"))
                script = Path(tmp) / "chute_design.py"
                script.write_text((examples / "designs" / "chute_design.py").read_text())
                benchmark_script = Path(tmp) / "ramp_benchmark.py"
                benchmark_script.write_text((examples / "benchmarks" / "ramp_benchmark.py").read_text())
                good = EvaluateRequest(
                    benchmark_id=chute_id,
                    design=DesignSubmission(
                        parts=[
                            DesignPartFile(
                                source=PartSource(path=str(chute)),
                                metadata={"label": "ramp", "material": "aluminum_6061", "method": "cnc"},
                            )
                        ]
                    ),
                )
                invalid = EvaluateRequest(
                    benchmark_id=chute_id,
                    design=DesignSubmission(
                        parts=[
                            DesignPartFile(
                                source=PartSource(path=str(chute)),
                                metadata={"label": "ramp", "material": "unobtainium", "method": "cnc"},
                            )
                        ]
                    ),
                )
                trivial_script = Path(tmp) / "wide_goal_benchmark.py"
                trivial_script.write_text(
                    (Path(__file__).parents[1] / "data" / "wide_goal_benchmark.py").read_text()
                )
                runs += [
                    (
                        "generate_benchmark_script",
                        WF_GENERATE_BENCHMARK,
                        {"script": {"path": str(benchmark_script)}},
                        queue,
                    ),
                    # random designs solve it: rejected by the not_trivial_random proof, with its numbers
                    (
                        "generate_benchmark_trivial",
                        WF_GENERATE_BENCHMARK,
                        {"script": {"path": str(trivial_script)}},
                        queue,
                    ),
                    ("evaluate_design", WF_EVALUATE_DESIGN, good, queue),
                    # the same design again: the stored result, nothing simulated
                    ("evaluate_design_reused", WF_EVALUATE_DESIGN, good, queue),
                    # a validation report instead of a simulation
                    ("evaluate_design_invalid", WF_EVALUATE_DESIGN, invalid, queue),
                    # a leaderboard attempt: held-out scenes, admission, the attempt recorded
                    (
                        "evaluate_design_submitter",
                        WF_EVALUATE_DESIGN,
                        good.model_copy(update={"submitter": "replay-agent"}),
                        queue,
                    ),
                    # another submitter, the same design: the stored result, its own attempt recorded
                    (
                        "evaluate_design_submitter_reused",
                        WF_EVALUATE_DESIGN,
                        good.model_copy(update={"submitter": "replay-other"}),
                        queue,
                    ),
                    (
                        "evaluate_design_script",
                        WF_EVALUATE_DESIGN,
                        EvaluateRequest(
                            benchmark_id=chute_id,
                            design=DesignSubmission(script=PartSource(path=str(script))),
                            evidence=False,
                        ),
                        queue,
                    ),
                ]
                hook = "replay"  # a webhook target of the worker
                runs += [
                    # completion webhooks: the notification is the last command of each
                    (
                        "analyze_manufacturing_webhook",
                        WF_ANALYZE_MANUFACTURING,
                        analysis.model_copy(update={"quantity": 250, "webhook": hook}),
                        queue,
                    ),
                    (
                        "generate_dataset_webhook",
                        WF_GENERATE_DATASET,
                        DatasetRequest(
                            families=["chute"], count=1, base_seed=5, dataset_id="replay-hook", webhook=hook
                        ),
                        queue,
                    ),
                    (
                        "evaluate_design_webhook",
                        WF_EVALUATE_DESIGN,
                        good.model_copy(update={"webhook": hook}),
                        queue,
                    ),
                ]
                runs += [
                    (
                        "analyze_manufacturing_webhook_target",
                        WF_ANALYZE_MANUFACTURING,
                        analysis.model_copy(update={"quantity": 260, "webhook": hook}),
                        queue,
                    ),
                    # a token in a request's URL: refused at once (InvalidRequest), behind its patch marker
                    (
                        "analyze_manufacturing_webhook_secret",
                        WF_ANALYZE_MANUFACTURING,
                        {**analysis.model_dump(mode="json"), "webhook": f"{hooks}/done?token=recorded"},
                        queue,
                    ),
                ]
                # every family beyond the first four: its first seed through every proof
                runs += [
                    (f"generate_benchmark_family_{name}", WF_GENERATE_BENCHMARK,
                     GenerateBenchmarkRequest(family=name, seed=0), queue)
                    for name in FAMILIES[4:]
                ]  # fmt: skip
                refused = {"analyze_manufacturing_webhook_secret"}
                ids: dict[str, str] = {}
                for name, wf, arg, q in runs:
                    if only is not None and name not in only:
                        continue
                    ids[name] = (
                        f"{name}-{tag}"  # the replay test reads the workflow id back from the file name
                    )
                    try:
                        await (await client.start_workflow(wf, arg, id=ids[name], task_queue=q)).result()
                    except WorkflowFailureError:
                        if name not in refused:
                            raise
                    await save(client, name, ids[name])
                if "generate_dataset_reused" in ids:
                    # a child of the second dataset run: the reused path of GenerateBenchmark
                    await save(
                        client,
                        "generate_benchmark_reused",
                        f"{ids['generate_dataset_reused']}--{benchmark_id('chute', 5, GENERATOR_VERSION)}",
                    )
                if only is None or "generate_benchmark_repaired" in only:
                    # a published benchmark whose collision pieces were damaged: not reused, proven again
                    name = "generate_benchmark_repaired"
                    damaged = store.path_of(f"benchmarks/{chute_id}/collision.npz")
                    data = bytearray(damaged.read_bytes())
                    data[len(data) // 2 : len(data) // 2 + 5] = b"\x00" * 5
                    damaged.write_bytes(bytes(data))
                    await client.execute_workflow(
                        WF_GENERATE_BENCHMARK, GenerateBenchmarkRequest(family="chute", seed=0), id=f"{name}-{tag}",
                        task_queue=queue,
                    )  # fmt: skip
                    await save(client, name, f"{name}-{tag}")
                if only is None or "evaluate_design_breakage" in only:
                    # a structural benchmark's design too thin for its load: the scene ends in breakage
                    name = "evaluate_design_breakage"
                    shelf_id = benchmark_id("shelf", 0, GENERATOR_VERSION)
                    await client.execute_workflow(
                        WF_GENERATE_BENCHMARK, GenerateBenchmarkRequest(family="shelf", seed=0),
                        id=f"setup-shelf-{tag}-{uuid.uuid4().hex[:6]}", task_queue=queue,
                    )  # fmt: skip
                    shelf = BenchmarkDefinition.model_validate_json(
                        store.get_bytes(benchmark_definition_key(shelf_id))
                    )
                    (plate,) = shelf.reference_solution
                    lo, hi = plate.bbox.min_mm, plate.bbox.max_mm
                    thin = 0.6 * shelf.params["break_thickness_mm"]
                    thin_step = Path(tmp) / "thin_shelf.step"
                    thin_step.write_bytes(
                        step_bytes(box((lo[0], lo[1], hi[2] - thin), (hi[0], hi[1], hi[2])))
                    )
                    meta = {"label": "plate", "material": plate.material.value, "method": "fdm_printing"}
                    breaks = EvaluateRequest(
                        benchmark_id=shelf_id,
                        design=DesignSubmission(
                            parts=[DesignPartFile(source=PartSource(path=str(thin_step)), metadata=meta)]
                        ),
                    )
                    await client.execute_workflow(
                        WF_EVALUATE_DESIGN, breaks, id=f"{name}-{tag}", task_queue=queue
                    )
                    await save(client, name, f"{name}-{tag}")
                if only is None or "evaluate_design_cancelled" in only:
                    # cancelled while it simulates: the heavy step is awaited to its end, then what the
                    # evaluation wrote is discarded
                    name = "evaluate_design_cancelled"
                    handle = await client.start_workflow(
                        WF_EVALUATE_DESIGN, good.model_copy(update={"n_scenes": 64}), id=f"{name}-{tag}",
                        task_queue=queue,
                    )  # fmt: skip
                    for _ in range(2000):
                        if (
                            await handle.query("progress", result_type=EvaluationProgress)
                        ).stage == "simulate":
                            break
                        await asyncio.sleep(0.01)
                    await handle.cancel()
                    with contextlib.suppress(WorkflowFailureError):
                        await handle.result()
                    status = (await handle.describe()).status
                    if status != WorkflowExecutionStatus.CANCELED:
                        raise RuntimeError(
                            f"{name}: the evaluation ended {status} before the cancel; record again"
                        )
                    await save(client, name, f"{name}-{tag}")
    return written


def _receiver() -> str:
    """A local HTTP server answering 200 to every POST (for the webhook scenarios); lives with the process."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tag", default="v1", help="label of this recording in the file names")
    parser.add_argument("--only", help="comma-separated scenario names (default: all)")
    args = parser.parse_args()
    paths = asyncio.run(record(args.tag, set(args.only.split(",")) if args.only else None))
    for p in paths:
        print(f"wrote {p}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
