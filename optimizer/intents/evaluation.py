"""Golden-set evaluation of the parser and the router: accuracy, per-domain accuracy, confusion
matrix, misses, path shares, p50/p95 latency, and A/B tables. The CLI, the page and the bench all
read these frames; nothing here draws or prints.

The golden files are read through their workbench tasks (``intent_parsing``, ``query_routing``)
so the dataset path and its expected key are declared once.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.config.paths import resolve_in_repo
from optimizer.tasks.dataset import Example, load_dataset
from optimizer.errors import DatasetError
from optimizer.evaluate.runner import load_task_dataset
from optimizer.tasks.spec import load_task
from optimizer.intents.models import is_valid_intent
from optimizer.intents.pipeline import IntentParser, ParseResult
from optimizer.intents.routing import QueryRouter, RouteResult

ProgressCallback = Callable[[int, int], None]
SPLITS = ("validation", "train", "test", "paraphrase", "all")
REPORT_SPLITS = ("train", "validation", "test", "paraphrase")
"""What a report shows: develop on train, choose on validation, report test and paraphrase."""


def paraphrase_path(task_name: str) -> Path:
    """The held-out paraphrase file next to the task's golden file (``intents.jsonl`` ->
    ``intents_paraphrase.jsonl``): rewordings written apart from the rules, for reports only."""
    task = load_task(task_name)
    dataset_path = resolve_in_repo(task.dataset, what=f"task {task.name}: dataset")
    return dataset_path.with_name(f"{dataset_path.stem}_paraphrase{dataset_path.suffix}")


def golden_examples(task_name: str, split: str = "validation", limit: int | None = None) -> list[Example]:
    """The task's golden examples of one split, at most ``limit`` of them.

    ``all`` is train, validation and test of the golden file; ``paraphrase`` reads the paraphrase
    file (``DatasetError`` when there is none).
    """
    if split not in SPLITS:
        raise DatasetError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if limit is not None and limit < 1:
        raise DatasetError(f"the number of examples must be at least 1, got {limit}")
    task = load_task(task_name)
    if split == "paraphrase":
        examples = load_dataset(paraphrase_path(task_name), expected_key=task.expected_key).split("paraphrase")
    else:
        dataset = load_task_dataset(task)
        examples = list(dataset.examples) if split == "all" else dataset.split(split)
    return examples[:limit] if limit is not None else examples


def available_splits(task_name: str) -> list[str]:
    """The report splits this checkout has (paraphrase only when its file exists)."""
    return [split for split in REPORT_SPLITS if split != "paraphrase" or paraphrase_path(task_name).is_file()]


async def _run_all(
    work: Callable[[Example], Awaitable[dict[str, Any]]], examples: Sequence[Example], concurrency: int,
    on_progress: ProgressCallback | None,
) -> list[dict[str, Any]]:
    """Rows in example order, at most ``concurrency`` in flight (1 measures latency undisturbed)."""
    semaphore = asyncio.Semaphore(max(1, concurrency))
    done = 0

    async def one(example: Example) -> dict[str, Any]:
        nonlocal done
        async with semaphore:
            row = await work(example)
        done += 1
        if on_progress is not None:
            on_progress(done, len(examples))
        return row

    return list(await asyncio.gather(*(one(example) for example in examples)))


@dataclass(frozen=True)
class Evaluation:
    """Per-example rows of one evaluation and the tables read off them.

    ``rows`` has at least: id, group (domain or route), input, expected_label, predicted_label,
    correct, path, confidence, latency_s, model_called, model_correct.
    """

    name: str
    rows: pd.DataFrame
    group_name: str
    label_name: str

    def summary(self) -> dict[str, Any]:
        rows = self.rows
        called = rows[rows["model_called"]]
        accuracy = float(rows["correct"].mean()) if len(rows) else float("nan")
        low, high = wilson_interval(int(rows["correct"].sum()), len(rows))
        summary = {
            "name": self.name,
            "n": len(rows),
            "accuracy": accuracy,
            "accuracy_ci_low": low,
            "accuracy_ci_high": high,
            "majority_baseline": self.majority_baseline(),
            "p50_s": _quantile(rows["latency_s"], 0.5),
            "p95_s": _quantile(rows["latency_s"], 0.95),
            "model_calls": int(len(called)),
            "model_accuracy": float(called["model_correct"].mean()) if len(called) else float("nan"),
        }
        if "schema_valid" in rows:
            summary["schema_valid"] = float(rows["schema_valid"].mean()) if len(rows) else float("nan")
        if "model_valid" in rows and len(called):
            answered = called[~called["model_failed"]]
            summary["model_failures"] = int(called["model_failed"].sum())
            for column in ("model_valid", "model_schema_valid"):
                summary[column] = float(answered[column].mean()) if len(answered) else float("nan")
        for path in ("rules", "micro", "general", "model", "fallback"):
            answered = rows[rows["path"] == path]
            if len(answered):
                summary[f"share_{path}"] = len(answered) / len(rows)
                summary[f"accuracy_{path}"] = float(answered["correct"].mean())
        return summary

    def majority_baseline(self) -> float:
        """The accuracy of always answering the most common expected label (a trivial reference)."""
        if self.rows.empty:
            return float("nan")
        return float(self.rows["expected"].map(_label_key).value_counts().iloc[0] / len(self.rows))

    def by_group(self) -> pd.DataFrame:
        """Accuracy and latency per domain (parser) or per expected route (router)."""
        return self._grouped("group").rename(columns={"group": self.group_name})

    def by_path(self) -> pd.DataFrame:
        """How many answers each path gave, and how good and fast they were."""
        return self._grouped("path")

    def _grouped(self, column: str) -> pd.DataFrame:
        if self.rows.empty:
            return pd.DataFrame(columns=[column, "n", "accuracy", "p50_s", "p95_s"])
        grouped = self.rows.groupby(column, sort=True)
        return pd.DataFrame(
            {
                "n": grouped.size(),
                "accuracy": grouped["correct"].mean(),
                "p50_s": grouped["latency_s"].quantile(0.5),
                "p95_s": grouped["latency_s"].quantile(0.95),
            }
        ).reset_index()

    def confusion(self) -> pd.DataFrame:
        """Counts of expected (rows) against predicted (columns) actions or routes."""
        if self.rows.empty:
            return pd.DataFrame()
        return pd.crosstab(
            self.rows["expected_label"].rename(f"expected {self.label_name}"),
            self.rows["predicted_label"].rename(f"predicted {self.label_name}"),
        )

    def misses(self) -> pd.DataFrame:
        columns = ["id", "group", "input", "expected", "predicted", "path", "confidence", "reason"]
        misses = self.rows.loc[~self.rows["correct"], [c for c in columns if c in self.rows]]
        return misses.rename(columns={"group": self.group_name}).reset_index(drop=True)


def _schema_valid_reply(reply: str | None) -> bool:
    """Whether the model's raw reply, as written, is one JSON intent the schema accepts."""
    try:
        return reply is not None and is_valid_intent(json.loads(reply))
    except ValueError:
        return False


