"""Reliability suite (issue 14): hostile and clumsy input gets a one-line error, bounded in time and
memory, with nothing changed; runs and agent answers survive hostile data.

Every case runs against the fake server or no server at all, so the suite takes seconds. Where a
case is about time or memory, the test asserts a bound (the error arrives within a generous number
of seconds, or under a memory cap set with ``resource.setrlimit`` in a subprocess), never a timing.
The kill -9 cases live in ``tests/test_kill_resume.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT

from optimizer.errors import ConfigError, DatasetError, TemplateError

SECONDS = 10.0  # generous bound for "refused at once": the unbounded versions take minutes or never end


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def run_capped(code: str, memory_mb: int = 1024, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with its address space capped (RLIMIT_AS)."""
    prelude = textwrap.dedent(
        f"""
        import resource
        limit = {memory_mb} * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        """
    )
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})


# ---------------------------------------------------------------- YAML and JSONL files


def test_alias_bomb_in_a_template_is_refused_naming_the_line_under_a_memory_cap(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text("id: bomb\nsystem: s\nuser: '{{ logs }}'\nmodel_defaults:\n"
                    + textwrap.indent(billion_laughs(), "  "), encoding="utf-8")
    result = run_capped(
        f"""
        from pathlib import Path
        from optimizer.errors import ConfigError
        from optimizer.prompts.templates import load_template
        try:
            load_template(Path({str(path)!r})).content_hash()
        except ConfigError as exc:
            print("refused:", exc)
        """,
        memory_mb=1024,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused:" in result.stdout and "bomb.yaml:" in result.stdout
    assert "aliases expand" in result.stdout


def test_recursive_alias_and_deep_nesting_are_one_line_errors() -> None:
    from optimizer.config.yamlio import parse_yaml_text

    with pytest.raises(ConfigError, match=r"x\.yaml:1: recursive alias"):
        parse_yaml_text("a: &a [*a]\n", "x.yaml")
    with pytest.raises(ConfigError, match=r"x\.yaml:\d+: nested more than"):
        parse_yaml_text("[" * 5000 + "]" * 5000, "x.yaml")
    # Plain anchors that expand modestly keep working.
    assert parse_yaml_text("base: &b {t: 0.2}\nother: *b\n", "x.yaml") == {"base": {"t": 0.2}, "other": {"t": 0.2}}


def test_oversized_yaml_and_jsonl_are_refused_unread(tmp_path: Path) -> None:
    from optimizer.config.yamlio import MAX_YAML_BYTES
    from optimizer.prompts.templates import load_template
    from optimizer.tasks.dataset import MAX_DATASET_BYTES, load_dataset

    big_yaml = tmp_path / "big.yaml"
    with open(big_yaml, "w", encoding="utf-8") as handle:
        handle.write("id: big\nsystem: s\nuser: u\ndescription: |\n")
        line = "  " + "x" * 98 + "\n"
        handle.write(line * (MAX_YAML_BYTES // len(line) + 2))
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"big\.yaml: file is larger than the limit"):
        load_template(big_yaml)
    big_jsonl = tmp_path / "big.jsonl"
    with open(big_jsonl, "wb") as handle:
        handle.truncate(MAX_DATASET_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(DatasetError, match=r"big\.jsonl: dataset file is larger than the limit"):
        load_dataset(big_jsonl)
    assert time.monotonic() - started < SECONDS


def test_hostile_jsonl_lines_name_the_line(tmp_path: Path) -> None:
    from optimizer.tasks.dataset import load_dataset

    good = json.dumps({"id": "a", "logs": "x", "expected": {"severity": "info"}})
    for bad, message in (("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
                         ('{"id": "b", "n": ' + "9" * 5000 + "}", "not valid JSON")):
        path = tmp_path / "d.jsonl"
        path.write_text(good + "\n" + bad + "\n", encoding="utf-8")
        with pytest.raises(DatasetError, match=rf"d\.jsonl:2: ({message})"):
            load_dataset(path)


# ---------------------------------------------------------------- templates


HOSTILE_TEMPLATES = [
    ("{% for x in range(10**9) %}x{% endfor %}", "limit"),
    ("{{ 10**5000 }}", "digits"),
    ("{{ 'x' * 4000000000 }}", "limit"),
    ("{{ 7**999999999 }}", "digits"),
    ("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}", "budget"),
    ("{% for a in 'x' * 1000000 %}{% for b in 'x' * 1000000 %}{% endfor %}{% endfor %}", "longer than"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", "limit"),
    ("{{ 'x' | center(10**9) }}", "limit"),
    ("{{ 'x'.ljust(10**9) }}", "limit"),
    ("{{ '%999999999d' % 1 }}", "width"),
    ("{{ '{:>999999999}'.format(1) }}", "width"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
]


@pytest.mark.parametrize("user, reason", HOSTILE_TEMPLATES, ids=[f"case{n}" for n in range(len(HOSTILE_TEMPLATES))])
def test_hostile_template_is_a_template_error_within_a_bound(user: str, reason: str) -> None:
    from optimizer.prompts.templates import PromptTemplate, preflight, render_messages

    template = PromptTemplate(id="hostile", system="s", user=user)
    started = time.monotonic()
    with pytest.raises(TemplateError, match=reason):
        preflight(template, [])
        render_messages(template, {})
    assert time.monotonic() - started < SECONDS


def test_hostile_templates_stay_under_a_memory_cap() -> None:
    result = run_capped(
        f"""
        from optimizer.errors import TemplateError
        from optimizer.prompts.templates import PromptTemplate, render_messages
        refused = 0
        for user, _ in {HOSTILE_TEMPLATES!r}:
            try:
                render_messages(PromptTemplate(id="h", system="s", user=user), {{}})
            except TemplateError:
                refused += 1
        print("refused", refused)
        """,
        memory_mb=768,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"refused {len(HOSTILE_TEMPLATES)}" in result.stdout


def test_ordinary_templates_render_as_before() -> None:
    from optimizer.prompts.templates import PromptTemplate, render_messages

    template = PromptTemplate(id="ok", system="Be brief.", user="{{ logs }} {{ 2**10 }} {{ 'ab' * 2 }} {{ 'a' ~ 'b' }}"
                              "{% for i in range(3) %}{{ i }}{% endfor %} {{ '%5d' | format(7) }}")
    assert render_messages(template, {"logs": "L"})[-1]["content"] == "L 1024 abab ab012     7"
