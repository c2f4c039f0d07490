"""Reading a model's reply: the strict format, the format enforcer, answers and placeholders.

The strict format is one line ``TOOL: NAME args`` or ``ANSWER: ROOT CAUSE: ... CULPRIT: ...``.
Small models wrap it in chatter (``Sure! I will run TOOL: DESCRIBE pod shop api-1 to check.``),
drop the ``TOOL:`` prefix or write a kubectl command instead; the enforcer extracts the call from
such replies. Placeholders copied from instructions (``<pod-name>``, ``podname``) are detected so
the loop can re-ask instead of running a call that cannot work.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from optimizer.agent.tools import CORE_TOOLS, ToolCall

MAX_REPLY_CHARS = 8_000
TOOL_LINE = re.compile(r"^\s*TOOL:\s*([A-Z][A-Z_]+)(?:\s+(.*?))?\s*$")
ANY_TOOL_LABEL = re.compile(r"(?i)\btool\s*:\s*`?([A-Za-z][A-Za-z_]+)`?([^\n]*)")
ANSWER_LABEL = re.compile(r"(?i)\banswer\s*:")
KUBECTL_COMMAND = re.compile(r"\bkubectl\s+((?:get|describe|logs|top|events|api-resources)\b[^\n`\"]*)")
ROOT_CAUSE = re.compile(r"(?is)root\s*cause\s*:\s*(.+?)(?=\s*culprit\s*:|$)")
CULPRIT = re.compile(r"(?i)culprit\s*:\s*([^\n]+)")
PLACEHOLDER_WORDS = {
    "podname", "pod-name", "pod_name", "pod", "mypod", "my-pod", "your-pod", "name", "resource", "resource-name",
    "namespace", "your-namespace", "my-namespace", "namespace-name", "kind", "example", "xxx", "container",
    "node-name", "nodename", "pod-id", "deployment-name",
}
COMMAND_PLACEHOLDERS = {"podname", "pod-name", "pod_name", "mypod", "my-pod", "your-pod", "resource-name", "your-namespace",
                        "namespace-name", "node-name", "deployment-name"}


@dataclass(frozen=True)
class Answer:
    root_cause: str
    culprit: str


@dataclass(frozen=True)
class Reply:
    """One model reply, read: a tool call, a final answer, or neither (a format violation)."""

    call: ToolCall | None = None
    answer: Answer | None = None
    strict: bool = False
    refused: str | None = None
    note: str | None = None

    @property
    def usable(self) -> bool:
        return self.call is not None or self.answer is not None


def parse_answer(text: str) -> Answer | None:
    """``ROOT CAUSE: ... CULPRIT: ...`` after ``ANSWER:``; None without a root cause."""
    cause = ROOT_CAUSE.search(text)
    if cause is None:
        return None
    root_cause = " ".join(cause.group(1).split())[:300].strip(" .")
    culprit_match = CULPRIT.search(text)
    culprit = " ".join(culprit_match.group(1).split())[:200].strip(" .") if culprit_match else ""
    return Answer(root_cause, culprit) if root_cause else None


RAW_ARGUMENT_TOOLS = ("RUN_KUBECTL", "KUBECTL")


def _clean_args(text: str, name: str = "") -> tuple[str, ...]:
    """Arguments without quotes and trailing punctuation; a command's words are kept as written
    so that the kubectl checker, not this reader, decides about shell syntax."""
    if name in RAW_ARGUMENT_TOOLS:
        return tuple(text.strip().strip("`").split())
    words = [word.strip("`'\"“”,;") for word in text.split()]
    words = [word for word in words if word]
    if words:
        words[-1] = words[-1].rstrip(".:!?")
    return tuple(word for word in words if word)


def _fit(name: str, args: tuple[str, ...]) -> ToolCall:
    """Cut trailing prose off a fixed-arity core call (``DESCRIBE pod shop api-1 to see why``)."""
    spec = CORE_TOOLS.get(name)
    if spec is not None and name != "RUN_KUBECTL":
        args = args[: spec.max_args]
    return ToolCall(name, args)


def read_strict(text: str, tool_names: Collection[str]) -> Reply:
    """The plain parser: the first line must be ``TOOL: NAME args``, or the reply starts with ``ANSWER:``."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return Reply(note="empty reply")
    if lines[0].lstrip().upper().startswith("ANSWER:"):
        answer = parse_answer(text)
        return Reply(answer=answer, strict=answer is not None, note=None if answer else "ANSWER without ROOT CAUSE")
    match = TOOL_LINE.match(lines[0])
    if match and match.group(1) in tool_names:
        return Reply(call=ToolCall(match.group(1), _clean_args(match.group(2) or "", match.group(1))), strict=len(lines) == 1)
    if match:
        return Reply(note=f"unknown tool {match.group(1)[:40]}")
    return Reply(note="first line is not TOOL: NAME args")


