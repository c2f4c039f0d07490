"""The deterministic parser: regular patterns over the typo-corrected command, per domain.

It is both the fast path (when it is certain) and the fallback of the micro model (when the
model's output is invalid or unsure). It follows golden/README_intents.md's labelling rules:
values are copied verbatim, a missing required value means ``unknown``, and questions,
negations and unsupported operations mean ``unknown``.

The rules are *certain* only when a pattern matched fully; anything else is *no opinion*, and the
model decides. Each result has a ``kind`` (what decided; the calibration bins of
``calibration.py``) and a raw confidence:

- ``match`` (``CERTAIN``, 0.95): a pattern for the action matched and every value was found;
- ``typo`` (``TYPO``, 0.8): the same, but only after correcting a misspelt keyword;
- ``refusal`` (``DEFINITE``, 0.9): a pattern that means ``unknown`` matched fully (a question, a
  negation, an unsupported operation or record type, mail) or a value failed its field's schema;
- ``partial`` (``PARTIAL``, 0.3): an action's cue matched but a value was not found; ``unknown``
  is what the rules say, but a phrasing they do not know looks the same, so it is no opinion;
- ``none`` (``NO_OPINION``, 0.0): the domain is known but no pattern matched;
- ``unplaced`` (``UNPLACED``, 0.6): the keyword router placed the query nowhere; the rules say
  ``unknown`` with no pattern behind it (most such queries are chit-chat, so its calibrated
  confidence is high, and a general model has to be surer than that to turn it into a command).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from optimizer.intents.models import UNKNOWN, InvalidIntentError, IntentModel, validate_intent
from optimizer.intents.text import NAME_KEYS, STOPWORDS, corrected_text, entities, glued_to_shell_syntax

CERTAIN = 0.95
DEFINITE = 0.9
TYPO = 0.8
PARTIAL = 0.3
NO_OPINION = 0.0
CERTAIN_KINDS = frozenset({"match", "typo", "refusal"})
UNPLACED = 0.6
RAW_CONFIDENCE = {"match": CERTAIN, "typo": TYPO, "refusal": DEFINITE, "partial": PARTIAL, "none": NO_OPINION, "unplaced": UNPLACED}

_FLAGS = re.IGNORECASE
# A value is never a stopword: the look-ahead makes a pattern try its next reading instead.
_NEVER_NAMES = STOPWORDS | frozenset("add create delete remove drop make set grant revoke give change reset username password passwd".split())
_NOT_STOPWORD = r"(?!['\"]?(?:" + "|".join(sorted(_NEVER_NAMES, key=len, reverse=True)) + r")(?![\w.\-]))"
_NAME = _NOT_STOPWORD + r"(?:'[^'\s]+'|\"[^\"\s]+\"|\w[\w.\-]*)"
_SLOTS = {
    "U": rf"(?P<user>{_NAME})",
    "S": rf"(?P<share>{_NAME})",
    "N": rf"(?P<name>{_NAME})",
    # A group may run on over Title-case words ("Domain Admins"); the case test ignores re.I.
    "G": rf"(?P<group>(?:{_NAME})(?:\s+(?-i:[A-Z][a-z][\w\-]*))*)",
    "PW": r"(?P<password>'[^']+'|\"[^\"]+\"|\S+)",
}
_PASSWORD_STOPWORDS = frozenset("the a an his her it its to for is be something anything same new".split())

_WRAPPERS = [
    re.compile(pattern, _FLAGS)
    for pattern in (
        r"^(?:hey|hi|hello|yo|ok|okay|so|also|and|thanks)\b[\s,!.:;-]*",
        r"^(?:quick one|one more thing|heads up)\s*[:,!.-]\s*",
        r"^(?:as part of|since|because|when|after|before|once|if)\b[^,]{0,80},\s*",
        r"^(?:please|kindly)\b[\s,]*",
        r"^(?:would|do)\s+you\s+mind\s+",
        r"^(?:would|will)\s+it\s+be\s+possible\s+to\s+",
        r"^(?:could|can|would|will)\s+you\s+(?:please\s+|kindly\s+)?",
        r"^i'd\s+appreciate\s+it\s+if\s+you\s+could\s+",
        r"^(?:i\s+think\s+)?(?:we|i)\s+(?:need|want|would\s+like)\s+to\s+",
        r"^(?:i'd|i\s+would)\s+like\s+(?:you\s+)?to\s+",
    )
]
_QUESTION_WORDS = frozenset(
    "why how what what's whats which who whom whose where when is are was were should does do did am can could".split()
)
_NEGATION = re.compile(r"\b(?:don't|dont|do\s+not|never|shouldn't|should\s+not|won't|must\s+not)\b", _FLAGS)
_UNSUPPORTED_VERBS = frozenset(
    """
    list show display rename restart reload fix check lookup find count lock unlock tell explain describe
    mount unmount ping debug troubleshoot help
    """.split()
)


@dataclass(frozen=True)
class RuleParse:
    """What the rules make of a command, how sure they are, and which rule decided."""

    intent: IntentModel
    confidence: float
    reason: str
    kind: str = "match"

    @property
    def is_unknown(self) -> bool:
        return self.intent.action.value == "unknown"

    @property
    def certain(self) -> bool:
        """A pattern matched fully; otherwise the rules have no opinion and the model decides."""
        return self.kind in CERTAIN_KINDS


_TRAILING_WRAPPERS = re.compile(
    r"(?:[\s,;]+(?:please|pls|thanks|thank\s+you(?:\s+(?:very\s+much|so\s+much|in\s+advance))?|thx|cheers|if\s+possible|"
    r"asap|as\s+soon\s+as\s+(?:possible|you\s+can)|when\s+you\s+(?:get|have)\s+a\s+(?:chance|moment|minute|sec(?:ond)?)|"
    r"when\s+you\s+can|at\s+your\s+(?:earliest\s+)?convenience|today|now|right\s+away))+[\s.!?]*$",
    _FLAGS,
)


_ACTION_NAME = re.compile(
    r"(?:\baction\s*[:=]\s*)?\b(dns_add|dns_remove|add_user|remove_user|add_to_group|change_password|create_share|grant_access"
    r"|revoke_access)\b", _FLAGS
)


def spell_action_names(text: str) -> str:
    """The schema's action names used as commands ("add_user username=x", "action=dns_add ...")
    spelt as words ("add user username=x"), so the verb patterns see them; values are untouched."""
    return _ACTION_NAME.sub(lambda match: match.group(1).replace("_", " "), text)


def strip_wrappers(text: str) -> str:
    """Remove polite wrappers and leading context clauses ("Could you please", "As part of X, ")
    and trailing courtesies (", thank you", "when you get a chance", "asap")."""
    previous = None
    while previous != text:
        previous = text
        for wrapper in _WRAPPERS:
            text = wrapper.sub("", text, count=1)
        text = _TRAILING_WRAPPERS.sub("", text)
    return text.strip()


def _first_word(text: str) -> str:
    match = re.match(r"\s*([\w'’]+)", text)
    return match.group(1).lower().replace("’", "'") if match else ""


def _clean_value(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _find(patterns: Sequence[str], text: str, slot: str, stopwords: frozenset[str] = STOPWORDS) -> str | None:
    """The first value of ``slot`` found by the patterns, in order, that is not a stopword."""
    for pattern in patterns:
        for match in re.finditer(pattern.format(**_SLOTS), text, _FLAGS):
            value = _clean_value(match.group(slot))
            if slot != "password":
                value = value.rstrip(".-")
            elif match.end(slot) < len(text):
                value = value.rstrip(",;")  # "password Foo1, thanks": the comma ends the sentence, not the password
            if value and value.lower() not in stopwords and not value.startswith("/"):
                return value
    return None


def _find_pair(patterns: Sequence[str], text: str) -> tuple[str, str] | None:
    """(user, share) from the first pattern that yields both and neither is a stopword."""
    for pattern in patterns:
        for match in re.finditer(pattern.format(**_SLOTS), text, _FLAGS):
            user = _clean_value(match.group("user")).rstrip(".-")
            share = _clean_value(match.group("share")).rstrip(".-")
            if user.lower() not in STOPWORDS and share.lower() not in STOPWORDS:
                return user, share
    return None


def _unknown(kind: str, reason: str) -> RuleParse:
    return RuleParse(UNKNOWN, RAW_CONFIDENCE[kind], reason, kind)


def _intent(fields: dict[str, str | None], reason: str, kind: str = "match") -> RuleParse:
    """Build the intent; a missing value (``None``) makes it a partial match (no opinion), a value
    that fails its field's schema a refusal (``unknown``, whoever would have extracted it)."""
    missing = [key for key, value in fields.items() if value is None]
    if missing:
        return _unknown("partial", f"{fields['action']}: no {', '.join(missing)} found")
    try:
        return RuleParse(validate_intent(fields), RAW_CONFIDENCE[kind], reason, kind)
    except InvalidIntentError as exc:
        return _unknown("refusal", f"{fields['action']}: {exc}")


