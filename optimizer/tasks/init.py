"""Bring your own task: infer a task declaration from a JSONL file of labelled examples.

A prompt engineer arrives with a file of examples and their own prompt. This module reads the file
(bounded in size, every problem named by line and field), decides which keys are inputs and which
are output fields, proposes a metric per output field and writes the task spec and a normalised
copy of the dataset. The baseline template and the starter search space are written by
``optimizer.search.starter``, one layer up, which also validates all of it together.

Accepted records (one JSON object per line):

- the golden format: ``{"id": ..., "split": ..., <inputs>, "expected": {<outputs>}}``;
- flat records: ``{<inputs>, "label": "positive"}`` (``label``, ``answer``, ``target`` or ``output``
  is the output field), or name the output keys explicitly (``output_keys``).

``id`` and ``split`` are optional: missing ids become ``<task>-<line>``; of the records without a
split, ordered by a stable hash of the id, the first 30% (rounded down) are train, the next 20%
test and the rest validation, so re-running the inference gives the same split.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.config.yamlio import dump_yaml, read_capped
from optimizer.errors import DatasetError
from optimizer.tasks.dataset import SPLITS, jsonl_records

MAX_DATASET_BYTES = 50 * 1024 * 1024
"""A dataset larger than this is refused unread."""
MAX_LABELS = 10
"""An output field with at most this many distinct short values is a label set (exact match)."""
MAX_LABEL_CHARS = 40
FLAT_OUTPUT_KEYS = ("expected", "output", "label", "answer", "target")
TRAIN_SHARE = 0.3
TEST_SHARE = 0.2
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"id", "split"}


@dataclass(frozen=True)
class FieldProposal:
    """An output field as inferred: its metric, its choices (for a label set) and why."""

    name: str
    metric: str
    reason: str
    choices: list[str] | None = None
    kind: str = "text"  # "labels", "text" or "json"

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

    def spec(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"label": self.label, "metric": self.metric, "weight": 1.0}
        if self.choices:
            entry["choices"] = self.choices
        entry["description"] = self.reason
        return entry


@dataclass(frozen=True)
class TaskDraft:
    """Everything inferred from the file, before anything is written."""

    name: str
    source: str
    inputs: list[str]
    outputs: list[FieldProposal]
    records: list[dict[str, Any]]
    example_groups: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def parser_style(self) -> str:
        return "json" if any(proposal.kind == "json" for proposal in self.outputs) else "labelled_lines"

    def split_counts(self) -> dict[str, int]:
        return {split: sum(record["split"] == split for record in self.records) for split in SPLITS}

    def summary(self) -> list[str]:
        """Human-readable lines: what was inferred and why."""
        counts = self.split_counts()
        lines = [f"{len(self.records)} examples from {self.source} ({counts['train']} train, {counts['validation']} validation, "
                 f"{counts['test']} test)",
                 f"inputs: {', '.join(self.inputs)}"]
        lines += [f"output {proposal.name}: {proposal.metric} ({proposal.reason})" for proposal in self.outputs]
        lines.append(f"parser: {self.parser_style}")
        return lines


def _assign_splits(records: list[dict[str, Any]], unsplit: list[int]) -> None:
    """Give records without a split one: ordered by a stable hash of the id, the first
    ``TRAIN_SHARE`` of them (rounded down) are train (rules and demonstrations), the next
    ``TEST_SHARE`` test (held out for the final report), the rest validation (choosing)."""
    order = sorted(unsplit, key=lambda index: hashlib.sha256(records[index]["id"].encode("utf-8")).hexdigest())
    train_count, test_count = int(len(order) * TRAIN_SHARE), int(len(order) * TEST_SHARE)
    for position, index in enumerate(order):
        if position < train_count:
            records[index]["split"] = "train"
        elif position < train_count + test_count:
            records[index]["split"] = "test"
        else:
            records[index]["split"] = "validation"


def _kind_of(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "json"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return "scalar"


def propose_metric(name: str, values: Sequence[Any]) -> FieldProposal:
    """A metric for one output field from its values: exact match for a small label set, token
    overlap for free text, JSON validity for objects and lists."""
    kinds = {_kind_of(value) for value in values} - {"null"}
    if kinds == {"json"}:
        return FieldProposal(name, "json_valid", "objects or lists: scored on whether the answer is valid JSON", kind="json")
    texts = [value if isinstance(value, str) else json.dumps(value) for value in values if value is not None]
    distinct = sorted(set(texts))
    small = len(distinct) <= max(2, min(MAX_LABELS, len(texts) // 2))
    if distinct and small and all(len(text) <= MAX_LABEL_CHARS for text in distinct):
        return FieldProposal(name, "exact_match", f"{len(distinct)} distinct short values: a label set", distinct, "labels")
    return FieldProposal(name, "token_f1", "free text: scored by token overlap (F1)")


def _records(text: str, source: str) -> list[tuple[int, dict[str, Any]]]:
    records = jsonl_records(text, source)
    if not records:
        raise DatasetError(f"{source}: no examples")
    return records


def _output_keys(first: dict[str, Any], source: str, line: int, output_keys: Sequence[str] | None) -> tuple[str | None, list[str]]:
    """(the key holding an object of outputs, or None for flat records; the output field names)."""
    if output_keys:
        missing = [key for key in output_keys if key not in first]
        if missing:
            raise DatasetError(f"{source}:{line}: output field {missing[0]!r} is missing")
        return None, list(output_keys)
    for key in FLAT_OUTPUT_KEYS:
        if key in first:
            if isinstance(first[key], dict) and key in ("expected", "output"):
                if not first[key]:
                    raise DatasetError(f"{source}:{line}: field {key!r} is an empty object; it must hold the output fields")
                return key, list(first[key])
            return None, [key]
    raise DatasetError(f"{source}:{line}: no output field: give an 'expected' object or one of "
                       f"{', '.join(repr(key) for key in FLAT_OUTPUT_KEYS[1:])}, or name the output keys")


def infer_task(name: str, text: str, source: str, *, output_keys: Sequence[str] | None = None) -> TaskDraft:
    """Infer inputs, output fields and metrics from JSONL ``text``; errors name the line and field."""
    if not NAME.match(name):
        raise DatasetError(f"task name {name!r}: use lower-case letters, digits and underscores, starting with a letter")
    numbered = _records(text, source)
    first_line, first = numbered[0]
    container, outputs = _output_keys(first, source, first_line, output_keys)
    input_names = [key for key in first if key not in RESERVED and key != container and key not in outputs]
    if not input_names:
        raise DatasetError(f"{source}:{first_line}: no input field besides the outputs ({', '.join(outputs)})")
    for key in [*input_names, *outputs]:
        if not IDENTIFIER.match(key):
            raise DatasetError(f"{source}:{first_line}: field {key!r} is not usable in a template; "
                               "use letters, digits and underscores")
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    unsplit: list[int] = []
    values: dict[str, list[Any]] = {output: [] for output in outputs}
    for number, record in numbered:
        expected_source = record.get(container) if container else record
        if container and not isinstance(expected_source, dict):
            raise DatasetError(f"{source}:{number}: field {container!r} is missing or not an object")
        expected = {}
        for output in outputs:
            if output not in expected_source:
                where = f"{container}.{output}" if container else output
                raise DatasetError(f"{source}:{number}: output field {where!r} is missing")
            expected[output] = expected_source[output]
            values[output].append(expected_source[output])
        for input_name in input_names:
            if input_name not in record:
                raise DatasetError(f"{source}:{number}: input field {input_name!r} is missing (line {first_line} has it)")
        example_id = record.get("id", f"{name}-{number:04d}")
        if not isinstance(example_id, str) or not example_id:
            raise DatasetError(f"{source}:{number}: field 'id' must be a non-empty string")
        if example_id in seen:
            raise DatasetError(f"{source}:{number}: field 'id': duplicate {example_id!r} (first on line {seen[example_id]})")
        seen[example_id] = number
        split = record.get("split")
        if split is None:
            unsplit.append(len(records))
        elif split not in SPLITS:
            raise DatasetError(f"{source}:{number}: field 'split' must be one of {', '.join(SPLITS)}, got {split!r}")
        extra = {key: value for key, value in record.items()
                 if key not in RESERVED and key != container and key not in outputs and key not in input_names}
        records.append({"id": example_id, "split": split, **{key: record[key] for key in input_names}, **extra,
                        "expected": expected})
    _assign_splits(records, unsplit)
    if not any(record["split"] == "validation" for record in records):
        raise DatasetError(f"{source}: no validation examples (every line has split 'train')")
    proposals = [propose_metric(output, values[output]) for output in outputs]
    groups: dict[str, dict[str, str]] = {}
    labelled = next((proposal for proposal in proposals if proposal.choices), None)
    if labelled is not None:
        for choice in labelled.choices or []:
            group = re.sub(r"[^a-z0-9_]+", "_", choice.lower()).strip("_") or "empty"
            groups.setdefault(group, {"field": f"expected.{labelled.name}", "equals": choice})
    return TaskDraft(name, source, input_names, proposals, records, groups)


def read_dataset_file(path: Path) -> str:
    """The text of a user's JSONL file: bounded in size, UTF-8, errors naming the file and line."""
    raw = read_capped(path, MAX_DATASET_BYTES, DatasetError, "dataset")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(f"{path}:{line}: not UTF-8 text") from None


def dataset_jsonl(draft: TaskDraft) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in draft.records)


def task_yaml(draft: TaskDraft, *, dataset: str, baseline_template: str, search_space: str, description: str = "") -> str:
    """The task spec (``prompt_templates/tasks/<name>.yaml``) for ``draft``."""
    spec: dict[str, Any] = {
        "name": draft.name,
        "description": description or f"Created by workbench init-task from {Path(draft.source).name}.",
        "dataset": dataset,
        "baseline_template": baseline_template,
        "search_space": search_space,
        "inputs": draft.inputs,
        "outputs": {proposal.name: proposal.spec() for proposal in draft.outputs},
        "parser": {"style": draft.parser_style},
    }
    if draft.example_groups:
        spec["example_groups"] = draft.example_groups
    return dump_yaml(spec)
