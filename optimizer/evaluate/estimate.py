"""How long a run will take and how long it has left, stated honestly.

A plan's estimate subtracts the planned (candidate, example) pairs the response cache already
answers (they cost nothing), prices the rest at the seconds per call measured on earlier runs, and
says when those seconds were measured on a loaded machine (load average above the core count),
where they overstate what an idle machine would do. A running run's ETA comes from its recent
throughput, exponentially weighted (time constant ``TAU_S``), so it moves smoothly instead of
jumping with each batch written; a run that is not running has no ETA.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.evaluate.engine import CacheKeys, executor_cache_tag, load_executor, sampling_params
from optimizer.evaluate.store import RunStore
from optimizer.prompts.templates import MessageRenderer

if TYPE_CHECKING:
    from optimizer.evaluate.runner import RunPlan

DEFAULT_SECONDS_PER_CALL = 0.6
TAU_S = 60.0
"""Time constant of the throughput average: completions a minute ago weigh 1/e of those now."""
MIN_FRESH_FOR_ETA = 5
"""Fresh (uncached) completions needed before an ETA is given at all."""
RECENT_COMPLETIONS = 400


@dataclass(frozen=True)
class MachineLoad:
    load1: float
    cores: int

    @property
    def loaded(self) -> bool:
        return self.load1 > self.cores

    def describe(self) -> str:
        return f"load {self.load1:.1f} on {self.cores} cores"

    def as_dict(self) -> dict[str, Any]:
        return {"load1": round(self.load1, 2), "cores": self.cores}


def machine_load() -> MachineLoad:
    try:
        load1 = os.getloadavg()[0]
    except OSError:  # not available on this platform
        load1 = 0.0
    return MachineLoad(load1, os.cpu_count() or 1)


@dataclass(frozen=True)
class PlanEstimate:
    """Calls a plan makes, how many the cache answers, and the time the rest takes."""

    calls: int
    cached: int
    seconds_per_call: float | None
    loaded_runs: int  # earlier runs the seconds per call were measured on that ran on a loaded machine
    measured_runs: int
    now: MachineLoad
    cache_model: str | None = None

    @property
    def to_call(self) -> int:
        return max(0, self.calls - self.cached)

    @property
    def seconds(self) -> float:
        return self.to_call * (self.seconds_per_call or DEFAULT_SECONDS_PER_CALL)

    def describe(self) -> str:
        from optimizer.evaluate.runner import format_duration

        per_call = self.seconds_per_call or DEFAULT_SECONDS_PER_CALL
        if self.seconds_per_call is None:
            source = "default guess, nothing measured yet"
        elif self.loaded_runs:
            source = (f"measured on {self.measured_runs} earlier run(s), {self.loaded_runs} of them on a loaded machine "
                      "(load above the core count): an idle machine is faster")
        else:
            source = f"measured on {self.measured_runs} earlier run(s)"
        cached = (f"{self.cached} of {self.calls} calls are in the response cache"
                  + (f" for {self.cache_model}" if self.cache_model else "") + f", {self.to_call} to make; ")
        text = f"{cached}estimated {format_duration(self.seconds)} at {per_call:.2f} s/call ({source})"
        if self.now.loaded:
            text += f"; this machine is loaded now ({self.now.describe()})"
        return text


def cached_pairs(store: RunStore, plan: "RunPlan", model_identity: str) -> int:
    """How many of the plan's (candidate, example) pairs the response cache answers for ``model_identity``."""
    task = plan.task
    executor_tag = executor_cache_tag(task, load_executor(task.executor) if task.executor else None)
    keys = CacheKeys(model_identity)
    overrides = plan.request.sampling_overrides()
    wanted: list[str] = []
    for candidate_id, template in plan.templates:
        renderer = MessageRenderer(template)
        params = {**sampling_params(template, overrides, plan.request.seed), **executor_tag}
        wanted.extend(keys.key(candidate_id, renderer.render(example.inputs), params) for example in plan.examples)
    return store.cache_count(wanted)


def _measured_runs(store: RunStore) -> tuple[int, int]:
    """(runs with measured wall time, how many of them recorded a loaded machine)."""
    measured = loaded = 0
    for run in store.list_runs(1000):
        if run.wall_s <= 0:
            continue
        measured += 1
        machine = run.config.get("machine") or {}
        if machine and float(machine.get("load1", 0.0)) > int(machine.get("cores", 1)):
            loaded += 1
    return measured, loaded


def estimate_plan(store: RunStore, plan: "RunPlan", model_identity: str | None = None) -> PlanEstimate:
    """The plan's calls less cache hits (for ``model_identity``, default: the latest run's model)."""
    if model_identity is None:
        latest = store.list_runs(1)
        model_identity = latest[0].model_identity if latest else None
    cached = cached_pairs(store, plan, model_identity) if model_identity and plan.request.use_cache else 0
    # For a multi-round strategy the plan's pairs are a superset of the calls: never subtract more than it makes.
    cached = min(cached, plan.calls)
    measured, loaded = _measured_runs(store)
    return PlanEstimate(plan.calls, cached, store.seconds_per_call(), loaded, measured, machine_load(), model_identity)


def grid_estimate(store: RunStore, candidates: int, examples: int) -> PlanEstimate:
    """Every candidate on every example, before any plan exists (the Search space page's figures)."""
    measured, loaded = _measured_runs(store)
    return PlanEstimate(candidates * examples, 0, store.seconds_per_call(), loaded, measured, machine_load())


def smoothed_rate(completed_at: Sequence[float], now: float, *, tau_s: float = TAU_S) -> float | None:
    """Completions per second, exponentially weighted toward the recent past.

    Each completion at ``t`` weighs ``exp(-(now - t) / tau)``; the weights are divided by the
    equally weighted span observed (from the first completion to now), so a steady stream of
    ``r`` per second gives ``r`` whatever ``tau`` is, and a stall lowers the rate gradually.
    """
    if len(completed_at) < MIN_FRESH_FOR_ETA:
        return None
    start = min(completed_at)
    span = now - start
    if span <= 0:
        return None
    weight = sum(math.exp(-(now - moment) / tau_s) for moment in completed_at)
    exposure = tau_s * (1.0 - math.exp(-span / tau_s))
    return weight / exposure if exposure > 0 else None


def run_eta(store: RunStore, run_id: str, remaining: int, status: str, now: float | None = None) -> tuple[float | None, float | None]:
    """(eta seconds, completions per second) of a run; no ETA unless it is running."""
    now = time.time() if now is None else now
    # Only this stretch of work: completions from before a pause or a resume long ago say nothing now.
    rows = store.db.execute(
        "SELECT created_at FROM evaluations WHERE run_id = ? AND cached = 0 AND created_at >= ?"
        " ORDER BY created_at DESC LIMIT ?",
        (run_id, now - 10 * TAU_S, RECENT_COMPLETIONS),
    ).fetchall()
    rate = smoothed_rate([row[0] for row in rows], now)
    if status != "running" or remaining <= 0 or not rate:
        return None, rate
    return remaining / rate, rate
