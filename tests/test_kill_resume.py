"""Kill -9 in the middle of a run, resume, and get exactly what an uninterrupted run gets."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fake_openai import FakeLLM

from optimizer.evaluate.leaderboard import leaderboard
from optimizer.evaluate.store import RunStore

from conftest import GOLDEN_K8S, ROOT

ARGS = ["optimize", "--task", "k8s_log_analysis", "--strategy", "random", "--candidates", "4", "--examples", "6", "--seed", "5"]


def count(store_path: Path) -> int:
    if not store_path.exists():
        return 0
    try:
        with sqlite3.connect(store_path) as db:
            return db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path: Path) -> None:
    fake = FakeLLM(GOLDEN_K8S, delay_s=0.03, slots=2)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    killed_store, clean_store = tmp_path / "killed.sqlite", tmp_path / "clean.sqlite"
    with fake.serve() as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "optimizer.app.cli", *ARGS, "--url", url, "--store", str(killed_store)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while count(killed_store) < 8 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        saved = count(killed_store)
        assert 8 <= saved < 30

        with RunStore(killed_store) as store:
            run = store.list_runs()[0]
            assert run.status == "running"  # died without a chance to say so
        resumed = subprocess.run(
            [sys.executable, "-m", "optimizer.app.cli", "optimize", "--resume", run.id, "--url", url, "--store", str(killed_store)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert resumed.returncode == 0, resumed.stderr
        assert f"resuming run {run.id}: {saved}/30 evaluations stored" in resumed.stdout

        clean = subprocess.run(
            [sys.executable, "-m", "optimizer.app.cli", *ARGS, "--url", url, "--store", str(clean_store), "--no-cache"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert clean.returncode == 0, clean.stderr

    with RunStore(killed_store) as store:
        rows = store.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT candidate_id || '/' || example_id) FROM evaluations WHERE run_id = ?", (run.id,)
        ).fetchone()
        assert tuple(rows) == (30, 30)  # 5 candidates (4 + baseline) x 6 examples, no duplicates
        assert store.get_run(run.id).status == "completed"
        resumed_board = leaderboard(store, run.id)[["candidate_id", "overall", "score_severity"]]
    with RunStore(clean_store) as store:
        clean_board = leaderboard(store, store.list_runs()[0].id)[["candidate_id", "overall", "score_severity"]]
    assert resumed_board.equals(clean_board)
