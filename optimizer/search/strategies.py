"""Search strategies: one object each, one entry point, registered by name in ``optimizer.plugins``.

A strategy receives a ``SearchProblem`` (the search space's candidates, the examples, the
baseline, a budget and a seed) and an ``Evaluator`` (scores candidates on examples through the
engine: cached, stored, resumable, counted against the budget) and returns its candidates ranked
best first. It owns its whole search: grid and random score their pick on every example;
successive halving runs rounds of growing example sets over a shrinking field. A strategy that
writes new prompts creates ``Candidate`` objects with a parent and an origin and evaluates them
the same way, so they land on the same leaderboard.

Resuming a run calls ``search`` again with the same problem: everything already stored is reused
(the evaluator skips stored pairs), so the same decisions come out and nothing runs twice.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from optimizer import plugins
from optimizer.errors import ConfigError
from optimizer.search.space import Candidate
from optimizer.tasks.dataset import Example


@dataclass(frozen=True)
class Budget:
    """Caps on a search: candidates (besides the baseline) and evaluation calls."""

    max_candidates: int | None = None
    max_calls: int | None = None

    def candidate_limit(self, examples_per_candidate: int) -> int | None:
        limits = []
        if self.max_candidates is not None:
            limits.append(self.max_candidates)
        if self.max_calls is not None:
            limits.append(self.max_calls // max(examples_per_candidate, 1))
        return min(limits) if limits else None


@dataclass(frozen=True)
class SearchProblem:
    """What a strategy searches over: candidates of the space, examples, baseline, budget and seed."""

    pool: Sequence[Candidate]
    examples: Sequence[Example]
    budget: Budget = Budget()
    seed: int = 0
    baseline: Candidate | None = None
    train: Sequence[Example] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scored:
    """A candidate with its mean overall score over the ``n`` examples it was scored on."""

    candidate: Candidate
    mean: float
    n: int


class Evaluator(Protocol):
    """Scores candidates on examples; what strategies call to spend their budget."""

    async def __call__(self, candidates: Sequence[Candidate], examples: Sequence[Example]) -> dict[str, list[dict[str, Any]]]:
        """Evaluation rows (``overall``, ``field_scores``, ``parsed``, ``raw_output``, ``parse_error``,
        ``error``, ``example_id``) per candidate id, for exactly the examples asked."""
        ...

    @property
    def calls_used(self) -> int:
        """(candidate, example) pairs asked for so far in this search, stored ones included."""
        ...


class Strategy(Protocol):
    """One search method. ``proposes`` is True for strategies that write new candidates."""

    name: str
    proposes: bool

    async def search(self, problem: SearchProblem, evaluate: Evaluator) -> list[Scored]: ...


def check_proposing_problem(problem: SearchProblem, strategy: str) -> None:
    """What a strategy that writes prompts needs: a call budget, the baseline to start from, train examples."""
    if problem.budget.max_calls is None:
        raise ConfigError(f"strategy {strategy} writes new prompts and needs a call budget (--max-calls)")
    if problem.baseline is None:
        raise ConfigError(f"strategy {strategy} starts from the task's baseline template; run it without --no-baseline")
    if not problem.train:
        raise ConfigError(f"strategy {strategy} learns from the train split, and the dataset has no train examples")


def unique(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Drop candidates whose prompt content is identical to an earlier one."""
    seen: set[str] = set()
    kept = []
    for candidate in candidates:
        if candidate.id not in seen:
            seen.add(candidate.id)
            kept.append(candidate)
    return kept


def rank(candidates: Sequence[Candidate], rows: Mapping[str, list[dict[str, Any]]]) -> list[Scored]:
    """Best mean overall first; ties keep the candidates' order, so ranking is deterministic."""
    scored = []
    for candidate in candidates:
        candidate_rows = rows.get(candidate.id, [])
        mean = sum(row["overall"] for row in candidate_rows) / len(candidate_rows) if candidate_rows else 0.0
        scored.append(Scored(candidate, mean, len(candidate_rows)))
    order = {candidate.id: position for position, candidate in enumerate(candidates)}
    return sorted(scored, key=lambda item: (-item.mean, order[item.candidate.id]))


