"""The optimizer task's executor: one golden example is one whole investigation.

The engine calls ``run_example`` instead of a single chat call (``executor:`` in
``prompt_templates/tasks/k8s_agent.yaml``). The candidate template supplies the agent's system
prompt and sampling settings; the example names the scenario and the question. The payload's
``content`` is the labelled lines the task parses (root cause, culprit, steps, answered by) plus
the investigation's ``Outcome`` line for the A/B table, and its token counts are totals over the
investigation.
"""

from __future__ import annotations

from typing import Any

from optimizer.tasks.dataset import Example
from optimizer.serving.client import LLMClient
from optimizer.prompts.templates import PromptTemplate
from optimizer.agent.config import AgentConfig, baseline_config, optimized_config
from optimizer.agent.loop import investigate
from optimizer.agent.outcome import outcome_line, score_investigation
from optimizer.agent.scenarios import ScenarioError, load_scenario


def config_for(template: PromptTemplate, params: dict[str, Any]) -> AgentConfig:
    """The configuration a candidate names in ``model_defaults.agent_config`` (default: optimized,
    with the template's prompt and sampling): ``baseline`` or ``optimized-without-<change>``."""
    name = str(template.model_defaults.get("agent_config", "optimized"))
    if name == "baseline":
        return baseline_config()
    config = optimized_config(template, params)
    prefix = "optimized-without-"
    return config.without(name[len(prefix):]) if name.startswith(prefix) else config


# Part of the response-cache key of this executor's investigations: bump it when a code change
# makes the same prompt and seed investigate differently, so no stale investigation is replayed.
CACHE_VERSION = 3


async def run_example(client: LLMClient, template: PromptTemplate, example: Example, params: dict[str, Any]) -> dict[str, Any]:
    scenario_id = example.inputs.get("scenario")
    if not isinstance(scenario_id, str):
        raise ScenarioError(f"example {example.id!r} (line {example.line}): field 'scenario' is missing or not a string")
    scenario = load_scenario(scenario_id)
    config = config_for(template, params)
    investigation = await investigate(client, scenario, config, question=example.inputs.get("question"), seed=params.get("seed"))
    return {
        "content": investigation.content() + "\n" + outcome_line(score_investigation(scenario, investigation)),
        "model": investigation.model,
        "finish_reason": investigation.stop_reason,
        "prompt_tokens": investigation.prompt_tokens,
        "completion_tokens": investigation.completion_tokens,
        "latency_s": investigation.latency_s,
    }


run_example.cache_version = CACHE_VERSION  # type: ignore[attr-defined]
