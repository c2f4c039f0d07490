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

from optimizer.errors import StoreError

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


@migration
def m003_run_progress(db: sqlite3.Connection) -> None:
    """Live call counters of a running run (in flight, timeouts, retries, last error, s/call) for the Run page."""
    db.execute(
        "CREATE TABLE run_progress (run_id TEXT PRIMARY KEY, updated_at REAL NOT NULL, in_flight INTEGER NOT NULL,"
        " calls INTEGER NOT NULL, timeouts INTEGER NOT NULL, retries INTEGER NOT NULL, errors INTEGER NOT NULL,"
        " last_error TEXT, seconds_per_call REAL, concurrency INTEGER, note TEXT NOT NULL DEFAULT '')"
    )


@migration
def m004_candidate_lineage(db: sqlite3.Connection) -> None:
    """Where a candidate came from: ``space`` (a point of the search space), ``baseline``, or the
    proposing strategy that wrote it, with the candidate it was derived from."""
    db.execute("ALTER TABLE candidates ADD COLUMN origin TEXT NOT NULL DEFAULT 'space'")
    db.execute("ALTER TABLE candidates ADD COLUMN parent_id TEXT")


@migration
def m005_call_failures_apart(db: sqlite3.Connection) -> None:
    """Failed calls (the server refused or garbled the answer) live apart from scores, so they are not
    averaged in as 0 and a resumed run retries them. Rows an older store kept as 0-score evaluations move here."""
    db.execute(
        "CREATE TABLE call_failures (run_id TEXT NOT NULL, candidate_id TEXT NOT NULL, example_id TEXT NOT NULL,"
        " error TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL,"
        " PRIMARY KEY (run_id, candidate_id, example_id))"
    )
    db.execute(
        "INSERT OR IGNORE INTO call_failures SELECT run_id, candidate_id, example_id, error, 1, created_at"
        " FROM evaluations WHERE error IS NOT NULL"
    )
    db.execute("DELETE FROM evaluations WHERE error IS NOT NULL")


@migration
def m006_run_lease(db: sqlite3.Connection) -> None:
    """A run's lease: the token of the one process allowed to execute it and that process's last heartbeat."""
    db.execute("ALTER TABLE runs ADD COLUMN lease_token TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN heartbeat_at REAL")


@migration
def m007_human_reviews(db: sqlite3.Connection) -> None:
    """Human review of model outputs: thumbs, a 0-1 score and a comment. Keyed by the task, the
    example and the output text, so the same output met again in a later run carries its review
    (a human score for the next run's leaderboard); the run and candidate say where it was given."""
    _execute_statements(
        db,
        """
        CREATE TABLE human_reviews (
            task TEXT NOT NULL,
            example_id TEXT NOT NULL,
            output TEXT NOT NULL,
            run_id TEXT NOT NULL,
            candidate_id TEXT NOT NULL,
            thumb INTEGER CHECK (thumb IN (-1, 1)),
            score REAL CHECK (score BETWEEN 0 AND 1),
            comment TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (task, example_id, output)
        );
        CREATE INDEX human_reviews_by_run ON human_reviews (run_id, candidate_id)
        """,
    )


@migration
def m008_derived_tables(db: sqlite3.Connection) -> None:
    """Tables derived from a run's evaluations (e.g. the leaderboard with its trivial-reference
    verdicts), kept with the version of the data they were computed from, so a page opening a large
    run reads them instead of recomputing them from every evaluation."""
    db.execute(
        "CREATE TABLE derived_tables (run_id TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,"
        " payload TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (run_id, name))"
    )


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
    lease_token: str | None = None
    heartbeat_at: float | None = None

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


