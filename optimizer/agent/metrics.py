"""The agent's metrics: whole-record scores over ``{root_cause, culprit, steps}``.

The expected record carries the words that recognise each (``root_cause_terms``, ``culprit_terms``).
Registered in ``optimizer.plugins`` by ``optimizer.agent.plugin``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from optimizer.tasks.metrics import metric, normalize_text

_TOKEN = re.compile(r"[a-z0-9]+")


AGENT_STEP_BUDGET = 12
_NO_CULPRIT = {"", "none", "n/a", "nothing", "no culprit", "no issue"}


def _agent_field(record: Any, name: str) -> str:
    return normalize_text(record.get(name)) if isinstance(record, Mapping) else ""


def _agent_terms(expected: Any, name: str) -> list[str]:
    if not isinstance(expected, Mapping):
        return []
    terms = expected.get(f"{name}_terms") or [expected.get(name, "")]
    return [normalize_text(term) for term in terms if normalize_text(term)]


@metric("agent_root_cause")
def agent_root_cause(expected: Any, predicted: Any) -> float:
    """1.0 when the predicted root cause contains one of the expected root-cause terms."""
    text = _agent_field(predicted, "root_cause")
    return 1.0 if text and any(term in text for term in _agent_terms(expected, "root_cause")) else 0.0


@metric("agent_culprit")
def agent_culprit(expected: Any, predicted: Any) -> float:
    """1.0 when the predicted culprit names the expected resource ("none" when nothing is wrong)."""
    text = _agent_field(predicted, "culprit")
    terms = _agent_terms(expected, "culprit")
    if terms == ["none"]:
        return 1.0 if text in _NO_CULPRIT else 0.0
    return 1.0 if text and any(term in text for term in terms) else 0.0


@metric("agent_success")
def agent_success(expected: Any, predicted: Any) -> float:
    """1.0 when both the root cause and the culprit match."""
    return agent_root_cause(expected, predicted) * agent_culprit(expected, predicted)


@metric("agent_steps")
def agent_steps(expected: Any, predicted: Any) -> float:
    """Fewer steps score higher, for successful investigations only: 1.0 at one step, 0.0 at the budget."""
    if not agent_success(expected, predicted):
        return 0.0
    match = _TOKEN.search(_agent_field(predicted, "steps"))
    if match is None or not match.group().isdigit():
        return 0.0
    steps = max(1, int(match.group()))
    return max(0.0, (AGENT_STEP_BUDGET - steps) / (AGENT_STEP_BUDGET - 1))


@metric("agent_model_success")
def agent_model_success(expected: Any, predicted: Any) -> float:
    """Success written by the model itself: 0.0 when the deterministic fallback wrote the answer,
    so an optimizer that targets this field improves the model, not the fallback."""
    return agent_success(expected, predicted) if _agent_field(predicted, "answered_by") == "model" else 0.0
