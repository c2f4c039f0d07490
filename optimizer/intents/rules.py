"""The deterministic parser: regular patterns over the typo-corrected command, per domain.

It is both the fast path (when it is certain) and the fallback of the micro model (when the
model's output is invalid or unsure). It follows golden/README_intents.md's labelling rules:
values are copied verbatim, a missing required value means ``unknown``, and questions,
negations and unsupported operations mean ``unknown``.

The rules are *certain* only when a pattern matched fully; anything else is *no opinion*, and the
model decides. Each result has a ``kind`` (what decided; the calibration bins of
``calibration.py``) and a raw confidence:

- ``match`` (``CERTAIN``, 0.95): a pattern for the action matched and every value was found;
- ``typo`` (``TYPO``, 0.8): the same, but only after correcting a misspelt keyword;
- ``refusal`` (``DEFINITE``, 0.9): a pattern that means ``unknown`` matched fully (a question, a
  negation or a deferral, a hypothetical, an unsupported operation or record type, deleting a share,
  mail) or a value failed its field's schema;
- ``partial`` (``PARTIAL``, 0.3): an action's cue matched but a value was not found; ``unknown``
  is what the rules say, but a phrasing they do not know looks the same, so it is no opinion;
- ``none`` (``NO_OPINION``, 0.0): the domain is known but no pattern matched;
- ``several`` (``SEVERAL``, 0.6): the command holds more than one action (two clauses each with an
  action verb, a chain of shell commands, a second account or group); out of scope, so ``unknown``,
  but the cue can misfire, so it is not certain: the model is asked and must be surer than this
  kind's calibrated confidence (unlike ``partial`` and ``none``, it is an opinion);
- ``unplaced`` (``UNPLACED``, 0.6): the keyword router placed the query nowhere; the rules say
  ``unknown`` with no pattern behind it (most such queries are chit-chat, so its calibrated
  confidence is high, and a general model has to be surer than that to turn it into a command).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from optimizer.intents.keywords import route_domain
from optimizer.intents.models import UNKNOWN, InvalidIntentError, IntentModel, validate_intent
from optimizer.intents.text import HESITATIONS, KEYWORDS, NAME_KEYS, STOPWORDS, Entity, corrected_text, entities, glued_to_shell_syntax

CERTAIN = 0.95
DEFINITE = 0.9
TYPO = 0.8
PARTIAL = 0.3
NO_OPINION = 0.0
CERTAIN_KINDS = frozenset({"match", "typo", "refusal"})
NO_OPINION_KINDS = frozenset({"partial", "none"})
"""Kinds whose ``unknown`` is no opinion: a usable model answer is not weighed against them."""
UNPLACED = 0.6
SEVERAL = 0.6
DOUBT = 0.6
RAW_CONFIDENCE = {"match": CERTAIN, "typo": TYPO, "refusal": DEFINITE, "partial": PARTIAL, "none": NO_OPINION, "unplaced": UNPLACED,
                  "several": SEVERAL, "doubt": DOUBT}
"""Kinds besides these: ``several`` (two actions in one request) and ``doubt`` (a report of what was
done, a hypothetical, a plan or a request called off): the rules' ``unknown`` is an opinion, not
certain, so the model is asked; its answer is right only when the rules misread the request."""

_FLAGS = re.IGNORECASE
# A value is never a stopword: the look-ahead makes a pattern try its next reading instead.
_NEVER_NAMES = STOPWORDS | frozenset(
    "add create delete remove drop make set grant revoke give change reset username password passwd"
    # Auxiliaries after a key ("the account can be removed"); not "will" or "may", which are names too.
    " can could should must shall needs need has had does did was were are been being now already also still just".split()
) | HESITATIONS | frozenset(
    "everything anything nothing both".split()
)
_NOT_STOPWORD = r"(?![`'\"(]?(?:" + "|".join(sorted(_NEVER_NAMES, key=len, reverse=True)) + r")(?![\w.\-$]))"
# A value may stand in quotes, backticks or brackets ("`svc-web`", "(ext.li)"); _clean_value takes them off.
_NAME = _NOT_STOPWORD + r"(?:'[^'\s]+'|\"[^\"\s]+\"|`[^`\s]+`|\(\w[\w.\-]*\$?\)|\w[\w.\-]*)"
# A day, a time or a courtesy after a group's name is not part of it ("group Finance Monday", "group Ops Today").
_NOT_GROUP_WORD = (r"(?!(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|tonight|now|asap|please|thanks|thank"
                   r"|thx|cheers|regards|best|morning|afternoon|evening|eod|before|after|by|until|till|when|once|if|as|so|and|or|but|for"
                   r"|january|february|march|april|june|july|august|september|october|november|december|next|this)\b)")
_SLOTS = {
    "U": rf"(?P<user>{_NAME}\$?)",  # a machine or service account may end in "$" too
    # A share name may end in "$" (a hidden share: "backups$").
    "S": rf"(?P<share>{_NAME}\$?)",
    "N": rf"(?P<name>{_NAME}\$?)",
    # A group may run on over Title-case words ("Domain Admins"); the case test ignores re.I.
    # A quoted group may hold spaces ('"Domain Admins"').
    "G": rf"(?P<group>\"[^\"]+\"|`[^`]+`|'[^'\s][^']*[^'\s]'(?![\w])|(?:{_NAME})(?:\s+{_NOT_GROUP_WORD}(?-i:[A-Z][a-z][\w\-]*))*)",
    "PW": r"(?P<password>'[^']+'|\"[^\"]+\"|`[^`]+`|\S+)",
}
_PASSWORD_STOPWORDS = frozenset(
    "the a an his her it its to for is be something anything same new will would should shall must can may might"
    " expired wrong invalid incorrect missing locked required needed as"
    # A description of a password, not one: "reset it to whatever he had", "to the default", "a random one".
    " whatever default previous old original blank empty random temporary strong secure one him them me us match expire never use be"
    # Where the password is, not what it is: "password: see ticket", "the password from the vault", "in the attached file".
    " see from in on at per via attached below above tbd none"
    # When or how it comes, not what it is: "I'll send the password separately".
    " separately later offline tomorrow soon afterwards"
    # A clause about a password, not one: "reset it to what it was before", "to whichever she used".
    " what which whichever that this those these".split()
)

_WRAPPERS = [
    re.compile(pattern, _FLAGS)
    for pattern in (
        # Greetings, "Hi team,", "Good morning all -".
        (r"^(?:hey|hi|hello|yo|ok|okay|so|also|and|thanks|good\s+(?:morning|afternoon|evening)|morning|greetings)"
         r"(?:\s+(?:it\s+|ops\s+|admin\s+|support\s+|helpdesk\s+|infra\s+)?(?:team|all|everyone|everybody|folks|guys|there|again))?"
         # Not the first label of a hostname or a compound name ("hello.corp.lan", "ok-test").
         r"\b(?![.\-@_]\w)[\s,!.:;-]*"),
        r"^(?:quick one|one more thing|heads up|quick question|question|just checking|just wondering)\s*[:,!.-]\s*",
        # A courtesy about the reader's time before the ask: "when you have a sec could you ...", "whenever you get a moment, ...".
        (r"^(?:when(?:ever)?|if)\s+(?:you|u)\s+(?:have|get|got|find)\s+(?:a|the)\s+(?:(?:free|spare|quick)\s+)?"
         r"(?:sec|second|moment|minute|min|chance|mo)\b[\s,.:;-]*"),
        r"^i\s+(?:was|am)\s+wondering\s+(?:if|whether)\s+(?:you\s+)?(?:could|can|might)\s+(?:please\s+)?",
        # Ticket and request prefixes: "Ticket 4411: ", "Ticket #882 - ", "INC0012345 ", "[OPS-12] ".
        # The number stands apart from the word ("Ticket 12", "case #7") or is long ("INC0012345"), so that
        # a name such as "req1" is not taken for a ticket.
        (r"^(?:(?:re|fw|fwd)\s*:\s*)?(?:(?:ticket|tkt|req|request|incident|inc|case|issue|task|chg|change\s+request|jira|sr|ref)"
         r"(?:\s*[#:]\s*|\s+)[a-z]*-?\d[\w-]*|(?:inc|req|chg|ritm|tkt|sr)\d{3,}[\w-]*)\s*(?:[:\-–—,]+\s*|\s+)"),
        r"^\[[\w\s#:-]{1,30}\]\s*[:\-–—]?\s*",
        r"^(?:urgent|fyi|reminder|todo|to-?do|note|action\s+required|quick\s+request|small\s+request|high\s+priority|low\s+priority)"
        r"\s*[:!\-–—]+\s*",
        # Context clauses before the command: "Since Tom left last week, ...", "As discussed, ...".
        (r"^(?:as\s+part\s+of|as\s+(?:per|discussed|requested|agreed|mentioned|promised|the|a|an|our|my|of)|since|because|when|after|before"
         r"|once|if|following|due\s+to|per|given|now\s+that|in\s+preparation\s+for|ahead\s+of|effective|starting|upon|while|although"
         r"|though)\b[^,]{0,80},\s*"),
        r"^(?:please|kindly|bitte|por\s+favor|per\s+favore|s'il\s+vous\s+pla[iî]t|svp)\b(?![.\-@_]\w)[\s,]*",
        # A chat-ops command: "/user add NAME PASS", "/dns rm HOST", "/share grant USER SHARE" (the slash only).
        r"^/(?=(?:dns|users?|shares?|samba|smb|groups?)\s)",
        # Spoken openers: "yeah so delete ...", "like, change ...", "right, add ..." (not a hostname's label: "well.lan").
        r"^(?:yeah|yep|yup|well|right|alright|anyway|basically|actually|like)\b(?![.\-@_]\w)[\s,]*",
        # A deadline or a manner before the command: "before friday please: ...", "temporarily open ...".
        r"^(?:before|b4|by|until|no\s+later\s+than)\s+(?:[\w-]+\s+){0,2}?[\w-]+\s*(?:please\s*)?:\s*",
        r"^(?:temporarily|urgently|quickly|asap)\b(?![.\-@_]\w)[\s,:]*",
        r"^(?:would|do)\s+you\s+mind\s+",
        r"^mind\s+",
        r"^(?:would|will)\s+it\s+be\s+possible\s+to\s+",
        # "Is possible you add ...": the same without "it".
        r"^(?:is\s+(?:it\s+)?possible|is\s+there\s+any\s+way|any\s+chance)\s+(?:for\s+you\s+)?(?:to|you\s+could|you\s+can|you)\s+",
        r"^(?:it\s+)?would\s+be\s+(?:great|nice|awesome|good|helpful|lovely)\s+if\s+(?:you|someone)\s+(?:could|can)\s+",
        r"^(?:could|can|would|will)\s+(?:you|ya|ye|someone|somebody|anyone|anybody)\s+(?:please\s+|kindly\s+)?",
        # A request in the first person plural: "Can we add ...?" ("Can I delete ...?" may ask for permission: a question).
        r"^(?:can|could)\s+we\s+(?:please\s+)?(?=(?:add|create|remove|delete|drop|grant|give|revoke|set\s*up|make|point|map)\b)",
        # "Could we get an alias X for Y?", "Can we have a share ...": a request for something made.
        r"^(?:can|could)\s+(?:we|i)\s+(?:please\s+)?(?:get|have)\s+(?=(?:a|an|the)\s+(?:new\s+)?(?:\w+\s+)?(?:record|alias|cname|entry|share|account|login)\b)",
        # "Can we get X membership in the G group?", "Could we get X access to the Y share?".
        r"^(?:can|could)\s+(?:we|i)\s+(?:please\s+)?get\s+(?=[\w.\-]+\s+(?:a\s+)?(?:membership|access)\s+(?:in|of|to|on)\b)",
        # "Can I get user X added with password P": the causative "get" stays for the patterns.
        r"^(?:can|could)\s+(?:we|i)\s+(?:please\s+)?(?=get\s+(?:the\s+)?(?:new\s+)?(?:user|account|login)\s+[\w.\-]+\s+(?:added|created|set\s+up)\b)",
        r"^(?:please\s+)?help\s+(?:me|us)\s+(?:to\s+)?(?=(?:add|create|remove|delete|drop|grant|give|revoke|set\s*up|make|point|map)\b)",
        r"^i'd\s+appreciate\s+it\s+if\s+you\s+could\s+",
        r"^(?:i\s+think\s+)?(?:we|i|you)\s+(?:need|want|would\s+like|have|must|should|got)\s+to\s+",
        r"^(?:i|we)\s+need\s+you\s+to\s+",
        r"^(?:need|have)\s+to\s+",
        r"^(?:i'd|i\s+would|we'd|we\s+would)\s+like\s+(?:you\s+)?to\s+",
        r"^(?:let's|go\s+ahead\s+and|make\s+sure\s+(?:to|you)|remember\s+to|don't\s+forget\s+to|do\s+not\s+forget\s+to)\s+",
    )
]
_QUESTION_WORDS = frozenset(
    "why how what what's whats which who whom whose where when is are was were should does do did am can could would shall"
    " might isn't aren't doesn't didn't wasn't whether shouldn't shouldnt couldn't couldnt wouldn't wouldnt isnt arent doesnt didnt"
    " wasnt".split()
)
# "Will", "May" and "Has" open a question only before a subject ("Will it ...?", "May I ...?"): Will and May are names too.
_MODAL_QUESTION = re.compile(
    r"(?:will|may|has|have)\s+(?:i|we|you|it|this|that|there|he|she|they|the|a|an|my|our|your|their|his|her|anyone|someone"
    r"|somebody|anybody|everyone)\b",
    _FLAGS,
)
# A request in a question's form ("Can ya nuke ...?", "Can we get X membership in G?", "Would be great if X could
# get into ..."): a modal addressed to the reader, or a wish; what the wrappers did not take is not surely a question.
_REQUEST_MODAL = re.compile(
    r"(?:can|could|would|will)\s+(?:you|ya|ye|we|someone|somebody|anyone|anybody|one\s+of\s+you|i\s+(?:please\s+)?(?:get|have))\b"
    r"|(?:it\s+)?would\s+be\b",
    _FLAGS,
)
# A report of an action done ("FYI I already removed user X yesterday", "the record was deleted last week", "no action
# needed"), read on the text before typo correction (which reads "removed" as "remove"). Not a command, unless an
# imperative action verb opens a clause of its own ("It was removed by mistake. Add it back ...": no certain reading).
_PAST_ACTION = (r"(?:removed|deleted|dropped|purged|erased|wiped|nuked|added|created|registered|granted|revoked|changed|updated|gave"
                r"|given|made|blocked|disabled|provisioned|offboarded|onboarded|deprovisioned|took\s+away|taken\s+away|cut\s+off|set\s+up"
                # The admin synonyms' past forms: "we rotated X's password", "stripped bob's access", "wired up ana to devs".
                # Not "retired", "decommissioned", "pointed": said of a machine in context ("we retired the box, so X can go").
                r"|rotated|stripped|wired\s+up|hooked\s+up|mapped|opened\s+up|enrolled|revoked|deactivated|zapped|scrapped|binned)")
_REPORTED_DONE = re.compile(
    # Not after a modal or "please" ("could you set up a login", "can we put X in ..."): a request, not a report.
    r"(?<![\w\-./@])(?<!\bcould\s)(?<!\bcan\s)(?<!\bwould\s)(?<!\bwill\s)(?<!\bplease\s)"
    r"(?:i|we|he|she|they|someone|somebody|you|ops|it)(?:'ve|'d|\s+have|\s+has|\s+had)?\s+"
    r"(?:already\s+|just\s+|finally\s+|also\s+|previously\s+|recently\s+)*" + _PAST_ACTION + r"(?![\w\-/$@]|\.\w)"
    r"|\b(?:already|just)\s+(?:been\s+)?" + _PAST_ACTION + r"(?![\w\-/$@]|\.\w)"
    r"|\b(?:was|were|has\s+been|have\s+been|had\s+been|got)\s+(?:already\s+|just\s+)?" + _PAST_ACTION + r"(?![\w\-/$@]|\.\w)"
    r"|\bno\s+(?:further\s+)?action\s+(?:is\s+)?(?:needed|required|necessary)\b"
    # "... was set to P", "has been reset": the passive past of the verbs whose past looks like their present.
    r"|\b(?:was|were|has\s+been|have\s+been|had\s+been)\s+(?:already\s+|just\s+)?(?:set|reset|put)(?![\w\-/$@]|\.\w)"
    # A log line that opens with the past form ("rotated pw for X -> P", "Nuked web.lan"): a report of it done.
    r"|^\W*" + _PAST_ACTION + r"(?![\w\-/$@]|\.\w)",
    _FLAGS,
)
# Nothing left to do, whatever the command before says ("Add record X -> Y - done already", "(done by Bob)"), or a
# status that closes it ("DONE: ...", "[x] add ...", "status: rejected", "Undo: ...", a struck-through "~~delete X~~").
_NOTHING_TO_DO = re.compile(
    r"\bno\s+(?:further\s+)?action\s+(?:is\s+)?(?:needed|required|necessary)\b"
    r"|(?<!\bbe\s)\b(?:done|completed|handled|taken\s+care\s+of)\s+by\s+(?!(?:the\s+)?(?:end|eod|eow|cob|tomorrow|tonight|today|noon|monday"
    r"|tuesday|wednesday|thursday|friday|saturday|sunday|next|this|\d))"
    r"|^\W*(?:\[\s*)?(?:done|closed|completed|resolved|fixed|rejected|denied|declined|cancell?ed|won't\s+do|wontfix|duplicate|undo"
    r"|revert(?:ed)?|roll\s*back|rolled\s+back)\s*(?:\]|:|-|–|—)"
    r"|\bstatus\s*[:=]\s*(?:done|closed|completed|resolved|rejected|denied|declined|cancell?ed|on\s+hold|pending)\b"
    r"|\bapprov(?:ed|al)\s*[:=]\s*(?:no|false|denied|rejected|pending)\b|\b(?:pending|awaiting|waiting\s+(?:for|on))\s+(?:[\w\-]+(?:'s)?\s+){0,2}?(?:approval|sign-?off|go-?ahead|confirmation)\b"
    r"|\bnot\s+(?:yet\s+)?approved\b|\brequest\s+(?:denied|rejected|declined)\b"
    # Still waiting at the end: "(approval pending)", "- waiting on Sam", "awaiting sign-off".
    r"|\bapproval\s+(?:is\s+)?(?:still\s+)?(?:pending|outstanding|required|needed)\b"
    r"|\b(?:pending|awaiting\s+[\w.\-]+|waiting\s+(?:on|for)\s+[\w.\-]+)\s*[)\].!]*\s*$"
    r"|(?:^|\s)[-*]?\s*\[[xX✓✔]\]\s+(?!.*\[\s\])|~~[^~]+~~"
    # A trailing status: "... - done, closing ticket", "... (resolved)", "ticket closed".
    r"|(?:\s[-–—:]\s*|[(\[]\s*|,\s*)(?:done|completed|resolved|closed|fixed)\s*[)\]]?\s*(?:[,.;!]|$)"
    # A bare status word closing the line: "user X password reset to P done".
    r"|(?<!\bwhen)(?<!\bonce)(?<!\bif)(?<!\bget)(?<!\bgets)(?<!\bis)(?<!\bbe)(?<!\bare)(?<!\bbeen)(?<!'s)\s(?:done|completed)\s*[.!]*$"
    r"|\bclosing\s+(?:the\s+|this\s+)?(?:ticket|request|case)\b|\b(?:ticket|request|case)\s+(?:is\s+)?(?:closed|resolved|completed)\b"
    r"|\b(?:already\s+(?:done|completed|taken\s+care\s+of|sorted|handled)|(?:done|completed|sorted|handled)\s+already)\b"
    # "..., which we did on monday", "we did that", "which has been done": a report of it done.
    r"|\b(?:which|and)\s+(?:we|i|they|he|she|ops|it|someone)\s+(?:already\s+)?did\b(?!\s*(?:not\b|n't))"
    r"|\b(?:we|i|they)\s+(?:already\s+)?did\s+(?:it|that|this)\b|\bwhich\s+(?:was|has\s+been|had\s+been)\s+(?:already\s+)?done\b",
    _FLAGS,
)
# Thanks for something done ("Thanks for deleting user X!"), not "thanks in advance".
_THANKED_FOR = re.compile(r"\b(?:thanks|thank\s+you|thx|ty|cheers)\s+(?:so\s+much\s+|a\s+lot\s+|again\s+)?for\s+\w+ing\b", _FLAGS)
# A condition on the command ("If bob leaves, delete his account", "remove X in case the audit fails"): a hypothetical
# (labelling rule 7) or a command with a precondition; the rules cannot tell which. Not a courtesy ("if it's not too much
# trouble", "if possible", "if you can") nor a wish ("it would be great if you could").
_CONDITION = re.compile(
    r"(?<!\bwhat\s)(?<!great\s)(?<!good\s)(?<!nice\s)(?<!lovely\s)(?<!helpful\s)(?<!awesome\s)(?<!brilliant\s)(?<!ideal\s)"
    r"(?<!perfect\s)(?<!appreciate\sit\s)(?<!grateful\s)(?<!wondering\s)(?<!wonder\s)"
    # An apology is no condition: "Sorry if this is a silly question, but could you ...".
    r"(?<!sorry\s)(?<!apologies\s)(?<!apologize\s)(?<!apologise\s)(?<!pardon\sme\s)"
    r"(?<![\w\-/$@.#!&*+=])(?:if|in\s+case|unless|provided\s+that|assuming|as\s+long\s+as)(?![\w\-/$@#!&*+=]|\.\w)"
    r"(?!\s+(?:(?:it's|it\s+is|that's|that\s+is|this\s+is|it\s+were|it\s+would\s+be)\s+(?:not\s+too\s+much\s+(?:trouble|hassle|work)"
    r"|(?:ok|okay|alright|all\s+right|fine|possible|no\s+trouble|not\s+a\s+problem|no\s+problem|easier|convenient)\b)"
    r"|(?:at\s+all\s+)?possible\b|you\s+(?:can|could|don't\s+mind|do\s+not\s+mind|have|get|would|wouldn't|please)\b|(?:you\s+)?please\b))"
    # Waiting for someone's word: "(after HR confirms)", "once the manager approves", "when legal signs off".
    r"|\b(?:once|after|when|as\s+soon\s+as|until|till)\s+(?:\w+\s+){0,3}?(?:confirms?|approves?|signs?\s+off|gives?\s+(?:the\s+)?(?:go|ok|okay)"
    r"|says?\s+so|(?:is|has\s+been)\s+approved|agrees?)\b"
    # A future event the command waits for: "delete user X when he leaves", "... once she's back", "after they join".
    r"|\b(?:when|once|after|as\s+soon\s+as)\s+(?:he|she|they|he's|she's|they're|the\s+\w+|his\s+\w+|her\s+\w+|their\s+\w+)\s+"
    r"(?:(?:has|have|is|are|actually|finally|officially)\s+)?"
    r"(?:leaves?|left|joins?|joined|starts?|started|returns?|returned|is\s+back|are\s+back|comes?\s+back|back|arrives?|finish(?:es)?|ends?"
    # "... once the migration is done", "after the cutover is complete".
    r"|(?:is|are|has\s+been|have\s+been)\s+(?:done|over|complete|completed|finished|live|through))\b"
    # "once he passes probation", "as soon as she signs the NDA": "once" with its own subject waits for an event.
    r"|\b(?:once|as\s+soon\s+as)\s+(?:he|she|they|he's|she's|they're|it|it's|the\s+\w+|his\s+\w+|her\s+\w+|their\s+\w+)\s+\w+"
    # A planned event named as a time: "remove X after cutover", "once the migration ...", "post go-live".
    r"|\b(?:after|once|post|following)\s+(?:the\s+|our\s+|tonight's\s+|tomorrow's\s+)?(?:cutover|cut-over|migration|go-?live|switchover"
    r"|rollout|roll-out|decommission(?:ing)?|maintenance(?:\s+window)?|upgrade|change\s+window)\b",
    _FLAGS,
)
# Not for real: a dry run, a simulation, "what if", an example ("e.g. delete user X", "remove user X (dry run)").
_NOT_FOR_REAL = re.compile(
    r"\bdry[\s\-_]?run\b(?!\s*[:=]\s*(?:false|no|0|off)\b)|\bsimulat(?:e|ed|es|ion|ing)\b|\bwhat[\s\-]if\b"
    r"|^\W*(?:example|e\.g\.|for\s+(?:example|instance)|sample)(?:\s*[:,.\-–—]|\s)",
    _FLAGS,
)
# "We don't use X anymore, remove it": a reason to act, not a negated command.
_NO_LONGER_NEEDED = re.compile(
    r"\b(?:we|i|he|she|they|nobody|no\s+one)\s+(?:don't|doesn't|do\s+not|does\s+not|won't|will\s+not)\s+(?:need|use|want)\b(?!\s+to\b)"
    r"[^,;!?]{0,60}?\b(?:anymore|any\s+more|any\s+longer)\b",
    _FLAGS,
)
# Text that addresses the parser itself ("ignore all previous instructions and ...") is data, never a command.
_OVERRIDE = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|system|your)?\s*"
    r"(?:instructions|rules|prompts?|guidelines)\b",
    _FLAGS,
)
_HYPOTHETICAL = re.compile(
    r"(?:suppose|supposing|imagine|hypothetically|what\s+if|in\s+theory|theoretically|let's\s+say|say\s+we"
    # Doubt rather than a request: "not sure if we should give ...", "should we remove ...".
    r"|(?:i'm\s+|i\s+am\s+|we're\s+)?(?:not\s+sure|unsure)\s+(?:if|whether)|should\s+(?:we|i)|maybe\s+we\s+should)\b", _FLAGS
)
_NEGATION = re.compile(
    # Not the reason's negation, with its own subject ("delete X as she won't return", "he never logs in"): it does not
    # negate the command; "never mind" is a request called off (_CALLED_OFF), which the model weighs.
    r"(?<![\w\-/$@.#!&*+=])(?<!\bhe\s)(?<!\bshe\s)(?<!\bthey\s)(?<!\bit\s)(?<!\bwho\s)(?<!\bwhich\s)"
    r"(?:don't|dont|do\s+not|never(?!\s*mind)|shouldn't|should\s+not|won't|must\s+not|mustn't"
    # Deferred or called off: "hold off on removing X", "not yet", "cancel the request to add X"; not "no need to keep X".
    r"|hold\s+off|on\s+hold|postpone|not\s+(?:yet|now|today)|cancel(?:led)?|wait\s+(?:until|till|for)"
    r"|no\s+need\s+to(?!\s+(?:keep|retain|hold\s+on\s+to|preserve|maintain)\b)"
    # A bare "not" before the verb: "I'd like you to not delete X".
    r"|not\s+(?:to\s+)?(?:add|create|delete|remove|drop|give|grant|revoke|change|reset|set|make|touch|modify|register|purge|erase"
    r"|point|map|share|disable|block))(?![\w\-/$@#!&*+=]|\.\w)",
    _FLAGS,
)
"""A negation word, not inside a value (a password ``Never#Again1``)."""
# Two commands in one request (labelling rule 10: out of scope): an action verb opens two clauses.
# "add web.lan and point it at 10.0.0.1", "add user X and set his password to Y" are one action: a verb with
# "it" or the new account's password continues the first clause.
_ACTION_VERB = (
    # Not "let me know": a courtesy, no action.
    r"(?:add|create|delete|remove|drop|grant|give|revoke|reset|change|put|kick|let(?!\s+(?:me|us)\s+know\b)|allow|open|cut\s+off"
    r"|take\s+away|block|deny|disable|enable|register|purge|erase|provision|offboard|onboard|set\s+up|make|set|point|map"
    # The admin synonyms: "strip access ...", "wire up ...", "rotate ...", "nuke ...", "deprovision ...".
    r"|strip|wire\s+up|rotate|nuke|deprovision)(?![\w\-/$@]|\.\w)"
    # "... and give him the password X": the new account's password, no second action.
    r"(?!\s+(?:it|it's|that|this|them|sure|(?:(?:him|her|them)\s+)?(?:(?:the|his|her|their|its|an?|initial|new)\s+)*(?:password|passwd|pw))\b)"
)
_CLAUSE_VERB = re.compile(
    r"(?:^|[.;!?]\s+|,\s*(?:and\s+)?(?:then|also|plus)\s+|\s+(?:and\s+)?then\s+|\s+and\s+(?:also\s+)?"
    # Numbered or bulleted lists: "1) add X 2) remove Y", "- add X - remove Y".
    r"|(?:^|\s)\(?\d{1,2}[.)]\s+|(?:^|\s)[-*•]\s+)"
    r"(?:(?:please|also|then|and)\s+)*" + _ACTION_VERB,
    _FLAGS,
)
# A command in a clause of its own after context: "...: please give X access", "... . Delete the record X", "..., but please add X".
_COMMAND_AFTER = re.compile(r"(?:[.;:!?,]|\s[-–—]+|\bbut|\bso)\s+(?:(?:please|kindly|pls|plz|just|then|now)\s+)*" + _ACTION_VERB, _FLAGS)
# A reason clause the negation stands in ("delete X as she no longer works here and won't return").
_IN_A_REASON = re.compile(r"\b(?:as|because|since|'cause|cause)\s+(?:he|she|they|it|we|the\s+\w+|[\w.\-]+)\s[^.;!?]*$", _FLAGS)
# Other requests in a question's form: a suggestion ("How about adding X?", "Why not add X"), a request to whoever can
# ("Does anyone have time to add X?", "Who can add X? Need it today"), a passive ("Could the share be opened to X?"),
# "Would it be too much to ask to add X?".
_REQUEST_AS_QUESTION = re.compile(
    r"(?:why\s+not|how\s+about|what\s+about)\b"
    r"|(?:does|do|is|are|can|could|would|will|who)\s+(?:anyone|someone|somebody|anybody|any\s+of\s+you|one\s+of\s+you|can|could)\b"
    # Not "Will the record be added today?": a question about what will happen.
    r"|(?:can|could|would)\s+(?:\S+\s+){1,4}?(?:be|get)\s+\w+(?:ed|en)\b"
    r"|would\s+it\s+be\s+(?:too\s+much|possible|ok|okay|alright|fine)\b"
    # "Can bob get access to hr?": a request for someone else, in a question's form.
    r"|(?:can|could|may)\s+(?:user\s+)?(?!(?:i|we|you|u|they|he|she|it)\b)\S+\s+(?:get|have|be\s+given|be\s+granted)\s+(?:[\w/\-]+\s+)?(?:access|membership|an?\s+account)\b"
    # "Is need to delete X", "Is necessary to add X": a need, said as a non-native speaker may.
    r"|is\s+(?:it\s+)?(?:need|needed|necessary|required|possible)\b",
    _FLAGS,
)
# A question, then a request after it ("Is it ok to delete X? If so, please do it", "Where do I ask? Anyway: delete X").
_AFTER_THE_QUESTION = re.compile(r"\?\s*\S.*\b(?:please|pls|need|needed|anyway|do\s+it|go\s+ahead|" + _ACTION_VERB + r")", _FLAGS)
# A second shell command after ";" ("userdel -r bob; groupdel bob").
_SHELL_COMMAND = (r"(?:sudo\s+)?(?:useradd|userdel|usermod|groupadd|groupdel|groupmod|gpasswd|passwd|adduser|deluser|addgroup|delgroup"
                  r"|chpasswd|smbpasswd|pdbedit|net|samba-tool|rm|mv|cp|chmod|chown|systemctl|service|reboot|shutdown|kill|echo|curl|wget"
                  r"|bash|sh|nsupdate|rndc)(?![\w\-.])")
# A sentence that adds to the one before ("Delete user X. Also his dns record Y."): a second action without its verb.
_CONTINUED = re.compile(r"[.;!]\s+(?:also|plus|and|as\s+well\s+as)\b", _FLAGS)
# A later sentence with a need of its own ("delete user X. Anna needs access to Y too.", "add user X ... - he'll need the
# Y share too"): a second action, or the command read from the wrong sentence.
_LATER_NEED = re.compile(
    r"(?:[.;!?]\s+|\s[-–—]+\s+|\bp\.?\s?s\.?\s+)[^.;!?]*?\b(?:needs?|will\s+need|'ll\s+need|should\s+(?:get|have)|wants?|requires?)"
    r"\s+(?:\w+\s+){0,3}?(?:access|share|membership|account|login|group)\b",
    _FLAGS,
)
# A part of the action kept back ("revoke X's write access but keep read", "... except the hr share"): no schema action says that.
_EXCEPT = re.compile(r"\b(?:but|and)\s+(?:keep|leave|retain)\b|\bexcept\b|\bbut\s+not\b", _FLAGS)
# What may follow a user's possessive "'s" when the user is the one meant ("bob's access", "bob's password", "bob's account").
_OWN_THINGS = frozenset(
    "access account accounts login password passwd pw pwd permission permissions rights user new old current own write read rw full"
    " temporary temp initial samba smb share membership".split()
)
# A second verb outside the schema joined on ("delete user X and forward his mail to Y", "... and then reboot it"): two
# actions, one unsupported. Not the password sent on ("... and mail it to him").
_SECOND_OTHER_VERB = re.compile(
    r"\b(?:and|then|also)\s+(?:then\s+|also\s+|afterwards\s+)?(?:forward|send|e-?mail(?!\s+address)|mail|notify|inform|tell|archive|move|copy"
    r"|transfer|back\s*up|lock|unlock|rename|restart|reload|refresh|reboot|migrate|wipe|disable|suspend|expire|clone"
    r"|check|verify|flush|clear|review|investigate|restore|install|reinstall|upgrade|export|audit)\b"
    r"(?!\s+(?:it|them|the\s+(?:new\s+)?(?:one|password|passwd|pw|credentials))\s+(?:over\s+)?to\b)",
    _FLAGS,
)
# A clause of its own that opens with a verb outside the schema ("add web.lan at 10.0.0.5, check it resolves", "...; then
# restart bind"): a second action the patterns did not consume. Not a courtesy ("please confirm", "let me know").
_LATER_OTHER_VERB = re.compile(
    r"(?:[,;!?.]\s|\s[-–—]+)\s*(?:(?:and|then|also|please|pls|plz|kindly|afterwards|after\s+that)\s*,?\s+)*"
    r"(?:check|verify|test|ping|restart|reload|reboot|flush|lock|unlock|rename|list|show|audit|suspend|migrate|mount|unmount"
    r"|archive|forward|notify|move|copy|back\s*up|clear|restore|wipe|expire|deactivate|reinstall|install)(?![\w\-/@$]|\.\w)",
    _FLAGS,
)
# The speaker corrects himself ("add user X uh no wait Y", "delete X, sorry, I mean Y", "... actually no, keep him",
# "... . actually make that G"): which value is meant, or whether anything is, the rules cannot tell.
_SELF_CORRECTION = re.compile(
    r"(?<=\S)\W*\s+(?:no\s*,?\s*wait|wait\s*,?\s*no|sorry\s*,?\s*(?:i\s+mean|i\s+meant|make\s+(?:that|it))|i\s+mean|i\s+meant"
    r"|actually\s*,?\s*(?:no|make\s+(?:that|it)|i\s+mean|scratch|forget|don't|keep|leave)|make\s+that|scratch\s+that|correction\s*:"
    r"|or\s+rather|strike\s+that|my\s+bad|typo\s*:|oops"
    # "... to P - wait, bob2": "wait" set off by a dash or a comma, then a comma: a value corrected.
    r"|(?<=[-–—,;.]\s)wait(?=\s*[,:!]))\b",
    _FLAGS,
)
# Doubt inside a request ("Remove X? Not sure it's still used", "maybe give bob access"): a request or a
# thought aloud; the rules have no opinion.
_DOUBT = re.compile(
    r"\b(?:not\s+sure|unsure|maybe|perhaps|i\s+guess|i\s+(?:think|believe)(?=\s*[.!?]*$)|if\s+i'?m\s+not\s+mistaken|no\s+idea\s+(?:if|whether)|or\s+(?:whatever|something|similar|anything|not)\b)\b", _FLAGS
)
# Not a request for now: a possibility, a plan or a future ("we might add X next month", "planning to remove X",
# "we'll need user X ...", "eventually X will need access"); the model decides.
_ACTION_WORD = (r"(?:add|create|delete|remove|drop|grant|give|revoke|reset|change|set\s*up|make|point|map|register|purge|erase"
                r"|provision|offboard|onboard|put|open|block|cut\s+off|take\s+away|kill|nuke|retire|decommission)")
_NOT_NOW = re.compile(
    r"(?<![\w\-/$@.])(?:might|may)\s+(?:also\s+|still\s+|eventually\s+|soon\s+)?(?:need|want|have\s+to|require|be\s+\w+ed\b|"
    + _ACTION_WORD + r")\b"
    r"|\b(?:going|planning|plan|intend|intending|hoping|hope|about)\s+to\s+" + _ACTION_WORD + r"\b"
    r"|\b(?:we|i|they|he|she)(?:'ll|\s+will|\s+shall)\s+(?:probably\s+|eventually\s+|soon\s+|also\s+)?(?:need|want|" + _ACTION_WORD + r")\b"
    r"|\b(?:eventually|someday|some\s+day|at\s+some\s+point|down\s+the\s+(?:road|line)|in\s+the\s+future)\b"
    # Someone else named as the one who acts ("anna will delete user X", "lena can reset it herself"): a statement.
    r"|(?:^|[.;!:]\s+)(?!(?:you|u|ya|please|pls|plz|kindly|who|what|which|how|why|where|when)\b)(?:the\s+)?[a-z][\w.\-]*\s+(?:will|can|could|shall)"
    r"\s+(?:\w+ly\s+|also\s+|just\s+)?" + _ACTION_WORD + r"\b",
    _FLAGS,
)
# A request called off ("never mind the request to add X", "ignore my last message about deleting X").
_CALLED_OFF = re.compile(
    r"\b(?:never\s*mind|nevermind|scratch\s+that|disregard\s+(?:my|the|that|this)\b|ignore\s+(?:my|the|that|this)\s+(?:\w+\s+){0,2}?"
    r"(?:request|message|ticket|e-?mail|ask)"
    # Not someone else who forgot ("he forget it", a non-native "forgot"): the speaker calls nothing off.
    r"|(?<!\bhe\s)(?<!\bshe\s)(?<!\bthey\s)(?<!\bwho\s)forget\s+(?:about\s+)?(?:it|that|this|my|the\s+(?:request|ticket))\b|decided\s+against"
    r"|changed\s+(?:my|our)\s+minds?|called\s+off)\b",
    _FLAGS,
)
# The request dismissed in a sentence the wrappers take ("delete user X. ignore it, it's a test"): read on the text.
_IGNORED = re.compile(r"(?:^|[.;:!,\-–—(]\s*)(?:(?:please|pls|just|actually|oh)\s+)?(?:ignore|disregard)\s+(?:it|that|this|the\s+above)\b", _FLAGS)
# Not meant, or asked about: a joke or a retraction ("lol jk", "(just kidding)", "- NOT", "/s"), nobody asking for it,
# the speaker declining ("... but I'm not going to"), a yes/no poll ("y/n").
_NOT_MEANT = re.compile(
    r"\b(?:jk|j/k|just\s+kidding|kidding|lol\s+no)\b|\s[-–—]+\s*not\s*[.!]*$|\s/s\s*$|\by/n\b"
    r"|\b(?:nobody|no\s+one|no-one|none\s+of\s+us)\s+(?:\w+\s+){0,2}?(?:asked|asks|wants?|needs?|said|requested|told)\b"
    r"|\bbut\s+(?:i|we)(?:'m|\s+am|'re|\s+are)?\s+(?:not\s+going\s+to|won't|will\s+not|don't\s+want\s+to|refuse|shouldn't)\b",
    _FLAGS,
)
# Asking whether something holds ("I wonder whether X needs access to Y"), not asking for it ("wondering if you could ...").
_ASKS_WHETHER = re.compile(
    r"(?:\b(?:wonder|wondering|wondered|curious|ask|asked|asking|know|checking|check|find\s+out|confirm|tell\s+me)\s+if|\bwhether)\b"
    r"(?!\s+(?:you|someone|somebody|anyone|anybody|we)\s+(?:could|can|would|might|will)\b)"
    # "I'd like to know how to delete X": how it is done, not a request to do it.
    r"|\bhow\s+(?:to|do|does|did|can|could|should|would|many|much|come)\b",
    _FLAGS,
)
# What makes a closing "?" a courtesy: a request addressed to the reader ("Could you ...?", "Would you mind ...?").
_REQUEST_OPENER = re.compile(
    r"\b(?:can|could|would|will)\s+(?:you|ya|ye|u|someone|somebody|anyone|anybody|we)\b|\bmind\b|\bpossible\b|\bany\s+chance\b"
    r"|\b(?:please|kindly|pls|plz)\b",
    _FLAGS,
)
_UNSUPPORTED_VERBS = frozenset(
    """
    list show display rename restart reload fix check lookup find count lock unlock tell explain describe
    mount unmount ping debug troubleshoot help dig nslookup whois traceroute query verify audit search view test confirm
    monitor reboot shutdown flush backup hide unhide chmod chown whitelist blacklist allowlist blocklist suspend undo revert rollback
    """.split()
)


# The first word is no verb but the start of a noun that is the subject of a passive ("mount point /x should be exposed as
# share y", "backup folder /srv/b is to be shared as b"): not an unsupported operation; the domain's patterns decide.
_NOUN_SUBJECT = re.compile(
    r"\s*[a-z]+\s+(?!(?:the|a|an|all|my|our|this|that|these|those|his|her|their|its|it|user|users|share|shares|record|records|group"
    r"|groups|account|accounts|if|whether|and|or|to|for|on|in|of|from|with)\b)[a-z]+\s+(?:\S+\s+)?"
    r"(?:should|must|shall|needs\s+to|has\s+to|is\s+to|will)\s+(?:also\s+)?be\s+[a-z]+(?:ed|en)\b",
)


@dataclass(frozen=True)
class RuleParse:
    """What the rules make of a command, how sure they are, and which rule decided."""

    intent: IntentModel
    confidence: float
    reason: str
    kind: str = "match"
    cue: str | None = None
    """A partial match's action: the one the command's words name, whose values the rules could not
    all find (``add_user`` for "Add user peter", no password). The model may fill those values; it
    may not answer another action."""

    @property
    def is_unknown(self) -> bool:
        return self.intent.action.value == "unknown"

    @property
    def certain(self) -> bool:
        """A pattern matched fully; otherwise the rules have no opinion and the model decides."""
        return self.kind in CERTAIN_KINDS


_TRAILING_WRAPPERS = re.compile(
    r"(?:(?:[\s,;]+|\s+[-–—]+\s*|[!?]\s*)(?:please|pls|thanks|thank\s+you(?:\s+(?:very\s+much|so\s+much|in\s+advance))?|thx"
    r"|cheers(?:\s+(?:mate|all|team|guys|folks))?|(?:so\s+)?yeah|yep|ok|okay"
    # The same courtesy in another language: "..., danke", "... por favor", "merci".
    r"|danke(?:\s+sch[öo]n)?|bitte|gracias|merci(?:\s+beaucoup)?|grazie|obrigad[oa]|por\s+favor|per\s+favore|s'il\s+vous\s+pla[iî]t|svp"
    r"|if\s+possible|asap|as\s+soon\s+as\s+(?:possible|you\s+can)"
    r"|when\s+you(?:'ve|\s+have)?\s+(?:get|got|have)\s+(?:a|the)\s+(?:chance|moment|minute|sec(?:ond)?)"
    r"|if\s+you\s+(?:can|could|don't\s+mind|do\s+not\s+mind|have\s+(?:a\s+)?(?:time|moment|minute))"
    r"|when\s+you\s+can|at\s+your\s+(?:earliest\s+)?convenience|today|now|right\s+away|much\s+appreciated|appreciated"
    r"|by\s+(?:eod|end\s+of\s+(?:day|the\s+day|week)|tonight|tomorrow)"
    r"|(?<=[,;!?\-–—]\s)(?:ty|tia|ta)|(?<=[,;!?\-–—])(?:ty|tia|ta)))+"
    r"[\s.!?]*$",
    _FLAGS,
)
# A reason after the command: ", he's gone", "; we don't use it anymore", ", since the project ended".
_TRAILING_REASON = re.compile(
    r"(?:[,;]|\s+[-–—]+)\s*(?:(?:as|since|because|'cause|cause)\s+)?(?:he|she|they|we|it|that|this|i)"
    r"(?:'s|'re|'ve|'ll|'m|\s+(?:is|are|was|were|has|have|had|does|doesn't|don't|didn't|won't|will|no\s+longer|left|moved|quit"
    r"|retired|got|isn't|aren't|wasn't|never|still|just)\b).*$"
    r"|[,;]\s*(?:since|because)\s+.*$"
    # Why or for how long, after a comma: ", needed for the audit", ", only needed temporarily", ", contract ended".
    r"|[,;]\s*(?:(?:it's|it\s+is|this\s+is|that's|only|just|it)\s+)*(?:(?:needed|required|necessary|temporar(?:y|ily)|for\s+now)\b"
    r"|(?:the\s+|his\s+|her\s+|their\s+)?(?:contract|project|engagement|internship|trial|job)\s+(?:has\s+)?"
    r"(?:ended|is\s+over|finished|expired|is\s+done|ran\s+out)\b).*$"
    r"|[,;]\s*for\s+the\s+(?!(?:user|share|group|account|login|record|zone|host|domain|folder|path|password)\b)[a-z]+(?:\s+[a-z]+)?\s*[.!]*$"
    # No comma: "... we dont need it", "... we don't use it anymore".
    r"|\s+(?:we|i|they)\s+(?:dont|don't|do\s+not)\s+(?:need|use)\s+(?:it|this|that|them|him|her)"
    r"(?:\s+(?:anymore|any\s+more|any\s+longer))?\s*[.!]*$",
    _FLAGS,
)
# A time limit or a deadline at the end: "before friday", "b4 month end", "by 5pm", "temporarily".
_TRAILING_TIME = re.compile(
    r"(?:[\s,;]+|\s+[-–—]+\s*)(?:(?:before|b4|by|until|till|no\s+later\s+than)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+)?)?"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|weekend|month(?:\s+end)?|month-end"
    r"|quarter(?:\s+end)?|year(?:\s+end)?|eod|eow|cob|tomorrow|tonight|noon|lunch|next\s+week|\d{1,2}(?::\d\d)?\s*(?:am|pm)?)"
    r"|temporarily|for\s+now|for\s+(?:a|one|two|three|\d+)\s+(?:day|week|month)s?)\s*[.!]*$",
    _FLAGS,
)
# A sign-off: "Regards, Ilse", "Thanks, Priya", "- best regards, Tomasz", "Cheers, Sam", "- Bogdan".
_SIGN_OFF = re.compile(
    r"(?:[\s,.;!?]+|\s+[-–—]+\s*)(?:(?:(?:best|kind|warm|many)\s+)?(?:regards|thanks|thank\s+you|cheers|thx|br|best|sincerely|rgds|ta)"
    r"\s*[,!.\-–—]?\s*|(?<=[-–—]\s)|(?<=[-–—]))(?-i:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s*[.!]?$",
    _FLAGS,
)
# A greeting to a person or a team: "Hi Sam,", "Hello DNS team,", "Dear Ops,".
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|morning)\s+(?:[\w&-]+\s+){0,2}?"
    r"(?:team|all|everyone|folks|guys|there|(?-i:[A-Z][a-z]+))"
    # The greeting on a line of its own (the newline is a space by now): "Hi Sam please add ...".
    r"(?:\s*[,!:;.\-–—]+\s*|\s+(?=(?:please|pls|kindly|could|can|would|will|i|we)\b))",
    _FLAGS,
)
# An e-mail subject line before the greeting or the ask: "Subject: DNS request Hi team, ...".
_SUBJECT_LINE = re.compile(
    r"^subject\s*:\s*[^:!?]{0,80}?\s+(?=(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|please|kindly|could|can|would)\b)",
    _FLAGS,
)
# A sentence of context before the ask: "our new DBA needs elevated rights. Please add ...". It names no
# value and no object of the schema, and is no command itself ("Delete bob. Please add ...": two actions).
_CONTEXT_SENTENCE = re.compile(
    r"^(?P<context>[^.!?`'\"]{3,200}?)[.!]\s+(?=(?:please|kindly|could|can|would|will|i\s+need|we\s+need|i'd|we'd"
    r"|add|create|delete|remove|drop|grant|give|revoke|reset|change|set|make|put|open|cut|take|block|register|point|map)\b)", _FLAGS
)
# A sentence of context after the ask: "Please add ... . He starts on Monday."
_TRAILING_SENTENCE = re.compile(r"(?<=\S)[.!?]\s+(?P<context>[^.!?`'\"]{3,200}?)\s*[.!?]?\s*$")
_CONTEXT_FORBIDDEN = re.compile(
    r"\b(?:user|users|account|accounts|login|record|records|share|shares|group|groups|password|passwd|access|member|dns|entry)\b"
    r"|^\s*(?:add|create|delete|remove|drop|grant|give|revoke|set|reset|change|make|put|point|map|kick|let|allow|open|cut|take"
    r"|block|deny|disable|enable|register|purge|erase|provision|offboard|onboard"
    # The users domain's other verbs and commands ("... well. deprovision X", "... today. passwd X Y").
    r"|deprovision|decommission|deactivate|terminate|retire|nuke|kill|wipe|get\s+rid|rotate|update|enroll|include|assign"
    r"|useradd|adduser|userdel|deluser|usermod|gpasswd|passwd|chpasswd)\b",
    _FLAGS,
)


