"""Constrained decoding: a GBNF grammar for the intent schema whose values are spans of the input.

llama.cpp's ``grammar`` field makes the model emit exactly one compact JSON intent of the allowed
actions. Each string value may only be a span of the command itself (hostnames for ``zone``, IPv4
or IPv6 addresses for ``ip``, paths for ``path``, words for names), so the model cannot invent a
value, and an action whose values the command lacks is not offered at all: "Add user peter" has no
password span, so ``add_user`` cannot be produced. ``unknown`` is always allowed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from optimizer.intents.models import Action, actions_for, value_keys
from optimizer.intents.text import ALIASES, HESITATIONS, KEYWORDS, STOPWORDS, entities, strip_value

# Words a speaker fills a pause or greets with: never a name, a group or a share ("um so change
# the password for uh tomasz ...").
_FILLERS = HESITATIONS | frozenset("oh yeah yep yes ok okay hey hi hello thanks cheers".split())
# An English contraction ("she's", "i'll", "don't") is a word of the sentence, not a password.
_CONTRACTION = re.compile(r"[A-Za-z]+'(?:s|ll|re|ve|d|t|m)", re.IGNORECASE)
# A modal verb is a word of the sentence ("access to the share audit should no longer ..."), and an
# abbreviation of a field word ("pw", "grp", "acct") names the field, not its value.
_SENTENCE_WORDS = _FILLERS | STOPWORDS | frozenset(
    "should would could must might may can will shall not no needs need wants want requires require gets got has are was were been".split()) | frozenset(
    alias for alias, word in ALIASES.items() if word in STOPWORDS | KEYWORDS)
_NEVER_NAMES = _SENTENCE_WORDS | KEYWORDS
# A plain word with the sentence's punctuation after it ("she starts Monday.", "that fixed it!") ends the
# sentence; a password has a digit or a symbol of its own.
_WORD_AND_PUNCTUATION = re.compile(r"[(\[{'\"]*[A-Za-z]+[.,!?;:)\]}'\"]*")
_ACTION_NAMES = frozenset(action.value for action in Action)
_NOT_A_NAME = _NEVER_NAMES | _ACTION_NAMES
_FIELD_KEYS = _NOT_A_NAME | frozenset("action zone ip target record_type type username name group share pass".split())

_KIND_BY_KEY = {
    "zone": "host", "target": "host", "path": "path", "password": "password", "group": "group",
    "username": "name", "name": "name", "share": "name",
}


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _name_span(token: str) -> str:
    """A word as a name: punctuation, a possessive 's and a ``key=`` prefix removed."""
    value = strip_value(token).rstrip(".").rpartition("=")[2]
    return value[:-2] if value.lower().endswith("'s") else value


def value_candidates(text: str) -> dict[str, list[str]]:
    """The spans of ``text`` each kind of value may take, in order of appearance.

    Names are words that are not stopwords, keywords, modal verbs, fillers ("um", "yeah"),
    abbreviated field words ("pw") or action names; a group may also be two such words in a row
    ("Domain Admins"). A password is any word with a digit or a symbol in it, except a contraction
    ("she's"), a plain word with the sentence's punctuation after it ("Monday."), a slash command
    ("/user") or an action name ("add_user"): a plain word such as "peter" is a name, so "Add user
    peter" offers no ``add_user``.
    """
    found = entities(text)
    tokens = text.split()
    spans = [_name_span(token) for token in tokens]
    names = _unique([span for span in spans if re.search(r"\w", span) and not span.startswith(("/", "-"))
                     and span.lower() not in _NOT_A_NAME])
    bigrams = [f"{first} {second}" for first, second in zip(spans, spans[1:])
               if first.isalnum() and second.isalnum() and not {first.lower(), second.lower()} & _SENTENCE_WORDS]
    passwords: list[str] = []
    for token in tokens:
        unquoted = token.strip("'\"`")
        key = re.split(r"[=:]", unquoted, maxsplit=1)[0].lower()
        if not (key != token and key in _FIELD_KEYS):  # "username=gail": the field's name and its value, not a password
            passwords.append(unquoted.rstrip(",;"))
            # The sentence's mark or a closing bracket right after it ("password Fern-42.", "(pw Fern-42)"): both readings.
            passwords.append(unquoted.rstrip(",;.:)]}'\"`"))
        for separator in ("=", ":"):
            if separator in token:
                passwords.append(token.split(separator, 1)[1].strip("'\"`"))
    return {
        "ipv4": _unique([entity.value for entity in found if entity.kind == "ipv4"]),
        "ipv6": _unique([entity.value for entity in found if entity.kind == "ipv6"]),
        "host": _unique([entity.value for entity in found if entity.kind == "host"]),
        "path": _unique([entity.value for entity in found if entity.kind == "path"]),
        "name": names,
        "group": _unique(names + [bigram for bigram in bigrams if bigram in text]),
        "password": _unique([password for password in passwords
                             if re.search(r"[^A-Za-z]", password) and re.search(r"[A-Za-z0-9]", password) and len(password) > 1 and not _CONTRACTION.fullmatch(password)
                             and not _WORD_AND_PUNCTUATION.fullmatch(password) and not password.startswith("/")
                             and password.lower() not in _ACTION_NAMES]),
    }


