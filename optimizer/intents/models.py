"""Intents: what a deterministic infrastructure command means, as strict pydantic models.

One model per action, discriminated by ``action``. An intent holds ``action`` plus exactly the
keys that action needs (``dns_add`` holds ``ip`` for A/AAAA records, ``target`` for CNAME), so its
JSON form (``Intent.as_dict``) is the shape of ``golden/intents.jsonl``'s ``output``. The same
definitions give the JSON schema sent to the server for constrained decoding.
"""

from __future__ import annotations

import ipaddress
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from optimizer.errors import WorkbenchError


class IntentError(WorkbenchError):
    """An intent, a parser setting or a parser input is not acceptable."""


class InvalidIntentError(IntentError):
    """A dict (usually a model's output) is not a valid intent; the message names the problem."""


class Action(str, Enum):
    dns_add = "dns_add"
    dns_remove = "dns_remove"
    add_user = "add_user"
    remove_user = "remove_user"
    add_to_group = "add_to_group"
    change_password = "change_password"
    create_share = "create_share"
    grant_access = "grant_access"
    revoke_access = "revoke_access"
    unknown = "unknown"


DOMAINS = ("dns", "user", "samba", "mail", "unknown")
"""What the keyword router can say; ``mail`` has no micro parser (it goes to the general model)."""

ACTIONS_BY_DOMAIN: dict[str, tuple[Action, ...]] = {
    "dns": (Action.dns_add, Action.dns_remove),
    "user": (Action.add_user, Action.remove_user, Action.add_to_group, Action.change_password),
    "samba": (Action.create_share, Action.grant_access, Action.revoke_access),
}
ALL_ACTIONS: tuple[Action, ...] = tuple(Action)


def actions_for(domain: str) -> tuple[Action, ...]:
    """What a query of ``domain`` may become: its domain's actions (all of them when the keyword
    router could not place it), and always ``unknown``."""
    commands = tuple(action for action in Action if action is not Action.unknown)
    return (*ACTIONS_BY_DOMAIN.get(domain, commands), Action.unknown)
RECORD_TYPES = ("A", "AAAA", "CNAME")

Value = Annotated[str, Field(min_length=1, max_length=200)]

# Each field's own schema. Whoever produced a value (rules or model), a value that fails it makes
# the intent invalid: the intent drives shell-level tools (useradd, smbpasswd, nsupdate), so a
# username with ``;`` or a share path with ``..`` is never passed on, however it was extracted.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
HOSTNAME_PATTERN = rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})*\.?$"
"""A DNS name: dot-separated labels, an optional leading ``*.`` wildcard and trailing root dot."""
ACCOUNT_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$"
"""A user or share name: letters, digits, ``.``, ``_``, ``-`` (a trailing ``$`` for hidden shares or
machine accounts); no whitespace, quotes or shell metacharacters."""
GROUP_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*(?: [A-Za-z0-9_][A-Za-z0-9._-]*)*$"
"""A group name: as an account name, but single spaces between words (``Domain Admins``)."""
PATH_PATTERN = r"^(?:/[A-Za-z0-9._@+=:,~-]+)+/?$|^/$"
"""An absolute path of plain segments; ``..`` segments are refused separately."""
Hostname = Annotated[str, Field(min_length=1, max_length=253, pattern=HOSTNAME_PATTERN)]
Account = Annotated[str, Field(min_length=1, max_length=64, pattern=ACCOUNT_PATTERN)]
GroupName = Annotated[str, Field(min_length=1, max_length=64, pattern=GROUP_PATTERN)]
Password = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _safe_path(value: str) -> str:
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError("a path must not contain '.' or '..' segments")
    return value


SharePath = Annotated[str, Field(min_length=1, max_length=200, pattern=PATH_PATTERN), AfterValidator(_safe_path)]


