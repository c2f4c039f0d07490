"""The keyword router: which micro parser (dns, user, samba) a command belongs to, if any.

It reads canonical words (typos corrected) and typed entities. A domain scores one point per
keyword it owns (two for a decisive one); an IP address or a hostname with a known top-level
domain counts for DNS. The highest score wins; ties go to samba, then user, then dns, because
share-access wording ("give X access to the Y share") often mentions a user too. Nothing scored
means ``unknown``: the query goes to the general model, or comes back ``unknown``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from optimizer.intents.text import entities, words

# With the schema's action names used as commands ("remove_user jdoe"); the rules read them as words.
_DECISIVE = {
    "dns": {"dns", "cname", "aaaa", "mx", "ptr", "txt", "srv", "alias", "canonical", "zone", "dns_add", "dns_remove"},
    "user": {"password", "passwd", "group", "membership", "useradd", "userdel", "usermod", "username", "gpasswd", "adduser",
             "add_user", "remove_user", "add_to_group", "change_password"},
    "samba": {"share", "shares", "samba", "smb", "cifs", "access", "accessing", "permission", "permissions", "create_share",
              "grant_access", "revoke_access"},
    "mail": {"mail", "email", "e-mail", "mailbox", "inbox", "smtp", "imap"},
}
_PLAIN = {
    "dns": {"record", "records", "resolve", "hostname", "host", "ip", "ipv6", "ipv4", "nameserver", "lookup"},
    "user": {"user", "users", "account", "accounts", "login", "member", "offboard", "onboard", "deprovision"},
    # "grant"/"revoke" without a group word are most often share access ("revoke bob from design").
    "samba": {"folder", "directory", "read/write", "mount", "grant", "revoke", "rw", "read-only", "readonly", "read-write"},
    "mail": {"mailing", "newsletter"},
}
_TIE_ORDER = ("samba", "user", "dns", "mail")
# A chat-ops command names its domain first: "/dns rm HOST", "/user add NAME PASS", "/share grant USER SHARE".
_SLASH_COMMAND = re.compile(r"^\s*/(dns|users?|groups?|shares?|samba|smb)\s+\S", re.IGNORECASE)
_SLASH_DOMAIN = {"dns": "dns", "user": "user", "users": "user", "group": "user", "groups": "user", "share": "samba", "shares": "samba",
                 "samba": "samba", "smb": "samba"}
_KNOWN_TLDS = {"local", "lan", "com", "net", "org", "io", "internal", "arpa", "test", "intra", "corp", "dev", "home", "example"}
_LET_INTO = re.compile(r"\b(?:let|allow)\s+\S+\s+into\b", re.IGNORECASE)
# The message itself, not a mail request: "Following up on my email:", "Re: your mail -", "as per the e-mail below".
_THE_MESSAGE = re.compile(
    r"\b(?:my|your|our|his|her|their|the|this|that|per|via|by|in|over|an|last)\s+(?:previous\s+|last\s+|earlier\s+|recent\s+)?"
    r"(?:e-?mail|mail)s?\b(?!\s*(?:box|server|account|address|alias|group|list|relay|record|domain|flow|queue|quota|forwarding)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DomainRoute:
    domain: str
    scores: dict[str, int] = field(default_factory=dict)


def route_domain(text: str) -> DomainRoute:
    """Pick ``dns``, ``user``, ``samba``, ``mail`` or ``unknown`` for a cleaned command text."""
    scores = dict.fromkeys(_TIE_ORDER, 0)
    slash = _SLASH_COMMAND.match(text)
    if slash:
        return DomainRoute(_SLASH_DOMAIN[slash.group(1).lower()], scores)
    text = _THE_MESSAGE.sub(lambda match: " " * len(match.group()), text)
    for word in words(text):
        for domain in _TIE_ORDER:
            if word.canonical in _DECISIVE[domain] or word.bare in _DECISIVE[domain]:
                scores[domain] += 2
            elif word.canonical in _PLAIN[domain] or word.bare in _PLAIN[domain]:
                scores[domain] += 1
    for entity in entities(text):
        if entity.kind in ("ipv4", "ipv6"):
            scores["dns"] += 2
        elif entity.kind == "host" and (entity.value.startswith("*.") or entity.value.rstrip(".").rsplit(".", 1)[-1].lower() in _KNOWN_TLDS):
            scores["dns"] += 1
        elif entity.kind == "path":
            scores["samba"] += 1
    if _LET_INTO.search(text):
        scores["samba"] += 2
    best = max(scores.values())
    if best == 0:
        return DomainRoute("unknown", scores)
    return DomainRoute(next(domain for domain in _TIE_ORDER if scores[domain] == best), scores)
