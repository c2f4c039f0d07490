"""The evaluation engine: candidates x validation examples -> scored, stored evaluations.

For each pair it renders the messages, asks the response cache, calls the server with bounded
concurrency, parses, scores each field and stores the row insert-or-ignore. Work is ordered by
candidate so requests that share a candidate's prompt prefix run together (llama.cpp reuses the
cached prefix in each slot). A server that stays down pauses the run with everything finished so
far saved; ``resume`` picks it up with no lost and no duplicated evaluations.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .dataset import Example
from .errors import ConfigError, MalformedResponseError, RequestRejectedError, RunPaused, ServerUnavailableError
from .llm_client import Completion, LLMClient
from .store import EvaluationRow, RunStore
from .task import TaskSpec
from .templates import Message, MessageRenderer, PromptTemplate

SAMPLING_KEYS = (
    "temperature", "top_p", "top_k", "max_tokens", "seed", "stop", "min_p", "repeat_penalty",
    "response_format", "grammar", "json_schema", "logprobs", "top_logprobs",
)
FLUSH_EVERY_ROWS = 64
FLUSH_EVERY_S = 0.5


@dataclass(frozen=True)
class Progress:
    """A snapshot for progress bars: done of total, cache hits, elapsed and estimated remaining time."""

    done: int
    total: int
    cached: int
    failed: int
    elapsed_s: float
    eta_s: float | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class WorkItem:
    candidate_id: str
    renderer: MessageRenderer
    example: Example


def sampling_params(template: PromptTemplate, overrides: dict[str, Any], seed: int) -> dict[str, Any]:
    """The template's model defaults, then run-level overrides; the seed is always set."""
    params = {key: value for key, value in template.model_defaults.items() if key in SAMPLING_KEYS}
    params.update({key: value for key, value in overrides.items() if value is not None})
    params.setdefault("seed", seed)
    return params


