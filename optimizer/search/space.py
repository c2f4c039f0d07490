"""Search spaces: the dimensions of prompt variation for a task, and the candidates they span.

A search space is a YAML file: an ordered list of dimensions (tone, constraints, output structure,
reasoning, few-shot strategy, ...), each with named variants. A candidate picks one variant per
dimension; its system prompt is the preamble plus the chosen variants' texts in dimension order,
and its few-shot demonstrations are drawn deterministically from the training split. Each
candidate becomes an ordinary ``PromptTemplate``, so baseline, candidates and exports share a schema.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from pydantic import Field, model_validator

from optimizer.tasks.dataset import Dataset, Example
from optimizer.errors import ConfigError
from optimizer.config.paths import repo_root
from optimizer.tasks.spec import TaskSpec
from optimizer.prompts.templates import FewShotExample, PromptTemplate, TemplateInputs, _compile
from optimizer.config.yamlio import StrictModel, load_yaml_model, model_from_yaml_text


class Variant(StrictModel):
    """One level of a dimension: a text block, a few-shot draw, and/or sampling overrides."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    text: str = ""
    few_shot: dict[str, int] | None = None
    answer_template: str | None = None
    model_defaults: dict[str, Any] = {}


class Dimension(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    description: str = ""
    variants: list[Variant] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_variants(self) -> "Dimension":
        names = [variant.name for variant in self.variants]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate variant name(s) {', '.join(duplicates)} in dimension {self.name}")
        return self


class SearchSpace(StrictModel):
    task: str
    description: str = ""
    preamble: str = ""
    user: str
    model_defaults: dict[str, Any] = {}
    inputs: TemplateInputs = TemplateInputs()
    few_shot_seed: int = 0
    dimensions: list[Dimension] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_dimensions(self) -> "SearchSpace":
        names = [dimension.name for dimension in self.dimensions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate dimension name(s) {', '.join(duplicates)}")
        return self

    @property
    def size(self) -> int:
        total = 1
        for dimension in self.dimensions:
            total *= len(dimension.variants)
        return total

    def dimension(self, name: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        raise ConfigError(f"search space for {self.task}: no dimension {name!r}")


@dataclass(frozen=True)
class Candidate:
    """One point of the search space: its factor levels and the prompt template they produce."""

    template: PromptTemplate
    factors: dict[str, str]
    origin: str = "space"
    """``space``, ``baseline``, or the name of the strategy that wrote it."""
    parent_id: str | None = None
    """The candidate it was derived from, for candidates a strategy wrote."""

    @property
    def id(self) -> str:
        return self.template.content_hash()


def search_space_path(task: TaskSpec) -> Path:
    relative = task.search_space or f"prompt_templates/search_spaces/{task.name}.yaml"
    return repo_root() / relative


def load_search_space(path: Path) -> SearchSpace:
    return load_yaml_model(path, SearchSpace)


def parse_search_space(text: str, source: str) -> SearchSpace:
    """Validate YAML text (e.g. from the editor) without touching any file."""
    return model_from_yaml_text(text, SearchSpace, source)


def _pick_demos(
    groups: Mapping[str, int], task: TaskSpec, train: list[Example], rng: random.Random
) -> list[Example]:
    """Draw ``count`` training examples per group, preferring categories not drawn yet."""
    chosen: list[Example] = []
    used_categories: set[Any] = set()
    for group_name, count in groups.items():
        group = task.example_groups.get(group_name)
        if group is None:
            known = ", ".join(sorted(task.example_groups)) or "none"
            raise ConfigError(f"few-shot group {group_name!r} is not defined by task {task.name} (known: {known})")
        members = [example for example in train if group.matches(example.record) and example not in chosen]
        if len(members) < count:
            raise ConfigError(
                f"few-shot group {group_name!r} needs {count} training examples, the train split has {len(members)}"
            )
        rng.shuffle(members)
        members.sort(key=lambda example: example.inputs.get("category") in used_categories)
        picked = members[:count]
        used_categories.update(example.inputs.get("category") for example in picked)
        chosen.extend(picked)
    rng.shuffle(chosen)
    return chosen


def _demo_answer(example: Example, task: TaskSpec, answer_template: str | None) -> str:
    if answer_template is None:
        return task.format_answer(example.expected)
    try:
        return _compile(answer_template).render(example.expected).strip()
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"answer_template: {exc.message}") from None


def build_candidate(
    space: SearchSpace, task: TaskSpec, dataset: Dataset, choice: Mapping[str, Variant]
) -> Candidate:
    """The prompt template for one combination of variants (``choice`` maps dimension -> variant)."""
    parts = [space.preamble.strip()] if space.preamble.strip() else []
    model_defaults = dict(space.model_defaults)
    answer_template = next((v.answer_template for v in choice.values() if v.answer_template), None)
    demos: list[FewShotExample] = []
    for dimension in space.dimensions:
        variant = choice[dimension.name]
        if variant.text.strip():
            parts.append(variant.text.strip())
        model_defaults.update(variant.model_defaults)
        if variant.few_shot:
            rng = random.Random(f"{space.few_shot_seed}:{dimension.name}:{variant.name}")
            for example in _pick_demos(variant.few_shot, task, dataset.train, rng):
                inputs = {name: example.inputs[name] for name in task.inputs if name in example.inputs}
                demos.append(FewShotExample(id=example.id, inputs=inputs, output=_demo_answer(example, task, answer_template)))
    factors = {dimension: variant.name for dimension, variant in choice.items()}
    draft = PromptTemplate(
        id=f"{task.name}-draft",
        task=task.name,
        description="Candidate " + ", ".join(f"{k}={v}" for k, v in factors.items()),
        system="\n\n".join(parts),
        user=space.user,
        examples=demos,
        model_defaults=model_defaults,
        inputs=space.inputs,
        factors=factors,
    )
    return Candidate(draft.model_copy(update={"id": f"{task.name}-{draft.content_hash()}"}), factors)


def iter_choices(space: SearchSpace) -> Iterator[dict[str, Variant]]:
    names = [dimension.name for dimension in space.dimensions]
    for combination in itertools.product(*(dimension.variants for dimension in space.dimensions)):
        yield dict(zip(names, combination))


def enumerate_candidates(space: SearchSpace, task: TaskSpec, dataset: Dataset) -> list[Candidate]:
    """Every candidate of the space, in grid order."""
    return [build_candidate(space, task, dataset, choice) for choice in iter_choices(space)]


def candidate_from_factors(
    space: SearchSpace, task: TaskSpec, dataset: Dataset, factors: Mapping[str, str]
) -> Candidate:
    """Rebuild the candidate for named factor levels (e.g. for a preview)."""
    choice: dict[str, Variant] = {}
    for dimension in space.dimensions:
        level = factors.get(dimension.name, dimension.variants[0].name)
        matching = [variant for variant in dimension.variants if variant.name == level]
        if not matching:
            raise ConfigError(f"dimension {dimension.name!r} has no variant {level!r}")
        choice[dimension.name] = matching[0]
    return build_candidate(space, task, dataset, choice)


def variants_table(space: SearchSpace) -> list[dict[str, str]]:
    """Rows of (dimension, variant, text) for a table editor; few-shot draws are shown as text."""
    rows = []
    for dimension in space.dimensions:
        for variant in dimension.variants:
            draw = ", ".join(f"{group}={count}" for group, count in (variant.few_shot or {}).items())
            rows.append({"dimension": dimension.name, "variant": variant.name, "text": variant.text,
                         "few_shot": draw})
    return rows


def apply_variants_table(space: SearchSpace, rows: list[dict[str, object]]) -> SearchSpace:
    """A new space whose variants (names, texts, few-shot draws) come from edited table rows.

    Rows keep their dimension; a row with a new dimension name adds that dimension at the end.
    Settings that the table does not show (answer templates, model defaults) are kept by name.
    """
    previous = {(d.name, v.name): v for d in space.dimensions for v in d.variants}
    order = [d.name for d in space.dimensions]
    grouped: dict[str, list[Variant]] = {}
    for number, row in enumerate(rows, start=1):
        dimension = str(row.get("dimension") or "").strip()
        name = str(row.get("variant") or "").strip()
        if not dimension or not name:
            raise ConfigError(f"table row {number}: dimension and variant are required")
        draw_text = str(row.get("few_shot") or "").strip()
        few_shot = None
        if draw_text:
            few_shot = {}
            for part in draw_text.split(","):
                group, _, count = part.partition("=")
                if not count.strip().isdigit():
                    raise ConfigError(f"table row {number}: few_shot must look like 'issue=2, benign=1', got {draw_text!r}")
                few_shot[group.strip()] = int(count)
        kept = previous.get((dimension, name))
        data = kept.model_dump() if kept else {"name": name}
        data.update({"name": name, "text": str(row.get("text") or ""), "few_shot": few_shot})
        try:
            grouped.setdefault(dimension, []).append(Variant.model_validate(data))
        except ValueError as exc:
            problem = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
            where = ".".join(str(part) for part in problem["loc"])
            raise ConfigError(f"table row {number}: {where + ': ' if where else ''}{problem['msg']}") from None
        if dimension not in order:
            order.append(dimension)
    descriptions = {d.name: d.description for d in space.dimensions}
    try:
        dimensions = [
            Dimension(name=name, description=descriptions.get(name, ""), variants=grouped[name]) for name in order if name in grouped
        ]
    except ValueError as exc:  # e.g. two rows give one dimension the same variant name
        problem = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
        raise ConfigError(f"table: {problem.removeprefix('Value error, ')}") from None
    return space.model_copy(update={"dimensions": dimensions})


def search_space_yaml(space: SearchSpace) -> str:
    from optimizer.config.yamlio import dump_yaml

    return dump_yaml(space.model_dump(exclude_defaults=True))


def save_search_space(path: Path, text: str) -> SearchSpace:
    """Validate ``text`` and only then replace the file atomically; a bad edit leaves it untouched."""
    space = parse_search_space(text, str(path))
    staging = path.with_suffix(path.suffix + ".saving")
    staging.write_text(text, encoding="utf-8")
    staging.replace(path)
    return space
