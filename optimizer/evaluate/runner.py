"""Runs from start to finish: plan (candidates, examples, estimate), create, execute, resume.

``plan_run`` does everything that needs no server (load task, dataset and search space, select
candidates, preflight every template against every example) so a bad variable is reported before a
single call. ``start_run`` and ``resume_run`` then drive the engine against a server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from optimizer.tasks.dataset import Dataset, Example, load_dataset
from optimizer.serving.endpoint import model_identity
from optimizer.evaluate import telemetry
from optimizer.evaluate.engine import Progress, ProgressCallback, execute
from optimizer.errors import ConfigError, DatasetError, RunPaused, StoreError
from optimizer.serving.client import LLMClient, ServerInfo
from optimizer.config.paths import display_path, resolve_in_repo
from optimizer.search.space import Candidate, enumerate_candidates, load_search_space, search_space_path
from optimizer.evaluate.store import RunRecord, RunStore
from optimizer.evaluate.strategy_calls import proposer_context
from optimizer.search.strategies import Budget, SearchProblem, Strategy, check_proposing_problem, get_strategy
from optimizer.evaluate.estimate import PlanEstimate, machine_load
from optimizer.tasks.sampling import ExampleSample, sample_examples
from optimizer.tasks.spec import TaskSpec, load_task
from optimizer.prompts.templates import PromptTemplate, load_template, preflight

DEFAULT_SECONDS_PER_CALL = 0.6


@dataclass(frozen=True)
class RunRequest:
    """Everything that defines a run; its hash is the run's config hash."""

    task: str
    strategy: str = "random"
    max_candidates: int | None = None
    max_calls: int | None = None
    n_examples: int | None = None
    seed: int = 0
    include_baseline: bool = True
    template: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    use_cache: bool = True
    split: str = "validation"
    """``validation`` (every search chooses here) or ``test`` (only a chosen template is scored there,
    reported apart, never read by a search: ``workbench eval --split test``)."""
    dataset: str | None = None
    """A one-off JSONL file scored instead of the task's own dataset (``--dataset PATH``); same schema."""
    proposer_url: str | None = None
    """Server of the model that writes prompts for ``gepa`` / ``dspy-*`` (default: the task model's)."""
    proposer_model: str | None = None
    proposer_max_tokens: int | None = None
    """Longest proposal in tokens (default: the strategy's own, 320)."""

    def sampling_overrides(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}


@dataclass
class RunPlan:
    """A run before it starts: the strategy, the examples, the candidates known up front and the calls.

    ``templates`` holds the baseline and every candidate a selecting strategy (grid, random,
    halving) will touch, found by a dry run of its search that makes no call; ``calls`` is the
    dry run's count (for a proposing strategy, its call budget).
    """

    request: RunRequest
    task: TaskSpec
    dataset: Dataset
    examples: list[Example]
    templates: list[tuple[str, PromptTemplate]]
    baseline_id: str | None
    factors: dict[str, dict[str, str]] = field(default_factory=dict)
    search_calls: int = 0
    shape: str = ""
    lineage: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """``(origin, parent_id)`` of candidates that are not plain points of the search space."""
    selection: ExampleSample | None = None
    """How ``examples`` were drawn (stratified by the task's example groups, seeded), for plan and provenance."""

    @property
    def calls(self) -> int:
        return self.search_calls + (len(self.examples) if self.baseline_id else 0)

    def estimate_seconds(self, seconds_per_call: float | None) -> float:
        return self.calls * (seconds_per_call or DEFAULT_SECONDS_PER_CALL)


