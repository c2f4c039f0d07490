"""The rag / risk / llm router's rules on the golden set and on new wording."""

from __future__ import annotations

import pytest
from test_intents_support import GOLDEN_ROUTER, golden_records

from optimizer.intents.routing import route_with_rules
from optimizer.intents.text import clean_input

HELD_OUT = [
    ("What did our Q2 board report say about churn?", "rag"),
    ("Summarize the latest customer satisfaction survey", "rag"),
    ("How many open P1 incidents did we have in March?", "rag"),
    ("According to the expense policy, can I expense a taxi?", "rag"),
    ("Run 10,000 Monte Carlo paths for the pension fund", "risk"),
    ("Stress test the loan book under a 2008-style scenario", "risk"),
    ("Estimate 99% VaR for the commodity desk", "risk"),
    ("Simulate a supply chain disruption and draft a summary", "risk"),
    ("Write a birthday message for my manager", "llm"),
    ("Explain the difference between VaR and expected shortfall", "llm"),
    ("Translate this sentence to German: 'the report is late'", "llm"),
    ("Draft an outline for a scenario planning workshop", "llm"),
]


def test_rules_route_the_golden_set_above_target() -> None:
    records = golden_records(GOLDEN_ROUTER)
    misses = [(record["id"], record["query"]) for record in records if route_with_rules(clean_input(record["query"])).route != record["route"]]
    assert len(misses) <= len(records) * 0.05, misses


def test_rules_are_never_certain_and_wrong_on_the_golden_set() -> None:
    # A certain route skips the model in auto mode: a certain wrong answer is the costliest miss.
    wrong = [(record["id"], decided.kind) for record in golden_records(GOLDEN_ROUTER)
             if (decided := route_with_rules(clean_input(record["query"]))).certain and decided.route != record["route"]]
    assert wrong == []


@pytest.mark.parametrize("query", [
    "How bad does interest cover get if we lose the Harlow lease contract?",
    "how far does liquidity headroom fall if we lose the Okafor supply contract",
    "How much worse does our margin get if the supplier contract is cancelled?",
])
def test_a_document_inside_the_hypothesis_is_its_subject_not_a_source(query: str) -> None:
    decided = route_with_rules(clean_input(query))
    assert not (decided.certain and decided.route == "rag"), decided.reason


@pytest.mark.parametrize(("query", "route"), HELD_OUT, ids=[query[:40] for query, _ in HELD_OUT])
def test_rules_generalise_to_new_wording(query: str, route: str) -> None:
    assert route_with_rules(query).route == route


def test_precedence_risk_then_rag_then_llm() -> None:
    assert route_with_rules("Run a stress test and draft a memo about the results").route == "risk"
    assert route_with_rules("Draft a memo about the stress test results").route == "rag"
    assert route_with_rules("Draft a memo about these stress test results: CET1 falls to 11%").route == "llm"
    assert route_with_rules("What is the current VaR limit set in our risk appetite statement?").route == "rag"


def test_unsure_rules_say_so() -> None:
    guess = route_with_rules("Bananas")
    assert guess.route == "llm" and guess.confidence < 0.85 and not guess.certain
    assert route_with_rules("Run a Monte Carlo on the loan book").certain
    assert route_with_rules("").confidence < 0.85


@pytest.mark.parametrize(
    ("query", "route"),
    [("What's the P90 estimate of next year's credit losses?", "risk"),
     ("What is the likelihood of a covenant breach if rates rise 200bp?", "risk"),
     ("What's our 99% value-at-risk over a 10-day horizon?", "risk"),
     ("How likely are we to run out of cash by year-end?", "risk"),
     ("What is value at risk?", "llm"),
     ("Explain the probability of default concept", "llm"),
     ("What was the VaR reported in the Q3 risk report?", "rag"),
     ("Quantify the downside for the treasury portfolio if oil rises 40%", "risk"),
     ("Which hedge ratio did the finance team approve in 2024?", "rag"),
     ("What P50 did the feasibility study note for delivery cost?", "rag"),
     ("How would the loan book cope with a 25% fall in house prices?", "risk"),
     ("What happens to margin if freight costs double?", "risk"),
     ("What's the 1-in-50 year flood loss for the warehouses?", "risk"),
     ("Calculate payroll cost if headcount grows by 40 people", "risk"),
     ("What would a 1987-style crash do to the trading book?", "risk"),
     ("Pull the liquidity numbers from the last regulatory filing", "rag"),
     ("Explain how a 20% drop in oil prices affects airlines", "llm")],
)
def test_risk_questions_without_run_or_simulate(query: str, route: str) -> None:
    # Issue 12: P90 estimates, value-at-risk and breach likelihoods ask for a new computation even
    # without "run" or "simulate"; definitions and reported figures do not.
    assert route_with_rules(query).route == route


