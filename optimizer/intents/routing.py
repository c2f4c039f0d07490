"""The query router: send a request to company documents (``rag``), the risk engine (``risk``) or
a general writing model (``llm``), with the same shape as the intent parser.

Rules first (golden/README_intents.md's precedence: a request for a *new* computation is ``risk``;
an answer that needs company-specific facts is ``rag``; the rest, including writing whose content
is given in the query, is ``llm``), then the model when the rules are not certain (no rule matched,
or the rule that matched is not sure enough once calibrated), with few-shot demonstrations
retrieved from the train split and its choice constrained to the three routes. Confidences on
both sides are calibrated on the train split (``calibration.py``); as in the parser, when the
model and the rules disagree the surer side wins and ties go to the rules (the ``fallback`` path:
the model was asked but not used); when no rule matched, the default route is no opinion and a model
route sure enough to be used (``model_threshold``) stands.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from optimizer.errors import ServerError
from optimizer.serving.client import LLMClient
from optimizer.config.paths import repo_root
from optimizer.prompts.templates import PromptTemplate, load_template, render
from optimizer.intents.calibration import Calibration, load_calibration
from optimizer.intents.confidence import logprob_confidence
from optimizer.intents.models import IntentError
from optimizer.intents.retrieval import RETRIEVAL_KEY, ShotRetriever, retrieval_k, task_retriever, with_retrieved_shots
from optimizer.intents.text import MAX_INPUT_CHARS, clean_input

ROUTES = ("rag", "risk", "llm")
ROUTE_GRAMMAR = 'root ::= "{\\"route\\":\\"" ("rag" | "risk" | "llm") "\\"}"\n'
DEFAULT_ROUTER_TEMPLATE = "prompt_templates/query_routing_v1.yaml"
DEFAULT_ROUTER_CALIBRATION = "prompt_templates/calibration/query_routing.json"
DEFAULT_ROUTER_SHOTS = 4
"""Retrieved demonstrations when neither the config nor the template says: chosen on the validation
split, where the model alone routed 13 of 20 queries right with 4 retrieved shots and 11 of 20 with
the template's fixed ones (2026-12-01; a paired 95% interval of -17 to +36 points: n = 20 cannot
separate them, and an earlier draw with a smaller train pool had gone 9 against 11 the other way)."""
_I = re.IGNORECASE

# A greeting or a polite wrapper says nothing about the route ("Hi, sorry to bother you! Could you
# please work out ...", "hey what was ...", "Help me write ..."): the anchored rules read what follows.
_OPENING = re.compile(
    r"^(?:(?:hi|hey|hello|ok(?:ay)?|so|quick\s+(?:one|question|q)|sorry(?:\s+to\s+bother\s+you(?:\s+again)?)?|thanks|"
    r"please|pls|kindly|anyway|also|btw|by\s+the\s+way|separately|unrelated(?:ly)?|for\s+now|just|"
    # a greeting or a "quick question" label in another language, and who it is addressed to: "Hallo zusammen, kurze
    # Frage: ...", "Buenos días, ...", "Salut, ...", "hi all, ..."
    r"hallo|hola|salut|bonjour|ciao|buongiorno|buenos\s+d[i\u00ed]as|buenas(?:\s+tardes)?|guten\s+(?:morgen|tag)|moin|"
    r"kurze\s+frage|petite\s+question|una\s+pregunta|(?:(?:good\s+)?morning|zusammen|all|team|everyone|folks|guys)(?=\s*[,!:]))\b[\s,!.:;-]*)*"
    # an open call for help: "can someone explain ...", "anyone know what ..."
    r"(?:(?:can|could)\s+(?:some|any)(?:one|body)\s+(?:please\s+)?|(?:does\s+)?(?:any|some)(?:one|body)\s+(?:know|remember)\s+)?"
    # a role in front: "As the CFO I need ...", "As the new head of market risk I'd like to know which ..."
    r"(?:as\s+(?:the|a|an|our)\s+(?:[\w&'-]+\s+){1,6}?(?=i\b|i'))?"
    r"(?:i(?:'d|\s+would)\s+like\s+to\s+know\s+|i\s+(?:need|want)\s+to\s+know\s+)?"
    r"(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+|kindly\s+|quickly\s+)?(?:be\s+able\s+to\s+)?|"
    r"i\s+(?:need|want|would\s+like|'d\s+like)\s+(?:you\s+)?to\s+|(?:please\s+)?help\s+me\s+(?:to\s+)?)?(?:please\s+|kindly\s+)?",
    _I,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+|\s+[-\u2013\u2014]{1,2}\s+|;\s+")
# A label in front of a sentence: "Context: we're planning ... Question: what was ...?".
_LABEL = re.compile(r"^(?:question|q|context|background|fyi|note|ask|request)\s*:\s*", _I)
# An editing verb, a short instruction with no document of ours in it, a colon and the passage to
# work on: "summarise in 3 bullets: our stress run showed ...", "shorten for slides: ...". What the
# passage says (a stress run, a shock) is content, not a request.
_EDIT_LABEL = re.compile(
    r"^(?:summari[sz]e|rewrite|rephrase|reword|paraphrase|translate|shorten|condense|simplify|proofread|polish|tidy\s+up|"
    r"clean\s+up|tl;?dr)\b(?:\s+(?!(?:our|the|this|that|last|latest|previous|these|those|my)\b)[\w-]+){0,5}\s*:"
    r"\s*(?:\S+\s+){5,}\S",
    _I,
)
# Code is a writing task whatever it would compute ("Write a Python function that returns the 99% VaR").
_CODE = re.compile(
    r"^(?:write|draft|create|generate|give\s+me|show\s+me|build|implement|code(?:\s+up)?)\s+(?:me\s+)?(?:a|an|some|the)?\s*"
    r"(?:(?:short|simple|quick|small|reusable|vectori[sz]ed|basic)\s+)*"
    r"(?:(?:python|sql|vba|excel|javascript|typescript|java|c\+\+|c#|rust|bash|shell|powershell|pandas|numpy|r)\s+)?"
    r"(?:function|script|query|snippet|code|formula|macro|class|method|program|notebook|unit\s+tests?|regex|regular\s+expression|"
    r"one-liner)\b",
    _I,
)
# Code asked for by its noun, without a writing verb: "I need a python Monte Carlo script for ...",
# "python script to stress test a loan book" (what it would compute is not computed).
_CODE_NOUN = re.compile(
    r"^(?:(?:i|we)\s+(?:need|want)|need|looking\s+for)\s+(?:a|an|some)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:function|script|snippet|macro|notebook|program|code)\b"
    r"|^(?:python|sql|vba|javascript|typescript|bash|powershell|pandas|numpy)\s+(?:function|script|snippet|code|macro|query|program)\b"
    # the noun first, then what it should do: "function to run a VaR backtest", "code that simulates 1,000 paths"
    r"|^(?:a\s+|some\s+)?(?:function|script|snippet|macro|class|regex|program|code|udf|notebook)\s+(?:to|that|which|for)\s+\w",
    _I,
)
# Questions that are not a request for a computation, whatever compute word they carry:
# a question about what was done ("What did the last Monte Carlo run show?", "Which scenarios did we
# run in 2025?", "Has the Q4 stress test been run yet?", "Remind me what shock we applied");
_PAST_QUESTION = re.compile(
    r"^(?:(?:what|which|who|when|where|how\s+(?:many|much|big|large))\b[^?.!]{0,60}?\b(?:did|was|were|had|went|came|happened|showed|found|used|"
    r"assumed|applied|included|produced|turned\s+out)\b|(?:did|was|were)\b"
    r"|(?:has|have)\b[^?.!]{0,80}?\bbeen\b|remind\s+me\b|trying\s+to\s+remember\b"
    # a wh-question on a past event in a past period: "Which desks breached their limits in October?"
    r"|(?:which|who|what|how\s+many|how\s+much)\b(?![^?.!]*\b(?:will|would|could|might|next|expected|projected|forecast)\b)"
    r"[^?.!]{0,60}?\b\w{3,}ed\b[^?.!]{0,60}?\b(?:in|during|over|on)\s+(?:(?:the\s+)?(?:last|past|previous)\s+\w+|january|february|"
    r"march|april|may|june|july|august|september|october|november|december|q[1-4]|h[12]|20\d\d)\b)",
    _I,
)
# how something is done in general ("What are the steps to run a stress test?", "How do banks usually
# run reverse stress tests?", "the best way to simulate correlated defaults", "how is it computed");
_METHOD = re.compile(
    r"\b(?:steps\s+(?:to|for|in)|best\s+way\s+to|how\s+(?:do|does|would|should|can)\s+(?:banks?|firms?|companies|insurers|"
    r"one|you|people|(?:a|an)\s+[\w-]+|risk\s+(?:teams?|managers?))\b|how\s+(?:is|are)\s+(?:it|they|this|that|these)\s+"
    r"(?:computed|calculated|estimated|done|run|built)|in\s+general"
    r"|(?:sensible|reasonable|good|typical|recommended|standard|right)\s+(?:number|amount|size|choice|value|level)\s+of"
    # what others do when they run one: "common mistakes when people run stress tests", "why banks simulate ..."
    r"|\b(?:when|where|why|how|if)\s+(?:people|banks|firms|companies|analysts|insurers|teams|regulators|one|you)\s+(?:[\w-]+\s+)?"
    r"(?:run|simulate|calculate|compute|estimate|stress|model|backtest|perform)\b|\bcommon\s+(?:mistakes|pitfalls|errors)\b"
    # "What's the point of running 10,000 simulations instead of 1,000?"
    r"|\bwhat(?:'s|\s+is)\s+the\s+(?:point|benefit|advantage|purpose)\s+of\b|\b(?:instead\s+of|rather\s+than)\s+\d"
    # "Is 10,000 simulations enough for a 99.9% VaR?"
    r"|^(?:is|are)\s+[^?]{1,40}?\b(?:enough|sufficient|too\s+(?:many|few))\s+(?:for|to)\b)",
    _I,
)
# Numbers supplied in the query to compute on: "from these daily P&Ls: -2, 1, -5, 3", "given the
# following returns: ...", or a list of four or more figures.
_SUPPLIED_NUMBERS = re.compile(
    r"\b(?:these|the\s+following|this|below)\s+(?:[\w&-]+\s+){0,3}?(?:numbers|figures|values|returns|p&ls?|pnls?|prices|"
    r"observations|data(?:\s+points)?|losses|positions)\s*:"
    r"|[-+\u2212]?\d[\d.,]*%?\s*[,;]\s*[-+\u2212]?\d[\d.,]*%?\s*[,;]\s*[-+\u2212]?\d[\d.,]*%?\s*[,;]\s*[-+\u2212]?\d",
    _I,
)
# A textbook exercise: the inputs of a formula given for a made-up subject ("Given a mean of 2% and a standard deviation of
# 5%, what's the 95% parametric VaR?", "A bond with duration 6 and a 50bp rise in yields loses how much?").
_TEXTBOOK = re.compile(
    r"^(?:given|assume|assuming|suppose|say|if|for)\s+(?:a|an)\s+(?:[\w-]+\s+){0,3}?(?:mean|average|standard\s+deviation|std|"
    r"vol(?:atility)?|sigma|duration|convexity|portfolio|position|bond|stock|loan|asset|option|fund)\b"
    r"|^(?:a|an)\s+(?:[\w-]+\s+){0,3}?(?:bond|portfolio|position|loan|stock|option|asset|fund|investment)\s+"
    r"(?:with|worth|of|has|that)\b[^?.]{0,80}?\d"
    r"|\b(?:given|with)\s+(?:a\s+)?(?:mean|average|standard\s+deviation|std|vol(?:atility)?|sigma|duration)\s+(?:of\s+|=\s*|is\s+)?"
    r"[-+]?\d",
    _I,
)
# A general definition that names one of our own processes is a company fact, phrased generally:
# "How does the bonus scheme work?", "Explain the approval workflow for new vendors".
_OUR_PROCESS = re.compile(
    r"\b(?:the|our)\s+(?:[\w-]+\s+){0,2}?(?:scheme|workflow|approvals?|escalation|allowances?|entitlements?|sign-?off|"
    r"reimbursement|onboarding|rota|on-?call|(?:approval|expense|hiring|onboarding|escalation|sign-?off)\s+process)\b"
    # or a workplace rule in general words: "What are expense limits for client dinners?"
    r"|\b(?:expense|expenses|travel|leave|spending|gift|hospitality|overtime|bonus|per\s+diem)\s+(?:limits?|rules?|caps?|allowances?|"
    r"thresholds?|entitlements?)\b"
    # a setting of ours in general words: "What are escalation thresholds for trading losses?", "the delegated authority limits"
    r"|\b(?:escalation|approval|authority|authori[sz]ation|delegat(?:ed|ion)|sign-?off|dealing|mandate|capex|spend)\s+"
    r"(?:limits?|thresholds?|levels?|matrix|authorit(?:y|ies))\b",
    _I,
)
# Writing whose content needs facts of ours: "a list of our top clients", "which of our suppliers", "our
# current LCR", "the rules we follow", "the key points from yesterday's ALCO", "with the new thresholds".
_NEEDS_OUR_FACTS = re.compile(
    r"\b(?:with|including|containing|showing)\s+our\s+(?:[\w&-]+\s+){0,3}?(?:numbers|figures|results|kpis?|metrics|sales|revenues?|"
    r"stats|data|targets|forecasts?|headcount|costs)\b|"
    r"\b(?:list|breakdown|table|overview|rundown|count|split|summary)\s+of\s+our\b|\b(?:which|who|what|how\s+many)\s+of\s+our\b"
    r"|\bour\s+(?:current|latest|actual|existing|official|documented|agreed|approved|internal|standard|usual)\b|\bwe\s+(?:follow|use|apply|have\s+in\s+place)\b"
    r"|\bfrom\s+(?:yesterday's|today's|this\s+morning's|last\s+week's|last\s+month's)\b"
    r"|\bwith\s+the\s+(?:new|current|latest|updated|revised)\s+(?:[\w-]+\s+){0,2}?(?:thresholds?|limits?|rules?|rates?|figures|numbers|"
    r"policy|process|dates?|deadlines?)\b",
    _I,
)
# Workplace errands asked as a how-to: "How do I submit an expense claim?", "the contact for IT support".
_WORKPLACE = re.compile(
    r"^(?:how\s+(?:do|can|should)\s+i|give\s+me\s+the|where\s+do\s+i)\b[^?]*\b(?:expense\s+claims?|claims?\s+form|annual\s+leave|"
    r"holiday\s+request|meeting\s+rooms?|badge|laptop|payroll|reimburs\w*|vpn|timesheets?|parking|it\s+support|helpdesk|"
    r"service\s*desk|access\s+request|contact\s+for|desk\s+booking|travel\s+booking|book\s+(?:a\s+)?(?:desk|room|parking\s+space))\b",
    _I,
)
# Code handed over to fix or review: "Can you fix this code? It should compute VaR but ...".
_CODE_FIX = re.compile(
    r"^(?:fix|debug|review|refactor|optimi[sz]e|speed\s+up|explain|comment)\s+(?:this|my|the\s+following|the\s+attached)\s+"
    r"(?:[\w-]+\s+)?(?:code|function|script|query|snippet|formula|macro|regex|notebook)\b|^code\s+review\b",
    _I,
)
# A clause about our own plans, up to the next clause break: "we'll run scenarios on it later",
# "Before we run the stress test,", "we're planning to stress the book next month".
_OUR_PLAN = re.compile(
    r"\b(?:we(?:'ll|\s+will|'re\s+going\s+to|\s+are\s+going\s+to|\s+plan(?:ned)?\s+to|'re\s+planning\s+to|\s+are\s+planning\s+to|"
    r"'re|\s+are|\s+might|\s+may|\s+could)|(?:before|after|once|until|while)\s+we)\s+(?:[\w-]+\s+){0,1}?"
    r"(?:run(?:ning)?|simulat(?:e|ing)|stress(?:ing)?|shock(?:ing)?|comput(?:e|ing)|calculat(?:e|ing)|estimat(?:e|ing)|"
    r"backtest(?:ing)?|model(?:l?ing)?)\b[^,;.?!]*",
    _I,
)
# A question about the practice, not a request: "Are we required to run reverse stress tests?",
# "Should we run the stress test monthly or quarterly?", "How often should we backtest?".
_PRACTICE_QUESTION = re.compile(
    r"^(?:are|is)\s+(?:we|you|banks?|firms?|it)\s+(?:required|obliged|supposed|allowed|expected|mandatory|meant)\b"
    r"|^(?:should|must|do|does)\s+(?:we|you|banks?|firms?|one)\s+(?:(?:need|have)\s+to\s+)?(?:[\w-]+\s+)?(?:run|simulate|stress|"
    r"backtest|compute|calculate|perform)\b[^?]*\b(?:monthly|quarterly|annually|yearly|daily|weekly|every\s+(?:day|week|month|quarter|year)|"
    r"how\s+often)\b"
    r"|^how\s+often\s+(?:should|must|do|does)\b|\bis\s+it\s+(?:mandatory|required|compulsory)\s+to\b",
    _I,
)
_QUESTION_FORM = re.compile(
    r"^(?:what|which|how|why|when|is|are|do|does|should|can|explain|(?:common|typical|usual)\s+(?:mistakes|pitfalls|errors|problems))\b", _I)
# and a message asking someone else to run it ("Draft an email asking the desk heads to run ...").
_ASKS_SOMEONE = re.compile(
    r"^(?:write|draft|compose|send|create|prepare|design|make|put\s+together|plan|outline)\b[^.?!]*"
    r"\b(?:asking|telling|reminding|requesting|inviting|urging|to\s+(?:ask|remind|tell))\b"
    # or describing who does it: "an exercise where students calculate VaR", "talking points on why we simulate"
    r"|^(?:write|draft|compose|create|prepare|design|make|put\s+together|plan|outline|explain|describe|tell|show)\b[^.?!]*"
    r"\b(?:where|in\s+which|why|how|when)\s+(?:we|they|students|participants|trainees|people|teams?|banks?|firms?|analysts)\s+"
    r"(?:[\w-]+\s+)?(?:run|simulate|calculate|compute|estimate|stress|model)\b",
    _I,
)
# Plain arithmetic on figures given in the query: "whats 17.5% of 360", "what is 3% of 1.2bn in millions".
_ARITHMETIC = re.compile(
    r"^convert\s+[$\u20ac\u00a3]?\d[\d.,]*\s*(?:%|bps?|basis\s+points?|k|m|bn)?\s+(?:to|into)\b"
    r"|^(?:what'?s|wh?ats|what\s+is|calc(?:ulate)?|compute|work\s+out|how\s+much\s+is)\s+[$\u20ac\u00a3]?\d[\d.,]*\s*(?:%|k|m|bn|million|billion)?\s+"
    r"(?:of|times|x|\*|/|\+|-|plus|minus|divided\s+by|multiplied\s+by|over)\s+[$\u20ac\u00a3]?\d",
    _I,
)
# How to do something in a spreadsheet or a language: "excel formula count cells ...", "how do u
# calculate yoy growth in excel", "python: how do i read a csv".
_TOOL = re.compile(
    r"\b(?:excel|google\s+sheets|spreadsheet|python|pandas|numpy|sql|vba|power\s*bi|powerpoint|jupyter|matplotlib|seaborn|plotly|"
    r"scipy|statsmodels|tableau|(?-i:R))\b", _I)
_HOW_TO = re.compile(r"\bhow\s+(?:do|can|would|should|to)\b|\bformulas?\b|\bpivot\b|\bsyntax\b|\bshortcut\b|\bexamples?\b|^[\w ]{2,20}:", _I)
_COMPUTE = re.compile(
    # ("run-off", "run-rate" are nouns)
    # ("our last Monte Carlo run", "yesterday's run": the noun)
    r"\b(?:(?<!last\s)(?<!latest\s)(?<!previous\s)(?<!the\s)(?<!that\s)(?<!our\s)(?<!'s\s)(?<!carlo\s)(?<!stress\s)run(?!-)|simulate|compute|calculate|(?<!\ba\s)(?<!\ban\s)(?<!the\s)(?<!var\s)(?<!point\s)(?<!our\s)(?<!its\s)estimate|"
    r"generate|perform|(?<!the\s)(?<!a\s)re-?run|"
    r"(?<!var\s)(?<!the\s)(?<!our\s)(?<!last\s)(?<!latest\s)(?<!\ba\s)backtest(?!\s+(?:exceptions?|results?|reports?|breaches|outcomes?|findings|history))|shock(?!\s+(?:absorbers?|waves?|therapy|sizes?))|quantify|use\s+monte\s+carlo|work\s+out|"
    r"figure\s+out)\b",
    _I,
)
# A compute verb whose object is no quantity: "Generate a catchy name for ...", "Work out a good structure for a
# presentation on scenario analysis", "simulate a job interview", "Run me through the basics of Monte Carlo".
_NON_QUANTITY_OBJECT = re.compile(
    r"\b(?:run|walk|take|talk)\s+(?:me|us|them|him|her)\s+through\b"
    r"|\b(?:generate|work\s+out|figure\s+out|simulate|perform|run|compute|calculate)\s+(?:me\s+|us\s+)?(?:a|an|some|the|my|our)?\s*"
    r"(?:[\w-]+\s+){0,2}?(?:names?|titles?|structure|outline|agenda|ideas?|slogans?|taglines?|interview|conversation|role-?play|"
    r"dialogue|emails?|story|stories|quiz|headlines?|poems?|jokes?|list\s+of\s+(?:ideas|questions|names|topics)|"
    r"questions\s+(?:for|to\s+ask)|coin(?:\s+(?:toss|flip))?|dice|die\s+rolls?|(?:board\s+)?games?|lottery|tournament)\b",
    _I,
)
# Asking for a new stress test or simulation by name: "I need a reverse stress test of the funding plan"
# (not its report or results).
_RISK_REQUEST = re.compile(
    r"^(?:i\s+need|i\s+want|i'd\s+like|we\s+need|need|can\s+i\s+get|get\s+me)\s+(?:a|an|the|some)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:(?:reverse\s+)?stress[- ]test|monte\s+carlo(?:\s+run)?|(?:loss|liquidity|capital|cash|credit|market|portfolio)\s+simulation|"
    r"scenario\s+analysis|sensitivity\s+analysis)\b"
    r"(?!\s+(?:reports?|results?|packs?|decks?|documents?|minutes|findings|summary|template|slides?|assumptions?|inputs?|parameters?|"
    r"outputs?|methodology|documentation|set-?up|calibration|specs?|specification)\b)"
    # (nor one that was already done: "the Monte Carlo run we did for the budget", "the stress test they presented")
    r"(?![^.?!]*\b(?:we|they|you|finance|risk|treasury)\s+(?:already\s+)?(?:documented|did|ran|used|recorded|presented|published|"
    r"approved|agreed|submitted|shared|sent|prepared)\b)",
    _I,
)
_COMPUTE_LEAD = re.compile(
    # the verb, not the noun in front of another noun ("Project plan template ...", "Stress test results for Q3")
    r"^(?:model|stress(?![- ]test)|stress[- ]test|project|forecast|size|predict)\b(?!\s+(?:plans?|managers?|management|templates?|owners?|teams?|"
    r"status|charter|reports?|results|packs?|documentation|governance|inventory|tips|ideas|policy|policies|reviews?|updates?|"
    r"answers?|solutions?|essays?|examples?|questions?|exams?)\b)",
    _I,
)
# A risk word naming a thing rather than a quantity: "the new VaR limits", "sensitivity training", "the
# stress test team" (read as a neutral word by the probability rules).
_NAMED_THING = re.compile(
    r"\b(?:var|value[\s-]+at[\s-]+risk|expected\s+shortfall|cvar|(?-i:ES)|sensitivity|probability(?:\s+of\s+default)?|likelihood|odds|stress(?:[- ]test(?:ing)?)?|scenario|monte\s+carlo|"
    r"worst[- ]case|tail\s+risk)\s+(?:limits?|thresholds?|appetite|models?|methodology|polic(?:y|ies)|teams?|reports?|committees?|"
    r"framework|training|documentation|systems?|owners?|process|scale|scoring|matrix|workshop|course|template|"
    # the notion itself: "the 99% VaR concept", "the odds ratio"
    r"concepts?|idea|notion|measures?|metrics?|definition|formula|ratio)\b",
    _I,
)
# What a probability is about: one of our figures, a book, a business outcome. Without one ("Is there a
# chance the meeting moves?", "how likely is it to rain?") a probability word is not a risk question.
_RISK_SUBJECT = re.compile(
    r"\b(?:our|we|we'?d|(?-i:us)|loss(?:es)?|book|portfolio|desk|exposures?|capital|liquidity|cash|budget|revenue|sales|margins?|nii|"
    r"earnings|ebitda|income|profit|p&l|pnl|defaults?|breach\w*|covenants?|overrun\w*|overshoot\w*|overspend\w*|costs?|funding|"
    r"deposits?|outflows?|downgrade|ratio|claims?|pension|reserves?|provisions?|ecl|(?<!expected\s)shortfall|drawdown|returns?|project|programme|"
    r"deal|loans?|mortgages?|fund|assets|liabilit\w+|run\s+out|miss\w*|exceed\w*|fall\w*\s+below|the\s+(?:[\w%.-]+\s+){0,2}?var|p\d{1,2}|exhaust\w*|"
    r"wip\w+\s+out|insolven\w*|1[- ]in[- ]\d+|slip\w*|delay\w*|late|launch|migration|delivery|deadline|targets?|plan|forecast|"
    r"headcount|attrition|churn)\b",
    _I,
)
# A probability about something in general: "for a BB-rated company", "according to economists".
_GENERAL_SUBJECT = re.compile(
    r"\b(?:of|for|on)\s+(?:a|an)\s+(?:[\w-]+\s+){0,2}?(?:company|issuer|bank|firm|borrower|corporate|sovereign|country|investor|"
    r"household|person|stock|bond)\b|\baccording\s+to\s+(?:economists|analysts|experts|forecasters|consensus|the\s+markets?|markets|"
    r"the\s+imf|the\s+news)\b"
    # a typical or average subject, a whole class of them, or a rule of a regulation
    r"|\b(?:a\s+typical|an\s+average|the\s+average|a\s+generic)\s+(?:[\w/-]+\s+)?(?:household|bank|firm|company|investor|person|"
    r"portfolio|fund|pension\s+fund|insurer|borrower|lender|issuer)\b|\b(?:mathematically|theoretically|statistically|historically\s+speaking)\b"
    # a whole class, unqualified: "for European banks", not "banks in our book" or "the banks we lend to"
    r"|(?<!the\s)(?<!our\s)(?<!these\s)(?<!those\s)\b(?:banks|insurers|households|economies)\b"
    r"(?!\s+(?:we|in|on|of|across|within|from)\b)"
    r"|\bwhat\s+(?:happens|would\s+happen|will\s+happen)\s+to\s+(?:bond|stock|share|house|equity|gold|oil|commodity)\s+"
    r"(?:prices|yields|markets?)\b"
    r"|\b(?:under|in)\s+(?:the\s+)?(?:frtb|basel(?:\s+(?:iii|iv|3|4|3\.1))?|crr\d?|crd\s*\w*|ifrs\s*\d*|solvency\s+ii|ccar)\b",
    _I,
)
# A body outside the company, its public documents, or a macro statistic: "the latest IMF report", "the
# EBA stress test results", "Q3 GDP growth for Germany" (public knowledge, not our documents).
_EXTERNAL = re.compile(
    r"\b(?:imf|ecb|eba|federal\s+reserve|the\s+fed|fed's|bis|oecd|world\s+bank|basel\s+committee|fsb|esma|eiopa|"
    r"publicly\s+available|public\s+(?:data|sources?|information|results|filings?|reports?|stress\s+test)|wikipedia|investopedia|gdp|cpi)\b",
    _I,
)
# ("us" in lower case: "the US" is a country)
_STRICT_OURS = re.compile(r"\b(?:our|ours|(?-i:us)|we(?:'d|'re|'ve|'ll)?)\b", _I)
_RISK_TERM = re.compile(
    r"\b(?:monte\s+carlo|simulat\w*|scenarios?|stress(?:[- ]tests?)?|what-if|sensitivity|var|value[\s-]+at[\s-]+risk|"
    r"expected\s+shortfall|tail\s+loss|backtest|shock|probability|distribution|copula|paths|drawdown|downside|worst-case|recession|"
    r"downturn|hit\s+to|(?:dv|pv|cs|ir)01|bpv)\b|\bworst\s+\d+(?:\.\d+)?%",
    _I,
)
# What a hypothetical would do to a figure: "Model what a port strike would do to our cash".
_IMPACT = re.compile(
    r"\b(?:would|will|could|might)\s+do\s+to\b|\bwhat\s+(?:happens|would\s+happen|will\s+happen)\s+to\b|\bknock\s+off\b|"
    r"\b(?:hit|impact|effect)\s+(?:to|on)\b",
    _I,
)
_TAIL_MEASURE = r"(?:var|value[\s-]+at[\s-]+risk|expected\s+shortfall|cvar|tail\s+loss)"
# A tail measure at a stated confidence, in either order: "the 99% VaR", "expected shortfall at 97.5%".
_RISK_FIGURE = re.compile(
    rf"\d+(?:\.\d+)?%[^.?!]*\b{_TAIL_MEASURE}\b|\b{_TAIL_MEASURE}\b[^.?!]{{0,40}}?\b(?:at|of)\s+\d+(?:\.\d+)?%", _I
)
# A risk *question* need not say "run" or "simulate": a percentile, a probability or a tail measure
# of something still to happen asks for a new computation ("What's the P90 of next year's losses?").
_RISK_QUANTITY = re.compile(
    r"\b(?:p\d{1,2}|\d{1,2}(?:\.\d)?(?:st|nd|rd|th)?[- ]percentile|percentiles?|quantiles?|likelihood|probab(?:i?li|il)t?y|odds|"
    r"chances?|how\s+likely|var|value[\s-]+at[\s-]+risk|expected\s+shortfall|cvar|tail\s+(?:risk|loss)|worst[- ]case|"
    r"confidence\s+interval|distribution\s+of|(?:loss|return|outcome)\s+distribution|1[- ]in[- ]\d+(?:[- ]years?)?|"
    r"sensitivit(?:y|ies)|\d+(?:\.\d+)?%\s+confidence|(?:downside|upside|adverse|severe|stress(?:ed)?)\s+(?:case|scenario))\b",
    _I,
)
# An imperative asking for the figure itself: "Give me the 5th percentile outcome for free cash flow".
_ASK_FOR = re.compile(
    r"^(?:(?:give|get|tell|show)\s+me|put\s+a\s+number\s+on|i\s+need|we\s+need)\s+(?:the|a|an|our)\s+(?:[\w%.'-]+\s+){0,3}?"
    r"(?:p\d{1,2}|\d{1,2}(?:st|nd|rd|th)\s+percentile|percentiles?|quantiles?|probability|odds|chances?|likelihood|range|"
    r"(?:loss|return|outcome)\s+distribution|distribution|worst[- ]case|downside)\b",
    _I,
)
# Wording of general knowledge, not of our own figures: "how do airlines usually respond".
_GENERIC = re.compile(
    r"\b(?:usually|typically|generally|in\s+general|tend\s+to|historically|in\s+theory|conceptually|in\s+principle)\b", _I)
# Magnitudes of what may still happen, forward by their own wording: "how bad could it get", "how
# exposed are we to", "how much could the book lose", "what's our worst month likely to look like".
_FORWARD_QUANTITY = re.compile(
    r"\bhow\s+(?:bad(?:ly)?|far|low|deep|severe)\s+(?:could|would|might|can|will)\b|\bhow\s+(?:exposed|vulnerable)\s+(?:are|is)\b|"
    r"\bhow\s+much\b[^.?!]{0,60}?\b(?:could|would|might|can)\s+(?:[\w'-]+\s+){0,4}?(?:lose|shed|give\s+back|drop|fall|shrink|"
    r"swing|decline)\b|\b(?:worst|bad)\s+(?:day|week|month|quarter|year)\b[^.?!]{0,30}?\b(?:likely|could|would|might)\b"
    # a reverse stress test asks what would break a figure: "what would it take to breach our minimum?"
    r"|\b(?:what\s+size\s+of|how\s+(?:big|large)\s+(?:a|an))\b[^.?!]{1,60}?\b(?:wipes?\s+out|breach(?:es)?|exhausts?|eats?\s+through|"
    r"would\s+(?:wipe\s+out|breach|exhaust|break))\b"
    r"|\bwhat\s+would\s+it\s+take\s+(?:for\s+[^.?!]{1,40}?\s+)?to\s+(?:breach|break|exhaust|wipe\s+out|trigger|miss|fall|drop|"
    r"go\s+(?:below|under|negative)|run\s+out)\b"
    # what a named event would do to a figure of ours, not to me: "what would a cyber outage do to our fee income?"
    r"|\bwhat\s+(?:would|could|might|will)\s+(?![^.?!]*\b(?:i|me|my)\b)[^.?!]{1,120}?\bdo\s+to\s+(?:our|us|the)\b",
    _I,
)
# A tail measure at a bare confidence level or with a holding period, in search-box style: "ES 99
# credit book next qtr", "97.5 ES 10d equities" ("ES" only in capitals).
_TERSE_TAIL_MEASURE = rf"(?:{_TAIL_MEASURE}|(?-i:ES|EaR|CFaR)|earnings[\s-]+at[\s-]+risk|cash[\s-]+flow[\s-]+at[\s-]+risk)"
_TERSE_TAIL = re.compile(
    rf"\b{_TERSE_TAIL_MEASURE}\s+(?!(?:limits?|thresholds?|appetite)\b)(?:[\w-]+\s+){{0,3}}?(?:9\d(?:\.\d+)?|\d{{1,3}}\s*-?\s*d(?:ays?)?)\b(?!\s*%)"
    rf"|\b9\d(?:\.\d+)?\s+(?:[\w-]+\s+){{0,2}}?{_TERSE_TAIL_MEASURE}\b",
    _I,
)
# An uncertainty band or interval around a figure still to come: "a p10/p90 band around the forecast",
# "with a 90% band", "an uncertainty interval, not just a point estimate".
_UNCERTAINTY_BAND = re.compile(
    r"\bp\d{1,2}\s*/\s*p\d{1,2}\b|\b(?:\d{1,2}%|uncertainty|confidence|prediction|error)\s+(?:bands?|intervals?|ranges?)\b"
    r"|\bfan\s+chart\b|\bnot\s+(?:just\s+)?a\s+point(?:\s+estimate)?\b|\blow\s*/\s*(?:base|mid)\s*/\s*high\b"
    r"|\b(?:put|give\s+me|need|want)\s+a\s+(?:rough\s+)?range\s+(?:for|on|around)\b|\bwith\s+a\s+(?:range|band)\s*(?:$|[,.?!]|pls\b|please\b)"
    # how sensitive a figure is: "how sensitive is our NII to a flattening of the curve?"
    r"|\bhow\s+sensitive\s+(?:is|are|would|will)\s+(?:our|we|us)\b"
    # or how sensitive a figure is to a quantified change: "how sensitive is the NPV to a 5% rise in costs?"
    r"|\bhow\s+sensitive\s+(?:is|are|would|will)\s+(?:the\s+|our\s+|its\s+)?(?:[\w&-]+\s+){0,2}?(?:npv|irr|value|valuation|margins?|"
    r"profits?|p&l|pnl|earnings|ebitda|revenues?|costs?|nii|capital|ratio|returns?|cash\s*flows?|portfolio|book|loss(?:es)?|"
    r"provisions?|ecl|funding)\b[^.?!]{0,80}?\bto\s+(?:a|an)\s+(?:\d+(?:\.\d+)?\s*(?:%|bps?\b|basis\s+points?))",
    _I,
)
# How often a loss or a breach would come, or what it would take to ride one out: "how often would we
# expect a daily loss above ...", "how big a buffer would we need to survive ...".
_FREQUENCY_OR_NEED = re.compile(
    r"\bhow\s+(?:often|many\s+times|frequently)\s+(?:would|could|might|should|will)\s+(?:we|it|the|our|a|an)\b[^.?!]{0,60}?"
    r"\b(?:expect|see|breach|exceed|lose|loss|losses|hit|happen|occur|default|fail)"
    r"|\bhow\s+(?:big|large|much)\b[^.?!]{0,40}?\bwould\s+(?:we|it|the\s+[\w-]+)\s+need\s+to\s+(?:survive|withstand|absorb|cover|ride\s+out)\b"
    r"|\bhow\s+(?:many|long|much)\b[^.?!]{0,40}?\b(?:could|would|can|might)\s+(?:we|it|the\s+[\w-]+)\s+(?:survive|withstand|last|absorb|"
    r"ride\s+out|cope)\b",
    _I,
)
# The settings of a simulation stated in the question: "with 10,000 draws and revenue volatility of 12%", "5k paths",
# "over 1,000 iterations" (a run to be done; a past one is a question about a record and is not read here).
_SIM_SETUP = re.compile(
    r"\b\d[\d,.]*\s*k?\s+(?:draws|paths|simulations|sims|iterations|trials|monte\s+carlo\s+(?:runs|paths|draws))\b"
    r"|\b(?:volatility|vol|correlation|drift)\s+(?:of|at)\s+\d+(?:\.\d+)?\s*%",
    _I,
)
# A question that opens on the probability itself: "How likely is it that the project overruns its
# budget?" (a document it names is the subject, not the source).
_PROBABILITY_LEAD = re.compile(
    r"^(?:how\s+likely\s+(?:is|are|would|will)(?!\s+(?:you|u|i)\b)|(?:what(?:\s+(?:are|is)|'s|s)\s+)?(?:the\s+)?(?:odds|chances?|probability|likelihood)\s+"
    r"(?:that|we|we'd|our|the))\b",
    _I,
)
_AHEAD = re.compile(
    r"\b(?:next|coming|upcoming|over\s+the\s+next|within|by\s+(?:year[- ]end|the\s+end|q[1-4]|20\d\d)|if|would|will|under|"
    r"given|assuming|horizon|forward|projected|going\s+forward|breach(?:ing)?|default(?:ing)?|miss(?:ing)?|fall(?:ing)?\s+below|"
    r"exceed(?:ing)?|run\s+out|could|might|1[- ]in[- ]\d+|(?:dip|drop|slip|go|fall)(?:s|ping|ing)?\s+(?:below|under|short))\b",
    _I,
)
# A what-if with a quantified market or business move ("if rates go up by 150 basis points", "to a
# 20% drop in copper prices", "a 100bp parallel shift", "if the central bank cuts 75bp"): the answer is
# a new computation.
_MOVE_WORDS = (
    r"(?:drop(?:s|ped|ping)?|fall(?:s|ing)?|ris(?:e|es|ing)|increas(?:e|es|ing)|decreas(?:e|es|ing)|shift(?:s|ing)?|"
    r"mov(?:e|es|ing)|shock|declin(?:e|es|ing)|hik(?:e|es|ing)|cut(?:s|ting)?|jump(?:s|ing)?|spik(?:e|es|ing)|"
    r"widen(?:s|ing)?|climb(?:s|ing)?|tighten(?:s|ing)?|sell-?off|crash(?:es)?|slump(?:s)?|plunge(?:s)?|"
    r"go(?:es)?\s+up|go(?:es)?\s+down|weaken(?:s|ing)?|strengthen(?:s|ing)?|depreciat(?:e|es|ing)|appreciat(?:e|es|ing)|"
    r"doubles?|halves?|rall(?:y|ies|ying)|sink(?:s|ing)?|soar(?:s|ing)?|tumbl(?:e|es|ing)|surg(?:e|es|ing))"
)
_AMOUNT = (
    r"(?:\d+(?:\.\d+)?\s*(?:%|bps?\b|basis[\s-]+points?\b|percentage[\s-]+points?\b|pp\b|ppts?\b|pts\b|per\s*cent\b|percent\b|"
    # an FX move in dealer's units: "10 big figures"
    r"big\s+figures?\b)"
    # a move in words: "two percentage points", "half a per cent"
    r"|(?:one|two|three|four|five|six|seven|eight|nine|ten|fifty|a\s+hundred|half\s+a)\s+"
    r"(?:basis[\s-]+points?|percentage[\s-]+points?|per\s*cent|percent)\b)"
)
# A signed shock with the figure it should move: "LGD +10pts on the book, impact on ECL?"
_SIGNED_SHOCK = re.compile(r"(?:^|\s|\()[+\-\u2212]\s?\d+(?:\.\d+)?\s*(?:%|bps?|pts?|pp)(?!\w)", _I)
_IMPACT_WORD = re.compile(r"\b(?:impact|effect|hit|sensitivity|what\s+happens|p&l|pnl)\b", _I)
_QUANTIFIED_MOVE = re.compile(
    rf"{_AMOUNT}(?:\s+[\w-]+){{0,3}}?\s+{_MOVE_WORDS}\b"
    rf"|\b{_MOVE_WORDS}\s+(?:(?:of|by|another|a\s+further|an\s+extra|a|an|around|about|roughly|some|up\s+to|over)\s+)*{_AMOUNT}"
    rf"|\b(?:if|assuming|when)\b[^.?]*\b(?:doubles?|halves?|triples?)\b"
    # A named scenario with a conditional: "What loss would a 2008-style crash cause?"
    r"|\b(?:\d{4}-(?:style|type|like)|crash|crisis|recession|downturn|sell-?off|pandemic)\b[^.?]*\b(?:would|could)\b"
    r"|\b(?:would|could)\b[^.?]*\b(?:\d{4}-(?:style|type|like)|crash|crisis|recession|downturn|sell-?off|pandemic)\b", _I,
)
# A hypothetical named as a scenario rather than an "if": "our downside on the equity book in a 2020-type crash", "the hit
# to fees under a severe recession" (an indefinite one: "in the 2020 crash" is a past event).
_SCENARIO_FRAME = re.compile(
    r"\b(?:in|under|through|during)\s+(?:a|an|another)\s+(?:[\w-]+\s+){0,3}?(?:crash|crisis|recession|downturn|sell-?off|pandemic|"
    r"depression|stress\s+scenario|shock|replay|repeat)\b",
    _I,
)
# "What would happen to our margin if the oil price hits $120?": a question about how much one of our
# figures moves under a stated, quantified hypothetical (a personal one, "if I leave after 2 years", is
# a policy question, not this).
_HYPOTHESIS = re.compile(r"\b(?:if|assuming|suppose|supposing|in\s+the\s+event)\b(?![^.?!]*\b(?:i|my|me)\b)", _I)
_IMPACT_QUESTION = re.compile(
    r"\bwhat\s+(?:happens|would\s+happen|will\s+happen)\s+to\b|\b(?:by\s+)?how\s+much\b|\bhow\s+(?:bad(?:ly)?|far|big)\b|"
    r"\bwhat\s+(?:does|would|will|could|might)\s+(?:that|this|it)\s+do\s+to\b|"
    r"\bwhere\s+(?:does|would|will)\b|\bwould\b[^.?!]*\bstill\b|\bknock\s+off\b|\b(?:hit|impact|effect)\s+(?:to|on)\b"
    r"|\b(?:what(?:'s|\s+is|\s+would\s+be)|wh?ats)\s+(?:our|the)\s+(?:exposure|loss|hit|impact|cost|downside)\b"
    r"|\bhow\s+(?:would|will|could)\s+(?:[\w-]+\s+){1,3}?(?:look|change|move|react|hold\s+up|fare|cope)\b",
    _I,
)
_CONDITION = re.compile(r"\b(?:if|assuming|under|given)\b", _I)
# A question asked of someone else, indirectly: "- Priya to confirm what shock sizes were used in ...", "can you
# check which scenarios we ran last year", "find out how many breaches there were" (the clause after the verb is the
# question; a past one is about a record, not a request to compute).
_EMBEDDED_QUESTION = re.compile(
    r"\b(?:confirm|check|find\s+out|look\s+into|tell\s+(?:me|us)|let\s+(?:me|us)\s+know|remind\s+(?:me|us)|clarify|verify|"
    r"double-?check|ask\s+[\w-]+|recall|remember)\s+((?:what|which|who|when|where|whether|how\s+(?:many|much|big|large))\b[^?!]*)",
    _I,
)
_COUNTERFACTUAL = re.compile(r"\b(?:would|could|might|should|will)\b|\bhad\s+(?:we|they|it|the)\b|\bif\b", _I)
# The question itself is about the past ("What was ...", "What P90 did the business case record?"),
# or quotes a figure someone reported. A past verb inside a condition ("as volatile as they were")
# and "our reported revenue" (an adjective) are not.
_PAST = re.compile(
    r"^(?:[\w'-]+[\s,]+){0,3}?(?:was|were|did|had)\b|\b(?:did|was|were|had)\s+(?:we|they|you|i|it|the|our)\b"
    r"|(?<!our\s)(?<!the\s)(?<!its\s)\b(?:reported|documented|published|recorded|disclosed)\b",
    _I,
)
_LAST_PERIOD = re.compile(
    r"\blast\s+(?:quarter|year|month|week|night|monday|tuesday|wednesday|thursday|friday)\b"
    # a figure of a day gone by, search-box style: "ES 97.5 rates desk yesterday", "VaR as of last close"
    r"|\byesterday(?:'s)?\b|\b\d+\s+(?:days?|weeks?|months?)\s+ago\b|\bas\s+(?:of|at)\s+(?:yesterday|last|close|cob|(?:month|quarter|year)[- ]end)\b",
    _I,
)
_FUTURE_WORDS = re.compile(r"\b(?:next|coming|upcoming|will|would|could|might|going\s+forward)\b", _I)
_FUTURE = re.compile(rf"{_FUTURE_WORDS.pattern}|\bif\b", _I)
_DEFINITION = re.compile(r"^(?:what\s+(?:is|are|does)\s+(?:a\s+|an\s+|the\s+)?[\w\s-]{0,30}\??$|explain|define|how\s+do(?:es)?\s+)", _I)
# A general definition or comparison, risk vocabulary or not ("What is a debt covenant?", "what does
# 'basis point' mean", "the difference between VaR and CVaR in simple terms", "pros and cons of ..."); about our own figures
# or a period it is not general.
_GENERAL = re.compile(
    r"^(?:explain|define)\b|^what\s+(?:is|are|'s)\s+(?:a|an)\s+[\w\s'-]{1,40}\??$"
    r"|^what\s+are\s+(?!the\b|our\b|your\b)[\w\s'-]{1,40}\??$"
    r"|^what\s+(?:does|do)\b[^?]*\b(?:mean|tell\s+(?:you|us|me)|imply|signify)\b|\bwhat\s+is\s+meant\s+by\b|\b(?:meaning|definition)\s+of\b"
    r"|\bin\s+(?:plain|simple|layman'?s?)\s+(?:english|terms|words)\b|\bdiff?e?rence\s+between\b|\bpros\s*(?:and|&|/)\s*cons\b"
    r"|\badvantages\s+and\s+disadvantages\b|\bintuiti(?:on|ve)\b|^how\s+(?:does|do)\b[^?]*\bwork\b"
    # "what does X stand for", "X meaning?", "X in a nutshell", "what is X in an ALM context",
    # "What is a bank run, and ...", "why do regulators like ...", "... why or why not?"
    r"|\bstand\s+for\b|\bmeaning\s*\??$|\bin\s+a\s+nutshell\b|\bin\s+(?:an?\s+|the\s+)?[\w&-]+\s+context\b"
    r"|^what(?:\s+(?:is|are)|'s)\s+(?:a|an)\s+[\w%.'-]+(?:\s+[\w%.'-]+){0,3}\s*(?:,|\?|$|\s+and\s+(?:how|why|what|when|where)\b)"
    r"|\bwhy\s+or\s+why\s+not\b"
    # "help me understand what a 1-in-200 year loss means"
    r"|^(?:understand|get\s+my\s+head\s+around|make\s+sense\s+of)\s+what\b[^?]{1,60}?\b(?:means|stands\s+for)\b"
    # "Is expected shortfall at 97.5% roughly the same as VaR at 99%?" (not "Is the desk's VaR the same as its limit?")
    r"|^(?:is|are)\s+(?!(?:the|our|its|their|this|that|these|those|your|my)\b)[^?]{1,60}?\b(?:the\s+same\s+as|equivalent\s+to|"
    r"similar\s+to|comparable\s+to|interchangeable\s+with)\b"
    # a comparison of two measures in general: "Is a 99% VaR more conservative than a 95% ES?"
    r"|^(?:is|are)\s+(?:a|an)\s+[^?]{1,40}?\b(?:more|less|better|worse|riskier|safer|higher|lower)\b[^?]*\bthan\s+(?:a|an)\b"
    r"|^why\s+(?:do|does|is|are|would|should)\s+(?!(?:we|our|the|you|i|it|they|this|that|these|those)\b)",
    _I,
)
_CONTENT_GIVEN = re.compile(
    r"\b(?:this|these|the\s+following)\s+(?:[\w-]+\s+){0,3}?(?:text|paragraph|sentence|tweet|bullet\s+points?|notes?|"
    r"email|message|results?|draft|points?|list|figures|numbers)\b[^:'\"]*[:'\"]"
    r"|\b(?:this|these|the\s+following)\s*:",
    _I,
)
# A quoted passage and a request to explain or rework it: 'Our consultant wrote this: "..." Can you
# explain it in plain English?' (the passage's risk words are content, not a request).
_QUOTED_PASSAGE = re.compile(r'"[^"]{30,}"')
_ABOUT_PASSAGE = re.compile(
    r"\b(?:explain|what\s+does\s+(?:this|it|that)\s+mean|in\s+plain\s+(?:english|terms|words)|simplify|rewrite|rephrase|"
    r"translate|summari[sz]e|shorten|proofread|i\s+don'?t\s+(?:get|understand))\b",
    _I,
)
# An editing verb on "this", then a colon and the content: "Format this as a table: ...".
_EDIT_COLON = re.compile(
    r"^(?:format|reformat|convert|turn|rewrite|summari[sz]e|translate|tabulate|sort|put|clean\s+up|shorten|proofread|rephrase|make)\s+"
    r"(?:this|these|the\s+following|it)\b[^:]{0,40}:\s*\S",
    _I,
)
# An editing verb and the passage to edit, quoted: "Could you shorten this to 50 words? '...'".
_EDIT_QUOTED = re.compile(
    r"^(?:fix|correct|shorten|tighten|condense|simplify|reword|rephrase|paraphrase|rewrite|proofread|summari[sz]e|translate|"
    r"convert|turn|make|edit|polish|clean\s+up)\b[^'\"]*['\"][^'\"]{30,}['\"]",
    _I,
)
_DOC_NOUNS = (
    r"polic(?:y|ies)|handbook|reports?|dashboards?|kpis?|deck|audit|runbook|survey|statement|documentation|wiki|submissions?|"
    r"filings?|packs?|business\s+case|budget|"
    r"guidelines|procedure|code\s+of\s+conduct|minutes|results|findings|assumptions|plan|contract|sla|register|checklist|playbook|"
    r"org\s+chart|roadmap"
)
_DOC_REFERENCE = re.compile(
    # up to four words between the determiner and the noun, none of them a subject ("the probability
    # we miss the budget" is not a reference to a budget document)
    rf"(?<!\ba\s)(?<!\ban\s)\b(?:our|the|latest|internal|company(?:'s)?|(?:last|this)\s+(?:year|quarter|month|week)'s|yesterday's|\d{{4}})\b"
    rf"(?:\s+(?!(?:we|i|you|they|a|an|between|versus|vs)\b)[\w&/'-]+){{0,4}}?\s+(?:{_DOC_NOUNS})\b"
    # (not one of any kind: "the minutes of a board meeting", "the findings section of an audit")
    r"(?!(?:\s+[\w-]+)?\s+(?:of|for|from)\s+(?:a|an|any)\b)",
    _I,
)
# A standing practice or setting of ours, asked in the present: "What probability of default do we assign to BB names?",
# "What is our risk appetite for a 1-in-200 year loss?" (a rule or a figure on record, not a new computation).
_STANDING = re.compile(
    r"^(?:what|which|how\s+much|how\s+many)\b[^?]{0,60}?\b(?:do|does)\s+(?:we|the\s+bank|the\s+company|our\s+[\w-]+(?:\s+[\w-]+)?)\s+"
    r"(?:normally\s+|usually\s+|currently\s+|typically\s+)?(?:assign|use|apply|set|assume|report|hold|give|charge|allow|target|require|"
    r"publish|disclose|map|attach)\b"
    r"|^what(?:'s|\s+is|\s+are)\s+(?:our|the)\s+(?:[\w-]+\s+){0,2}?(?:risk\s+appetite|appetite|tolerance|limits?|thresholds?|targets?|"
    r"policy|rule|floor|cap)\s+(?:for|on|around)\b",
    _I,
)
# A subject of no one in particular: "How bad could a bad VaR model get?", "How often would a 99% VaR be breached?"
_INDEFINITE_SUBJECT = re.compile(
    r"\bhow\s+(?:bad(?:ly)?|far|low|deep|severe|often|many\s+times)\s+(?:could|would|might|can|will|should|does|do)\s+(?:a|an|any)\b"
    r"|\b(?:a|an|any)\s+(?:\d+(?:\.\d+)?%\s+)?(?:[\w-]+\s+){0,2}?(?:var|value[\s-]+at[\s-]+risk|expected\s+shortfall|(?-i:ES)|"
    r"var\s+model)\b(?!\s+(?:on|for|of)\s+(?:the|our|this|that)\b)",
    _I,
)
# An opinion, a choice or a meaning asked, not a fact on record: "What should we call our newsletter?", "What's a good
# name for our team?", "Which slogan is better for us?", "what do we mean statistically?"
_OPINION = re.compile(
    r"\bshould\s+(?:we|i)\s+(?:call|name|title)\b|\bgood\s+(?:name|title|idea|slogan|theme|activity|gift)\b|\b(?:fun|nice|cool|catchy)\b"
    r"|\bwhat\s+would\s+be\s+(?:a|an)\b|\b(?:is|are|would\s+be)\s+(?:better|nicer|catchier)\b|\bsupposed\s+to\s+learn\b"
    r"|\bphilosophically\b|\bin\s+your\s+(?:view|opinion)\b|\bdo\s+you\s+think\b|\bwhat\s+do(?:es)?\s+(?:we|it|that|this)\s+mean\b"
    r"|\bstatistically\b|\bmathematically\b",
    _I,
)
_NEW_DOCUMENT = re.compile(
    rf"\b(?:new|first(?:[- ]ever)?|draft|proposed|future|upcoming|planned)\s+(?:[\w&-]+\s+){{0,3}}?(?:{_DOC_NOUNS})\b", _I)
_DESIGN = re.compile(
    r"\b(?:reasonable|good|standard|typical|best|sensible|clear)\s+(?:format|structure|template|layout|outline)\b|\bwhat\s+sections\b"
    r"|\bshould\s+(?:[\w&'-]+\s+){0,6}?(?:have|contain|include|cover|look\s+like)\b|\b(?:outline|template|structure|skeleton)\s+for\b",
    _I,
)
_PERIOD = re.compile(
    r"\b(?:Q[1-4]|H[12]|FY\d{2,4}|(?:last|this|previous|past)\s+(?:\w+\s+)?(?:quarters?|months?|years?|weeks?|autumn|fall|spring|"
    r"summer|winter)|year[- ]end|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"yesterday(?:'s)?|as\s+(?:of|at)\s+(?:yesterday|today|last|close|cob|end))\b",
    _I,
)
_LOOKUP = re.compile(
    r"^(?:what|what'?s|wh?ats|who|which|when|where|how\s+many|how\s+much|how\s+does|how\s+did|list|give\s+me\s+the|pull|show|compare|summari[sz]e|"
    r"according\s+to|explain\s+the|explain\s+(?:what|why|how)\b(?=[^?]*\bour\b)|explain\s+our|(?:explain|describe)\b(?=[^?]{0,40}?\bhow\s+we\b)|remind\s+me|tell\s+me(?!\s+(?:a|an)\s)|dig\s+out|look\s+up|find)\b",
    _I,
)
# ("company" alone or as "the company", "company policy"; "a BB-rated company" is not ours)
_OURS = re.compile(r"\b(?:our|we|(?-i:us))\b|(?<![\w-]\s)\bcompany\b|\b(?:the|this)\s+company\b", _I)
# A figure or a choice someone already wrote down: "What P90 did the business case record?",
# "Which assumptions did the treasury team document?" (a lookup, not a new computation).
_RECORDED = re.compile(
    r"\b(?:did|was|were|had)\b.*\b(?:(?:document|record|report|publish|present|approve|submit|file|note|log|agree|flag|disclose|"
    r"assign|recommend|sign|decide|conclude|identify|select|set|name|choose|pick)(?:ed|d)?|chose|found|set|put\s+down|signed\s+off)\b",
    _I,
)
# Whether a company record exists, where it is, or what was decided: "Do we have an SLA with ...?",
# "Where can I find the onboarding checklist?", "Has anyone written up ...?", "Did the committee approve ...?".
_COMPANY_RECORD = re.compile(
    r"^(?:do|does)\s+(?:we|our\s+[\w-]+(?:\s+[\w-]+)?|the\s+company)\s+(?:already\s+|currently\s+)?have\s+(?:a|an|any)\b"
    r"|^where\s+(?:can|do|would|should|could)\s+i\s+(?:find|get|locate|access|see)\s+(?:the|our)\b"
    # "here" is this company: "what's the rule here for ...", "how do I submit a claim here?", "where is it kept?"
    r"|^what(?:'s|\s+is|\s+are)\s+the\s+(?:rules?|polic(?:y|ies)|process|procedure|approach|norm)\s+here\b"
    r"|^how\s+(?:do|can|should)\s+(?:i|we)\b[^?]*\bhere\s*\??$|\bwhere\s+(?:is|are)\s+(?:it|they|that|this)\s+(?:kept|stored|saved|filed)\b"
    r"|^where\s+(?:is|are)\s+(?:the|our)\b[^?]*\b(?:kept|stored|saved|filed)\b"
    # how long we keep a record: "How long do we keep signed contracts before archiving?"
    r"|^how\s+long\s+(?:do|does|should|must|can)\s+(?:we|the\s+company|our\s+[\w-]+(?:\s+[\w-]+)?)\s+(?:(?:have\s+to|need\s+to)\s+)?"
    r"(?:keep|retain|store|hold\s+on\s+to|archive)\b"
    r"|^(?:has|have)\s+(?:anyone|anybody|someone|somebody|we|the\s+[\w-]+(?:\s+[\w-]+)?\s+team)\s+(?:already\s+|ever\s+)?"
    r"(?:written\s+up|documented|put\s+together|logged|recorded|published|circulated|filed|signed\s+off)\b"
    r"|^did\s+(?:the|our)\b[^?]*\b(?:approve|sign\s+off|agree|decide|reject|accept|ratify|endorse|renew|extend|waive)\b"
    # what a past exercise of ours covered: "did the 2024 stress test include a cyber scenario?"
    r"|^did\s+(?:the|our|we)\b[^?]*\b(?:include|cover|use|assume|apply|consider|show|find|simulate|run|model|test)\b"
    # who owns or signed off something of ours: "who owns the staging model?", "Who approved the move?"
    r"|^who\s+(?:owns|maintains|looks\s+after|is\s+(?:responsible|accountable)\s+for|is\s+(?:(?:the|our)\s+)?(?:[\w-]+\s+)?(?:owner|contact|"
    r"point\s+of\s+contact|approver|sponsor)\b|approved|approves|signed\s+off|signs\s+off|decides|decided|chairs)\b"
    # where a piece of our work stands: "Has the validation of the scorecard been completed yet?"
    r"|^(?:has|have)\s+(?:the|our)\b[^?]{1,80}?\bbeen\s+(?:completed|finished|done|approved|signed\s+off|closed|submitted|"
    r"validated|finali[sz]ed|reviewed)\b|^is\s+(?:the|our)\b[^?]{1,60}\b(?:finished|complete|completed|done|approved|signed\s+off|"
    r"closed|ready)\s+yet\b",
    _I,
)
_SOURCE_NOUNS = rf"(?:{_DOC_NOUNS}|disclosures?|logs?|manual|accounts|system|database|crm|ledger|intranet|sharepoint|portal)"
# Where a figure or a rule is kept, named as its source: "as reported in the IFRS 9 disclosure", "as per
# annual report 2025", "in the credit system", and search-box fragments naming a document with a
# qualifier: "per diem rates travel policy", "min threshold credit policy", "link to expense policy".
_SOURCE = re.compile(
    rf"\b(?:as\s+(?:per|reported|published|disclosed|stated|shown|set\s+out)(?:\s+in)?|according\s+to|per)\s+(?:the\s+|our\s+)?"
    rf"(?:[\w&/'-]+\s+){{0,4}}?{_SOURCE_NOUNS}\b"
    r"|\bour\s+(?:reported|published|disclosed)\b"
    rf"|\b(?:in|from|on)\s+(?:the|our)\s+(?:[\w&-]+\s+){{0,2}}(?:system|database|crm|ledger|intranet|sharepoint|portal|data\s+warehouse)\b"
    # a place of ours where it could not be found: "can't find it on confluence", "couldn't find it in the shared drive"
    r"|\b(?:can'?t|cannot|couldn'?t|can\s+not)\s+find\s+(?:it|this|that|them|the\s+[\w-]+|anything)\s+(?:on|in)\s+(?:the\s+)?(?:confluence|sharepoint|"
    r"intranet|wiki|jira|shared\s+drive|team\s+drive|drive|teams|portal)\b"
    # a limit or a rule set by one of our bodies or documents: "exposure limit set by the board"
    r"|\b(?:set|agreed|approved|defined|prescribed|laid\s+down)\s+(?:by|in)\s+(?:the|our)\s+(?:[\w&-]+\s+){0,2}"
    r"(?:board|committee|alco|policy|policies|framework|statement|mandate)\b",
    _I,
)
_TERSE_DOCUMENT = re.compile(
    # a past period's recorded figures, search-box style: "last quarter's numbers for churn in Iberia"
    r"^(?:last|previous)\s+(?:quarter|month|year|week)'?s?\s+(?:[\w-]+\s+)?(?:numbers|figures|results|actuals|kpis|metrics|stats)\b"
    r"|\b(?!(?:a|an|write|draft|create|sample|example|template|typical|good|standard|generic)\b)[\w&-]+\s+"
    r"(?:polic(?:y|ies)|handbook|manual|annual\s+report|runbook|playbook|guidelines|procedures?)\b",
    _I,
)
_NOT_OURS = re.compile(
    r"\b(?:write|draft|template|example|sample|best\s+practices?|tips|typical|generally|usually|good)\b"
    r"|\b(?:a|an)\s+(?:[\w-]+\s+){0,2}(?:polic(?:y|ies)|handbook|manual|runbook|playbook|guidelines|procedures?)\b",
    _I,
)
_WRITING = re.compile(
    r"^(?:write|draft|compose|translate|rewrite|proofread|summari[sz]e\s+this|suggest|create|give\s+me|turn|make\s+this|outline|"
    r"explain|how\s+do\s+i|what's\s+the\s+difference|what\s+is\s+the\s+difference|brainstorm|edit|polish|fix\s+the\s+grammar|"
    r"shorten|reword|rephrase|paraphrase|tell\s+me\s+(?:a|an)\s+(?:joke|story|poem|riddle|limerick|fun\s+fact)|any\s+tips|tips\s+(?:on|for)|(?:some\s+)?(?:ideas|suggestions)\s+(?:for|on)|"
    r"(?:any\s+)?advice\s+(?:on|for)|(?:i\s+)?(?:need|want|would\s+like|'d\s+like)\s+(?:a|an|some)\s+(?:[\w-]+\s+){0,3}?(?:email|note|message|"
    r"letter|post|memo|speech|paragraph|toast|tweet|slogan|tagline|headline|outline|agenda|invitation|cover\s+letter)s?)\b",
    _I,
)


@dataclass(frozen=True)
class RouteRules:
    """The rules' route, raw confidence, reason and ``kind`` (which rule decided: the calibration bin)."""

    route: str
    confidence: float
    reason: str
    kind: str = "no_rule"

    @property
    def certain(self) -> bool:
        """A rule matched; ``no_rule`` (``llm`` by default) and an empty query are no opinion."""
        return self.kind not in ("no_rule", "empty")