def cache_key(model_identity: str, messages: Sequence[Message], params: dict[str, Any]) -> str:
    canonical = json.dumps([model_identity, list(messages), params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def completion_to_cache(completion: Completion) -> dict[str, Any]:
    return {
        "content": completion.content,
        "model": completion.model,
        "finish_reason": completion.finish_reason,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "latency_s": completion.latency_s,
    }


Executor = Callable[[LLMClient, PromptTemplate, Example, dict[str, Any]], Awaitable[dict[str, Any]]]


def load_executor(dotted: str) -> Executor:
    """Resolve a task's ``module:function`` executor: an async function that replaces the single
    chat call (e.g. a multi-step agent) and returns a payload shaped like ``completion_to_cache``."""
    module_name, _, function_name = dotted.partition(":")
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"task executor {dotted!r} cannot be loaded: {exc}") from None


def score_row(
    task: TaskSpec, item: WorkItem, completion: dict[str, Any] | None, *, cached: bool, error: str | None = None
) -> EvaluationRow:
    """Parse and score one completion (or record a failed call with its reason)."""
    if completion is None:
        return EvaluationRow(
            item.candidate_id, item.example.id, None, {}, None, dict.fromkeys(task.outputs, 0.0), 0.0,
            None, None, None, None, None, cached, error,
        )
    parsed = task.parse(completion["content"])
    field_scores, overall = task.score(item.example.expected, parsed.fields)
    return EvaluationRow(
        candidate_id=item.candidate_id,
        example_id=item.example.id,
        raw_output=completion["content"],
        parsed=parsed.fields,
        parse_error=parsed.error,
        field_scores=field_scores,
        overall=overall,
        latency_s=completion.get("latency_s"),
        prompt_tokens=completion.get("prompt_tokens"),
        completion_tokens=completion.get("completion_tokens"),
        model_id=completion.get("model"),
        finish_reason=completion.get("finish_reason"),
        cached=cached,
        error=error,
    )


class _Writer:
    """Buffers rows and cache entries and writes them in batches (one transaction each)."""

    def __init__(self, store: RunStore, run_id: str, model_identity: str) -> None:
        self.store, self.run_id, self.model_identity = store, run_id, model_identity
        self.rows: list[EvaluationRow] = []
        self.cache_items: list[tuple[str, str, dict[str, Any]]] = []
        self.last_flush = time.monotonic()

    def add(self, row: EvaluationRow, cache_entry: tuple[str, dict[str, Any]] | None) -> None:
        self.rows.append(row)
        if cache_entry is not None:
            self.cache_items.append((cache_entry[0], self.model_identity, cache_entry[1]))
        if len(self.rows) >= FLUSH_EVERY_ROWS or time.monotonic() - self.last_flush >= FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        self.store.cache_put_many(self.cache_items)
        self.store.insert_evaluations(self.run_id, self.rows)
        self.rows, self.cache_items = [], []
        self.last_flush = time.monotonic()


async def execute(
    *,
    store: RunStore,
    run_id: str,
    task: TaskSpec,
    templates: Sequence[tuple[str, PromptTemplate]],
    examples: Sequence[Example],
    client: LLMClient,
    model_identity: str,
    concurrency: int,
    sampling_overrides: dict[str, Any],
    seed: int,
    on_progress: ProgressCallback | None = None,
    use_cache: bool = True,
) -> None:
    """Evaluate every (template, example) pair not stored yet; raise ``RunPaused`` if stopped early."""
    executor = load_executor(task.executor) if task.executor else None
    done_keys = store.done_keys(run_id)
    total = len(templates) * len(examples)
    renderers = {candidate_id: MessageRenderer(template) for candidate_id, template in templates}
    params_by_candidate = {
        candidate_id: sampling_params(template, sampling_overrides, seed) for candidate_id, template in templates
    }
    pending = [
        WorkItem(candidate_id, renderers[candidate_id], example)
        for candidate_id, _ in templates
        for example in examples
        if (candidate_id, example.id) not in done_keys
    ]
    already = total - len(pending)
    writer = _Writer(store, run_id, model_identity)
    counters = {"done": already, "cached": 0, "failed": 0, "fresh": 0}
    started = time.monotonic()
    stop_reason: list[str] = []
    queue_index = 0

    def report() -> None:
        if on_progress is None:
            return
        elapsed = time.monotonic() - started
        fresh = counters["fresh"]
        remaining = total - counters["done"]
        eta = (elapsed / fresh) * remaining if fresh else None
        on_progress(Progress(counters["done"], total, counters["cached"], counters["failed"], elapsed, eta))

    def finish(row: EvaluationRow, cache_entry: tuple[str, dict[str, Any]] | None, *, fresh: bool) -> None:
        writer.add(row, cache_entry)
        counters["done"] += 1
        counters["fresh"] += int(fresh)
        counters["cached"] += int(row.cached)
        counters["failed"] += int(row.error is not None)
        report()

    async def worker() -> None:
        nonlocal queue_index
        while not stop_reason and queue_index < len(pending):
            item = pending[queue_index]
            queue_index += 1
            messages = item.renderer.render(item.example.inputs)
            params = params_by_candidate[item.candidate_id]
            key = cache_key(model_identity, messages, params)
            if use_cache:
                hit = store.cache_get(key)
                if hit is not None:
                    finish(score_row(task, item, hit, cached=True), None, fresh=False)
                    continue
            try:
                if executor is not None:
                    payload = await executor(client, item.renderer.template, item.example, params)
                else:
                    payload = completion_to_cache(await client.chat(messages, **params))
            except ServerUnavailableError as exc:
                stop_reason.append(str(exc))
                return
            except (RequestRejectedError, MalformedResponseError) as exc:
                finish(score_row(task, item, None, cached=False, error=str(exc)), None, fresh=True)
                continue
            finish(score_row(task, item, payload, cached=False), (key, payload), fresh=True)

    async def watch_cancel() -> None:
        while not stop_reason:
            await asyncio.sleep(0.5)
            if store.cancel_requested(run_id):
                stop_reason.append("cancelled")

    report()
    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    watcher = asyncio.create_task(watch_cancel())
    try:
        await asyncio.gather(*workers)
    finally:
        watcher.cancel()
        for task_ in workers:
            task_.cancel()
        writer.flush()
        store.add_wall_time(run_id, time.monotonic() - started)
        report()
    if stop_reason:
        reason = stop_reason[0]
        status = "cancelled" if reason == "cancelled" else "paused"
        saved = store.count_evaluations(run_id)
        message = (
            f"run {run_id} {status} ({reason}); {saved}/{total} evaluations saved. "
            f"Resume with: workbench optimize --resume {run_id}"
        )
        store.update_run(run_id, status=status, message=message, pid=None)
        raise RunPaused(message, run_id)
