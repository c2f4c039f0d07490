"""One investigation end to end with the real embedded llama.cpp server and SmolLM2-135M."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from optimizer.agent.config import optimized_config
from optimizer.agent.loop import investigate
from optimizer.agent.scenarios import load_scenario
from optimizer.serving.client import LLMClient
from optimizer.agent.metrics import agent_success

pytestmark = pytest.mark.real_llm


def test_optimized_agent_investigates_a_scenario_with_the_real_model(real_server) -> None:
    config = replace(optimized_config(), max_steps=5, max_tokens=48)
    scenario = load_scenario("imagepull-bad-tag-frontend")

    async def go():
        async with LLMClient(real_server.url) as client:
            return await investigate(client, scenario, config)

    investigation = asyncio.run(go())
    assert 1 <= len(investigation.steps) <= 5 and investigation.error is None
    assert all(step.model_calls >= 1 and step.raw_output for step in investigation.steps)
    assert all(0 < step.completion_tokens <= 48 * step.model_calls for step in investigation.steps)
    assert investigation.steps[0].tool_call == "FIND_ISSUES"  # the model's call or the fallback's, never nothing
    assert investigation.answer is not None and investigation.answered_by in ("model", "fallback")
    assert investigation.model and investigation.prompt_tokens > 0
    # Whoever wrote the answer, it is scored by the same metric the optimizer uses.
    assert agent_success(scenario.expected.model_dump(), vars(investigation.answer)) in (0.0, 1.0)
