"""Runs that live outside the page: start, resume and cancel ``workbench optimize`` processes.

A page must not own a run (a reload or a page switch would kill it), so the UI starts the same CLI
a cron job uses, as a detached process, and follows it through the store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from optimizer.config.paths import repo_root, workbench_home
from optimizer.evaluate.estimate import run_eta
from optimizer.evaluate.runner import RunRequest, new_run_id
from optimizer.evaluate.lease import process_alive
from optimizer.evaluate.store import RunRecord, RunStore
from optimizer.serving.endpoint_input import NO_EXTRA, ExtraEndpoints


@dataclass(frozen=True)
class RunState:
    """What a run looks like from outside: stored status plus whether its process still lives."""

    run: RunRecord
    done: int
    status: str
    eta_s: float | None
    rate_per_s: float | None

    @property
    def fraction(self) -> float:
        total = self.run.total_evaluations
        return self.done / total if total else 1.0


def effective_status(run: RunRecord) -> str:
    """``interrupted`` for a run stored as running whose process is gone (killed, crashed)."""
    if run.status == "running" and not process_alive(run.pid):
        return "interrupted"
    return run.status


def run_state(store: RunStore, run_id: str) -> RunState:
    run = store.get_run(run_id)
    done = store.count_evaluations(run_id)
    status = effective_status(run)
    # Smoothed from recent throughput; a run that is not running (finished, cancelled, paused) has none.
    eta, rate = run_eta(store, run_id, run.total_evaluations - done, status)
    if status == "running" and run.cancel_requested:
        status, eta = "cancelling...", None  # the run's process aborts its calls within a second or two
    return RunState(run, done, status, eta, rate)


def call_health_lines(store: RunStore, state: RunState, stale_after_s: float = 10.0) -> list[str]:
    """Why a running run goes slowly or not at all: calls in flight, timeouts, retries, measured
    seconds per call, the last error and what the engine did about it (lowered concurrency)."""
    if state.status not in ("running", "cancelling..."):
        return []
    progress = store.read_progress(state.run.id)
    if progress is None:
        return []
    per_call = f"{progress.seconds_per_call:.2f} s per answered call" if progress.seconds_per_call else "no call answered yet"
    lines = [
        f"{progress.in_flight} call(s) in flight (limit {progress.concurrency}) · {progress.calls} started · "
        f"{progress.timeouts} timed out · {progress.retries} retried · {per_call}"
    ]
    if progress.last_error:
        lines.append(f"last error: {progress.last_error}")
    if progress.note:
        lines.append(progress.note)
    age = time.time() - progress.updated_at
    if age > stale_after_s:
        lines.append(f"no word from the run's process for {age:.0f} s")
    return lines


def _log_path(run_id: str) -> Path:
    folder = workbench_home() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run_id}.log"


def _spawn(arguments: list[str], run_id: str) -> subprocess.Popen[bytes]:
    with open(_log_path(run_id), "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "optimizer.app.cli", *arguments],
            cwd=repo_root(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def request_arguments(request: RunRequest) -> list[str]:
    """The CLI arguments that reproduce ``request`` (so the UI and the CLI run the same thing)."""
    arguments = ["optimize", "--task", request.task, "--strategy", request.strategy, "--seed", str(request.seed)]
    optional = {
        "--candidates": request.max_candidates,
        "--max-calls": request.max_calls,
        "--examples": request.n_examples,
        "--temperature": request.temperature,
        "--max-tokens": request.max_tokens,
        "--dataset": request.dataset,
        "--proposer-url": request.proposer_url,
        "--proposer-model": request.proposer_model,
        "--proposer-max-tokens": request.proposer_max_tokens,
    }
    for flag, value in optional.items():
        if value is not None:
            arguments += [flag, str(value)]
    if not request.include_baseline:
        arguments.append("--no-baseline")
    if not request.use_cache:
        arguments.append("--no-cache")
    return arguments


def start_background_run(
    request: RunRequest, *, store_path: Path, url: str | None = None, concurrency: int | None = None,
    extra: ExtraEndpoints = NO_EXTRA,
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start a run in its own process; returns the run id it will store its results under. ``extra``
    endpoints (checked by ``parse_extra_endpoints``) join ``url`` in one run."""
    run_id = new_run_id()
    arguments = request_arguments(request) + ["--run-id", run_id, "--store", str(store_path)]
    if url:
        arguments += ["--url", url]
    arguments += extra.cli_arguments()
    if concurrency:
        arguments += ["--concurrency", str(concurrency)]
    return run_id, _spawn(arguments, run_id)


def resume_background_run(run_id: str, *, store_path: Path, url: str | None = None,
                          extra: ExtraEndpoints = NO_EXTRA) -> subprocess.Popen[bytes]:
    arguments = ["optimize", "--resume", run_id, "--store", str(store_path)]
    if url:
        arguments += ["--url", url]
    return _spawn(arguments + extra.cli_arguments(), run_id)


def run_log_tail(run_id: str, lines: int = 5) -> str:
    try:
        return "\n".join(_log_path(run_id).read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