@dataclass(frozen=True)
class CallProgress:
    """How a run's calls are going right now: what a stalled run shows instead of a frozen counter."""

    in_flight: int
    calls: int
    timeouts: int
    retries: int
    errors: int
    last_error: str | None
    seconds_per_call: float | None
    concurrency: int | None
    note: str = ""
    updated_at: float = 0.0


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
        try:
            self.db.execute(f"INSERT INTO runs ({columns}) VALUES ({placeholders})", tuple(row.values()))
        except sqlite3.IntegrityError:
            raise StoreError(f"{self.path}: a run with id {fields.get('id')!r} already exists; choose another id "
                             f"or resume it with: workbench optimize --resume {fields.get('id')}") from None

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

    def write_progress(self, run_id: str, progress: "CallProgress") -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO run_progress VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, time.time(), progress.in_flight, progress.calls, progress.timeouts, progress.retries,
             progress.errors, progress.last_error, progress.seconds_per_call, progress.concurrency, progress.note),
        )

    def read_progress(self, run_id: str) -> "CallProgress | None":
        row = self.db.execute("SELECT * FROM run_progress WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        data = dict(row)
        data.pop("run_id")
        return CallProgress(**data)

    # Candidates ----------------------------------------------------------------------------

    def add_candidates(
        self,
        run_id: str,
        candidates: Iterable[tuple[str, dict[str, str], dict[str, Any]]],
        *,
        lineage: dict[str, tuple[str, str | None]] | None = None,
    ) -> None:
        """Add candidates after those already stored (insert-or-ignore); ``lineage`` maps a candidate
        id to its ``(origin, parent_id)`` when it is not a plain point of the search space."""
        lineage = lineage or {}
        start = self.db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM candidates WHERE run_id = ?", (run_id,)).fetchone()[0]
        rows = [
            (run_id, candidate_id, start + offset, json.dumps(factors), json.dumps(template),
             *lineage.get(candidate_id, ("space", None)))
            for offset, (candidate_id, factors, template) in enumerate(candidates)
        ]
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT OR IGNORE INTO candidates (run_id, candidate_id, position, factors_json, template_json, origin, parent_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.db.execute("COMMIT")

    def candidates(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT candidate_id, position, factors_json, template_json, origin, parent_id FROM candidates"
            " WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
        return [
            {
                "candidate_id": row["candidate_id"],
                "position": row["position"],
                "factors": json.loads(row["factors_json"]),
                "template": json.loads(row["template_json"]),
                "origin": row["origin"],
                "parent_id": row["parent_id"],
            }
            for row in rows
        ]

    # Evaluations ---------------------------------------------------------------------------

    def insert_evaluations(self, run_id: str, rows: Sequence[EvaluationRow]) -> int:
        """Insert-or-ignore a batch in one transaction; returns how many scored rows were new.

        A row with ``error`` (a failed call, not a parse failure) is no score: it goes to
        ``call_failures`` (counting attempts) instead, and a later scored row for the same pair
        clears it, so a resumed run retries exactly the failed calls.
        """
        if not rows:
            return 0
        now = time.time()
        failures = [(run_id, row.candidate_id, row.example_id, row.error, now) for row in rows if row.error is not None]
        rows = [row for row in rows if row.error is None]
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
        self.db.executemany(
            "DELETE FROM call_failures WHERE run_id = ? AND candidate_id = ? AND example_id = ?",
            [value[:3] for value in values],
        )
        self.db.executemany(
            "INSERT INTO call_failures VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (run_id, candidate_id, example_id)"
            " DO UPDATE SET error = excluded.error, attempts = attempts + 1, created_at = excluded.created_at",
            failures,
        )
        self.db.execute("COMMIT")
        return inserted

    def call_failures(self, run_id: str) -> list[dict[str, Any]]:
        """Calls of a run that failed (and were not retried successfully since), with the last error."""
        rows = self.db.execute(
            "SELECT candidate_id, example_id, error, attempts FROM call_failures WHERE run_id = ?"
            " ORDER BY candidate_id, example_id", (run_id,))
        return [dict(row) for row in rows]

    def candidate_aggregates(self, run_id: str, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Per candidate, in one SQL aggregate (no evaluation row leaves SQLite): n, mean overall and
        per-field scores, parse-ok share, failed calls (here and stored apart), latency and tokens."""
        field_columns = "".join(
            f", AVG(json_extract(e.field_scores_json, '$.\"{name}\"')) AS \"score_{name}\"" for name in fields
        )
        rows = self.db.execute(
            "SELECT e.candidate_id, COUNT(*) AS n, AVG(e.overall) AS overall" + field_columns +
            ", AVG(e.parse_error IS NULL AND e.error IS NULL) AS parse_ok_rate, SUM(e.error IS NOT NULL) AS failed"
            ", AVG(e.latency_s) AS mean_latency_s, AVG(e.completion_tokens) AS mean_completion_tokens"
            " FROM evaluations e WHERE e.run_id = ? GROUP BY e.candidate_id",
            (run_id,),
        )
        aggregates = {row["candidate_id"]: dict(row) for row in rows}
        for candidate_id, count in self.db.execute(
            "SELECT candidate_id, COUNT(*) FROM call_failures WHERE run_id = ? GROUP BY candidate_id", (run_id,)
        ):
            entry = aggregates.setdefault(candidate_id, {"candidate_id": candidate_id, "n": 0, "failed": 0})
            entry["failed"] = (entry.get("failed") or 0) + count
        return list(aggregates.values())

    def count_call_failures(self, run_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM call_failures WHERE run_id = ?", (run_id,)).fetchone()[0]

    # Lease ----------------------------------------------------------------------------------

    def acquire_lease(self, run_id: str, token: str, pid: int, *, owner_alive: Callable[[int | None, float | None], bool]) -> None:
        """Make ``token`` the one owner allowed to execute ``run_id``, or raise ``StoreError``.

        The check and the write are one ``BEGIN IMMEDIATE`` transaction, so of two processes that
        try at once exactly one wins. ``owner_alive(pid, heartbeat_at)`` decides whether the current
        owner still counts; a dead owner's lease is taken over.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT pid, lease_token, heartbeat_at FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no run with id {run_id!r}")
            owner, held, heartbeat = row
            if held != token and owner not in (None, pid) and owner_alive(owner, heartbeat):
                seen = f", last heartbeat {time.time() - heartbeat:.0f} s ago" if heartbeat else ""
                raise StoreError(f"run {run_id} is already being executed by process {owner}{seen}; "
                                 "wait for it to finish or cancel it before resuming")
            self.db.execute("UPDATE runs SET pid = ?, lease_token = ?, heartbeat_at = ? WHERE id = ?",
                            (pid, token, time.time(), run_id))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def renew_lease(self, run_id: str, token: str) -> bool:
        """Heartbeat; False when the lease was taken over (the caller must stop executing)."""
        cursor = self.db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND lease_token = ?", (time.time(), run_id, token))
        return cursor.rowcount == 1

    def release_lease(self, run_id: str, token: str) -> None:
        self.db.execute("UPDATE runs SET lease_token = NULL, heartbeat_at = NULL WHERE id = ? AND lease_token = ?", (run_id, token))

    def done_keys(self, run_id: str) -> set[tuple[str, str]]:
        rows = self.db.execute("SELECT candidate_id, example_id FROM evaluations WHERE run_id = ?", (run_id,))
        return {(row[0], row[1]) for row in rows}

    def count_evaluations(self, run_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM evaluations WHERE run_id = ?", (run_id,)).fetchone()[0]

    def evaluation_rows(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM evaluations WHERE run_id = ? ORDER BY candidate_id, example_id", (run_id,))
        return [dict(row) for row in rows]

    def evaluation_rows_for(
        self, run_id: str, candidate_ids: Sequence[str], example_ids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """Stored rows of these candidates on these examples, per candidate, in the examples' order,
        with ``parsed`` and ``field_scores`` decoded (what a search strategy reads back)."""
        wanted = set(example_ids)
        order = {example_id: position for position, example_id in enumerate(example_ids)}
        found: dict[str, list[dict[str, Any]]] = {candidate_id: [] for candidate_id in candidate_ids}
        for candidate_id in candidate_ids:
            rows = self.db.execute(
                "SELECT * FROM evaluations WHERE run_id = ? AND candidate_id = ?", (run_id, candidate_id)
            )
            for row in rows:
                if row["example_id"] in wanted:
                    record = dict(row)
                    record["parsed"] = json.loads(record.pop("parsed_json"))
                    record["field_scores"] = json.loads(record.pop("field_scores_json"))
                    found[candidate_id].append(record)
            found[candidate_id].sort(key=lambda record: order[record["example_id"]])
        return found

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

    # Derived tables ------------------------------------------------------------------------

    def data_version(self, run_id: str) -> str:
        """Changes whenever the run's evaluations or any human review change (one indexed query)."""
        count, latest = self.db.execute(
            "SELECT COUNT(*), MAX(created_at) FROM evaluations WHERE run_id = ?", (run_id,)
        ).fetchone()
        reviews, reviewed_at = self.db.execute("SELECT COUNT(*), MAX(updated_at) || MAX(rowid) FROM human_reviews").fetchone()
        return f"{count}:{latest}:{reviews}:{reviewed_at}"

    def derived_get(self, run_id: str, name: str, version: str) -> str | None:
        row = self.db.execute(
            "SELECT payload FROM derived_tables WHERE run_id = ? AND name = ? AND version = ?", (run_id, name, version)
        ).fetchone()
        return row[0] if row else None

    def derived_put(self, run_id: str, name: str, version: str, payload: str) -> None:
        self.db.execute(
            "INSERT INTO derived_tables VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, name) DO UPDATE SET"
            " version = excluded.version, payload = excluded.payload, created_at = excluded.created_at",
            (run_id, name, version, payload, utc_now()),
        )

    # Response cache ------------------------------------------------------------------------

    def cache_get(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT response_json FROM response_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def cache_count(self, keys: Sequence[str]) -> int:
        """How many of ``keys`` the response cache holds (in chunks: SQLite caps bound parameters)."""
        found = 0
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            found += self.db.execute(f"SELECT COUNT(*) FROM response_cache WHERE key IN ({marks})", chunk).fetchone()[0]
        return found

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