def route_with_rules(query: str) -> RouteRules:
    """Route a cleaned query by the labelling rules' precedence: risk, then rag, then llm.

    In order: a request for code, arithmetic on given figures or a how-to in a tool (``llm``: what it
    would compute is not computed); a compute verb on a risk term or a condition, or a stress test
    asked for by name (``risk``); content supplied in the query (``llm``); a general definition or
    comparison, not about our figures (``llm``); a risk question about what may still happen
    (``risk``; before a document it names when it looks ahead, opens on the probability or states an
    assumption); a company document (``rag``); a quantified what-if (``risk``); a company fact, record,
    owner, status or decision (``rag``); writing (``llm``); a document or system named as the source,
    or a search-box fragment naming one of our documents (``rag``).
    A greeting or polite wrapper in front is skipped, and a question after a sentence of context is
    read on its own. Nothing matched: no opinion (the model decides).

    Guards (blind round 3) keep a rule from being sure where the cue sits in the wrong clause or
    frame: a record, status or past question after a context sentence reads the risk rules on the
    question alone; a clause about our own plans, a general method or practice question, a question
    about a person or a date, a message asking someone else to run it and a noun ("our last run")
    are not computation requests; probabilities want a subject of ours or of business; a typical
    subject, a whole class, a regulation's rule or a public body's document is not ours. Where both
    readings stay open (a document with a quantified what-if, writing that needs our facts, figures
    supplied in the query, a definition that names one of our processes) the rules give no opinion.

    Round 4 (blind batch G): greetings and sign-offs in other languages and "can someone / anyone know"
    are read past, and a wh-question after a colon is the question; an indirect past question ("X to
    confirm what ... were used"), a standing practice of ours ("what PD do we assign"), a figure of a
    day gone by, a stress test's inputs or one "we documented", a compute verb on no quantity
    ("generate a name", "run me through"), what others do ("when banks run ...") and a counterfactual
    about history are not computation requests; a tail measure naming a thing ("the 99% VaR limit")
    is not a risk question; a company cue only in the context sentence does not make a company fact.
    No opinion where both readings stay open: a textbook exercise, a document still to be written,
    writing on our decisions, processes, bodies or periods, a setting of ours in general words.
    """
    if not query:
        return RouteRules("llm", 0.5, "empty query", "empty")
    query = query.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    lead = _lead(query)
    sentences = [part for part in _SENTENCE_BREAK.split(query) if part]
    last = _lead(sentences[-1]) if len(sentences) > 1 else lead
    # The sentence that asks (the last one with a question mark, else the last one), read on its own:
    # a sentence of context in front ("Looking back, Q3 was fine.", "we're planning to stress the
    # book next month.") says nothing about the tense or the route of the question.
    question = lead
    if len(sentences) > 1:
        asked = [part for part in sentences if "?" in part]
        question = _lead(_LABEL.sub("", asked[-1] if asked else sentences[-1]))
    # a question after a colon: "the auditors want our write-down rule: what percentage do we write off ...?"
    after_colon = re.search(r":\s+((?:what|which|how|who|when|where)\b[^:]*\?)\s*$", question, _I)
    if after_colon:
        question = after_colon.group(1)
    past = bool(_PAST.search(question) or (_LAST_PERIOD.search(question) and not _FUTURE.search(question)))
    # A question about a record, a status or the past after a sentence of context: the risk words of
    # the context (a stress test planned next month) are not what is asked, so the risk rules read
    # the question alone.
    recorded = question is not lead and bool(_PAST.search(question) or _COMPANY_RECORD.search(question) or _RECORDED.search(question))
    scope = question if recorded else query
    scope_lead = question if recorded else lead
    if _CODE.search(lead) or _CODE_NOUN.search(lead) or _CODE_FIX.search(lead):
        return RouteRules("llm", 0.9, "asks for code", "code")
    if _ARITHMETIC.search(lead):
        return RouteRules("llm", 0.9, "arithmetic on figures given in the query", "arithmetic")
    if _TOOL.search(query) and _HOW_TO.search(query) and not _OURS.search(query):
        return RouteRules("llm", 0.9, "how to do something in a tool or a language", "how_to")
    if _EDIT_LABEL.search(lead):
        return RouteRules("llm", 0.9, "the content to work on is in the query", "content_given")
    # A compute word in a question about what was done, in a general how-to or definition, or in a
    # message asking someone else to run it, is not a request for a computation.
    general = (_QUESTION_FORM.search(scope_lead) or _GENERAL.search(scope_lead)) and not _OURS.search(scope) and (
        _GENERIC.search(scope) or _METHOD.search(scope) or (_GENERAL.search(scope_lead) and not _DOC_REFERENCE.search(scope)
                                                              and not _PERIOD.search(scope)))
    # (nor in a question about a person or a date: "Who will run the stress test next year?")
    embedded = _EMBEDDED_QUESTION.search(question)
    indirect_past = bool(embedded and _PAST_QUESTION.search(embedded.group(1)) and not _COUNTERFACTUAL.search(embedded.group(1)))
    not_a_request = bool(_PAST_QUESTION.search(question) or _COMPANY_RECORD.search(question) or general or _ASKS_SOMEONE.search(lead)
                         or indirect_past
                         or re.match(r"who\b|when\s+(?:is|are|was|were|did|does|do|should|will\s+the)\b", question, _I)
                         or _PRACTICE_QUESTION.search(question))
    if not _OURS.search(query) and ((_SUPPLIED_NUMBERS.search(query) and _COMPUTE.search(lead) and _RISK_TERM.search(query)) or (
            (_SUPPLIED_NUMBERS.search(query) or _TEXTBOOK.search(lead)) and not _WRITING.search(lead) and not _CONTENT_GIVEN.search(query)
            and (_RISK_TERM.search(query) or _RISK_QUANTITY.search(query) or _QUANTIFIED_MOVE.search(query)))):
        # (or a textbook exercise, or a question on figures listed in it: "Daily returns were -1.2%, 0.4%, -2.1%, 0.9%.
        # What's the 80% historical VaR?")
        # a risk measure computed on figures the user supplies: a writing model can do it, the risk
        # engine could too; the model decides
        return RouteRules("llm", 0.0, "a computation on figures given in the query", "no_rule")
    # An editing or writing request on content given after a colon or a quote: the compute words are
    # in the content ("Turn these notes into an email: stress test done, next run in May").
    head = re.split(r"[:'\"]", lead, maxsplit=1)[0]
    if _CONTENT_GIVEN.search(query) and not (_COMPUTE.search(head) or _COMPUTE_LEAD.search(head) or _RISK_REQUEST.search(head)):
        return RouteRules("llm", 0.9, "the content to work on is in the query", "content_given")
    # A clause about our own plans ("we'll run scenarios on it later", "Before we run the stress test,")
    # is context: the compute words in it are not asked of the router.
    asked = _NON_QUANTITY_OBJECT.sub(" ", _OUR_PLAN.sub(" ", scope))
    framed = re.sub(r"^(?:using|based\s+on|starting\s+(?:from|with)|taking|on\s+the\s+basis\s+of|with)\b[^,]{1,80},\s+", "", scope_lead,
                    flags=_I)
    if not not_a_request and (_RISK_REQUEST.search(scope_lead) or ((_COMPUTE.search(asked) or _COMPUTE_LEAD.search(scope_lead)
                                                                    or _COMPUTE_LEAD.search(framed)) and (
            _RISK_TERM.search(asked) or _CONDITION.search(asked) or _IMPACT.search(asked) or _QUANTIFIED_MOVE.search(asked)))):
        return RouteRules("risk", 0.95, "asks for a new risk computation", "risk_computation")
    if (_CONTENT_GIVEN.search(query) or _EDIT_QUOTED.search(lead) or _EDIT_COLON.search(lead)
            or (_QUOTED_PASSAGE.search(query) and _ABOUT_PASSAGE.search(query))):
        return RouteRules("llm", 0.9, "the content to work on is in the query", "content_given")
    # A document named in a sentence of context before a what-if ("we might lose the X contract. what's
    # the hit to EBITDA if it goes?") is its subject, not the source of the answer.
    hypothetical_question = question is not lead and bool(_HYPOTHESIS.search(question) and _IMPACT_QUESTION.search(question))
    # ("Simulate a coin toss 10 times and show me the results": the results of what is asked, not a document)
    document = bool(_DOC_REFERENCE.search(re.sub(r"\band\s+(?:show|give|send|tell)\s+(?:me|us)\s+the\s+results\b", " ",
                                                 question if hypothetical_question else query, flags=_I)))
    # ("Before we run the simulation, explain what a copula is": the definition follows a clause of plans)
    unplanned = _lead(_OUR_PLAN.sub(" ", lead).lstrip(" ,;-"))
    # a source of ours named for the answer: "according to the credit file", "per the market risk framework"
    sourced = bool(re.search(r"\b(?:according\s+to|as\s+per|per|as\s+(?:shown|reported|stated|defined)\s+in)\s+(?:the|our)\s+", query, _I)
                   and not (_EXTERNAL.search(query) and not _STRICT_OURS.search(query)))
    if sourced and (_GENERAL.search(lead) or _GENERAL.search(unplanned)) and not _OURS.search(query):
        # "what's a material limit breach, per the market risk framework?": a definition of ours, or a textbook's
        return RouteRules("llm", 0.0, "a definition with a source named", "no_rule")
    if (_GENERAL.search(lead) or _GENERAL.search(unplanned)) and not document and not _OURS.search(_OUR_PLAN.sub(" ", query)) and not _PERIOD.search(query):
        if _OUR_PROCESS.search(lead):
            return RouteRules("llm", 0.0, "a definition that names one of our processes", "no_rule")
        return RouteRules("llm", 0.9, "a general definition or comparison", "definition")
    if question is not lead and document and not _DOC_REFERENCE.search(question):
        # a document named only in a sentence of context: a general definition asked after it is
        # still general ("I read the board pack last night. What does convexity mean?"); writing asked
        # after it may or may not draw on the document: no opinion
        if _GENERAL.search(question) and not _OURS.search(question) and not _PERIOD.search(question) and not _OUR_PROCESS.search(question):
            return RouteRules("llm", 0.9, "a general definition or comparison", "definition")
        if _WRITING.search(question) and not re.search(r"\b(?:it|its|this|that|these|those|them)\b", question, _I):
            return RouteRules("llm", 0.0, "writing asked after a document named in the context", "no_rule")
    open_question = not past and not _STANDING.search(question) and not _DEFINITION.search(lead) and not _GENERIC.search(query) and not (
        _METHOD.search(lead) and not _STRICT_OURS.search(query))
    # The probability rules read risk words that name a thing ("the VaR limits") as neutral, want a
    # subject of ours or of business, and do not read a question about a record or the past.
    cue = _NAMED_THING.sub("item", scope)
    # ("Could you tell me ...", "Would you mind ...": a polite modal is not a look ahead)
    ahead_cue = re.sub(r"\b(?:could|would|will|can|might)\s+(?:you|u)\b(?:\s+mind)?", " ", cue, flags=_I)
    probability = bool((_RISK_QUANTITY.search(cue) and (_AHEAD.search(ahead_cue) or _ASK_FOR.search(scope_lead)))
                       or _PROBABILITY_LEAD.search(scope_lead)) and bool(
        _RISK_SUBJECT.search(cue) and not (_GENERAL_SUBJECT.search(cue) and not re.search(r"\b(?:our|we|(?-i:us))\b", cue, _I))
        and not _PAST_QUESTION.search(question) and not _COMPANY_RECORD.search(question)
        # a figure someone already set: "the probability of default we assigned to Acme"
        and not re.search(r"\b(?:we|they|you|risk|finance|the\s+[\w-]+\s+team)\s+(?:assigned|used|set|reported|applied|assumed|recorded|"
                          r"documented|agreed|approved|gave|estimated|calculated|computed|signed\s+off)\b", question, _I))
    # about a typical or a whole class of subject, not ours ("How bad could a recession get for banks?")
    generic_subject = bool((_GENERAL_SUBJECT.search(scope) or _INDEFINITE_SUBJECT.search(scope)) and not _STRICT_OURS.search(scope))
    risk_question = open_question and not generic_subject and bool(
        _FORWARD_QUANTITY.search(scope) or _RISK_FIGURE.search(cue) or probability
        or _TERSE_TAIL.search(scope) or _UNCERTAINTY_BAND.search(scope) or _FREQUENCY_OR_NEED.search(scope) or _SIM_SETUP.search(scope))
    if risk_question and any(re.match(r"(?:write|draft|compose|rewrite|create|explain|brainstorm|outline|prepare|suggest|come\s+up\s+with|"
                                      r"design|describe)\b", part, _I) for part in (lead, question)) and not (
            _STRICT_OURS.search(query)):
        # "Write a paragraph explaining why VaR 99 10d is used": the risk words are the topic
        return RouteRules("llm", 0.0, "writing about a risk measure", "no_rule")
    # A document named in a question about what may still happen ("the probability we miss the
    # budget next year") is its subject, not its source.
    # a figure of ours with its source named ("How exposed are we to Acme according to the credit file?") is looked up
    if sourced and risk_question and not _FUTURE_WORDS.search(query) and not _HYPOTHESIS.search(query):
        return RouteRules("rag", 0.85, "names a company document or system as the source", "company_source")
    if risk_question and (not document or _FUTURE.search(query) or _PROBABILITY_LEAD.search(lead) or _HYPOTHESIS.search(query)):
        return RouteRules("risk", 0.85, "asks a risk question about what may happen", "risk_question")
    # ("If sales rise 10%, write a note to the team" is writing)
    # ("Could stress testing have prevented the 2008 crisis?": a counterfactual about history in general)
    what_if = open_question and not generic_subject and not _WRITING.search(lead) and not (
        re.search(r"\b(?:could|would|might)\s+(?:[\w-]+\s+){0,4}?have\s+\w+", query, _I) and not _OURS.search(query)) and not re.search(
        r",\s*(?:please\s+|pls\s+)?(?:write|draft|compose|create|send)\b", query, _I) and bool(
            _QUANTIFIED_MOVE.search(query) or (_SIGNED_SHOCK.search(query) and _IMPACT_WORD.search(query))
            or (_OURS.search(query) and _HYPOTHESIS.search(query) and _IMPACT_QUESTION.search(query) and re.search(r"\d", query))
            or (_OURS.search(query) and _SCENARIO_FRAME.search(query) and (_IMPACT_QUESTION.search(query) or _IMPACT_WORD.search(query))))
    if document and what_if and (_HYPOTHESIS.search(query) or _FUTURE_WORDS.search(query)):
        # "Using the assumptions in our ICAAP, what would a 40% crash do to capital?": the document may
        # hold the answer or be the input of a new computation; the model decides
        return RouteRules("llm", 0.0, "a document and a quantified what-if", "no_rule")
    external = bool(_EXTERNAL.search(query) and not _STRICT_OURS.search(query))
    if document and (_HYPOTHESIS.search(query) and _IMPACT_QUESTION.search(query) and (
            _FUTURE_WORDS.search(query) or re.search(rf"\bif\b[^.?!]*\b(?:{_DOC_NOUNS})\b", query, _I))):
        # "How would the budget hold up if sales came in 15% below plan?": the document is the subject of a hypothetical
        # ("how bad does headroom get if we lose the X contract": the document is inside the hypothesis)
        return RouteRules("llm", 0.0, "a document as the subject of a hypothetical", "no_rule")
    if document and (_WRITING.search(lead) or re.match(
            r"(?:any|some)\s+(?:tips|advice|ideas|suggestions)\b|how\s+(?:can|could|do|should)\s+(?:i|we)\s+(?:make|improve)\b", lead, _I)) and re.search(
            r"\b(?:tips|advice|ideas|suggestions|improve|more\s+(?:readable|concise|engaging|persuasive|professional)|"
            r"better)\b", query, _I):
        # "Give me tips to make our quarterly report more readable": the document is the subject of advice
        return RouteRules("llm", 0.0, "advice about a document of ours", "no_rule")
    if document and _NEW_DOCUMENT.search(query) and (_WRITING.search(lead) or _DESIGN.search(query)):
        # "Give me an outline for our first ever stress testing policy", "What sections should our new model risk
        # policy have?": the document is still to be written; the model decides
        return RouteRules("llm", 0.0, "a document still to be written or designed", "no_rule")
    if document and _DESIGN.search(query) and re.search(rf"\b(?:{_DOC_NOUNS})\s+(?:of|for)\s+(?:a|an)\b", query, _I):
        # "What's a reasonable format for the minutes of a risk committee?": a document of any committee
        return RouteRules("llm", 0.0, "the design of a kind of document", "no_rule")
    if document and not external:
        return RouteRules("rag", 0.9, "refers to a company document or result", "document")
    if risk_question:
        return RouteRules("risk", 0.85, "asks a risk question about what may happen", "risk_question")
    if what_if:
        return RouteRules("risk", 0.85, "asks what a quantified move would do", "what_if")
    if question is not lead and (_GENERAL.search(question) or re.match(r"what\s+(?:is|are|does)\s+(?:it|that|this|they)\b", question, _I)
                                 ) and not _STRICT_OURS.search(question) and not _PERIOD.search(question):
        # "Our regulator expects reverse stress testing. What is it exactly?": a definition asked after
        # a sentence about us; the model decides
        return RouteRules("llm", 0.0, "a definition asked after a sentence about us", "no_rule")
    hypothetical = bool(_HYPOTHESIS.search(query) and (_FUTURE_WORDS.search(query) or _IMPACT_QUESTION.search(query))) or bool(
        _SCENARIO_FRAME.search(query) and not past)
    if not hypothetical and any(_LOOKUP.search(part) for part in (lead, last, question)) and (
            _PERIOD.search(query) or _OURS.search(query) or _RECORDED.search(query)) and not _SUPPLIED_NUMBERS.search(query) and not external:
        # (not when the figures are given: "Our 5 worst days were -3.1, -2.8, -2.5, -2.2. What's the average?")
        if question is not lead and not (_PERIOD.search(question) or _OURS.search(question) or _RECORDED.search(question) or re.search(
                r"\b(?:the|its|their|it|they|them|that|this|those|these)\b", question, _I)):
            # "Our CRO loves Monte Carlo. What's a good gift for him?": the only sign of a fact of ours is in the
            # sentence of context, and the question asks about nothing in it; the model decides
            return RouteRules("llm", 0.0, "a question whose only company cue is in the context sentence", "no_rule")
        unquoted = re.sub(r"\"[^\"]*\"|(?<!\w)'[^']{3,}'(?!\w)", " ", query)
        if _OPINION.search(query) or not (_PERIOD.search(unquoted) or _OURS.search(unquoted) or _RECORDED.search(unquoted)):
            # "What should we call our new newsletter?", "Who said 'in the long run we are all dead'?": a choice, an
            # opinion or a meaning asked, or "we" only inside a quote; the model decides
            return RouteRules("llm", 0.0, "an opinion, a choice or a quote, not a fact of ours", "no_rule")
        return RouteRules("rag", 0.85, "asks for a company fact", "company_fact")
    if any(_COMPANY_RECORD.search(part) for part in (lead, question)) or (indirect_past and not external):
        return RouteRules("rag", 0.85, "asks whether or where a company record exists, or what was decided", "company_record")
    if _WRITING.search(lead) or _WRITING.search(last):
        if (_WORKPLACE.search(query) and not _DOC_REFERENCE.search(query)) or _NEEDS_OUR_FACTS.search(query) or (
                # "Give me the approval thresholds for capex requests", "Explain how the bonus pool is calculated this year"
                re.match(r"(?:give\s+me|tell\s+me|explain|describe|outline)\b", lead, _I) and (
                    _OUR_PROCESS.search(query) or _PERIOD.search(query)
                    or re.search(r"\bthe\s+(?:[\w&-]+\s+){0,2}?(?:committee|board|team|department|desk|unit|alco)\b", query, _I))) or (
                # "Write me a summary of what the board decided about the dividend": the content is a decision of ours
                re.search(r"\bwhat\s+(?:the|our)\s+(?:[\w&-]+\s+){0,2}?(?:board|committee|alco|management|team|auditors?|regulator|ceo|cfo|cro)\s+"
                          r"(?:decided|agreed|approved|said|concluded|found|flagged|asked\s+for|requested)\b", query, _I)) or (
                re.match(r"give\s+me\s+(?:the|a|an|our)\b", lead, _I) and (_RISK_QUANTITY.search(query) or _RISK_TERM.search(query))
                and not re.search(r"\b(?:template|generic|example|sample|checklist|list\s+of|ideas?|questions)\b", query, _I)):
            # ("give me a stressed VaR for the rates desk": a figure to look up or to compute)
            # "How do I book a meeting room?", "give me the contact for IT support": a how-to or a
            # contact at work may be ours; the model decides
            return RouteRules("llm", 0.0, "a how-to or a contact that may be this company's", "no_rule")
        return RouteRules("llm", 0.9, "general writing or explanation", "writing")
    if not _NOT_OURS.search(query) and not external and (_SOURCE.search(query) or (len(query.split()) <= 14 and _TERSE_DOCUMENT.search(query))):
        return RouteRules("rag", 0.85, "names a company document or system as the source", "company_source")
    return RouteRules("llm", 0.0, "no rule matched", "no_rule")


