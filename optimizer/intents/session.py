"""Synchronous entry points for pages and scripts: open clients for the given URLs, run, close.

A URL of ``None`` means no model: the parser and router then answer from their rules alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from optimizer.tasks.dataset import Example
from optimizer.serving.endpoint import client_for
from optimizer.serving.client import LLMClient, RetryPolicy
from optimizer.intents.evaluation import Evaluation, ProgressCallback, evaluate_parser, evaluate_router
from optimizer.intents.pipeline import IntentParser, ParserConfig, ParseResult
from optimizer.intents.routing import QueryRouter, RouteResult, RouterConfig

SESSION_RETRY = RetryPolicy(attempts=2, base_delay_s=0.2, max_delay_s=1.0)
SESSION_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Backend:
    """Where a parser's models live: the micro model's server, and optionally the general one's."""

    url: str | None
    model: str | None = None
    general_url: str | None = None
    general_model: str | None = None
    deadline_s: float = SESSION_DEADLINE_S


@contextlib.asynccontextmanager
async def _client(url: str | None, deadline_s: float = SESSION_DEADLINE_S) -> AsyncIterator[LLMClient | None]:
    if url is None:
        yield None
        return
    async with client_for(url, retry=SESSION_RETRY, request_deadline_s=deadline_s) as client:
        yield client


@contextlib.asynccontextmanager
async def open_parser(backend: Backend, config: ParserConfig | None = None) -> AsyncIterator[IntentParser]:
    async with _client(backend.url, backend.deadline_s) as micro, _client(backend.general_url, backend.deadline_s) as general:
        yield IntentParser(micro, general, config, micro_model=backend.model, general_model=backend.general_model)


def parse_at(backend: Backend, text: str | bytes, config: ParserConfig | None = None) -> ParseResult:
    async def go() -> ParseResult:
        async with open_parser(backend, config) as parser:
            return await parser.parse(text)

    return asyncio.run(go())


def route_at(url: str | None, query: str | bytes, config: RouterConfig | None = None, model: str | None = None) -> RouteResult:
    async def go() -> RouteResult:
        async with _client(url) as client:
            return await QueryRouter(client, config, model=model).route(query)

    return asyncio.run(go())


def evaluate_parser_at(
    backend: Backend, examples: list[Example], config: ParserConfig | None = None, *, name: str = "parser",
    concurrency: int = 1, on_progress: ProgressCallback | None = None,
) -> Evaluation:
    async def go() -> Evaluation:
        async with open_parser(backend, config) as parser:
            return await evaluate_parser(parser, examples, name=name, concurrency=concurrency, on_progress=on_progress)

    return asyncio.run(go())


def evaluate_router_at(
    url: str | None, examples: list[Example], config: RouterConfig | None = None, *, model: str | None = None,
    name: str = "router", concurrency: int = 1, on_progress: ProgressCallback | None = None,
    deadline_s: float = SESSION_DEADLINE_S,
) -> Evaluation:
    async def go() -> Evaluation:
        async with _client(url, deadline_s) as client:
            router = QueryRouter(client, config, model=model)
            return await evaluate_router(router, examples, name=name, concurrency=concurrency, on_progress=on_progress)

    return asyncio.run(go())