def describe_estimate(plan: RunPlan, seconds_per_call: float | None, estimate: "PlanEstimate | None" = None) -> str:
    """The plan in words: the example sample, the shape and calls, and the time (less cache hits with ``estimate``)."""
    measured = seconds_per_call is not None
    per_call = seconds_per_call or DEFAULT_SECONDS_PER_CALL
    timing = estimate.describe() if estimate is not None else (
        f"estimated {format_duration(plan.calls * per_call)} at {per_call:.2f} s/call "
        f"({'measured' if measured else 'default guess, nothing measured yet'}; cached calls cost nothing)"
    )
    return (
        (f"examples: {plan.selection.describe()}\n" if plan.selection else "")
        + f"plan: {plan.shape} = {plan.calls} calls; {timing}"
    )


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def load_task_dataset(task: TaskSpec, override: str | None = None) -> Dataset:
    """The task's dataset, or the one-off file ``override`` (a run's ``--dataset``) in its place."""
    if override:
        return load_dataset(Path(override).expanduser().resolve(), expected_key=task.expected_key)
    path = resolve_in_repo(task.dataset, what=f"task {task.name}: dataset")
    return load_dataset(path, expected_key=task.expected_key)


def load_run_dataset(run: "RunRecord") -> Dataset:
    """The dataset a stored run scored: its one-off ``--dataset`` file, else its task's dataset."""
    return load_task_dataset(load_task(run.task), run.config.get("dataset"))


def baseline_template(task: TaskSpec) -> PromptTemplate:
    return load_template(resolve_in_repo(task.baseline_template, what=f"task {task.name}: baseline_template"))


def plan_run(request: RunRequest) -> RunPlan:
    """Select candidates and examples and preflight them all; no server is needed."""
    task = load_task(request.task)
    dataset = load_task_dataset(task, request.dataset)  # what is scored
    # Few-shot demonstrations and proposals always come from the task's own train split: a one-off
    # --dataset file is something to score, not something to learn from.
    task_dataset = load_task_dataset(task) if request.dataset else dataset
    if request.n_examples is not None and request.n_examples < 1:
        raise ConfigError(f"examples must be at least 1, got {request.n_examples}")
    # A seeded sample stratified by the task's example groups, never the first N in file order
    # (a file grouped by kind would give a small run only one kind); every prefix is stratified too.
    selection = sample_examples(task, split_examples(dataset, request), request.n_examples, request.seed)
    examples = selection.examples
    baseline = None
    if request.template:
        template = load_template(resolve_in_repo(request.template, what="template"))
        pool = [Candidate(template, dict(template.factors))]
        strategy: Strategy = get_strategy("grid")
    else:
        space = load_search_space(search_space_path(task))
        pool = enumerate_candidates(space, task, task_dataset)
        strategy = get_strategy(request.strategy)
        if request.include_baseline:
            template = baseline_template(task)
            baseline = Candidate(template, {"baseline": template.id})
    problem = search_problem(request, pool, examples, baseline, task_dataset)
    touched, search_calls = dry_run(strategy, problem)
    chosen = ([baseline] if baseline else []) + [candidate for candidate in touched if not baseline or candidate.id != baseline.id]
    for candidate in chosen:
        preflight(candidate.template, examples, source=display_path(dataset.path))
    if strategy.proposes:
        shape = f"{strategy.name} writes candidates within a budget of {search_calls} calls on {len(examples)} examples"
    elif search_calls == len(touched) * len(examples):
        shape = f"{len(chosen)} candidates x {len(examples)} examples"
    else:
        shape = (f"{strategy.name} over {len(touched)} candidates ({search_calls} evaluations on growing example "
                 f"sets of up to {len(examples)}){' plus the baseline' if baseline else ''}")
    return RunPlan(
        request, task, dataset, examples,
        [(candidate.id, candidate.template) for candidate in chosen],
        baseline.id if baseline else None,
        {candidate.id: candidate.factors for candidate in chosen},
        search_calls, shape, selection=selection,
    )


EVALUATION_SPLITS = ("validation", "test")


def split_examples(dataset: Dataset, request: RunRequest) -> list[Example]:
    """The examples a run scores. A search (no fixed template) runs on validation only, so no test
    number can feed a choice; the test split scores a template that was already chosen."""
    if request.split not in EVALUATION_SPLITS:
        raise ConfigError(f"split must be one of {', '.join(EVALUATION_SPLITS)}, got {request.split!r}")
    if request.split != "validation" and not request.template:
        raise ConfigError(f"a search chooses on validation only; the {request.split} split scores a chosen template "
                          f"(workbench eval --template FILE --split {request.split}, or workbench export --with-test)")
    examples = dataset.split(request.split)
    if not examples:
        raise DatasetError(f"{dataset.path}: no {request.split} examples")
    return examples