def _literal(text: str) -> str:
    """A GBNF string literal for ``text``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def compact_json(intent: dict[str, str]) -> str:
    """The exact text the grammar produces for an intent (and few-shot answers should show)."""
    return json.dumps(intent, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class SpanGrammar:
    """The grammar for one command, and what each key could have been (for confidence)."""

    gbnf: str
    alternatives: dict[str, list[str]] = field(default_factory=dict)


def _branch(action: Action, sequence: dict[str, str]) -> str:
    """``{"action":"x","k1":<rule1>,...}`` as a GBNF sequence; ``sequence`` maps key -> rule or literal."""
    parts = [_literal('{"action":' + json.dumps(action.value))]
    for key, rule in sequence.items():
        parts.append(_literal(f',"{key}":'))
        parts.append(rule)
    parts.append(_literal("}"))
    return " ".join(parts)


def span_grammar(text: str, domain: str, only: str | None = None) -> SpanGrammar:
    """The grammar for ``text``: the domain's actions (all actions for an unplaced query) + ``unknown``.

    ``only``: offer that one action (and ``unknown``), e.g. the action a partial match named.
    """
    candidates = value_candidates(text)
    rules: dict[str, str] = {}
    alternatives: dict[str, list[str]] = {"action": [], "record_type": []}
    branches: list[str] = []

    def add_branch(action: Action, kinds: dict[str, str], record_type: str | None = None) -> None:
        """Offer ``action`` with each key's value drawn from its kind of span, if every kind has one."""
        if not all(candidates[kind] for kind in kinds.values()):
            return
        sequence: dict[str, str] = {}
        for key, kind in kinds.items():
            rules[f"v-{kind}"] = " | ".join(_literal(json.dumps(value, ensure_ascii=False)) for value in candidates[kind])
            sequence[key] = f"v-{kind}"
            alternatives.setdefault(key, []).extend(candidates[kind])
            if key == "zone" and record_type is not None:
                sequence["record_type"] = _literal(json.dumps(record_type))
        branches.append(_branch(action, sequence))
        alternatives["action"].append(action.value)
        if record_type is not None:
            alternatives["record_type"].append(record_type)

    for action in actions_for(domain):
        if only is not None and action.value != only:
            continue
        if action is Action.dns_add:
            add_branch(action, {"zone": "host", "ip": "ipv4"}, "A")
            add_branch(action, {"zone": "host", "ip": "ipv6"}, "AAAA")
            if len(candidates["host"]) >= 2:
                add_branch(action, {"zone": "host", "target": "host"}, "CNAME")
        elif action is not Action.unknown:
            add_branch(action, {key: _KIND_BY_KEY[key] for key in value_keys(action)})
    branches.append(_literal('{"action":"unknown"}'))
    alternatives["action"].append(Action.unknown.value)
    lines = ["root ::= " + " | ".join(f"b{number}" for number in range(len(branches)))]
    lines += [f"b{number} ::= {branch}" for number, branch in enumerate(branches)]
    lines += [f"{name} ::= {body}" for name, body in rules.items()]
    return SpanGrammar("\n".join(lines) + "\n", {key: _unique(values) for key, values in alternatives.items()})
