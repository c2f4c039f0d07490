"""GBNF grammars: a llama.cpp server then emits only well-formed tool calls and answers.

The strict tool-call format, enforced while decoding instead of after: a tool step's grammar
allows ``TOOL:`` followed by one of the tools the state allows, with arguments drawn from the
kinds, namespaces and names the investigation has actually seen, so a small model can neither
drift into prose nor invent a pod. The answer grammar puts the culprit first, chosen from the
resources seen (or ``none``), then a free one-line root cause. Servers other than llama.cpp
ignore or refuse the ``grammar`` field; the configuration flag turns it off for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

def _choice(words: Iterable[str]) -> str:
    return " | ".join(json.dumps(word) for word in sorted(set(words)))


def tool_grammar(tools: Sequence[str], kinds: Iterable[str], namespaces: Iterable[str],
                 seen: Sequence[tuple[str, str | None, str]]) -> str:
    """``TOOL: NAME args`` for the allowed ``tools``. DESCRIBE and GET_LOGS take only objects in
    ``seen`` (kind, namespace, name), whole, so kind, namespace and name always belong together."""
    calls: list[str] = []
    if "FIND_ISSUES" in tools:
        calls.append('"FIND_ISSUES"')
    if "LIST_ALL" in tools:
        calls.append('"LIST_ALL " kind')
    described = [f"{kind.lower()} {namespace} {name}" if namespace else f"{kind.lower()} {name}" for kind, namespace, name in seen]
    if described and "DESCRIBE" in tools:
        calls.append('"DESCRIBE " object')
    pods = [f"{namespace} {name}" for kind, namespace, name in seen if kind == "Pod" and namespace]
    if pods and "GET_LOGS" in tools:
        calls.append('"GET_LOGS " pod')
    if "RUN_KUBECTL" in tools:
        calls.append('"RUN_KUBECTL " command')
    if not calls:
        calls.append('"FIND_ISSUES"')
    rules = ['root ::= "TOOL: " call', f"call ::= {' | '.join(calls)}", f"kind ::= {_choice(kinds)}",
             f"namespace ::= {_choice(namespaces)}", 'scope ::= "-A" | "-n " namespace',
             'command ::= "get " kind " " scope | "get events " scope | "top pods " scope | "top nodes"']
    if '"DESCRIBE " object' in calls:
        rules.append(f"object ::= {_choice(described)}")
    if '"GET_LOGS " pod' in calls:
        rules.append(f"pod ::= {_choice(pods)}")
    return "\n".join(rules) + "\n"


def answer_grammar(culprits: Sequence[str]) -> str:
    """``ANSWER: CULPRIT: <a resource seen>`` (``none`` when nothing was) then ``ROOT CAUSE: <one line>``."""
    return "\n".join([
        'root ::= "ANSWER: CULPRIT: " culprit "\\nROOT CAUSE: " cause',
        f"culprit ::= {_choice(culprits or ['none'])}",
        "cause ::= [^\\n]{3,200}",
    ]) + "\n"
