"""How sure the model was, raw: from token log-probabilities when the server returns them (``None``
otherwise; ``calibration.py`` turns the raw score, or its absence, into a probability of being right).

llama.cpp reports each generated token's log-probability and its top alternatives *before* the
grammar masked them, so a raw token probability mostly says how much the model wanted to write
prose instead of JSON. What matters is the choice among the values the grammar allowed. For each
key, every generated token inside the value is scored as its probability renormalised over the
top alternatives that would still spell one of the allowed values; a key's probability is the
product over its tokens, and the intent's confidence is the least sure key. A forced token
(only one allowed value fits) scores 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any



def _token_bytes(entry: Mapping[str, Any]) -> bytes:
    raw = entry.get("bytes")
    if isinstance(raw, list) and all(isinstance(value, int) and 0 <= value < 256 for value in raw):
        return bytes(raw)
    return str(entry.get("token", "")).encode("utf-8")


def token_entries(raw_payload: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The per-token logprob entries of an OpenAI chat completion body, if it has them."""
    try:
        entries = raw_payload["choices"][0]["logprobs"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(entries, list) or not entries or not all(isinstance(entry, dict) and "logprob" in entry for entry in entries):
        return None
    return entries


def _value_span(content: bytes, key: str, value: str) -> tuple[int, int] | None:
    """Byte offsets of ``"value"`` right after ``"key":`` in compact or spaced JSON."""
    encoded_key = json.dumps(key, ensure_ascii=False).encode("utf-8")
    encoded_value = json.dumps(value, ensure_ascii=False).encode("utf-8")
    index = content.find(encoded_key)
    while index != -1:
        position = index + len(encoded_key)
        while content[position:position + 1] in (b" ", b":", b"\n", b"\t"):
            position += 1
        if content.startswith(encoded_value, position):
            return position, position + len(encoded_value)
        index = content.find(encoded_key, index + 1)
    return None


def _key_probability(
    content: bytes, span: tuple[int, int], allowed: Sequence[str], entries: Sequence[Mapping[str, Any]], offsets: Sequence[int]
) -> float:
    start, end = span
    spelled = [content[:start] + json.dumps(value, ensure_ascii=False).encode("utf-8") + content[end:] for value in allowed]
    probability = 1.0
    for entry, offset in zip(entries, offsets):
        chosen = _token_bytes(entry)
        if offset + len(chosen) <= start or offset >= end:
            continue
        consistent = [text for text in spelled if text[:offset] == content[:offset]]
        options: dict[bytes, float] = {chosen: float(entry["logprob"])}
        for alternative in entry.get("top_logprobs") or []:
            if isinstance(alternative, dict) and "logprob" in alternative:
                options.setdefault(_token_bytes(alternative), float(alternative["logprob"]))
        allowed_mass = sum(
            math.exp(logprob) for token, logprob in options.items() if any(text.startswith(token, offset) for text in consistent)
        )
        if allowed_mass > 0:
            probability *= math.exp(options[chosen]) / allowed_mass
    return probability


def logprob_confidence(
    content: str, intent: Mapping[str, str], alternatives: Mapping[str, Sequence[str]], raw_payload: Mapping[str, Any]
) -> float | None:
    """The least sure key's probability among its allowed values; ``None`` without usable logprobs.

    ``content`` is the model's text, ``intent`` the JSON object parsed from it, ``alternatives``
    maps each key to the values the grammar allowed (the chosen value is always counted).
    """
    entries = token_entries(raw_payload)
    if entries is None:
        return None
    encoded = content.encode("utf-8")
    offsets, position = [], 0
    for entry in entries:
        offsets.append(position)
        position += len(_token_bytes(entry))
    if b"".join(_token_bytes(entry) for entry in entries).rstrip() != encoded.rstrip():
        return None
    key_probabilities = []
    for key, value in intent.items():
        span = _value_span(encoded, key, value)
        if span is None:
            continue
        allowed = list(dict.fromkeys([value, *alternatives.get(key, [])]))
        key_probabilities.append(_key_probability(encoded, span, allowed, entries, offsets))
    return min(key_probabilities) if key_probabilities else None

