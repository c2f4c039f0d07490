"""Values are safe (issue 12, item 4): a value that fails its field's own schema makes the intent
invalid, whether the rules or the model produced it."""

from __future__ import annotations

import asyncio
import json

import pytest
from fake_openai import FakeLLM
from test_intents_support import fake_client

from optimizer.intents.calibration import UNCALIBRATED
from optimizer.intents.keywords import route_domain
from optimizer.intents.models import InvalidIntentError, validate_intent
from optimizer.intents.pipeline import IntentParser, ParserConfig
from optimizer.intents.rules import parse_with_rules
from optimizer.intents.text import clean_input, glued_to_shell_syntax

UNSAFE = [
    ({"action": "create_share", "name": "etc", "path": "/srv/../etc"}, "path", "'..' segments"),
    ({"action": "create_share", "name": "etc", "path": "/srv/./x"}, "path", "'..' segments"),
    ({"action": "create_share", "name": "x", "path": "srv/x"}, "path", "absolute path"),
    ({"action": "create_share", "name": "x", "path": "/srv/x;reboot"}, "path", "absolute path"),
    ({"action": "dns_add", "zone": "a.local", "record_type": "A", "ip": "10.0.0.300"}, "dns_add", "not an IPv4 address"),
    ({"action": "dns_add", "zone": "a.local", "record_type": "AAAA", "ip": "2001:db8::zz"}, "dns_add", "not an IPv6 address"),
    ({"action": "dns_add", "zone": "a b.local", "record_type": "A", "ip": "10.0.0.3"}, "zone", "not a DNS name"),
    ({"action": "dns_add", "zone": "a.local", "record_type": "CNAME", "target": "$(curl x)"}, "target", "not a DNS name"),
    ({"action": "add_user", "username": "bob;rm", "password": "x"}, "username", "shell characters"),
    ({"action": "remove_user", "username": "$(whoami)"}, "username", "shell characters"),
    ({"action": "add_to_group", "username": "eve", "group": "wheel && reboot"}, "group", "not a group name"),
    ({"action": "grant_access", "username": "eve", "share": "hr|cat"}, "share", "not a share name"),
    ({"action": "change_password", "username": "eve", "password": "a\x07b"}, "password", "control characters"),
]


@pytest.mark.parametrize(("intent", "field", "message"), UNSAFE, ids=[f"{case[1]}:{list(case[0].values())[-1]!r}" for case in UNSAFE])
def test_a_value_failing_its_fields_schema_is_an_invalid_intent(intent: dict, field: str, message: str) -> None:
    with pytest.raises(InvalidIntentError, match=message) as caught:
        validate_intent(intent)
    assert field in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "intent",
    [{"action": "dns_add", "zone": "*.old.dev.local.", "record_type": "CNAME", "target": "d1.cloudfront.net."},
     {"action": "add_to_group", "username": "olivia_w", "group": "Domain Admins"},
     {"action": "create_share", "name": "Legal_Docs", "path": "/srv/samba/scanner-output"},
     {"action": "add_user", "username": "lars.nilsson", "password": "x;K9#m|Q2$vL`&"}],
)
def test_ordinary_values_and_any_password_pass(intent: dict) -> None:
    assert validate_intent(intent).as_dict() == intent


def rules(text: str) -> dict:
    cleaned = clean_input(text)
    return parse_with_rules(cleaned, route_domain(cleaned).domain)


@pytest.mark.parametrize(
    ("command", "reason"),
    [("Create a share called data at /srv/../etc", "'..' segments"),
     ("Delete user bob;rm -rf /", "runs into shell syntax"),
     ("Add user eve|cat with password Secret1", "runs into shell syntax"),
     ("give bob access to the hr;reboot share", "runs into shell syntax")],
)
def test_the_rules_refuse_unsafe_values(command: str, reason: str) -> None:
    parsed = rules(command)
    assert parsed.intent.as_dict() == {"action": "unknown"} and parsed.certain and reason in parsed.reason


@pytest.mark.parametrize(
    ("command", "reply", "error"),
    [("Share /srv/../etc as data", '{"action":"create_share","name":"data","path":"/srv/../etc"}', "'..' segments"),
     ("point a.local at 10.0.0.300", '{"action":"dns_add","zone":"a.local","record_type":"A","ip":"10.0.0.300"}', "IPv4"),
     ("remove user bob;reboot now", '{"action":"remove_user","username":"bob"}', "runs into shell syntax"),
     ("remove user bob;reboot now", '{"action":"remove_user","username":"bob;reboot"}', "shell characters")],
)
def test_the_model_cannot_smuggle_an_unsafe_value_past_the_schema(command: str, reply: str, error: str) -> None:
    fake = FakeLLM()
    fake.enqueue(reply)
    parser = IntentParser(fake_client(fake), config=ParserConfig(mode="model_first"), calibration=UNCALIBRATED)
    result = asyncio.run(parser.parse(command))
    assert error in (result.model_error or "") and result.model_intent is None
    assert result.intent == {"action": "unknown"} and result.path == "fallback"
    json.dumps(result.model_dump())


def test_glued_values_only_when_every_occurrence_touches_shell_syntax() -> None:
    assert glued_to_shell_syntax("bob", "delete bob;rm")
    assert not glued_to_shell_syntax("bob", "delete bob; also bob")  # the second "bob" stands alone
    assert not glued_to_shell_syntax("bob", "delete user bob.")
    assert not glued_to_shell_syntax("x", "no such value")
    # "; key:" separates the fields of a key: value list; "; command" is still shell syntax.
    assert not glued_to_shell_syntax("bob", "username: bob; password: x")
    assert not glued_to_shell_syntax("bob", "create user bob; The password is x")  # a clause about the password
    assert glued_to_shell_syntax("bob", "delete user bob; rm -rf /")
