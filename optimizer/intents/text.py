"""Input text: cleaning untrusted input, words with typo correction, and typed entities.

Everything here is deterministic and cheap; the keyword router, the rules and the grammar builder
all read the same ``Word`` and ``Entity`` lists so they agree on what the input contains.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from optimizer.intents.models import ip_version

MAX_INPUT_CHARS = 1000
"""Longer inputs are not commands; they come back ``unknown`` without reaching a model."""

_PUNCTUATION = ".,;:!?()[]{}\"'`"
_TRAILING = ",;:!?)]}\"'`"
_HOST = re.compile(
    r"(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?"
)
_PATH = re.compile(r"(?<![\w/])/(?!/)[^\s'\",;`]*")
"""An absolute path; not the ``//host/x`` of a URL (``smb://fs01/finance``)."""

KEYWORDS = frozenset(
    """
    add create delete remove record records password passwords grant revoke share shares group groups
    user users access change reset alias drop register update account accounts samba member membership
    insert entry point resolve canonical remove erase purge provision onboard offboard include enroll
    assign permission permissions withdraw block allow authorize provide enable disable revoke rename
    restart please address domain cname dns host hostname login folder directory useradd userdel usermod
    passwd smb cifs decommission unregister deregister give gpasswd adduser deprovision
    """.split()
)
_NOT_TYPOS = frozenset({"used", "name", "names", "shared", "grand", "hosts", "posts", "most", "range", "users", "chance", "makes",
                        "given", "five", "live", "dive", "hive", "gave",
                        "older",
                        # Words of group and share names ("Print Operators", "Remote Desktop Users") and prose ("unable to log in").
                        "print", "remote", "unable", "black", "charge", "clock", "giant", "joint", "logic", "paint", "post", "sharp",
                        "shore", "stare", "provider", "sentry", "invert", "alloy"})
"""Ordinary words one edit away from a keyword: never corrected."""
STOPWORDS = frozenset(
    """
    the a an user users account accounts login to from for with password new group share shares access
    him her them someone somebody everyone anyone everybody nobody me us it all his their this that named
    called at on in into of and or read write permission permissions please samba smb path folder
    directory name member is be as under located pointing so he she they we i you my our your its use
    using reach see have get
    """.split()
)
"""Words that are never a user, group or share name."""
HESITATIONS = frozenset("um uh uhm umm uhh erm er hmm ah eh like".split())
"""Spoken hesitations ("add user, um, atlas"): never a value."""
ALIASES = {"ad": "add", "grp": "group", "pw": "password", "pwd": "password", "pls": "please", "plz": "please",
           "u": "you", "rm": "remove", "dir": "directory", "rec": "record", "perms": "permissions", "perm": "permission",
           "addr": "address", "fldr": "folder", "pswd": "password", "pword": "password", "mbr": "member", "accnt": "account",
           "w/": "with", "rmv": "remove", "chg": "change", "chng": "change", "upd": "update", "giv": "give", "del": "delete", "usr": "user", "pass": "password", "acct": "account",
           # "Would you mind adding ...": a verb's -ing form reads as the verb.
           "adding": "add", "creating": "create", "removing": "remove", "deleting": "delete", "dropping": "drop",
           "granting": "grant", "revoking": "revoke", "giving": "give", "changing": "change", "resetting": "reset",
           "registering": "register", "setting": "set", "making": "make", "putting": "put", "allowing": "allow",
           "updating": "update", "provisioning": "provision", "erasing": "erase", "purging": "purge"}


SHELL_METACHARACTERS = frozenset(";|&$`<>(){}\\")
"""Characters that would turn a value into shell syntax if they were part of it."""
NAME_KEYS = ("zone", "target", "username", "group", "name", "share", "path")
"""Keys whose value must stand alone in the command (not the password, which may hold anything)."""


