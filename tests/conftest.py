"""Shared fixtures: isolated state per test, a fake server, and the real embedded llama.cpp server."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_K8S = ROOT / "golden" / "k8s_log_analysis.jsonl"
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeLLM  # noqa: E402

from optimizer.serving.client import LLMClient, RetryPolicy  # noqa: E402
from optimizer.evaluate.store import RunStore  # noqa: E402

FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store and state folder; no test sees a configured external server."""
    home = tmp_path / "workbench-home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    for name in ("WORKBENCH_LLM_URL", "WORKBENCH_LLM_MODEL", "WORKBENCH_MODEL", "WORKBENCH_ROOT"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(tmp_path / "runs.sqlite") as opened:
        yield opened


@pytest.fixture
def fake_llm() -> FakeLLM:
    return FakeLLM(GOLDEN_K8S)


@pytest.fixture
def fake_client(fake_llm: FakeLLM) -> LLMClient:
    return LLMClient("http://fake.invalid", transport=fake_llm.transport(), retry=FAST_RETRY, request_deadline_s=5)


@pytest.fixture(scope="session")
def real_server() -> Iterator[object]:
    """The real embedded llama.cpp server with the real SmolLM2-135M model (built once, cached)."""
    from optimizer.serving.llama_server import start_server

    server = start_server(slots=4, on_line=lambda line: print(line, file=sys.stderr))
    try:
        yield server
    finally:
        server.stop()


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> "subprocess.CompletedProcess[str]":
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "optimizer.app.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of prompt_templates/ and golden/ that pages and commands edit instead of the repo."""
    import shutil

    root = tmp_path / "workspace"
    shutil.copytree(ROOT / "prompt_templates", root / "prompt_templates")
    shutil.copytree(ROOT / "golden", root / "golden")
    monkeypatch.setenv("WORKBENCH_ROOT", str(root))
    return root


def wait_for(predicate: Callable[[], object], timeout: float = 60.0) -> None:
    """Poll ``predicate`` every 0.2 s until it is true; fail the test after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def open_page(page: str) -> "AppTest":
    """Run the app, switch to ``page`` and check it rendered without an exception."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app
