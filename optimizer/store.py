"""The run store: SQLite in WAL mode holding runs, candidates, evaluations and the response cache.

Evaluations are keyed by (run, candidate, example) and written insert-or-ignore, so a resumed run
never duplicates one. The schema changes through an ordered list of named migration functions
recorded in a table (the habit of simonw/llm's ``migrations.py``), so old stores still open.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import StoreError

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []


def migration(function: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    MIGRATIONS.append(function)
    return function


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    _execute_statements(
        db,
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            task TEXT NOT NULL,
            strategy TEXT NOT NULL,
            status TEXT NOT NULL,
            config_json TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            dataset_path TEXT NOT NULL,
            dataset_sha256 TEXT NOT NULL,
            model_identity TEXT NOT NULL,
            server_url TEXT NOT NULL,
            sampling_json TEXT NOT NULL,
            seed INTEGER NOT NULL,
            n_candidates INTEGER NOT NULL,
            n_examples INTEGER NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            wall_s REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE candidates (
            run_id TEXT NOT NULL REFERENCES runs(id),
            candidate_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            factors_json TEXT NOT NULL,
            template_json TEXT NOT NULL,
            PRIMARY KEY (run_id, candidate_id)
        );
        CREATE TABLE evaluations (
            run_id TEXT NOT NULL,
            candidate_id TEXT NOT NULL,
            example_id TEXT NOT NULL,
            raw_output TEXT,
            parsed_json TEXT NOT NULL,
            parse_error TEXT,
            field_scores_json TEXT NOT NULL,
            overall REAL NOT NULL,
            latency_s REAL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            model_id TEXT,
            finish_reason TEXT,
            cached INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_at REAL NOT NULL,
            PRIMARY KEY (run_id, candidate_id, example_id)
        );
        CREATE TABLE response_cache (
            key TEXT PRIMARY KEY,
            model_identity TEXT NOT NULL,
            response_json TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        """
    )


@migration
def m002_run_owner(db: sqlite3.Connection) -> None:
    """Which process runs a run, so the UI can tell a live run from one that died."""
    db.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")
    db.execute("ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0")


