"""``workbench parse``, ``workbench eval-parser`` and ``workbench eval-router``.

The model server is opened only when a query needs the model: a command the rules settle prints
its intent in milliseconds without starting the embedded server. Errors a user can fix print one
line (``error: ...``) and exit 2, like the rest of the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from optimizer.errors import exit_on_error as friendly_errors
from optimizer.serving.endpoint import client_for, open_endpoint
from optimizer.serving.client import Completion, LLMClient, RetryPolicy, ServerInfo
from optimizer.config.paths import default_store_path, repo_root
from optimizer.evaluate.store import RunStore
from optimizer.intents.calibration import UNCALIBRATED
from optimizer.intents.evaluation import (
    SPLITS,
    Evaluation,
    available_splits,
    evaluate_parser,
    evaluate_router,
    golden_examples,
    split_report,
)
from optimizer.intents.fitting import CalibrationFit, fit_parser, fit_router
from optimizer.evaluate.runner import template_path_for
from optimizer.intents.pipeline import DECODINGS, DEFAULT_CALIBRATION, MODES, IntentParser, ParserConfig
from optimizer.intents.models import IntentError
from optimizer.prompts.templates import load_template
from optimizer.intents.routing import DEFAULT_ROUTER_CALIBRATION, QueryRouter, RouterConfig
from optimizer.intents.runs import RulesOnlyClient, evaluate_as_run

CLI_RETRY = RetryPolicy(attempts=2, base_delay_s=0.2, max_delay_s=1.0)
CLI_DEADLINE_S = 60.0


class LazyClient:
    """An ``LLMClient`` for ``url`` (or the embedded server) opened on the first call only."""

    def __init__(self, url: str | None, stack: contextlib.AsyncExitStack) -> None:
        self.url = url
        self._stack = stack
        self._client: LLMClient | None = None

    async def _opened(self) -> LLMClient:
        if self._client is None:
            endpoint = self._stack.enter_context(open_endpoint(self.url, on_line=lambda line: click.echo(line, err=True)))
            client = client_for(endpoint, retry=CLI_RETRY, request_deadline_s=CLI_DEADLINE_S)
            self._client = await self._stack.enter_async_context(client)
        return self._client

    async def chat(self, messages: Sequence[dict[str, str]], **params: Any) -> Completion:
        return await (await self._opened()).chat(messages, **params)

    async def server_info(self) -> ServerInfo:
        """What the engine records as the run's model (this opens the server)."""
        return await (await self._opened()).server_info()


def _parser(stack: contextlib.AsyncExitStack, url: str | None, general_url: str | None, config: ParserConfig,
            no_model: bool, **kwargs: Any) -> IntentParser:
    if no_model:
        return IntentParser(None, config=config, **kwargs)
    micro = LazyClient(url, stack)
    general = LazyClient(general_url, stack) if general_url else None
    return IntentParser(micro, general, config, **kwargs)  # type: ignore[arg-type]


def _table(frame: Any) -> str:
    with __import__("pandas").option_context("display.width", 200, "display.max_colwidth", 70, "display.max_columns", 30):
        return frame.to_string(index=False, float_format=lambda value: f"{value:.3f}")


def _print_evaluation(evaluation: Evaluation, header: str, misses_shown: int) -> None:
    summary = evaluation.summary()
    click.echo(header)
    line = f"overall: accuracy {summary['accuracy']:.3f}"
    if "schema_valid" in summary:
        line += f"  schema-valid {summary['schema_valid']:.3f}"
    line += f"  p50 {summary['p50_s']:.4f} s  p95 {summary['p95_s']:.4f} s  model calls {summary['model_calls']}"
    if summary["model_calls"]:
        line += f" (model right on {summary['model_accuracy']:.3f} of them)"
    click.echo(line)
    click.echo(f"\nby {evaluation.group_name}:\n{_table(evaluation.by_group())}")
    click.echo(f"\nby path:\n{_table(evaluation.by_path())}")
    click.echo(f"\nconfusion ({evaluation.label_name}, expected rows x predicted columns):\n{evaluation.confusion().to_string()}")
    misses = evaluation.misses()
    click.echo(f"\nmisses: {len(misses)}")
    if len(misses):
        shown = misses.head(misses_shown).assign(
            expected=lambda frame: frame["expected"].map(_compact), predicted=lambda frame: frame["predicted"].map(_compact)
        )
        click.echo(_table(shown.drop(columns=["reason"])))


