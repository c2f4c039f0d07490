"""A stalled run explains itself (calls in flight, timeouts, retries, last error, s/call, lowered
concurrency) and Cancel aborts calls in flight within ~2 s without losing what was scored."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from optimizer.errors import RunPaused
from optimizer.evaluate.leaderboard import evaluations_frame
from optimizer.evaluate.runner import RunRequest, plan_run, resume_run, run_plan
from optimizer.serving.client import LLMClient, RetryPolicy

from conftest import FAST_RETRY


def hanging_transport(fake_llm, answer_first: int) -> httpx.MockTransport:
    """Answers the first ``answer_first`` chat calls, then every call hangs (a stuck server)."""
    answered = [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        if request.method == "POST" and answered[0] >= answer_first:
            await asyncio.sleep(3600)
        if request.method == "POST":
            answered[0] += 1
        status, payload = fake_llm.handle(request.method, request.url.path, body)
        return httpx.Response(status, json=payload)

    return httpx.MockTransport(handler)


def request(**overrides) -> RunRequest:
    values = dict(task="k8s_log_analysis", strategy="random", max_candidates=3, n_examples=10, seed=5)
    values.update(overrides)
    return RunRequest(**values)


def test_timeouts_show_in_progress_and_lower_concurrency(store, fake_llm) -> None:
    client = LLMClient("http://fake.invalid", transport=hanging_transport(fake_llm, answer_first=6),
                       retry=RetryPolicy(attempts=50, base_delay_s=0.01, max_delay_s=0.02), request_deadline_s=0.3)
    plan = plan_run(request())
    seen = {}

    async def scenario() -> None:
        run = asyncio.create_task(run_plan(store, plan, client, concurrency=4, run_id="stalled"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            progress = store.read_progress("stalled")
            if progress and progress.timeouts >= 4 and "lowered" in progress.note and progress.in_flight >= 1:
                seen["progress"] = progress
                break
        store.request_cancel("stalled")
        with pytest.raises(RunPaused):
            await run

    asyncio.run(scenario())
    progress = seen["progress"]
    assert progress.calls >= 7 and progress.retries >= 1
    assert progress.last_error and "timed out after 0.3s" in progress.last_error
    assert progress.concurrency < 4 and "after" in progress.note and "timed-out call(s)" in progress.note
    assert progress.seconds_per_call is not None and progress.seconds_per_call < 1.0  # the 6 answered calls
    assert store.count_evaluations("stalled") == 6


def test_cancel_aborts_in_flight_calls_fast_and_keeps_scored_rows(store, fake_llm) -> None:
    client = LLMClient("http://fake.invalid", transport=hanging_transport(fake_llm, answer_first=9),
                       retry=FAST_RETRY, request_deadline_s=600)
    plan = plan_run(request())
    timing = {}

    async def scenario() -> None:
        run = asyncio.create_task(run_plan(store, plan, client, concurrency=4, run_id="hung"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (store.read_progress("hung") and store.read_progress("hung").in_flight == 4):
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.6)  # past the writer's flush interval: the 9 answers are stored
        store.request_cancel("hung")
        requested = time.monotonic()
        with pytest.raises(RunPaused, match="cancelled"):
            await run
        timing["cancel_s"] = time.monotonic() - requested

    asyncio.run(scenario())
    assert timing["cancel_s"] < 2.0
    run = store.get_run("hung")
    assert run.status == "cancelled"
    assert store.count_evaluations("hung") == 9
    progress = store.read_progress("hung")
    assert progress.in_flight == 0

    working = LLMClient("http://fake.invalid", transport=fake_llm.transport(), retry=FAST_RETRY)
    asyncio.run(resume_run(store, "hung", working))
    frame = evaluations_frame(store, "hung")
    assert len(frame) == 40 and not frame.duplicated(["candidate_id", "example_id"]).any()
    assert store.get_run("hung").status == "completed"


def test_run_page_shows_why_a_run_stalls_then_cancelling_then_cancelled(monkeypatch) -> None:
    import os

    from conftest import open_page
    from optimizer.config.paths import default_store_path
    from optimizer.evaluate.runner import create_run
    from optimizer.evaluate.store import CallProgress, RunStore
    from optimizer.serving.client import ServerInfo

    with RunStore(default_store_path()) as seeded:
        plan = plan_run(request(max_candidates=1, n_examples=5))
        run_id = create_run(seeded, plan, ServerInfo("http://x", "m", 4, "llama.cpp"), "m", "stalled-page")
        seeded.update_run(run_id, pid=os.getpid())  # a live process owns it
        seeded.write_progress(run_id, CallProgress(2, 9, 7, 12, 7, "http://x: timed out after 180s", None, 2,
                                                   "concurrency lowered 4 -> 2 after 3 timed-out call(s)"))
        app = open_page("views/run.py")
        captions = [caption.value for caption in app.caption]
        assert any("2 call(s) in flight (limit 2)" in c and "7 timed out" in c and "12 retried" in c
                   and "no call answered yet" in c for c in captions), captions
        assert "last error: http://x: timed out after 180s" in captions
        assert "concurrency lowered 4 -> 2 after 3 timed-out call(s)" in captions
        app.button(key=f"cancel::{run_id}").click().run()
        assert seeded.cancel_requested(run_id)
        assert app.get("progress")[0].proto.text.startswith("cancelling...")
        seeded.update_run(run_id, status="cancelled", pid=None, message="run stalled-page cancelled (cancelled)")
        app.run()
        assert app.get("progress")[0].proto.text.startswith("cancelled ·")
        assert not any("in flight" in caption.value for caption in app.caption)


def test_cancel_stops_a_cli_run_stuck_on_a_hanging_server_within_seconds(fake_llm, tmp_path) -> None:
    import subprocess
    import sys

    from conftest import ROOT
    from optimizer.evaluate.store import RunStore

    fake_llm.delay_s = 120.0  # every call hangs far past the test
    store_path = tmp_path / "runs.sqlite"
    with fake_llm.serve() as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "optimizer.app.cli", "optimize", "--task", "k8s_log_analysis", "--candidates", "1",
             "--examples", "4", "--url", url, "--store", str(store_path), "--run-id", "stuck"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            with RunStore(store_path) as store:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    progress = store.read_progress("stuck") if store.path.exists() else None
                    if progress and progress.in_flight >= 2:
                        break
                    time.sleep(0.2)
                assert progress and progress.in_flight >= 2
                store.request_cancel("stuck")
                requested = time.monotonic()
                process.wait(timeout=30)
                elapsed = time.monotonic() - requested
                assert store.get_run("stuck").status == "cancelled"
        finally:
            if process.poll() is None:
                process.kill()
            output = process.communicate()[0]
    assert elapsed < 3.0, output
    assert process.returncode == 3 and "cancelled" in output
