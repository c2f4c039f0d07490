"""Class-balanced label metrics (balanced accuracy, macro-F1) that still average per example.

A label field whose classes are skewed (k8s severity: 55% ``info``) rewards a prompt that answers
the majority class every time. Balanced accuracy (the mean of the per-class recalls) and macro-F1
(the mean of the per-class F1) give every class the same say, so a constant answer scores ``1/K``.

Both are defined over a *set* of examples, but everything downstream (per-example rows, bootstrap
CIs, paired tests, halving's survivor ranking) averages per-example scores. So each is written as
per-example **contributions whose plain mean is the metric**:

- balanced accuracy: an example of class ``c`` contributes ``match * N / (K * n_c)`` (``N``
  examples, ``K`` classes present, ``n_c`` examples of class ``c``). Summed over class ``c`` this
  is ``N/K * recall_c``; the mean over ``N`` is the mean recall. The weight depends on the labels
  only, so the engine scores each answer alone, with the class counts of *the examples the run
  scores* (its ``example_ids``: fixed when the run is created, so a resumed run or a later halving
  round weighs every example the same). The stored score is then balanced already, and every
  optimizer that ranks by stored scores optimizes the balanced objective. The mean over all the
  run's examples is exactly their balanced accuracy; over a part (a halving round's prefix) it is
  the same weights' estimate. A single contribution can be above 1 (a correct example of a rare
  class): it is a share of a mean, not a probability.
- macro-F1: a correct example of class ``c`` contributes ``N / K * 2 / (n_c + p_c)`` (``p_c``: how
  often ``c`` was *predicted*; ``K``: classes expected or predicted). It needs the other
  predictions, so it is computed per candidate over the examples it was scored on
  (``optimizer.evaluate.leaderboard.evaluations_frame``), not when a single answer comes back.

Called as ``metric(expected, predicted)`` either returns the per-example agreement (exact match),
the value a field has when no class counts are known.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from optimizer.tasks.metrics import exact_match, metric, normalize_text

ClassWeights = Mapping[str, Mapping[str, float]]
"""``field -> {class: weight}`` for the balanced fields of a task, over one run's examples."""


def label_key(value: Any) -> str:
    """The class a label value belongs to (trimmed, lower-cased; missing is ``""``)."""
    return normalize_text(value)


def class_weights(expected_values: Sequence[Any]) -> dict[str, float]:
    """Balanced-accuracy weight per class: ``N / (K * n_c)`` over the given expected labels."""
    counts = Counter(label_key(value) for value in expected_values)
    total, classes = sum(counts.values()), len(counts)
    return {label: total / (classes * count) for label, count in counts.items()}


def balanced_accuracy_contributions(expected_values: Sequence[Any], predicted_values: Sequence[Any]) -> list[float]:
    """Per-example contributions whose mean is the balanced accuracy of the whole list."""
    weights = class_weights(expected_values)
    return [
        exact_match(expected, predicted) * weights[label_key(expected)]
        for expected, predicted in zip(expected_values, predicted_values, strict=True)
    ]


def macro_f1_contributions(expected_values: Sequence[Any], predicted_values: Sequence[Any]) -> list[float]:
    """Per-example contributions whose mean is the macro-F1 over the classes expected or predicted."""
    expected_counts = Counter(label_key(value) for value in expected_values)
    predicted_counts = Counter(label_key(value) for value in predicted_values if value is not None)
    classes = len(set(expected_counts) | set(predicted_counts))
    total = len(expected_values)
    contributions = []
    for expected, predicted in zip(expected_values, predicted_values, strict=True):
        label = label_key(expected)
        matched = exact_match(expected, predicted)
        contributions.append(matched * total / classes * 2.0 / (expected_counts[label] + predicted_counts[label]))
    return contributions


@metric("balanced_accuracy")
def balanced_accuracy(expected: Any, predicted: Any) -> float:
    """Per-class-weighted exact match: the mean over a split is its balanced accuracy (see module doc)."""
    return exact_match(expected, predicted)


@metric("macro_f1")
def macro_f1(expected: Any, predicted: Any) -> float:
    """Exact match per answer; the macro-F1 itself is computed per candidate over its examples."""
    return exact_match(expected, predicted)


#: Dataset-level metrics: name -> per-example contributions over a list of (expected, predicted).
CONTRIBUTIONS = {"balanced_accuracy": balanced_accuracy_contributions, "macro_f1": macro_f1_contributions}
#: Those whose contributions depend on the expected labels only (applied when an answer is scored).
LABEL_ONLY = {"balanced_accuracy"}
