"""Which candidates a run evaluates: every one (grid) or a seeded sample (random), under a budget.

A budget caps candidates and calls; the number of candidates a run may take is the smaller of
``max_candidates`` and ``max_calls // examples``. Strategies are registered by name so the CLI and
the UI list whatever the core offers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import ConfigError
from .search_space import Candidate


@dataclass(frozen=True)
class Budget:
    max_candidates: int | None = None
    max_calls: int | None = None

    def candidate_limit(self, examples_per_candidate: int) -> int | None:
        limits = []
        if self.max_candidates is not None:
            limits.append(self.max_candidates)
        if self.max_calls is not None:
            limits.append(self.max_calls // max(examples_per_candidate, 1))
        return min(limits) if limits else None


Strategy = Callable[[Sequence[Candidate], int | None, int], list[Candidate]]
STRATEGIES: dict[str, Strategy] = {}


def strategy(name: str) -> Callable[[Strategy], Strategy]:
    def register(function: Strategy) -> Strategy:
        STRATEGIES[name] = function
        return function

    return register


def unique(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Drop candidates whose prompt content is identical to an earlier one."""
    seen: set[str] = set()
    kept = []
    for candidate in candidates:
        if candidate.id not in seen:
            seen.add(candidate.id)
            kept.append(candidate)
    return kept


@strategy("grid")
def grid(candidates: Sequence[Candidate], limit: int | None, seed: int) -> list[Candidate]:
    """Every candidate in grid order (the first ``limit`` when the budget is smaller)."""
    ordered = unique(candidates)
    return ordered if limit is None else ordered[:limit]


@strategy("random")
def random_sample(candidates: Sequence[Candidate], limit: int | None, seed: int) -> list[Candidate]:
    """A seeded sample without replacement: the same seed always picks the same candidates."""
    ordered = unique(candidates)
    if limit is None or limit >= len(ordered):
        return ordered
    picked = random.Random(seed).sample(range(len(ordered)), limit)
    return [ordered[index] for index in sorted(picked)]


def select_candidates(
    name: str, candidates: Sequence[Candidate], budget: Budget, examples_per_candidate: int, seed: int
) -> list[Candidate]:
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}")
    limit = budget.candidate_limit(examples_per_candidate)
    if limit is not None and limit < 1:
        raise ConfigError(
            f"budget allows no candidate: max_calls={budget.max_calls} is below {examples_per_candidate} examples per candidate"
        )
    return STRATEGIES[name](candidates, limit, seed)
