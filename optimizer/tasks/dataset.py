"""Golden datasets: JSONL files of labelled examples, with a fixed train/validation split.

Each line is one JSON object with an ``id``, a ``split``, the input fields the templates use, and
``expected`` (the labelled output fields). Few-shot demonstrations come from ``train`` only and the
optimizer scores on ``validation`` only, so no example is both shown and graded. ``test`` (and
``paraphrase``, a held-out file of rewordings) are never read by the optimizer: they exist so a
report can say how a prompt or rule chosen on validation does on items nobody tuned against.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.config.yamlio import read_capped
from optimizer.errors import DatasetError

SPLITS = ("train", "validation", "test", "paraphrase")
MAX_DATASET_BYTES = 64 * 1024 * 1024
"""A dataset file larger than this is refused unread (parsing it would take minutes and gigabytes)."""


@dataclass(frozen=True)
class Example:
    """One labelled example: its inputs (every key but ``expected``) and its expected outputs."""

    id: str
    split: str
    inputs: dict[str, Any]
    expected: dict[str, Any]
    line: int

    @property
    def record(self) -> dict[str, Any]:
        return {**self.inputs, "id": self.id, "split": self.split, "expected": self.expected}


@dataclass(frozen=True)
class Dataset:
    path: Path
    sha256: str
    examples: tuple[Example, ...]

    def split(self, name: str) -> list[Example]:
        return [example for example in self.examples if example.split == name]

    @property
    def train(self) -> list[Example]:
        return self.split("train")

    @property
    def validation(self) -> list[Example]:
        return self.split("validation")

    @property
    def test(self) -> list[Example]:
        return self.split("test")

    def by_id(self, example_id: str) -> Example:
        for example in self.examples:
            if example.id == example_id:
                return example
        raise DatasetError(f"{self.path}: no example with id {example_id!r}")


def jsonl_records(text: str, source: str) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSONL text with their line numbers; a bad line names file and line."""
    records: list[tuple[int, dict[str, Any]]] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        if not raw_line.strip():
            continue
        try:
            record = json.loads(raw_line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{source}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise DatasetError(f"{source}:{number}: JSON nested too deeply; refused") from None
        except ValueError as exc:  # e.g. an integer literal past Python's digit limit
            raise DatasetError(f"{source}:{number}: not valid JSON ({str(exc).splitlines()[0][:120]})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{source}:{number}: expected a JSON object, got {type(record).__name__}")
        records.append((number, record))
    return records


def parse_jsonl(text: str, source: str, *, expected_key: str = "expected") -> tuple[Example, ...]:
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for number, record in jsonl_records(text, source):
        example_id = record.get("id")
        if not isinstance(example_id, str) or not example_id:
            raise DatasetError(f"{source}:{number}: field 'id' is missing or not a string")
        if example_id in seen:
            raise DatasetError(f"{source}:{number}: duplicate id {example_id!r} (first on line {seen[example_id]})")
        seen[example_id] = number
        split = record.get("split", "validation")
        if split not in SPLITS:
            raise DatasetError(f"{source}:{number}: field 'split' must be one of {', '.join(SPLITS)}, got {split!r}")
        expected = record.get(expected_key)
        if not isinstance(expected, dict):
            raise DatasetError(f"{source}:{number}: field {expected_key!r} is missing or not an object")
        inputs = {key: value for key, value in record.items() if key not in ("id", "split", expected_key)}
        examples.append(Example(example_id, split, inputs, expected, number))
    if not examples:
        raise DatasetError(f"{source}: no examples")
    return tuple(examples)


def load_dataset(path: Path, *, expected_key: str = "expected") -> Dataset:
    """Load and validate a JSONL dataset; every problem names the file and line."""
    raw = read_capped(path, MAX_DATASET_BYTES, DatasetError, "dataset file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(f"{path}:{line}: not UTF-8 text") from None
    return Dataset(path, hashlib.sha256(raw).hexdigest(), parse_jsonl(text, str(path), expected_key=expected_key))