# DNS ------------------------------------------------------------------------------------------

_DNS_UNSUPPORTED_TYPE = re.compile(r"\b(?:mx|txt|srv|ptr|soa|spf|caa|ns)\s+(?:record|entry)", _FLAGS)
_DNS_REMOVE = re.compile(
    r"\b(?:remove|delete|drop|purge|unregister|deregister|erase|get\s+rid\s+of|take\b.*\bout\s+of)\b", _FLAGS
)
_CNAME_WORDS = re.compile(r"\b(?:cname|alias|canonical)\b", _FLAGS)


def _dns(core: str) -> RuleParse:
    if _DNS_UNSUPPORTED_TYPE.search(core):
        return _unknown("refusal", "dns: unsupported record type")
    found = entities(core)
    hosts = [entity.value for entity in found if entity.kind == "host"]
    addresses = [entity for entity in found if entity.kind in ("ipv4", "ipv6")]
    if _DNS_REMOVE.search(core):
        return _intent({"action": "dns_remove", "zone": hosts[0] if hosts else None}, "dns: remove + hostname")
    if addresses:
        if _CNAME_WORDS.search(core):
            return _unknown("partial", "dns: a CNAME cannot point at an address")
        address = addresses[0]
        record_type = "AAAA" if address.kind == "ipv6" else "A"
        kind = "match" if len(hosts) == 1 and len(addresses) == 1 else "typo"
        return _intent(
            {"action": "dns_add", "zone": hosts[0] if hosts else None, "record_type": record_type, "ip": address.value},
            f"dns: hostname + {address.kind}",
            kind,
        )
    if len(hosts) >= 2:
        kind = "match" if len(hosts) == 2 else "typo"
        return _intent(
            {"action": "dns_add", "zone": hosts[0], "record_type": "CNAME", "target": hosts[1]}, "dns: hostname -> hostname", kind
        )
    return _unknown("partial", "dns: no hostname with an address or target")