def plan_stored_candidate(store: RunStore, run_id: str, candidate_id: str, *, split: str = "test") -> RunPlan:
    """A run that scores one stored candidate of ``run_id`` on ``split`` with that run's sampling and
    seed (``workbench export --with-test``), beside the run's baseline (unless it is the baseline)
    so the evidence can pair them on that split too. Its request's ``template`` names the source
    candidate."""
    run = store.get_run(run_id)
    stored = {row["candidate_id"]: row for row in store.candidates(run_id)}
    if candidate_id not in stored:
        raise StoreError(f"run {run_id} has no candidate {candidate_id!r}")
    baseline_id = run.config.get("baseline_id")
    if baseline_id not in stored or baseline_id == candidate_id:
        baseline_id = None
    task = load_task(run.task)
    dataset = load_run_dataset(run)  # a run on a one-off --dataset file is tested on that file's split
    request = RunRequest(
        task=run.task, strategy="grid", n_examples=None, seed=run.seed, include_baseline=baseline_id is not None,
        template=f"run {run_id} candidate {candidate_id}", temperature=run.sampling.get("temperature"),
        max_tokens=run.sampling.get("max_tokens"), split=split, dataset=run.config.get("dataset"),
    )
    examples = split_examples(dataset, request)
    chosen = [baseline_id, candidate_id] if baseline_id else [candidate_id]
    templates = [(cid, PromptTemplate.model_validate(stored[cid]["template"])) for cid in chosen]
    for _, template in templates:
        preflight(template, examples, source=display_path(dataset.path))
    names = " and its run's baseline" if baseline_id else ""
    return RunPlan(
        request, task, dataset, examples, templates, baseline_id, {cid: stored[cid]["factors"] for cid in chosen},
        len(examples), f"1 candidate{names} x {len(examples)} {split} examples",
    )


def plan_candidates(
    task_name: str,
    candidates: Sequence[Candidate],
    *,
    examples: Callable[[Dataset], list[Example]] | None = None,
    seed: int = 0,
    baseline_first: bool = True,
    dataset: str | None = None,
) -> RunPlan:
    """A run over given candidates instead of a search space (a feature's configurations, say):
    every candidate on every example (the validation split unless ``examples`` picks from the
    dataset); the first candidate is the baseline the others are compared with."""
    if not candidates:
        raise ConfigError(f"task {task_name}: no candidates to evaluate")
    task = load_task(task_name)
    loaded = load_task_dataset(task, dataset)
    chosen = examples(loaded) if examples is not None else loaded.validation
    if not chosen:
        raise DatasetError(f"{display_path(loaded.path)}: no examples to evaluate")
    for candidate in candidates:
        preflight(candidate.template, chosen, source=display_path(loaded.path))
    request = RunRequest(task=task_name, strategy="grid", seed=seed, include_baseline=baseline_first, dataset=dataset)
    baseline_id = candidates[0].id if baseline_first else None
    others = [candidate for candidate in candidates if candidate.id != baseline_id]
    return RunPlan(
        request, task, loaded, list(chosen),
        [(candidate.id, candidate.template) for candidate in candidates],
        baseline_id,
        {candidate.id: candidate.factors for candidate in candidates},
        len(others) * len(chosen),
        f"{len(candidates)} candidates x {len(chosen)} examples",
        lineage={candidate.id: (candidate.origin, candidate.parent_id) for candidate in candidates if candidate.origin != "space"},
    )


def search_problem(
    request: RunRequest, pool: list[Candidate], examples: list[Example], baseline: Candidate | None, dataset: Dataset
) -> SearchProblem:
    """The strategy's problem: the baseline's own calls come out of the call budget first."""
    max_calls = request.max_calls
    if max_calls is not None and baseline is not None:
        max_calls -= len(examples)
    return SearchProblem(
        pool=pool, examples=examples, budget=Budget(request.max_candidates, max_calls), seed=request.seed,
        baseline=baseline, train=dataset.split("train"),
    )


