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
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .dataset import Dataset, Example, load_dataset
from .endpoint import Endpoint, model_identity
from .engine import ProgressCallback, execute
from .errors import ConfigError, DatasetError, StoreError
from .llm_client import LLMClient, ServerInfo
from .paths import display_path, resolve_in_repo
from .search_space import load_search_space, search_space_path, enumerate_candidates
from .store import RunStore
from .strategies import MULTI_ROUND, Budget, Round, halving_schedule, planned_evaluations, select_candidates
from .task import TaskSpec, load_task
from .templates import PromptTemplate, load_template, preflight

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

    def sampling_overrides(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}


@dataclass
class RunPlan:
    request: RunRequest
    task: TaskSpec
    dataset: Dataset
    examples: list[Example]
    templates: list[tuple[str, PromptTemplate]]
    baseline_id: str | None
    factors: dict[str, dict[str, str]] = field(default_factory=dict)
    schedule: list[Round] | None = None

    @property
    def calls(self) -> int:
        if self.schedule is None:
            return len(self.templates) * len(self.examples)
        return planned_evaluations(self.schedule) + (len(self.examples) if self.baseline_id else 0)

    def estimate_seconds(self, seconds_per_call: float | None) -> float:
        return self.calls * (seconds_per_call or DEFAULT_SECONDS_PER_CALL)


