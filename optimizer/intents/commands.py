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
from typing import Any

import click

from ..endpoint import open_endpoint
from ..llm_client import Completion, LLMClient, RetryPolicy
from .evaluation import SPLITS, Evaluation, evaluate_parser, evaluate_router, golden_examples
from .pipeline import DECODINGS, MODES, IntentParser, ParserConfig
from .routing import QueryRouter, RouterConfig

CLI_RETRY = RetryPolicy(attempts=2, base_delay_s=0.2, max_delay_s=1.0)
CLI_DEADLINE_S = 60.0


class LazyClient:
    """An ``LLMClient`` for ``url`` (or the embedded server) opened on the first call only."""

    def __init__(self, url: str | None, stack: contextlib.AsyncExitStack) -> None:
        self.url = url
        self._stack = stack
        self._client: LLMClient | None = None

    async def chat(self, messages: Sequence[dict[str, str]], **params: Any) -> Completion:
        if self._client is None:
            endpoint = self._stack.enter_context(open_endpoint(self.url, on_line=lambda line: click.echo(line, err=True)))
            client = LLMClient(endpoint.url, model=endpoint.model, api_key=endpoint.api_key, retry=CLI_RETRY,
                               request_deadline_s=CLI_DEADLINE_S)
            self._client = await self._stack.enter_async_context(client)
        return await self._client.chat(messages, **params)


def _parser(stack: contextlib.AsyncExitStack, url: str | None, general_url: str | None, config: ParserConfig,
            no_model: bool) -> IntentParser:
    if no_model:
        return IntentParser(None, config=config)
    micro = LazyClient(url, stack)
    general = LazyClient(general_url, stack) if general_url else None
    return IntentParser(micro, general, config)  # type: ignore[arg-type]


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


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict) else str(value)


def _progress(total_label: str) -> Callable[[int, int], None] | None:
    """A progress line on a terminal; nothing when stderr is a file or a pipe."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        click.echo(f"\r{total_label} {done}/{total}", err=True, nl=done == total)

    return report


def register(group: click.Group) -> None:
    """Add ``parse``, ``eval-parser`` and ``eval-router`` to the main CLI group."""
    from ..cli import friendly_errors

    def model_options(*, parser: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """--mode, --url and --no-model; for the parser also --decoding and --general-url."""
        options = [
            click.option("--mode", type=click.Choice(MODES), default="auto", show_default=True,
                         help="auto: rules when certain, else model; model_first; model_only; rules_only."),
            click.option("--url", default=None, help="Model server (default: WORKBENCH_LLM_URL, else the embedded server)."),
            click.option("--no-model", is_flag=True, help="Rules only; never start or call a model server."),
        ]
        if parser:
            options += [
                click.option("--decoding", type=click.Choice(DECODINGS), default=None,
                             help="Model output constraint: schema grammar with input spans, JSON schema, or free "
                                  "(default: what the prompt template asks for, spans for intent_parsing_v1)."),
                click.option("--general-url", default=None, help="Server of the general model for unplaced queries (default: --url)."),
            ]

        def apply(function: Callable[..., Any]) -> Callable[..., Any]:
            for option in reversed(options):
                function = option(function)
            return friendly_errors(function)

        return apply

    @group.command("parse")
    @click.argument("text")
    @click.option("--details", is_flag=True, help="Print the whole result (path, confidence, latency, model answer) as JSON.")
    @model_options()
    def parse_command(text: str, details: bool, mode: str, decoding: str, url: str | None, general_url: str | None,
                      no_model: bool) -> None:
        """Parse one command (TEXT, or - for stdin) and print its JSON intent."""
        raw: str | bytes = sys.stdin.buffer.read() if text == "-" else text

        async def go() -> Any:
            async with contextlib.AsyncExitStack() as stack:
                return await _parser(stack, url, general_url, ParserConfig(mode=mode, decoding=decoding), no_model).parse(raw)

        result = asyncio.run(go())
        if details:
            click.echo(json.dumps(result.model_dump(), ensure_ascii=False, indent=2))
        else:
            click.echo(json.dumps(result.intent, ensure_ascii=False))
            click.echo(f"path: {result.path}  confidence: {result.confidence:.2f}  latency: {result.latency_s * 1000:.1f} ms", err=True)

    @group.command("eval-parser")
    @click.option("--split", type=click.Choice(SPLITS), default="validation", show_default=True)
    @click.option("--examples", "limit", type=int, default=None, help="Only the first N examples of the split.")
    @click.option("--concurrency", type=int, default=1, show_default=True, help="Parses in flight (1 keeps latencies undisturbed).")
    @click.option("--misses", "misses_shown", type=int, default=20, show_default=True, help="Misses to list.")
    @model_options()
    def eval_parser_command(split: str, limit: int | None, concurrency: int, misses_shown: int, mode: str, decoding: str,
                            url: str | None, general_url: str | None, no_model: bool) -> None:
        """Score the parser on golden/intents.jsonl: accuracy per domain, paths, latency, confusion, misses."""
        examples = golden_examples("intent_parsing", split, limit)
        config = ParserConfig(mode=mode, decoding=decoding)

        async def go() -> tuple[Evaluation, str]:
            async with contextlib.AsyncExitStack() as stack:
                parser = _parser(stack, url, general_url, config, no_model)
                evaluation = await evaluate_parser(parser, examples, concurrency=concurrency, on_progress=_progress("parsed"))
                return evaluation, parser.decoding

        evaluation, used_decoding = asyncio.run(go())
        model = "none" if no_model else (url or "default server")
        header = f"parser: {len(examples)} {split} examples, mode {mode}, decoding {used_decoding}, model {model}"
        _print_evaluation(evaluation, header, misses_shown)

    @group.command("eval-router")
    @click.option("--split", type=click.Choice(SPLITS), default="validation", show_default=True)
    @click.option("--examples", "limit", type=int, default=None, help="Only the first N examples of the split.")
    @click.option("--concurrency", type=int, default=1, show_default=True)
    @click.option("--misses", "misses_shown", type=int, default=20, show_default=True)
    @model_options(parser=False)
    def eval_router_command(split: str, limit: int | None, concurrency: int, misses_shown: int, mode: str, url: str | None,
                            no_model: bool) -> None:
        """Score the rag / risk / llm router on golden/router.jsonl: accuracy, latency, confusion, misses."""
        examples = golden_examples("query_routing", split, limit)

        async def go() -> Evaluation:
            async with contextlib.AsyncExitStack() as stack:
                client = None if no_model else LazyClient(url, stack)
                router = QueryRouter(client, RouterConfig(mode=mode))  # type: ignore[arg-type]
                return await evaluate_router(router, examples, concurrency=concurrency, on_progress=_progress("routed"))

        evaluation = asyncio.run(go())
        model = "none" if no_model else (url or "default server")
        _print_evaluation(evaluation, f"router: {len(examples)} {split} examples, mode {mode}, model {model}", misses_shown)