class _DryRun:
    """An evaluator that makes no call: it records which candidates and pairs a search asks for."""

    def __init__(self) -> None:
        self.candidates: dict[str, Candidate] = {}
        self.pairs: set[tuple[str, str]] = set()

    async def __call__(self, candidates: Any, examples: Any) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = {}
        for candidate in candidates:
            self.candidates.setdefault(candidate.id, candidate)
            for example in examples:
                self.pairs.add((candidate.id, example.id))
            rows[candidate.id] = [{"example_id": example.id, "overall": 0.0} for example in examples]
        return rows

    @property
    def calls_used(self) -> int:
        return len(self.pairs)


def dry_run(strategy: Strategy, problem: SearchProblem) -> tuple[list[Candidate], int]:
    """The candidates and calls a selecting strategy will use (a proposing one: its budget)."""
    if strategy.proposes:
        check_proposing_problem(problem, strategy.name)
        return [], problem.budget.max_calls
    recorder = _DryRun()
    if _in_event_loop():
        _run_in_thread(strategy, problem, recorder)
    else:
        asyncio.run(strategy.search(problem, recorder))
    return list(recorder.candidates.values()), recorder.calls_used


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(strategy: Strategy, problem: SearchProblem, recorder: _DryRun) -> None:
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(strategy.search(problem, recorder))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def config_hash(request: RunRequest) -> str:
    return hashlib.sha256(json.dumps(asdict(request), sort_keys=True).encode()).hexdigest()[:16]


async def _server_info(client: LLMClient) -> ServerInfo:
    return await client.server_info()


def create_run(store: RunStore, plan: RunPlan, info: ServerInfo, identity: str, run_id: str | None = None) -> str:
    run_id = run_id or new_run_id()
    request = plan.request
    store.create_run(
        id=run_id,
        task=plan.task.name,
        strategy="template" if request.template else request.strategy,
        status="running",
        config={
            **asdict(request),
            "example_ids": [example.id for example in plan.examples],
            "planned_candidate_ids": [candidate_id for candidate_id, _ in plan.templates],
            "baseline_id": plan.baseline_id,
            "planned_evaluations": plan.calls,
            "example_selection": plan.selection.provenance() if plan.selection else None,
            "machine": machine_load().as_dict(),  # so a seconds-per-call measured here can say it ran loaded
        },
        config_hash=config_hash(request),
        dataset_path=display_path(plan.dataset.path),
        dataset_sha256=plan.dataset.sha256,
        model_identity=identity,
        server_url=info.base_url,
        sampling=request.sampling_overrides(),
        seed=request.seed,
        n_candidates=len(plan.templates),
        n_examples=len(plan.examples),
        pid=os.getpid(),
    )
    store.add_candidates(
        run_id,
        ((candidate_id, plan.factors.get(candidate_id, {}), template.model_dump()) for candidate_id, template in plan.templates),
        lineage={**plan.lineage, **({plan.baseline_id: ("baseline", None)} if plan.baseline_id else {})},
    )
    return run_id


async def run_plan(
    store: RunStore,
    plan: RunPlan,
    client: LLMClient,
    *,
    concurrency: int | None = None,
    on_progress: ProgressCallback | None = None,
    on_created: Any = None,
    run_id: str | None = None,
) -> str:
    """Create a run for ``plan`` (with ``run_id`` when the caller chose one) and execute it."""
    info = await client.server_info()
    identity = model_identity(info)
    run_id = create_run(store, plan, info, identity, run_id)
    if on_created is not None:
        on_created(run_id, info)
    await _execute(store, run_id, plan.task, plan.templates, plan.examples, client, identity, concurrency or info.total_slots, plan.request, on_progress)
    return run_id


