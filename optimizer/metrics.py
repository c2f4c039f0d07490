"""Per-field metrics: small pure functions ``metric(expected, predicted) -> float`` in a registry.

The weighted overall score is computed here from the per-field scores and the task's weights,
never hand-rolled per task.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Metric = Callable[[Any, Any], float]

METRICS: dict[str, Metric] = {}

_TOKEN = re.compile(r"[a-z0-9]+")


def metric(name: str) -> Callable[[Metric], Metric]:
    """Register a metric under ``name`` (the name task specs use)."""

    def register(function: Metric) -> Metric:
        METRICS[name] = function
        return function

    return register


def normalize_text(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).strip().lower().split()).strip(" .;:")


@metric("exact_match")
def exact_match(expected: Any, predicted: Any) -> float:
    """1.0 when the values are equal after trimming and lower-casing."""
    if predicted is None:
        return 0.0
    return 1.0 if normalize_text(expected) == normalize_text(predicted) else 0.0


@metric("strict_equal")
def strict_equal(expected: Any, predicted: Any) -> float:
    """1.0 when the values are equal as given (for structured values such as intents)."""
    return 1.0 if expected == predicted else 0.0


def tokens(value: Any) -> set[str]:
    return set(_TOKEN.findall(str(value or "").lower()))


@metric("token_jaccard")
def token_jaccard(expected: Any, predicted: Any) -> float:
    """|A ∩ B| / |A ∪ B| over lower-cased alphanumeric tokens; 1.0 when both are empty."""
    expected_tokens, predicted_tokens = tokens(expected), tokens(predicted)
    if not expected_tokens and not predicted_tokens:
        return 1.0
    union = expected_tokens | predicted_tokens
    return len(expected_tokens & predicted_tokens) / len(union)


@metric("token_f1")
def token_f1(expected: Any, predicted: Any) -> float:
    """Harmonic mean of token precision and recall."""
    expected_tokens, predicted_tokens = tokens(expected), tokens(predicted)
    common = len(expected_tokens & predicted_tokens)
    if not expected_tokens and not predicted_tokens:
        return 1.0
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted_tokens), common / len(expected_tokens)
    return 2 * precision * recall / (precision + recall)


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}") from None


def weighted_overall(field_scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Sum of score x weight over the weighted fields, divided by the total weight."""
    total_weight = sum(weights.values())
    if total_weight <= 0:
        return 0.0
    return sum(field_scores.get(name, 0.0) * weight for name, weight in weights.items()) / total_weight


# Kubernetes investigation agent (optimizer/agent): whole-record metrics over
# {root_cause, culprit, steps}; the expected record carries the words that recognise each.

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


@metric("intent_schema_valid")
def intent_schema_valid(expected: Any, predicted: Any) -> float:
    """1.0 when the predicted record is a valid intent (``optimizer.intents.models``); a whole-record
    metric that ignores ``expected``."""
    from .intents.models import is_valid_intent

    return 1.0 if is_valid_intent(dict(predicted) if isinstance(predicted, Mapping) else predicted) else 0.0