# Users ----------------------------------------------------------------------------------------

_REMOVE_VERBS = r"(?:delete|remove|drop|erase|kill|offboard|userdel|get\s+rid\s+of|deprovision|deactivate|terminate)"
_FROM_GROUP = re.compile(rf"\b{_REMOVE_VERBS}\b.*\bfrom\s+(?:the\s+|a\s+)?(?:\S+\s+)?group\b", _FLAGS)
_GROUP_CUE = re.compile(r"\b(?:group|membership|member)\b|\busermod\b", _FLAGS)
_CHANGE_CUE = re.compile(r"\b(?:change|reset|update|rotate|forgot|passwd)\b|\bnew\s+password\b|\bset\b(?!\s+up\b)", _FLAGS)
_PASSWORD_WORD = re.compile(r"\b(?:password|passwd)\b", _FLAGS)
_ADD_USER_CUE = re.compile(
    r"\b(?:create|add|register|make|set\s*up|new|provision|onboard|useradd)\b.*\b(?:user|account|login)\b|\buseradd\b"
    r"|\b(?:user(?:name)?|account|login)\b.*\b(?:create|add|register|new|provision|onboard)\b", _FLAGS
)
_REMOVE_USER_CUE = re.compile(rf"\b{_REMOVE_VERBS}\b", _FLAGS)

