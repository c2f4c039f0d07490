"""Word-level diffs of prompts, for reviewers: HTML for the page, unified text for Markdown."""

from __future__ import annotations

import difflib
import html
import re

_TOKENS = re.compile(r"\S+\s*|\s+")  # a word keeps its trailing space


def word_diff_html(before: str, after: str) -> str:
    """``after`` with words removed from ``before`` struck through and added words highlighted."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    parts: list[str] = []
    for opcode, old_start, old_end, new_start, new_end in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if opcode == "equal":
            parts.append(html.escape("".join(new[new_start:new_end])))
            continue
        if opcode in ("delete", "replace"):
            parts.append(f'<del class="diff-del" style="background:#ffd7d5;color:#82071e">{html.escape("".join(old[old_start:old_end]))}</del>')
        if opcode in ("insert", "replace"):
            parts.append(f'<ins class="diff-ins" style="background:#ccffd8;color:#055d20;text-decoration:none">{html.escape("".join(new[new_start:new_end]))}</ins>')
    body = "".join(parts)
    return f'<div class="word-diff" style="white-space: pre-wrap; font-family: monospace">{body}</div>'


def diff_counts(before: str, after: str) -> tuple[int, int]:
    """(words removed, words added)."""
    old, new = before.split(), after.split()
    removed = added = 0
    for opcode, old_start, old_end, new_start, new_end in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if opcode in ("delete", "replace"):
            removed += old_end - old_start
        if opcode in ("insert", "replace"):
            added += new_end - new_start
    return removed, added


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), before_name, after_name)
    return "".join(lines)
