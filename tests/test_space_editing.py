"""The search-space draft: one text that the table and the YAML editor both change; readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.config.yamlio import named_path
from optimizer.errors import ConfigError
from optimizer.search.editing import SpaceDraft, error_excerpt
from optimizer.search.space import parse_search_space

from conftest import ROOT

SPACE = ROOT / "prompt_templates/search_spaces/k8s_log_analysis.yaml"


def test_errors_name_list_items_by_their_name() -> None:
    text = SPACE.read_text()
    broken = text.replace("      - name: oncall\n", "      - name: oncall\n        colour: red\n", 1)
    with pytest.raises(ConfigError) as info:
        parse_search_space(broken, "space.yaml")
    line = broken.splitlines().index("        colour: red") + 1
    assert str(info.value) == f"space.yaml:{line}: tone / oncall / colour: unknown key 'colour'"
    assert named_path({"dimensions": [{"nme": "x"}]}, ("dimensions", 0, "name")) == "dimensions #1 / name"


def test_table_edit_reaches_the_text_once_and_the_yaml_editor_redraws_the_table() -> None:
    draft = SpaceDraft.load(SPACE, "space.yaml")
    rows = [dict(row) for row in draft.table_rows]
    revision = draft.table_revision
    neutral = next(row for row in rows if row["variant"] == "neutral")
    neutral["text"] = "Classify these logs, line by line."
    assert draft.apply_table(rows) is True
    assert "Classify these logs, line by line." in draft.text and draft.valid and draft.unsaved
    # The same edited rows come back on every rerun: applied once, the table's base is untouched.
    assert draft.apply_table(rows) is False
    assert draft.table_revision == revision and draft.table_rows[1]["text"] != neutral["text"]
    # A second edit in the same table accumulates on the same base.
    expert = next(row for row in rows if row["variant"] == "expert")
    expert["variant"] = "senior"
    assert draft.apply_table(rows) is True
    assert "name: senior" in draft.text and "line by line" in draft.text
    # The YAML editor's text becomes the table's new base (new revision, so old table edits are dropped).
    draft.set_text(draft.text.replace("name: senior", "name: veteran"))
    assert draft.table_revision == revision + 1
    assert [row["variant"] for row in draft.table_rows][:3] == ["veteran", "neutral", "oncall"]
    unchanged = [dict(row) for row in draft.table_rows]
    before = draft.text
    assert draft.apply_table(unchanged) is False and draft.text == before  # the user's text is kept as typed


def test_invalid_text_keeps_the_last_valid_space_for_counts_and_preview() -> None:
    draft = SpaceDraft.load(SPACE, "space.yaml")
    text = draft.text
    start, end = text.index("      - name: oncall"), text.index("  - name: constraints")
    draft.set_text(text[:start] + text[end:])
    assert draft.valid and draft.last_valid.size == 216
    draft.set_text(draft.text.replace("  - name: reasoning\n", "  - nme: reasoning\n"))
    assert not draft.valid and draft.last_valid.size == 216
    assert "dimensions #5" in draft.problem
    excerpt = error_excerpt(draft.text, draft.problem, "space.yaml")
    assert excerpt is not None and "> " in excerpt and "nme: reasoning" in excerpt
    # While the text is invalid the table is frozen: its edits would overwrite what the user typed.
    assert draft.apply_table([dict(row, text="x") for row in draft.table_rows]) is False


def test_a_bad_table_edit_is_reported_and_changes_nothing() -> None:
    draft = SpaceDraft.load(SPACE, "space.yaml")
    rows = [dict(row) for row in draft.table_rows]
    rows[1]["variant"] = rows[0]["variant"]  # duplicate variant name in one dimension
    before = draft.text
    assert draft.apply_table(rows) is False
    assert draft.text == before and "duplicate variant" in draft.problem


def test_table_edits_rewrite_only_the_edited_values_so_the_git_diff_is_the_edit() -> None:
    import difflib

    draft = SpaceDraft.load(SPACE, "space.yaml")
    original = draft.text
    rows = [dict(row) for row in draft.table_rows]
    rows[1]["text"] = "Classify these logs,\nline by line."  # a plain one-liner becomes a block
    rows[2]["text"] = 'On call: "decide" now # not a comment'  # a folded block with quotes and a hash
    rows[0]["variant"] = "senior"
    assert draft.apply_table(rows)
    changed = [line for line in difflib.unified_diff(original.splitlines(), draft.text.splitlines(), lineterm="", n=0)
               if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert changed == [
        "-      - name: expert", "+      - name: senior",
        "-        text: Read the Kubernetes logs below and classify what they show.",
        "+        text: |-", "+          Classify these logs,", "+          line by line.",
        "-        text: >-",
        "-          You are the on-call engineer. Decide quickly whether these logs need a human to act",
        "-          right now.",
        "+        text: |-", '+          On call: "decide" now # not a comment',
    ]
    assert draft.space.dimension("tone").variants[2].text == 'On call: "decide" now # not a comment'
    # Adding a row is structural: the whole space is written out (and still reads back the same).
    rows.append({"dimension": "tone", "variant": "terse", "text": "Be brief.", "few_shot": ""})
    assert draft.apply_table(rows)
    assert [v.name for v in draft.space.dimension("tone").variants] == ["senior", "neutral", "oncall", "terse"]