_GROUP_USER = (
    r"\busermod\s+-aG\s+\S+\s+{U}",
    r"\buser(?:name)?\s*[:=]\s*{U}",
    r"\busername\s+is\s+{U}",
    r"\b(?:add|put|include|enroll|join|assign|place)\s+(?:the\s+)?(?:user\s+)?{U}\s+(?:to|in|into)\b",
    r"\b{U}\s+(?:is\s+|becomes\s+)?(?:a\s+)?member\s+(?:of|in)\b",
    r"\b(?:grant|give)\s+(?:user\s+)?{U}\s+(?:a\s+)?membership\b",
    # Word order: "To the group netadmins, add user rui".
    r"^(?:to|into|in)\s+(?:the\s+)?group\s+\S+\s*,?\s*(?:add|put|include|enroll|assign|place)\s+(?:the\s+)?(?:user\s+)?{U}",
)
_GROUP_NAME = (
    r"\busermod\s+-aG\s+{G}",
    r"\bgroup\s*[:=]\s*{G}",
    r"\bmember(?:ship)?\s+(?:of|in)\s+(?:the\s+)?(?:group\s+)?{G}",
    r"\bgroup\s+{G}",
    r"\b(?:the|a)\s+{G}\s+group\b",
)
# "user: NAME", "user=NAME", "username NAME": a key and its value, as in terse and key=value forms.
_KEYED = r"(?:\s*[:=]\s*|\s+)"
_NEW_USER = (
    r"\buseradd\s+{U}",
    r"\b(?:user(?:name)?|account|login)" + _KEYED + r"(?:for\s+)?(?:called\s+|named\s+)?{U}",
    r"\b(?:user|account|login)\s+(?:add|create)\s*:\s*{U}",
)
_NEW_PASSWORD = (
    r"\bpassword\s*(?:is\s+|=\s*|:\s*|of\s+)?{PW}",
    r"\b(?:user(?:name)?|account|login)" + _KEYED + r"(?:called\s+|named\s+)?[\w.\-]+\s*/\s*{PW}",
)
_OLD_USER = (
    r"\buserdel\s+{U}",
    r"\b(?:user(?:name)?|account|login)" + _KEYED + r"(?:account\s+)?(?:for\s+|of\s+|belonging\s+to\s+)?{U}",
)
_PASSWORD_OWNER = (
    r"\bpasswd\s+{U}",
    r"\b(?:password|passwd)\s+(?:change|reset|update)\s*[:=]\s*(?:user\s+)?{U}",
    r"\buser(?:name)?\s*[:=]\s*{U}",
    r"\b{U}'s\s+(?:new\s+)?password\b",
    r"\b(?:password|passwd)\s+(?:for|of)\s+(?:the\s+)?(?:user\s+|account\s+)?{U}",
    r"\buser\s+{U}",
    r"\b{U}\s+(?:password|forgot)\b",
)
_CHANGED_PASSWORD = (
    r"\b(?:password|passwd)\s+(?:for|of)\s+(?:user\s+)?[\w.\-]+\s*:\s*{PW}",
    r"\bpasswd\s+\S+\s+{PW}",
    r"\s(?:->|=>|→)\s*{PW}",
    r"\bpassword\s*:\s*{PW}",
    r"\bnew\s+password\s+(?:is\s+)?{PW}",
    r"\bto\s+{PW}",
    r"\bis\s+{PW}",
)