def decide_route(
    rules_route: str, rules_confidence: float, rules_certain: bool, model_route: str | None, model_confidence: float | None,
    model_threshold: float, model_error: str | None = None,
) -> tuple[str, str | None]:
    """Whose route stands once the model was asked: ``("model", None)`` or ``("rules", why not the model)``.

    The model's route when it agrees with the rules, or when it is sure enough (``model_threshold``)
    and surer than the rules; when no rule matched, the default route is no opinion and a model
    route sure enough is used. A pure function of calibrated confidences, so the calibration
    replays it offline (``fitting.py``), as the parser's ``decide``.
    """
    if model_route is None or model_confidence is None:
        return "rules", model_error or "no model answer"
    if model_route == rules_route:
        return "model", None
    if model_confidence < model_threshold:
        return "rules", f"model confidence {model_confidence:.2f} below {model_threshold:.2f}"
    if rules_certain and model_confidence <= rules_confidence:
        return "rules", f"model confidence {model_confidence:.2f} not above the rules' {rules_confidence:.2f}"
    return "model", None


def _lead(text: str) -> str:
    """``text`` without a greeting or polite wrapper in front."""
    match = _OPENING.match(text)
    return text[match.end():] if match else text


class RouteResult(BaseModel):
    """One routing decision, the path that made it, its confidence and latency."""

    input: str
    route: str
    path: Literal["rules", "model", "fallback"]
    confidence: float
    """Calibrated on the train split: the probability that a route given like this is right."""
    latency_s: float
    reason: str
    rules_route: str
    rules_kind: str | None = None
    rules_certain: bool = False
    rules_confidence: float | None = None
    model_route: str | None = None
    model_confidence: float | None = None
    model_raw_confidence: float | None = None
    model_error: str | None = None


