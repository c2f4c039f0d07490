"""Read-only kubectl commands: split with shlex into an argument list, checked word by word.

A model's command is never given to a shell and never run as a process: it is split into
arguments, every argument is checked (verb on the read-only list, flags on an allow-list, names
valid Kubernetes names), and the simulated cluster answers the list. Anything else is refused
with a one-line reason the trace shows.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from optimizer.errors import WorkbenchError

READ_ONLY_VERBS = ("get", "describe", "logs", "top", "events", "api-resources")
MAX_COMMAND_CHARS = 300
MAX_ARGUMENTS = 12
SHELL_SYNTAX = re.compile(r"[;|&$`<>\\(){}\n\r\t\x00]")
# A DNS-1123 subdomain; the first word (the kind) may also be capitalised, dotted and comma-listed.
NAME = r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?"
NAME_RE = re.compile(rf"^{NAME}$")
KIND_RE = re.compile(rf"^[A-Za-z][A-Za-z0-9.\-]*(?:,[A-Za-z][A-Za-z0-9.\-]*)*(?:/{NAME})?$")
SELECTOR_RE = re.compile(r"^[A-Za-z0-9._/=,!\-]{1,120}$")
VALUE_FLAGS = {"-n": "namespace", "--namespace": "namespace", "-c": "container", "--container": "container",
               "--tail": "tail", "-o": "output", "--output": "output", "-l": "selector", "--selector": "selector"}
BOOLEAN_FLAGS = {"-A": "all_namespaces", "--all-namespaces": "all_namespaces", "-p": "previous", "--previous": "previous"}
OUTPUT_FORMATS = ("wide",)
# Secret contents are no investigation's business (OWASP LLM08, excessive agency): any mention of
# the kind, in any spelling kubectl accepts (secret, secrets, Secret, secrets.v1, secret/NAME, a
# comma list), is refused; ``-o yaml|json`` is refused for every kind by OUTPUT_FORMATS.
SECRET_KINDS = frozenset({"secret", "secrets"})


class CommandRefused(WorkbenchError):
    """A tool call was refused before anything ran: a write verb, shell syntax, a flag or a name."""


@dataclass
class KubectlArgs:
    """A checked command: the verb, its positional words and the allowed flags."""

    verb: str
    targets: list[str]
    namespace: str = "default"
    all_namespaces: bool = False
    wide: bool = False
    container: str | None = None
    tail: int | None = None
    previous: bool = False
    selector: str | None = None

    @classmethod
    def parse(cls, argv: list[str] | tuple[str, ...]) -> "KubectlArgs":
        """Parse an argument list (checking it first, so a caller cannot skip the check)."""
        argv = check_arguments(list(argv))
        parsed = cls(verb=argv[0], targets=[])
        words = iter(argv[1:])
        for word in words:
            flag, has_value, inline = word.partition("=")
            if flag in VALUE_FLAGS:
                value = inline if has_value else next(words)
                field = VALUE_FLAGS[flag]
                if field == "output":
                    parsed.wide = True
                elif field == "tail":
                    parsed.tail = int(value)
                else:
                    setattr(parsed, field, value)
            elif flag in BOOLEAN_FLAGS:
                setattr(parsed, BOOLEAN_FLAGS[flag], True)
            else:
                parsed.targets.append(word)
        return parsed


def split_command(text: str) -> list[str]:
    """Split a model's command into arguments, refusing what no read-only command needs.

    The leading ``kubectl`` is optional. Raises ``CommandRefused`` with the reason.
    """
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandRefused(f"command is {len(text):,} characters; the limit is {MAX_COMMAND_CHARS}")
    syntax = SHELL_SYNTAX.search(text)
    if syntax:
        shown = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL byte"}.get(syntax.group(), repr(syntax.group()))
        raise CommandRefused(f"shell syntax {shown} is refused: commands run as an argument list, never through a shell")
    try:
        argv = shlex.split(text, posix=True)
    except ValueError as exc:
        raise CommandRefused(f"command cannot be split into arguments: {exc}") from None
    if argv and argv[0] == "kubectl":
        argv = argv[1:]
    return check_arguments(argv)


def check_arguments(argv: list[str]) -> list[str]:
    """Check an argument list word by word; return it unchanged or raise ``CommandRefused``."""
    if not argv:
        raise CommandRefused("empty command: give a verb such as get, describe or logs")
    if len(argv) > MAX_ARGUMENTS:
        raise CommandRefused(f"{len(argv)} arguments; the limit is {MAX_ARGUMENTS}")
    verb = argv[0]
    if verb not in READ_ONLY_VERBS:
        raise CommandRefused(f"verb {verb[:40]!r} is not allowed; read-only verbs: {', '.join(READ_ONLY_VERBS)}")
    positional = 0
    index = 1
    while index < len(argv):
        word = argv[index]
        if word.startswith("-"):
            flag, has_value, inline = word.partition("=")
            if flag in BOOLEAN_FLAGS and not has_value:
                index += 1
                continue
            if flag not in VALUE_FLAGS:
                raise CommandRefused(f"flag {flag[:40]!r} is not allowed; allowed: {', '.join(sorted({*VALUE_FLAGS, *BOOLEAN_FLAGS}))}")
            if not has_value:
                index += 1
                if index >= len(argv):
                    raise CommandRefused(f"flag {flag!r} needs a value")
                inline = argv[index]
            _check_flag_value(flag, inline)
        else:
            checker = KIND_RE if positional == 0 else NAME_RE
            if not checker.match(word):
                raise CommandRefused(f"argument {word[:60]!r} is not a valid Kubernetes name")
            if positional == 0 and verb != "logs" and _names_secrets(word):
                raise CommandRefused("secrets are refused: reading them is not part of an investigation")
            positional += 1
        index += 1
    return argv


def _names_secrets(kind_word: str) -> bool:
    """Whether a kind word (``secrets``, ``Secret.v1``, ``pods,secrets``, ``secret/db-pass``) names secrets."""
    for kind in kind_word.split("/", 1)[0].split(","):
        if kind.split(".", 1)[0].lower() in SECRET_KINDS:
            return True
    return False


def _check_flag_value(flag: str, value: str) -> None:
    field = VALUE_FLAGS[flag]
    if field == "tail":
        if not value.isdigit() or int(value) > 10_000:
            raise CommandRefused(f"--tail takes a number of lines up to 10000, got {value[:20]!r}")
    elif field == "output":
        if value not in OUTPUT_FORMATS:
            raise CommandRefused(f"output format {value[:20]!r} is not allowed; allowed: {', '.join(OUTPUT_FORMATS)}")
    elif field == "selector":
        if not SELECTOR_RE.match(value):
            raise CommandRefused(f"label selector {value[:40]!r} is not valid")
    elif not NAME_RE.match(value):
        raise CommandRefused(f"{field} {value[:60]!r} is not a valid Kubernetes name")
