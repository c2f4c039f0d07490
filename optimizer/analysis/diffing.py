"""Diffs of prompts, for reviewers: line-level HTML with word marks for the page, unified text for Markdown."""

from __future__ import annotations

import difflib
import html
import re

_TOKENS = re.compile(r"\S+\s*|\s+")  # a word keeps its trailing space
_WORD_DIFF_OPEN = '<div class="word-diff" style="white-space: pre-wrap; font-family: monospace">'


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
    return _WORD_DIFF_OPEN + "".join(parts) + "</div>"


_LINE_STYLE = {
    "same": "",
    "changed": "background:#fff8c5",
    "added": "background:#e6ffec",
    "removed": "background:#ffebe9",
}
_MARK = {"same": " ", "changed": "~", "added": "+", "removed": "-"}


def _line_html(kind: str, body: str) -> str:
    return (f'<div class="diff-line diff-{kind}" style="{_LINE_STYLE[kind]}">'
            f'<span class="diff-mark" style="color:#57606a;user-select:none">{_MARK[kind]} </span>{body}</div>')


def _inline_words(before: str, after: str) -> str:
    """One changed line: the words of ``after`` with removed and added words marked."""
    return word_diff_html(before, after).removeprefix(_WORD_DIFF_OPEN).removesuffix("</div>")


def prompt_diff_html(reference: str, text: str) -> str:
    """``text`` against ``reference``, line by line: unchanged lines plain, a changed line with its
    removed and added words marked inside it, whole added or removed lines shaded.

    Pairing lines first (then words inside a pair) keeps two very different prompts readable,
    where one word-level diff over the whole text interleaves unrelated words. The reference
    against itself renders as plain lines in the same frame, so every column looks alike.
    """
    old_lines, new_lines = reference.splitlines(), text.splitlines()
    rows: list[str] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for opcode, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if opcode == "equal":
            rows.extend(_line_html("same", html.escape(line) or "&nbsp;") for line in new_lines[new_start:new_end])
            continue
        old_block, new_block = old_lines[old_start:old_end], new_lines[new_start:new_end]
        paired = min(len(old_block), len(new_block)) if opcode == "replace" else 0
        for before, after in zip(old_block[:paired], new_block[:paired]):
            similar = difflib.SequenceMatcher(a=before.split(), b=after.split(), autojunk=False).ratio() >= 0.3
            if similar:
                rows.append(_line_html("changed", _inline_words(before, after)))
            else:
                rows.append(_line_html("removed", f'<del class="diff-del" style="color:#82071e">{html.escape(before)}</del>'))
                rows.append(_line_html("added", f'<ins class="diff-ins" style="color:#055d20;text-decoration:none">{html.escape(after)}</ins>'))
        for before in old_block[paired:]:
            rows.append(_line_html("removed", f'<del class="diff-del" style="color:#82071e">{html.escape(before)}</del>'))
        for after in new_block[paired:]:
            rows.append(_line_html("added", f'<ins class="diff-ins" style="color:#055d20;text-decoration:none">{html.escape(after)}</ins>'))
    body = "".join(rows)
    return (f'<div class="prompt-diff" style="white-space: pre-wrap; overflow-wrap: anywhere; font-family: monospace; '
            f'font-size: 0.85rem; line-height: 1.4">{body}</div>')



def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), before_name, after_name)
    return "".join(lines)