class RunEvaluator:
    """The evaluator a strategy gets: candidates x examples through the engine, into this run.

    Candidates it has not seen are added to the run first (with their origin and parent), pairs
    already stored are not called again, and every pair asked for counts against the budget, stored
    ones included, so a resumed search spends its budget exactly as the first attempt did.
    """

    def __init__(self, store: RunStore, run_id: str, evaluate_pairs: Any, planned: int,
                 on_progress: ProgressCallback | None) -> None:
        self.store, self.run_id, self.evaluate_pairs = store, run_id, evaluate_pairs
        self.planned, self.on_progress = planned, on_progress
        self.known = {row["candidate_id"] for row in store.candidates(run_id)}
        self.asked: set[tuple[str, str]] = set()
        self.started = time.monotonic()
        self.start_count = store.count_evaluations(run_id)

    @property
    def calls_used(self) -> int:
        return len(self.asked)

    async def __call__(self, candidates: Any, examples: Any) -> dict[str, list[dict[str, Any]]]:
        new = [candidate for candidate in candidates if candidate.id not in self.known]
        if new:
            self.store.add_candidates(
                self.run_id,
                ((candidate.id, candidate.factors, candidate.template.model_dump()) for candidate in new),
                lineage={candidate.id: (candidate.origin, candidate.parent_id) for candidate in new},
            )
            self.known.update(candidate.id for candidate in new)
        self.asked.update((candidate.id, example.id) for candidate in candidates for example in examples)
        await self.evaluate_pairs([(candidate.id, candidate.template) for candidate in candidates], list(examples), self._report())
        return self.store.evaluation_rows_for(self.run_id, [candidate.id for candidate in candidates], [e.id for e in examples])

    def _report(self) -> ProgressCallback | None:
        """Turn one engine call's progress into the run's: done and planned over the whole search."""
        if self.on_progress is None:
            return None
        on_progress = self.on_progress
        base = self.store.count_evaluations(self.run_id)
        first_done: list[int] = []

        def report(progress: Progress) -> None:
            if not first_done:
                first_done.append(progress.done)
            done = base + progress.done - first_done[0]
            elapsed = time.monotonic() - self.started
            fresh = done - self.start_count
            planned = max(self.planned, done)
            eta = elapsed / fresh * (planned - done) if fresh > 0 else None
            on_progress(Progress(done, planned, progress.cached, progress.failed, elapsed, eta))

        return report