_NEXT_KEY = re.compile(
    r";\s+(?:[A-Za-z_]+\s*[:=]|(?:the\s+|his\s+|her\s+|their\s+|its\s+)?(?:new\s+)?(?:password|passwd|pw)\b"
    # A sentence of prose after the command ("revoke bob from hr; he's on leave"): a pronoun or a determiner opens it.
    r"|(?:he|she|they|it|we|i|you|his|her|their|its|our|my|the|this|that|these|those|there)(?:'s|'re|'ll|'d|'ve|'m)?\s+[A-Za-z]"
    # Or a courtesy that closes it ("create share x at /srv/x; thanks").
    r"|(?:thanks|thank\s+you|thx|ty|cheers|regards|please|pls|much\s+appreciated)\b(?!\s*[=(|&;$`<>]))",
    re.IGNORECASE,
)
"""What may follow a list separator ";": the next key ("; password: x") or a clause about the password ("; the password is x")."""
_FIELD_SEGMENT = re.compile(
    r"\s*(?:(?:record\s+)?type(?:\s*[:=]\s*|\s+)(?:a|aaaa|cname)"
    r"|(?:addr|address|ip|ipv4|ipv6)(?:\s*[:=]\s*|\s+)[0-9a-f]*[0-9:][0-9a-f:.]*"
    r"|(?:name|target|zone|record|user|username|login|share|group|path|password|passwd|pwd|pw|pass|alias|cname)(?:\s*[:=]\s*|\s+)"
    r"[^\s;|&$`<>(){}\\]+)\s*",
    re.IGNORECASE,
)
"""One field of a ";"-separated list written without ":" or "=" ("record type AAAA; name x.lan; addr fd00::1")."""


def _field_list_after(text: str, semicolon: int) -> bool:
    """Whether everything after the ";" at ``semicolon`` is fields of a list ("; addr 10.0.0.1; type A"), no shell command."""
    return all(_FIELD_SEGMENT.fullmatch(segment) for segment in text[semicolon + 1:].split(";"))


def _aside_closes(text: str, close: int) -> bool:
    """Whether the ")" at ``close`` ends an aside opened in prose ("(ticket 12: drop x.lan)"), not a "$(" substitution."""
    depth = 0
    for index in range(close - 1, -1, -1):
        if text[index] == ")":
            depth += 1
        elif text[index] == "(":
            if depth:
                depth -= 1
                continue
            return index == 0 or text[index - 1].isspace()
    return False


def glued_to_shell_syntax(value: str, text: str) -> bool:
    """Whether every occurrence of ``value`` in ``text`` touches a shell metacharacter.

    ``bob`` out of ``Delete user bob;rm -rf /`` passes its own schema, but the user's value was
    ``bob;rm``: whoever extracted it, such an intent is refused rather than cut down to size.
    """
    lowered, needle = text.lower(), value.lower()
    start = lowered.find(needle)
    if not needle or start == -1:
        return False
    while start != -1:
        before = text[start - 1] if start > 0 else " "
        after = text[start + len(value)] if start + len(value) < len(text) else " "
        if after == ";" and (_NEXT_KEY.match(text, start + len(value)) or _field_list_after(text, start + len(value))):
            after = " "  # "username: bob; password: x": a list separator before the next key, not shell syntax
        if after == ")" and before not in SHELL_METACHARACTERS and _aside_closes(text, start + len(value)) \
                and re.match(r"\)\s*[.!?]*\s*$|\)\s", text[start + len(value):]):
            after = " "  # "(ticket 12: ivo should lose access to ops)": the bracket closes an aside in prose
        if before == "(" and after == ")" and (start < 2 or text[start - 2] not in "$`<>"):
            before = after = " "  # "(printer.lab.lan)": an aside in prose; "$(reboot)" stays shell syntax
        if before == "`" and after == "`" and (start < 2 or not (text[start - 2].isalnum() or text[start - 2] in "$`<>(")):
            before = after = " "  # "`web01.lan`": a value set in code style in prose (Markdown, chat), not a substitution
        if before not in SHELL_METACHARACTERS and after not in SHELL_METACHARACTERS:
            return False
        start = lowered.find(needle, start + 1)
    return True


