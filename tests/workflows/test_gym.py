"""``mechbench/Design-v0``: an episode of three attempts at the published chute benchmark through the session's
server and worker, and Gymnasium's own environment checker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import workers.gym_env
from shared.scoring import SCORER_VERSION, auccess
from tests.helpers import publish_chute

pytestmark = pytest.mark.temporal

DESIGNS = Path(__file__).parents[2] / "examples" / "designs"


@pytest.fixture(scope="module")
async def published(temporal_env, worker_queue):  # type: ignore[no-untyped-def]
    return await publish_chute(temporal_env.client, worker_queue)


@pytest.fixture
def settings(temporal_env, worker_queue, test_settings):  # type: ignore[no-untyped-def]
    """The test settings pointed at the session's server and worker queue."""
    return test_settings.model_copy(
        update={
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "task_queue": worker_queue,
        }
    )


async def test_an_episode_of_three_attempts_ends_when_the_design_passes(settings, published) -> None:  # type: ignore[no-untyped-def]
    def episode() -> list[tuple[float, bool, bool, dict]]:  # type: ignore[type-arg]
        env = gym.make("mechbench/Design-v0", settings=settings, attempts=3)
        try:
            view, info = env.reset(options={"benchmark_id": published.benchmark_id})
            assert json.loads(view)["id"] == published.benchmark_id and info["attempts"] == 3
            steps = []
            for action in (
                (DESIGNS / "chute_design_bad.py").read_text(),
                "def build(:\n",  # does not compile: refused, and still an attempt
                (DESIGNS / "chute_design.py").read_text(),
            ):
                _, reward, terminated, truncated, info = env.step(action)
                steps.append((reward, terminated, truncated, info))
            return steps
        finally:
            env.close()

    steps = await asyncio.to_thread(episode)  # the worker serves on this test's event loop
    assert [s[0] for s in steps] == [0.0, 0.0, 1.0]
    assert [s[1] for s in steps] == [False, False, True]
    assert not any(s[2] for s in steps)
    bad, refused, good = (s[3] for s in steps)
    assert bad["result"]["verdict"] == "failed" and bad["score"]["success_share"] < 1
    assert "script:" in refused["error"] and "result" not in refused
    assert good["result"]["verdict"] == "passed" and good["attempt"] == 3
    assert good["score"]["scorer_version"] == SCORER_VERSION and good["score"]["cost_fraction"] <= 1
    first_solved = next(i for i, s in enumerate(steps, 1) if s[0] == 1.0)
    assert auccess([first_solved]) == pytest.approx(1 - 0.2380, abs=1e-3)  # 1 - log(3) / log(101)


async def test_the_environment_passes_gymnasiums_checker(settings, published) -> None:  # type: ignore[no-untyped-def]
    """Random text actions (what the checker steps with) do not compile: each is a refused attempt."""

    def checked() -> None:
        env = workers.gym_env.DesignEnv(settings=settings, attempts=5)
        try:
            check_env(env, skip_render_check=True)
        finally:
            env.close()

    await asyncio.to_thread(checked)
