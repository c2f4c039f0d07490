"""An OpenAI-compatible chat client with deadlines, bounded retries and server discovery.

Works against llama.cpp's native ``llama-server``, llama-cpp-python's server, Ollama or vLLM. The
httpx transport is the test seam: tests pass ``httpx.MockTransport`` to script refusals, 503s,
hangs and malformed bodies. Retries cover what a retry can fix (connection errors, timeouts, 429,
5xx, an unreadable body); other 4xx are final and reported as ``RequestRejectedError``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from optimizer.config.settings import call_limits_from_env
from optimizer.errors import MalformedResponseError, RequestRejectedError, ServerUnavailableError

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_REQUEST_DEADLINE_S = 180.0
MAX_SLOTS = 1024
"""More parallel slots than any server has: a larger ``total_slots`` is a malformed answer, not a concurrency."""


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter."""

    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * (2**attempt)))


@dataclass(frozen=True)
class Completion:
    """One chat completion and what it cost."""

    content: str
    model: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float
    logprobs: list[float] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ServerInfo:
    """What the server says about itself: model, parallel slots, and which kind of server it is."""

    base_url: str
    model: str
    total_slots: int
    kind: str
    model_path: str | None = None


@dataclass
class CallStats:
    """Live counters of one client's calls, read by the engine to explain a slow or stalled run."""

    in_flight: int = 0
    calls: int = 0
    timeouts: int = 0
    retries: int = 0
    errors: int = 0
    last_error: str | None = None
    answered: int = 0
    answered_seconds: float = 0.0

    @property
    def seconds_per_call(self) -> float | None:
        """Mean latency of answered calls (what one request takes on this server right now)."""
        return self.answered_seconds / self.answered if self.answered else None

    def note_problem(self, problem: str, *, timeout: bool) -> None:
        self.errors += 1
        self.timeouts += int(timeout)
        self.last_error = problem


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_completion(payload: Any, latency_s: float) -> Completion:
    """Validate an OpenAI chat-completion body; raise ``MalformedResponseError`` if it is not one."""
    try:
        choice = payload["choices"][0]
        message = choice["message"]
        content = message.get("content")
    except (KeyError, IndexError, TypeError):
        raise MalformedResponseError(f"response is not a chat completion: {_short(str(payload))}") from None
    if content is not None and not isinstance(content, str):
        raise MalformedResponseError("response message content is not a string")
    usage = payload.get("usage") or {}
    logprobs = None
    content_logprobs = (choice.get("logprobs") or {}).get("content") if isinstance(choice.get("logprobs"), dict) else None
    if isinstance(content_logprobs, list):
        logprobs = [item.get("logprob") for item in content_logprobs if isinstance(item, dict) and "logprob" in item]
    return Completion(
        content=content or "",
        model=str(payload.get("model") or ""),
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        latency_s=latency_s,
        logprobs=logprobs,
        raw=payload,
    )


