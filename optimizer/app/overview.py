"""The first screen's facts: what tasks exist, how big their datasets are, and the latest runs.

One SQL aggregate for the runs (``RunStore.run_totals``), one pass over each task's dataset file;
nothing here draws.
"""

from __future__ import annotations

import pandas as pd

from optimizer.app.background import effective_status
from optimizer.errors import WorkbenchError
from optimizer.evaluate.store import RunStore
from optimizer.tasks.spec import list_tasks, load_task

FIRST_STEPS = """\
**What this is.** A workbench for systematic prompt engineering against a small local model:
a task declares its inputs, output fields and per-field metrics over a golden dataset with a fixed
train / validation split; a search space spans prompt variants; a run scores candidates on the
validation split; Compare shows the differences with confidence intervals and exports the winner
to Git with its evidence.

**What to do first.**
1. Make sure the model server is up (sidebar; *Start embedded server* when it is down).
2. Open **Search space**, pick a task and look at its dimensions and a rendered candidate, or
   bring your own labelled examples with **New task**.
3. On **Run**, start a small run (a few candidates, a few examples) and watch it progress.
4. On **Compare**, look at the baseline against the best candidates, review outputs, and export.
"""


def task_overview() -> pd.DataFrame:
    """One row per task: inputs, output fields with their metrics, and train / validation counts."""
    from optimizer.evaluate.runner import load_task_dataset

    rows = []
    for name in list_tasks():
        try:
            task = load_task(name)
            dataset = load_task_dataset(task)
        except WorkbenchError as exc:
            rows.append({"task": name, "problem": str(exc)})
            continue
        rows.append({
            "task": name,
            "inputs": ", ".join(task.inputs),
            "outputs": ", ".join(f"{field} ({spec.metric})" for field, spec in task.outputs.items()),
            "train": len(dataset.train),
            "validation": len(dataset.validation),
            "problem": "",
        })
    return pd.DataFrame(rows)


def latest_runs(store: RunStore, limit: int = 8) -> pd.DataFrame:
    """The newest runs with status, progress, best mean score (from one aggregate query) and the best
    trivial reference (majority label / best constant, from the labels, no calls) it has to beat."""
    from optimizer.analysis.references import run_references

    totals = store.run_totals()
    rows = []
    for run in store.list_runs(limit):
        done, best = totals.get(run.id, (0, None))
        trivial = max((reference.mean() for reference in run_references(store, run.id)), default=None)
        rows.append({"run": run.id, "task": run.task, "status": effective_status(run), "strategy": run.strategy,
                     "evaluations": f"{done}/{run.total_evaluations}", "best overall": best, "trivial reference": trivial,
                     "created": run.created_at})
    return pd.DataFrame(rows, columns=["run", "task", "status", "strategy", "evaluations", "best overall", "trivial reference",
                                       "created"])
