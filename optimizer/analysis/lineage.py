"""Where each candidate of a run came from: a point of the search space, the baseline, or a prompt a
strategy wrote (``gepa``, ``dspy-*``) from a parent candidate. Read by the Compare page."""

from __future__ import annotations

from optimizer.evaluate.store import RunStore


def candidate_lineage(store: RunStore, run_id: str) -> dict[str, str]:
    """One line per candidate id: its origin and, for a written one, its chain of parents."""
    rows = {row["candidate_id"]: row for row in store.candidates(run_id)}
    lines = {}
    for candidate_id, row in rows.items():
        chain, parent, seen = [], row["parent_id"], {candidate_id}
        while parent and parent not in seen:
            seen.add(parent)
            chain.append(f"{parent} ({rows[parent]['origin']})" if parent in rows else parent)
            parent = rows[parent]["parent_id"] if parent in rows else None
        origin = row["origin"] or "space"
        lines[candidate_id] = f"made by: {origin}" + (f" · from {' <- '.join(chain)}" if chain else "")
    return lines
