"""A task, declared once: inputs, output fields, the parser, per-field metrics and weights.

Everything else (rendering preflight, parsing, scoring, few-shot selection, export) reads the
``TaskSpec``; nothing about a task is scattered across modules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from optimizer.errors import ConfigError
from optimizer import plugins
from optimizer.tasks.metrics import get_metric, weighted_overall
from optimizer.tasks.balanced import LABEL_ONLY, ClassWeights, class_weights, label_key
from optimizer.tasks.parsers import ParsedOutput, parse_output
from optimizer.config.paths import repo_root
from optimizer.config.yamlio import StrictModel, load_yaml_model


class OutputField(StrictModel):
    """One field the model must produce, how it is labelled, and how it is scored."""

    label: str
    metric: str
    weight: float = Field(ge=0)
    choices: list[str] | None = None
    required: bool = True
    whole: bool = False
    description: str = ""

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, name: str) -> str:
        if name not in plugins.metrics:
            raise ValueError(f"unknown metric {name!r}; known: {', '.join(plugins.metrics.names())}")
        return name


class ParserSpec(StrictModel):
    style: Literal["labelled_lines", "json", "auto"] = "auto"


class ExampleGroup(StrictModel):
    """A named subset of training examples for few-shot selection, e.g. ``issue`` or ``benign``.

    ``field`` is a dotted path into the example record (``expected.action_required``).
    """

    field: str
    equals: str | None = None
    startswith: str | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> "ExampleGroup":
        if (self.equals is None) == (self.startswith is None):
            raise ValueError("give exactly one of 'equals' or 'startswith'")
        return self

    def matches(self, record: Mapping[str, Any]) -> bool:
        value: Any = record
        for part in self.field.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return False
            value = value[part]
        text = str(value)
        if self.equals is not None:
            return text == self.equals
        return text.startswith(self.startswith or "")


class TaskSpec(StrictModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    description: str = ""
    dataset: str
    expected_key: str = "expected"
    baseline_template: str
    search_space: str | None = None
    inputs: list[str]
    outputs: dict[str, OutputField]
    parser: ParserSpec = ParserSpec()
    example_groups: dict[str, ExampleGroup] = {}
    executor: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    """A registered executor (``optimizer.plugins.executors``) replacing the single chat call,
    e.g. the multi-step agent."""

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, name: str | None) -> str | None:
        if name is not None and name not in plugins.executors:
            raise ValueError(f"unknown executor {name!r}; known: {', '.join(plugins.executors.names()) or 'none'}")
        return name

    @model_validator(mode="after")
    def _weights_positive(self) -> "TaskSpec":
        if not self.outputs:
            raise ValueError("outputs: at least one output field is required")
        if sum(field.weight for field in self.outputs.values()) <= 0:
            raise ValueError("outputs: the weights must add up to more than 0")
        return self

    @cached_property
    def weights(self) -> dict[str, float]:
        return {name: field.weight for name, field in self.outputs.items()}

    def parse(self, text: str) -> ParsedOutput:
        return parse_output(
            text,
            style=self.parser.style,
            labels={name: field.label for name, field in self.outputs.items()},
            choices={name: field.choices for name, field in self.outputs.items() if field.choices},
            required=[name for name, field in self.outputs.items() if field.required],
        )

    def score(
        self, expected: Mapping[str, Any], predicted: Mapping[str, Any], *, class_weights: ClassWeights | None = None
    ) -> tuple[dict[str, float], float]:
        """Per-field scores and the weighted overall.

        A field the model omitted scores 0, unless the expected record omits it too (a correct
        absence, e.g. ``ip`` on a CNAME intent). A ``whole`` field's metric sees both full records.
        With ``class_weights`` (``self.class_weights(...)`` over the examples a run scores), a
        ``balanced_accuracy`` field is weighted by its class's weight, so the mean over those examples
        is their balanced accuracy (``optimizer.tasks.balanced``); without, it is plain exact match.
        """
        field_scores: dict[str, float] = {}
        for name, field in self.outputs.items():
            metric = get_metric(field.metric)
            if field.whole:
                field_scores[name] = metric(dict(expected), dict(predicted))
            elif name in predicted:
                field_scores[name] = metric(expected.get(name), predicted[name])
            else:
                field_scores[name] = 1.0 if name not in expected else 0.0
            if class_weights and name in class_weights and field_scores[name]:
                field_scores[name] *= class_weights[name].get(label_key(expected.get(name)), 1.0)
        return field_scores, weighted_overall(field_scores, self.weights)

    @cached_property
    def balanced_fields(self) -> list[str]:
        """The fields scored with a balanced metric whose weights depend on the labels only."""
        return [name for name, field in self.outputs.items() if field.metric in LABEL_ONLY and not field.whole]

    def class_weights(self, expected_records: Sequence[Mapping[str, Any]]) -> ClassWeights:
        """``field -> {class: weight}`` over the expected records of the examples a run scores."""
        return {name: class_weights([record.get(name) for record in expected_records]) for name in self.balanced_fields}

    def format_answer(self, expected: Mapping[str, Any]) -> str:
        """The canonical answer for few-shot demonstrations: JSON for JSON tasks, else labelled lines."""
        if self.parser.style == "json":
            return json.dumps(dict(expected), ensure_ascii=False)
        return "\n".join(
            f"{field.label}: {expected.get(name, '')}" for name, field in self.outputs.items() if not field.whole
        )

    def resolve(self, relative: str) -> Path:
        return repo_root() / relative


def task_path(name: str) -> Path:
    return repo_root() / "prompt_templates" / "tasks" / f"{name}.yaml"


def list_tasks() -> list[str]:
    folder = repo_root() / "prompt_templates" / "tasks"
    return sorted(path.stem for path in folder.glob("*.yaml"))


def load_task(name_or_path: str | Path) -> TaskSpec:
    """Load a task by name (``k8s_log_analysis``) or by the path of its YAML file."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = task_path(str(name_or_path))
        if not path.exists():
            known = ", ".join(list_tasks()) or "none"
            raise ConfigError(f"unknown task {str(name_or_path)!r} (known tasks: {known})")
    return load_yaml_model(path, TaskSpec)