def _execute_statements(db: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL one statement at a time (``executescript`` would commit mid-migration)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunRecord:
    id: str
    created_at: str
    updated_at: str
    task: str
    strategy: str
    status: str
    config: dict[str, Any]
    config_hash: str
    dataset_path: str
    dataset_sha256: str
    model_identity: str
    server_url: str
    sampling: dict[str, Any]
    seed: int
    n_candidates: int
    n_examples: int
    message: str
    wall_s: float
    pid: int | None
    cancel_requested: bool

    @property
    def total_evaluations(self) -> int:
        """Planned evaluations: candidates x examples, or the halving schedule's own total."""
        return int(self.config.get("planned_evaluations") or self.n_candidates * self.n_examples)


@dataclass(frozen=True)
class EvaluationRow:
    """One scored call: what the model said, how it parsed, and what it cost."""

    candidate_id: str
    example_id: str
    raw_output: str | None
    parsed: dict[str, Any]
    parse_error: str | None
    field_scores: dict[str, float]
    overall: float
    latency_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    model_id: str | None
    finish_reason: str | None
    cached: bool
    error: str | None


class RunStore:
    """All reads and writes of the SQLite store go through here."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open run store ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        applied = {row[0] for row in self.db.execute("SELECT name FROM _migrations")}
        for function in MIGRATIONS:
            if function.__name__ in applied:
                continue
            self.db.execute("BEGIN IMMEDIATE")
            try:
                function(self.db)
                self.db.execute("INSERT INTO _migrations VALUES (?, ?)", (function.__name__, utc_now()))
                self.db.execute("COMMIT")
            except Exception:
                self.db.execute("ROLLBACK")
                raise

    def applied_migrations(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT name FROM _migrations ORDER BY rowid")]

    # Runs -----------------------------------------------------------------------------------

    def create_run(self, *, config: dict[str, Any], sampling: dict[str, Any], **fields: Any) -> None:
        now = utc_now()
        row = {
            **fields,
            "created_at": now,
            "updated_at": now,
            "config_json": json.dumps(config, sort_keys=True),
            "sampling_json": json.dumps(sampling, sort_keys=True),
        }
        columns = ", ".join(row)
        placeholders = ", ".join("?" for _ in row)
        self.db.execute(f"INSERT INTO runs ({columns}) VALUES ({placeholders})", tuple(row.values()))

    def _run_from_row(self, row: sqlite3.Row) -> RunRecord:
        data = dict(row)
        data["config"] = json.loads(data.pop("config_json"))
        data["sampling"] = json.loads(data.pop("sampling_json"))
        data["cancel_requested"] = bool(data["cancel_requested"])
        return RunRecord(**data)

    def get_run(self, run_id: str) -> RunRecord:
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no run with id {run_id!r}")
        return self._run_from_row(row)

    def list_runs(self, limit: int = 200) -> list[RunRecord]:
        rows = self.db.execute("SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
        return [self._run_from_row(row) for row in rows]

    def update_run(self, run_id: str, **fields: Any) -> None:
        fields["updated_at"] = utc_now()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*fields.values(), run_id))

    def add_wall_time(self, run_id: str, seconds: float) -> None:
        self.db.execute("UPDATE runs SET wall_s = wall_s + ?, updated_at = ? WHERE id = ?", (seconds, utc_now(), run_id))

    def request_cancel(self, run_id: str) -> None:
        self.db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))

    def cancel_requested(self, run_id: str) -> bool:
        row = self.db.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    # Candidates ----------------------------------------------------------------------------

    def add_candidates(self, run_id: str, candidates: Iterable[tuple[str, dict[str, str], dict[str, Any]]]) -> None:
        rows = [
            (run_id, candidate_id, position, json.dumps(factors), json.dumps(template))
            for position, (candidate_id, factors, template) in enumerate(candidates)
        ]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR IGNORE INTO candidates VALUES (?, ?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def candidates(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT candidate_id, position, factors_json, template_json FROM candidates WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
        return [
            {
                "candidate_id": row["candidate_id"],
                "position": row["position"],
                "factors": json.loads(row["factors_json"]),
                "template": json.loads(row["template_json"]),
            }
            for row in rows
        ]

    # Evaluations ---------------------------------------------------------------------------

    def insert_evaluations(self, run_id: str, rows: Sequence[EvaluationRow]) -> int:
        """Insert-or-ignore a batch in one transaction; returns how many were new."""
        if not rows:
            return 0
        now = time.time()
        values = [
            (
                run_id,
                row.candidate_id,
                row.example_id,
                row.raw_output,
                json.dumps(row.parsed, ensure_ascii=False),
                row.parse_error,
                json.dumps(row.field_scores),
                row.overall,
                row.latency_s,
                row.prompt_tokens,
                row.completion_tokens,
                row.model_id,
                row.finish_reason,
                int(row.cached),
                row.error,
                now,
            )
            for row in rows
        ]
        self.db.execute("BEGIN")
        before = self.db.total_changes
        self.db.executemany("INSERT OR IGNORE INTO evaluations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", values)
        inserted = self.db.total_changes - before
        self.db.execute("COMMIT")
        return inserted

    def done_keys(self, run_id: str) -> set[tuple[str, str]]:
        rows = self.db.execute("SELECT candidate_id, example_id FROM evaluations WHERE run_id = ?", (run_id,))
        return {(row[0], row[1]) for row in rows}

    def count_evaluations(self, run_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM evaluations WHERE run_id = ?", (run_id,)).fetchone()[0]

    def evaluation_rows(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM evaluations WHERE run_id = ? ORDER BY candidate_id, example_id", (run_id,))
        return [dict(row) for row in rows]

    def run_totals(self) -> dict[str, tuple[int, float | None]]:
        """Per run: (evaluations stored, best candidate's mean overall score), in one query."""
        rows = self.db.execute(
            "SELECT run_id, SUM(n), MAX(mean_overall) FROM ("
            " SELECT run_id, candidate_id, COUNT(*) AS n, AVG(overall) AS mean_overall"
            " FROM evaluations GROUP BY run_id, candidate_id) GROUP BY run_id"
        )
        return {row[0]: (int(row[1]), row[2]) for row in rows}

    def seconds_per_call(self, model_identity: str | None = None) -> float | None:
        """Measured wall seconds per evaluation over finished work (cache hits excluded)."""
        query = (
            "SELECT SUM(r.wall_s), SUM(e.n) FROM runs r JOIN ("
            " SELECT run_id, COUNT(*) AS n FROM evaluations WHERE cached = 0 GROUP BY run_id) e ON e.run_id = r.id"
            " WHERE r.wall_s > 0"
        )
        params: tuple[Any, ...] = ()
        if model_identity:
            query += " AND r.model_identity = ?"
            params = (model_identity,)
        wall, count = self.db.execute(query, params).fetchone()
        if not wall or not count:
            return None
        return float(wall) / float(count)

    # Response cache ------------------------------------------------------------------------

    def cache_get(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT response_json FROM response_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def cache_put_many(self, items: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        if not items:
            return
        now = time.time()
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT OR IGNORE INTO response_cache VALUES (?, ?, ?, ?)",
            [(key, identity, json.dumps(response, ensure_ascii=False), now) for key, identity, response in items],
        )
        self.db.execute("COMMIT")
