"""Faults at the transport seam: refused, 503 then 200, hangs, malformed bodies, 4xx."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from optimizer.errors import MalformedResponseError, RequestRejectedError, ServerUnavailableError
from optimizer.serving.client import LLMClient, RetryPolicy

MESSAGES = [{"role": "user", "content": "hi"}]
FAST = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)


def ok_body(content: str = "Root cause: x") -> dict:
    return {
        "model": "m",
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3},
    }


def client_with(handler, **kwargs) -> tuple[LLMClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await handler(request, len(seen))

    return LLMClient("http://fake.invalid", transport=httpx.MockTransport(record), retry=FAST, **kwargs), seen


def test_refused_connection_retries_then_raises_unavailable() -> None:
    async def refuse(request: httpx.Request, attempt: int) -> httpx.Response:
        raise httpx.ConnectError("Connection refused")

    client, seen = client_with(refuse)
    with pytest.raises(ServerUnavailableError, match="ConnectError: Connection refused \\(after 3 attempts\\)"):
        asyncio.run(client.chat(MESSAGES))
    assert len(seen) == 3


def test_503_then_200_succeeds() -> None:
    async def flaky(request: httpx.Request, attempt: int) -> httpx.Response:
        return httpx.Response(503, text="loading model") if attempt == 1 else httpx.Response(200, json=ok_body("fine"))

    client, seen = client_with(flaky)
    completion = asyncio.run(client.chat(MESSAGES, temperature=0))
    assert completion.content == "fine"
    assert completion.prompt_tokens == 5 and completion.completion_tokens == 3 and completion.finish_reason == "stop"
    assert len(seen) == 2


def test_429_is_retried_but_400_is_not() -> None:
    async def limited(request: httpx.Request, attempt: int) -> httpx.Response:
        return httpx.Response(429) if attempt == 1 else httpx.Response(200, json=ok_body())

    client, seen = client_with(limited)
    asyncio.run(client.chat(MESSAGES))
    assert len(seen) == 2

    async def bad_request(request: httpx.Request, attempt: int) -> httpx.Response:
        return httpx.Response(400, text='{"error": "context length exceeded"}')

    client, seen = client_with(bad_request)
    with pytest.raises(RequestRejectedError, match="HTTP 400 .*context length exceeded"):
        asyncio.run(client.chat(MESSAGES))
    assert len(seen) == 1


def test_hang_hits_the_deadline() -> None:
    async def hang(request: httpx.Request, attempt: int) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=ok_body())

    client, seen = client_with(hang, request_deadline_s=0.05)
    with pytest.raises(ServerUnavailableError, match="timed out after 0.05s"):
        asyncio.run(client.chat(MESSAGES))
    assert len(seen) == 3


def test_malformed_json_is_retried_then_reported() -> None:
    async def garbage(request: httpx.Request, attempt: int) -> httpx.Response:
        return httpx.Response(200, text="<html>oops")

    client, seen = client_with(garbage)
    with pytest.raises(MalformedResponseError, match="malformed JSON body: <html>oops"):
        asyncio.run(client.chat(MESSAGES))
    assert len(seen) == 3


def test_json_that_is_not_a_completion_is_malformed() -> None:
    async def wrong_shape(request: httpx.Request, attempt: int) -> httpx.Response:
        return httpx.Response(200, json={"result": "hello"})

    client, _ = client_with(wrong_shape)
    with pytest.raises(MalformedResponseError, match="not a chat completion"):
        asyncio.run(client.chat(MESSAGES))


def test_empty_content_is_returned_as_empty_text() -> None:
    async def empty(request: httpx.Request, attempt: int) -> httpx.Response:
        body = ok_body()
        body["choices"][0]["message"]["content"] = None
        return httpx.Response(200, json=body)

    client, _ = client_with(empty)
    assert asyncio.run(client.chat(MESSAGES)).content == ""


def test_server_info_discovers_slots_or_defaults_to_one() -> None:
    async def llama(request: httpx.Request, attempt: int) -> httpx.Response:
        if request.url.path == "/props":
            return httpx.Response(200, json={"total_slots": 6, "model_path": "/nonexistent/m.gguf"})
        return httpx.Response(200, json={"data": [{"id": "m.gguf"}]})

    client, _ = client_with(llama)
    info = asyncio.run(client.server_info())
    assert (info.total_slots, info.kind, info.model) == (6, "llama.cpp", "m.gguf")

    async def plain(request: httpx.Request, attempt: int) -> httpx.Response:
        if request.url.path == "/props":
            return httpx.Response(404)
        return httpx.Response(200, json={"data": [{"id": "qwen"}]})

    client, _ = client_with(plain)
    assert asyncio.run(client.server_info()).total_slots == 1
