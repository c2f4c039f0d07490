"""The Gradio playground, driven through gradio_client against the fake server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fake_openai import FakeLLM
from gradio_client import Client

from playground import build_demo

from conftest import ROOT

CONFUSED = "I am a helpful assistant. Could you tell me more about your cluster?"


def text(message: dict) -> str:
    """A chat message's text (Gradio returns either a string or a list of typed parts)."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


@pytest.fixture
def fake() -> FakeLLM:
    llm = FakeLLM()
    llm.enqueue(*([CONFUSED] * 100))
    return llm


def test_agent_chat_streams_every_step(fake: FakeLLM) -> None:
    with fake.serve() as url:
        demo = build_demo(url)
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
        try:
            client = Client(demo.local_url, verbose=False)
            job = client.submit("oom-checkout-api", "", "optimized", api_name="/investigate")
            final = job.result(timeout=120)
            updates = job.outputs()
        finally:
            demo.close()
    assert final[0]["role"] == "user" and text(final[0]) == "The checkout API in namespace shop keeps restarting. Why?"
    titles = [message["metadata"]["title"] for message in final[1:-1]]
    assert titles[0] == "Step 1 · DISCOVERY · FIND_ISSUES"
    assert titles[1].startswith("Step 2 · INSPECT · DESCRIBE pod shop checkout-api-6f7c9d8b5-x2x4q")
    assert "fallback: keyword fallback" in text(final[1])
    assert text(final[-1]).startswith("ANSWER (fallback): ROOT CAUSE: container OOMKilled")
    assert len(updates) >= len(final) - 1  # streamed: one update per step, not one at the end


def test_chat_without_a_server_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("playground.current_server_url", lambda: None)
    demo = build_demo()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        final = Client(demo.local_url, verbose=False).predict("healthy-shop", "anything wrong?", "baseline", api_name="/investigate")
    finally:
        demo.close()
    assert text(final[0]) == "anything wrong?" and "workbench model serve" in text(final[-1])


def test_playground_has_the_agent_and_parser_tabs() -> None:
    demo = build_demo("http://127.0.0.1:9")
    tabs = [block.label for block in demo.blocks.values() if type(block).__name__ == "Tab"]
    assert tabs == ["Kubernetes agent", "Micro parser"]
    endpoints = {dependency.get("api_name") for dependency in demo.config["dependencies"]}
    assert {"investigate", "parse"} <= endpoints


def test_micro_parser_tab_parses_a_command() -> None:
    demo = build_demo("http://127.0.0.1:9")
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        result = Client(demo.local_url, verbose=False).predict("Add DNS record api.local to 10.0.0.5", False, api_name="/parse")
    finally:
        demo.close()
    parsed = json.loads(result)
    assert parsed["intent"] == {"action": "dns_add", "zone": "api.local", "record_type": "A", "ip": "10.0.0.5"}
    assert parsed["path"] == "rules"


def test_workbench_playground_serves_on_localhost(fake: FakeLLM) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with fake.serve() as url:
        server = subprocess.Popen([sys.executable, "-m", "optimizer.app.cli", "playground", "--port", str(port), "--url", url],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            status = None
            for _ in range(120):
                time.sleep(0.5)
                try:
                    status = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code
                    break
                except httpx.HTTPError:
                    assert server.poll() is None, server.communicate()[0]
        finally:
            server.terminate()
            server.communicate(timeout=30)
    assert status == 200
