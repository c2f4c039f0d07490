"""Output parsers: turn a model's raw text into the task's output fields.

Parsing is separate from formatting (rendering) so each can be tested and swapped. A parser never
raises on model output: it returns a ``ParsedOutput`` whose ``error`` says why parsing failed, so a
parse failure is counted apart from a wrong answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParsedOutput:
    """The fields found in one model output; ``error`` is set when a required field is missing."""

    fields: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _normalize_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", label.lower()).strip()


_LINE = re.compile(r"^[\s>*#\-]*\**\s*([A-Za-z][A-Za-z0-9 _/\-]{0,40}?)\s*\**\s*[:=]\s*(.*)$")


def parse_labelled_lines(text: str, labels: Mapping[str, str]) -> dict[str, str]:
    """Find ``Label: value`` lines (markdown bullets and bold tolerated); the last occurrence wins.

    The last one wins because chain-of-thought outputs often restate the labels while reasoning
    before giving the final answer.
    """
    wanted = {_normalize_label(label): name for name, label in labels.items()}
    wanted.update({_normalize_label(name): name for name in labels})
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        name = wanted.get(_normalize_label(match.group(1)))
        if name is not None:
            value = match.group(2).strip().strip("*").strip()
            if value:
                found[name] = value
    return found


def _find_json_object(text: str) -> dict[str, Any] | None:
    """The last top-level JSON object in ``text`` (fenced code blocks and prose tolerated)."""
    decoder = json.JSONDecoder()
    last: dict[str, Any] | None = None
    index = text.find("{")
    while index != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            index = text.find("{", index + 1)
            continue
        if isinstance(value, dict):
            last = value
        index = text.find("{", end)
    return last


def parse_json_fields(text: str, names: Sequence[str]) -> dict[str, Any]:
    obj = _find_json_object(text)
    if obj is None:
        return {}
    lowered = {_normalize_label(str(key)).replace(" ", "_"): value for key, value in obj.items()}
    return {name: lowered[name] for name in names if name in lowered}


def _coerce_choice(value: Any, choices: Sequence[str]) -> Any:
    """Map ``"Yes."``/``"CRITICAL"``/``True`` onto an allowed choice; unknown values pass through."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    text = _normalize_label(str(value))
    for choice in choices:
        if text == _normalize_label(choice):  # both sides normalised: "DNS_ADD" matches dns_add
            return choice
    first_word = text.split(" ", 1)[0] if text else ""
    for choice in choices:
        if first_word == _normalize_label(choice):
            return choice
    return str(value).strip()


def parse_output(
    text: str,
    *,
    style: str,
    labels: Mapping[str, str],
    choices: Mapping[str, Sequence[str]],
    required: Sequence[str],
) -> ParsedOutput:
    """Parse ``text`` with ``style`` (``labelled_lines``, ``json`` or ``auto``: JSON when present)."""
    if not text or not text.strip():
        return ParsedOutput({}, "empty output")
    names = list(labels)
    fields: dict[str, Any] = {}
    if style in ("json", "auto"):
        fields = parse_json_fields(text, names)
    if style == "labelled_lines" or (style == "auto" and len(fields) < len(required)):
        labelled = parse_labelled_lines(text, labels)
        if len(labelled) >= len(fields):
            fields = labelled
    for name, allowed in choices.items():
        if name in fields:
            fields[name] = _coerce_choice(fields[name], allowed)
    missing = [name for name in required if name not in fields]
    if missing:
        return ParsedOutput(fields, f"missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    return ParsedOutput(fields)