# Phrasing families a new user writes that the rules did not know before the blind batches (written
# for these tests, not taken from any batch): each must be routed *certain* and right.
NEW_PHRASINGS = [
    # code is writing, whatever the code would compute
    ("Write a Python function that simulates 10,000 Monte Carlo paths for a stock", "llm", "code"),
    ("hey, can you write a regex for ISO dates", "llm", "code"),
    # a greeting or a polite wrapper in front
    ("Hello! Could you please estimate our 99% VaR for the rates book?", "risk", "risk_computation"),
    ("hi, what was our headcount in Q2", "rag", "company_fact"),
    ("Help me draft a farewell note for a colleague", "llm", "writing"),
    # a tail measure at a stated confidence, in either order, or asked for by an imperative
    ("Expected shortfall at 99% for the FX desk on today's book?", "risk", "risk_question"),
    ("Show me the loss distribution for the motor claims book", "risk", "risk_question"),
    # magnitudes of what may still happen, without "run" or "simulate"
    ("How bad could our liquidity get if two big clients pay late?", "risk", "risk_question"),
    ("How exposed are we to a slowdown in Asian demand?", "risk", "risk_question"),
    ("How much could the equity book lose in a bad week?", "risk", "risk_question"),
    ("What is our worst quarter likely to look like on the credit book?", "risk", "risk_question"),
    ("whats the probabilty we overshoot the capex budget if the contractor slips", "risk", "risk_question"),
    # a past verb inside the condition does not make the question about the past
    ("What's our P90 energy cost next year if prices stay as high as they were in 2022?", "risk", "risk_question"),
    # a quantified move in any inflection, and a quantified hypothetical about our figures
    ("If the central bank cuts 50bp, how does our deposit margin move?", "risk", "what_if"),
    ("What happens to our funding cost if spreads widen another 80 bps?", "risk", "what_if"),
    ("What would happen to our EBIT if the copper price reaches $11,000?", "risk", "what_if"),
    ("Model what a three-week strike at the main plant would do to our deliveries", "risk", "risk_computation"),
    # general definitions and comparisons carrying risk words
    ("What is a credit default swap?", "llm", "definition"),
    ("can you explain what a 1-in-50-year loss means", "llm", "definition"),
    ("what does 'tail risk' mean", "llm", "definition"),
    ("diffrence between VaR and CVaR in simple terms?", "llm", "definition"),
    ("List the pros and cons of annual versus rolling budgets", "llm", "definition"),
    # the content to edit is given
    ("Fix the grammar in this: 'they was late to the meeting'", "llm", "content_given"),
    ("Could you shorten this for a slide? 'Our new supplier portal lets vendors upload invoices directly, which halves the time.'",
     "llm", "content_given"),
    # whether or where a company record exists, and what was decided
    ("Do we have a policy on bringing pets to work?", "rag", "company_record"),
    ("Do we have an agreement with the cleaning contractor about weekend cover?", "rag", "company_record"),
    ("Where can I find the expense claim form?", "rag", "company_record"),
    ("Has anyone written up the steps for rotating the API keys?", "rag", "company_record"),
    ("Did the board sign off the hiring freeze?", "rag", "company_record"),
    ("Which suppliers did procurement flag as high risk in the spring review?", "rag", "company_fact"),
    # a question or a request after a sentence of context
    ("I have a call with the auditors tomorrow. What was our DSO at the end of each of the past two quarters?", "rag", "company_fact"),
    ("The offsite got cancelled twice and people are frustrated. Can you draft a short apology to the team?", "llm", "writing"),
    # round 2: a reverse stress test, and what a named event would do to a figure of ours
    ("What would it take for the pension scheme to run out of assets?", "risk", "risk_question"),
    ("what would it take to breach our leverage floor", "risk", "risk_question"),
    ("What could a week-long outage at the data centre do to our settlement volumes?", "risk", "risk_question"),
    # a question that opens on the probability, or a stated assumption: a document it names is the subject
    ("How likely is it that the refurbishment runs over its budget by a quarter?", "risk", "risk_question"),
    ("odds we overspend the travel budget before the summer at this pace?", "risk", "risk_question"),
    ("I need the P90 of next year's claims cost assuming wage inflation stays above the plan", "risk", "risk_question"),
    # a quoted passage to explain: its risk words are content, not a request
    ('My boss wrote "the 99% VaR understates tail risk when returns are fat-tailed" - can you explain what that means?',
     "llm", "content_given"),
    # search-box tail measures: a bare confidence level or a holding period ("ES" only in capitals)
    ("VaR 95 1d fx desk", "risk", "risk_question"),
    ("99.5 ES rates book month end", "risk", "risk_question"),
    # an uncertainty band or interval around a figure still to come
    ("opex next year with a 80% band pls", "risk", "risk_question"),
    ("put a p5/p95 band on the deposit outflow projection", "risk", "risk_question"),
    ("project staff costs with a prediction interval, not just a point", "risk", "risk_question"),
    # how often a loss would come, or what a buffer would need to be
    ("how often could we see a monthly loss above the risk appetite over the next two years", "risk", "risk_question"),
    ("How much capital would we need to withstand a double default in the top names?", "risk", "risk_question"),
    # moves in words or in percentage points, and a signed shock with its impact
    ("If unemployment climbs three percentage points, how many of our card holders would miss a payment?", "risk", "what_if"),
    ("PD -20% on the SME book, effect on provisions?", "risk", "what_if"),
    # owners, statuses and a document or system named as the source
    ("Who maintains the collateral haircut tables?", "rag", "company_record"),
    ("who is the point of contact for the payroll migration", "rag", "company_record"),
    ("Have the year-end reconciliations been signed off yet?", "rag", "company_record"),
    ("headcount by region as reported in the sustainability disclosure", "rag", "company_source"),
    ("What grade does the supplier carry in the vendor database?", "rag", "company_source"),
    ("remote working allowance hr handbook", "rag", "company_source"),
    # a role in front is skipped
    ("As the new treasury analyst I'd like to know which banks we hold deposits with", "rag", "company_fact"),
    ("As the head of HR I need a short note welcoming the new graduates", "llm", "writing"),
    # arithmetic, tool how-tos, short definitions, advice, content after a colon
    ("what is 12% of 4,500", "llm", "arithmetic"),
    ("google sheets formula to sum a column if the date is in march", "llm", "how_to"),
    ("sql: how to get the top 3 rows per group", "llm", "how_to"),
    ("what does NSFR stand for", "llm", "definition"),
    ("convexity meaning?", "llm", "definition"),
    ("duration vs convexity in a nutshell", "llm", "definition"),
    ("What is a margin call, and why does it matter?", "llm", "definition"),
    ("Why do banks hold liquidity buffers?", "llm", "definition"),
    ("Any tips for a first presentation to the board?", "llm", "writing"),
    ("Tell me a story about a dragon who learns to save money", "llm", "writing"),
    ("Sort these by size: Berlin, Tokyo, Lima, Oslo", "llm", "content_given"),
    ("could u make this friendlier: your invoice is overdue, pay now", "llm", "content_given"),
    ("convert 120 bps to percent", "llm", "arithmetic"),
    ("Suggestions for a quiz night theme?", "llm", "writing"),
    # earnings/cash-flow at risk in search-box style, a range asked for, how sensitive a figure of ours is
    ("CFaR 95 next 6m", "risk", "risk_question"),
    ("give me a range for next quarter's claims, low/base/high", "risk", "risk_question"),
    ("how sensitive are our margins to a stronger dollar", "risk", "risk_question"),
    ("how long could we last on current cash if sales stopped", "risk", "risk_question"),
    # a new stress test or simulation asked for by name, or a percentile "I need"
    ("We need a reverse stress test of the capital plan", "risk", "risk_computation"),
    ("I need the P99 loss on the card book for the next 12 months", "risk", "risk_question"),
    # a limit set by one of our bodies, our reported figures, who decides
    ("the counterparty limit approved by the credit committee for hedge funds", "rag", "company_source"),
    ("our published cost/income ratio 2024 vs 2025", "rag", "company_source"),
    ("who decides on salary bands?", "rag", "company_record"),
]


