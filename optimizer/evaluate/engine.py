"""The evaluation engine: candidates x validation examples -> scored, stored evaluations.

For each pair it renders the messages, asks the response cache, calls the server with bounded
concurrency, parses, scores each field and stores the row insert-or-ignore. Work is handed out
by candidate (``CandidateQueues``): each worker runs one candidate's calls one after another, so
llama.cpp evaluates that candidate's shared prefix (system prompt and few-shot turns) once in the
slot that then keeps it, instead of once in every slot. A server that stays down pauses the run
with everything finished so far saved; ``resume`` picks it up with no lost and no duplicated
evaluations.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from optimizer import plugins
from optimizer.tasks.balanced import ClassWeights
from optimizer.tasks.dataset import Example, load_dataset
from optimizer.errors import MalformedResponseError, RequestRejectedError, RunPaused, ServerUnavailableError, StoreError
from optimizer.serving.client import Completion, LLMClient

from optimizer.evaluate import telemetry
from optimizer.evaluate.store import CallProgress, EvaluationRow, RunStore
from optimizer.tasks.spec import TaskSpec
from optimizer.prompts.templates import Message, MessageRenderer, PromptTemplate

SAMPLING_KEYS = (
    "temperature", "top_p", "top_k", "max_tokens", "seed", "stop", "min_p", "repeat_penalty",
    "response_format", "grammar", "json_schema", "logprobs", "top_logprobs",
)
FLUSH_EVERY_ROWS = 64
FLUSH_EVERY_S = 0.5
MONITOR_EVERY_S = 0.25
"""How often the engine looks for a cancel request and records its call counters (cancel latency)."""


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


class CandidateQueues:
    """Hands out work so that each candidate's calls run one after another in one worker.

    llama.cpp reuses a cached prompt prefix only inside the slot that computed it, and picks for a
    request the idle slot whose cached prompt shares the longest prefix with it. A shared queue in
    candidate order sends a candidate's first calls to every slot at once, and each slot evaluates
    the candidate's whole prefix (system prompt and few-shot turns, most of a few-shot prompt);
    measured in ``bench/prefill.py``. Here a worker takes a whole candidate and sends its calls
    one at a time, so the next call finds the prefix in the slot the previous one left. Once no
    candidate is left untaken, an idle worker takes the back half of the longest queue still held
    (at least ``STEAL_MIN`` calls), which pays one more prefix to keep the slots busy.
    """

    STEAL_MIN = 2

    def __init__(self, items: Sequence[WorkItem]) -> None:
        grouped: dict[str, deque[WorkItem]] = {}
        for item in items:
            grouped.setdefault(item.candidate_id, deque()).append(item)
        self.waiting: deque[deque[WorkItem]] = deque(grouped.values())
        self.held: dict[int, deque[WorkItem]] = {}

    def next(self, worker: int) -> WorkItem | None:
        """The worker's next call, or None when nothing is left to hand out."""
        own = self.held.get(worker)
        if not own:
            own = self._take(worker)
            if own is None:
                return None
        return own.popleft()

    def _take(self, worker: int) -> deque[WorkItem] | None:
        self.held.pop(worker, None)
        if self.waiting:
            queue = self.held[worker] = self.waiting.popleft()
            return queue
        longest = max(self.held.values(), key=len, default=None)
        if longest is None or len(longest) < self.STEAL_MIN:
            return None
        stolen: deque[WorkItem] = deque()
        for _ in range(len(longest) // 2):
            stolen.appendleft(longest.pop())
        self.held[worker] = stolen
        return stolen

    def release(self, worker: int) -> None:
        """A retiring worker hands its candidate's remaining calls back, first in line."""
        own = self.held.pop(worker, None)
        if own:
            self.waiting.appendleft(own)


def executor_cache_tag(task: TaskSpec, executor: Any) -> dict[str, str]:
    """What joins the response cache key when a task runs through an executor: its answers depend
    on its code (its name and ``cache_version``) and on what it reads besides the rendered messages.
    A ``cache_version`` may be a function of the task (the intent executors hash the train split
    they retrieve shots from), so changing that data never serves an answer made from the old one."""
    if executor is None:
        return {}
    version = getattr(executor, "cache_version", 1)
    if callable(version):
        version = version(task)
    return {"executor": f"{task.executor}:{version}"}


def sampling_params(template: PromptTemplate, overrides: dict[str, Any], seed: int) -> dict[str, Any]:
    """The template's model defaults, then run-level overrides; the seed is always set."""
    params = {key: value for key, value in template.model_defaults.items() if key in SAMPLING_KEYS}
    params.update({key: value for key, value in overrides.items() if value is not None})
    params.setdefault("seed", seed)
    return params


def cache_key(model_identity: str, messages: Sequence[Message], params: dict[str, Any]) -> str:
    canonical = json.dumps([model_identity, list(messages), params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CacheKeys:
    """``cache_key`` with the model identity and each candidate's parameters serialized once.

    The text hashed is exactly ``cache_key``'s (``json.dumps`` of a list joins its items with
    ``", "``), so keys stay those of earlier runs; only the repeated serializing is saved.
    """

    def __init__(self, model_identity: str) -> None:
        self.head = "[" + json.dumps(model_identity, ensure_ascii=False) + ", "
        self.tails: dict[str, str] = {}

    def key(self, candidate_id: str, messages: Sequence[Message], params: dict[str, Any]) -> str:
        tail = self.tails.get(candidate_id)
        if tail is None:
            tail = self.tails[candidate_id] = ", " + json.dumps(params, sort_keys=True, ensure_ascii=False) + "]"
        canonical = self.head + json.dumps(list(messages), sort_keys=True, ensure_ascii=False) + tail
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


def load_executor(name: str) -> Executor:
    """A task's registered executor: an async function that replaces the single chat call (e.g. a
    multi-step agent) and returns a payload shaped like ``completion_to_cache``."""
    return plugins.executors.get(name)


def run_class_weights(store: RunStore, run_id: str, task: TaskSpec, examples: Sequence[Example]) -> ClassWeights:
    """Class weights of the task's balanced fields over the examples the run scores (its stored
    ``example_ids``), computed on the run's first execution and kept in its config, so a resumed
    run, every halving round and the references weigh an example the same (``optimizer.tasks.balanced``).
    A run that already has evaluations but no stored weights was scored before balanced metrics
    existed: it keeps being scored unweighted, so its rows stay comparable."""
    try:
        run = store.get_run(run_id)
    except StoreError:
        return task.class_weights([example.expected for example in examples])
    if "class_weights" in run.config:
        return run.config["class_weights"]
    weights: dict[str, Any] = {}
    if task.balanced_fields and not store.count_evaluations(run_id):
        given = {example.id: example.expected for example in examples}
        run_ids = run.config.get("example_ids") or list(given)
        if any(example_id not in given for example_id in run_ids):
            dataset = load_dataset(task.resolve(task.dataset), expected_key=task.expected_key)
            given.update({example.id: example.expected for example in dataset.examples if example.id not in given})
        weights = dict(task.class_weights([given[example_id] for example_id in run_ids if example_id in given]))
    store.update_run(run_id, config_json=json.dumps({**run.config, "class_weights": weights}, sort_keys=True))
    return weights


def score_row(
    task: TaskSpec, item: WorkItem, completion: dict[str, Any] | None, *, cached: bool, error: str | None = None,
    class_weights: ClassWeights | None = None,
) -> EvaluationRow:
    """Parse and score one completion (or record a failed call with its reason)."""
    if completion is None:
        return EvaluationRow(
            item.candidate_id, item.example.id, None, {}, None, dict.fromkeys(task.outputs, 0.0), 0.0,
            None, None, None, None, None, cached, error,
        )
    parsed = task.parse(completion["content"])
    field_scores, overall = task.score(item.example.expected, parsed.fields, class_weights=class_weights)
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
    executor_tag = executor_cache_tag(task, executor)
    weights = run_class_weights(store, run_id, task, examples)
    done_keys = store.done_keys(run_id)
    total = len(templates) * len(examples)
    renderers = {candidate_id: MessageRenderer(template) for candidate_id, template in templates}
    cache_keys = CacheKeys(model_identity)
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
    queues = CandidateQueues(pending)

    def report() -> None:
        if on_progress is None:
            return
        elapsed = time.monotonic() - started
        fresh = counters["fresh"]
        remaining = total - counters["done"]
        eta = (elapsed / fresh) * remaining if fresh else None
        on_progress(Progress(counters["done"], total, counters["cached"], counters["failed"], elapsed, eta))

    # Tracing (off unless configured): spans are plain records, cheap to make; see telemetry.
    tracing = telemetry.enabled()
    run_span = telemetry.current_span()  # the run's span, opened by the runner
    candidate_spans: dict[str, Any] = {}
    candidate_scores: dict[str, list[float]] = {}
    remaining = Counter(item.candidate_id for item in pending)
    request_model = getattr(client, "model", None) or model_identity

    def start_span(item: WorkItem, params: dict[str, Any]) -> Any:
        if not tracing:
            return None
        parent = candidate_spans.get(item.candidate_id)
        if parent is None:
            parent = telemetry.start_span(f"candidate {item.candidate_id}", run_span,
                                          {"workbench.candidate.id": item.candidate_id})
            candidate_spans[item.candidate_id] = parent
            candidate_scores[item.candidate_id] = []
        return telemetry.start_call_span(parent, model=request_model, candidate_id=item.candidate_id,
                                         example_id=item.example.id, params=params)

    def end_candidate(candidate_id: str, complete: bool) -> None:
        span = candidate_spans.pop(candidate_id)
        scores = candidate_scores.pop(candidate_id)
        attributes: dict[str, Any] = {"workbench.evaluations": len(scores), "workbench.complete": complete}
        if scores:
            attributes["workbench.score"] = sum(scores) / len(scores)
        span.end(attributes)

    def finish(row: EvaluationRow, cache_entry: tuple[str, dict[str, Any]] | None, *, fresh: bool,
               span: Any = None, payload: dict[str, Any] | None = None) -> None:
        if span is not None:
            telemetry.end_call_span(span, payload, cached=row.cached, score=row.overall, error=row.error)
            candidate_scores[row.candidate_id].append(row.overall)
            remaining[row.candidate_id] -= 1
            if not remaining[row.candidate_id]:
                end_candidate(row.candidate_id, complete=True)
        writer.add(row, cache_entry)
        counters["done"] += 1
        counters["fresh"] += int(fresh)
        counters["cached"] += int(row.cached)
        counters["failed"] += int(row.error is not None)
        report()

    limit = [max(1, concurrency)]  # requests in flight allowed now; lowered when calls time out
    notes: list[str] = []

    async def worker(number: int) -> None:
        while not stop_reason:
            if number >= limit[0]:
                queues.release(number)  # concurrency was lowered: this worker retires
                return
            item = queues.next(number)
            if item is None:
                return
            messages = item.renderer.render(item.example.inputs)
            params = params_by_candidate[item.candidate_id]
            key = cache_keys.key(item.candidate_id, messages, {**params, **executor_tag})
            span = start_span(item, params)
            if use_cache:
                hit = store.cache_get(key)
                if hit is not None:
                    finish(score_row(task, item, hit, cached=True, class_weights=weights), None, fresh=False, span=span, payload=hit)
                    continue
            try:
                if executor is not None:
                    payload = await executor(client, item.renderer.template, item.example, params)
                else:
                    payload = completion_to_cache(await client.chat(messages, **params))
            except ServerUnavailableError as exc:
                telemetry.end_call_span(span, None, cached=False, score=None, error=str(exc))
                stop_reason.append(str(exc))
                return
            except (RequestRejectedError, MalformedResponseError) as exc:
                finish(score_row(task, item, None, cached=False, error=str(exc)), None, fresh=True, span=span)
                continue
            except asyncio.CancelledError:
                telemetry.end_call_span(span, None, cached=False, score=None, error="cancelled")
                raise
            finish(score_row(task, item, payload, cached=False, class_weights=weights), (key, payload), fresh=True, span=span, payload=payload)

    first_stats = getattr(client, "stats", None)
    seen_timeouts = [first_stats.timeouts if first_stats is not None else 0]
    # A pool's slots when every endpoint was up: below that, some were taken out (maybe in an
    # earlier round of this run), and requests beyond the remaining slots would only queue.
    seen_capacity = [getattr(client, "full_capacity", None) or 0]

    def record_progress() -> None:
        stats = getattr(client, "stats", None)  # read afresh: a pool sums its members' counters each time
        if stats is None:
            return
        capacity = getattr(client, "capacity", None)  # slots of a pool's endpoints still up
        if capacity is not None and capacity < seen_capacity[0]:
            if 0 < capacity < limit[0]:
                notes.append(f"concurrency lowered {limit[0]} -> {capacity}: an endpoint was taken out")
                limit[0] = capacity
            seen_capacity[0] = capacity
        new_timeouts = stats.timeouts - seen_timeouts[0]
        if new_timeouts and limit[0] > 1:
            lowered = max(1, limit[0] // 2)
            notes.append(f"concurrency lowered {limit[0]} -> {lowered} after {new_timeouts} timed-out call(s)")
            limit[0] = lowered
        seen_timeouts[0] = stats.timeouts
        pool_notes = getattr(getattr(client, "events", None), "notes", [])
        note = "; ".join([*pool_notes, *notes][-3:])
        store.write_progress(run_id, CallProgress(
            stats.in_flight, stats.calls, stats.timeouts, stats.retries, stats.errors, stats.last_error,
            stats.seconds_per_call, limit[0], note,
        ))

    async def monitor(workers: list[asyncio.Task[None]]) -> None:
        """Cancel aborts the calls in flight at once (their pairs stay unstored, so resume redoes them)."""
        beat = 0
        while not stop_reason:
            await asyncio.sleep(MONITOR_EVERY_S)
            if store.cancel_requested(run_id):
                stop_reason.append("cancelled")
                for task_ in workers:
                    task_.cancel()
                return
            beat += 1
            if beat % 4 == 0:
                record_progress()

    report()
    record_progress()
    workers = [asyncio.create_task(worker(number)) for number in range(limit[0])]
    watcher = asyncio.create_task(monitor(workers))
    try:
        outcomes = await asyncio.gather(*workers, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, asyncio.CancelledError)]
        if failures:
            raise failures[0]
    finally:
        watcher.cancel()
        for task_ in workers:
            task_.cancel()
        writer.flush()
        record_progress()
        for candidate_id in list(candidate_spans):
            end_candidate(candidate_id, complete=False)
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
