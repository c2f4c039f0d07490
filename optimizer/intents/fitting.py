"""Fit the parser's and the router's calibration: on train, checked and thresholded on validation.

Input: two evaluations (``evaluation.py``) of the same pipeline in ``model_first`` mode with raw
confidences (no calibration file), so every item has the rules' kind, raw confidence and
correctness, and the model's own answer, raw confidence and correctness. Output: a
``Calibration`` (rules per kind and the model's isotonic map, fitted on train; the rules
threshold chosen on validation by replaying the pipeline's decision with the calibrated numbers)
and a report of the validation reliability tables and ECE, for rules, model and the pipeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimizer.intents.calibration import (
    Calibration,
    choose_rules_threshold,
    expected_calibration_error,
    choose_model_map,
    fit_rules,
    reliability_table,
)
from optimizer.intents.evaluation import Evaluation
from optimizer.intents.pipeline import decide
from optimizer.intents.routing import decide_route

MODEL_THRESHOLD = 0.5


@dataclass(frozen=True)
class CalibrationFit:
    """The fitted calibration and how it does on validation."""

    calibration: Calibration
    threshold_table: pd.DataFrame
    reliability: dict[str, pd.DataFrame]
    ece: dict[str, float]
    counts: dict[str, int]


def _model_answered(rows: pd.DataFrame) -> pd.Series:
    return rows["model_called"] & rows["model_valid"] if "model_valid" in rows else rows["model_called"] & rows["model_confidence"].notna()


def _replay_parser(row: pd.Series, rules_confidence: float, model_confidence: float | None) -> tuple[bool, float]:
    """(right?, confidence) of the pipeline's answer once the model was asked, with calibrated numbers."""
    cue = row.get("rules_cue")  # missing (a run stored before cues) or NaN: no cue
    chosen, _ = decide(row["rules_intent"], rules_confidence, row["model_intent"], model_confidence, MODEL_THRESHOLD,
                       rules_kind=row["rules_kind"], rules_cue=cue if isinstance(cue, str) else None)
    if chosen != "model" or model_confidence is None:
        return bool(row["rules_correct"]), rules_confidence
    agree = row["model_intent"] == row["rules_intent"]
    return bool(row["model_correct"]), max(model_confidence, rules_confidence) if agree else model_confidence


def _replay_router(row: pd.Series, rules_confidence: float, model_confidence: float | None) -> tuple[bool, float]:
    """(right?, confidence) of the router's answer once the model was asked, by the router's own ``decide_route``."""
    chosen, _ = decide_route(row["rules_route"], rules_confidence, bool(row["rules_certain"]), row["model_route"], model_confidence,
                             MODEL_THRESHOLD)
    if chosen != "model" or model_confidence is None:
        return bool(row["rules_correct"]), rules_confidence
    agree = row["model_route"] == row["rules_route"]
    return bool(row["model_correct"]), max(model_confidence, rules_confidence) if agree else model_confidence


def fit(
    train: Evaluation, validation: Evaluation, replay: Callable[[pd.Series, float, float | None], tuple[bool, float]], *,
    provenance: dict[str, Any] | None = None, rules_train: Evaluation | None = None, rules_validation: Evaluation | None = None,
) -> CalibrationFit:
    """Fit on ``train``, choose the threshold and measure calibration on ``validation``.

    ``rules_train`` / ``rules_validation``: rules-only evaluations of the whole splits (no model
    call needed), when ``train`` / ``validation`` are only a sample that the model answered; the
    rules' calibration and reliability are then read off every item.
    """
    train_rows = train.rows
    answered = _model_answered(train_rows)
    rules_rows = (rules_train or train).rows
    rules = fit_rules(list(rules_rows["rules_kind"]), list(rules_rows["rules_correct"]), list(rules_rows["rules_certain"]))
    xs, ys, prior, model_map, map_losses = choose_model_map(
        [None if pd.isna(value) else float(value) for value in train_rows.loc[answered, "model_raw_confidence"]],
        list(train_rows.loc[answered, "model_correct"]),
    )
    fitted = Calibration(rules=rules, model_xs=xs, model_ys=ys, model_prior=prior)
    rows = validation.rows
    rules_confidence = [fitted.rules_confidence(kind, raw) for kind, raw in zip(rows["rules_kind"], rows["rules_confidence"])]
    valid_answers = _model_answered(rows)
    model_confidence = [
        fitted.model_confidence(None if pd.isna(raw) else float(raw)) if ok else None
        for raw, ok in zip(rows["model_raw_confidence"], valid_answers)
    ]
    replayed = [replay(row, rc, mc) for (_, row), rc, mc in zip(rows.iterrows(), rules_confidence, model_confidence)]
    model_path_correct = [correct for correct, _ in replayed]
    threshold, table = choose_rules_threshold(rules_confidence, list(rows["rules_certain"]), list(rows["rules_correct"]),
                                              model_path_correct)
    calibration = Calibration(
        rules=rules, model_xs=xs, model_ys=ys, model_prior=prior, rules_threshold=threshold,
        provenance={
            **(provenance or {}),
            "fitted_on": f"train (rules: {len(rules_rows)} items; model: {len(train_rows)} items, {int(answered.sum())} valid answers)",
            "threshold_from": f"validation ({len(rows)} items)", "date": dt.date.today().isoformat(),
            "model_map": f"{model_map} (5-fold cross-validated log loss on train: "
                         + (", ".join(f"{name} {loss:.3f}" for name, loss in map_losses.items()) or "too few answers, not compared") + ")",
        },
    )
    # The pipeline as it will run: certain rules at or above the threshold answer, the rest the model path.
    pipeline_confidence, pipeline_correct = [], []
    for certain, rc, rules_ok, (model_path_ok, model_path_confidence) in zip(rows["rules_certain"], rules_confidence,
                                                                             rows["rules_correct"], replayed):
        by_rules = bool(certain) and rc >= threshold - 1e-9
        pipeline_confidence.append(rc if by_rules else model_path_confidence)
        pipeline_correct.append(bool(rules_ok) if by_rules else model_path_ok)
    model_rows = [index for index, mc in enumerate(model_confidence) if mc is not None]
    all_rules = (rules_validation or validation).rows
    sides = {
        "rules": ([fitted.rules_confidence(kind, raw) for kind, raw in zip(all_rules["rules_kind"], all_rules["rules_confidence"])],
                  list(all_rules["rules_correct"])),
        "model": ([model_confidence[i] for i in model_rows], [bool(rows["model_correct"].iloc[i]) for i in model_rows]),
        "pipeline": (pipeline_confidence, pipeline_correct),
    }
    return CalibrationFit(
        calibration=calibration,
        threshold_table=table,
        reliability={side: reliability_table(conf, ok) for side, (conf, ok) in sides.items()},
        ece={side: expected_calibration_error(conf, ok) for side, (conf, ok) in sides.items()},
        counts={side: len(conf) for side, (conf, _) in sides.items()},
    )


def fit_parser(train: Evaluation, validation: Evaluation, **kwargs: Any) -> CalibrationFit:
    return fit(train, validation, _replay_parser, **kwargs)


def fit_router(train: Evaluation, validation: Evaluation, **kwargs: Any) -> CalibrationFit:
    return fit(train, validation, _replay_router, **kwargs)
