"""The parser and the router evaluated as runs of their tasks, through the engine.

``workbench eval-parser`` and ``eval-router`` score the whole pipeline (rules first, the model when
the rules are unsure) as one candidate of the ``intent_parsing`` / ``query_routing`` task: the
candidate is the pipeline's prompt template with the pipeline's configuration in
``model_defaults.pipeline``, and the task's executor, seeing that key, runs the pipeline on each
example instead of one model call. So the figures are a stored run like any optimizer run: cached
and resumable, scored by the task's own metrics, on the Compare page with confidence intervals and
paired tests against prompt-only candidates, and exportable.

Each stored output carries the pipeline's evaluation row (path, confidences, latency, the model's
own answer) as a ``Pipeline: {json}`` line before the answer itself, so the tables of
``Evaluation`` (per path, per domain, confusion, calibration) are rebuilt from the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.config.paths import repo_root
from optimizer.errors import ServerError
from optimizer.evaluate.runner import load_task_dataset, plan_candidates, run_plan
from optimizer.evaluate.store import RunStore
from optimizer.intents.evaluation import (
    PARSER_COLUMNS, ROUTER_COLUMNS, Evaluation, golden_examples, paraphrase_path, parser_row, router_row,
)
from optimizer.intents.pipeline import IntentParser, ParserConfig
from optimizer.intents.routing import QueryRouter, RouterConfig
from optimizer.prompts.templates import PromptTemplate, load_template
from optimizer.search.space import Candidate
from optimizer.serving.client import Completion, ServerInfo
from optimizer.tasks.dataset import Example
from optimizer.tasks.spec import load_task

PACKAGE = Path(__file__).parent
PIPELINE_KEY = "pipeline"
ROW_PREFIX = "Pipeline: "
TASKS = {"parser": "intent_parsing", "router": "query_routing"}


class RulesOnlyClient:
    """The engine's client for a rules-only evaluation: it names no model and refuses every call."""

    async def server_info(self) -> ServerInfo:
        return ServerInfo(base_url="none", model="rules-only", total_slots=1, kind="none")

    async def chat(self, messages: Any, **params: Any) -> Completion:
        raise ServerError("rules-only evaluation: no model server is used")


def pipeline_candidate(kind: str, config: ParserConfig | RouterConfig) -> Candidate:
    """The pipeline as a candidate of its task: its prompt template plus its configuration."""
    template = load_template(repo_root() / config.template_path)
    settings = {item.name: getattr(config, item.name) for item in fields(config)}
    template = template.model_copy(update={
        # The engine caches by rendered messages and sampling parameters; the pipeline's own
        # settings, calibration file, golden file (its retrieval pool) and code (the rules) are
        # neither, so their fingerprint goes into the carrier prompt: a changed mode, calibration
        # or rule is a new key, never a stale answer from the store.
        "system": f"{template.system.rstrip()}\n\n(pipeline configuration {_fingerprint(kind, settings)})",
        "id": f"{template.id}_{kind}_pipeline",
        "model_defaults": {**template.model_defaults, PIPELINE_KEY: {"kind": kind, **settings}},
        "factors": {"pipeline": f"{kind}, mode {config.mode}"},
        "evaluation": None,
    })
    return Candidate(template, {"pipeline": f"{kind} mode={config.mode}"}, origin="pipeline")


def source_digest(package: Path | None = None) -> str:
    """SHA-256 of the pipeline's code: every ``.py`` file of the intents package, by name and content."""
    digest = hashlib.sha256()
    for path in sorted((package or PACKAGE).glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _fingerprint(kind: str, settings: dict[str, Any]) -> str:
    """SHA-256 (12 hex) of the settings, the pipeline's code, and the calibration and golden files it reads."""
    digest = hashlib.sha256(json.dumps([kind, settings], sort_keys=True, default=str).encode())
    digest.update(source_digest().encode())
    calibration = settings.get("calibration_path")
    for path in [repo_root() / calibration] if calibration else []:
        digest.update(path.read_bytes() if path.is_file() else b"no calibration file")
    digest.update(load_task_dataset(load_task(TASKS[kind])).sha256.encode())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=8)
def _config(settings_json: str) -> tuple[str, ParserConfig | RouterConfig]:
    settings = json.loads(settings_json)
    kind = settings.pop("kind")
    return kind, (ParserConfig(**settings) if kind == "parser" else RouterConfig(**settings))


def is_pipeline(template: PromptTemplate) -> bool:
    return PIPELINE_KEY in template.model_defaults


async def pipeline_payload(client: Any, template: PromptTemplate, example: Example) -> dict[str, Any]:
    """The executor's work for a pipeline candidate: run the pipeline on one example."""
    kind, config = _config(json.dumps(template.model_defaults[PIPELINE_KEY], sort_keys=True))
    model_client = None if isinstance(client, RulesOnlyClient) else client
    if kind == "parser":
        result = await IntentParser(model_client, config=config).parse(str(example.inputs.get("input", "")), exclude_id=example.id)
        row, answer = parser_row(example, result), result.intent
    else:
        result = await QueryRouter(model_client, config).route(str(example.inputs.get("query", "")), exclude_id=example.id)
        row, answer = router_row(example, result), {"route": result.route}
    return {
        "content": ROW_PREFIX + json.dumps(row, ensure_ascii=False, default=str) + "\n" + json.dumps(answer, ensure_ascii=False),
        "model": getattr(result, "model", None) or "pipeline",
        "finish_reason": result.path,
        "prompt_tokens": None,
        "completion_tokens": None,
        "latency_s": result.latency_s,
    }


def evaluation_from_run(store: RunStore, run_id: str, name: str, kind: str) -> Evaluation:
    """The ``Evaluation`` of a stored pipeline run, read back from its ``Pipeline:`` lines."""
    rows = []
    for stored in store.evaluation_rows(run_id):
        first = (stored["raw_output"] or "").split("\n", 1)[0]
        if first.startswith(ROW_PREFIX):
            rows.append(json.loads(first[len(ROW_PREFIX):]))
    order = {example_id: position for position, example_id in enumerate(store.get_run(run_id).config["example_ids"])}
    rows.sort(key=lambda row: order.get(row["id"], len(order)))
    if kind == "parser":
        return Evaluation(name, pd.DataFrame(rows, columns=PARSER_COLUMNS), "domain", "action")
    return Evaluation(name, pd.DataFrame(rows, columns=ROUTER_COLUMNS), "route", "route")


async def evaluate_as_run(
    store: RunStore, client: Any, kind: str, config: ParserConfig | RouterConfig, split: str, *,
    limit: int | None = None, concurrency: int = 1, on_progress: Any = None,
) -> tuple[str, Evaluation]:
    """Score the pipeline on one split as a run of its task; returns the run id and its tables."""
    task_name = TASKS[kind]
    chosen = golden_examples(task_name, split, limit)
    wanted = {example.id for example in chosen}
    dataset = str(paraphrase_path(task_name)) if split == "paraphrase" else None
    plan = plan_candidates(
        task_name, [pipeline_candidate(kind, config)], baseline_first=False, dataset=dataset,
        examples=lambda loaded: [example for example in loaded.examples if example.id in wanted],
    )
    report = None if on_progress is None else (lambda progress: on_progress(progress.done, progress.total))
    run_id = await run_plan(store, plan, client, concurrency=concurrency, on_progress=report)
    return run_id, evaluation_from_run(store, run_id, split, kind)