_ACTION_NAME = re.compile(
    r"(?:\baction\s*[:=]\s*)?\b(dns_add|dns_remove|add_user|remove_user|add_to_group|change_password|create_share|grant_access"
    r"|revoke_access)\b", _FLAGS
)


def spell_action_names(text: str) -> str:
    """The schema's action names used as commands ("add_user username=x", "action=dns_add ...")
    spelt as words ("add user username=x"), so the verb patterns see them; values are untouched."""
    return _ACTION_NAME.sub(lambda match: match.group(1).replace("_", " "), text)


# Spoken hesitations ("uh", "um") between the words of a command are no part of it, and never a value.
_FILLER = re.compile(r"(?:(?<=\s)|^)(?:u+h+m*|u+m+|e+r+m+|er|h+m+|m+|a+h+|eh)[,.…]*(?:\s+|$)", _FLAGS)
# A filler set off by commas ("a share called, um, atlas", "to, like, gw.lan"): the commas go with it.
_FILLER_ASIDE = re.compile(r",\s*(?:u+h+m*|u+m+|e+r+m+|h+m+|like|you\s+know|i\s+mean|basically)\s*,\s*", _FLAGS)


def strip_wrappers(text: str) -> str:
    """Remove polite wrappers and leading context clauses ("Could you please", "As part of X, ")
    and trailing courtesies (", thank you", "when you get a chance", "asap"); spoken fillers ("uh", "um") go too."""
    text = _FILLER.sub("", _FILLER_ASIDE.sub(" ", text))
    previous = None
    while previous != text:
        previous = text
        text = _SUBJECT_LINE.sub("", text, count=1)
        text = _GREETING.sub("", text, count=1)
        context = _CONTEXT_SENTENCE.match(text)
        if context and not _CONTEXT_FORBIDDEN.search(context.group("context")) and not entities(context.group("context")):
            text = text[context.end():]
        for wrapper in _WRAPPERS:
            match = wrapper.search(text)
            # A wrapper never holds a value ("before friday, add web.lan at 10.0.0.1" is no context clause).
            if match and not entities(match.group()):
                text = text[: match.start()] + text[match.end():]
        text = _SIGN_OFF.sub("", text)
        context = _TRAILING_SENTENCE.search(text)
        # Not after a hostname when the text runs on in lower case: "alias for blog.example.org. as soon as
        # possible" (the dot is the FQDN's); "... at 10.0.0.1. The old one was removed." is a sentence of its own.
        if context and not _CONTEXT_FORBIDDEN.search(context.group("context")) and not entities(context.group("context")) \
                and not (context.group("context")[0].islower()
                         and any(entity.kind == "host" for entity in entities(text[: context.start() + 1].split()[-1]))):
            text = text[: context.start()]
        text = _TRAILING_WRAPPERS.sub("", text)
        text = _TRAILING_REASON.sub("", text)
        text = _TRAILING_TIME.sub("", text)
    return text.strip()