class IntentModel(BaseModel):
    """Base of the intent models: unknown keys are an error, and an intent never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def as_dict(self) -> dict[str, Any]:
        """The golden-file form: ``action`` first, absent keys left out."""
        return self.model_dump(mode="json", exclude_none=True)


def ip_version(text: str) -> int | None:
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


class DnsAdd(IntentModel):
    action: Literal[Action.dns_add] = Action.dns_add
    zone: Hostname
    record_type: Literal["A", "AAAA", "CNAME"]
    ip: Value | None = None
    target: Hostname | None = None

    @model_validator(mode="after")
    def _address_matches_type(self) -> "DnsAdd":
        if self.record_type == "CNAME":
            if self.target is None or self.ip is not None:
                raise ValueError("a CNAME record needs 'target' and no 'ip'")
        else:
            if self.ip is None or self.target is not None:
                raise ValueError(f"an {self.record_type} record needs 'ip' and no 'target'")
            wanted = 4 if self.record_type == "A" else 6
            if ip_version(self.ip) != wanted:
                raise ValueError(f"{self.ip!r} is not an IPv{wanted} address for an {self.record_type} record")
        return self


class DnsRemove(IntentModel):
    action: Literal[Action.dns_remove] = Action.dns_remove
    zone: Hostname


class AddUser(IntentModel):
    action: Literal[Action.add_user] = Action.add_user
    username: Account
    password: Password


class RemoveUser(IntentModel):
    action: Literal[Action.remove_user] = Action.remove_user
    username: Account


class AddToGroup(IntentModel):
    action: Literal[Action.add_to_group] = Action.add_to_group
    username: Account
    group: GroupName


class ChangePassword(IntentModel):
    action: Literal[Action.change_password] = Action.change_password
    username: Account
    password: Password


class CreateShare(IntentModel):
    action: Literal[Action.create_share] = Action.create_share
    name: Account
    path: SharePath


class GrantAccess(IntentModel):
    action: Literal[Action.grant_access] = Action.grant_access
    username: Account
    share: Account


class RevokeAccess(IntentModel):
    action: Literal[Action.revoke_access] = Action.revoke_access
    username: Account
    share: Account


class Unknown(IntentModel):
    action: Literal[Action.unknown] = Action.unknown


Intent = Annotated[
    Union[DnsAdd, DnsRemove, AddUser, RemoveUser, AddToGroup, ChangePassword, CreateShare, GrantAccess, RevokeAccess, Unknown],
    Field(discriminator="action"),
]
INTENT_ADAPTER: TypeAdapter[Intent] = TypeAdapter(Intent)
MODEL_BY_ACTION: dict[Action, type[IntentModel]] = {
    Action.dns_add: DnsAdd,
    Action.dns_remove: DnsRemove,
    Action.add_user: AddUser,
    Action.remove_user: RemoveUser,
    Action.add_to_group: AddToGroup,
    Action.change_password: ChangePassword,
    Action.create_share: CreateShare,
    Action.grant_access: GrantAccess,
    Action.revoke_access: RevokeAccess,
    Action.unknown: Unknown,
}
UNKNOWN = Unknown()


def value_keys(action: Action) -> tuple[str, ...]:
    """The keys an action may hold besides ``action``, in schema order."""
    return tuple(name for name in MODEL_BY_ACTION[action].model_fields if name != "action")


def validate_intent(data: Any) -> IntentModel:
    """A dict -> its intent model; raise ``InvalidIntentError`` with a one-line reason."""
    if not isinstance(data, dict):
        raise InvalidIntentError(f"an intent is a JSON object, got {type(data).__name__}")
    action = data.get("action")
    if action not in Action._value2member_map_:
        raise InvalidIntentError(f"action: {action!r} is not one of {', '.join(Action._value2member_map_)}")
    try:
        return INTENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "intent"
        message = first["msg"]
        if first["type"] == "string_pattern_mismatch":
            message = _FIELD_RULES.get(str(first["loc"][-1]), message)
        raise InvalidIntentError(f"{where}: {message}") from None


_FIELD_RULES = {
    "zone": "not a DNS name (labels of letters, digits, '-' and '_', optional '*.' and trailing dot)",
    "target": "not a DNS name (labels of letters, digits, '-' and '_', optional '*.' and trailing dot)",
    "username": "not an account name (letters, digits, '.', '_', '-'; no spaces, quotes or shell characters)",
    "share": "not a share name (letters, digits, '.', '_', '-'; no spaces, quotes or shell characters)",
    "name": "not a share name (letters, digits, '.', '_', '-'; no spaces, quotes or shell characters)",
    "group": "not a group name (words of letters, digits, '.', '_', '-'; no quotes or shell characters)",
    "path": "not an absolute path of plain segments (no spaces, quotes or shell characters)",
    "password": "a password must not contain control characters",
}


def is_valid_intent(data: Any) -> bool:
    try:
        validate_intent(data)
    except InvalidIntentError:
        return False
    return True


def _object_schema(action: Action, *, record_types: tuple[str, ...] = (), address_key: str = "") -> dict[str, Any]:
    """One ``oneOf`` branch; for ``dns_add`` the record types and the one address key it allows."""
    properties: dict[str, Any] = {"action": {"const": action.value}}
    required = ["action"]
    for key in value_keys(action):
        if key == "record_type":
            properties[key] = {"enum": list(record_types)}
        elif key in ("ip", "target") and key != address_key:
            continue
        else:
            properties[key] = {"type": "string"}
        required.append(key)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def intent_json_schema(actions: tuple[Action, ...] = ALL_ACTIONS) -> dict[str, Any]:
    """A JSON schema (llama.cpp ``response_format`` dialect: ``oneOf``/``const``) for these actions.

    ``dns_add`` is split into an address branch (A/AAAA + ``ip``) and a CNAME branch (+ ``target``)
    so the grammar derived from it cannot produce an A record without an address.
    """
    branches: list[dict[str, Any]] = []
    for action in actions:
        if action is Action.dns_add:
            branches.append(_object_schema(action, record_types=("A", "AAAA"), address_key="ip"))
            branches.append(_object_schema(action, record_types=("CNAME",), address_key="target"))
        else:
            branches.append(_object_schema(action))
    return {"oneOf": branches}
