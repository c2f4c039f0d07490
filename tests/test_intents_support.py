"""Shared helpers for the intent and router tests: a golden-aware fake server and logprob payloads."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fake_openai import FakeLLM

from optimizer.serving.client import LLMClient

from conftest import FAST_RETRY, ROOT

GOLDEN_INTENTS = ROOT / "golden" / "intents.jsonl"
GOLDEN_ROUTER = ROOT / "golden" / "router.jsonl"


def golden_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class GoldenFake(FakeLLM):
    """Answers a command or query it finds in the last user turn with its golden label.

    Intents come back in compact JSON, routes as ``{"route": ...}``; anything else is
    ``{"action":"unknown"}``. Queued replies (``enqueue``) still come first.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(None, **kwargs)
        self.intents = {record["input"]: record["output"] for record in golden_records(GOLDEN_INTENTS)}
        self.routes = {record["query"]: record["route"] for record in golden_records(GOLDEN_ROUTER)}

    def reply_text(self, body: dict[str, Any]) -> str:
        user = body["messages"][-1]["content"]
        if user in self.intents:
            return json.dumps(self.intents[user], separators=(",", ":"))
        if user in self.routes:
            return json.dumps({"route": self.routes[user]})
        return '{"action":"unknown"}'


def fake_client(fake: FakeLLM) -> LLMClient:
    return LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY, request_deadline_s=5)


def with_logprobs(content: str, tokens: list[tuple[str, float, dict[str, float]]]) -> Any:
    """A scripted reply (for ``FakeLLM.enqueue``) whose body carries llama.cpp-style token logprobs.

    ``tokens`` are (token, logprob, {alternative: logprob}); their texts must spell ``content``.
    """
    assert "".join(token for token, _, _ in tokens) == content

    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        entries = [
            {
                "token": token,
                "logprob": logprob,
                "bytes": list(token.encode()),
                "top_logprobs": [{"token": alt, "logprob": alt_lp, "bytes": list(alt.encode())} for alt, alt_lp in alternatives.items()],
            }
            for token, logprob, alternatives in tokens
        ]
        payload = {
            "model": "fake-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop",
                         "logprobs": {"content": entries}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": len(tokens)},
        }
        return 200, payload

    return reply


def p(value: float) -> float:
    """A probability as a logprob, for readable token tables."""
    return math.log(value)


def test_golden_fake_answers_golden_commands_and_routes() -> None:
    fake = GoldenFake()
    body = {"messages": [{"role": "user", "content": "Delete user bob"}]}
    assert json.loads(fake.reply_text(body)) == {"action": "remove_user", "username": "bob"}
    body = {"messages": [{"role": "user", "content": "Write a haiku about quarterly planning"}]}
    assert json.loads(fake.reply_text(body)) == {"route": "llm"}