async def _execute(
    store: RunStore,
    run_id: str,
    task: TaskSpec,
    templates: list[tuple[str, PromptTemplate]],
    examples: list[Example],
    client: LLMClient,
    identity: str,
    concurrency: int,
    request: RunRequest,
    on_progress: ProgressCallback | None,
) -> None:
    """Score the baseline on every example, then let the run's strategy search."""
    store.update_run(run_id, status="running", pid=os.getpid(), message="")
    run = store.get_run(run_id)
    stored = {row["candidate_id"]: row for row in store.candidates(run_id)}

    async def evaluate_pairs(pair_templates: list[tuple[str, PromptTemplate]], pair_examples: list[Example],
                             progress: ProgressCallback | None) -> None:
        await execute(
            store=store,
            run_id=run_id,
            task=task,
            templates=pair_templates,
            examples=pair_examples,
            client=client,
            model_identity=identity,
            concurrency=concurrency,
            sampling_overrides=request.sampling_overrides(),
            seed=request.seed,
            on_progress=progress,
            use_cache=request.use_cache,
        )

    baseline_id = run.config.get("baseline_id")
    candidates = [
        Candidate(template, stored[candidate_id]["factors"], stored[candidate_id]["origin"], stored[candidate_id]["parent_id"])
        for candidate_id, template in templates
    ]
    baseline = next((candidate for candidate in candidates if candidate.id == baseline_id), None)
    strategy = get_strategy("grid" if request.template else request.strategy)
    # Resuming a selecting strategy: its pool is exactly the candidates it touched when planned.
    planned = set(run.config.get("planned_candidate_ids") or (c.id for c in candidates if c.origin == "space"))
    pool = [candidate for candidate in candidates if candidate.id != baseline_id and candidate.id in planned]
    problem = SearchProblem(
        pool=pool,
        examples=examples,
        budget=search_problem(request, pool, examples, baseline, load_task_dataset(task)).budget
        if strategy.proposes else Budget(),
        seed=request.seed,
        baseline=baseline,
        train=load_task_dataset(task).split("train") if strategy.proposes else (),
    )
    evaluator = RunEvaluator(store, run_id, evaluate_pairs, run.total_evaluations, on_progress)
    proposer_client = None
    if strategy.proposes:  # a strategy that writes prompts also asks the task model on train and a proposer
        context, proposer_client = await proposer_context(
            store, run_id, task, client, identity, seed=request.seed, overrides=request.sampling_overrides(),
            concurrency=concurrency, proposer_url=request.proposer_url, proposer_model=request.proposer_model,
            proposer_max_tokens=request.proposer_max_tokens)
        problem = replace(problem, options={**problem.options, "proposer_context": context})
    # One trace per run: the engine's candidate and call spans hang under this one (off unless
    # OTEL_EXPORTER_OTLP_ENDPOINT is set; see optimizer.evaluate.telemetry).
    with telemetry.tracer().start_as_current_span(f"run {run_id}", attributes={
        "workbench.run.id": run_id, "workbench.task": task.name, "workbench.strategy": strategy.name,
        "gen_ai.request.model": identity,
    }):
        try:
            if baseline is not None:
                await evaluator([baseline], examples)
                evaluator.asked.clear()  # the baseline's calls came out of the budget before the search
            await strategy.search(problem, evaluator)
        except (KeyboardInterrupt, asyncio.CancelledError):
            store.update_run(run_id, status="paused", pid=None, message=f"interrupted; resume with: workbench optimize --resume {run_id}")
            raise
        except RunPaused:
            raise  # the engine stored the paused or cancelled state itself
        except Exception as exc:
            # A template that fails at render time (or anything else) must not leave the run "running" forever.
            store.update_run(run_id, status="failed", pid=None, message=f"failed: {' '.join(str(exc).split())[:300] or type(exc).__name__}")
            raise
        finally:
            if proposer_client is not None:
                await proposer_client.aclose()
    failures = store.count_call_failures(run_id)
    store.update_run(run_id, status="completed", pid=None,
                     message=f"{failures} call(s) failed; retry them with: workbench optimize --resume {run_id}" if failures else "")


def load_run_inputs(store: RunStore, run_id: str) -> tuple[TaskSpec, list[tuple[str, PromptTemplate]], list[Example], RunRequest]:
    """Rebuild a stored run's templates and examples exactly as they were (not from today's files)."""
    run = store.get_run(run_id)
    task = load_task(run.task)
    dataset = load_task_dataset(task, run.config.get("dataset"))
    if dataset.sha256 != run.dataset_sha256:
        raise DatasetError(
            f"{display_path(dataset.path)} changed since run {run_id} started (sha256 {dataset.sha256[:12]} != "
            f"{run.dataset_sha256[:12]}); start a new run instead of resuming"
        )
    by_id = {example.id: example for example in dataset.examples}
    examples = [by_id[example_id] for example_id in run.config["example_ids"]]
    templates = [
        (row["candidate_id"], PromptTemplate.model_validate(row["template"])) for row in store.candidates(run_id)
    ]
    fields = {name: run.config[name] for name in RunRequest.__dataclass_fields__ if name in run.config}
    return task, templates, examples, RunRequest(**fields)


async def resume_run(
    store: RunStore,
    run_id: str,
    client: LLMClient,
    *,
    concurrency: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> str:
    run = store.get_run(run_id)
    if run.status == "completed" and not store.count_call_failures(run_id):  # failed calls are retried
        raise StoreError(f"run {run_id} is already completed")
    task, templates, examples, request = load_run_inputs(store, run_id)
    info = await client.server_info()
    identity = model_identity(info)
    if identity != run.model_identity:
        raise ConfigError(
            f"run {run_id} was made with model {run.model_identity}, the server now serves {identity}; "
            "resume against the same model"
        )
    store.update_run(run_id, cancel_requested=0)
    await _execute(store, run_id, task, templates, examples, client, identity, concurrency or info.total_slots, request, on_progress)
    return run_id


def template_path_for(path: str) -> Path:
    return resolve_in_repo(path, what="template")
