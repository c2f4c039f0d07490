"""One investigation reduced to what the A/B table counts, and how it travels through the run store.

The executor scores each investigation with the optimizer's own agent metrics and appends the
``Outcome`` as one ``Outcome: {json}`` line to the payload's content, so a stored run holds every
count the harness table needs and the table is rebuilt from the store, never from memory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from optimizer.agent.loop import Investigation
from optimizer.agent.metrics import agent_culprit, agent_root_cause
from optimizer.agent.scenarios import Scenario

OUTCOME_PREFIX = "Outcome: "


@dataclass(frozen=True)
class Outcome:
    """One investigation, reduced to what the table counts."""

    scenario_id: str
    config_name: str
    success: bool
    root_cause_ok: bool
    culprit_ok: bool
    steps: int
    model_replies: int
    format_violations: int
    tool_calls: int
    placeholder_errors: int
    loop: bool
    fallback_steps: int
    tokens: int
    answered_by: str | None
    root_cause: str
    culprit: str
    error: str | None


def score_investigation(scenario: Scenario, investigation: Investigation) -> Outcome:
    expected = scenario.expected.model_dump()
    answer = investigation.answer
    predicted = {"root_cause": answer.root_cause if answer else "", "culprit": answer.culprit if answer else ""}
    root_cause_ok = agent_root_cause(expected, predicted) == 1.0
    culprit_ok = agent_culprit(expected, predicted) == 1.0
    steps = investigation.steps
    return Outcome(
        scenario_id=scenario.id,
        config_name=investigation.config_name,
        success=root_cause_ok and culprit_ok,
        root_cause_ok=root_cause_ok,
        culprit_ok=culprit_ok,
        steps=len(steps),
        model_replies=sum(1 for step in steps if step.model_calls),
        format_violations=sum(step.format_violation for step in steps),
        tool_calls=sum(1 for step in steps if step.tool_call),
        placeholder_errors=sum(step.placeholder_error for step in steps),
        loop=any(step.loop for step in steps),
        fallback_steps=sum(1 for step in steps if step.fallback),
        tokens=investigation.prompt_tokens + investigation.completion_tokens,
        answered_by=investigation.answered_by,
        root_cause=predicted["root_cause"],
        culprit=predicted["culprit"],
        error=investigation.error,
    )


def outcome_line(outcome: Outcome) -> str:
    return OUTCOME_PREFIX + json.dumps(asdict(outcome), ensure_ascii=False, sort_keys=True)


def outcome_from_output(raw_output: str | None) -> Outcome | None:
    """The ``Outcome`` line of a stored investigation's output (None when there is none)."""
    for line in reversed((raw_output or "").splitlines()):
        if line.startswith(OUTCOME_PREFIX):
            try:
                data: dict[str, Any] = json.loads(line[len(OUTCOME_PREFIX):])
            except ValueError:
                return None
            known = {item.name for item in fields(Outcome)}
            return Outcome(**{key: value for key, value in data.items() if key in known})
    return None
