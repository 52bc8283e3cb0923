"""The Gymnasium environment ``mechbench/Design-v0``: an episode is up to k attempts at one benchmark.

    import gymnasium as gym
    import workers.gym_env  # registers mechbench/Design-v0
    env = gym.make("mechbench/Design-v0", dataset="ds-...", split="within_family", fold=0)
    view, info = env.reset(seed=0)            # or reset(options={"benchmark_id": "chute-s0-v3"})
    view, reward, terminated, truncated, info = env.step(open("design.py").read())

- **Observation**: the benchmark's agent view (:meth:`workers.agent.Agent.get_benchmark`, no reference) as
  ASCII JSON text.
- **Action**: a design script's source text, or the JSON text of ``{"parts": [{"filename", "data_base64",
  "metadata"}, ...]}``.
- **Step**: one evaluation through Temporal (EvaluateDesign, as every entry point runs it); the reward is the
  scorer's (:mod:`shared.scoring`: 1 for a pass, else 0), ``info`` holds the whole result, its score and the
  attempt number, or the refusal (a script that does not compile, bad base64 ...), which is an attempt too.
- **Episode**: ends when the design passes (``terminated``) or after ``attempts`` attempts (``truncated``;
  default ``MECHBENCH_AGENT_ATTEMPTS``), so the attempt at which each benchmark was first solved is known and
  AUCCESS can be computed (:func:`shared.scoring.auccess`).

``reset(seed=...)`` draws the benchmark from the published ones (of ``dataset``, and of a ``split``'s
``fold``: its test set, or the rest with ``held_out=False``) with the environment's seeded generator.

With ``submitter``, every step is a leaderboard attempt under that name, on the benchmark's held-out scenes
(:mod:`workers.leaderboard`); without, it runs on the published scenes and records nothing.

It talks to Temporal through the settings, as the CLI does (``embedded=True`` starts the embedded stack in
a thread of its own), on an event loop in a background thread; ``close()`` stops it.
"""

from __future__ import annotations

import asyncio
import json
import string
import threading
from contextlib import AsyncExitStack
from typing import Any, ClassVar

import gymnasium as gym
from gymnasium import spaces

from shared.boundary import MAX_SCRIPT_BYTES
from shared.scoring import score
from shared.settings import Settings, get_settings
from workers.agent import MAX_PAGE_SIZE, Agent
from workers.agent_input import AgentInputError, AgentWorkFailed

ENV_ID = "mechbench/Design-v0"
CHARSET = string.printable
"""Observations are ASCII JSON; actions are Python or JSON text."""
MAX_OBSERVATION_CHARS = 1 << 20


class DesignEnv(gym.Env[str, str]):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        dataset: str | None = None,
        split: str | None = None,
        fold: int | None = None,
        held_out: bool = True,
        attempts: int | None = None,
        scenes: int | None = None,
        embedded: bool = False,
        settings: Settings | None = None,
        submitter: str | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.submitter = submitter
        self.attempts = attempts or self.settings.agent_attempts
        if not 1 <= self.attempts <= 100:
            raise ValueError(f"attempts: between 1 and 100, got {self.attempts}")
        self.scenes = scenes
        self._filters = {"dataset": dataset, "split": split, "fold": fold, "held_out": held_out}
        self.observation_space = spaces.Text(max_length=MAX_OBSERVATION_CHARS, charset=CHARSET)
        self.action_space = spaces.Text(max_length=MAX_SCRIPT_BYTES, charset=CHARSET)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mechbench-gym", daemon=True)
        self._thread.start()
        self._stack = AsyncExitStack()
        self._agent: Agent = self._call(self._connect(embedded))
        self._candidates: list[str] | None = None
        self._benchmark: str | None = None
        self._view = ""
        self._attempt = 0

    async def _connect(self, embedded: bool) -> Agent:
        from workers.mcp_server import connected_agent

        return await self._stack.enter_async_context(connected_agent(self.settings, embedded))

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _ids(self) -> list[str]:
        if self._candidates is None:
            ids, page = [], 0
            while True:
                found = self._call(
                    self._agent.list_benchmarks(**self._filters, page=page, page_size=MAX_PAGE_SIZE)
                )
                ids += [b["id"] for b in found["benchmarks"]]
                if len(ids) >= found["total"] or not found["benchmarks"]:
                    break
                page += 1
            if not ids:
                raise ValueError(f"no published benchmark matches {self._filters}")
            self._candidates = ids
        return self._candidates

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        chosen = (options or {}).get("benchmark_id")
        if chosen is None:
            ids = self._ids()
            chosen = ids[int(self.np_random.integers(len(ids)))]
        view = self._call(self._agent.get_benchmark(str(chosen)))
        self._benchmark, self._attempt = str(chosen), 0
        self._view = json.dumps(view, sort_keys=True, ensure_ascii=True)
        return self._view, {"benchmark_id": self._benchmark, "attempts": self.attempts}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._benchmark is None:
            raise RuntimeError("call reset() before step()")
        if self._attempt >= self.attempts:
            raise RuntimeError(f"the episode ended after {self.attempts} attempts; call reset()")
        self._attempt += 1
        info: dict[str, Any] = {"benchmark_id": self._benchmark, "attempt": self._attempt}
        script, parts = _design(action)
        try:
            result = self._call(
                self._agent.evaluate_design(
                    self._benchmark, script, parts, self.scenes, evidence=True, submitter=self.submitter
                )
            )
        except (AgentInputError, AgentWorkFailed) as e:
            s = score(False, None)
            info.update(error=str(e), score=s.model_dump())
        else:
            cost = result.cost
            s = score(
                result.verdict.value == "passed",
                result.success_share,
                cost.unit_cost_usd if cost else None,
                cost.max_unit_cost_usd if cost else None,
                cost.weight_kg if cost else None,
                cost.max_weight_kg if cost else None,
            )
            info.update(result=result.model_dump(mode="json"), score=s.model_dump())
        terminated = s.passed
        truncated = not terminated and self._attempt >= self.attempts
        return self._view, s.reward, terminated, truncated, info

    def close(self) -> None:
        if self._loop.is_running():
            try:
                self._call(self._stack.aclose())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(30)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()
        super().close()


def _design(action: str) -> tuple[str | None, list[dict[str, Any]] | None]:
    """A script's source, or the parts of a ``{"parts": [...]}`` JSON action."""
    text = str(action)
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "parts" in parsed:
            return None, parsed["parts"] if isinstance(parsed["parts"], list) else [parsed["parts"]]
    return text, None


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="workers.gym_env:DesignEnv")