def clean_input(raw: str | bytes) -> str:
    """Untrusted input -> one line of printable text (never raises).

    Bytes that are not UTF-8 become U+FFFD, lone surrogates (what a shell hands Python for such
    bytes) become ``?``; control and format characters become spaces; runs of whitespace become one space.
    """
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", errors="replace")
    else:
        text = str(raw).encode("utf-8", errors="replace").decode("utf-8")
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Word:
    """A whitespace-separated token: its text as written, where it is, and its canonical keyword."""

    text: str
    start: int
    end: int
    bare: str
    canonical: str
    corrected: bool


def _damerau_distance_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [index for index in range(len(a)) if a[index] != b[index]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:index] + longer[index + 1:] == shorter for index in range(len(longer)))


@lru_cache(maxsize=4096)
def canonical_keyword(bare: str) -> tuple[str, bool]:
    """(canonical form, whether a typo was corrected) for a lower-cased bare word.

    Only alphabetic words of four letters or more are corrected, and only to a keyword one edit
    (insert, delete, replace, swap) away, so values such as ``bob2`` or ``jdoe`` are left alone.
    """
    if bare in KEYWORDS:
        return bare, False
    if bare in ALIASES:
        return ALIASES[bare], False
    if len(bare) >= 4 and bare not in _NOT_TYPOS and bare.isalpha():
        matches = {keyword for keyword in KEYWORDS if len(keyword) >= 4 and _damerau_distance_at_most_one(bare, keyword)}
        if matches == {"password", "passwd"}:  # "passwrd": one edit from both spellings of the same word
            matches = {"password"}
        if len(matches) == 1:
            return matches.pop(), True
    return bare, False


_WORD = re.compile(r"[^\s=]+")
"""A word: whitespace and ``=`` separate words, so ``zone=app.local`` reads as ``zone`` and ``app.local``."""


def words(text: str) -> list[Word]:
    found = []
    for match in _WORD.finditer(text):
        bare = match.group().strip(_PUNCTUATION).lower()
        canonical, corrected = canonical_keyword(bare)
        found.append(Word(match.group(), match.start(), match.end(), bare, canonical, corrected))
    return found


def corrected_text(text: str) -> tuple[str, list[str]]:
    """``text`` with misspelt keywords and shorthands (``pw``, ``grp``, ``u``) spelt out, same spacing.

    Also returns the typo corrections made (``Grnat->grant``); shorthands are not typos.
    """
    pieces: list[str] = []
    corrections: list[str] = []
    position = 0
    lowered = text.lower()
    for word in words(text):
        if word.canonical == word.bare:
            continue
        core_start = lowered.index(word.bare, word.start)
        pieces.append(text[position:core_start])
        pieces.append(word.canonical)
        if word.corrected:
            corrections.append(f"{text[core_start:core_start + len(word.bare)]}->{word.canonical}")
        position = core_start + len(word.bare)
    pieces.append(text[position:])
    return "".join(pieces), corrections


@dataclass(frozen=True)
class Entity:
    kind: str  # ipv4, ipv6, host or path
    value: str
    start: int


def strip_value(token: str) -> str:
    """A token without the punctuation around it; a hostname's trailing dot is kept."""
    token = token.lstrip("(['\"`").rstrip(_TRAILING)
    return token


def entities(text: str) -> list[Entity]:
    """IP addresses, hostnames (wildcards and trailing dots kept) and absolute paths, in order."""
    found: list[Entity] = []
    for match in _WORD.finditer(text):
        token = strip_value(match.group())
        if not token or token.startswith("/"):
            continue
        version = ip_version(token.rstrip("."))
        if version is not None:
            found.append(Entity(f"ipv{version}", token.rstrip("."), match.start()))
        elif _HOST.fullmatch(token):
            found.append(Entity("host", token, match.start()))
    for match in _PATH.finditer(text):
        path = match.group().rstrip(".)]}>?!:")  # sentence punctuation after a path is not part of it
        if len(path) > 1:
            found.append(Entity("path", path, match.start()))
    return sorted(found, key=lambda entity: entity.start)