def _quantile(values: pd.Series, q: float) -> float:
    return float(values.quantile(q)) if len(values) else float("nan")


def _label_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (NaN, NaN for n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    share = successes / n
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def parser_row(example: Example, result: ParseResult) -> dict[str, Any]:
    """One parsed example as an evaluation row (what ``Evaluation`` tables are read from)."""
    expected = dict(example.expected)
    model_called = result.model_intent is not None or result.model_error is not None
    return {
        "id": example.id,
        "group": example.inputs.get("domain", "?"),
        "input": result.input,
        "expected": expected,
        "predicted": result.intent,
        "expected_label": expected.get("action"),
        "predicted_label": result.action,
        "correct": result.intent == expected,
        "schema_valid": is_valid_intent(result.intent),
        "path": result.path,
        "confidence": result.confidence,
        "latency_s": result.latency_s,
        "model_called": model_called,
        # The model's own answer, an invalid one counting as "unknown" (what model_only returns).
        "model_correct": model_called and (result.model_intent or {"action": "unknown"}) == expected,
        "model_valid": model_called and result.model_intent is not None,
        "model_schema_valid": model_called and _schema_valid_reply(result.model_reply),
        "model_failed": result.model_failed,
        "reason": result.reason,
        "rules_kind": result.rules_kind,
        "rules_cue": result.rules_cue,
        "rules_certain": result.rules_certain,
        "rules_confidence": result.rules_confidence,
        "rules_correct": result.rules_intent == expected,
        "model_confidence": result.model_confidence,
        "model_raw_confidence": result.model_raw_confidence,
        "model_intent": result.model_intent,
        "rules_intent": result.rules_intent,
    }


def router_row(example: Example, result: RouteResult) -> dict[str, Any]:
    """One routed example as an evaluation row."""
    expected = str(example.expected.get("route"))
    return {
        "id": example.id,
        "group": expected,
        "input": result.input,
        "expected": expected,
        "predicted": result.route,
        "expected_label": expected,
        "predicted_label": result.route,
        "correct": result.route == expected,
        "path": result.path,
        "confidence": result.confidence,
        "latency_s": result.latency_s,
        "model_called": result.model_route is not None or result.model_error is not None,
        "model_correct": result.model_route == expected,
        "reason": result.reason,
        "rules_kind": result.rules_kind,
        "rules_certain": result.rules_certain,
        "rules_confidence": result.rules_confidence,
        "rules_correct": result.rules_route == expected,
        "model_confidence": result.model_confidence,
        "model_raw_confidence": result.model_raw_confidence,
        "model_route": result.model_route,
        "rules_route": result.rules_route,
    }


async def evaluate_parser(
    parser: IntentParser, examples: Sequence[Example], *, name: str = "parser", concurrency: int = 1,
    on_progress: ProgressCallback | None = None,
) -> Evaluation:
    """Parse every example; score exact intent match, schema validity, and the model's own answer."""

    async def work(example: Example) -> dict[str, Any]:
        return parser_row(example, await parser.parse(str(example.inputs.get("input", "")), exclude_id=example.id))

    rows = await _run_all(work, examples, concurrency, on_progress)
    return Evaluation(name, pd.DataFrame(rows, columns=PARSER_COLUMNS), "domain", "action")


async def evaluate_router(
    router: QueryRouter, examples: Sequence[Example], *, name: str = "router", concurrency: int = 1,
    on_progress: ProgressCallback | None = None,
) -> Evaluation:
    """Route every example; score exact route match and the model's own answer."""

    async def work(example: Example) -> dict[str, Any]:
        return router_row(example, await router.route(str(example.inputs.get("query", "")), exclude_id=example.id))

    rows = await _run_all(work, examples, concurrency, on_progress)
    return Evaluation(name, pd.DataFrame(rows, columns=ROUTER_COLUMNS), "route", "route")


_ROW_COLUMNS = [
    "id", "group", "input", "expected", "predicted", "expected_label", "predicted_label", "correct", "schema_valid",
    "path", "confidence", "latency_s", "model_called", "model_correct", "reason",
]
_CALIBRATION_COLUMNS = [
    "rules_kind", "rules_certain", "rules_confidence", "rules_correct", "model_confidence", "model_raw_confidence",
]

PARSER_COLUMNS = [*_ROW_COLUMNS, "model_valid", "model_schema_valid", "model_failed", *_CALIBRATION_COLUMNS, "rules_cue", "model_intent",
                  "rules_intent"]
ROUTER_COLUMNS = [*(c for c in _ROW_COLUMNS if c != "schema_valid"), *_CALIBRATION_COLUMNS, "model_route", "rules_route"]

def split_report(evaluations: Mapping[str, Evaluation]) -> pd.DataFrame:
    """One row per split: n, exact accuracy with its 95% Wilson interval, the majority-label
    reference, schema-valid rate, p50/p95, and per path (rules / model / fallback) the share of
    queries it answered and its own accuracy. ``model`` folds the parser's micro and general paths."""
    rows = []
    for split, evaluation in evaluations.items():
        frame = evaluation.rows
        summary = evaluation.summary()
        row: dict[str, Any] = {
            "split": split, "n": summary["n"], "exact": summary["accuracy"],
            "ci95": f"{summary['accuracy_ci_low']:.2f}-{summary['accuracy_ci_high']:.2f}", "majority": summary["majority_baseline"],
        }
        if "schema_valid" in summary:
            row["schema_valid"] = summary["schema_valid"]
        paths = frame["path"].replace({"micro": "model", "general": "model"})
        for path in ("rules", "model", "fallback"):
            answered = frame[paths == path]
            row[f"{path}_share"] = len(answered) / len(frame) if len(frame) else float("nan")
            row[f"{path}_acc"] = float(answered["correct"].mean()) if len(answered) else float("nan")
        row["p50_s"], row["p95_s"] = summary["p50_s"], summary["p95_s"]
        rows.append(row)
    return pd.DataFrame(rows)


def side_by_side(evaluations: Mapping[str, Evaluation] | Sequence[Evaluation]) -> pd.DataFrame:
    """One row per evaluation (A/B): accuracy, schema-valid rate, p50/p95, model calls, path shares."""
    items = evaluations.values() if isinstance(evaluations, Mapping) else evaluations
    return pd.DataFrame([evaluation.summary() for evaluation in items]).set_index("name")
