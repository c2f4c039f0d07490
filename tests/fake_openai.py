"""A fake OpenAI-compatible server for fast tests: scripted replies or golden-aware answers.

``FakeLLM`` answers chat completions deterministically. Queued replies (``enqueue``) come first,
like simonw/llm's mock model; otherwise, when the user turn contains the logs of a known golden
example, it answers correctly or not depending on a hash of the system prompt and the example,
so different candidates get different, reproducible scores. It is exposed both as an
``httpx.MockTransport`` (the transport seam) and as a real HTTP server on 127.0.0.1 for
subprocess and browser tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

WRONG_SEVERITY = {"info": "error", "warning": "info", "error": "info", "critical": "warning"}


def _stable_fraction(*parts: str) -> float:
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF


class FakeLLM:
    def __init__(
        self,
        golden: Path | None = None,
        *,
        model: str = "fake-model",
        slots: int = 4,
        delay_s: float = 0.0,
        model_path: str | None = "/models/fake-model.gguf",
    ) -> None:
        self.model = model
        self.slots = slots
        self.delay_s = delay_s
        self.model_path = model_path
        self.queue: deque[Any] = deque()
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.answers: dict[str, dict[str, Any]] = {}
        if golden is not None:
            for line in golden.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self.answers[record["logs"].strip()] = record["expected"]

    def enqueue(self, *replies: Any) -> None:
        """Queue replies: a string (content), an int (HTTP status), or a callable returning a Response."""
        self.queue.extend(replies)

    def reply_text(self, body: dict[str, Any]) -> str:
        messages = body["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = messages[-1]["content"]
        tail = user.split("Logs:\n", 1)[-1].strip()
        candidates = [(tail, self.answers[tail])] if tail in self.answers else self.answers.items()
        for logs, expected in candidates:
            if logs in user:
                quality = 0.35 + 0.6 * _stable_fraction("quality", system, str(len(messages)))
                correct = _stable_fraction("answer", system, logs) < quality
                severity = expected["severity"] if correct else WRONG_SEVERITY[expected["severity"]]
                action = expected["action_required"]
                if not correct and _stable_fraction("action", system, logs) < 0.5:
                    action = "no" if action == "yes" else "yes"
                if _stable_fraction("parse", system, logs) < 0.03:
                    return "I am not sure what these logs mean."
                return f"Root cause: {expected['root_cause']}\nSeverity: {severity}\nAction required: {action}"
        return "Root cause: unknown\nSeverity: info\nAction required: no"

    def completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content.split()), "total_tokens": prompt_tokens},
        }

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        """Route one request; returns (status, JSON-able body or raw str)."""
        if method == "GET" and path == "/health":
            return 200, {"status": "ok"}
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": self.model, "object": "model"}]}
        if method == "GET" and path == "/props":
            if self.slots is None:
                return 404, {"error": "not found"}
            return 200, {"total_slots": self.slots, "model_path": self.model_path}
        if method == "POST" and path == "/v1/chat/completions":
            assert body is not None
            with self.lock:
                self.calls.append(body)
                scripted = self.queue.popleft() if self.queue else None
            if isinstance(scripted, int):
                return scripted, {"error": {"message": f"scripted {scripted}"}}
            if callable(scripted):
                return scripted(body)
            content = scripted if isinstance(scripted, str) else self.reply_text(body)
            return 200, self.completion(body, content)
        return 404, {"error": "not found"}

    # httpx transport ------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        async def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content) if request.content else None
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            status, payload = self.handle(request.method, request.url.path, body)
            if isinstance(payload, httpx.Response):
                return payload
            if isinstance(payload, str):
                return httpx.Response(status, text=payload)
            return httpx.Response(status, json=payload)

        return httpx.MockTransport(handler)

    # real HTTP server -----------------------------------------------------------------------

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _respond(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                if fake.delay_s and method == "POST":
                    time.sleep(fake.delay_s)
                status, payload = fake.handle(method, self.path, body)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._respond("GET")

            def do_POST(self) -> None:
                self._respond("POST")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def serve_forever(golden: Path, port_file: Path, delay_s: float = 0.0, slots: int = 4) -> None:
    """Entry point for a fake server in its own process (used by browser tests)."""
    fake = FakeLLM(golden, delay_s=delay_s, slots=slots)
    with fake.serve() as url:
        port_file.write_text(url)
        while True:
            time.sleep(1)


ReplyFactory = Callable[[dict[str, Any]], tuple[int, Any]]

if __name__ == "__main__":
    import sys

    serve_forever(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