def _check_limit(limit: int | None, problem: SearchProblem) -> None:
    if limit is not None and limit < 1:
        raise ConfigError(
            f"budget allows no candidate: max_calls={problem.budget.max_calls} is below "
            f"{len(problem.examples)} examples per candidate"
        )


class Grid:
    """Every candidate in grid order (the first ones the budget allows), each on every example."""

    name: ClassVar[str] = "grid"
    proposes: ClassVar[bool] = False

    def pick(self, problem: SearchProblem) -> list[Candidate]:
        ordered = unique(problem.pool)
        limit = problem.budget.candidate_limit(len(problem.examples))
        _check_limit(limit, problem)
        return ordered if limit is None else ordered[:limit]

    async def search(self, problem: SearchProblem, evaluate: Evaluator) -> list[Scored]:
        chosen = self.pick(problem)
        return rank(chosen, await evaluate(chosen, problem.examples))


class RandomSample(Grid):
    """A seeded sample without replacement: the same seed always picks the same candidates."""

    name: ClassVar[str] = "random"

    def pick(self, problem: SearchProblem) -> list[Candidate]:
        ordered = unique(problem.pool)
        limit = problem.budget.candidate_limit(len(problem.examples))
        _check_limit(limit, problem)
        if limit is None or limit >= len(ordered):
            return ordered
        picked = random.Random(problem.seed).sample(range(len(ordered)), limit)
        return [ordered[index] for index in sorted(picked)]


@dataclass(frozen=True)
class Round:
    """One round of successive halving: how many candidates run on how many leading examples."""

    candidates: int
    examples: int


def halving_schedule(n_candidates: int, n_examples: int, eta: int = 2, min_examples: int = 2) -> list[Round]:
    """Rounds that shrink the field by ``eta`` while growing the examples by ``eta``.

    Later rounds reuse the earlier rounds' examples (a prefix of the example list), so a survivor
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


class SuccessiveHalving:
    """All candidates on a few examples, then the best half on twice as many, and so on.

    The starting pool is the largest seeded sample whose whole schedule fits ``max_calls``.
    Survivors are ranked from stored scores only, so a resumed run picks the same ones.
    """

    name: ClassVar[str] = "halving"
    proposes: ClassVar[bool] = False

    def pool(self, problem: SearchProblem) -> list[Candidate]:
        candidates = unique(problem.pool)
        n_examples = len(problem.examples)
        size = min(problem.budget.max_candidates or len(candidates), len(candidates))
        while True:
            pool = RandomSample().pick(SearchProblem(candidates, problem.examples, Budget(size, None), problem.seed))
            calls = planned_evaluations(halving_schedule(len(pool), n_examples))
            if problem.budget.max_calls is None or calls <= problem.budget.max_calls:
                return pool
            if size <= 1:
                raise ConfigError(
                    f"budget of {problem.budget.max_calls} calls is too small for successive halving on {n_examples} examples"
                )
            size -= 1

    async def search(self, problem: SearchProblem, evaluate: Evaluator) -> list[Scored]:
        survivors = self.pool(problem)
        ranked: list[Scored] = []
        for round_ in halving_schedule(len(survivors), len(problem.examples)):
            survivors = [item.candidate for item in ranked[: round_.candidates]] if ranked else survivors
            ranked = rank(survivors, await evaluate(survivors, problem.examples[: round_.examples]))
        return ranked


def get_strategy(name: str) -> Strategy:
    return plugins.strategies.get(name)


plugins.strategies.register(Grid.name, Grid())
plugins.strategies.register(RandomSample.name, RandomSample())
plugins.strategies.register(SuccessiveHalving.name, SuccessiveHalving())
