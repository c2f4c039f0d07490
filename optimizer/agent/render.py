"""Tool output for a small model: explicit vocabulary, and reduction to what fits the context.

``explicit`` turns kubectl's tables into labelled lines (``Item 1: namespace shop, status
CrashLoopBackOff, ready 0 of 1``) and spells out its symbols (``<none>``, ``0/1``, ``(x28 over
31m)``, ``|``). ``reduce`` keeps a result under a character budget by keeping the lines that carry
a signal (reasons, errors, warnings, exit codes) before the rest, in their original order.
"""

from __future__ import annotations

import re

SIGNAL = re.compile(
    r"(?i)reason|error|fail|warning|unhealthy|killed|backoff|panic|exception|denied|expired|not found|refused|"
    r"timeout|timed out|insufficient|pending|notready|not ready|unknown|false|invalid|no such host|x509|exit code|"
    r"message|issue|problem|fatal|cannot|unable|missing|probe|status"
)
HEADER_WORD = re.compile(r"^[A-Z][A-Z0-9()%\-]*(?: [A-Z][A-Z0-9()%\-]*)?$")
EVENT_HEADER = ("Type", "Reason", "Age", "From", "Message")
SYMBOLS = [
    (re.compile(r"<none>"), "none"),
    (re.compile(r"<unknown>"), "unknown"),
    (re.compile(r"\(x(\d+) over ([^)]+)\)"), r"\1 times over \2"),
    (re.compile(r"\((\d+[smhd]) ago\)"), r"last \1 ago"),
    (re.compile(r"(?<![\w.])(\d+)/(\d+)(?![\w.])"), r"\1 of \2"),
    (re.compile(r"\s*->\s*"), " to "),
    (re.compile(r"\s+\|\s+"), ", "),
    (re.compile(r"(\d)%"), r"\1 percent"),
    (re.compile(r"[#*()]"), ""),
]


def _column_starts(header: str) -> list[int]:
    return [match.start() for match in re.finditer(r"\S+(?: \S+)*", header)]


def _is_table_header(line: str) -> bool:
    cells = re.split(r"\s{2,}", line.strip())
    if len(cells) >= 3 and all(HEADER_WORD.match(cell) for cell in cells):
        return True
    return tuple(cells) == EVENT_HEADER


def _row_cells(line: str, starts: list[int]) -> list[str]:
    bounds = starts[1:] + [len(line) + 1]
    return [line[start:end].strip() for start, end in zip(starts, bounds)]


def spell_out(text: str) -> str:
    for pattern, replacement in SYMBOLS:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


KEY_VALUE = re.compile(r"^(\s*)([A-Za-z][\w .\-/()]*?):(?:\s+(.*))?$")


def explicit(text: str, *, keep_lines: bool = False) -> str:
    """Labelled lines without symbols. ``keep_lines`` leaves each line as written (container logs).

    Tables become ``Item N: column value, ...``; a nested ``Key: value`` line is labelled with its
    parent (``Last State reason: OOMKilled``) so no line depends on indentation to be understood.
    """
    if keep_lines:
        return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())
    lines = text.splitlines()
    out: list[str] = []
    header: list[str] | None = None
    starts: list[int] = []
    parents: list[tuple[int, str]] = []
    item = 0
    for index, line in enumerate(lines):
        if not line.strip() or set(line.strip()) <= {"-", " "}:
            continue
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _is_table_header(line) or (following and set(following) <= {"-", " "}):
            starts = _column_starts(line)
            header = [cell.lower() for cell in _row_cells(line, starts)]
            item = 0
            continue
        indent = len(line) - len(line.lstrip())
        if header is not None and indent >= starts[0] and len(line) > starts[-1]:
            item += 1
            cells = _row_cells(line, starts)
            out.append(f"Item {item}: " + ", ".join(f"{label} {spell_out(cell) or 'none'}" for label, cell in zip(header, cells)))
            continue
        header = None
        match = KEY_VALUE.match(line)
        if match is None:
            out.append(spell_out(line))
            continue
        key, value = match.group(2), match.group(3) or ""
        while parents and parents[-1][0] >= indent:
            parents.pop()
        label = f"{parents[-1][1]} {key.lower()}" if parents else key
        parents.append((indent, key))
        if value:
            out.append(f"{label}: {spell_out(value)}")
    return "\n".join(out)


def reduce(text: str, limit: int, *, prefer_tail: bool = False) -> str:
    """At most ``limit`` characters: signal lines first, then the others (head, or tail for logs)."""
    if len(text) <= limit:
        return text
    lines = text.splitlines()
    order = sorted(range(len(lines)), key=lambda index: (not SIGNAL.search(lines[index]),
                                                          -index if prefer_tail else index))
    kept: set[int] = set()
    budget = limit - 40
    for index in order:
        cost = len(lines[index]) + 1
        if cost <= budget:
            kept.add(index)
            budget -= cost
    dropped = len(lines) - len(kept)
    shown = "\n".join(lines[index] for index in sorted(kept))
    return f"{shown}\n{dropped} more lines not shown." if dropped else shown


def truncate(text: str, limit: int) -> str:
    """The first ``limit`` characters (what a plain agent does with a long result)."""
    return text if len(text) <= limit else text[:limit] + "\n...(truncated)"