def read_reply(text: str, tool_names: Collection[str], *, enforce: bool) -> Reply:
    """Read a reply; with ``enforce`` the call or answer is extracted from chatty output."""
    if len(text) > MAX_REPLY_CHARS:
        return Reply(refused=f"reply is {len(text):,} characters; the limit is {MAX_REPLY_CHARS:,}, so it was not read")
    strict = read_strict(text, tool_names)
    if strict.strict or not enforce:
        return strict
    answer_at = ANSWER_LABEL.search(text)
    if answer_at:
        answer = parse_answer(text[answer_at.end():])
        if answer is not None:
            return Reply(answer=answer, note="enforcer: answer extracted from a longer reply")
    for match in ANY_TOOL_LABEL.finditer(text):
        name = match.group(1).upper()
        if name in tool_names:
            return Reply(call=_fit(name, _clean_args(match.group(2), name)), note=f"enforcer: extracted TOOL: {name} from a longer reply")
    names = sorted(tool_names, key=len, reverse=True)
    bare_names = re.compile(r"(?<![A-Z_])(" + "|".join(map(re.escape, names)) + r")(?![A-Z_])([^\n]*)") if names else None
    for bare in bare_names.finditer(text) if bare_names else ():
        call = _fit(bare.group(1), _clean_args(bare.group(2), bare.group(1)))
        spec = CORE_TOOLS.get(call.name)
        if spec is None or len(call.args) >= spec.min_args:  # "Last result from DESCRIBE:" is an echo, not a call
            return Reply(call=call, note=f"enforcer: tool name {call.name} found without TOOL:")
    command = KUBECTL_COMMAND.search(text)
    if command and "RUN_KUBECTL" in tool_names:
        return Reply(call=ToolCall("RUN_KUBECTL", _clean_args(command.group(1), "RUN_KUBECTL")), note="enforcer: kubectl command turned into RUN_KUBECTL")
    root_cause = ROOT_CAUSE.search(text)
    if root_cause:
        answer = parse_answer(text)
        if answer is not None:
            return Reply(answer=answer, note="enforcer: ROOT CAUSE found without ANSWER:")
    return Reply(note=strict.note or "no tool call or answer found")


def _is_placeholder(word: str, vocabulary: set[str]) -> bool:
    return bool(re.search(r"[<>{}\[\]]", word)) or word.lower() in vocabulary


def find_placeholder(call: ToolCall) -> str | None:
    """The first argument that is a placeholder (``<pod-name>``, ``podname``, ``namespace``), else None."""
    if call.name == "RUN_KUBECTL":
        checked, vocabulary = call.args, COMMAND_PLACEHOLDERS
    elif call.name == "LIST_ALL":
        checked, vocabulary = call.args, {"kind", "resource", "resources", "<kind>"}
    elif call.name == "DESCRIBE":
        checked, vocabulary = call.args[1:], PLACEHOLDER_WORDS
    else:
        checked, vocabulary = call.args, PLACEHOLDER_WORDS
    for word in checked:
        if _is_placeholder(word, vocabulary):
            return word
    return None


def call_key(call: ToolCall) -> str:
    """What makes two calls the same for loop detection (case and spacing ignored)."""
    return " ".join((call.name, *(arg.lower() for arg in call.args)))
