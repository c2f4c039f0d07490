from __future__ import annotations

import sqlite3
from pathlib import Path

from optimizer.evaluate.store import MIGRATIONS, RunStore, m001_initial


def test_new_store_is_wal_with_every_migration(tmp_path: Path) -> None:
    with RunStore(tmp_path / "s.sqlite") as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.applied_migrations() == [function.__name__ for function in MIGRATIONS]


def test_old_store_opens_and_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    m001_initial(db)
    db.execute("INSERT INTO _migrations VALUES ('m001_initial', 'then')")
    db.execute(
        "INSERT INTO runs (id, created_at, updated_at, task, strategy, status, config_json, config_hash, dataset_path,"
        " dataset_sha256, model_identity, server_url, sampling_json, seed, n_candidates, n_examples)"
        " VALUES ('r1', 't', 't', 'k8s_log_analysis', 'grid', 'completed', '{}', 'h', 'd', 's', 'm', 'u', '{}', 0, 1, 1)"
    )
    db.commit()
    db.close()
    with RunStore(path) as store:
        assert "m002_run_owner" in store.applied_migrations()
        run = store.get_run("r1")
        assert run.status == "completed" and run.pid is None and run.cancel_requested is False


def test_insert_or_ignore_never_duplicates(store) -> None:
    from optimizer.evaluate.store import EvaluationRow

    row = EvaluationRow("c", "e", "out", {}, None, {"f": 1.0}, 1.0, 0.1, 3, 4, "m", "stop", False, None)
    assert store.insert_evaluations("r", [row, row]) == 1
    assert store.insert_evaluations("r", [row]) == 0
    assert store.count_evaluations("r") == 1
