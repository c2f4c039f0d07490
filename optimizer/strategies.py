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


@strategy("halving")
def halving_pool(candidates: Sequence[Candidate], limit: int | None, seed: int) -> list[Candidate]:
    """Successive halving's starting pool: a seeded sample (all candidates when no budget).

    The rounds themselves (few examples for many candidates, then the best half on more) are run
    by ``runner`` following ``halving_schedule``.
    """
    return random_sample(candidates, limit, seed)


MULTI_ROUND = {"halving"}


@dataclass(frozen=True)
class Round:
    """One round of successive halving: how many candidates run on how many leading examples."""

    candidates: int
    examples: int


def halving_schedule(n_candidates: int, n_examples: int, eta: int = 2, min_examples: int = 2) -> list[Round]:
    """Rounds that shrink the field by ``eta`` while growing the examples by ``eta``.

    Later rounds reuse the earlier rounds' examples (a prefix of the validation list), so a survivor
    is never evaluated twice on the same example and the final round uses every example.
    """
    halvings = 0
    while eta ** (halvings + 1) <= n_candidates and n_examples // eta ** (halvings + 1) >= min_examples:
        halvings += 1
    return [
        Round(-(-n_candidates // eta**index), n_examples // eta ** (halvings - index)) for index in range(halvings + 1)
    ]


def planned_evaluations(schedule: Sequence[Round]) -> int:
    """Calls a schedule needs: each round only adds the examples its survivors have not seen."""
    total, seen = 0, 0
    for round_ in schedule:
        total += round_.candidates * (round_.examples - seen)
        seen = round_.examples
    return total
