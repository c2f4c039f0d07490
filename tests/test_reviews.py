"""Human review: stored per output, carried to later runs with the same output, in the leaderboard,
the export evidence and the review report; old stores gain the table when opened."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from pathlib import Path

import pytest

from optimizer.errors import ConfigError, StoreError
from optimizer.evaluate.leaderboard import leaderboard
from optimizer.evaluate.reviews import human_by_candidate, review_evidence, run_reviews, save_review
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.evaluate.store import MIGRATIONS, RunStore

from conftest import ROOT


@pytest.fixture
def two_runs(store, fake_client) -> tuple[str, str]:
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=2, n_examples=20, seed=1, include_baseline=False))
    first = asyncio.run(run_plan(store, plan, fake_client))
    second = asyncio.run(run_plan(store, plan, fake_client))  # same prompts, same outputs (from the cache)
    return first, second


def test_reviews_are_stored_upserted_and_carried_to_a_later_run(store, two_runs) -> None:
    first, second = two_runs
    board = leaderboard(store, first)
    winner, other = board["candidate_id"].iloc[0], board["candidate_id"].iloc[1]
    outputs = {(row["candidate_id"], row["example_id"]): row["raw_output"] for row in store.evaluation_rows(first)}
    example_ids = sorted({example_id for _, example_id in outputs})
    # Examples where the two candidates said different things (an identical output shares its review).
    examples = [e for e in example_ids if outputs[(winner, e)] != outputs[(other, e)]]
    same = [e for e in example_ids if outputs[(winner, e)] == outputs[(other, e)]]
    assert len(examples) >= 2, "the fake server gives these two prompts different outputs"
    save_review(store, first, winner, examples[0], thumb=1, comment="right and short")
    save_review(store, first, winner, examples[1], thumb=-1)
    save_review(store, first, winner, examples[1], thumb=-1, score=0.25, comment="half wrong")  # replaces
    save_review(store, first, other, examples[0], score=0.5)
    reviews = run_reviews(store, first)
    assert len(reviews) == 3
    mine = reviews[reviews["candidate_id"] == winner].set_index("example_id")
    assert mine.loc[examples[0], "human"] == 1.0 and mine.loc[examples[1], "human"] == 0.25  # the score wins over the thumb
    per_candidate = human_by_candidate(store, first).set_index("candidate_id")
    assert per_candidate.loc[winner, "human_n"] == 2 and per_candidate.loc[winner, "human"] == pytest.approx(0.625)
    assert per_candidate.loc[winner, "thumbs_up"] == 1 and per_candidate.loc[winner, "thumbs_down"] == 1
    # The next run produced the same outputs: its leaderboard has the human metric without new reviews.
    later = leaderboard(store, second).set_index("candidate_id")
    assert later.loc[winner, "human_n"] == 2 and later.loc[winner, "human"] == pytest.approx(0.625)
    assert later.loc[other, "human"] == 0.5
    if same:  # one verdict per output text: the same answer to the same example is judged once
        save_review(store, first, winner, same[0], thumb=1)
        both = run_reviews(store, first)
        assert set(both[both["example_id"] == same[0]]["candidate_id"]) == {winner, other}
        save_review(store, first, winner, same[0])
    # An empty review removes it.
    save_review(store, second, other, examples[0])
    assert leaderboard(store, first).set_index("candidate_id").loc[other, "human_n"] == 0


def test_bad_reviews_are_refused_with_the_field_named(store, two_runs) -> None:
    first, _ = two_runs
    candidate = leaderboard(store, first)["candidate_id"].iloc[0]
    example = store.evaluation_rows(first)[0]["example_id"]
    with pytest.raises(ConfigError, match="field 'score' must be between 0 and 1"):
        save_review(store, first, candidate, example, score=1.5)
    with pytest.raises(ConfigError, match="field 'thumb'"):
        save_review(store, first, candidate, example, thumb=2)
    with pytest.raises(StoreError, match="no stored output"):
        save_review(store, first, candidate, "no-such-example", thumb=1)


def test_review_goes_into_export_evidence_and_report(store, two_runs, tmp_path: Path) -> None:
    from optimizer.export.git import prepare_export

    first, _ = two_runs
    board = leaderboard(store, first)
    candidate = board["candidate_id"].iloc[0]
    example = sorted(row["example_id"] for row in store.evaluation_rows(first) if row["candidate_id"] == candidate)[0]
    save_review(store, first, candidate, example, thumb=1, score=0.9, comment="clear <b>root cause</b>\nsecond line")
    evidence = review_evidence(store, first, candidate)
    assert evidence["reviewed_outputs"] == 1 and evidence["mean_human"] == 0.9 and evidence["thumbs_up"] == 1
    repo = tmp_path / "repo"
    (repo / "prompt_templates").mkdir(parents=True)
    for command in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.com"], ["config", "user.name", "T"],
                    ["commit", "-q", "--allow-empty", "-m", "init"]):
        subprocess.run(["git", "-C", str(repo), *command], check=True)
    prepared = prepare_export(store, first, candidate, repo=repo, allow_degenerate=True) \
        if "allow_degenerate" in prepare_export.__code__.co_varnames else prepare_export(store, first, candidate, repo=repo)
    assert prepared.template.evaluation["human_review"]["comments"] == [{"example_id": example, "comment": "clear <b>root cause</b>\nsecond line"}]
    assert "### Human review (1 outputs reviewed)" in prepared.review_markdown
    assert f"- `{example}`: clear &lt;b>root cause&lt;/b> second line" in prepared.review_markdown


def test_an_old_store_opens_and_gains_the_review_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for function in MIGRATIONS:
        if function.__name__ == "m007_human_reviews":
            break
        function(db)
        db.execute("INSERT INTO _migrations VALUES (?, '2026-01-01')", (function.__name__,))
    db.close()
    with RunStore(path) as opened:
        assert {"m007_human_reviews", "m008_derived_tables"} <= set(opened.applied_migrations())
        assert opened.db.execute("SELECT COUNT(*) FROM human_reviews").fetchone()[0] == 0


def test_compare_page_saves_a_review_and_shows_the_human_column(fake_client) -> None:
    from optimizer.config.paths import default_store_path

    from conftest import open_page

    with RunStore(default_store_path()) as opened:
        plan = plan_run(RunRequest(task="k8s_log_analysis", max_candidates=2, n_examples=5, seed=2))
        run_id = asyncio.run(run_plan(opened, plan, fake_client))
    app = open_page("views/compare.py")
    selected = app.multiselect(key=f"compare_candidates::{run_id}").value
    example = app.selectbox(key=f"review_example::{run_id}").value
    key = f"{run_id}::{selected[1]}::{example}"
    app.radio(key=f"thumb::{key}").set_value(":material/thumb_down: bad")
    app.number_input(key=f"score::{key}").set_value(0.2)
    app.text_area(key=f"comment::{key}").set_value("names the wrong pod")
    next(button for button in app.button if button.label == "Save review" and key in str(button.form_id)).click().run()
    assert not app.exception and not app.main.error, [e.value for e in app.main.error]
    assert any(s.value.startswith("Saved the review of") for s in app.success)
    with RunStore(default_store_path()) as opened:
        stored = run_reviews(opened, run_id)
    # Every candidate that gave this very output on this example shares the verdict; the reviewed one is among them.
    assert selected[1] in set(stored["candidate_id"])
    assert {tuple(row) for row in stored[["example_id", "thumb", "score", "comment"]].values.tolist()} == {
        (example, -1, 0.2, "names the wrong pod")}
    table = next(frame.value for frame in app.dataframe if "example_id" in frame.value and "disagree" in frame.value)
    human_column = next(column for column in table.columns if column.endswith(f"{selected[1]} human"))
    assert table.set_index("example_id").loc[example, human_column] == 0.2
    app.session_state["whole_run"] = True  # open "Whole run"
    app.run()
    board = next(frame.value for frame in app.dataframe if "candidate_id" in frame.value and "human" in frame.value)
    assert board.set_index("candidate_id").loc[selected[1], "human"] == 0.2
