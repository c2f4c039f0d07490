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
from .strategies import Budget, select_candidates
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

    @property
    def calls(self) -> int:
        return len(self.templates) * len(self.examples)

    def estimate_seconds(self, seconds_per_call: float | None) -> float:
        return self.calls * (seconds_per_call or DEFAULT_SECONDS_PER_CALL)


def describe_estimate(plan: RunPlan, seconds_per_call: float | None) -> str:
    measured = seconds_per_call is not None
    per_call = seconds_per_call or DEFAULT_SECONDS_PER_CALL
    return (
        f"plan: {len(plan.templates)} candidates x {len(plan.examples)} examples = {plan.calls} calls; "
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
        budget = Budget(request.max_candidates, request.max_calls)
        chosen = select_candidates(request.strategy, enumerate_candidates(space, task, dataset), budget, len(examples), request.seed)
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
    return RunPlan(request, task, dataset, examples, templates, baseline_id, factors)


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
        config={**asdict(request), "example_ids": [example.id for example in plan.examples], "baseline_id": plan.baseline_id},
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
    try:
        await execute(
            store=store,
            run_id=run_id,
            task=task,
            templates=templates,
            examples=examples,
            client=client,
            model_identity=identity,
            concurrency=concurrency,
            sampling_overrides=request.sampling_overrides(),
            seed=request.seed,
            on_progress=on_progress,
            use_cache=request.use_cache,
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        store.update_run(run_id, status="paused", pid=None, message=f"interrupted; resume with: workbench optimize --resume {run_id}")
        raise
    store.update_run(run_id, status="completed", pid=None, message="")


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
