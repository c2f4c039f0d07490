"""From a model's text to a valid intent: find the JSON, validate it, normalise it, check it.

Normalisation forgives what does not change the meaning: key and action spelling, quotes around a
value, a possessive ``'s``, the record type's case, a record type that contradicts the address,
keys the action does not use, and a value whose case differs from the command (it is replaced by
the command's own spelling). What cannot be forgiven raises ``InvalidIntentError``: no JSON, an
action outside the allowed ones, a missing value, a value that is not in the command at all (a
hallucination, or a prompt injection trying to smuggle in ``rm -rf``), or one value filling two
keys (a CNAME to itself, a user as their own group): a small model under a span grammar tends to
copy the span it has just written, and a command that means that is vanishingly rare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from optimizer.tasks.parsers import parse_json_fields
from optimizer.intents.models import Action, InvalidIntentError, IntentModel, ip_version, validate_intent, value_keys
from optimizer.intents.text import NAME_KEYS, glued_to_shell_syntax

INTENT_KEYS = ("action", "zone", "record_type", "ip", "target", "username", "password", "group", "name", "path", "share")
_VERBATIM_EXEMPT = ("action", "record_type")


def _clean(value: Any) -> str:
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        text = text[1:-1].strip()
    return text


def _verbatim(value: str, command: str) -> str:
    """``value`` as spelt in ``command`` (case-insensitively found), else ``InvalidIntentError``."""
    if value in command:
        return value
    match = re.search(re.escape(value), command, re.IGNORECASE)
    if match is None:
        raise InvalidIntentError(f"value {value[:60]!r} is not in the command")
    return match.group()


def normalize_fields(fields: dict[str, Any], command: str, allowed_actions: Iterable[Action]) -> IntentModel:
    """Normalise and validate already-extracted fields against the command they came from."""
    action_text = re.sub(r"[\s\-]+", "_", _clean(fields.get("action", ""))).lower()
    allowed = {action.value for action in allowed_actions} | {Action.unknown.value}
    if action_text not in allowed:
        raise InvalidIntentError(f"action {action_text!r} is not one of {', '.join(sorted(allowed))}")
    action = Action(action_text)
    normalized: dict[str, str] = {"action": action.value}
    for key in value_keys(action):
        if key not in fields or fields[key] is None or _clean(fields[key]) == "":
            continue
        value = _clean(fields[key])
        if key == "username" and value.lower().endswith("'s"):
            value = value[:-2]
        normalized[key] = value if key in _VERBATIM_EXEMPT else _verbatim(value, command)
    values = [value for key, value in normalized.items() if key not in _VERBATIM_EXEMPT]
    for key, value in normalized.items():
        if key in NAME_KEYS and glued_to_shell_syntax(value, command):
            raise InvalidIntentError(f"{action.value}.{key}: {value[:60]!r} runs into shell syntax in the command")
    if len(set(values)) < len(values):
        raise InvalidIntentError(f"{action.value}: one value fills two keys ({', '.join(values)})")
    if action is Action.dns_add:
        if "ip" in normalized:
            normalized.pop("target", None)
            normalized["record_type"] = "AAAA" if ip_version(normalized["ip"]) == 6 else "A"
        elif "target" in normalized:
            normalized["record_type"] = "CNAME"
    return validate_intent(normalized)


def normalize_model_output(content: str, command: str, allowed_actions: Iterable[Action]) -> IntentModel:
    """The intent a model's reply states about ``command``; ``InvalidIntentError`` if none."""
    fields = parse_json_fields(content or "", INTENT_KEYS)
    if not fields:
        raise InvalidIntentError("the reply holds no JSON object with intent keys")
    return normalize_fields(fields, command, allowed_actions)