class LLMClient:
    """Async client for one OpenAI-compatible server (``base_url`` without ``/v1``)."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        request_deadline_s: float | None = None,
        retry: RetryPolicy | None = None,
        seed: int | None = None,
    ) -> None:
        """``request_deadline_s`` and ``retry`` default to ``WORKBENCH_REQUEST_TIMEOUT`` / ``WORKBENCH_RETRIES``
        when set, else 180 s and 4 attempts."""
        env_deadline, env_retries = call_limits_from_env()
        if request_deadline_s is None:
            request_deadline_s = env_deadline or DEFAULT_REQUEST_DEADLINE_S
        if retry is None:
            retry = RetryPolicy(attempts=env_retries + 1) if env_retries is not None else RetryPolicy()
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model = model
        self.request_deadline_s = request_deadline_s
        self.retry = retry
        self.stats = CallStats()
        self.reuses_prompt_cache = False
        """Set by ``server_info`` for llama.cpp's native server: requests then ask for ``cache_prompt``
        (reuse the slot's cached prefix; the server's default, sent so a server started with
        ``--no-cache-prompt`` still reuses it). Other servers are not sent a field they may refuse."""
        self._rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(request_deadline_s, connect=connect_timeout_s)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        # Absolute and parsed once: httpx would otherwise re-parse and join the base URL per request.
        self._chat_url = httpx.URL(self.base_url + "/v1/chat/completions")
        self._http = httpx.AsyncClient(
            base_url=self.base_url, transport=transport, timeout=timeout, headers=headers, limits=limits
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "LLMClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _get_json(self, path: str) -> Any | None:
        try:
            response = await self._http.get(path, timeout=min(10.0, self.request_deadline_s))
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    async def server_info(self) -> ServerInfo:
        """Discover model and slot count: ``/props`` (llama.cpp native) else ``/v1/models``.

        Servers without ``/props`` (llama-cpp-python, Ollama, vLLM) are taken to run one request
        at a time unless the caller sets a concurrency.
        """
        models = await self._get_json("/v1/models")
        model_id = self.model or ""
        if not model_id and isinstance(models, dict) and isinstance(models.get("data"), list) and models["data"]:
            first = models["data"][0]
            if not isinstance(first, dict) or not isinstance(first.get("id", ""), str):
                raise MalformedResponseError(f"{self.base_url}: GET /v1/models: data[0] is not a model object: {_short(str(first))}")
            model_id = first.get("id", "")
        if models is None and not model_id:
            raise ServerUnavailableError(f"no OpenAI-compatible server answers at {self.base_url} (GET /v1/models failed)")
        props = await self._get_json("/props")
        if isinstance(props, dict) and "total_slots" in props:
            slots = props["total_slots"]
            if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= MAX_SLOTS:
                raise MalformedResponseError(
                    f"{self.base_url}: GET /props: total_slots must be a whole number from 1 to {MAX_SLOTS}, got {_short(repr(slots), 40)}")
            model_path = props.get("model_path")
            self.reuses_prompt_cache = True
            return ServerInfo(self.base_url, model_id, slots, "llama.cpp", model_path if isinstance(model_path, str) else None)
        return ServerInfo(self.base_url, model_id, 1, "openai-compatible")

    async def chat(self, messages: Sequence[dict[str, str]], **params: Any) -> Completion:
        """One chat completion with retries; the deadline bounds each attempt as a whole."""
        body: dict[str, Any] = {"messages": list(messages), **{k: v for k, v in params.items() if v is not None}}
        if self.model and "model" not in body:
            body["model"] = self.model
        body.setdefault("model", "default")
        if self.reuses_prompt_cache:
            body.setdefault("cache_prompt", True)
        last_problem = "no attempt made"
        stats = self.stats
        stats.calls += 1
        stats.in_flight += 1
        try:
            for attempt in range(self.retry.attempts):
                if attempt:
                    stats.retries += 1
                    await asyncio.sleep(self.retry.delay(attempt - 1, self._rng))
                started = time.perf_counter()
                try:
                    # asyncio.timeout, unlike wait_for, runs the request in this task (no extra task per call).
                    async with asyncio.timeout(self.request_deadline_s):
                        response = await self._http.post(self._chat_url, json=body)
                except (httpx.TimeoutException, asyncio.TimeoutError):
                    last_problem = f"timed out after {self.request_deadline_s:g}s"
                    stats.note_problem(f"{self.base_url}: {last_problem}", timeout=True)
                    continue
                except httpx.TransportError as exc:
                    last_problem = f"{type(exc).__name__}: {_short(str(exc)) or 'connection failed'}"
                    stats.note_problem(f"{self.base_url}: {last_problem}", timeout=False)
                    continue
                latency_s = time.perf_counter() - started
                if _retryable_status(response.status_code):
                    last_problem = f"HTTP {response.status_code}: {_short(response.text)}"
                    stats.note_problem(f"{self.base_url}: {last_problem}", timeout=False)
                    continue
                if response.status_code >= 400:
                    problem = f"HTTP {response.status_code} from {self.base_url}: {_short(response.text)}"
                    stats.note_problem(problem, timeout=False)
                    raise RequestRejectedError(problem)
                try:
                    payload = response.json()
                except ValueError:
                    last_problem = f"malformed JSON body: {_short(response.text)}"
                    stats.note_problem(f"{self.base_url}: {last_problem}", timeout=False)
                    continue
                stats.answered += 1
                stats.answered_seconds += latency_s
                return parse_completion(payload, latency_s)
        finally:
            stats.in_flight -= 1
        if last_problem.startswith("malformed"):
            raise MalformedResponseError(f"{self.base_url}: {last_problem} (after {self.retry.attempts} attempts)")
        raise ServerUnavailableError(f"{self.base_url}: {last_problem} (after {self.retry.attempts} attempts)")
