"""Give golden/intents.jsonl and golden/router.jsonl their train / validation / test split (run once).

Until this script, both files had train and validation only, and the rules of the micro parser
and router were written with both in view. The rule below re-labels part of the old validation
items as ``test`` and moves a few into ``train`` so the retrieved few-shot demonstrations have a
larger pool; old train items stay train (the baseline templates show some of them).

The assignment is fixed and deterministic: within each stratum (intents: domain, action and, for
``dns_add``, the record type; router: the route) the old validation items are ordered by the
SHA-256 of their id and dealt out cyclically by a per-file pattern:

- intents: ``train, validation, test, test, train, validation, test`` (2 : 2 : 3 of every 7),
  starting at each stratum's own offset so small strata do not all start with ``train``;
- router: ``test, validation, test, validation, train, test, validation, test`` (per route, the
  17 old validation items become 2 train, 6 or 7 validation and 8 or 9 test).

Result: intents 99 train / 48 validation / 53 test, router 30 / 20 / 25. The script refuses to
deal a file twice: once any item is ``test`` the file is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INTENT_PATTERN = ("train", "validation", "test", "test", "train", "validation", "test")
ROUTER_PATTERN = ("test", "validation", "test", "validation", "train", "test", "validation", "test")


def _stratum_intent(record: dict) -> str:
    output = record["output"]
    return f"{record['domain']}/{output['action']}/{output.get('record_type', '')}"


def _stratum_route(record: dict) -> str:
    return record["route"]


def assign(records: list[dict], stratum, pattern: tuple[str, ...]) -> list[dict]:
    """New records: old train stays train, old validation is dealt out by ``pattern`` per stratum."""
    strata: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record["split"] == "validation":
            strata[stratum(record)].append(record)
    new_split: dict[str, str] = {}
    for name, members in sorted(strata.items()):
        members.sort(key=lambda record: hashlib.sha256(record["id"].encode()).hexdigest())
        offset = int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(pattern)
        for index, record in enumerate(members):
            new_split[record["id"]] = pattern[(offset + index) % len(pattern)]
    return [{**record, "split": new_split.get(record["id"], record["split"])} for record in records]


def rewrite(path: Path, stratum, pattern: tuple[str, ...]) -> None:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any(record["split"] == "test" for record in records):
        print(f"{path.name}: already split, unchanged", file=sys.stderr)
        return
    lines = [json.dumps(record, ensure_ascii=False) for record in assign(records, stratum, pattern)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    rewrite(ROOT / "intents.jsonl", _stratum_intent, INTENT_PATTERN)
    rewrite(ROOT / "router.jsonl", _stratum_route, ROUTER_PATTERN)
