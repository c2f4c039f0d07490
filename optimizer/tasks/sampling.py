"""Which validation examples a run scores: a seeded sample stratified by the task's example groups.

Taking the first N examples in file order is biased whenever a file is grouped (the k8s golden
set opens with 13 "no issue" examples). Instead every example is put in a stratum (the first of
the task's ``example_groups`` it matches: issue / benign / hard negative, ...; without groups,
the value of the first output field that has a fixed set of choices), each stratum is shuffled with
the run's seed, and the strata are interleaved in proportion to their size. Every prefix of that
order is itself a stratified sample, so ``--examples 10`` is a subset of ``--examples 20`` (cache
hits carry over) and the first round of successive halving is as balanced as the last.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optimizer.tasks.dataset import Example
from optimizer.tasks.spec import TaskSpec

OTHER = "other"
MAX_CATEGORIES = 30  # an input field with more distinct values than this is not a stratum


@dataclass(frozen=True)
class ExampleSample:
    """The examples a run scores, in order, and how they split over the strata."""

    examples: list[Example]
    stratified_by: str  # what defines the strata, e.g. "example groups" or "expected.route"
    counts: dict[str, int]  # stratum -> examples in the sample
    population: dict[str, int]  # stratum -> examples available
    seed: int

    def describe(self) -> str:
        """One line for the plan, e.g. ``20 of 120 validation examples, stratified by ...: issue 7, ...``."""
        total = sum(self.population.values())
        parts = ", ".join(f"{name} {self.counts.get(name, 0)}/{available}" for name, available in self.population.items())
        if len(self.population) <= 1:
            return f"{len(self.examples)} of {total} validation examples (seeded sample, seed {self.seed})"
        return (f"{len(self.examples)} of {total} validation examples, stratified by {self.stratified_by} "
                f"(seed {self.seed}): {parts}")

    def provenance(self) -> dict[str, Any]:
        return {"method": "stratified", "stratified_by": self.stratified_by, "seed": self.seed, "counts": dict(self.counts),
                "population": [[name, count] for name, count in self.population.items()]}  # pairs: JSON keeps their order


def describe_selection(stored: Mapping[str, Any] | None, examples: int) -> str | None:
    """``ExampleSample.describe`` of a run's stored ``example_selection`` (None for runs made before it)."""
    if not stored or "population" not in stored:
        return None
    return ExampleSample([None] * examples, stored["stratified_by"], dict(stored["counts"]),  # type: ignore[list-item]
                         {str(name): int(count) for name, count in stored["population"]}, int(stored["seed"])).describe()


def _field_value(record: Mapping[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def strata_rule(task: TaskSpec, examples: Sequence[Example] = ()) -> tuple[str, Any]:
    """(description, function example -> stratum name) for ``task``.

    In order: the task's example groups (the first group an example matches); the first output field
    with a fixed set of choices; an input field ``category`` with few distinct values; nothing.
    """
    if task.example_groups:
        groups = list(task.example_groups.items())

        def by_group(example: Example) -> str:
            record = example.record
            return next((name for name, group in groups if group.matches(record)), OTHER)

        present = {by_group(example) for example in examples}
        used = [name for name, _ in groups if name in present or not examples] + ([OTHER] if OTHER in present else [])
        return "example groups (" + " / ".join(used) + ")", by_group
    labelled = [name for name, field in task.outputs.items() if field.choices]
    if labelled:
        name = labelled[0]
        return f"{task.expected_key}.{name}", lambda example: str(example.expected.get(name))
    categories = {str(example.inputs.get("category")) for example in examples if "category" in example.inputs}
    if 1 < len(categories) <= MAX_CATEGORIES:
        return "category", lambda example: str(example.inputs.get("category", OTHER))
    return "nothing (no example groups or labelled field)", lambda example: OTHER


def stratified_order(examples: Sequence[Example], stratum_of: Any, seed: int,
                     order_hint: dict[str, int] | None = None) -> tuple[list[Example], dict[str, int]]:
    """All ``examples`` in an order whose every prefix follows the strata proportions.

    ``order_hint`` ranks the strata (e.g. the task's group order) for the population it reports."""
    order_hint = order_hint or {}
    pools: dict[str, list[Example]] = {}
    for example in examples:
        pools.setdefault(stratum_of(example), []).append(example)
    rng = random.Random(f"examples:{seed}")
    for name in pools:  # insertion order is file order: deterministic
        rng.shuffle(pools[name])
    population = {name: len(pool) for name, pool in sorted(pools.items(), key=lambda item: order_hint.get(item[0], len(order_hint)))}
    total = len(examples)
    taken = {name: 0 for name in pools}
    order: list[Example] = []
    while len(order) < total:
        step = len(order) + 1
        # The stratum furthest behind its share of the first ``step`` examples goes next.
        name = max((name for name in pools if taken[name] < population[name]),
                   key=lambda name: population[name] * step / total - taken[name])
        order.append(pools[name][taken[name]])
        taken[name] += 1
    return order, population


def sample_examples(task: TaskSpec, validation: Sequence[Example], n: int | None, seed: int) -> ExampleSample:
    """The first ``n`` (all when None) of the stratified, seeded order of ``validation``."""
    description, stratum_of = strata_rule(task, validation)
    hint = {name: position for position, name in enumerate(task.example_groups)}
    order, population = stratified_order(validation, stratum_of, seed, hint)
    chosen = order if n is None else order[:n]
    counts = {name: 0 for name in population}
    for example in chosen:
        counts[stratum_of(example)] += 1
    return ExampleSample(chosen, description, counts, population, seed)