def _print_report(evaluations: dict[str, Evaluation], header: str) -> None:
    click.echo(header)
    click.echo(_table(split_report(evaluations)))
    click.echo("exact: exact-match accuracy (ci95: 95% Wilson interval); majority: always answering the most common label; "
               "<path>_share / <path>_acc: the queries that path answered and its own accuracy")


def _print_fit(fit: CalibrationFit, path: str, written: bool) -> None:
    calibration = fit.calibration
    click.echo(f"calibration {'written to ' + path if written else '(not written)'}: {calibration.provenance['fitted_on']}, "
               f"threshold from {calibration.provenance['threshold_from']}")
    click.echo("rules, calibrated per kind: " + ", ".join(f"{kind} {value:.3f}" for kind, value in sorted(calibration.rules.items())))
    click.echo(f"model: {calibration.provenance.get('model_map', 'isotonic')} map, {len(calibration.model_xs)} breakpoints, "
               f"accuracy prior {calibration.model_prior:.3f}")
    click.echo(f"\nrules threshold chosen on validation: {calibration.rules_threshold:.4f} (certain rules at least this sure answer "
               f"without the model)\n{_table(fit.threshold_table)}")
    for side, table in fit.reliability.items():
        click.echo(f"\nreliability on validation, {side} ({fit.counts[side]} answers), ECE {fit.ece[side]:.3f}:\n{_table(table)}")