def describe_estimate(plan: RunPlan, seconds_per_call: float | None) -> str:
    measured = seconds_per_call is not None
    per_call = seconds_per_call or DEFAULT_SECONDS_PER_CALL
    if plan.schedule:
        rounds = " -> ".join(f"{r.candidates}x{r.examples}" for r in plan.schedule)
        shape = f"successive halving over {len(plan.templates)} candidates (rounds {rounds}) = {plan.calls} calls"
    else:
        shape = f"{len(plan.templates)} candidates x {len(plan.examples)} examples = {plan.calls} calls"
    return (
        f"plan: {shape}; "
        f"estimated {format_duration(plan.calls * per_call)} at {per_call:.2f} s/call "
        f"({'measured' if measured else 'default guess, nothing measured yet'}; cached calls cost nothing)"
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


def load_task_dataset(task: TaskSpec) -> Dataset:
    path = resolve_in_repo(task.dataset, what=f"task {task.name}: dataset")
    return load_dataset(path, expected_key=task.expected_key)


def baseline_template(task: TaskSpec) -> PromptTemplate:
    return load_template(resolve_in_repo(task.baseline_template, what=f"task {task.name}: baseline_template"))


def plan_run(request: RunRequest) -> RunPlan:
    """Select candidates and examples and preflight them all; no server is needed."""
    task = load_task(request.task)
    dataset = load_task_dataset(task)
    examples = dataset.validation
    if not examples:
        raise DatasetError(f"{dataset.path}: no validation examples")
    if request.n_examples is not None:
        if request.n_examples < 1:
            raise ConfigError(f"examples must be at least 1, got {request.n_examples}")
        examples = examples[: request.n_examples]
    templates: list[tuple[str, PromptTemplate]] = []
    factors: dict[str, dict[str, str]] = {}
    baseline_id = None
    if request.template:
        template = load_template(resolve_in_repo(request.template, what="template"))
        templates.append((template.content_hash(), template))
        factors[template.content_hash()] = dict(template.factors)
    else:
        space = load_search_space(search_space_path(task))
        everything = enumerate_candidates(space, task, dataset)
        if request.strategy in MULTI_ROUND:
            chosen = _halving_pool(request, everything, len(examples))
        else:
            budget = Budget(request.max_candidates, request.max_calls)
            chosen = select_candidates(request.strategy, everything, budget, len(examples), request.seed)
        if request.include_baseline:
            baseline = baseline_template(task)
            baseline_id = baseline.content_hash()
            templates.append((baseline_id, baseline))
            factors[baseline_id] = {"baseline": baseline.id}
        for candidate in chosen:
            if candidate.id not in factors:
                templates.append((candidate.id, candidate.template))
                factors[candidate.id] = candidate.factors
    for _, template in templates:
        preflight(template, examples, source=display_path(dataset.path))
    schedule = None
    if request.strategy in MULTI_ROUND and not request.template:
        schedule = halving_schedule(len(templates) - (1 if baseline_id else 0), len(examples))
    return RunPlan(request, task, dataset, examples, templates, baseline_id, factors, schedule)


def _halving_pool(request: RunRequest, candidates: list, n_examples: int) -> list:
    """The largest starting pool whose whole schedule (plus the baseline) fits ``max_calls``."""
    size = min(request.max_candidates or len(candidates), len(candidates))
    baseline_calls = n_examples if request.include_baseline else 0
    while True:
        pool = select_candidates(request.strategy, candidates, Budget(size, None), n_examples, request.seed)
        if request.max_calls is None or planned_evaluations(halving_schedule(len(pool), n_examples)) + baseline_calls <= request.max_calls:
            return pool
        if size <= 1:
            raise ConfigError(f"budget of {request.max_calls} calls is too small for successive halving on {n_examples} examples")
        size -= 1


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
            "baseline_id": plan.baseline_id,
            "schedule": [asdict(round_) for round_ in plan.schedule] if plan.schedule else None,
            "planned_evaluations": plan.calls,
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
    store.update_run(run_id, status="running", pid=os.getpid(), message="")
    run = store.get_run(run_id)

    async def evaluate(round_templates: list[tuple[str, PromptTemplate]], round_examples: list[Example],
                       progress: ProgressCallback | None) -> None:
        await execute(
            store=store,
            run_id=run_id,
            task=task,
            templates=round_templates,
            examples=round_examples,
            client=client,
            model_identity=identity,
            concurrency=concurrency,
            sampling_overrides=request.sampling_overrides(),
            seed=request.seed,
            on_progress=progress,
            use_cache=request.use_cache,
        )

    try:
        schedule = run.config.get("schedule")
        if schedule:
            await _successive_halving(store, run_id, templates, examples, [Round(**r) for r in schedule],
                                      run.config.get("baseline_id"), run.total_evaluations, evaluate, on_progress)
        else:
            await evaluate(templates, examples, on_progress)
    except (KeyboardInterrupt, asyncio.CancelledError):
        store.update_run(run_id, status="paused", pid=None, message=f"interrupted; resume with: workbench optimize --resume {run_id}")
        raise
    store.update_run(run_id, status="completed", pid=None, message="")


async def _successive_halving(
    store: RunStore,
    run_id: str,
    templates: list[tuple[str, PromptTemplate]],
    examples: list[Example],
    schedule: list[Round],
    baseline_id: str | None,
    planned: int,
    evaluate: Any,
    on_progress: ProgressCallback | None,
) -> None:
    """Run the rounds: all candidates on a few examples, then the best ``1/eta`` on more, and so on.

    Survivors are ranked from stored scores only, so a resumed run picks the same ones. The baseline
    (if any) is evaluated on every example, for the comparison, outside the halving.
    """
    from .engine import Progress
    from .leaderboard import evaluations_frame

    baseline = [item for item in templates if item[0] == baseline_id]
    survivors = [item for item in templates if item[0] != baseline_id]
    started = time.monotonic()
    start_count = store.count_evaluations(run_id)
    for number, round_ in enumerate(schedule):
        if number:
            frame = evaluations_frame(store, run_id)
            seen = frame[frame["example_id"].isin({e.id for e in examples[: schedule[number - 1].examples]})]
            means = seen.groupby("candidate_id")["overall"].mean()
            order = {candidate_id: position for position, (candidate_id, _) in enumerate(survivors)}
            survivors = sorted(survivors, key=lambda item: (-means.get(item[0], 0.0), order[item[0]]))[: round_.candidates]
        base = store.count_evaluations(run_id)
        first_done: list[int] = []  # the round's own count at its first report (pairs already stored)

        def report(progress: Progress, base: int = base, first_done: list[int] = first_done) -> None:
            if on_progress is None:
                return
            if not first_done:
                first_done.append(progress.done)
            done = base + progress.done - first_done[0]
            elapsed = time.monotonic() - started
            fresh = done - start_count
            eta = elapsed / fresh * (planned - done) if fresh > 0 else None
            on_progress(Progress(done, planned, progress.cached, progress.failed, elapsed, eta))

        round_templates = survivors + (baseline if number == len(schedule) - 1 else [])
        await evaluate(round_templates, examples[: round_.examples], report)


def load_run_inputs(store: RunStore, run_id: str) -> tuple[TaskSpec, list[tuple[str, PromptTemplate]], list[Example], RunRequest]:
    """Rebuild a stored run's templates and examples exactly as they were (not from today's files)."""
    run = store.get_run(run_id)
    task = load_task(run.task)
    dataset = load_task_dataset(task)
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
    if run.status == "completed":
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


def client_for(endpoint: Endpoint, **kwargs: Any) -> LLMClient:
    return LLMClient(endpoint.url, model=endpoint.model, api_key=endpoint.api_key, **kwargs)


def template_path_for(path: str) -> Path:
    return resolve_in_repo(path, what="template")