@pytest.mark.parametrize(("query", "route", "kind"), NEW_PHRASINGS, ids=[query[:40] for query, _, _ in NEW_PHRASINGS])
def test_new_phrasing_families_are_routed_certain_and_right(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


@pytest.mark.parametrize(
    "query",
    [
        # general knowledge with a move but no figure of ours, or worded as what usually happens
        "What happens to bond prices if rates rise?",
        "If oil prices rise 30%, how do airlines usually respond?",
        "What's the probability of default for a BBB issuer over five years, historically?",
        # "where can I find" / "do we have" outside company records
        "Where can I find a good tutorial on Python decorators?",
        "Do we have to use the Oxford comma in client letters?",
        # a personal hypothetical is a policy question, not a what-if
        "How much can I expense for dinner if I travel for 3 days?",
        # a counterfactual about the past
        "What would our revenue be if we had kept the old office open?",
        # what an event would do to me is a policy question, not a what-if on our figures
        "What would a move to part-time do to my pension?",
        # a tail measure next to its limit is not a computation; a job question is not a reverse stress test
        "VaR limit 99 desk",
        "What would it take to become a risk manager?",
        # a document in general, not ours
        "what's a good travel policy for a startup",
        "travel policy template for a small firm",
        # how often something is scheduled, not a loss frequency
        "How often will the risk committee meet next year?",
        # a signed move with no impact asked for
        "rates +50bp",
        # sensitivity outside our figures; a simulation that is not a risk computation
        "How sensitive is a smoke detector to steam?",
        "I need a simulation game idea for a kids party",
        "how long could a person survive without water",
        # a survey question, not a probability of ours
        "how likely are you to recommend the canteen to a friend",
    ],
)
def test_near_misses_stay_no_opinion(query: str) -> None:
    # Deliberately left to the model: a certain rule here would be a guess.
    assert not route_with_rules(clean_input(query)).certain


def test_a_figure_given_in_the_query_is_not_a_computation_request() -> None:
    # "99% VaR rose ..." is content to write about, and a recorded 99% VaR is a lookup.
    given = route_with_rules("Draft a note to the board about these figures: 99% VaR fell from 5.2m to 4.1m after the hedge")
    assert (given.route, given.kind) == ("llm", "content_given")
    assert route_with_rules("What 99% VaR did we report to the regulator in June?").route == "rag"
    assert route_with_rules("What was the 95% expected shortfall in the last risk report?").route == "rag"


# Round 3 (blind batch E): the clause that carries a cue. Written for these tests, not taken from a batch.
CONTEXT_GUARDS = [
    # a question about a record or the past after a context sentence with risk words: the question decides
    ("Background: we will simulate a liquidity run next quarter. Question: what was the NSFR in the June board pack?",
     "rag", "document"),
    ("We plan to run a 200bp rate shock next month. Which discount curve did the treasury team document for it last year?",
     "rag", "company_fact"),
    ("Supervisors will ask about VaR models next week. Has the annual review of the FX VaR model been approved?",
     "rag", "company_record"),
    # a past sentence of context in front of a what-if does not make the what-if a lookup
    ("Last year went well. Now suppose gas prices double: how exposed are our utility clients?", "risk", "risk_question"),
    # a document named in the context of a what-if is its subject
    ("The hiring plan may be frozen. What is the effect on our Q3 delivery capacity if we pause 10 hires?", "risk", "what_if"),
    # an editing verb, a short instruction and a colon: the passage after it is content
    ("shorten for a slide: the stress test we ran in May showed a trough CET1 of 10.2% under the adverse case",
     "llm", "content_given"),
    ("translate into spanish: we will simulate a market crash next week and report the losses", "llm", "content_given"),
]


@pytest.mark.parametrize(("query", "route", "kind"), CONTEXT_GUARDS, ids=[query[:40] for query, _, _ in CONTEXT_GUARDS])
def test_the_question_clause_decides_not_the_context(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


def test_a_context_guard_does_not_hide_a_request_in_the_question() -> None:
    # the question itself asks for the computation: still risk
    rules = route_with_rules(clean_input("The stress test was approved in March. Can you rerun it with a 300bp shock on today's book?"))
    assert (rules.route, rules.certain) == ("risk", True)
    # a document of ours between the verb and the colon: not a passage to edit, the document is the source
    assert route_with_rules(clean_input("summarise the latest stress test report: focus on capital and liquidity")).route == "rag"


@pytest.mark.parametrize(
    "query",
    [
        # a compute word in a question about what was done
        "What did the 2025 Monte Carlo run show for the pension deficit?",
        "Which shocks did we apply in the spring rate stress?",
        "Has the year-end stress test been run yet?",
        "What assumptions went into the deposit run-off scenario last year?",
        # a general how-to or method question, no figure of ours
        "What are the steps to run a reverse stress test?",
        "How do insurers typically simulate catastrophe losses?",
        # a message asking someone else to run it, or describing who runs it
        "Draft an email asking the desk heads to run the quarterly stress test by Friday",
        "Create a workshop exercise where trainees calculate VaR for a toy portfolio",
        "Prepare talking points for the CFO on why we simulate climate risk",
        # a risk measure on figures the user supplies
        "compute the 95% VaR of these daily returns: 1%, -2%, 0.5%, -3%, 2%",
    ],
)
def test_over_confident_families_fall_back_to_no_opinion_or_the_right_route(query: str) -> None:
    # None of these asks for a new risk computation: the rules must not say "risk" with certainty.
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk")


@pytest.mark.parametrize(
    "query",
    [
        # a general definition naming one of our processes is a company fact phrased generally
        "How does the bonus scheme work?",
        # writing asked after a document named only in the context may or may not draw on it
        "Our H1 KPI report is out. Draft a LinkedIn post celebrating the team.",
    ],
)
def test_ambiguous_definitions_and_writing_after_context_are_no_opinion(query: str) -> None:
    assert not route_with_rules(clean_input(query)).certain


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        ("I need a python Monte Carlo script for pricing barrier options", "llm", "code"),
        ("sql query to list all VaR breaches per desk", "llm", "code"),
        ("Did the 2023 liquidity stress test include an intraday outflow scenario?", "rag", "company_record"),
        ("What is a 97.5% expected shortfall and how is it computed?", "llm", "definition"),
        ("I skimmed the ALCO pack this morning. Can you explain what NSFR means?", "llm", "definition"),
    ],
)
def test_round3_families_are_certain_and_right(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


def test_guards_keep_real_requests_certain() -> None:
    # the guards above must not catch a request for a computation
    for query in ("Run a reverse stress test on our capital plan and draft a memo for the board",
                  "Estimate the loss on our corporate bonds if spreads widen 100bp",
                  "Simulate 10,000 paths of our deposit outflows over the next 30 days"):
        rules = route_with_rules(clean_input(query))
        assert (rules.route, rules.certain) == ("risk", True), query


@pytest.mark.parametrize(
    "query",
    [
        # a probability word with no figure of ours or of business, or about something in general
        "Is there a chance the offsite gets moved to June?",
        "how likely is it to snow in Zurich next week",
        "What's the likelihood of default for a B-rated issuer over two years?",
        # a risk word naming a thing, not a quantity
        "Will the revised VaR limits take effect next quarter?",
        "Do we have sensitivity training for new desk heads next month?",
        # a question about a person or a date
        "Who will run the reverse stress test next spring?",
        # a noun in front, not the verb; writing after a conditional clause
        "Project plan template for a stress testing platform upgrade",
        "If bookings rise 15%, draft a short thank-you note to the sales team",
    ],
)
def test_risk_words_without_a_risk_request_are_not_certain_risk(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk")


def test_probability_of_our_outcomes_stays_risk() -> None:
    for query in ("What's the probability we breach the leverage covenant next year?",
                  "chance the reinsurance layer is exhausted in a 1-in-100 storm season?",
                  "How likely is it that the data centre migration overruns its budget?"):
        rules = route_with_rules(clean_input(query))
        assert (rules.route, rules.certain) == ("risk", True), query


def test_a_document_with_a_quantified_what_if_is_no_opinion() -> None:
    # the document may hold the answer or be the input of a new computation
    assert not route_with_rules(clean_input("Take the sales plan and tell me the EBITDA if volumes fall 15%")).certain
    # named in a clause of context before the what-if, the document is its subject: a new computation
    rules = route_with_rules(clean_input("Our budget assumes flat prices; how would our margin look if input costs rise 12%?"))
    assert (rules.route, rules.kind, rules.certain) == ("risk", "what_if", True)


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        # content given after a colon: its compute words are content
        ("Turn these bullet points into a short update: backtest done, 2 exceptions, next run in June", "llm", "content_given"),
        # "here" is this company; "explain our ..." is a company fact
        ("what are the rules here on bringing guests into the office?", "rag", "company_record"),
        ("the fire drill schedule, where is it stored?", "rag", "company_record"),
        ("Explain our approach to FX hedging for the board", "rag", "company_fact"),
    ],
)
def test_round3_company_facts_and_content(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


def test_workplace_how_tos_are_no_opinion() -> None:
    for query in ("How do I book a desk for next week?", "How can I reset my VPN token?"):
        rules = route_with_rules(clean_input(query))
        assert not rules.certain, query


def test_risk_nouns_in_front_of_a_noun_are_not_a_request() -> None:
    # "Stress test results ...", "VaR backtest exceptions ...": the results of a past exercise
    for query in ("stress test results 2024 retail book", "VaR backtest exceptions for the rates desk in May"):
        rules = route_with_rules(clean_input(query))
        assert not (rules.certain and rules.route == "risk"), query


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        # how sensitive a figure is to a quantified change, whoever owns it
        ("how sensitive is the IRR of the solar project to a 5% rise in panel costs?", "risk", "risk_question"),
        # a reverse stress test by its question
        ("what size of outflow from the top 10 depositors exhausts our liquidity buffer?", "risk", "risk_question"),
        # a tail in words, and rate sensitivities, with a compute verb
        ("Please estimate how much the FX book drops on its worst 5% of days", "risk", "risk_computation"),
        ("compute PV01 for the swaps book and flag desks above limit", "risk", "risk_computation"),
        # a past period's recorded figures, search-box style
        ("previous quarter's figures for churn in the Nordics", "rag", "company_source"),
    ],
)
def test_round3_coverage_families(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


def test_round3_coverage_near_misses() -> None:
    # the same words outside a computation stay out of "risk"
    for query in ("What is DV01?", "what size of team do we need for the migration?",
                  "How sensitive is the new smoke alarm to a 5% change in humidity, according to the vendor?"):
        rules = route_with_rules(clean_input(query))
        assert not (rules.certain and rules.route == "risk"), query


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        # a clause about our own plans is context; a dash or a semicolon ends it
        ("we're stress testing the card book on Monday - what NPL ratio did we publish for H1?", "rag", "company_fact"),
        ("Before we run the quarterly simulation, explain what a copula is", "llm", "definition"),
        # a definition frame with a figure in it
        ("What does an expected shortfall of 8m at 97.5% tell you?", "llm", "definition"),
        # code handed over to fix
        ("Could you debug this function? It should simulate GBM paths but the output is flat: def gbm(s0, mu): ...", "llm", "code"),
    ],
)
def test_round3_clauses_frames_and_code(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


def test_supplied_figures_are_not_a_company_fact_and_plans_do_not_hide_requests() -> None:
    # the figures are in the query: not a lookup of ours
    given = route_with_rules(clean_input("Our last four monthly losses were 1.2, 0.8, 2.5, 1.9 (m). What's the median?"))
    assert not (given.certain and given.route == "rag")
    # a request next to a plan is still a request
    for query in ("We'd like to run a stress test on the auto loans with a 30% used-car price drop",
                  "Ahead of the ALCO, run a reverse stress test on our funding plan"):
        rules = route_with_rules(clean_input(query))
        assert (rules.route, rules.certain) == ("risk", True), query


@pytest.mark.parametrize(
    "query",
    [
        # a typical subject, a whole class of them, or a regulation's rule: general knowledge
        "How bad could a housing crash get for UK banks?",
        "how much could an average pension fund lose in a bond sell-off?",
        "What's the VaR 99 10d capital multiplier under Basel III?",
        # writing about a risk measure
        "Write a short explainer on why banks report a 99% VaR",
    ],
)
def test_generic_subjects_and_writing_are_not_certain_risk(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk")


@pytest.mark.parametrize(
    "query",
    [
        "According to the latest OECD report, what's euro-area inflation next year?",
        "What did the ECB's public stress test results show for the largest banks?",
        "what's the Q2 GDP growth for France",
    ],
)
def test_public_documents_and_macro_figures_are_not_certain_rag(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "rag")


def test_our_figures_next_to_an_outside_body_stay_ours() -> None:
    rules = route_with_rules(clean_input("What did the ECB say about our leverage ratio in the 2025 SREP letter?"))
    assert (rules.route, rules.certain) == ("rag", True)


@pytest.mark.parametrize(
    "query",
    [
        # writing whose content needs facts of ours
        "Give me a breakdown of our branch network by region",
        "Draft a note to the desks with the new overnight limits",
        "Write up the decisions from yesterday's credit committee",
        # a workplace rule in general words
        "What are hospitality limits for supplier lunches?",
    ],
)
def test_writing_or_definitions_that_need_our_facts_are_not_certain_llm(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "llm")


def test_a_market_textbook_what_if_is_not_certain_risk() -> None:
    rules = route_with_rules(clean_input("What happens to stock prices when rates rise 2%?"))
    assert not (rules.certain and rules.route == "risk")
    # our own figure under the same move stays a what-if
    ours = route_with_rules(clean_input("What happens to our bond portfolio if yields rise 2%?"))
    assert (ours.route, ours.certain) == ("risk", True)


@pytest.mark.parametrize(
    "query",
    [
        # a question about the practice, not a request to run it
        "Are we required to backtest the VaR model every quarter?",
        "Should we simulate deposit outflows weekly or monthly?",
        # a definition asked after a sentence about us
        "Our auditors keep mentioning expected shortfall. What is it exactly?",
    ],
)
def test_practice_questions_and_definitions_after_context_are_not_certain(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not rules.certain or rules.route == "llm" and rules.kind == "definition"
    assert not (rules.certain and rules.route in ("risk", "rag"))


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        ("who is business owner of the collateral engine?", "rag", "company_record"),
        ("How did our arrears rate in Q1 compare with Q4?", "rag", "company_fact"),
    ],
)
def test_owner_without_article_and_how_did_comparisons(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


def test_a_class_qualified_to_our_book_stays_risk() -> None:
    for query in ("How many borrowers in the mortgage book would miss payments if rates rise 2%?",
                  "What's the probability that households in our card portfolio default next year?"):
        rules = route_with_rules(clean_input(query))
        assert (rules.route, rules.certain) == ("risk", True), query


@pytest.mark.parametrize(
    ("query", "route"),
    [
        # the guards are narrow: a general process, a project outcome, a "when would" risk question and a
        # short fact after a sentence of context keep their certain route
        ("How does the securitisation process work?", "llm"),
        ("What are the odds the core banking migration slips past June?", "risk"),
        ("When would our liquidity run out under a 30% deposit outflow?", "risk"),
        ("Q3 closed last week. What is the NPL ratio?", "rag"),
    ],
)
def test_round3_guards_stay_narrow(query: str, route: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.certain) == (route, True)


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        # a past event in a past period after a context sentence with risk words
        ("Supervisors will stress our book next month. Which limits did the FX desk breach in September?", "rag", "company_fact"),
        ("The regulator will run a desk review soon. Which desks exceeded their VaR limits in August?", "rag", "company_fact"),
        # how we do something is a company fact
        ("Describe for the new analysts how we run the daily P&L attribution", "rag", "company_fact"),
        # a comparison of two measures in general
        ("Is an expected shortfall at 97.5% more prudent than a VaR at 99%?", "llm", "definition"),
        # a tool how-to in R
        ("show me how to bootstrap a confidence interval in R", "llm", "how_to"),
        # a figure as of yesterday is a lookup
        ("give me the stressed VaR for the credit desk as of yesterday's close", "rag", "company_fact"),
        ("monte carlo vs historical simulation pros/cons", "llm", "definition"),
    ],
)
def test_round3_more_families(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


@pytest.mark.parametrize(
    "query",
    [
        "What's a reasonable number of scenarios for an economic capital estimate?",
        "give me a stressed VaR for the credit desk using a 2011 window",
        "Tell me what happens to our funding if the largest depositor leaves",
    ],
)
def test_round3_ambiguous_are_not_certain_wrong(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    # a general sizing question is not a computation; a figure that may be looked up or computed, and a
    # what-if without a number, are not a company fact nor a writing task
    assert not (rules.certain and rules.route in ("rag", "llm") and "using" in query)
    assert not (rules.certain and rules.route == "risk" and "reasonable" in query)
    assert not (rules.certain and rules.route == "rag" and "what happens" in query)


def test_run_as_a_noun_estimate_with_a_move_and_sufficiency_questions() -> None:
    # "our last Monte Carlo run" is the noun: not a request for a new run
    noun = route_with_rules(clean_input("Summarise the output of our last liquidity stress run for the board"))
    assert not (noun.certain and noun.route == "risk")
    # a compute word with a quantified move is a computation, whatever the verb in front
    move = route_with_rules(clean_input("Turn a 15% fall in car prices into a loss estimate for the auto lease book"))
    assert (move.route, move.kind, move.certain) == ("risk", "risk_computation", True)
    # whether a number of simulations is enough is a method question
    enough = route_with_rules(clean_input("Are 5,000 paths sufficient for a 99.5% expected shortfall?"))
    assert not (enough.certain and enough.route == "risk")
    # a request to run again is still a request
    again = route_with_rules(clean_input("Can you run the stress test on the card book again with a 20% unemployment spike?"))
    assert (again.route, again.certain) == ("risk", True)


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        # a greeting or sign-off in another language, or an open call for help, is read past
        ("Hola, what does 'VaR at 99%' mean exactly? Gracias", "llm", "definition"),
        ("Guten Morgen, kurze Frage: what does a 95% expected shortfall mean?", "llm", "definition"),
        ("Bonjour, what was our headcount in the Lyon office last year? Merci", "rag", "company_fact"),
        ("could somebody explain what a tail hedge is? it's for the onboarding pack", "llm", "definition"),
        # a question asked of someone else, indirectly, about what was done
        ("- Marco to confirm which haircut sizes were applied in the 2024 liquidity stress exercise", "rag", "company_record"),
        ("action: Jana to check what correlation was assumed in the last ICAAP run", "rag", "company_record"),
        # the simulation's settings stated in the question: a run to be done
        ("What spread of next year's claims costs do we see with 20,000 paths and a volatility of 9%?", "risk", "risk_question"),
        # a loss under a stated assumption, typed without an apostrophe
        ("whats our loss on the Acme loan if it defaults next week, assuming 35% recovery?", "risk", "what_if"),
    ],
)
def test_round4_guards_and_families(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


@pytest.mark.parametrize(
    "query",
    [
        # the inputs or assumptions of a past simulation are a record, not a request to run one
        "can I get the stress test parameters the treasury team approved in May",
        "I need the Monte Carlo inputs we used for the ICAAP",
        "get me the scenario analysis we presented to the board last quarter",
        # an indirect question about a counterfactual is not a record lookup
        "Tom to confirm what the VaR would have been had we hedged the euro exposure",
    ],
)
def test_round4_not_a_new_computation_nor_a_record(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    if "would have been" in query:
        assert not (rules.certain and rules.route == "rag")
    else:
        assert not (rules.certain and rules.route == "risk")


def test_round4_wrappers_stay_narrow() -> None:
    # "all" or "team" opening a sentence is not a greeting unless a comma or colon follows
    assert route_with_rules(clean_input("All desks: run a 200bp parallel shift on the banking book")).route == "risk"
    rules = route_with_rules(clean_input("Team, simulate a 30% drop in copper prices on our mining loans"))
    assert (rules.route, rules.certain) == ("risk", True)
    # a request for a new run by name still holds when nothing past follows it
    fresh = route_with_rules(clean_input("can I get a Monte Carlo run on the pension fund's funding ratio for next year"))
    assert (fresh.route, fresh.certain) == ("risk", True)


@pytest.mark.parametrize(
    "query",
    [
        # a risk figure that names a thing ("the 99% VaR limit") is not a tail measure to compute
        "what's the 97.5% expected shortfall limit on the credit desk",
        # a definition frame, a method or a comparison of two measures in general
        "Is a 10-day VaR at 99% equivalent to ES at 97.5%?",
        "What's the point of using 50,000 paths rather than 5,000?",
        "help me understand what a 1-in-100 year drawdown means",
        "How do you estimate a 99% VaR from a handful of simulated P&Ls?",
        # code asked for by its noun first
        "function to backtest a 99% VaR model, with docstrings",
        # a textbook exercise or figures given in the question
        "Given a volatility of 20% and a 10-day horizon, what's the 99% VaR on 5m?",
        "An option portfolio worth 2m with a delta of 0.6 and a 10% drop in the underlying loses how much?",
        "Weekly returns: 1.1%, -0.8%, -3.2%, 0.5%, 2.0%. What is the 90% VaR?",
        # a company cue only in the context sentence, a question about nothing in it
        "Our head of treasury retires next month. What's a nice farewell gift?",
    ],
)
def test_round4_risk_words_and_context_are_not_certain_wrong(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route != ("rag" if "limit" in query else "llm")), rules


def test_round4_a_named_scenario_is_a_hypothetical() -> None:
    # "in a 2008-type crash" is a hypothetical like an "if": not a company fact
    rules = route_with_rules(clean_input("What's our loss on the leveraged loan book in a 2008-type crash?"))
    assert (rules.route, rules.kind, rules.certain) == ("risk", "what_if", True)
    # the past event with a definite article stays a question about a record
    past = route_with_rules(clean_input("What was our loss on the leveraged loan book in the 2020 crash?"))
    assert (past.route, past.certain) == ("rag", True)
    # a textbook exercise is not a fact of ours
    book = route_with_rules(clean_input("A loan portfolio with 2% PD and 45% LGD has what expected loss on 100m?"))
    assert not (book.certain and book.route in ("rag", "risk"))


@pytest.mark.parametrize(
    "query",
    [
        # a compute verb whose object is no quantity
        "Generate a few title ideas for our scenario analysis workshop",
        "work out an agenda for the stress testing offsite",
        "simulate a difficult conversation with a regulator about our VaR model, you play the supervisor",
        "Can you run us through the main steps of a reverse stress test?",
    ],
)
def test_round4_a_compute_verb_on_no_quantity_is_not_a_computation(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk"), rules


def test_round4_probability_documents_and_writing_with_our_figures() -> None:
    # "what's the probability we ..." opens on the probability: the budget it names is the subject
    rules = route_with_rules(clean_input("What's the probability we overspend the IT budget before year-end?"))
    assert (rules.route, rules.kind, rules.certain) == ("risk", "risk_question", True)
    # a document of a past period named by its period ("last month's ... reports") is ours
    digest = route_with_rules(clean_input("Write a one-page digest of last week's complaints reports"))
    assert (digest.route, digest.kind, digest.certain) == ("rag", "document", True)
    # writing that carries our figures is not certain general writing
    email = route_with_rules(clean_input("Draft a note to the sales team including our H1 revenue figures"))
    assert not (email.certain and email.route == "llm")
    # "what does that do to our ..." after a condition is an impact question, not a document lookup
    hit = route_with_rules(clean_input("if the lease with Parkside is not renewed, what does that do to our 2028 costs?"))
    assert not (hit.certain and hit.route == "rag")


@pytest.mark.parametrize(
    "query",
    [
        # a setting of ours (an authority or escalation threshold) in a definition or "give me" frame
        "What are mandate limits for the EM fund?",
        "Explain the delegated authority limits for loan approvals",
        "give me the dealing authority levels for junior traders",
        # "explain how ... this year": a period makes it ours
        "Explain how the retention bonus is allocated this year",
    ],
)
def test_round4_our_settings_in_general_words_are_not_certain_writing(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "llm"), rules


@pytest.mark.parametrize(
    "query",
    [
        # a compute word in a sentence of context that is a maybe or a noun, not the request
        "We may simulate a rates shock next month. Right now, what's the duration of the banking book?",
        "btw the latest VaR backtest broke again. Anyway, can you fix the grammar in my bio?",
    ],
)
def test_round4_context_compute_words_are_not_the_request(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk"), rules


def test_round4_rerun_is_a_request() -> None:
    rules = route_with_rules(clean_input("Rerun the FX VaR backtest over the last 500 days"))
    assert (rules.route, rules.kind, rules.certain) == ("risk", "risk_computation", True)


@pytest.mark.parametrize(
    ("query", "route", "kind"),
    [
        # how long we keep a record of ours is a company rule
        ("How long do we have to keep signed loan agreements?", "rag", "company_record"),
        # a place of ours where it could not be found names the source
        ("does anyone know the cut-off for same-day SEPA payments? couldn't find it on sharepoint", "rag", "company_source"),
        # a question after a colon is what is asked
        ("Hola, the new auditor asked about our provisioning rule: what share of receivables over 90 days do we provision?",
         "rag", "company_fact"),
        # an FX move in dealer's units, or a rally, is a quantified move
        ("how much does the CHF hedge book lose if the franc rallies 4 big figures?", "risk", "what_if"),
    ],
)
def test_round4_coverage_families(query: str, route: str, kind: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.kind, rules.certain) == (route, kind, True)


def test_round4_coverage_families_stay_narrow() -> None:
    # a retention question about others in general is not ours
    general = route_with_rules(clean_input("How long do banks usually keep recorded calls?"))
    assert not (general.certain and general.route == "rag")
    # a public site where nothing was found is not a company source
    public = route_with_rules(clean_input("I can't find anything on Wikipedia about copulas, can you explain them?"))
    assert not (public.certain and public.route == "rag")
    # a past rally is a record, not a what-if
    past = route_with_rules(clean_input("How much did the book lose when the yen rallied 10 big figures last March?"))
    assert not (past.certain and past.route == "risk")
    # a definition after a colon is still a definition
    glossary = route_with_rules(clean_input("For the glossary: what is a basis point?"))
    assert not (glossary.certain and glossary.route != "llm")


@pytest.mark.parametrize(
    "query",
    [
        # a terse tail figure of a day gone by is a record, not a new computation
        "VaR 99 credit desk as of last close",
        "ES 97.5 equities 2 days ago",
        # what others do when they run one is general knowledge
        "What are the usual pitfalls when banks backtest VaR models?",
        "common mistakes when analysts simulate correlated defaults",
        # a counterfactual about history in general
        "Would regular stress tests have avoided the 2008 crisis?",
    ],
)
def test_round4_past_figures_practice_and_history_are_not_certain_risk(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk"), rules


def test_round4_forward_terse_figure_and_our_counterfactual_stay_risk() -> None:
    ahead = route_with_rules(clean_input("VaR 99 credit desk next 10d"))
    assert (ahead.route, ahead.certain) == ("risk", True)
    ours = route_with_rules(clean_input("what would our loss have been if rates had jumped 200bp last year?"))
    assert not (ours.certain and ours.route != "risk")


@pytest.mark.parametrize(
    "query",
    [
        # a document still to be written or designed is not a source
        "Draft an outline for our first-ever climate risk policy",
        "What should our new liquidity contingency playbook contain?",
        "What's a good structure for the minutes of a credit committee?",
    ],
)
def test_round4_a_document_to_be_written_is_not_a_source(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "rag"), rules


@pytest.mark.parametrize(
    "query",
    [
        # writing whose content is a decision, a record or a process of ours is not certain general writing
        "Write a short recap of what the ALCO agreed about deposit pricing",
        "Draft a reply to the regulator using our agreed hedging rationale",
        "Outline the stages of our vendor onboarding workflow",
        "Give me the members of the model risk committee",
        "explain why margins dropped in H1",
    ],
)
def test_round4_writing_on_our_facts_is_not_certain_llm(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "llm"), rules


def test_round4_a_frame_before_the_imperative() -> None:
    rules = route_with_rules(clean_input("Based on this year's plan, forecast cash burn for the next 6 quarters under a downside scenario"))
    assert (rules.route, rules.kind, rules.certain) == ("risk", "risk_computation", True)


@pytest.mark.parametrize(
    "query",
    [
        # a standing practice or setting of ours asked in the present is a fact on record
        "What default probability do we assign to CCC-rated names on the internal scale?",
        "What's our risk appetite for a 1-in-100 year operational loss?",
        "Which loss given default does the credit team use for unsecured SME loans?",
    ],
)
def test_round4_standing_practice_is_not_a_risk_question(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk"), rules


def test_round4_standing_practice_guard_keeps_forward_questions() -> None:
    ahead = route_with_rules(clean_input("What's the probability that we breach our risk appetite for credit losses next year?"))
    assert (ahead.route, ahead.certain) == ("risk", True)


def test_round4_writing_asked_after_context_sentences_is_not_a_risk_question() -> None:
    # the asked sentence is a writing request; the risk measure is its topic ("Could you" is politeness, not a forecast)
    rules = route_with_rules(clean_input(
        "Hello all. I'm running a lunch-and-learn for new graduates. Could you suggest two quick games that teach expected shortfall?"))
    assert not (rules.certain and rules.route == "risk"), rules


@pytest.mark.parametrize(
    "query",
    [
        # a polite modal ("Could you", "Would you mind") is not a look ahead, and the measure is not its own subject
        "Could you tell me what expected shortfall is, briefly?",
        "Would you mind explaining the 95% VaR concept to our interns?",
        "Could you quiz me on value at risk before my exam?",
        # the future of the measure itself, or a statistic named "odds ratio", is general
        "will expected shortfall replace VaR at every bank eventually?",
        "Could an odds ratio help in explaining churn?",
        # "fails a backtest" is a noun phrase
        "How likely is it that a sound VaR model fails a backtest just by bad luck?",
        # a figure someone already set
        "Could you tell me the default probability we assigned to Northgate Ltd?",
    ],
)
def test_round4_probability_rule_reads_no_polite_modal(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk"), rules


@pytest.mark.parametrize(
    "query",
    [
        "What will the 1-day VaR be next week if vol stays elevated?",
        "what are the odds we breach the VaR limit before year-end?",
        "Can you give me the probability of a daily loss above 5m next month?",
    ],
)
def test_round4_probability_rule_keeps_forward_questions(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert (rules.route, rules.certain) == ("risk", True), rules


@pytest.mark.parametrize(
    "query",
    [
        # "What's a ..." (no space before 's) is a definition too
        "What's a fan chart and when is it used?",
        # "US" is a country, not "us"
        "Rough chances of a US recession next year, according to analysts?",
        # a subject of no one in particular
        "How badly could a poorly calibrated VaR model mislead a board? Give examples",
        "How often should a 97.5% VaR be breached over 500 trading days?",
    ],
)
def test_round4_general_subjects_are_not_risk_questions(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "risk"), rules


def test_round4_a_named_source_of_ours_is_a_lookup() -> None:
    rules = route_with_rules(clean_input("How exposed are we to Borealis Shipping according to the credit file?"))
    assert (rules.route, rules.certain) == ("rag", True)
    # with a look ahead it stays a risk question
    ahead = route_with_rules(clean_input("How exposed will we be to Borealis Shipping next year according to the credit file?"))
    assert not (ahead.certain and ahead.route == "rag")
    # a definition with a source named is not certain general knowledge
    framework = route_with_rules(clean_input("what's a hard limit breach, per the treasury framework?"))
    assert not (framework.certain and framework.route == "llm")


@pytest.mark.parametrize(
    "query",
    [
        # a document of any kind, or one in a comparison, is not one of ours
        "Who normally signs the minutes of a shareholder meeting?",
        "What goes into the conclusions section of an internal audit?",
        "What's the difference between a handbook and a playbook?",
        # our document as the subject of a hypothetical or of advice
        "How would the budget cope if headcount costs came in 8% above plan next year?",
        "Any suggestions to make our monthly risk dashboard more readable?",
        "Give me tips to make our annual report more engaging",
    ],
)
def test_round4_a_document_named_is_not_always_the_source(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "rag"), rules


@pytest.mark.parametrize(
    "query",
    [
        # an opinion, a choice or a meaning asked is not a fact on record
        "What should we name our new quarterly risk podcast?",
        "What's a good theme for our department's summer party?",
        "Which of these taglines is better for us: 'Clear risk' or 'Risk, clearly'?",
        "When we call a loss 'one-in-two-hundred', what does that mean statistically?",
        # "we" only inside a quote
        'Who first said "we have nothing to fear but fear itself"?',
    ],
)
def test_round4_opinions_and_quotes_are_not_company_facts(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route == "rag"), rules


def test_round4_company_fact_still_holds_with_an_apostrophe() -> None:
    rules = route_with_rules(clean_input("What's our team's headcount at the end of last quarter?"))
    assert (rules.route, rules.certain) == ("rag", True)


@pytest.mark.parametrize(
    "query",
    [
        # a compute word that is a noun here, or a toy simulation
        "Model answers for a practice exam question on expected shortfall",
        "shock absorbers or coilovers for a track car?",
        "Simulate rolling two dice 20 times and show me the results",
    ],
)
def test_round4_compute_words_as_nouns_or_toys_are_not_risk(query: str) -> None:
    rules = route_with_rules(clean_input(query))
    assert not (rules.certain and rules.route in ("risk", "rag")), rules
