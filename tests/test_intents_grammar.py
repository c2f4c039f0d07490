"""Constrained decoding: the per-command GBNF grammar and the confidence read off token logprobs."""

from __future__ import annotations

import re

import pytest
from test_intents_support import p

from optimizer.intents.confidence import logprob_confidence
from optimizer.intents.grammar import compact_json, span_grammar, value_candidates


def branches(gbnf: str) -> list[str]:
    return [line for line in gbnf.splitlines() if re.match(r"b\d+ ::=", line)]


def test_only_actions_whose_values_are_in_the_command_are_offered() -> None:
    grammar = span_grammar("Add DNS record api.local to 10.0.0.5", "dns")
    assert grammar.alternatives["action"] == ["dns_add", "dns_remove", "unknown"]
    assert grammar.alternatives["record_type"] == ["A"]  # no IPv6 address, no second hostname
    assert grammar.alternatives["ip"] == ["10.0.0.5"]
    assert 'v-host ::= "\\"api.local\\""' in grammar.gbnf
    no_password = span_grammar("Add user peter", "user")
    assert "add_user" not in no_password.alternatives["action"]
    assert "remove_user" in no_password.alternatives["action"]


def test_unplaced_queries_get_every_action_and_unknown_is_always_there() -> None:
    assert span_grammar("???", "unknown").alternatives["action"] == ["unknown"]
    assert branches(span_grammar("???", "unknown").gbnf) == ['b0 ::= "{\\"action\\":\\"unknown\\"}"']
    everything = span_grammar("alice bob P@ss1 /srv/x 10.0.0.1 ::1 a.local b.local", "unknown")
    assert len(everything.alternatives["action"]) == 10


def test_values_are_spans_with_quotes_and_possessives_removed_and_escaped() -> None:
    candidates = value_candidates("Revoke bob's access to 'Legal_Docs' with password=Pa\"ss\\1")
    assert "bob" in candidates["name"] and "Legal_Docs" in candidates["name"]
    assert "Pa\"ss\\1" in candidates["password"]
    assert "access" not in candidates["name"]  # stopwords are never names
    gbnf = span_grammar("Create user alice with password Pa\"ss\\1", "user").gbnf
    assert '"\\"Pa\\\\\\"ss\\\\\\\\1\\""' in gbnf  # JSON-escaped, then GBNF-escaped


def test_fillers_are_never_names_and_contractions_never_passwords() -> None:
    dictated = value_candidates("uh so yeah change the password for um rkowalski to W4rsaw!! okay")
    assert dictated["name"][0] == "rkowalski" and not {"uh", "yeah", "um", "okay"} & set(dictated["name"])
    assert dictated["password"] == ["W4rsaw!!"]
    story = span_grammar("reset the password for jdoe, she's locked out, I'll call her", "user")
    assert "change_password" not in story.alternatives["action"]  # no password in the command at all
    assert "add_user" not in story.alternatives["action"]
    assert "O'Neil1" in value_candidates("set the password for dmurphy to O'Neil1")["password"]


def test_sentence_words_field_names_and_commands_are_never_values() -> None:
    # A plain word with the sentence's punctuation after it ends the sentence; it is not a password.
    onboarding = span_grammar("hi, could you set up an account for rvance, he starts Tuesday. ta", "user")
    assert "add_user" not in onboarding.alternatives["action"]
    assert "O'Neil1." in value_candidates("set the password for dmurphy to O'Neil1.")["password"]  # a digit: a password
    # A mark or a bracket right after a password may end the sentence: both readings are offered.
    assert value_candidates("(new pw for ana: Fern-42.)")["password"][-2:] == ["Fern-42.)", "Fern-42"]
    # "field=value": the field's name is not part of a value; an action's name and a slash command are not passwords.
    keyed = value_candidates("remove_user name=okafor; /usr add_user")
    assert keyed["password"] == [] and "okafor" in keyed["name"] and "remove_user" not in keyed["name"]
    assert value_candidates("pw reset: eli => Glacier:Bay7")["password"] == ["Glacier:Bay7", "Bay7"]
    # Modal verbs and abbreviated field words ("grp", "pw") are never names.
    modal = value_candidates("the share payroll must not be open to kfrost anymore, grp hr only")
    assert not {"must", "not", "grp"} & set(modal["name"]) and {"payroll", "kfrost"} <= set(modal["name"])


def test_a_grammar_can_offer_one_action_and_unknown() -> None:
    command = "grp finance <- usr jlarsen"
    assert span_grammar(command, "user", only="add_to_group").alternatives["action"] == ["add_to_group", "unknown"]
    assert len(span_grammar(command, "user").alternatives["action"]) > 2
    # A value wrapped in brackets or quotes that is a plain word is a word of the sentence, not a password.
    assert value_candidates("offboard jlarsen (moved on) 'today'")["password"] == []


def test_multi_word_group_names_are_offered_as_bigrams() -> None:
    assert "Domain Admins" in value_candidates("Join user tchen to group Domain Admins")["group"]


def test_compact_json_is_the_grammar_form() -> None:
    intent = {"action": "dns_add", "zone": "api.local", "record_type": "A", "ip": "10.0.0.5"}
    assert compact_json(intent) == '{"action":"dns_add","zone":"api.local","record_type":"A","ip":"10.0.0.5"}'


CONTENT = '{"action":"dns_remove","zone":"old.local"}'
TOKENS = [
    ('{"action":"', p(0.01), {}),
    ("d", p(0.6), {"un": p(0.2), "x": p(0.15)}),
    ("ns_", p(0.9), {}),
    ("remove", p(0.3), {"add": p(0.6)}),
    ('","zone":"', p(0.5), {}),
    ("old.local", p(0.4), {}),
    ('"}', p(0.9), {}),
]


def raw_payload(tokens: list[tuple[str, float, dict[str, float]]]) -> dict:
    entries = [{"token": token, "logprob": logprob, "top_logprobs": [{"token": alt, "logprob": lp} for alt, lp in alts.items()]}
               for token, logprob, alts in tokens]
    return {"choices": [{"message": {"content": CONTENT}, "logprobs": {"content": entries}}]}


def test_logprob_confidence_renormalises_over_the_values_the_grammar_allowed() -> None:
    alternatives = {"action": ["dns_add", "dns_remove", "unknown"], "zone": ["old.local"]}
    confidence = logprob_confidence(CONTENT, {"action": "dns_remove", "zone": "old.local"}, alternatives, raw_payload(TOKENS))
    # "d" against "un" ("x" spells nothing allowed), then "remove" against "add"; the zone is forced.
    assert confidence == pytest.approx((0.6 / 0.8) * (0.3 / 0.9))


def test_logprob_confidence_is_none_without_usable_logprobs() -> None:
    intent = {"action": "dns_remove", "zone": "old.local"}
    assert logprob_confidence(CONTENT, intent, {}, {"choices": [{"message": {"content": CONTENT}}]}) is None
    mismatched = raw_payload([("something else", 0.0, {})])
    assert logprob_confidence(CONTENT, intent, {}, mismatched) is None

