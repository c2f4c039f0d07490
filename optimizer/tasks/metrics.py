"""Per-field metrics: small pure functions ``metric(expected, predicted) -> float`` in a registry.

The weighted overall score is computed here from the per-field scores and the task's weights,
never hand-rolled per task. Features register their own metrics (``optimizer/agent/metrics.py``,
``optimizer/intents/metrics.py``) through ``optimizer.plugins``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from optimizer import plugins

Metric = Callable[[Any, Any], float]

_TOKEN = re.compile(r"[a-z0-9]+")


def metric(name: str) -> Callable[[Metric], Metric]:
    """Register a metric under ``name`` (the name task specs use) in ``optimizer.plugins.metrics``."""
    return plugins.metrics.register(name)


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


@metric("json_valid")
def json_valid(expected: Any, predicted: Any) -> float:
    """1.0 when the answer is a JSON object or list (parsed, or text that parses as one); for output
    fields whose values are objects, where word overlap means little."""
    import json

    if isinstance(predicted, (dict, list)):
        return 1.0
    if isinstance(predicted, str):
        try:
            return 1.0 if isinstance(json.loads(predicted), (dict, list)) else 0.0
        except ValueError:
            return 0.0
    return 0.0


def get_metric(name: str) -> Metric:
    """The registered metric ``name``; ``ConfigError`` naming the known ones otherwise."""
    return plugins.metrics.get(name)


def weighted_overall(field_scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Sum of score x weight over the weighted fields, divided by the total weight."""
    total_weight = sum(weights.values())
    if total_weight <= 0:
        return 0.0
    return sum(field_scores.get(name, 0.0) * weight for name, weight in weights.items()) / total_weight