def _user(core: str) -> RuleParse:
    if _FROM_GROUP.search(core):
        return _unknown("refusal", "user: removing from a group is not supported")
    if _GROUP_CUE.search(core):
        return _intent(
            {"action": "add_to_group", "username": _find(_GROUP_USER, core, "user"), "group": _find(_GROUP_NAME, core, "group")},
            "user: add to group",
        )
    if _PASSWORD_WORD.search(core) and _CHANGE_CUE.search(core):
        username = _find(_PASSWORD_OWNER, core, "user")
        password = _find(_CHANGED_PASSWORD, core, "password", _PASSWORD_STOPWORDS)
        return _intent({"action": "change_password", "username": username, "password": password}, "user: change password")
    if _ADD_USER_CUE.search(core):
        username = _find(_NEW_USER, core, "user")
        password = _find(_NEW_PASSWORD, core, "password", _PASSWORD_STOPWORDS)
        return _intent({"action": "add_user", "username": username, "password": password}, "user: create with password")
    if _REMOVE_USER_CUE.search(core):
        return _intent({"action": "remove_user", "username": _find(_OLD_USER, core, "user")}, "user: remove")
    return _unknown("none", "user: no pattern matched")


# Samba ----------------------------------------------------------------------------------------

_REVOKE_CUE = re.compile(
    r"\b(?:revoke|remove|delete|drop|destroy|deny|block|kick|take\s+away|cut\s+off|withdraw|disable|stop|no\s+longer|prevent|ban"
    r"|rescind)\b", _FLAGS
)
_GRANT_CUE = re.compile(r"\b(?:give|grant|let|allow|open|provide|enable|authori[sz]e|add|permit)\b", _FLAGS)
_CREATE_CUE = re.compile(r"\b(?:create|set\s*up|make|new|add|export|publish|need)\b", _FLAGS)
_ACCESS_PATTERNS = (
    r"\bsmb\s+(?:grant|revoke)\s+{U}\s+{S}",
    r"\buser(?:name)?\s*[:=]\s*{U}[\s,;]+share\s*[:=]\s*{S}",
    r"\bshare\s*[:=]\s*{S}[\s,;]+user(?:name)?\s*[:=]\s*{U}",
    # Word order: "grant access on share X to user Y", "revoke access to X from Y".
    r"\b(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|take\s+away|cut\s+off|disable|deny|block)\s+"
    r"(?:\w+\s+)?access\s+(?:on|to|for)\s+(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?\s+(?:to|for|from)\s+(?:the\s+)?(?:user\s+)?{U}",
    r"\baccess\s+(?:to|on)\s+(?:the\s+)?share\s+{S}\s+for\s+(?:the\s+)?(?:user\s+)?{U}",
    # The share fronted: "On the share payroll, remove access for user tobias".
    (r"^(?:on|for|to|from)\s+(?:the\s+)?share\s+{S}\s*,?\s*(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|"
     r"take\s+away|cut\s+off|disable|deny|block)\s+(?:\w+\s+)?access\s+(?:for|to|from|of)\s+(?:the\s+)?(?:user\s+)?{U}"),
    # The user fronted: "For user gustav, revoke access to the share archive2019".
    (r"^(?:for|from)\s+(?:the\s+)?user\s+{U}\s*,?\s*(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|"
     r"take\s+away|cut\s+off|disable|deny|block)\s+(?:\w+\s+)?access\s+(?:to|on|for|from)\s+(?:the\s+)?(?:share\s+)?{S}"),
    r"\baccess\s+(?:for|of)\s+(?:the\s+)?(?:user\s+)?{U}\s+(?:on|to)\s+(?:the\s+)?(?:share\s+)?{S}",
    r"\b{U}'s\s+(?:\w+\s+)?(?:access|permissions?|rights)\s+(?:to|on|for)\s+(?:the\s+)?(?:share\s+)?{S}",
    r"\bopen\s+(?:up\s+)?(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?\s+(?:to|for)\s+(?:the\s+)?(?:user\s+)?{U}",
    r"\b{U}\s+should\s+no\s+longer\s+(?:have\s+)?(?:access|be\s+able\s+to\s+access)\s+(?:to\s+)?(?:the\s+)?(?:share\s+)?{S}",
    r"\b(?:give|grant|let|allow|provide|authori[sz]e|permit|deny|block|kick|remove|stop|add|enable|disable|revoke|ban|prevent)"
    r"\s+(?:the\s+)?(?:user\s+)?{U}\s+(?:\S+\s+){{0,3}}?(?:to|on|into|from|of|reach|for)\s+(?:(?:access(?:ing)?|use|using|reach)\s+)?"
    r"(?:the\s+)?(?:share\s+)?{S}",
)
_SHARE_NAME = (
    r"\b(?:share\s*)?name\s*[=:]\s*{N}",
    r"\b(?:called|named)\s+{N}",
    r"\bunder\s+the\s+name\s+{N}",
    r"\bas\s+(?:a\s+)?(?:samba\s+|file\s+)?share\s+(?:called\s+|named\s+)?{N}",
    r"\bshare\s*[=:]?\s*{N}",
    # Word order: "Share the folder /srv/x as data".
    r"\bas\s+(?:the\s+)?{N}",
)


