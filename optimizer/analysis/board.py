"""The whole-run leaderboard with trivial-reference verdicts and collapse flags, computed once per
version of the run's data and kept in the run store (``derived_tables``).

On a run of 324 candidates x 100 examples the verdicts and flags read every evaluation; a page
that opens the run, or a Run-page fragment that redraws every two seconds, must not redo that.
The run's own process computes the table when it prints its final leaderboard, so the first page
open after a run finishes reads it too. Any new evaluation or human review changes the version.
"""

from __future__ import annotations

from io import StringIO

import pandas as pd

from optimizer.analysis.references import leaderboard_with_references, task_dataset
from optimizer.errors import WorkbenchError
from optimizer.evaluate.store import RunStore
from optimizer.tasks.spec import load_task

NAME = "leaderboard_with_references"
FORMAT = "1"  # bump when the table's columns or their meaning change


def board_version(store: RunStore, run_id: str) -> str:
    """The run's data version plus the labels' version (references come from today's dataset)."""
    try:
        labels = task_dataset(load_task(store.get_run(run_id).task)).sha256
    except WorkbenchError:
        labels = "-"
    return f"{FORMAT}:{store.data_version(run_id)}:{labels}"


def run_board(store: RunStore, run_id: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``leaderboard_with_references`` from the store when this version was computed before."""
    version = board_version(store, run_id)
    stored = store.derived_get(run_id, NAME, version)
    if stored is not None:
        return pd.read_json(StringIO(stored), orient="table")
    table = leaderboard_with_references(store, run_id, frame)
    if not table.empty:
        store.derived_put(run_id, NAME, version, table.to_json(orient="table", index=False))
    return table
