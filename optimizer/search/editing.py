"""The search space being edited: one draft that the variants table and the raw YAML both change.

The page keeps one ``SpaceDraft`` per task in its session. The YAML editor hands it whole texts
(``set_text``); the table editor hands it its edited rows (``apply_table``), always relative to the
rows it was drawn from (``table_rows`` at ``table_revision``), so a table edit is applied once and
never fed back into the table's own input (which made the page rerun without end). While the text
is invalid, ``space`` is ``None`` but ``last_valid`` still counts candidates and renders previews.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from pathlib import Path

from optimizer.errors import WorkbenchError
from optimizer.search.space import SearchSpace, apply_variants_table, parse_search_space, search_space_yaml, variants_table


@dataclass
class SpaceDraft:
    """Text of a search space under edit, the last text that validated, and the table's base rows."""

    source: str
    saved_text: str
    text: str
    last_valid: SearchSpace
    space: SearchSpace | None
    problem: str | None = None
    table_revision: int = 0
    table_rows: list[dict[str, str]] = field(default_factory=list)
    table_space: SearchSpace | None = None  # the space ``table_rows`` were drawn from
    table_result: str | None = None  # the text the current table edits produced last
    table_text: str | None = None  # the text ``table_rows`` were drawn from

    @classmethod
    def load(cls, path: Path, source: str | None = None) -> "SpaceDraft":
        text = path.read_text(encoding="utf-8")
        source = source or str(path)
        space = parse_search_space(text, source)
        return cls(source, text, text, space, space, None, 0, variants_table(space), space, None, text)

    @property
    def valid(self) -> bool:
        return self.space is not None

    @property
    def unsaved(self) -> bool:
        return self.text != self.saved_text

    def set_text(self, text: str) -> None:
        """The YAML editor's whole text: validated; when valid, the table is redrawn from it."""
        self.text = text
        try:
            self.space = parse_search_space(text, self.source)
        except WorkbenchError as exc:
            self.space, self.problem = None, str(exc)
            return
        self.problem = None
        self.last_valid = self.space
        self._reset_table()

    def apply_table(self, edited_rows: list[dict[str, object]]) -> bool:
        """Rows from the table editor (drawn from ``table_rows``); True when the text changed."""
        if not self.valid:
            return False
        edited_rows = [{key: _cell(value) for key, value in row.items()} for row in edited_rows]
        if _normalised(edited_rows) == _normalised(self.table_rows):
            return False  # nothing edited since the table was drawn: keep the YAML as typed
        try:
            updated = apply_variants_table(self.table_space or self.last_valid, edited_rows)
        except WorkbenchError as exc:
            self.problem = f"{self.source}: {exc}"
            return False
        # Rewrite only the edited values in place (comments and layout stay, a Git diff shows just
        # the edit); a structural change (rows added, removed or moved) rewrites the whole file.
        text = patch_variant_values(self.table_text or self.text, self.table_space or self.last_valid, updated, self.source)
        if text is None:
            text = search_space_yaml(updated)
        if text == self.table_result and self.problem is None:
            return False
        self.table_result = text
        self.text = text
        self.space = self.last_valid = parse_search_space(text, self.source)
        self.problem = None
        return True

    def mark_saved(self) -> None:
        self.saved_text = self.text

    def _reset_table(self) -> None:
        self.table_revision += 1
        self.table_rows = variants_table(self.last_valid)
        self.table_space = self.last_valid
        self.table_result = None
        self.table_text = self.text


def _scalar(value: str, indent: int, block: bool) -> str:
    """``value`` as a YAML scalar to put where another one stood (a ``|`` block when it has lines)."""
    if "\n" in value.rstrip("\n") or block:
        chomp = "|" if value.endswith("\n") else "|-"
        body = "\n".join((" " * indent + line) if line else "" for line in value.rstrip("\n").split("\n"))
        return f"{chomp}\n{body}"
    return yaml.dump(value, Dumper=yaml.SafeDumper, width=1_000_000, allow_unicode=True).removesuffix("\n...\n").rstrip("\n")


def patch_variant_values(text: str, before: SearchSpace, after: SearchSpace, source: str) -> str | None:
    """``text`` with the variants' changed ``name`` / ``text`` values rewritten where they stand.

    None when the change is not only that (a dimension or variant added, removed or reordered, a
    few-shot draw changed, a value the file does not spell out), or when the patched text would not
    read back as exactly ``after``: the caller then writes the whole space out instead.
    """
    if [(d.name, len(d.variants)) for d in before.dimensions] != [(d.name, len(d.variants)) for d in after.dimensions]:
        return None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None

    def child(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    return key_node, value_node
        return None

    dimensions = child(root, "dimensions")
    if dimensions is None or not isinstance(dimensions[1], yaml.SequenceNode):
        return None
    edits: list[tuple[int, int, str]] = []
    for dimension_node, old, new in zip(dimensions[1].value, before.dimensions, after.dimensions):
        variants = child(dimension_node, "variants")
        if variants is None or not isinstance(variants[1], yaml.SequenceNode):
            return None
        for variant_node, old_variant, new_variant in zip(variants[1].value, old.variants, new.variants):
            if old_variant == new_variant:
                continue
            if old_variant.model_copy(update={"name": new_variant.name, "text": new_variant.text}) != new_variant:
                return None  # more than a name or a text changed
            for field in ("name", "text"):
                if getattr(old_variant, field) == getattr(new_variant, field):
                    continue
                found = child(variant_node, field)
                if found is None or not isinstance(found[1], yaml.ScalarNode):
                    return None
                key_node, value_node = found
                block = value_node.style in ("|", ">")
                replacement = _scalar(getattr(new_variant, field), key_node.start_mark.column + 2, block)
                start, end = value_node.start_mark.index, value_node.end_mark.index
                # a block scalar's span takes its line break along: give it back
                edits.append((start, end, replacement + ("\n" if text[start:end].endswith("\n") else "")))
    patched = text
    for start, end, replacement in sorted(edits, reverse=True):
        patched = patched[:start] + replacement + patched[end:]
    try:
        if parse_search_space(patched, source) != after:
            return None
    except WorkbenchError:
        return None
    return patched


def _cell(value: object) -> object:
    """An empty table cell (None, or NaN in a pandas frame) as an empty string."""
    return "" if value is None or value != value else value


def _normalised(rows: list[dict[str, object]]) -> list[tuple[str, ...]]:
    return [tuple(str(_cell(row.get(column))) for column in ("dimension", "variant", "text", "few_shot")) for row in rows]


def error_excerpt(text: str, problem: str | None, source: str, context: int = 1) -> str | None:
    """The lines around ``source:LINE`` named in ``problem``, numbered, with the line marked."""
    if not problem or not problem.startswith(f"{source}:"):
        return None
    head = problem[len(source) + 1:].split(":", 1)[0]
    if not head.isdigit():
        return None
    line = int(head)
    lines = text.splitlines()
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    return "\n".join(
        f"{'>' if number == line else ' '} {number:>{width}} | {lines[number - 1]}" for number in range(first, last + 1)
    )