def _samba(core: str) -> RuleParse:
    paths = [entity.value for entity in entities(core) if entity.kind == "path"]
    if paths:
        return _intent({"action": "create_share", "name": _find(_SHARE_NAME, core, "name"), "path": paths[0]}, "samba: share at a path")
    revoke, grant = _REVOKE_CUE.search(core), _GRANT_CUE.search(core)
    if revoke or grant:
        action = "revoke_access" if revoke else "grant_access"
        pair = _find_pair(_ACCESS_PATTERNS, core)
        if pair is None:
            return _unknown("partial", f"samba: {action} without a user and a share")
        return _intent({"action": action, "username": pair[0], "share": pair[1]}, f"samba: {action}")
    if _CREATE_CUE.search(core):
        return _unknown("partial", "samba: create_share without a path")
    return _unknown("none", "samba: no pattern matched")


_BY_DOMAIN: dict[str, Callable[[str], RuleParse]] = {"dns": _dns, "user": _user, "samba": _samba}


def parse_with_rules(text: str, domain: str) -> RuleParse:
    """Parse a cleaned command routed to ``domain``; never raises."""
    if not text:
        return _unknown("refusal", "empty input")
    corrected, corrections = corrected_text(text)
    core = strip_wrappers(spell_action_names(corrected))
    first = _first_word(core)
    if first in _QUESTION_WORDS:
        return _unknown("refusal", "a question, not a command")
    if _NEGATION.search(core):
        return _unknown("refusal", "a negated command")
    if first in _UNSUPPORTED_VERBS:
        return _unknown("refusal", f"unsupported operation {first!r}")
    if domain not in _BY_DOMAIN:
        return _unknown("refusal" if domain == "mail" else "unplaced", f"no parser for domain {domain!r}")
    parsed = _BY_DOMAIN[domain](core)
    if parsed.is_unknown:
        return parsed
    values = [value for key, value in parsed.intent.as_dict().items() if key not in ("action", "record_type")]
    if any(value not in text for value in values):
        return _unknown("none", "a value is not verbatim in the input")
    glued = [key for key, value in parsed.intent.as_dict().items() if key in NAME_KEYS and glued_to_shell_syntax(value, text)]
    if glued:
        return _unknown("refusal", f"{parsed.intent.action.value}: {glued[0]} runs into shell syntax in the command")
    if corrections:
        return RuleParse(parsed.intent, TYPO, f"{parsed.reason} (typo: {', '.join(corrections)})", "typo")
    return parsed