def _first_word(text: str) -> str:
    """The first word, if it is one: not the start of a hostname, a path or a key (``test.lab.local``, ``check_mk``)."""
    match = re.match(r"\s*([\w'’]+)(?![\w\-/@]|\.\w)", text)
    return match.group(1).lower().replace("’", "'") if match else ""


def _clean_value(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
        value = value[1:-1]
    elif len(value) >= 2 and value[0] == "(" and value[-1] == ")" and "(" not in value[1:] and ")" not in value[:-1]:
        value = value[1:-1]  # "(vendor-drop)": an aside in brackets
    return value


def _find(patterns: Sequence[str], text: str, slot: str, stopwords: frozenset[str] = STOPWORDS) -> str | None:
    """The first value of ``slot`` found by the patterns, in order, that is not a stopword."""
    for pattern in patterns:
        for match in re.finditer(pattern.format(**_SLOTS), text, _FLAGS):
            value = _clean_value(match.group(slot))
            if slot != "password":
                value = value.rstrip(".-")
            elif match.end(slot) < len(text):
                value = value.rstrip(",;")  # "password Foo1, thanks": the comma ends the sentence, not the password
            if slot == "password" and value.endswith(")") and "(" not in value:
                before = text[: match.start(slot)]
                if before.count("(") > before.count(")"):  # "(password: Foo1)": the bracket closes the aside
                    value = value[:-1].rstrip(",;")
            if value and value.lower() not in stopwords and not value.startswith("/"):
                return value
    return None


# What a user may get access to that is no share ("grant ana admin access on the server web01.lan"): a machine or a system.
_NOT_A_SHARE = frozenset(
    "server servers host hosts machine machines box vm vms system systems database databases db cluster network domain vpn repo"
    " repository portal website site computer laptop pc workstation console dashboard printer router firewall switch app"
    " application instance node".split()
)


_NOT_A_SHARE_NAME = STOPWORDS | _NOT_A_SHARE | frozenset(
    "new samba smb file files network windows cifs same old this that which whose any every each one another their his her its our my"
    " your what some no drive folder folders directory permissions permission rights access level levels request requests name names"
    " path paths grant revoke give remove add allow deny block enable disable open access".split()
)


def _shares_named(core: str) -> set[str]:
    """The names written with the word "share" ("share hr", "the hr share"), lower-cased."""
    names = set()
    for match in re.finditer(r"(?:^|\b(?:the|a|to|on|from|for|in|into|of|at)\s+)share\s+(?:named\s+|called\s+)?(?P<after>[\w.\-$'\"`]+)"
                             r"|\bthe\s+(?P<before>[\w.\-$'\"`]+)\s+share\b(?=\s*(?:[,.;:!?)]|$|(?:to|for|from|on|in|and|too|as)\b))",
                             core, _FLAGS):
        name = _clean_value(match.group("after") or match.group("before")).rstrip(".-").lower()
        if name and name not in _NOT_A_SHARE_NAME and not name.endswith("'s"):
            names.add(name)
    return names


def _SAME_VALUE(reading: tuple[str, str], pair: tuple[str, str]) -> bool:
    """Whether two readings differ only in case or in a possessive or a bracket taken along."""
    return all(a.lower().removesuffix("'s") == b.lower().removesuffix("'s") for a, b in zip(reading, pair))


def _find_pair(patterns: Sequence[str], text: str) -> tuple[str, str] | None:
    """(user, share) from the first pattern that yields both and neither is a stopword."""
    for pattern in patterns:
        for match in re.finditer(pattern.format(**_SLOTS), text, _FLAGS):
            user = _clean_value(match.group("user")).rstrip(".-")
            share = _clean_value(match.group("share")).rstrip(".-")
            # A role is not a user ("grant the contractor access to ...": whom?).
            if user.lower() not in _USER_STOPWORDS and share.lower() not in STOPWORDS | _NOT_A_SHARE:
                return user, share
    return None


def _unknown(kind: str, reason: str, cue: str | None = None) -> RuleParse:
    return RuleParse(UNKNOWN, RAW_CONFIDENCE[kind], reason, kind, cue)


def _intent(fields: dict[str, str | None], reason: str, kind: str = "match") -> RuleParse:
    """Build the intent; a missing value (``None``) makes it a partial match (no opinion), a value
    that fails its field's schema a refusal (``unknown``, whoever would have extracted it)."""
    missing = [key for key, value in fields.items() if value is None]
    if missing:
        return _unknown("partial", f"{fields['action']}: no {', '.join(missing)} found", cue=fields["action"])
    try:
        return RuleParse(validate_intent(fields), RAW_CONFIDENCE[kind], reason, kind)
    except InvalidIntentError as exc:
        return _unknown("refusal", f"{fields['action']}: {exc}")


# DNS ------------------------------------------------------------------------------------------

_DNS_UNSUPPORTED_TYPE = re.compile(
    r"\b(?:mx|txt|srv|ptr|soa|spf|caa|ns|dkim|dmarc|naptr|sshfp|tlsa)\s+(?:record|entry|entries|records)\b"
    # The type on its own ("add an MX for example.com"), but not inside a hostname or a path (mx1.lan, /srv).
    r"|(?<![\w.\-*/])(?:mx|txt|srv|ptr|soa|spf|caa|dkim|dmarc)(?![\w.\-/])"
    r"|\breverse\s+(?:dns|lookup|record|zone|entry|mapping)\b|\brdns\b|\bmail\s+exchanger\b",
    _FLAGS,
)


def _cue(alternatives: str) -> re.Pattern[str]:
    """A cue word or phrase that is never part of a value: "drop" is no verb in "drop-box.lan" or "/srv/drop"."""
    return re.compile(rf"(?<![\w\-/$@.])(?:{alternatives})(?![\w\-/$@]|\.\w)", _FLAGS)


_DNS_REMOVE = _cue(
    r"remove|delete|drop|purge|unregister|deregister|erase|kill|nuke|retire|wipe|zap|scrap|decommission|expunge"
    r"|unpublish|get\s+rid\s+of|tear\s+down|(?:must|should|can|has\s+to|needs\s+to)\s+go(?!\s+(?:to|at|live)\b)"
    # Passive: "X needs to be dropped from DNS", "X should be nuked".
    r"|be\s+(?:removed|deleted|dropped|purged|nuked|wiped|zapped|scrapped|binned|erased|killed|unpublished|expunged)"
    r"|(?:want|need)s?\s+(?:the\s+|this\s+|that\s+)?(?:record|entry|name|it)\s+gone|take\b.*\bout\s+of|(?:come|go|be\s+taken)\s+out\s+of\s+(?:the\s+)?(?:dns|zone)"
)
# A second hostname is a CNAME target only when the request says so: a CNAME word, an arrow, a verb that
# points one name at another, a target key ("add web.lan on server ns1.lan" is not a CNAME).
_TARGET_CUE = _cue(
    r"cname|alias|canonical|->|=>|→|points?|pointing|resolves?|resolving|redirects?|redirecting|maps?|mapping|target"
    r"|to|at|for|of|as|go|goes|forward|forwards|send|sends"
)
# A record that is said to be obsolete, with no address to add: "the record for X is no longer needed",
# "X is gone, clean up its record".
_DNS_OBSOLETE = _cue(r"no\s+longer\s+(?:needed|required|used|in\s+use)|not\s+needed\s+any\s*(?:more|longer)|clean\s*up|cleanup")
_DNS_ADD_WORD = _cue(r"add|create|register|point|points|pointing|new|alias|cname|resolve|resolves|make|set")
# "web.lan resolves to 10.0.0.9", "the record x.lan points to y.lan": how things are, unless something asks for it.
_DNS_STATEMENT = re.compile(
    r"[\w\-*](?:\.[\w\-]+)+\.?[`'\")]?\s+(?:currently\s+|still\s+|already\s+|now\s+|actually\s+)?(?:points|resolves|maps|goes|redirects|is|are"
    r"|was|were|has)\b", _FLAGS
)
_DNS_REQUEST_WORD = _cue(
    r"add(?:ing)?|creat(?:e|ing)|register(?:ing)?|mak(?:e|ing)|set(?:ting)?|new|need|needs|needed|want|wants|should|must|please|pls"
    r"|kindly|publish(?:ing)?|insert(?:ing)?|map(?:ping)?|point(?:ing)?|from\s+now\s+on|going\s+forward|to\s+be|so\s+that|mind"
    r"|can|could|would|will|let"
)
_SAME_ADDRESS = re.compile(r"\bsame\s+(?:ip|address|ipv4|ipv6|ip\s+address)\b", _FLAGS)
# Removing and adding in one request: "delete the old record for X and add ..." is two actions (out of scope).
_THEN_ADD = re.compile(r"(?:\band|[,;]|\bthen)\s+(?:then\s+)?(?:add|create|set|point|register|re-?add(?:ed)?|replace|make|map)\b"
                       # "X needs to be dropped and Y added at IP": the second verb in the passive, after its name.
                       r"|\band\s+(?:the\s+)?[\w.\-*]+\.[\w.\-]+\s+(?:added|created|registered|pointed|mapped|set\s+up)\b", _FLAGS)
# An explicit record type ("AAAA", an upper-case "A record"; "a record" may be the article).
_EXPLICIT_AAAA = _cue(r"aaaa")
_EXPLICIT_A = re.compile(r"(?<![\w.\-])(?:A\s+(?:record|entry|RECORD|ENTRY)|type\s*[:=]\s*['\"]?A['\"]?)(?![\w.\-])")
_CNAME_WORDS = _cue(r"cname|alias|canonical")
# Changing an existing record ("change the IP of X to Y") is not clearly an add: no opinion, the model decides.
_DNS_MODIFY = _cue(
    r"change|update(?!\s+add\b)|modify|edit|replace|move|switch|migrate|repoint|re-point|rotate|swap"
    # Not DNS at all: DHCP, firewall rules.
    r"|dhcp|firewall"
)
# What stands right before a hostname says its role: the record's own name ("alias=", "named"), the
# name it points at ("target=", "to", "->"), or the parent zone it goes in ("in the zone corp.local").
_KEY_BEFORE = r"['\"]?\s*[:=]\s*['\"]?$"
_NAMED = re.compile(
    rf"(?:\b(?:zone|name|alias|host|hostname|record|fqdn|cname|source)(?:{_KEY_BEFORE}|\s+['\"]?$)|\b(?:named|called)\s+['\"]?$)",
    _FLAGS,
)
_TARGET_ROLE = re.compile(
    rf"(?:\b(?:target|value|points?[_\s]to|canonical|destination)(?:{_KEY_BEFORE}|\s+['\"]?$)"
    r"|(?:\b(?:to|at|towards|onto|of|for)|->|=>|→)\s+['\"]?$)",
    _FLAGS,
)
_PARENT_ZONE = re.compile(
    r"\b(?:in|into|to|under|within|of|from)\s+(?:the\s+)?(?:dns\s+)?(?:zone|domain)\s+['\"]?$"
    # "delete host gw in corp.lan", "all records under corp.lan": the name after "in"/"under" holds the record.
    r"|\b(?:in|under|within|beneath|below)\s+(?:the\s+)?['\"`]?$", _FLAGS)


# Words that can never be the missing name: when a request holds only these (besides an address or a
# path), the value is surely absent ("add a dns record", "Point it to 10.0.0.9", "Add a share at /srv/x").
_NOT_A_VALUE = _NEVER_NAMES | KEYWORDS | frozenset(
    """
    dns record records entry entries zone host hostname ip ipv4 ipv6 address cname alias aaaa point points pointing
    there here one another some any up new samba smb share shares folder directory path
    """.split()
)


def _only_function_words(core: str, found: Sequence[Entity]) -> bool:
    """Whether every word of ``core`` outside the entities in ``found`` is one that can never be a value."""
    rest = core
    for entity in found:
        rest = rest.replace(entity.value, " ")
    bare = [word.strip(".,;:!?()[]{}\"'`").lower() for word in rest.split()]
    return all(not word or word in _NOT_A_VALUE for word in bare)


def _cname_pair(core: str, found: Sequence[Entity]) -> tuple[str | None, str | None]:
    """(name, target) of the first two hostnames: in order, unless what precedes them says the
    first is the target and the second the name ("target=web.lan alias=www.lan", "to web.lan named www.lan")."""
    first, second = [entity for entity in found if entity.kind == "host"][:2]
    before_first, before_second = core[: first.start], core[: second.start]
    if _TARGET_ROLE.search(before_first) and not _NAMED.search(before_first) and _NAMED.search(before_second):
        return second.value, first.value
    # "alias" as the verb after a modal ("X should just alias Y", "X can alias Y"): the subject, X, is the alias.
    if re.search(r"\b(?:should|must|shall|will|would|can|could|may|might|to)\s+(?:(?:just|simply|also|now)\s+)?alias\s+['\"`]?$",
                 before_second, _FLAGS):
        return first.value, second.value
    # The second name is the new one: "X needs an alias Y", "give X the alias Y", "X should be reachable as Y",
    # "reach X via Y", "an alias for X: Y".
    # Not "X CNAME Y" (a zone file's order: the name first).
    if not _NAMED.search(before_first) and (
        re.search(r"\b(?:alias|named|called)\s+['\"`]?$", before_second, _FLAGS) or _ALIAS_BEFORE.search(before_second)
    ):
        return second.value, first.value
    if _NAMED.search(before_first) and re.search(r"\bas\s+['\"`]?$", before_second, _FLAGS):
        return None, None  # "alias X as Y": which one is the new name? (a partial match, no opinion)
    return first.value, second.value


_ALIAS_BEFORE = re.compile(
    r"(?:\b(?:reachable|known|available|accessible|visible|resolvable)\s+(?:also\s+)?as|\banswer(?:s|ing)?\s+to|\brespond(?:s|ing)?\s+to"
    r"|\bvia|\balias\s+for\s+\S+\s*:)\s+['\"`]?$",
    _FLAGS,
)


# The verb's object is some other thing of the host's ("nuke the cache on X", "point the monitoring at X 10.0.0.5",
# "remove the ssl cert for X"): a determiner, a noun that is no DNS word, a preposition, then the hostname.
_OTHER_OBJECT = re.compile(
    r"^(?:please\s+)?[a-z]+(?:\s+(?:up|out|off|away))?\s+(?:the|a|an|its|their|his|her|our|my|this|that)\s+(?P<words>(?:[\w\-]+\s+){0,2}?"
    r"(?P<noun>[a-z][\w\-]*))\s+(?:on|for|of|at|to|in|from|behind)\s+(?:the\s+)?[\w*\-]+(?:\.[\w\-]+)+",
    _FLAGS,
)
_DNS_NOUNS = frozenset(
    "record records entry entries name names hostname hostnames host hosts a aaaa cname alias aliases dns domain address addresses"
    " ip ips ipv4 ipv6 zone mapping mappings subdomain fqdn one pointer lookup resolution"
    # Record types the schema lacks: their own refusal follows.
    " mx txt srv ptr ns soa caa spf dkim".split()
)

# Where a record is added: DNS itself, a zone or a view ("to the internal zone", "in the staging view", "to DNS").
_DNS_SYSTEMS = frozenset("dns zone zones record records view views server servers domain resolver internal external please pls thanks".split())
# "make an alias pointing to X": a participle that describes the record, no other object.
_RECORD_PARTICIPLES = frozenset("pointing resolving mapping mapped going leading named called set new".split())


def _dns(core: str) -> RuleParse:
    if re.search(r"\b(?:used\s+to|was|were|had\s+been)\s+(?:\w+ly\s+)?(?:point|pointing|pointed|resolv(?:e|ing|ed)|mapp?(?:ed|ing)?|go(?:ing)?)\b",
                 core, _FLAGS):
        # "X used to point to Y", "X was pointing at Y until yesterday": how it was, not a request.
        return _unknown("doubt", "dns: a past state of a name, not a request")
    if re.search(r"\b(?:remove|delete|drop|nuke|purge|zap|scrap)\s+(?:the\s+)?(?:old|previous|stale|other|former|existing|wrong)\s+"
                 r"(?:one|record|entry|ip|address|mapping|value)s?\b(?!\s+(?:for|of|on)\s+[\w*\-]+\.)", core, _FLAGS):
        # "X points to Y now, remove the old one": the thing removed is described, not named.
        return _unknown("none", "dns: the record to remove is described ('the old one'), not named")
    added_to = re.search(r"\b(?:add|put|register|include)\b.*\s(?:to|into|in|on)\s+(?:the\s+|our\s+)?(?:[\w\-]+\s+)?(?P<system>[a-z][a-z\-]*)\s*[.!]?$",
                         core, _FLAGS)
    if added_to and added_to.group("system").lower() not in _DNS_SYSTEMS:
        # "add X 10.0.0.9 to the monitoring", "add X (Y) to nagios": another system, not DNS.
        return _unknown("none", f"dns: added to {added_to.group('system')!r}, not to DNS")
    # The add word stands as a word, not inside a name ("remove the cname alias-old.example.net").
    if _DNS_REMOVE.search(core) and re.search(r"(?<![\w.\-])(?:add|create|register|new|alias|make)(?![\w.\-])", core, _FLAGS) and not re.search(
            r"\b(?:and|then|,)\s+(?:then\s+)?(?:add|create|register)\b", core, _FLAGS):
        # "add cname X -> Y (temporary, remove friday)": an add and a removal in one line; the model decides.
        return _unknown("none", "dns: both an add and a removal named")
    other = _OTHER_OBJECT.match(core)
    if other and not _DNS_NOUNS & set(other.group("words").lower().split()) and other.group("noun").lower() not in _RECORD_PARTICIPLES:
        return _unknown("none", f"dns: the command is about {other.group('noun')!r} of the host, not its record")
    if _DNS_UNSUPPORTED_TYPE.search(core):
        # Only when the type is asked for in the clause of the command ("add an MX record for X"), not named in context
        # ("We already have an MX record; please add X at ...", "(the mail server, not an MX)").
        clauses = re.split(r"[.;!?](?:\s+|$)|[()]", core)
        if any(_DNS_UNSUPPORTED_TYPE.search(clause) and (_DNS_ADD_WORD.search(clause) or _DNS_REMOVE.search(clause) or re.search(r"\btype\s*[:=]", clause, _FLAGS))
               for clause in clauses):
            return _unknown("refusal", "dns: unsupported record type")
        return _unknown("partial", "dns: an unsupported record type named beside the command")
    if re.match(r"samba-tool\s+dns\b", core, _FLAGS):
        # "samba-tool dns add SERVER ZONE NAME TYPE DATA": the record's full name is not written out.
        return _unknown("partial", "dns: samba-tool names the record apart from its zone")
    # A parent zone is named before ("in the zone corp.lan") or after ("in the corp.lan zone"): not a record's name.
    found = [entity for entity in entities(core) if entity.kind != "host" or not (
        _PARENT_ZONE.search(core[: entity.start])
        or re.match(r"[`'\")]?\s+(?:dns\s+)?(?:zone|domain)\b", core[entity.start + len(entity.value):], _FLAGS))]
    hosts = [entity.value for entity in found if entity.kind == "host"]
    parents = len([entity for entity in entities(core) if entity.kind == "host"]) - len(hosts)
    addresses = [entity for entity in found if entity.kind in ("ipv4", "ipv6")]
    # Without a target, a name that ends another one is its parent zone ("from corp.lan remove www.corp.lan").
    records = [
        host for host in hosts if not any(other != host and other.lower().endswith("." + host.lower().lstrip("*.")) for other in hosts)
    ]
    if not hosts and _only_function_words(core, addresses):
        return _unknown("refusal", "dns: no hostname at all")
    if re.search(r"\b(?:dhcp|firewall|reservations?|leases?|hosts\s+file|/etc/hosts|(?:block|allow|white|black|deny)\s*-?list)\b"
                 # Not a record: "add X as a new DNS server", "as a forwarder", "as a search domain".
                 r"|\bas\s+(?:a|an|the)\s+(?:new\s+)?(?:(?:dns|name)\s*servers?|nameservers?|forwarders?|resolvers?|search\s+domains?)\b",
                 core, _FLAGS):
        # "Remove X from DNS and the DHCP reservation": a second system, out of scope (also for an add).
        return _unknown("partial", "dns: DHCP or a firewall too")
    if not addresses and len(records) == 1 and _DNS_OBSOLETE.search(core) and not _DNS_ADD_WORD.search(core):
        return _intent({"action": "dns_remove", "zone": records[0]}, "dns: an obsolete record")
    if _DNS_REMOVE.search(core):
        if re.search(r"(?:^|\s)--?[a-z][\w\-]*(?=\s)", core, _FLAGS):
            # "rm -rf web.lan": a shell command's options; a file, not a record, may be meant.
            return _unknown("partial", "dns: a removal with command-line options")
        if re.search(r"\bwildcard\b", core, _FLAGS) and not any(record.startswith("*") for record in records):
            return _unknown("partial", "dns: a wildcard record that is not written out")
        if _THEN_ADD.search(core) and (addresses or len(records) > 1):
            return _unknown("partial", "dns: a removal and an addition")
        # Two names listed, one inside the other's zone too ("gw.lan and www.gw.lan").
        if any(len(names) > 1 and re.search(
            rf"(?<![\w.\-]){re.escape(names[0])}(?:\s*(?:,|\band\b|&|\+|\bplus\b|\bas\s+well\s+as\b|/)\s*(?:also\s+)?(?:the\s+)?"
            rf"(?:(?:record|entry|host|name)\s+)?|\s+){re.escape(names[1])}", core, _FLAGS  # or side by side: "rm a.lan b.lan"
        ) for names in (records, hosts)):
            return _unknown("partial", "dns: more than one record to remove")
        elsewhere = re.search(r"\bfrom\s+(?:the\s+|our\s+|my\s+|all\s+)?(?P<place>[\w\-]+)", core, _FLAGS)
        if elsewhere and not re.match(r"(?:(?:internal|external|public|private|local|main|primary|corp|company|ad|bind|our)\s+)?"
                                      r"(?:dns|zones?|records?|entries|name\s*servers?|nameservers?|bind|ad|active|resolver|server)\b",
                                      core[elsewhere.start("place"):], _FLAGS) \
                and not any(entity.start == elsewhere.start("place") for entity in entities(core)):
            # "remove web.lan from the blocklist": removed from something that is not DNS.
            return _unknown("partial", f"dns: removed from {elsewhere.group('place')!r}, which may not be DNS")
        return _intent({"action": "dns_remove", "zone": records[0] if records else None}, "dns: remove + hostname")
    if _DNS_MODIFY.search(core):
        return _unknown("partial", "dns: changing a record, not adding one")
    if len(addresses) > 1:
        return _unknown("partial", "dns: more than one address")
    if addresses:
        hosts = records
        if _CNAME_WORDS.search(core):
            return _unknown("partial", "dns: a CNAME cannot point at an address")
        address = addresses[0]
        record_type = "AAAA" if address.kind == "ipv6" else "A"
        if (_EXPLICIT_AAAA if record_type == "A" else _EXPLICIT_A).search(core):
            return _unknown("partial", f"dns: the type named does not fit an {address.kind} address")
        if len(hosts) > 1 and re.search(
            rf"(?<![\w.\-]){re.escape(hosts[0])}\s*(?:,|\band\b|&|\+|\bplus\b|\bas\s+well\s+as\b|/)\s*(?:also\s+)?(?:the\s+)?"
            rf"(?:(?:record|entry|host|name)\s+)?{re.escape(hosts[1])}"
            rf"|\b(?:and|plus)\s+(?:also\s+)?(?:the\s+)?{re.escape(hosts[1])}\s+(?:too|as\s+well|also)\b", core, _FLAGS
        ):
            # "Point a.lan and b.lan to 10.0.0.5", "point a.lan to 10.0.0.5 and b.lan too": two records.
            return _unknown("partial", "dns: more than one record to add")
        if len(hosts) > 1:
            # "point a.lan to 10.0.0.5 on the external view and b.lan on internal": which name gets the address?
            return _unknown("partial", "dns: more than one record name with one address")
        kind = "match" if len(hosts) == 1 and not parents else "typo"
        return _intent(
            {"action": "dns_add", "zone": hosts[0] if hosts else None, "record_type": record_type, "ip": address.value},
            f"dns: hostname + {address.kind}",
            kind,
        )
    if len(hosts) >= 2:
        if _SAME_ADDRESS.search(core) or not (_TARGET_CUE.search(core) or re.search(r"\s(?:->|=>|→)\s", core)):
            return _unknown("partial", "dns: two hostnames, but nothing says one points at the other")
        if _EXPLICIT_A.search(core) or _EXPLICIT_AAAA.search(core):
            return _unknown("partial", "dns: an A or AAAA type named with a hostname target (labelling rule 3: the named type wins)")
        if len(hosts) > 2 and re.search(
                rf"(?<![\w.\-]){re.escape(hosts[-2])}\s*(?:,|\band\b|&|\+|\bor\b)\s*(?:also\s+)?(?:the\s+)?{re.escape(hosts[-1])}", core, _FLAGS):
            return _unknown("partial", "dns: more than one alias or target listed")
        kind = "match" if len(hosts) == 2 and not parents else "typo"
        zone, target = _cname_pair(core, found)
        return _intent({"action": "dns_add", "zone": zone, "record_type": "CNAME", "target": target}, "dns: hostname -> hostname", kind)
    return _unknown("partial", "dns: no hostname with an address or target")


# Users ----------------------------------------------------------------------------------------

_REMOVE_VERBS = (
    # Not "deactivate" or "disable": an account switched off is not deleted (labelling rule 6), the model decides.
    r"(?:delete|remove|drop|erase|kill|offboard|userdel|get\s+rid\s+of|deprovision|terminate|purge|wipe|retire"
    r"|decommission|nuke)"
)
_FROM_GROUP = re.compile(
    rf"\b{_REMOVE_VERBS}\b.*\bfrom\s+(?:the\s+|a\s+)?(?:\S+\s+)?group\b|\bgpasswd\s+(?:-d|--delete)\b"
    r"|\b(?:take|kick|throw|get)\b.*\bout\s+of\s+(?:the\s+|a\s+)?(?:\S+\s+)?group\b"
    rf"|\b(?:{_REMOVE_VERBS}|revoke|end|cancel|withdraw)\s+(?:\S+\s+){{0,3}}?membership\b",
    _FLAGS,
)
_GROUP_CUE = re.compile(r"\b(?:group|membership|member)\b|\b(?:usermod|gpasswd)\b", _FLAGS)
_CHANGE_CUE = re.compile(
    r"\b(?:change|reset|update|rotate|forgot|passwd|become|becomes)\b|\bnew\s+password\b|\bset\b(?!\s+up\b)|\bshould\s+be\b"
    r"|\blocked\s+out\b|\w's\s+(?:new\s+)?(?:password|passwd)\b|\s(?:->|=>|→)\s(?![\w.\-]+\s*[:=])|\b(?:password|passwd)\s+for\s+[\w.\-]+\s*:",
    _FLAGS,
)
# A change that cannot be part of creating an account; "set"/"new password" can ("Create user X and set the password to Y").
# A change as a noun after a time word ("after the password reset to P", "since her last password change").
_AFTER_A_CHANGE = re.compile(
    r"\b(?:after|since|before|following|during|from)\s+(?:the\s+|a\s+|his\s+|her\s+|their\s+|its\s+|my\s+|our\s+)?(?:last\s+|recent\s+|latest\s+)?"
    r"(?:password|passwd)\s+(?:reset|change|update|rotation)\b(?:\s+to\b)?",
    _FLAGS,
)
_STRONG_CHANGE_CUE = re.compile(r"\b(?:change|reset|update|rotate|forgot)\b|\blocked\s+out\b|^passwd\b"
                                # "swap the password on X to P": an admin's synonym, with the password as its object.
                                r"|\bswap\s+(?:the\s+|their\s+|his\s+|her\s+)?(?:password|passwd)\b", _FLAGS)
# Passive: "Account X should be created with the password Y", "user X is to be set up".
_PASSIVE_CREATE = (r"\b(?:user|account|login)\s+\S+\s+(?:should|must|shall|needs\s+to|has\s+to|is\s+to|is\s+going\s+to|will)\s+be\s+"
                   r"(?:create|add|register|set\s*up|provision|make|made)(?:e?d)?\b")
# "create NAME." at the start, the sentence ending after the name: a new account (in the users domain).
_CREATE_NAME = r"^(?:please\s+)?(?:create|onboard|provision|register)\s+(?!(?:a|an|the|one|it)\b)[\w.\-]+?(?=[.,;]\s|[.,;]?$)"
_CREATE_USER_VERB = re.compile(
    r"\b(?:create|add|register|make|set\s*up|provision|onboard|new)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+|brand-new\s+)?"
    r"(?:user|account|login)\b|\b(?:useradd|adduser)\b|\b(?:user|account|login)\s+(?:add|create)\b|" + _PASSIVE_CREATE + "|" + _CREATE_NAME,
    _FLAGS,
)
_PASSWORD_WORD = re.compile(r"\b(?:password|passwd)\b", _FLAGS)
# "Create account for X, password will be sent separately": the password is explicitly not given.
_PASSWORD_LATER = re.compile(
    r"\b(?:password|passwd)\s+(?:(?:will|would|shall)\s+be|is\s+going\s+to\s+be|is\s+being|gets)\s+"
    r"(?:sent|provided|given|shared|supplied|communicated|decided|emailed|mailed)\b"
    r"|\b(?:password|passwd)\s+(?:to\s+follow|follows|tbd|later)\b"
    # The same said actively: "I'll send the password separately", "HR will provide his initial password".
    r"|\b(?:i|we|he|she|they|hr|someone|somebody|you)(?:'ll|'m\s+going\s+to|\s+will|\s+shall|\s+(?:am|are|is)\s+going\s+to)\s+"
    r"(?:\w+ly\s+|also\s+)?(?:send|provide|give|share|supply|communicate|e-?mail|mail|text|message|pass\s+on|hand\s+over|dm)\s+"
    r"(?:(?:you|him|her|them|it)\s+)?(?:the|his|her|their|a|an|its)?\s*(?:initial\s+|temporary\s+|temp\s+|new\s+)?(?:password|passwd|pw)\b",
    _FLAGS
)
_GIVEN_PASSWORD = r"(?:the\s+|a\s+|an\s+)?(?:initial\s+|temporary\s+|starting\s+|first\s+)?(?:password|passwd)\b"
# Right after the new name: "with the password", ", password", "(password: ...".
_THEN_PASSWORD = r"(?:\s+with\s+|\s*,\s*(?:with\s+)?|\s*\(\s*)" + _GIVEN_PASSWORD
_ADD_USER_CUE = re.compile(
    r"\b(?:create|add|register|make|set\s*up|new|provision|onboard|useradd)\b.*\b(?:user|account|login)\b|\b(?:useradd|adduser)\b"
    r"|\b(?:user(?:name)?|account|login)\b.*\b(?:create|add|register|new|provision|onboard)\b"
    # A causative: "get user X added with password P", "need user X created ...".
    r"|\b(?:get|need|needs|want|wants)\s+(?:the\s+)?(?:new\s+)?(?:user|account|login)\s+[\w.\-]+\s+(?:added|created|set\s+up)\b"
    # "We need an account ...", but not a hypothetical "we might need an account".
    r"|\bonboard\b|(?<!might\s)(?<!may\s)(?<!could\s)(?<!would\s)\b(?:need|needs|want|wants)\s+(?:a\s+|an\s+)?(?:new\s+)?"
    r"(?:user|account|login)\b"
    # "provision NAME with the password PASS": a name and the password it starts with.
    r"|\b(?:create|add|register|set\s*up|provision|onboard)\s+[\w.\-]+" + _THEN_PASSWORD + "|" + _PASSIVE_CREATE + "|" + _CREATE_NAME,
    _FLAGS,
)
# A bare key/value pair with no verb ("username=x password=y", JSON, "username x, password y"): an account to create.
_USER_PASSWORD_PAIR = re.compile(
    r"\b(?:(?:user(?:name)?|login|account)[\"']?\s*[:=]\s*|(?:username|login)\s+)[\"']?[\w.\-]+[\"']?[\s,;]+(?:and\s+)?(?:(?:with|the|a)\s+)?[\"']?"
    r"(?:password|passwd)[\"']?(?:\s*[:=]\s*|\s+)\S", _FLAGS
)
_REMOVE_USER_CUE = re.compile(rf"\b{_REMOVE_VERBS}\b", _FLAGS)
# The same action for a second account: "delete user bob and alice", "... and user alice with password Z",
# "set bob's password to X and alice's to Y", "... to X and for alice to Y".
_SECOND_TARGET = re.compile(
    # "... and anna too", "..., and anna as well", "... and also anna": a second account named on its own at the end.
    r"\b(?:and|plus)\s+(?:also\s+)?(?!(?:he|she|they|it|we|i|you|me|him|her|them|this|that|the|his|their|please|thanks|then|do|so)\b)"
    r"[\w.\-]+\s+(?:too|as\s+well|also)\s*[.!]*$|\band\s+also\s+(?!(?:do|that|this|it|please)\b)[\w.\-]+\s*[.!]*$|"
    r"\b(?:and|plus|as\s+well\s+as)\s+(?:also\s+)?(?:the\s+)?(?:user|account|login)s?\s+(?!(?:is|was|has|will|should|needs?|gets?)\b)[\w.\-]+"
    r"|\b(?:user|account|login)s?(?:\s*[:=]\s*|\s+)[\w.\-]+(?:\s*,\s*[\w.\-]+)*\s*(?:,|\band\b|&)\s*"
    r"(?!(?:with|password|passwd|pw|set|the|his|her|their|make|he|she|they|it|we|please|thanks|thank|cheers|asap|now|today)\b)"
    r"(?![\w.\-]+\s+(?:password|passwd|pw)\b)"
    r"[\w.\-]+\s*(?:[.!]?\s*$|\s+(?:to|from|with|password|passwd|pw|in|into)\b)"
    r"|\band\s+[\w.\-]+'s\s+(?:(?:new\s+)?(?:password|passwd|pw)\s+)?(?:to|as|is|:)\s"
    r"|\band\s+(?:also\s+)?(?:for|of)\s+(?:user\s+)?[\w.\-]+\s+(?:to|as|:)\s"
    # "... and the one for Ana", "... and Ana's account too".
    r"|\b(?:and|plus)\s+(?:also\s+)?(?:the\s+one|that\s+one|the\s+other\s+one|those|the\s+ones)\s+(?:for|of|belonging)\b"
    r"|\b(?:and|plus)\s+(?:also\s+)?[\w.\-]+'s\s+(?:user\s+|own\s+)?(?:account|login|password)\b"
    # "remove bob's account and ana's": a second owner with the thing left out.
    r"|\b(?:and|plus|&)\s+(?:also\s+)?[\w.\-]+'s\s*(?:too|as\s+well|also)?\s*[.!]*$"
    # A second "name : password" pair after a separator: "pw reset => bob : P1 ; ana : P2".
    r"|[;,]\s*(?!(?:password|passwd|pw|pwd|pass|new|old|user|username|login|account|group|share|reason|note|ticket|type|expires?)\b)"
    r"[\w.\-]+\s*(?:\s:|->|=>|→)\s*\S+\s*$"
    # "..., mbeck too", "..., also mbeck": a second account after a comma.
    r"|,\s*(?:and\s+)?(?:also\s+)?(?!(?:he|she|they|it|we|i|you|me|him|her|them|this|that|the|his|their|please|pls|thanks|thx|ty|then|do|so"
    r"|me|same|ok|okay)\b)[\w.\-]+\s+(?:too|as\s+well)\s*[.!]*$"
    # A second name with a password of its own after the first password: "user X password P and Y password Q".
    r"|\b(?:password|passwd|pw)\b[^.;]*?\b(?:and|plus)\s+(?:also\s+)?(?:user\s+|account\s+)?"
    r"(?!(?:the|his|her|their|its|a|an|new|set|with|give|send|assign|use|make|mail|email|then|also|please|same)\b)[\w.\-]+\s+"
    r"(?:with\s+)?(?:password|passwd|pw)\b",
    _FLAGS,
)
# "create user X with password Y and add her to group G": two actions, never one certain action. Not a password
# given along ("create X and set/give him the password Y") nor "make sure".
# A possible need, not a request: "we may need to add X to group G later", "X might need a new password".
_MAY_NEED = re.compile(r"\b(?:may|might|could|possibly|probably)\s+(?:also\s+)?(?:need|want|have|require)\b", _FLAGS)
# Where the password goes, not what it is: "reset X's password and send it to him", "email the new one to Y".
_SEND_IT_TO = re.compile(
    r"\b(?:send|email|e-mail|mail|forward|text|message|give|tell|share|communicate|pass)\s+"
    r"(?:it|them|the\s+(?:new\s+)?(?:one|password|passwd|pw|credentials))\s+(?:over\s+)?to\s+\S+",
    _FLAGS,
)
# Not the account itself: "delete the files of user X", "remove X's ssh key", "remove the account X from the vpn".
_REMOVE_SOMETHING_ELSE = re.compile(
    rf"\b{_REMOVE_VERBS}\s+(?:(?:the|all|all\s+the|his|her|their|its)\s+)?(?:[\w.\-]+'s\s+|(?:user|account)\s+[\w.\-]+'s\s+)?(?:old\s+)?"
    r"(?:files?|folders?|home|directory|dir|data|mail|mailbox|ssh|keys?|cron|crontab|process(?:es)?|sessions?|e-?mails?|documents?|profile"
    r"|quota|vpn|tokens?|access|permissions?|devices?|laptop|phone|licen[cs]es?|certificates?|certs?|sudo|rights|privileges|shell|alias)\b"
    rf"|\b{_REMOVE_VERBS}\s+(?:(?![,;]|\.(?:\s|$)).)*?\bfrom\s+(?:the\s+|all\s+|every\s+)?(?!(?:the\s+)?(?:system|server|servers|domain|directory|ad|active\s+directory|ldap|machine|host|box"
    r"|computer|network|company|org|organi[sz]ation|tenant|everywhere|our\s+systems?|all\s+systems?)\b)[\w.\-]+",
    _FLAGS,
)
_SECOND_ACTION = re.compile(
    r"\b(?:add|create|remove|delete|drop|reset|change|put|make|grant|give|revoke|set\s*up|register|provision|useradd|userdel"
    rf"|{_REMOVE_VERBS})\b.*(?:\band|\bthen|\balso|\bplus|[,;])\s+(?:then\s+|also\s+|afterwards\s+)?(?:add|create|remove|delete|drop|reset|change|put|make|grant"
    r"|give|revoke|include|enroll|assign|lock|unlock|disable|enable|expire|rename|set\s*up|register|provision|re-?create|re-?add)\b"
    r"(?!\s+(?:(?:him|her|them|it)\s+)?(?:(?:the|a|an|his|her|their|its)\s+)?(?:new\s+|initial\s+|temporary\s+)?(?:password|passwd)\b)"
    r"(?!\s+(?:sure|it\b))"
    rf"(?=.*\b(?:group|membership|member|user|account|login|share|access|password|passwd|{_REMOVE_VERBS})\b)"
    # "delete user X then recreate it": the thing made again, a second action whatever its object.
    r"|\b(?:then|and|afterwards|after\s+that)\s+(?:then\s+)?re-?(?:create|add|make|provision)\b",
    _FLAGS,
)
# "the account was deleted last week": a report (the participle reads as the verb after typo correction).
_DONE_ALREADY = re.compile(
    r"\b(?:was|were|has\s+been|have\s+been|had\s+been|got)\s+(?:already\s+|just\s+)?"
    r"(?:delete|remove|create|add|change|reset|update|drop|erase|purge)(?:e?d)?\b"
    # "I reset bob's password to X", "we've added bob to ops": the speaker did it already.
    r"|^(?:i|we)(?:'ve|\s+have|\s+had|'d)?\s+(?:just\s+|already\s+|finally\s+)?"
    r"(?:delete|remove|create|add|change|reset|update|drop|erase|purge|set|put|made|gave|granted)(?:e?d)?\b", _FLAGS
)
# "set password expiry for X to 90 days": a setting of the password, which no action covers.
_PASSWORD_SETTING = re.compile(
    r"\b(?:password|passwd)\s+(?:expiry|expiration|expires|policy|age|length|complexity|history|hint|rules?|requirements?)\b", _FLAGS
)

# Command-line options before a name: "useradd -m -s /bin/bash NAME", "userdel -r NAME".
_NO_ARG_OPTIONS = r"(?:\s+(?:-[a-zA-Z]+|--[\w\-]+))*"
_USERADD_OPTIONS = r"(?:\s+(?:-[mMrNUlDf]+|--[\w\-]+(?:=\S+)?|-(?![mMrNUlDf]\b)[a-zA-Z]\s+\S+))*?"
_USERMOD_APPEND = r"(?:-aG|-Ga|-a\s+-G|-G\s+-a|--append\s+--groups|--groups\s+\S+\s+--append)"
_GROUP_USER = (
    # One login only: "usermod -aG devs bob ana" names two.
    rf"\busermod\s+{_USERMOD_APPEND}\s+(?:\"[^\"]+\"|'[^']+'|\S+)\s+{{U}}(?!\s+[\w.\-]+\s*$)",
    r"\bgpasswd\s+(?:-a|--add)\s+{U}",
    r"\buser(?:name)?[\"']?\s*[:=]\s*{U}",
    r"\busername\s+is\s+{U}",
    r"\b(?:add|put|include|enroll|join|assign|place|(?:wire|hook)\s+up)\s+(?:the\s+)?(?:user\s+|account\s+|login\s+)?{U}\s+(?:to|in|into|inside)\b",
    r"\b{U}\s+(?:is\s+|becomes\s+)?(?:a\s+)?(?:member|part)\s+(?:of|in)\b",
    r"\b(?:add|put|include|enroll)\s+(?:the\s+)?(?:user\s+)?{U}\s+as\s+(?:a\s+)?member\s+(?:of|in|to)\b",
    r"\b{U}\s+(?:should|must|needs\s+to|has\s+to)\s+(?:have|get)\s+(?:a\s+)?membership\s+(?:in|of|to)\b",
    # Terse: "user NAME, group G", "NAME -> group G".
    r"\buser\s+{U}\s*(?:[,;/]|->|=>|→)\s*(?:the\s+)?(?:[\w.\-]+\s+)?group\b",
    r"^{U}\s*(?:->|=>|→|\s(?:to|into)\s)\s*(?:the\s+)?(?:[\w.\-]+\s+)?group\b",
    r"\b(?:user|account|login)s?\s+to\s+(?:be\s+)?add(?:ed)?\s+(?:to|in|into)\s+(?:the\s+)?(?:group\s+[\w.\-]+|[\w.\-]+\s+group)\s*[:=]\s*{U}\s*$",
    # The user first or last around a verb without an object: "NAME - please add to group G", "add to group G: NAME".
    r"^{U}\s*(?:[-:,–—]|->)\s*(?:please\s+)?(?:add|put)\s+(?:to|in|into)\s",
    r"^(?:please\s+)?(?:add|put)\s+(?:to|in|into)\s+(?:the\s+)?(?:group\s+[\w.\-]+|[\w.\-]+\s+group)\s*:\s*{U}\s*$",
    r"\b(?:grant|give)\s+(?:user\s+)?{U}\s+(?:a\s+)?membership\b",
    r"\bmembership\s+for\s+(?:the\s+)?(?:user\s+)?{U}\s+(?:in|of|to)\b",
    # What is left of "Can we get X membership in the G group?" once the wrapper is off.
    r"^{U}\s+(?:a\s+)?membership\s+(?:in|of|to)\b",
    # The user first, then the membership: "To U's account, add membership in group G", "For user U: add membership in G".
    r"^(?:to|for|on)\s+(?:the\s+)?(?:user\s+|account\s+)?{U}(?:'s\s+(?:account|user|login))?\s*[,:]\s*(?:please\s+)?(?:add|grant|give)\s+"
    r"(?:a\s+)?membership\s+(?:in|of|to)\b",
    # "grant membership in group G to user U".
    r"\b(?:grant|give)\s+(?:a\s+)?membership\s+(?:in|of|to)\s+(?:the\s+)?(?:group\s+\S+|\S+\s+group|\S+)\s+(?:to|for)\s+(?:the\s+)?(?:user\s+)?{U}",
    # Needs: "We need U in the group G", "U should be in the G group", "Group G needs U as a member"; not asked ("...?").
    r"\b(?:need|needs|want|wants)\s+(?:user\s+)?{U}\s+(?:to\s+be\s+)?(?:in|into|added\s+to)\s(?![^?]*\?)",
    r"\b{U}\s+(?:should|must|needs\s+to|need\s+to|has\s+to|ought\s+to|is\s+to|are\s+to|is\s+going\s+to|will)\s+"
    r"(?:be\s+(?:in|added\s+to|put\s+in(?:to)?|a\s+member\s+of|part\s+of)|join)\s"
    r"(?![^?]*\?)",
    r"\bgroup\s+\S+\s+(?:needs|wants|gets|should\s+(?:get|have|include))\s+(?:user\s+)?{U}",
    # "the G group should also include U", "group G must include user U".
    r"\b(?:[\w.\-]+\s+group|group\s+[\w.\-]+)\s+(?:should|must|needs\s+to|has\s+to|is\s+to)\s+(?:also\s+|now\s+)?include\s+"
    r"(?:the\s+)?(?:user\s+|account\s+)?{U}\s*[.!]?$",
    # The group named first: "the 'ops' group needs ana added", "the auditors group should get ana as a member".
    r"\b[\w.\-'\"`]+\s+group\s+(?:needs|wants|should\s+(?:get|have|include))\s+(?:user\s+)?{U}\s+(?:added|as\s+(?:a\s+)?(?:new\s+)?member)\b",
    # Word order: "To the group netadmins, add user rui", "Into the admins group with alice".
    r"^(?:(?:to|into|in|for|on)\s+)?(?:the\s+)?(?:group\s+(?:[\w.\-]+|\"[^\"]+\"|`[^`]+`)|[\w.\-]+\s+group)\s*[,:]?\s*(?:add|put|include|enroll|assign|place|with)\s+"
    r"(?:the\s+)?(?:user\s+)?{U}",
)
_GROUP_NAME = (
    rf"\busermod\s+{_USERMOD_APPEND}\s+{{G}}",
    r"\bgpasswd\s+(?:-a|--add)\s+\S+\s+{G}",
    r"\bgroup[\"']?\s*[:=]\s*{G}",
    r"\bmember(?:ship)?\s+(?:of|in)\s+(?:the\s+)?(?:group\s+)?{G}",
    # "the G group" before "group G": what follows "group" may be a time or a reason ("the ops group b4 friday").
    r"\b(?:the|a)\s+{G}\s+group\b",
    r"(?:\b(?:to|into|in|of|join)|->|=>|→)\s+{G}\s+group\b",
    r"\b(?:to|into|in|of|join)\s+(?:the\s+)?group\s+(?:named\s+|called\s+)?{G}",
    r"\bgroup\s+(?:named\s+|called\s+)?{G}",
)
# "user: NAME", "user=NAME", "username NAME", '"username": "NAME"': a key and its value, as in terse and key=value forms.
_KEYED = r"(?:[\"']?\s*[:=]\s*|\s+)"
# Who the account is for, said before the name ("for contractor ext.li", "for our former intern (jdoe)").
_ROLE = (r"(?:former\s+|old\s+|external\s+|temporary\s+|summer\s+)?(?:contractor|intern|employee|consultant|colleague|hire|starter"
         r"|vendor|analyst|developer|engineer|auditor|freelancer|trainee|apprentice)")
_FOR_ROLE = r"\s+(?:for|of|belonging\s+to)\s+(?:the\s+|our\s+|a\s+|an\s+|my\s+|their\s+)?(?:new\s+)?" + _ROLE + r"\s+"
# Another system's account or group: "a vpn user", "database login", "... on github", "... in jira".
_OTHER_SYSTEMS = r"(?:vpn|database|db|mysql|postgres|postgresql|sql|jira|github|gitlab|bitbucket|confluence|slack|teams|aws|azure|gcp|okta|wifi|wi-fi|crm|salesforce|wiki|jenkins)"
_OTHER_SYSTEM_USER = re.compile(
    rf"\b{_OTHER_SYSTEMS}\s+(?:user|account|login|group)s?\b|\b(?:on|in|into|to|from)\s+(?:the\s+|our\s+)?{_OTHER_SYSTEMS}\b(?![\w.\-])",
    _FLAGS,
)
# A courtesy or a time after "group" is not its name ("add X to the grp ty", "group b4 friday").
_GROUP_STOPWORDS = STOPWORDS | frozenset(
    "ty thx tia pls plz asap b4 before by until till today tomorrow now thanks cheers"
    # A description, not a name: "the same group as ana", "the right group".
    " same other right correct appropriate usual relevant proper following"
    # Nouns after "group" in context ("Our group lead approved it.", "The group policy says so:").
    " lead leads policy policies chat membership mailbox email meeting call"
    " name names list settings request requests".split()
)
# A second group ("to group ops and group dev", "the ops group, and the dev group too", "-aG ops,dev"), or a
# second command in a shell line ("gpasswd -a x ops && gpasswd -a x dev"): more than one action.
_SECOND_GROUP = re.compile(
    r"\bgroups?\b[^:;=]*?(?:\band|\bplus|\bas\s+well\s+as|,)\s+(?:(?:and|also|the|a|to|in|into)\s+)*"
    r"(?:groups?\s+(?![:=])[\w.\-]+|[\w.\-]+\s+groups?\b)"
    # A second name ending the request: "to group ops and dev", "to group ops, dev".
    r"|\bgroups?\s+[\w.\-]+\s*(?:,|\band\b|&|\bplus\b)\s*(?:also\s+)?"
    r"(?!(?:please|pls|thanks|thank|thx|cheers|asap|now|today|tomorrow|too|also|he|she|they|it|we|i|then)\b)[\w.\-]+\s*[.!]?\s*$"
    rf"|\s{_USERMOD_APPEND}\s+[^\s,]+,"
    r"|(?:&&|\|\||;)\s*(?:sudo\s+)?(?:useradd|userdel|usermod|gpasswd|passwd|adduser|deluser|chpasswd)\b",
    _FLAGS,
)
# A role alone is not a name ("create an account for the contractor, password X": whose?).
_USER_STOPWORDS = STOPWORDS | frozenset(
    "contractor intern employee consultant colleague hire starter vendor analyst developer engineer auditor freelancer trainee"
    " apprentice update rotate modify"
    # A verb's particle, not a name: "kick out bob from ...", "cut off bob ...", "take away ...".
    " out off away up"
    # A quantifier or a description, not a name: "delete every account that ...", "remove the old accounts".
    " every all each any old inactive unused stale disabled expired those these both yet one too again here there first"
    # Nouns after "user"/"account" in context ("Our user base is growing.", "The account team asked:", "User request from X:").
    " base team request requests policy list management portal details info information data ticket tickets creation deletion"
    " removal provisioning onboarding offboarding review audit report settings belonging owned used"
    # What a user gets, not who: "X needs membership in G", "X needs rights on ...".
    " membership memberships rights privileges permission permissions role roles access"
    # The kind of password, not its owner: "reset vtran's email password", "the wifi password".
    " email e-mail mail mailbox wifi wi-fi vpn ssh sudo portal sso windows linux domain database db bios voicemail".split()
)
_NEW_USER = (
    rf"\b(?:useradd|adduser)\b{_USERADD_OPTIONS}\s+{{U}}",
    # "useradd name=NAME pass=PASS": the keyed name of the account the command makes.
    r"^(?:useradd|adduser)\s+(?:[\w\-]+\s*[:=]\s*\S+\s+)*?name\s*[:=]\s*{U}",
    # A chat-ops command with its two arguments and nothing else: "user add NAME PASS".
    r"^(?:user|account)\s+(?:add|create)\s+{U}(?=\s+\S+\s*$)",
    # A keyed name first ("need an account asap -> username: NAME / pwd: PASS").
    r"\b(?:user(?:name)?|account|login)[\"']?\s*[:=]\s*{U}",
    # The name right after the create verb's noun, before a "user WORD" in context ("Our user base ... create user NAME").
    r"\b(?:create|add|register|make|set\s*up|provision|onboard)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:user|account|login)\s+"
    r"(?:called\s+|named\s+)?{U}",
    # A person's name, then the login: "Onboard Ada Quist as aquist with ...".
    r"\b(?:onboard|create|add|provision|set\s*up)\s+(?-i:[A-Z][a-z]+)(?:\s+(?-i:[A-Z][a-z]+)){{0,2}}\s+as\s+{U}\s+with\b",
    # A role before the name: "account for contractor ext.li", "login for the new intern jdoe".
    r"\b(?:user|account|login)" + _FOR_ROLE + r"{U}",
    r"\b(?:user(?:name)?|account|login)" + _KEYED + r"(?:for\s+)?(?:called\s+|named\s+)?{U}",
    r"\b(?:user|account|login)\s+(?:add|create)\s*(?::|->|=>|→)\s*{U}",
    r"\bonboard\s+(?:the\s+)?(?:user\s+|account\s+)?{U}",
    r"\b(?:create|add|register|make|set\s*up|provision)\s+{U}\s+as\s+(?:a\s+|an\s+)?(?:new\s+)?(?:user|account|login)\b",
    r"\b(?:create|add|register|set\s*up|provision|onboard)\s+{U}" + _THEN_PASSWORD,
    r"^(?:please\s+)?(?:create|onboard|provision|register)\s+{U}(?=[.,;]\s|[.,;]?$)",
    r"^{U}\s+(?:needs|wants|requires)\s+(?:a\s+|an\s+)?(?:new\s+)?(?:user\s+)?(?:account|login)\b",
    # "give the new hire NAME an account".
    r"\bgive\s+(?:the\s+|our\s+)?(?:new\s+)?(?:" + _ROLE + r"\s+)?{U}\s+(?:a|an)\s+(?:new\s+)?(?:user\s+)?(?:account|login)\b",
)
_NEW_PASSWORD = (
    r"\b(?<!same\s)password\s+(?:to|as)\s+{PW}",
    r"\bpassword\s+(?:should|must)\s+be\s+(?!(?:set|changed|change|reset|updated|update|sent|provided|given|shared)\b){PW}",
    # "the password for the new account NAME is PASS".
    r"\bpassword\s+for\s+(?:the\s+)?(?:new\s+)?(?:user\s+|account\s+|login\s+)?[\w.\-]+\s+(?:is|should\s+be|:)\s*{PW}",
    r"\bpassword(?:[\"']\s*(?=[:=]))?\s*(?:is\s+|=(?!>)\s*|:\s*|of\s+|(?:->|=>|→)\s*)?{PW}",
    # Not the command's own verb read as the name ("user add => NAME | PASS").
    r"\b(?:user(?:name)?|account|login)" + _KEYED + r"(?:called\s+|named\s+)?(?!(?:add|create)\b)[\w.\-]+(?:\s*(?:/|->|=>|→)\s*|:(?=\S)){PW}",
    r"\b(?:useradd|adduser)\b.*\s(?:-p|--password)(?:\s+|=){PW}",
    r"^(?:user|account)\s+(?:add|create)\s+[\w.\-]+\s+{PW}\s*$",
    # Terse: "user add => NAME | PASS", "user add: NAME / PASS".
    r"^(?:user|account)\s+(?:add|create)\s*(?::|->|=>|→)\s*[\w.\-]+\s*(?:\||/)\s*{PW}\s*$",
)
_OLD_USER = (
    rf"\buserdel\b{_NO_ARG_OPTIONS}(?:\s*(?::|->|=>|→)\s*|\s+){{U}}",
    rf"\b{_REMOVE_VERBS}\s+(?:the\s+)?(?:user|account|login)\s+(?:called\s+|named\s+)?{{U}}",
    r"\b(?:user|account|login)" + _FOR_ROLE + r"{U}",
    # A person named, then the login: "the account for Ivo (ivo.k)", "Ivo's account (ivo.k)", "Ivo's login ivo.k".
    r"\b(?:user|account|login)\s+(?:for|of|belonging\s+to)\s+(?:the\s+|our\s+|my\s+)?[\w.\-']+(?:\s+[\w.\-']+){{0,2}}?\s+(?=\()"
    r"{U}",
    r"\b[\w.\-]+'s\s+(?:user\s+)?(?:account|login)\s+(?=\(|[\w\-]*[.\d_][\w.\-]*(?:\s|$))(?!\S*'s\b){U}",
    r"\b{U}'s\s+(?:user\s+)?(?:account|login)\b",
    r"\b(?:user(?:name)?|account|login)" + _KEYED + r"(?:account\s+)?(?:for\s+|of\s+|belonging\s+to\s+)?{U}",
    # Terse: "user del: NAME", "account remove NAME".
    r"\b(?:user|account|login)\s+(?:delete|remove|drop)\s*[:=]?\s*{U}",
    r"\b(?:offboard|deprovision|decommission)(?:ing)?(?:\s*(?::|->|=>|→)\s*|\s+)(?:the\s+)?(?:user\s+|account\s+)?{U}",
    rf"\b{_REMOVE_VERBS}\s+(?:the\s+)?{{U}}\s+(?:user\s+)?(?:account|login)\b",
    # Keyed by the task: "user to remove: NAME", "account to delete = NAME", "NAME: delete account".
    rf"\b(?:user|account|login)s?\s+to\s+(?:be\s+)?{_REMOVE_VERBS}(?:e?d)?\s*[:=]\s*{{U}}\s*$",
    rf"^{{U}}\s*:\s*{_REMOVE_VERBS}\s+(?:the\s+|this\s+)?(?:user|account|login)\s*$",
    # Terse with the verb first: "remove user -> NAME", "delete account: NAME".
    rf"\b{_REMOVE_VERBS}\s+(?:the\s+)?(?:user|account|login)\s*(?::|->|=>|→)\s*{{U}}",
    # The leaver named first, the account after: "NAME no longer works here, delete the user".
    r"^{U}\s+(?:no\s+longer\s+works|has\s+left|left|is\s+leaving|quit|has\s+quit|retired|has\s+retired|is\s+gone)\b[^.;]*?"
    + rf"\b{_REMOVE_VERBS}\s+(?:the|his|her|their)\s+(?:user|account|login)\s*[.!]?$",
)
_ARROW = r"(?:->|=>|→)"
_PASSWORD_OWNER = (
    r"\bpasswd\s+{U}",
    r"^(?:change|reset)\s+(?:password|passwd)\s+{U}\s+(?=\S*[\d\W])\S+\s*$",
    # "chg pw NAME -> NEW": the verb, the password, the user, an arrow.
    r"^(?:change|reset|update|set)\s+(?:password|passwd)\s+(?:for\s+)?(?:user\s+)?{U}\s*(?:->|=>|→)\s*\S+\s*$",
    r"\b(?:password|passwd)\s+(?:change|reset|update)" + _KEYED + r"(?:for\s+|of\s+)?(?:user\s+)?{U}",
    # "pwd reset => NAME : NEW": an arrow to the user, then the new password.
    r"\b(?:password|passwd)\s+(?:change|reset|update)\s*" + _ARROW + r"\s*(?:user\s+)?{U}\s*(?::|/|" + _ARROW + r")\s*\S",
    r"^{U}\s*:\s*(?:new\s+)?(?:password|passwd)\b",
    # "passwd: NAME -> NEW", "update password: NAME / NEW".
    r"\b(?:password|passwd)\s*[:=]\s*(?:user\s+)?{U}\s*(?:" + _ARROW + r"|/\s)",
    r"\buser(?:name)?[\"']?\s*[:=]\s*{U}",
    r"\b{U}'s\s+(?:new\s+)?password\b",
    r"\b(?:password|passwd|credentials)" + _FOR_ROLE + r"{U}",
    r"\b(?:password|passwd|credentials)\s+(?:for|of|on|4)\s+(?:the\s+)?(?:user\s+|account\s+)?{U}",
    r"\buser\s+{U}",
    r"\b{U}\s+(?:password|forgot)\b",
    r"\b{U}\s+(?:needs|wants|gets|requires)\s+(?:a\s+)?(?:new\s+(?:password|passwd)|(?:password|passwd)\s+(?:reset|change))\b",
    # "set password PASS for NAME", "give NAME the new password PASS".
    r"\bset\s+(?:the\s+|a\s+)?(?:new\s+)?(?:password|passwd)\s+\S+\s+for\s+(?:the\s+)?(?:user\s+|account\s+)?{U}",
    r"\bgive\s+{U}\s+(?:the\s+|a\s+)?new\s+(?:password|passwd)\b",
    r"\b{U}\s+(?:got|is|was|has\s+been|gets)\s+locked\s+out\b",
    r"^for\s+(?:the\s+)?(?:user\s+|account\s+)?{U}\s*,",
)
_CHANGED_PASSWORD = (
    r"\b(?:password|passwd)\s+(?:for|of|change|reset|update)\s+(?:user\s+)?(?!(?:please|pls|request|needed|asap)\b)[\w.\-]+\s*(?::|=(?!>))\s*{PW}",
    r"(?:^|[.;:!]\s+)passwd\s+(?!(?:for|of)\b)[\w.\-]+\s+{PW}",
    # "change_password NAME PASS": a password holds a digit or a sign, so "reset password bob now" is none.
    r"^(?:change|reset)\s+(?:password|passwd)\s+(?!(?:for|of|to)\b)[\w.\-]+\s+(?=\S*[\d\W])(?P<password>\S+)\s*$",
    # A keyed password, unless it is the user before an arrow ("passwd: NAME -> NEW").
    r"\b(?:password|passwd)\s*[:=]\s*(?:user\s+)?[\w.\-]+\s+/\s+{PW}",
    r"\b(?:password|passwd)[\"']?\s*(?::|=(?!>))\s*(?!\S*\s*" + _ARROW + r")(?!\S+\s+/\s){PW}",
    # An arrow to the new password, unless what follows is the next key ("-> user: NAME, password: NEW").
    r"\s" + _ARROW + r"\s*(?![\w.\-]+\s*[:=]){PW}",
    r"\bnew\s+password\s+(?:is\s+)?{PW}",
    r"\b(?:password|passwd)\s+(?:change|reset|update)\s*" + _ARROW + r"\s*(?:user\s+)?[\w.\-]+\s*(?::|/|" + _ARROW + r")\s*{PW}",
    # "pwd reset: NAME / NEW", "password change: NAME -> NEW".
    r"\b(?:password|passwd)\s+(?:change|reset|update)\s*:\s*(?:user\s+)?[\w.\-]+\s*(?:/|" + _ARROW + r")\s*{PW}\s*[.!]?$",
    # Keyed as "new": 'pw reset for user=x new="P"'.
    r"\bnew[\"']?\s*[:=](?!>)\s*{PW}",
    r"\bnew\s+one\s*(?:is\s+|[:=]\s*){PW}",
    r"\b(?:become|becomes|should\s+be)\s+(?!(?:set|changed|change|reset|updated|update|rotated|switched)\b){PW}",
    r"\b(?:make|set)\s+it\s+(?:to\s+)?{PW}",
    r"\bset\s+(?:the\s+|a\s+)?(?:new\s+)?password\s+(?!to\b|for\b|of\b){PW}",
    # "to PASS" near the password or its verb, not "Back to work ...: reset pw for X".
    r"\b(?:password|passwd|pw|it|reset|change|set|update|rotate|swap)\b(?:\s+(?!to\b)\S+){{0,6}}?\s+to\s+(?:be\s+)?{PW}",
    # "is PASS" only about the password ("the new one is X", "password for bob is X"), not "hope all is well".
    r"\b(?:password|passwd|one|it|pw)\b(?:\s+(?!is\b)\S+){{0,4}}?\s+is\s+{PW}",
)


def _ends_in_question_mark(password: str | None, core: str) -> bool:
    """"Could you add user X with password Rq4#tt?": the "?" may end the sentence or the password; the model decides."""
    return bool(password) and password.endswith("?") and bool(re.search(rf"{re.escape(password)}(?:[\s,;]|$)", core))


def _user(core: str) -> RuleParse:
    if _OTHER_SYSTEM_USER.search(core):
        # "create a vpn user X ...", "add X to group G in jira": an account of another system, not a local one.
        return _unknown("none", "user: an account or group of another system")
    if _FROM_GROUP.search(core):
        if re.search(rf"\b(?:was|were|got|has\s+been|have\s+been|had\s+been)\s+(?:\w+ly\s+)?(?:{_REMOVE_VERBS}(?:e?d)?|taken|kicked|thrown)\b",
                     core, _FLAGS):
            # "X was accidentally removed from group G, please add him back": what happened, then a request.
            return _unknown("none", "user: a removal from a group is reported, not asked for")
        return _unknown("refusal", "user: removing from a group is not supported")
    if _MAY_NEED.search(core):
        return _unknown("none", "user: a possible need later, not a request now")
    if _SECOND_ACTION.search(core):
        return _unknown("several", "user: a second action joined to the first (more than one action is out of scope)")
    if _SECOND_TARGET.search(core) or len(re.findall(_ARROW, core)) > 1:
        return _unknown("several", "user: a second account in the same request (more than one action is out of scope)")
    if re.search(r"\b(?:useradd|adduser)\b.*\s(?:-G|--groups?|--ingroup)(?:\s|=)", core):
        # "useradd bob -p P -G devs": the account and a group, two actions.
        return _unknown("several", "user: useradd with a group option (creating and adding to a group)")
    if _GROUP_CUE.search(core):
        if _REMOVE_USER_CUE.search(core):
            # "rm usr ana, grp devs": a removal word beside a group is no request to add to it.
            return _unknown("none", "user: a removal word beside a group: the model decides")
        if _SECOND_GROUP.search(core):
            return _unknown("several", "user: a second group or command (more than one action is out of scope)")
        if _PASSWORD_WORD.search(core):
            return _unknown("several", "user: a password with a group: creating the account and adding it (two actions)")
        return _intent(
            {"action": "add_to_group", "username": _find(_GROUP_USER, core, "user", _USER_STOPWORDS), "group": _find(_GROUP_NAME, core, "group", _GROUP_STOPWORDS)},
            "user: add to group",
        )
    if _DONE_ALREADY.search(core):
        return _unknown("doubt", "user: a report of what was done, not a command")
    if _PASSWORD_LATER.search(core):
        return _unknown("refusal", "user: the password is not given")
    if _PASSWORD_SETTING.search(core):
        return _unknown("none", "user: a password setting, not a password")
    if _PASSWORD_WORD.search(core) and (
        _STRONG_CHANGE_CUE.search(core) or (_CHANGE_CUE.search(core) and not _CREATE_USER_VERB.search(core))
    ):
        if _AFTER_A_CHANGE.search(core) and not _CHANGE_CUE.search(_AFTER_A_CHANGE.sub(" ", core)):
            # "X cannot log in after the password reset to P": the change is the time of a problem, not the request.
            return _unknown("none", "user: a password change named as the time of something else, not asked for")
        username = _find(_PASSWORD_OWNER, core, "user", _USER_STOPWORDS)
        password = _find(_CHANGED_PASSWORD, _SEND_IT_TO.sub(" ", core), "password", _PASSWORD_STOPWORDS)
        if _ends_in_question_mark(password, core):
            return _unknown("none", "user: a question mark after the password, its own or the sentence's")
        return _intent({"action": "change_password", "username": username, "password": password}, "user: change password")
    if _ADD_USER_CUE.search(core) or (_USER_PASSWORD_PAIR.search(core) and not _REMOVE_USER_CUE.search(core)):
        username = _find(_NEW_USER, core, "user", _USER_STOPWORDS)
        password = _find(_NEW_PASSWORD, core, "password", _PASSWORD_STOPWORDS)
        if _ends_in_question_mark(password, core):
            return _unknown("none", "user: a question mark after the password, its own or the sentence's")
        return _intent({"action": "add_user", "username": username, "password": password}, "user: create with password")
    if _REMOVE_USER_CUE.search(core):
        if _REMOVE_SOMETHING_ELSE.search(core):
            return _unknown("none", "user: something of the account is removed, or it is removed from somewhere, not the account itself")
        return _intent({"action": "remove_user", "username": _find(_OLD_USER, core, "user", _USER_STOPWORDS)}, "user: remove")
    return _unknown("none", "user: no pattern matched")


# Samba ----------------------------------------------------------------------------------------

_REVOKE_CUE = _cue(
    r"revoke|remove|delete|drop|destroy|deny|block|kick|take\s+away|cut\s+off|withdraw|disable|stop|no\s+longer|prevent|ban|rescind"
    r"|take\s+\S+\s+(?:off|out\s+of)|lose\s+(?:[\w/\-]+\s+)?access|no\s+more\s+access"
    # Passive: "access to X should be taken away from Y", "... is to be withdrawn".
    r"|be\s+(?:taken\s+away|revoked|withdrawn|removed|pulled)"
)
_GRANT_CUE = _cue(
    r"give|grant|let|allow|open|provide|enable|authori[sz]e|add|permit|granted|given\s+access"
    r"|(?:needs?|requires?|wants?|should\s+(?:have|get))\s+(?:[\w/\-]+\s+)?access"
    r"|(?:needs?|requires?|wants?|should\s+(?:have|get))\s+(?:rw|read/write|read-write|read-only|readonly|write|full)\s+"
    r"(?:(?:access|rights|permissions?)\s+)?(?:on|to|for)"
    r"|(?:should|must|needs?\s+to|has\s+to)\s+be\s+able\s+to\s+(?:access|use|reach|open|read|write\s+to)"
    r"|(?:needs?|wants?|has)\s+to\s+(?:get\s+into|be\s+(?:added\s+to|in|on|allowed\s+(?:into|on)))"
)
# "dan shouldn't have access to hr": a negation that asks for access to be revoked, not a negated command.
_DENIED_ACCESS = _cue(
    r"(?:should|must|may)(?:n['’]t|\s+not|\s+no\s+longer)\s+(?:have|get|keep|retain)\s+(?:any\s+)?(?:more\s+)?access"
    r"|(?:should|must|may)(?:n['’]t|\s+not|\s+no\s+longer)\s+(?:be\s+able\s+to\s+)?(?:access|use|reach|see)"
    # "X shouldn't be on the Y share any more".
    r"|(?:should|must|may)(?:n['’]t|\s+not|\s+no\s+longer)\s+be\s+(?:allowed\s+)?(?:on|in|into)(?=\s+(?:the\s+)?(?:share\s+)?[\w.\-$]+(?:\s+share)?\b)"
    r"|(?:no\s+longer|doesn['’]t|does\s+not|don['’]t|do\s+not)\s+(?:needs?|requires?)\s+(?:[\w/\-]+\s+)?access"
)
# A verb that grants and one that revokes in the same request ("give X access to A and revoke it from Y"): two actions.
_GRANT_VERB = _cue(r"give|grant|let|allow|open|provide|authori[sz]e|permit")
_REVOKE_VERB = _cue(r"revoke|remove|deny|block|kick|take\s+away|cut\s+off|withdraw|ban|rescind")
# Deleting a share is not an operation of the schema (labelling rule 6).
_DELETE_SHARE = re.compile(
    r"^(?:delete|remove|drop|destroy|decommission|retire|nuke|kill|wipe|get\s+rid\s+of|tear\s+down)\s+(?:the\s+)?"
    r"(?:(?:samba|smb|file)\s+)?(?:share\s+\S+|\S+\s+share)\s*[.!]?$", _FLAGS
)
# The user as the subject of a clause ("omar needs access", "Also, user kim should not have access"), not
# the last word of a longer subject ("kim from HR needs access": HR is no user).
_SUBJECT = (
    r"(?<!\bfrom\s)(?<!\bof\s)(?<!\bin\s)(?<!\bat\s)(?<!\bwith\s)(?<!\bfor\s)(?<!\bby\s)(?<!\bon\s)(?<!\bto\s)"
    r"\b(?:the\s+)?(?:user\s+)?"
)
_FRONT_VERBS = (r"(?:give|grant|provide|allow|enable|add|open|let|authori[sz]e|permit|revoke|remove|withdraw|take\s+away|cut\s+off"
                r"|disable|deny|block|kick(?:\s+out)?|ban)")
# A path with these is a change to a share, not a new one ("move the share X to /srv/y").
_SHARE_CHANGE = _cue(
    r"move|change|modify|update|relocate|copy|migrate|edit|rename|delete|remove|drop|stop|unshare|disable|fix|chmod|chown"
    r"|back\s*up|restore|sync|mount(?!\s+points?\b)|unmount"  # "mount point": a noun, the path's kind
)
# Share access for a setting or a whole team ("enable guest access", "give the sales team access") is no one user.
_NOT_A_USER = frozenset(
    "guest guests anonymous public everyone everybody anyone anybody all nobody world"
    # Access levels standing where a user would ("grant read-only access on X to user Y").
    " read-only readonly read-write read/write rw ro full write modify change".split()
)
_GROUP_OF_PEOPLE = r"(?:team|group|department|dept|staff|people|users|folks|members)\b"
_CREATE_CUE = _cue(r"create|set\s*up|make|new|add|export|publish|need")
_ACCESS_PATTERNS = (
    r"\bsmb\s+(?:grant|revoke)\s+{U}\s+{S}",
    r"^(?:samba|share)\s+(?:grant|revoke)\s+{U}\s+{S}\s*$",  # a chat-ops command: "share grant USER SHARE"
    # Keyed, JSON included: 'username=bob share=hr', '"username": "bob", "share": "hr"'.
    # A change-request form's fields: "| user: bob | share: hr |".
    r"\buser(?:name)?[\"']?\s*[:=]\s*{U}[\s,;|]+[\"']?share(?:name)?[\"']?\s*[:=]\s*{S}",
    r"\bshare(?:name)?[\"']?\s*[:=]\s*{S}[\s,;|]+[\"']?user(?:name)?[\"']?\s*[:=]\s*{U}",
    # Pipe-separated, the verb first: "revoke | bob | share: hr", "grant | user: bob | share: hr".
    r"^(?:grant|give|allow|revoke|remove|deny|block)(?:\s+access)?\s*\|\s*(?:user(?:name)?\s*[:=]?\s*)?{U}\s*\|\s*share\s*[:=]?\s*{S}\s*\|?\s*$",
    # Terse: "user bob -> share hr (grant)", "bob: remove from share hr".
    r"\buser(?:name)?\s*[:=]?\s*{U}\s*(?:->|=>|→)\s*share\s*[:=]?\s*{S}",
    # The verb, the user, an arrow, the share, and nothing else: "grant tvance -> atlas", "revoke: bob => share hr".
    r"^(?:grant|give|allow|revoke|remove|deny|block)(?:\s+access)?\s*:?\s+(?:user\s+)?{U}\s*(?:->|=>|→)\s*(?:share\s*[:=]?\s*)?{S}\s*[.!]?$",
    (r"^(?:user\s+)?{U}\s*:\s*(?:remove|revoke|block|deny|add|grant|give|allow)(?:\s+access)?\s+(?:from|to|on|for|into)\s+(?:the\s+)?"
     r"share\s+{S}"),
    # The share keyed first, the command after it: "share=hr, give read access to user bob", "share: hr, revoke access for bob".
    r"^share\s*[:=]\s*{S}\s*[,;|]\s*(?:give|grant|provide|allow|enable|revoke|remove|withdraw|take\s+away|cut\s+off|deny|block)\s+"
    r"(?:(?:read|write|rw|ro|read-only|readonly|read/write|read-write|full)\s+)?access\s+(?:to|for|from|of)\s+(?:the\s+)?(?:user\s+)?{U}"
    r"\s*[.!]?$",
    # Word order: "grant access on share X to user Y", "revoke access to X from Y".
    r"\b(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|take\s+away|cut\s+off|disable|deny|block)\s+"
    r"(?:[\w/\-]+\s+)?access\s+(?:on|to|for)\s+(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?\s+(?:to|for|from)\s+(?:the\s+)?(?:user\s+)?{U}",
    r"\baccess\s+(?:to|on)\s+(?:the\s+)?share\s+{S}\s+for\s+(?:the\s+)?(?:user\s+)?{U}",
    # The share fronted: "On the share payroll, remove access for user tobias".
    (r"^(?:on|for|to|from)\s+(?:the\s+)?share\s+{S}\s*,?\s*(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|"
     r"take\s+away|cut\s+off|disable|deny|block)\s+(?:(?:read|write|rw|ro|read-only|readonly|read/write|read-write|full|admin)\s+)?access"
     r"\s+(?:for|to|from|of)\s+(?:the\s+)?(?:user\s+)?{U}"),
    # The user fronted: "For user gustav, revoke access to the share archive2019".
    (r"^(?:for|from)\s+(?:the\s+)?user\s+{U}\s*,?\s*(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|"
     r"take\s+away|cut\s+off|disable|deny|block)\s+(?:[\w/\-]+\s+)?access\s+(?:to|on|for|from)\s+(?:the\s+)?(?:share\s+)?{S}"),
    r"\baccess\s+(?:for|of)\s+(?:the\s+)?(?:user\s+)?{U}\s+(?:on|to|for)\s+(?:the\s+)?(?:share\s+)?{S}",
    r"\b{U}'s\s+(?:\w+\s+)?(?:access|permissions?|rights)\s+(?:to|on|for|from|of)\s+(?:the\s+)?(?:share\s+)?{S}",
    # "take away ivo's lab share access".
    r"\b(?:give|grant|provide|enable|revoke|remove|withdraw|take\s+away|cut\s+off|disable|block)\s+{U}'s\s+{S}\s+share\s+"
    r"(?:\w+\s+)?(?:access|permissions?|rights)\b",
    # Terse: "remove access: ivo / lab", "grant share access: ivo -> lab".
    r"\b(?:give|grant|add|revoke|remove|withdraw|block|deny)\s+(?:share\s+)?access\s*:\s*(?:user\s*[:=]?\s*)?{U}\s*(?:/|->|=>|→|,)\s*"
    r"(?:share\s*[:=]?\s*)?{S}\s*[.!]?$",
    # The user after "access", the share last and named as one: "remove access for user ivo from share lab",
    # "give read access to user ivo on share lab", "revoke access: ivo off share lab".
    r"\b(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|take\s+away|cut\s+off|disable|deny|block)\s+"
    r"(?:(?:read|write|rw|ro|read-only|readonly|read/write|read-write|full)\s+)?access\s*(?::\s*|\s+(?:for|of|to)\s+)"
    r"(?:the\s+)?(?:user\s+)?{U}\s+(?:from|on|to|off|for|in|into)\s+(?:the\s+)?(?:(?:samba|smb)\s+)?share\s+{S}(?![\w.\-$])"
    r"(?!\s+(?:and|&|,)\s)",
    # "ivo should be able to access the lab share" ("should not be able to" is a revoke, above).
    _SUBJECT + r"(?!(?:might|may|would|will|could)\s){U}\s+(?:should|must|needs?\s+to|has\s+to)\s+be\s+able\s+to\s+"
    r"(?:access|use|reach|open|read|write\s+to)\s+(?:the\s+)?(?:share\s+)?{S}",
    # An access level in place of "access": "ivo needs rw on the lab share".
    _SUBJECT + r"(?!(?:might|may|would|will|could)\s){U}\s+(?:needs?|requires?|wants?|should\s+(?:have|get))\s+"
    r"(?:rw|read/write|read-write|read-only|readonly|write|full)\s+(?:access\s+|rights\s+|permissions?\s+)?(?:on|to|for)\s+(?:the\s+)?"
    r"(?:share\s+)?{S}",
    r"\bopen\s+(?:up\s+)?(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?\s+(?:to|for)\s+(?:the\s+)?(?:user\s+)?{U}",
    # A word that describes the share before its name: "open the migration share tmp-mig to user X".
    r"\bopen\s+(?:up\s+)?(?:the\s+)?[\w\-]+\s+share\s+{S}\s+(?:to|for)\s+(?:the\s+)?(?:user\s+)?{U}",
    # Passive: "Access to share X should be granted to Y", "access on the X share is to be revoked for Y".
    r"\baccess\s+(?:to|on|for)\s+(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?\s+(?:should|must|shall|is\s+to|needs\s+to|has\s+to|will|can)"
    r"\s+be\s+(?:granted|given|provided|opened|enabled|revoked?|removed?|withdrawn|taken\s+away|disabled|blocked|cut\s+off)"
    r"\s+(?:to|for|from)\s+(?:the\s+)?(?:user\s+)?{U}",
    # A request relayed in the subjunctive: "Tom asked that X be cut off from the Y share", "HR requests that X be given access to Y".
    r"\b(?:asked|asks|ask|requested|requests|request|demanded|demands|wants|want)\s+that\s+(?:the\s+)?(?:user\s+)?{U}\s+(?:should\s+)?be\s+"
    r"(?:(?:granted|given|allowed|provided)\s+access|(?:removed|revoked|blocked|cut\s+off|kicked\s+out|taken\s+off|denied)(?:\s+access)?)"
    r"\s+(?:to|on|from|into)\s+(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?",
    # Passive: "X is to be removed from share Y", "X should be granted access to the Y share".
    _SUBJECT + r"{U}\s+(?:is\s+to|should|must|shall|needs\s+to|has\s+to|will)\s+be\s+"
    r"(?:(?:granted|given|allowed|provided)\s+access|(?:remove|removed|revoked?|blocked|cut\s+off|kicked\s+out|taken\s+off|denied)"
    r"(?:\s+access)?)\s+(?:to|on|from|into)\s+(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?",
    _SUBJECT + r"{U}\s+(?:should|must|may)(?:\s+no\s+longer|n['’]t|\s+not)\s+(?:have\s+|get\s+|keep\s+)?(?:any\s+)?(?:more\s+)?"
    r"(?:access|(?:be\s+able\s+to\s+)?(?:access|use|reach|see)|be\s+(?:allowed\s+)?(?:on|in|into))\s+(?:to\s+|on\s+)?(?:the\s+)?(?:share\s+)?{S}",
    # "Access to the X share is no longer needed for Y".
    r"\baccess\s+(?:to|on)\s+(?:the\s+)?(?:share\s+)?{S}(?:\s+share)?\s+(?:is\s+)?(?:no\s+longer\s+(?:needed|required)|not\s+needed\s+any\s*(?:more|longer))"
    r"\s+(?:for|by)\s+(?:the\s+)?(?:user\s+)?{U}",
    # "take bob off the tools share", "bob should lose access to hr".
    r"\btake\s+(?:the\s+)?(?:user\s+)?(?!away\b|over\b){U}\s+(?:off|out\s+of)\s+(?:the\s+)?(?:share\s+)?{S}",
    _SUBJECT + r"{U}\s+(?:should|must|will|needs\s+to|has\s+to|is\s+to)\s+lose\s+(?:[\w/\-]+\s+)?access\s+(?:to|on)\s+(?:the\s+)?(?:share\s+)?{S}",
    # "lena needs to get into the scans share", "lena no longer needs the scans share".
    *(
        _SUBJECT + verb + r"\s+(?:the\s+)?" + share
        for verb in (
            r"{U}\s+(?:needs?|wants?|has)\s+to\s+(?:get\s+into|be\s+(?:added\s+to|in|on|allowed\s+(?:into|on)))",
            r"{U}\s+(?:no\s+longer|doesn't|does\s+not)\s+(?:needs?|uses?|requires?)",
        )
        for share in (r"share\s+{S}", r"{S}\s+share")
    ),
    # "omar needs access to the scans share", "bob should have read access on hr".
    _SUBJECT + r"(?!(?:might|may|would|will|could)\s){U}\s+(?:(?:no\s+longer|doesn't|does\s+not)\s+)?"
    r"(?:needs?|requires?|wants?|should\s+(?:have|get))\s+(?:[\w/\-]+\s+)?access\s+(?:to|on|for)\s+(?:the\s+)?(?:share\s+)?{S}",
    # The share's name before "share access": "remove finance share access for bob".
    r"\b(?:give|grant|provide|allow|enable|add|open|revoke|remove|withdraw|take\s+away|cut\s+off|disable|deny|block)\s+(?:the\s+)?"
    r"{S}\s+share\s+(?:\w+\s+)?(?:access|permissions?|rights)\s+(?:for|of|from|to)\s+(?:the\s+)?(?:user\s+)?{U}",
    # The share fronted, the user after the verb: "For the share X, give Y access", "On share X, block user Y".
    *(
        rf"^{front}(?:the\s+)?{share}{punctuation}{_FRONT_VERBS}"
        r"\s+(?:(?:(?:read|write|rw|ro|read-only|readonly|read/write|read-write|full|admin)\s+)?access\s+(?:for|to|from|of)\s+)?(?:the\s+)?(?:user\s+)?{U}"
        # Not when another share follows ("On share hr, give bob access to finance"): which share?
        r"(?![\w.\-$])(?!\s+(?:(?:[\w/\-]+\s+)?access\s+)?(?:to|on|for|into)\s+(?:the\s+)?(?:share\s+)?[\w.\-$]+)"
        for share in (r"(?:samba\s+|smb\s+)?share\s+{S}", r"{S}\s+share")
        # After "On/For ...", the comma may be left out; a bare heading ("hr share: remove bob") needs one.
        for front, punctuation in (
            (r"(?:on|for|to|from|in|regarding)\s+", r"\s*(?:[,:;\-]|->|=>|→)?\s*"), ("", r"\s*(?:[,:;\-]|->|=>|→)\s*")
        )
    ),
    r"\b(?:give|grant|let|allow|provide|authori[sz]e|permit|deny|block|kick(?:\s+out)?|remove|stop|add|enable|disable|revoke|ban|prevent"
    r"|cut\s+off)\s+(?:the\s+)?(?:user\s+)?{U}(?!\s+(?:share|group)\b)\s+(?:\S+\s+){{0,3}}?(?:to|on|into|from|of|off|reach|for|use|access|see|read|view|browse)\s+"
    r"(?:(?:access(?:ing)?|use|using|reach)\s+)?(?:the\s+)?(?:share\s+)?{S}",
)
_SHARE_NAME = (
    r"\b(?:share\s*)?name[\"']?\s*[=:]\s*{N}",
    r"\b(?:called|named)\s+{N}",
    r"\bnet\s+(?:usershare\s+add|conf\s+addshare)\s+{N}",
    r"\bname\s+(?:is\s+)?(?=['\"]){N}",
    # Bare keys: "name X, path /srv/x".
    r"\bname\s+(?:is\s+)?{N}(?=\s*[,;]?\s*(?:and\s+)?(?:(?:the|its|a)\s+)?(?:path|location|folder|directory)\b)",
    r"\b(?:call|name)\s+(?:it|the\s+share)\s+{N}",
    # Terse, the path pointing at the name that ends the command: "share /srv/x -> data", "share: /srv/x => data".
    r"^(?:(?:samba|smb)\s+)?share\s*:?\s*/\S*\s*(?:->|=>|→)\s*{N}\s*[.!]?$",
    r"\b(?:under|with)\s+the\s+(?:share\s+)?name\s+{N}",
    r"\bshare\s+name\s+(?:is\s+|of\s+)?{N}",
    r"\bas\s+(?:a\s+)?(?:samba\s+|file\s+)?share\s+(?:called\s+|named\s+)?{N}",
    # A heading before the name: "A new share is needed: NAME on /path", "Share request: NAME".
    r"\bshare\b(?:\s+\w+){{1,4}}\s*:\s*{N}",
    r"\bshare\b\s*[=:]?\s*(?!(?:out|via|over|by|here|there|which|that|where|pointing|located|up|off|now|too|so)\b){N}",
    # Word order: "Share the folder /srv/x as data", "Create the design share at /srv/design".
    r"\bas\s+(?:the\s+)?{N}",
    r"\bthe\s+(?!(?:file|network|windows|samba|smb|cifs|new|same|old)\b){N}\s+share\b",
)


# A share's setting is not its name ("Share the folder /srv/x as read-only"). Only the words that are settings and
# nothing else: "public", "private", "guest", "hidden" and "shared" are also ordinary share names
# ("create share public at /srv/samba/pub"); a setting word used as an adjective ("a hidden share X") is read by
# the patterns, which take the word after "share".
_SHARE_NAME_STOPWORDS = STOPWORDS | frozenset(
    "read-only readonly read-write rw ro writable writeable browseable browsable".split()
)
_SETTING_OR_NAME = frozenset("hidden public private guest shared".split())
_CONNECTIVE = r"(?:at|on|in|for|under|with|pointing|located|path|from|to|via|using|and|as|please|thanks)"


# Another name right after a value ("give ben access to media4 and media5", "give ben and ana access"):
# more than one user or share, out of scope.
_MORE_NAMES = re.compile(
    r"^['\"]?(?:\s+shares?)?\s*\(?\s*(?:,\s*and\b|,|\band\b|&|\bas\s+well\s+as\b|\bplus\b|\balong\s+with\b)\s*(?!(?:please|thanks|thank|and|or|he|she|they|we|it|then|also|i|asap|too|give|grant|provide"
    r"|allow|enable|add|open|let|authori[sz]e|permit|revoke|remove|withdraw|take|cut|disable|deny|block|kick|ban|stop|prevent)\b)"
    # "... and the finance share": the article may come before a bare name too.
    # "... as well as to maps": the preposition may be said again.
    r"(?:(?:to|on|for|from|into)\s+)?(?:the\s+)?(?:(?:user|share)\s+)?[\w.\-]+\$?(?:\s+(?:shares?|access|to|into|on|from|too|also|as\s+well)\b|\s*\)?\s*[.!?]*$)",
    _FLAGS,
)


# Access named with a new share ("create share X at /srv/x with access for bob"): granting it is a second action.
# A share's own setting ("a read-only share X at /srv/x") is no second action.
_ACCESS_WORDS = _cue(r"access|permissions?|rights|grant|give|allow|let|revoke")


# An access level for someone with a new share ("create share logs at /srv/logs, read-only for ana"): a second action.
_LEVEL_FOR_SOMEONE = re.compile(
    r"\b(?:read-only|readonly|read-write|read/write|rw|ro|write|full)\s+(?:access\s+|rights\s+)?(?:for|to)\s+"
    r"(?!(?:everyone|everybody|all|guests?|anyone|the\s+public)\b)[\w.\-]+", _FLAGS
)


def _value_spots(value: str, core: str) -> list[re.Match[str]]:
    return list(re.finditer(rf"(?<![\w.\-]){re.escape(value)}(?![\w.\-$])", core, _FLAGS))


def _quote_left_open(core: str, path: Entity) -> bool:
    """Whether a quote opens right before the path but does not close right after it ('/srv/my docs')."""
    quote = core[path.start - 1] if path.start > 0 else ""
    return quote in ("'", '"') and not core[path.start + len(path.value):].startswith(quote)


_LEVEL = r"(?:(?:read|write|rw|ro|read-only|readonly|read/write|read-write|full)\s+)?"
# Admin synonyms and word orders of the access verbs, spelt as the patterns know them (values untouched): "strip access to
# S from U", "wire up read access to S for U", "cut U off from S", "open the share S up to U", "the S share should be opened up to U".
_SAMBA_SYNONYMS = (
    (re.compile(r"\bstrip\s+(?=(?:[\w.\-]+'s\s+)?" + _LEVEL + r"access\b)", _FLAGS), "revoke "),
    (re.compile(r"\b(?:wire|hook)\s+up\s+(?=" + _LEVEL + r"access\b)", _FLAGS), "grant "),
    # "wire up U to share S", "hook U up to the S share".
    (re.compile(r"\b(?:wire|hook)\s+up\s+(?=(?:the\s+)?(?:user\s+)?[\w.\-]+\s+(?:to|with|on|into)\s+(?:the\s+)?(?:share\b|[\w.\-$]+\s+share\b))",
                _FLAGS), "grant "),
    (re.compile(r"\bcut\s+(?P<user>[\w.\-]+)\s+off\s+(?=(?:from|of)\b)", _FLAGS), r"cut off \g<user> "),
    (re.compile(r"\bopen\s+(?P<share>(?:the\s+)?(?:share\s+[\w.\-$]+|[\w.\-$]+\s+share|[\w.\-$]+))\s+up\s+(?=(?:to|for)\b)", _FLAGS),
     r"open up \g<share> "),
    # "the share called S should be ...": the name without "called".
    (re.compile(r"^(?:the\s+)?share\s+(?:called|named)\s+(?=[\w.\-$]+\s+(?:should|must|needs\s+to|has\s+to|is\s+to|can|will)\s+be\s)", _FLAGS),
     "the share "),
    (re.compile(r"^(?:the\s+)?(?P<share>share\s+[\w.\-$]+|[\w.\-$]+\s+share)\s+(?:should|must|needs\s+to|has\s+to|is\s+to|can|will)\s+be\s+"
                r"opened(?:\s+up)?\s+(?=(?:to|for)\b)", _FLAGS), r"open up the \g<share> "),
)


def _samba(core: str) -> RuleParse:
    for synonym, spelt in _SAMBA_SYNONYMS:
        core = synonym.sub(spelt, core)
    found = [entity for entity in entities(core) if entity.kind == "path"]
    paths = [entity.value for entity in found]
    if found and _quote_left_open(core, found[0]):
        return _unknown("partial", "samba: a quoted path that runs on past a space")
    # Not the verbs of a purpose clause: "... path /srv/x so they can drop files over the weekend".
    if paths and _SHARE_CHANGE.search(re.sub(r"\bso\s+(?:that\s+)?(?:they|we|he|she|people|users|everyone|the\s+\w+)\s+(?:can|could|may)\b.*$",
                                             "", core, flags=_FLAGS)):
        return _unknown("partial", "samba: a path with a change to an existing share, not a new one")
    if paths and not _CREATE_CUE.search(core) and re.search(
            r"\b(?:is|are|was|were|lives|sits|resides|exists|existed|lies|works|worked|working|looks|seems|contains|holds|has|had)\b",
            core, _FLAGS):
        return _unknown("partial", "samba: a statement about a share and a path, not a request")
    made = re.match(r"(?:please\s+)?(?:create|make|set\s*up|add|take)\s+(?:a|an|the)\s+(?:new\s+)?(?P<noun>[a-z][\w\-]*)\s+(?:of|for|from)\b",
                    core, _FLAGS)
    if paths and made and made.group("noun").lower() not in {"share", "samba", "smb", "network", "file", "folder", "directory"}:
        # "create a snapshot of /srv/x as x": the thing made is of the path, not a share of it.
        return _unknown("none", f"samba: a {made.group('noun')!r} of the path is made, not a share")
    if re.search(r"\b(?:nfs|nfsv[34]|ftp|sftp|webdav|iscsi)\b", core, _FLAGS):
        # "export /x as x over NFS": another protocol, not a samba share.
        return _unknown("none", "samba: another file-sharing protocol named")
    if paths:
        name = _find(_SHARE_NAME, core, "name", _SHARE_NAME_STOPWORDS)
        if name is None and _only_function_words(core, found):
            return _unknown("refusal", "create_share: no name at all")
        if name and name.lower() in _SETTING_OR_NAME and re.search(rf"\bas\s+(?:an?\s+)?{re.escape(name)}\b", core, _FLAGS):
            # "Share the folder /srv/x as hidden": a setting, or the name? The model decides.
            return _unknown("partial", f"samba: {name!r} after 'as' may be a setting, not the share's name")
        if name and re.search(rf"(?<![\w.\-]){re.escape(name)}\s+(?!{_CONNECTIVE}\b)(?-i:[A-Z][a-z]+)\b(?!\s*[:=])", core, _FLAGS):
            return _unknown("partial", f"samba: the share name may run on past {name!r} (a name with a space)")
        if _ACCESS_WORDS.search(core) or _LEVEL_FOR_SOMEONE.search(core) or re.search(
                r"\b(?:with|for)\s+(?:user\s+)?(?!(?:the|a|an|our|my|his|her|their|everyone|everybody|all|guests?|now|later|today|tomorrow"
                r"|them|him|me|us|it|this|that)\b)[\w.\-]+\s*[.!]*$", core, _FLAGS):
            # "Share the folder /srv/logs as logs with bob": a user named with the new share is access for him, a second action.
            return _unknown("partial", "samba: a new share with access for someone (two actions) or a setting")
        if len(set(paths)) > 1:
            return _unknown("partial", "samba: more than one path (two shares, or one path to compare with)")
        return _intent({"action": "create_share", "name": name, "path": paths[0]}, "samba: share at a path")
    if _DELETE_SHARE.search(core):
        return _unknown("refusal", "samba: deleting a share is not supported")
    revoke = _REVOKE_CUE.search(core) or _DENIED_ACCESS.search(core)
    grant = _GRANT_CUE.search(core)
    if (revoke or grant) and re.search(r"\b(?:who|that|which)\s+(?:still\s+)?(?:has|had|have|used\s+to\s+have)\s+(?:\w+\s+)?access\b", core, _FLAGS):
        # "remove user X who has access to the Y share": the access describes the user; the command may be another.
        return _unknown("none", "samba: the access is in a relative clause that describes someone, not the request")
    if revoke or grant:
        action = "revoke_access" if revoke else "grant_access"
        pair = _find_pair(_ACCESS_PATTERNS, core)
        if pair is None:
            return _unknown("partial", f"samba: {action} without a user and a share", cue=action)
        other = next((reading for pattern in _ACCESS_PATTERNS if (reading := _find_pair((pattern,), core)) and reading != pair
                      and reading[0] != pair[1] and reading[1] != pair[0] and not _SAME_VALUE(reading, pair)
                      and reading[0].lower() not in _NOT_A_USER and reading[1].lower() not in _NOT_A_SHARE_NAME), None)
        if any(name not in (pair[1].lower(), pair[0].lower()) for name in _shares_named(core)):
            return _unknown("partial", f"samba: another share is named besides {pair[1]!r}")
        if other:
            # "On share hr, give bob access to finance": one pattern reads bob/hr, another bob/finance; which share is meant?
            return _unknown("partial", f"samba: two readings of the request ({pair[0]}/{pair[1]} and {other[0]}/{other[1]})")
        if re.search(rf"\bthe\s+{re.escape(pair[0])}(?![\w.\-$])", core, _FLAGS) or re.search(
                r"\b(?:via|through)\s+(?:the\s+)?(?:group|membership)\b|\b(?:ownership|owner|owners)\b", core, _FLAGS):
            # "give the devs access to hr" (a team, not a login), "... via group devs", "give bob ownership of hr": not one user's access.
            return _unknown("partial", f"samba: {action} for {pair[0]!r} may be a team, a group or ownership")
        if pair[0].lower() in _NOT_A_USER or re.search(rf"(?<![\w.\-]){re.escape(pair[0])}\s+{_GROUP_OF_PEOPLE}", core, _FLAGS):
            return _unknown("partial", f"samba: {action} for {pair[0]!r}, not one user")
        if re.match(r"(?:enable|disable)\b", core, _FLAGS) and not re.search(r"\b(?:access|user|permissions?)\b", core, _FLAGS) \
                and not re.match(rf"(?:enable|disable)\s+(?:the\s+)?{re.escape(pair[0])}\s+(?:on|to|for|from|in)\b", core, _FLAGS):
            return _unknown("partial", "samba: enabling or disabling something that is not a user's access")
        if any(_MORE_NAMES.search(core[match.end():]) for value in pair for match in _value_spots(value, core)):
            return _unknown("partial", f"samba: {action} for more than one user or share")
        # A cue that is only the share's or the user's own name ("grant bob access to the drop share") is none.
        masked = core
        for value in pair:
            masked = re.sub(rf"(?<![\w.\-]){re.escape(value)}(?![\w.\-$])", " x ", masked, flags=_FLAGS)
        if _GRANT_VERB.search(masked) and _REVOKE_VERB.search(masked):
            # "grant lena access to X and revoke it from omar": a grant and a revoke, two actions (out of scope).
            return _unknown("several", "samba: access both granted and revoked (more than one action is out of scope)")
        if revoke and not (_REVOKE_CUE.search(masked) or _DENIED_ACCESS.search(masked)):
            if not _GRANT_CUE.search(masked):
                return _unknown("partial", "samba: the only cue is a name")
            action = "grant_access"
        elif not revoke and not _GRANT_CUE.search(masked):
            return _unknown("partial", "samba: the only cue is a name")
        return _intent({"action": action, "username": pair[0], "share": pair[1]}, f"samba: {action}")
    if _CREATE_CUE.search(core):
        return _unknown("partial", "samba: create_share without a path", cue="create_share")
    return _unknown("none", "samba: no pattern matched")


_ACTION_FIELD = re.compile(r"\baction\s*[:=]\s*['\"]?(?P<verb>[^|,;'\"\n]+?)['\"]?(?=\s*(?:[|,;]|$|\s[\w\-]+\s*[:=]))", _FLAGS)
_VERB_FAMILIES = {
    "remove": r"remove|delete|drop|revoke|purge|erase|deprovision|offboard|deny|block|withdraw|disable|rm|del|dns remove|remove user",
    "add": r"add|create|grant|give|new|register|provision|onboard|allow|open|share|enable|dns add|add user|add to group|create share|grant access",
    "change": r"change|reset|update|set|rotate|password|passwd",
}
_ACTION_FAMILY = {"dns_remove": "remove", "remove_user": "remove", "revoke_access": "remove", "dns_add": "add", "add_user": "add",
                  "add_to_group": "add", "create_share": "add", "grant_access": "add", "change_password": "change"}


_KEYED_FIELD = re.compile(
    r"(?<![\w\-])(?P<key>user(?:name)?|login|share|group|zone|host(?:name)?|name|path|password|passwd|pass|pw|ip|target)[\"']?\s*[:=]\s*"
    r"[\"'`]?(?P<value>[^\s,;|\"'`]+)",
    _FLAGS,
)
_SAME_KEY = {"username": "user", "login": "user", "hostname": "host", "passwd": "password", "pass": "password", "pw": "password"}


def _REPEATED_KEY(text: str) -> bool:
    """Whether a keyed field is given twice with two values ("share=finance share=hr"): two actions, or which one?"""
    seen: dict[str, set[str]] = {}
    for match in _KEYED_FIELD.finditer(text):
        key = match.group("key").lower()
        seen.setdefault(_SAME_KEY.get(key, key), set()).add(match.group("value").lower())
    return any(len(values) > 1 for values in seen.values())


_ANY_KEYED_FIELD = re.compile(
    r"(?<![\w\-])(?:user(?:name)?s?|login|shares?|groups?|zone|host(?:name)?|path|password|passwd|pass|pwd|pw|ip|ipv4|ipv6|addr|address"
    r"|target)[\"']?\s*[:=](?![>=])\s*[\"'`]?(?![\w\-]+\s*[:=])(?!(?:name|user(?:name)?|path|password|passwd|pw|pwd|group|share|zone|host|ip|target|type|new"
    r"|add|create|delete|remove|drop|grant|give|revoke|reset|change|set|make|put|block|deny|allow|open|rm|del|kick|cut|take)\b)(?P<value>[^\s,;|\"'`]+)",
    _FLAGS,
)


def _UNUSED_KEYED_VALUE(intent: dict[str, str], text: str) -> str | None:
    """A keyed field ("users=ana", "group: devs") whose value the intent does not hold, if there is one: the command asks
    for more than its action does (a new share with a user for it, an account with a group)."""
    values = [value.lower().rstrip(".") for key, value in intent.items() if key not in ("action", "record_type")]
    for match in _ANY_KEYED_FIELD.finditer(text):
        keyed = match.group("value").lower().rstrip(".)")
        if keyed and not any(value.startswith(keyed) or keyed.startswith(value) for value in values):
            return match.group()
    return None


def _ACTION_FIELD_DISAGREES(action: str, text: str) -> bool:
    """Whether an explicit "action: VERB" field ("username=x group=g action=remove") names a kind of action other than
    the one read ("remove" is not add_to_group)."""
    for match in _ACTION_FIELD.finditer(spell_action_names(text)):
        named = {family for family, verbs in _VERB_FAMILIES.items() if re.search(rf"\b(?:{verbs})\b", match.group("verb"), _FLAGS)}
        if named and _ACTION_FAMILY[action] not in named:
            return True
        if not named:
            return True  # an action the schema does not name ("action: lock account")
    return False


def _cut_from_a_longer_token(intent: dict[str, str], text: str) -> str | None:
    """Why a value is only part of what was written, if it is: a name glued to more of the same token ("vtran@corp.lan",
    "ops/admins", "atlas:admins", "cn=ops,ou=groups", "gw.lan:8080"), or a password followed by more password-like text
    ("Mekong #41": the password may hold a space)."""
    for key, value in intent.items():
        if key in ("action", "record_type", "path", "password") or not value:
            continue
        spots = list(re.finditer(re.escape(value), text, _FLAGS))
        # Not "name:password" ("create account rosa.v:Pl@ya#44"), a form of its own.
        glued = [spot for spot in spots if (spot.start() > 0 and text[spot.start() - 1] in "@/\\")
                 or (re.match(r"[@/\\=]|:(?=\S)", text[spot.end():])
                     and not (intent.get("password") and text[spot.end() + 1:].startswith(intent["password"])))]
        if spots and len(glued) == len(spots):
            return f"{value!r} is cut from a longer token ({text[glued[0].start():glued[0].end() + 12].split()[0]!r})"
    password = intent.get("password")
    if password:
        after = [re.match(r" +(?P<next>\S+)", text[spot.end():]) for spot in re.finditer(re.escape(password), text)]
        if after and all(match and re.search(r"[\d#$%&*@^+=~]", match.group("next").rstrip(".,;:!?)")) and not re.match(r"[(\[\-–—|]", match.group("next"))
                         and not re.match(r"[A-Za-z_\-]+\s*[:=]", match.group("next")) for match in after):
            return "the password may run on past a space"
    return None


def _owner_not_value(intent: dict[str, str], text: str) -> str | None:
    """Why a name was taken from the wrong place, if it was: the owner of something else ("give bob's manager access",
    "access to bob's share"), or the first word of a name with a space ("create user Vu Tran with ...")."""
    for key in ("username", "share", "group", "name"):
        value = intent.get(key)
        if not value:
            continue
        spots = list(re.finditer(rf"(?<![\w.\-]){re.escape(value)}(?![\w\-$]|\.\w)(?:['’]s\s+(?P<next>[\w\-]+))?", text, _FLAGS))
        allowed = (_OWN_THINGS | {str(intent.get("share", "")).lower()}) if key == "username" else frozenset()
        if spots and all(spot.group("next") and spot.group("next").lower() not in allowed for spot in spots):
            return f"{value!r} owns what is meant ({value}'s {spots[0].group('next')}), it is not the {key}"
        if key == "username" and value[:1].isupper() and all(
            (after := re.match(r"\s+(?-i:([A-Z][a-z]+))\b", text[spot.end():])) and after.group(1).lower() not in _NOT_A_VALUE
            for spot in spots
        ):
            return f"the user's name may run on past {value!r} (a name with a space)"
    return None


_BY_DOMAIN: dict[str, Callable[[str], RuleParse]] = {"dns": _dns, "user": _user, "samba": _samba}


# "Could the account X be removed ...?", "Would user X be added to G, please?": "could"/"would", a subject that is not the
# reader, "be" and a participle. Only with a courtesy ("please", "thanks", "when you have a sec"): "Can X be removed?" may ask
# whether it is allowed.
_POLITE_PASSIVE = re.compile(
    r"(?:could|would)\s+(?!(?:you|ya|u|we|i|someone|somebody|anyone|anybody|it|this|that|there|they|he|she)\b)"
    r"(?P<subject>(?:the\s+)?(?:user|account|login|share|record|group|dns\s+record|a\s+record)\b[^?]*?)\s+be\s+"
    r"(?P<rest>(?:[a-z]+(?:ed|en)|remove|add|grant|give|set|put|cut)\b[^?]*?)\s*\??\s*$",
    _FLAGS,
)
_COURTESY = re.compile(
    r"\b(?:please|pls|plz|kindly|thanks|thank\s+you|thx|ty|cheers|much\s+appreciated)\b|\bwhen\s+you\s+(?:have|get)\s+a\b"
    r"|\bat\s+your\s+(?:earliest\s+)?convenience\b",
    _FLAGS,
)


def parse_with_rules(text: str, domain: str) -> RuleParse:
    """Parse a cleaned command routed to ``domain``; never raises."""
    if not text:
        return _unknown("refusal", "empty input")
    corrected, corrections = corrected_text(text)
    core = strip_wrappers(spell_action_names(corrected.replace("’", "'")))
    polite_passive = _POLITE_PASSIVE.match(core)
    if polite_passive and _COURTESY.search(text) and not re.search(r"\b(?:whether|if|why|how|ever|still)\b", core, _FLAGS):
        # "Could the share S be opened up to U when you have a sec? thanks!": a polite request in the passive, read as
        # "the share S should be opened up to U"; the passive patterns decide.
        core = f"{polite_passive.group('subject')} should be {polite_passive.group('rest')}"
    else:
        polite_passive = None
    first = _first_word(core)
    if first in _QUESTION_WORDS or _MODAL_QUESTION.match(core):
        # A request addressed to the reader further on ("when you have a sec could you give ...?") is no certain question.
        if _REQUEST_MODAL.match(core) or _REQUEST_AS_QUESTION.match(core) or _AFTER_THE_QUESTION.search(text) \
                or re.search(r"\b(?:can|could|would|will)\s+(?:you|ya|ye|u)\s+(?:please\s+|kindly\s+)?" + _ACTION_VERB, core, _FLAGS):
            return _unknown("none", "a request in a question's form the wrappers did not take: the model decides")
        return _unknown("refusal", "a question, not a command")
    if _HYPOTHETICAL.match(core):
        return _unknown("refusal", "a hypothetical, not a command")
    if _OVERRIDE.search(core):
        return _unknown("refusal", "an instruction to the parser, not a command")
    # The command as written (before typo correction), without its wrappers: a participle is read as written.
    written = strip_wrappers(spell_action_names(text.replace("’", "'")))
    if (_REPORTED_DONE.search(written) or _THANKED_FOR.search(text)) and not _CLAUSE_VERB.search(core) or _NOTHING_TO_DO.search(text):
        return _unknown("doubt", "a report of an action done, not a command: the model decides")
    negatable = _NO_LONGER_NEEDED.sub(" ", _DENIED_ACCESS.sub(" ", core) if domain == "samba" else core)
    # "... - not now": the wrappers take a trailing "now", so the deferral is read on the text as written.
    # A form's reason field is context: "| reason: never used it" does not negate the action field; "| note: do not
    # delete before friday" (the negation governs an action verb) still does.
    reason_fields = [field.span() for field in re.finditer(r"\|\s*(?:reason|why|justification|context)\s*[:=][^|]*", negatable, _FLAGS)]
    negations = [
        match for match in _NEGATION.finditer(negatable) if not _IN_A_REASON.search(negatable[: match.start()])
        and not (any(start <= match.start() < end for start, end in reason_fields)
                 and not re.match(r"\s+(?:(?:to|ever|even|yet|just)\s+)*" + _ACTION_VERB, negatable[match.end():], _FLAGS))
    ]
    deferred = re.search(r"(?<![\w\-/$@.#!&*+=])not\s+(?:now|today|yet)(?![\w\-/$@#!&*+=]|\.\w)", text, _FLAGS)
    if negations and not deferred and re.match(r"\s*" + _ACTION_VERB, negatable, _FLAGS) and all(
        re.search(r"[,;(]|\s[-–—]+\s", negatable[: match.start()]) for match in negations
    ):
        # "add user X with password Y - don't share it", "delete X (never logged in)": the command comes first and the
        # negation, in a clause of its own, may be about something else or about a part of it; the model decides.
        return _unknown("none", "a negation in a clause after the command: the model decides")
    if negations and not deferred and all(
        not re.match(r"\s+(?:(?:to|ever|even|yet|just|please|you|we|i)\s+)*" + _ACTION_VERB, negatable[match.end():], _FLAGS)
        and re.match(r"(?:hold|on\s+hold|postpone|cancel|wait|no\s+need|not\s)", match.group(), _FLAGS) is None
        and _COMMAND_AFTER.search(negatable[match.end():])
        for match in negations
    ):
        # "I never got an account. Please create user X ...", "X won't be able to work: please give him access ...": the
        # negation is about something else, and a command follows in a clause of its own; the model decides.
        return _unknown("none", "a negation in context before the command: the model decides")
    if negations or deferred:
        return _unknown("refusal", "a negated command")
    if _CONDITION.search(text) or _NOT_FOR_REAL.search(text):
        return _unknown("doubt", "a command under a condition, or a hypothetical: the model decides")
    if first in _UNSUPPORTED_VERBS and not re.match(r"\s*[\w'’]+\s*[:,\-–—](?=\s)|\s*[\w'’]+\s+\w+\s*[:\-–—](?=\s)", core) \
            and not _NOUN_SUBJECT.match(core):
        # Not a heading or a label before the command ("Help: add user X", "Test env: add ...").
        return _unknown("refusal", f"unsupported operation {first!r}")
    after_label = re.match(r"\s*[\w'’]+(?:\s+[\w#]+)?\s*[:\-–—]\s+(?P<verb>[a-z]+)\b(?![\-/@.])", core, _FLAGS)
    if after_label and after_label.group("verb").lower() in _UNSUPPORTED_VERBS:
        # "Step 3: confirm the A record X -> Y exists": the labelled step is an operation outside the schema, or a check.
        return _unknown("none", f"an operation outside the schema ({after_label.group('verb').lower()!r}) after a label")
    if _DOUBT.search(core) or _DOUBT.search(text):  # text: the wrappers may take the sentence with the doubt
        return _unknown("partial", "a doubt about the request ('not sure it is still used'): the model decides")
    if _SELF_CORRECTION.search(core) or _SELF_CORRECTION.search(text):  # text: the wrappers may take a trailing sentence
        return _unknown("none", "the speaker corrects a value or calls the request off: the model decides")
    if _NOT_NOW.search(core) or _CALLED_OFF.search(core) or _ASKS_WHETHER.search(core) or _EXCEPT.search(core) or _IGNORED.search(text) \
            or _NOT_MEANT.search(text):
        return _unknown("doubt", "a possibility, a plan, a request called off or a question whether: the model decides")
    if re.search(r"\?[\W_]*$", written) and not _REQUEST_OPENER.search(text) and not polite_passive:
        return _unknown("none", "a question mark with no request addressed to the reader: the model decides")
    if _SECOND_OTHER_VERB.search(core):
        return _unknown("several", "a second verb outside the schema joined to the command (more than one action)")
    if _LATER_OTHER_VERB.search(core):
        return _unknown("several", "a clause after the command opens with a verb outside the schema ('..., check it'): more than one action")
    if _CONTINUED.search(core) or _CONTINUED.search(text):  # text: the wrappers may take the added sentence
        return _unknown("several", "a second sentence adds to the request ('... . Also his record X'): more than one action")
    if _LATER_NEED.search(text):
        return _unknown("several", "a later sentence asks for something more ('. He needs access to X too'): more than one action")
    if len(_CLAUSE_VERB.findall(core)) > 1 or re.search(r"\s(?:&&|\|\|)\s|;\s+" + _SHELL_COMMAND, re.sub(r"(['\"`]).*?\1", "", core)):
        # "delete record x.lan && rm -rf /": a chain of shell commands is more than one action too.
        return _unknown("several", "more than one action (out of scope), or one the rules cannot tell apart")
    if domain not in _BY_DOMAIN:
        if domain == "mail" and any(score for name, score in route_domain(text).scores.items() if name != "mail"):
            # "Delete user X, mailbox already archived": mail words outnumber the command's own; the model decides.
            return _unknown("none", "mail words with another domain's: the model decides")
        return _unknown("refusal" if domain == "mail" else "unplaced", f"no parser for domain {domain!r}")
    parsed = _BY_DOMAIN[domain](core)
    if parsed.is_unknown:
        return parsed
    if parsed.intent.action.value == "dns_add" and _DNS_STATEMENT.search(written) and not _DNS_REQUEST_WORD.search(written):
        # Read as written: typo correction turns "points" into "point".
        return _unknown("partial", "dns: a statement of what a name resolves to, not a request to add it")
    values = [value for key, value in parsed.intent.as_dict().items() if key not in ("action", "record_type")]
    # Whole, not part of a longer word: a typo correction must not have cut a value down ("grants" -> "grant").
    if any(not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text) for value in values):
        return _unknown("none", "a value is not verbatim in the input")
    password = parsed.intent.as_dict().get("password")
    if password and not re.search(rf"{re.escape(password)}(?:[\s,;'\"`)]|$)", text):
        # "password Pa$$w0rd! pls": a wrapper took the "!" (or "." or "?") glued to the password; the model decides.
        return _unknown("none", f"{parsed.intent.action.value}: the password runs on into punctuation the wrappers took")
    if password and password[-1] in ".;:," and re.search(rf"{re.escape(password)}(?:\s|$)", text):
        # "..., password Rivet-Moss-8.", "password=P;": the mark may end the sentence or the password; the model decides.
        return _unknown("none", f"{parsed.intent.action.value}: a {password[-1]!r} after the password, its own or the sentence's")
    if password and (re.match(r"[(\[{<]", password) and not re.search(r"[)\]}>]$", password)
                     or re.fullmatch(r"[*•xX]{3,}|<[^<>]*>|\[[^\[\]]*\]|\$\{?[A-Z_][A-Z0-9_]*\}?|\{[^{}]*\}", password)
                     # A closing quote the password did not open: 'Forwarded: "add user bob with password P"'.
                     or (password[-1] in "\"'`”’" and password[0] != password[-1])):
        # "password: (sent separately)" cut to "(sent", "********", "<redacted>": no password, or not this one.
        return _unknown("none", f"{parsed.intent.action.value}: the password is a placeholder or cut from an aside")
    if _ACTION_FIELD_DISAGREES(parsed.intent.action.value, corrected):
        return _unknown("none", f"{parsed.intent.action.value}: an 'action' field names another action")
    for key, value in parsed.intent.as_dict().items():
        if key not in ("action", "record_type") and re.search(
                rf"(?:\b(?:not|never|instead\s+of|rather\s+than|except|but\s+not)\s+(?:(?:to|at|for|on|in|into|from|the|user|share|group)\s+)*"
                rf"|(?:!=|≠|<>)\s*){re.escape(value)}(?![\w\-$]|\.\w)", text, _FLAGS):
            # "web.lan should resolve to app.lan, not to 10.0.0.5": the value taken is the one ruled out.
            return _unknown("none", f"{parsed.intent.action.value}: the {key} {value!r} is the one ruled out ('not ...')")
    unused = _UNUSED_KEYED_VALUE(parsed.intent.as_dict(), text)
    if unused:
        return _unknown("several", f"{parsed.intent.action.value}: a keyed field the action does not use ({unused}): a second action")
    for key in ("zone", "target"):
        value = parsed.intent.as_dict().get(key)
        if value and value.endswith(".") and re.search(rf"(?<![\w.\-]){re.escape(value)}\s+(?-i:[A-Z])", text):
            # "delete old.lan. Its replacement ...": the dot may end the sentence rather than the name; the model decides.
            return _unknown("none", f"{parsed.intent.action.value}: a dot after {value[:-1]!r} that may end a sentence")
    if _REPEATED_KEY(text):
        return _unknown("several", f"{parsed.intent.action.value}: a field given twice with two values (two actions, or which one?)")
    cut = _cut_from_a_longer_token(parsed.intent.as_dict(), text)
    if cut:
        return _unknown("none", f"{parsed.intent.action.value}: {cut}")
    owner = _owner_not_value(parsed.intent.as_dict(), text)
    if owner:
        return _unknown("none", f"{parsed.intent.action.value}: {owner}")
    for key, value in parsed.intent.as_dict().items():
        if key not in ("action", "record_type") and re.search(
            rf"(?<![\w.\-]){re.escape(value)}(?:\s+(?:share|group))?\s*[?!]*\s*,?\s+(?:or|no|nope|err|erm)\s*,?\s+"
            rf"(?!(?:not|so|else|later|whatever|something|anything|similar|longer|more|need|needed|access|one|action|rush|hurry|worries)\b)"
            rf"(?:the\s+)?(?:(?:user|share|group)\s+)?[\w.\-#!@$%&*]", text, _FLAGS
        ):
            # "add bob to group sales or marketing": which one? "password Tulip#88 no Tulip#89": corrected. The model decides.
            return _unknown("none", f"{parsed.intent.action.value}: a choice between two {key} values, or one corrected")
        if key == "username" and re.search(
            rf"(?<![\w.\-]){re.escape(value)}\s*,?\s+(?:and|&|plus)\s+(?!(?:his|her|their|the|also|then|please|set|make|send|mail|tell)\b)"
            rf"(?:user\s+)?[\w.\-]+\s+(?:to|as|from|into|in|on)\s", text, _FLAGS
        ):
            # "reset the password for dmorris and anna to P": two accounts.
            return _unknown("several", f"{parsed.intent.action.value}: a second account beside {value!r}")
    username = parsed.intent.as_dict().get("username")
    if username:
        for spot in re.finditer(rf"(?<![\w.\-]){re.escape(username)}\s*(?:,|&|\+|\band\b)\s*(?:(?:user|account|login)\s+)?(?P<next>[\w.\-]+)\s*[.!]*\s*$",
                                core, _FLAGS):
            if spot.group("next") not in values and spot.group("next").lower() not in _NOT_A_VALUE | _USER_STOPWORDS:
                # "offboard: ana.k, bob.m": a list of accounts, more than one action.
                return _unknown("several", f"{parsed.intent.action.value}: a second account listed after {username!r}")
    if len(set(values)) < len(values):
        # One span read as two values ("user add -> rosa pw X" read as rosa's password "rosa"): the
        # pattern misread the command, as the model's normalisation also refuses.
        return _unknown("none", f"{parsed.intent.action.value}: one value fills two keys")
    glued = [key for key, value in parsed.intent.as_dict().items() if key in NAME_KEYS and glued_to_shell_syntax(value, text)]
    if glued:
        return _unknown("refusal", f"{parsed.intent.action.value}: {glued[0]} runs into shell syntax in the command")
    participles = [word for word, verb in (correction.split("->") for correction in corrections)
                   if word.lower() in (verb + "d", verb + "ed") and re.search(rf"\b{re.escape(word)}\b", written)
                   and not re.search(rf"\bbe\s+(?:\w+ly\s+)?{re.escape(word)}\b", written, _FLAGS)
                   # A causative asks for it too: "get user X added with password P", "we need user X created ...".
                   and not re.search(rf"\b(?:(?<!\bi\s)(?<!\bwe\s)(?<!\bthey\s)get|need|needs|want|wants)\s+(?:the\s+)?(?:new\s+)?"
                                     rf"(?:user|account|login)\s+[\w.\-]+\s+{re.escape(word)}\b", written, _FLAGS)]
    if participles:
        # "removed user X yesterday" read as "remove user X": a past participle is a command only in a passive
        # ("X should be removed", "X is to be deleted"); otherwise it reports what was done.
        return _unknown("none", f"a past participle ({participles[0]!r}) read as the verb, not in a passive: the model decides")
    if corrections:
        return RuleParse(parsed.intent, TYPO, f"{parsed.reason} (typo: {', '.join(corrections)})", "typo")
    return parsed