@dataclass(frozen=True)
class RouterConfig:
    mode: str = "auto"
    constrained: bool = True
    model_threshold: float = 0.5
    """The model's route is used only when its calibrated confidence reaches this (more likely right than wrong)."""
    rules_threshold: float | None = None
    """A certain rules route at least this sure (calibrated) skips the model; ``None``: the calibration file's."""
    template_path: str = DEFAULT_ROUTER_TEMPLATE
    calibration_path: str | None = DEFAULT_ROUTER_CALIBRATION
    retrieved_shots: int | None = None
    """Demonstrations retrieved per query from the train split; 0: the template's fixed ones;
    ``None`` (default, what the committed calibration was fitted with): the template's
    ``few_shot_retrieval``, else ``DEFAULT_ROUTER_SHOTS``."""

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "model_first", "model_only", "rules_only"):
            raise IntentError(f"router mode {self.mode!r} is not one of auto, model_first, model_only, rules_only")
        if self.retrieved_shots is not None and not 0 <= self.retrieved_shots <= 16:
            raise IntentError(f"router retrieved_shots must be between 0 and 16, got {self.retrieved_shots}")


class QueryRouter:
    """Routes queries; give it no client to use the rules alone."""

    def __init__(
        self, client: LLMClient | None = None, config: RouterConfig | None = None, *, model: str | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.client = client
        self.config = config or RouterConfig()
        self.model = model
        self.template: PromptTemplate = load_template(_in_repo(self.config.template_path))
        if calibration is None:
            calibration = load_calibration(_in_repo(self.config.calibration_path) if self.config.calibration_path else None)
        self.calibration = calibration
        self.rules_threshold = self.config.rules_threshold if self.config.rules_threshold is not None else calibration.rules_threshold
        self.retrieved_shots = (self.config.retrieved_shots if self.config.retrieved_shots is not None
                                else retrieval_k(self.template) or DEFAULT_ROUTER_SHOTS)
        self._retriever: ShotRetriever | None = None

    @property
    def retriever(self) -> ShotRetriever:
        """BM25 over the query_routing train split, answers in the template's JSON form."""
        if self._retriever is None:
            base = task_retriever("query_routing")
            self._retriever = ShotRetriever(base.examples, "query", lambda example: f'{{"route":"{example.expected["route"]}"}}')
        return self._retriever

    async def route(self, raw: str | bytes, *, exclude_id: str | None = None) -> RouteResult:
        started = time.perf_counter()
        query = clean_input(raw)[:MAX_INPUT_CHARS]
        rules = route_with_rules(query)
        rules_confidence = self.calibration.rules_confidence(rules.kind, rules.confidence)
        mode = self.config.mode if self.client is not None else "rules_only"
        if not query or mode == "rules_only" or (mode == "auto" and rules.certain and rules_confidence >= self.rules_threshold):
            return _route_result(query, rules.route, "rules", rules_confidence, f"rules: {rules.reason}", started, rules, rules_confidence)
        model_route, raw_confidence, error = await self._ask_model(query, exclude_id)
        confidence = None if model_route is None else round(self.calibration.model_confidence(raw_confidence), 4)
        model = {"model_route": model_route, "model_confidence": confidence, "model_raw_confidence": raw_confidence, "model_error": error}
        if mode == "model_only":
            return _route_result(query, model_route or "llm", "model", confidence or 0.0, error or "model answer", started, rules,
                                 rules_confidence, **model)
        chosen, why = decide_route(rules.route, rules_confidence, rules.certain, model_route, confidence, self.config.model_threshold,
                                   error)
        if chosen == "model":
            assert model_route is not None and confidence is not None
            agree = model_route == rules.route
            return _route_result(query, model_route, "model", max(confidence, rules_confidence) if agree else confidence,
                                 "model answer (the rules agree)" if agree else "model answer", started, rules, rules_confidence,
                                 **model)
        return _route_result(query, rules.route, "fallback", rules_confidence, f"rules: {rules.reason} (model not used: {why})",
                             started, rules, rules_confidence, **model)

    async def _ask_model(self, query: str, exclude_id: str | None = None) -> tuple[str | None, float | None, str | None]:
        assert self.client is not None
        params: dict[str, Any] = {k: v for k, v in self.template.model_defaults.items() if k in ("temperature", "max_tokens", "seed")}
        params.update(logprobs=True, top_logprobs=5)
        if self.config.constrained:
            params["grammar"] = ROUTE_GRAMMAR
        if self.model:
            params["model"] = self.model
        template = self.template
        if self.retrieved_shots:
            template = template.model_copy(update={"model_defaults": {**template.model_defaults, RETRIEVAL_KEY: self.retrieved_shots}})
            template = with_retrieved_shots(template, self.retriever, query, exclude_id=exclude_id)
        try:
            completion = await self.client.chat(render(template, query=query), **params)
        except ServerError as exc:
            return None, None, str(exc)
        match = re.search(r'"route"\s*:\s*"(rag|risk|llm)"', completion.content) or re.search(r"\b(rag|risk|llm)\b", completion.content, _I)
        if match is None:
            return None, None, f"no route in the reply: {completion.content[:80]!r}"
        route = match.group(1).lower()
        confidence = logprob_confidence(completion.content, {"route": route}, {"route": list(ROUTES)}, completion.raw)
        return route, None if confidence is None else round(confidence, 4), None


def _in_repo(relative: str) -> Path:
    path = Path(relative)
    return path if path.is_absolute() else repo_root() / path


def _route_result(
    query: str, route: str, path: Any, confidence: float, reason: str, started: float, rules: RouteRules, rules_confidence: float,
    model_route: str | None = None, model_confidence: float | None = None, model_raw_confidence: float | None = None,
    model_error: str | None = None,
) -> RouteResult:
    return RouteResult(
        input=query, route=route, path=path, confidence=round(confidence, 4), latency_s=round(time.perf_counter() - started, 6),
        reason=reason, rules_route=rules.route, rules_kind=rules.kind, rules_certain=rules.certain,
        rules_confidence=round(rules_confidence, 4), model_route=model_route, model_confidence=model_confidence,
        model_raw_confidence=model_raw_confidence, model_error=model_error,
    )