def spread(examples: list[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` examples spaced evenly through the split (the golden files are ordered by
    domain, so the first N would all be DNS commands)."""
    if limit is None or limit >= len(examples):
        return examples
    return [examples[index * len(examples) // limit] for index in range(limit)]


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict) else str(value)


def _progress(total_label: str) -> Callable[[int, int], None] | None:
    """A progress line on a terminal; nothing when stderr is a file or a pipe."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        click.echo(f"\r{total_label} {done}/{total}", err=True, nl=done == total)

    return report



def _template(template_path: str | None, task: str) -> dict[str, str]:
    """``{"template_path": ...}`` for a config, after checking that the file loads and is written for
    ``task`` (a one-line error naming the file if not); ``{}`` keeps the pipeline's default."""
    if template_path is None:
        return {}
    path = template_path_for(template_path)
    template = load_template(path)
    if template.task and template.task != task:
        raise IntentError(f"--template {template_path}: written for task {template.task!r}, not {task!r}")
    resolved, root = path.resolve(), repo_root().resolve()
    return {"template_path": str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)}


def model_options(*, parser: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--mode, --url and --no-model; for the parser also --decoding and --general-url."""
    options = [
        click.option("--mode", type=click.Choice(MODES), default="auto", show_default=True,
                     help="auto: rules when certain, else model; model_first; model_only; rules_only."),
        click.option("--url", default=None, help="Model server (default: WORKBENCH_LLM_URL, else the embedded server)."),
        click.option("--no-model", is_flag=True, help="Rules only; never start or call a model server."),
        click.option("--template", "template_path", default=None,
                     help="Prompt template YAML the model path uses (e.g. an exported winner; default: the pipeline's)."),
    ]
    if parser:
        options += [
            click.option("--decoding", type=click.Choice(DECODINGS), default=None,
                         help="Model output constraint: schema grammar with input spans, JSON schema, or free "
                              "(default: what the prompt template asks for, spans for intent_parsing_v1 and v2)."),
            click.option("--general-url", default=None, help="Server of the general model for unplaced queries (default: --url)."),
        ]

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return friendly_errors(function)

    return apply

@click.command("parse")
@click.argument("text")
@click.option("--details", is_flag=True, help="Print the whole result (path, confidence, latency, model answer) as JSON.")
@model_options()
def parse_command(text: str, details: bool, mode: str, decoding: str, url: str | None, general_url: str | None,
                  no_model: bool, template_path: str | None) -> None:
    """Parse one command (TEXT, or - for stdin) and print its JSON intent."""
    raw: str | bytes = sys.stdin.buffer.read() if text == "-" else text

    async def go() -> Any:
        async with contextlib.AsyncExitStack() as stack:
            config = ParserConfig(mode=mode, decoding=decoding, **_template(template_path, "intent_parsing"))
            return await _parser(stack, url, general_url, config, no_model).parse(raw)

    result = asyncio.run(go())
    if details:
        click.echo(json.dumps(result.model_dump(), ensure_ascii=False, indent=2))
    else:
        click.echo(json.dumps(result.intent, ensure_ascii=False))
        click.echo(f"path: {result.path}  confidence: {result.confidence:.2f}  latency: {result.latency_s * 1000:.1f} ms", err=True)

def split_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--split, --report, --calibrate, --examples, --concurrency, --misses, --shots."""
    options = [
        click.option("--split", type=click.Choice(SPLITS), default="validation", show_default=True),
        click.option("--report", is_flag=True,
                     help="One table over train, validation, test and paraphrase (when present): exact match with a 95% CI, "
                          "the majority reference, schema-valid, each path's share and accuracy, p50/p95."),
        click.option("--calibrate", is_flag=True,
                     help="Ask the model on every train and validation item, fit the calibration on train, choose the rules "
                          "threshold on validation, print the reliability tables and ECE, and write the calibration file."),
        click.option("--no-write", is_flag=True, help="With --calibrate: print, but do not write the calibration file."),
        click.option("--examples", "limit", type=int, default=None,
                     help="Only the first N examples of each split (with --calibrate: N spread evenly through it)."),
        click.option("--concurrency", type=int, default=1, show_default=True, help="Requests in flight (1 keeps latencies undisturbed)."),
        click.option("--misses", "misses_shown", type=int, default=20, show_default=True, help="Misses to list."),
        click.option("--store", "store_path", default=None, help="SQLite run store (default: .workbench/runs.sqlite)."),
        click.option("--shots", type=int, default=None,
                     help="Few-shot demonstrations retrieved per query from train (0: the template's fixed ones; default: "
                          "the pipeline's)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _evaluate_splits(kind: str, config: Any, splits: Sequence[str], url: str | None, no_model: bool, limit: int | None,
                     concurrency: int, store_path: str | None) -> dict[str, Evaluation]:
    """Each split as one run of the pipeline's task through the engine, stored for Compare and export."""

    async def go() -> dict[str, Evaluation]:
        evaluations = {}
        async with contextlib.AsyncExitStack() as stack:
            client = RulesOnlyClient() if no_model else LazyClient(url, stack)
            with RunStore(Path(store_path) if store_path else default_store_path()) as store:
                for name in splits:
                    run_id, evaluations[name] = await evaluate_as_run(
                        store, client, kind, config, name, limit=limit, concurrency=concurrency,
                        on_progress=_progress(f"{name}: {'parsed' if kind == 'parser' else 'routed'}"))
                    click.echo(f"{name}: run {run_id} (Compare page, or: workbench leaderboard {run_id})", err=True)
        return evaluations

    return asyncio.run(go())


@click.command("eval-parser")
@split_options
@model_options()
def eval_parser_command(split: str, report: bool, calibrate: bool, no_write: bool, limit: int | None, concurrency: int,
                        misses_shown: int, store_path: str | None, shots: int | None, mode: str, decoding: str, url: str | None, general_url: str | None,
                        no_model: bool, template_path: str | None) -> None:
    """Score the parser on golden/intents.jsonl: accuracy per domain, paths, latency, confusion, misses."""
    model = "none" if no_model else (url or "default server")
    if calibrate:
        if no_model:
            raise click.UsageError("--calibrate needs the model")
        fitting_config = ParserConfig(mode="model_first", decoding=decoding, retrieved_shots=shots, calibration_path=None,
                                      **_template(template_path, "intent_parsing"))

        async def fit_both() -> CalibrationFit:
            async with contextlib.AsyncExitStack() as stack:
                parser = _parser(stack, url, general_url, fitting_config, False, calibration=UNCALIBRATED)
                train, validation = [
                    await evaluate_parser(parser, spread(golden_examples("intent_parsing", name), limit), concurrency=concurrency,
                                          on_progress=_progress(f"{name}: parsed"))
                    for name in ("train", "validation")
                ]
                rules_only = IntentParser(None, config=ParserConfig(mode="rules_only", calibration_path=None), calibration=UNCALIBRATED)
                rules_train, rules_validation = [await evaluate_parser(rules_only, golden_examples("intent_parsing", name))
                                                 for name in ("train", "validation")]
                return fit_parser(train, validation, provenance={"model": model, "retrieved_shots": parser.retrieved_shots,
                                                                "template": parser.config.template_path},
                                  rules_train=rules_train, rules_validation=rules_validation)

        fit = asyncio.run(fit_both())
        if not no_write:
            fit.calibration.save(repo_root() / DEFAULT_CALIBRATION)
        _print_fit(fit, DEFAULT_CALIBRATION, not no_write)
        return
    config = ParserConfig(mode=mode, decoding=decoding, retrieved_shots=shots, **_template(template_path, "intent_parsing"))
    splits = available_splits("intent_parsing") if report else [split]
    if general_url:
        raise click.UsageError("--general-url: eval-parser scores the pipeline as a run against one server; use --url")
    evaluations = _evaluate_splits("parser", config, splits, url, no_model, limit, concurrency, store_path)
    used_decoding = IntentParser(None, config=config).decoding
    if report:
        _print_report(evaluations, f"parser, mode {mode}, decoding {used_decoding}, model {model}")
        return
    evaluation = evaluations[split]
    header = f"parser: {len(evaluation.rows)} {split} examples, mode {mode}, decoding {used_decoding}, model {model}"
    _print_evaluation(evaluation, header, misses_shown)

@click.command("eval-router")
@split_options
@model_options(parser=False)
def eval_router_command(split: str, report: bool, calibrate: bool, no_write: bool, limit: int | None, concurrency: int,
                        misses_shown: int, store_path: str | None, shots: int | None, mode: str, url: str | None, no_model: bool,
                        template_path: str | None) -> None:
    """Score the rag / risk / llm router on golden/router.jsonl: accuracy, latency, confusion, misses."""
    model = "none" if no_model else (url or "default server")
    if calibrate:
        if no_model:
            raise click.UsageError("--calibrate needs the model")

        async def fit_both() -> CalibrationFit:
            async with contextlib.AsyncExitStack() as stack:
                config = RouterConfig(mode="model_first", retrieved_shots=shots, calibration_path=None,
                                      **_template(template_path, "query_routing"))
                router = QueryRouter(LazyClient(url, stack), config, calibration=UNCALIBRATED)  # type: ignore[arg-type]
                train, validation = [
                    await evaluate_router(router, spread(golden_examples("query_routing", name), limit), concurrency=concurrency,
                                          on_progress=_progress(f"{name}: routed"))
                    for name in ("train", "validation")
                ]
                rules_only = QueryRouter(None, RouterConfig(mode="rules_only", calibration_path=None), calibration=UNCALIBRATED)
                rules_train, rules_validation = [await evaluate_router(rules_only, golden_examples("query_routing", name))
                                                 for name in ("train", "validation")]
                return fit_router(train, validation, provenance={"model": model, "retrieved_shots": router.retrieved_shots,
                                                                "template": router.config.template_path},
                                  rules_train=rules_train, rules_validation=rules_validation)

        fit = asyncio.run(fit_both())
        if not no_write:
            fit.calibration.save(repo_root() / DEFAULT_ROUTER_CALIBRATION)
        _print_fit(fit, DEFAULT_ROUTER_CALIBRATION, not no_write)
        return
    splits = available_splits("query_routing") if report else [split]
    router_config = RouterConfig(mode=mode, retrieved_shots=shots, **_template(template_path, "query_routing"))
    evaluations = _evaluate_splits("router", router_config, splits, url, no_model, limit,
                                   concurrency, store_path)
    if report:
        _print_report(evaluations, f"router, mode {mode}, model {model}")
        return
    evaluation = evaluations[split]
    _print_evaluation(evaluation, f"router: {len(evaluation.rows)} {split} examples, mode {mode}, model {model}", misses_shown)


COMMANDS = (parse_command, eval_parser_command, eval_router_command)
