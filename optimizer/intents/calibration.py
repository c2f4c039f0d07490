"""Confidence that means something: map raw scores to probabilities of being right, and read them.

A parser or router answer carries a raw score (for the rules, the kind of rule that decided; for
the model, the least sure key's probability among the values its grammar allowed). Neither is a
probability of being right: the rules were written looking at examples, and a 135M model is often
sure and wrong. So both are *calibrated* on the train split:

- rules: per kind of rule (``match``, ``typo``, ``refusal``, ...), the share of train answers of
  that kind that were right. The kinds whose pattern matched fully (``certain``) share one Beta
  prior fitted on the same train answers (empirical Bayes, method of moments): its mean is the
  pooled share of right answers of all certain kinds (Jeffreys-smoothed, so never 1), and its
  strength is read off how much more the kinds' shares differ than binomial noise alone would
  make them. When they differ no more than that (e.g. every certain kind right on every train
  item), train gives no evidence that kinds differ and they are pooled: each gets the pooled
  share, not the share of its own 2-10 answers smoothed towards one half (which kept kinds that
  were never wrong at 0.83-0.94). Kinds with no opinion (``partial``, ``none``, ``no_rule``) keep
  their own Jeffreys estimate ((right + 1/2) / (answers + 1)): they are a different population;
- model: a map from the raw score to the share of right answers, chosen on train by 5-fold
  cross-validated log loss among isotonic regression (pool-adjacent-violators: the best
  non-decreasing step function, which overfits a few dozen noisy answers), Platt scaling (a
  logistic map of the score's logit: two numbers) and the constant share of right answers (when
  the score says nothing); it is stored as breakpoints and interpolated linearly.

On validation, ``reliability_table`` bins the calibrated confidences and compares each bin's mean
confidence with its accuracy; ``expected_calibration_error`` is the n-weighted mean gap.
``choose_rules_threshold`` then picks, from the validation answers of both sides, the calibrated
rules confidence at or above which the rules answer without asking the model.

The fitted numbers live in a small JSON file per task (``prompt_templates/calibration/``), written
by ``workbench eval-parser --calibrate`` / ``eval-router --calibrate``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import ConfigError


def isotonic_fit(scores: Sequence[float], outcomes: Sequence[float]) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators: the non-decreasing fit of ``outcomes`` on ``scores``.

    Returns breakpoints ``(xs, ys)``: each pooled block's mean score and mean outcome, sorted.
    """
    if len(scores) != len(outcomes):
        raise ValueError("scores and outcomes differ in length")
    if not scores:
        return [], []
    order = np.argsort(np.asarray(scores, dtype=float), kind="stable")
    blocks: list[list[float]] = []  # [sum_x, sum_y, weight]
    for index in order:
        blocks.append([float(scores[index]), float(outcomes[index]), 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [blocks[-1][0] + last[0], blocks[-1][1] + last[1], blocks[-1][2] + last[2]]
    return [block[0] / block[2] for block in blocks], [block[1] / block[2] for block in blocks]


@dataclass(frozen=True)
class Calibration:
    """Fitted maps from raw scores to probabilities, and the thresholds chosen from them.

    ``rules`` maps a rule kind to its calibrated confidence; ``model_xs``/``model_ys`` are the
    isotonic breakpoints of the model's raw confidence; ``model_prior`` is the model's train
    accuracy (used when a reply has no logprobs). ``rules_threshold``: the rules answer alone when
    they are certain and their calibrated confidence reaches it. ``provenance`` says on what.
    """

    rules: dict[str, float] = field(default_factory=dict)
    model_xs: list[float] = field(default_factory=list)
    model_ys: list[float] = field(default_factory=list)
    model_prior: float = 0.5
    rules_threshold: float = 0.9
    provenance: dict[str, Any] = field(default_factory=dict)

    def rules_confidence(self, kind: str, raw: float) -> float:
        """The calibrated confidence of a rules answer of ``kind`` (its raw score if never seen)."""
        return float(self.rules.get(kind, raw))

    def model_confidence(self, raw: float | None) -> float:
        """The calibrated confidence of a model answer whose raw score is ``raw`` (None: no logprobs)."""
        if raw is None:
            return self.model_prior
        if not self.model_xs:
            return float(raw)
        return float(np.interp(raw, self.model_xs, self.model_ys))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(self.to_json(), encoding="utf-8")
        temporary.replace(path)


UNCALIBRATED = Calibration()
"""Raw scores taken at face value: what a parser uses without a calibration file."""


def load_calibration(path: Path | None) -> Calibration:
    """The calibration in ``path``; ``UNCALIBRATED`` for ``None`` or a missing file; a bad file is a ``ConfigError``."""
    if path is None or not path.is_file():
        return UNCALIBRATED
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        calibration = Calibration(**data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not a calibration file ({str(exc).splitlines()[0]})") from None
    if len(calibration.model_xs) != len(calibration.model_ys):
        raise ConfigError(f"{path}: model_xs and model_ys differ in length")
    return calibration


def beta_prior(rights: Sequence[float], counts: Sequence[float]) -> tuple[float, float]:
    """The Beta prior of a group of kinds' rates, fitted to their counts by the method of moments.

    Returns ``(mean, strength)``: the mean is the pooled share of right answers, Jeffreys-smoothed
    ((R + 1/2) / (N + 1)); the between-kind variance is the weighted spread of the kinds' shares
    minus what binomial noise alone gives ((K - 1) * mean * (1 - mean), the DerSimonian-Laird
    moment estimate), and the strength is ``mean * (1 - mean) / variance - 1`` pseudo-answers;
    ``inf`` (pool the kinds) when the spread is no larger than the noise.
    """
    n = np.asarray(counts, dtype=float)
    r = np.asarray(rights, dtype=float)
    total = float(n.sum())
    if total == 0:
        return 0.5, math.inf
    mean = (float(r.sum()) + 0.5) / (total + 1.0)
    if len(n) < 2:
        return mean, math.inf
    raw_mean = float(r.sum()) / total
    spread = float((n * (r / n - raw_mean) ** 2).sum())
    noise = (len(n) - 1) * raw_mean * (1 - raw_mean)
    denominator = total - float((n ** 2).sum()) / total
    variance = (spread - noise) / denominator if denominator > 0 else 0.0
    if variance <= 0:
        return mean, math.inf
    return mean, max(mean * (1 - mean) / variance - 1.0, 1.0)


def fit_rules(kinds: Sequence[str], correct: Sequence[bool], certain: Sequence[bool] | None = None) -> dict[str, float]:
    """Per rule kind, its calibrated confidence on the fitting split.

    Kinds that are ``certain`` (a full match; every kind when ``certain`` is not given): the posterior
    mean (right + strength * mean) / (answers + strength) under their shared ``beta_prior``, i.e. the
    pooled share when the kinds do not differ beyond noise. Other kinds: (right + 1/2) / (answers + 1).
    """
    frame = pd.DataFrame({"kind": list(kinds), "correct": [bool(value) for value in correct],
                          "certain": [True] * len(kinds) if certain is None else [bool(value) for value in certain]})
    if frame.empty:
        return {}
    grouped = frame.groupby("kind").agg(right=("correct", "sum"), answers=("correct", "count"), certain=("certain", "all"))
    sure = grouped[grouped["certain"]]
    mean, strength = beta_prior(list(sure["right"]), list(sure["answers"]))
    fitted = {}
    for kind, row in grouped.iterrows():
        if not row["certain"]:
            fitted[str(kind)] = (row["right"] + 0.5) / (row["answers"] + 1)
        elif math.isinf(strength):
            fitted[str(kind)] = mean
        else:
            fitted[str(kind)] = (row["right"] + strength * mean) / (row["answers"] + strength)
    return {kind: round(float(value), 4) for kind, value in fitted.items()}


def fit_model(raw: Sequence[float | None], correct: Sequence[bool]) -> tuple[list[float], list[float], float]:
    """Isotonic breakpoints of the model's raw confidence, and its accuracy (the no-logprobs prior)."""
    pairs = [(float(score), float(ok)) for score, ok in zip(raw, correct) if score is not None]
    xs, ys = isotonic_fit([score for score, _ in pairs], [ok for _, ok in pairs])
    prior = (sum(bool(ok) for ok in correct) + 0.5) / (len(correct) + 1) if correct else 0.5
    return [round(x, 4) for x in xs], [round(y, 4) for y in ys], round(prior, 4)


PLATT_GRID = tuple(round(0.05 * index, 2) for index in range(21))
"""Where a logistic map is tabulated (the calibration file stores breakpoints, interpolated linearly)."""


def _logit(scores: np.ndarray) -> np.ndarray:
    clipped = np.clip(scores, 1e-4, 1 - 1e-4)
    return np.log(clipped / (1 - clipped))


def platt_fit(scores: Sequence[float], outcomes: Sequence[float], ridge: float = 1e-3) -> tuple[float, float]:
    """Logistic regression of ``outcomes`` on logit(score): ``(slope, intercept)``, slope >= 0.

    Newton steps on the log loss with a small ridge (so separable data stay finite); a negative
    slope (higher score, less often right) is set to 0, i.e. the share of right answers.
    """
    x = _logit(np.asarray(scores, dtype=float))
    y = np.asarray(outcomes, dtype=float)
    weights = np.zeros(2)
    design = np.column_stack([x, np.ones_like(x)])
    for _ in range(50):
        probability = 1 / (1 + np.exp(-(design @ weights)))
        gradient = design.T @ (probability - y) + ridge * weights
        hessian = design.T @ (design * (probability * (1 - probability))[:, None]) + ridge * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    if weights[0] < 0:
        share = (y.sum() + 0.5) / (len(y) + 1)
        return 0.0, float(np.log(share / (1 - share)))
    return float(weights[0]), float(weights[1])


def _model_map(method: str, scores: list[float], outcomes: list[float]) -> tuple[list[float], list[float]]:
    """Breakpoints of one candidate map fitted on (scores, outcomes)."""
    if method == "isotonic":
        return isotonic_fit(scores, outcomes)
    share = (sum(outcomes) + 0.5) / (len(outcomes) + 1)
    if method == "constant":
        return [0.0, 1.0], [share, share]
    slope, intercept = platt_fit(scores, outcomes)
    grid = np.asarray(PLATT_GRID)
    return list(grid), list(1 / (1 + np.exp(-(slope * _logit(grid) + intercept))))


MODEL_MAPS = ("isotonic", "platt", "constant")


def choose_model_map(
    raw: Sequence[float | None], correct: Sequence[bool], folds: int = 5
) -> tuple[list[float], list[float], float, str, dict[str, float]]:
    """The model's calibration map, chosen on the fitting split by cross-validation.

    Candidates: isotonic regression (flexible, overfits a few dozen answers), a logistic map of the
    logit of the raw score (Platt scaling: two numbers) and the constant share of right answers
    (when the raw score says nothing). Each is fitted on ``folds - 1`` folds of the answers and
    scored by the log loss of its predictions on the held-out fold (interleaved folds, so the
    choice is deterministic); the one with the lowest mean log loss is refitted on every answer.
    Returns the breakpoints, the no-logprobs prior, the method's name and each method's CV log loss.
    """
    pairs = [(float(score), float(ok)) for score, ok in zip(raw, correct) if score is not None]
    prior = (sum(bool(ok) for ok in correct) + 0.5) / (len(correct) + 1) if correct else 0.5
    if len(pairs) < 2 * folds:
        xs, ys = isotonic_fit([score for score, _ in pairs], [ok for _, ok in pairs])
        return [round(x, 4) for x in xs], [round(y, 4) for y in ys], round(prior, 4), "isotonic", {}
    order = sorted(range(len(pairs)), key=lambda index: (pairs[index][0], index))
    fold_of = {index: rank % folds for rank, index in enumerate(order)}
    losses: dict[str, float] = {}
    for method in MODEL_MAPS:
        total = 0.0
        for fold in range(folds):
            fit_on = [pairs[index] for index in range(len(pairs)) if fold_of[index] != fold]
            held = [pairs[index] for index in range(len(pairs)) if fold_of[index] == fold]
            xs, ys = _model_map(method, [score for score, _ in fit_on], [ok for _, ok in fit_on])
            predicted = np.clip(np.interp([score for score, _ in held], xs, ys), 0.02, 0.98)
            outcome = np.asarray([ok for _, ok in held])
            total += float(-(outcome * np.log(predicted) + (1 - outcome) * np.log(1 - predicted)).sum())
        losses[method] = round(total / len(pairs), 4)
    method = min(MODEL_MAPS, key=lambda name: (losses[name], MODEL_MAPS.index(name)))
    xs, ys = _model_map(method, [score for score, _ in pairs], [ok for _, ok in pairs])
    return [round(x, 4) for x in xs], [round(float(y), 4) for y in ys], round(prior, 4), method, losses


def reliability_table(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> pd.DataFrame:
    """Equal-width confidence bins: n, mean confidence, accuracy and their gap (empty bins left out)."""
    frame = pd.DataFrame({"confidence": [float(c) for c in confidences], "correct": [float(bool(c)) for c in correct]})
    columns = ["bin", "n", "mean_confidence", "accuracy", "gap"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    edges = np.linspace(0.0, 1.0, bins + 1)
    frame["bin_index"] = np.clip(np.searchsorted(edges, frame["confidence"], side="right") - 1, 0, bins - 1)
    rows = []
    for index, group in frame.groupby("bin_index"):
        mean_confidence, accuracy = group["confidence"].mean(), group["correct"].mean()
        rows.append({"bin": f"{edges[index]:.1f}-{edges[index + 1]:.1f}", "n": len(group), "mean_confidence": mean_confidence,
                     "accuracy": accuracy, "gap": abs(mean_confidence - accuracy)})
    return pd.DataFrame(rows, columns=columns)


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """The n-weighted mean |confidence - accuracy| over the reliability table's bins (NaN when empty)."""
    table = reliability_table(confidences, correct, bins)
    if table.empty:
        return math.nan
    return float((table["gap"] * table["n"]).sum() / table["n"].sum())


def choose_rules_threshold(
    rules_confidence: Sequence[float], rules_certain: Sequence[bool], rules_correct: Sequence[bool], model_correct: Sequence[bool]
) -> tuple[float, pd.DataFrame]:
    """The calibrated rules confidence at or above which a certain rules answer skips the model.

    For every candidate threshold (each distinct calibrated confidence of a certain rules answer,
    and "never"), the answers a validation run would give: the rules' where they are certain and at
    least that sure, the model path's elsewhere (``model_correct``: the model path's final answer
    was right). The most accurate threshold wins; ties go to the lowest (fewest model calls).
    Returns the threshold and the table it was read from.
    """
    confidence = np.asarray(rules_confidence, dtype=float)
    certain = np.asarray(rules_certain, dtype=bool)
    rules_ok = np.asarray(rules_correct, dtype=bool)
    model_ok = np.asarray(model_correct, dtype=bool)
    candidates = sorted({round(float(c), 4) for c in confidence[certain]}) + [1.01]
    rows = []
    for threshold in candidates:
        by_rules = certain & (confidence >= threshold - 1e-9)
        answers = np.where(by_rules, rules_ok, model_ok)
        rows.append({"threshold": threshold, "rules_share": float(by_rules.mean()) if len(answers) else 0.0,
                     "accuracy": float(answers.mean()) if len(answers) else math.nan})
    table = pd.DataFrame(rows)
    if table.empty or table["accuracy"].isna().all():
        return UNCALIBRATED.rules_threshold, table
    best = table["accuracy"].max()
    threshold = float(table.loc[table["accuracy"] >= best - 1e-12, "threshold"].min())
    return threshold, table


def calibration_report(frame: pd.DataFrame) -> dict[str, Any]:
    """ECE and reliability tables of one split's answers: ``frame`` has the columns ``side`` (rules
    or model), ``confidence`` (calibrated) and ``correct``."""
    report: dict[str, Any] = {}
    for side, group in frame.groupby("side"):
        report[f"{side}_n"] = len(group)
        report[f"{side}_ece"] = expected_calibration_error(group["confidence"], group["correct"])
        report[f"{side}_table"] = reliability_table(group["confidence"], group["correct"])
    return report


def describe(calibration: Calibration) -> Mapping[str, Any]:
    """A short, printable summary of a calibration."""
    return {"rules": calibration.rules, "model_prior": calibration.model_prior, "model_steps": len(calibration.model_xs),
            "rules_threshold": calibration.rules_threshold, **calibration.provenance}
