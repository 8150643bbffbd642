"""The evaluator and LEARN card rules on hand-worked cases."""

from __future__ import annotations

import os

from runner import evaluate as ev
from runner.cards import Card, CardSet, RawCard, build_cards
from runner.text import clamp, quote_ok, slice_tokens, tokens

OPTIONS = ("Shift Q8 forward by 4", "Map Y1 right by 6", "Drop MV-205 right")
CONTEXT = "Under rule R4 every Y1 is mapped right by 6. A Q8 never shifts."


def card(cid: str, quote: str, scope: str = "option", option: int | None = None) -> Card:
    return Card(cid, quote, scope, option, None, None, "test")


def cardset(*cards: Card, pro: dict[int, str] | None = None) -> CardSet:
    return CardSet(list(cards), pro or {})


CARDS = cardset(
    card("f1", "Shift Q8 forward by 4", option=0),
    card("f2", "Map Y1 right by 6", option=1),
    card("f3", "Drop MV-205 right", option=2),
    card("f9", "every Y1 is mapped right by 6", "context", 1),
    pro={0: "f1", 1: "f2", 2: "f3"},
)


def test_tokenizer_and_quote_rules() -> None:
    assert tokens("ZQ-49 shift, A1!") == ["zq", "49", "shift", "a1"]
    assert quote_ok("one two") and not quote_ok("") and not quote_ok("w " * 16)
    assert clamp("A-B " * 10) == " ".join(["a", "b"] * 7 + ["a"])
    assert slice_tokens("  Map Y1, right by 6!", 3) == ("Map Y1, right", 2, 15)


def test_coverage_is_token_overlap_with_the_gold_option() -> None:
    # gold "Map Y1 right by 6" = {map, y1, right, by, 6}; cited f9 covers y1 right by 6 -> 4/5
    cited = ev.cited_cards(CARDS.cards, ["f9"])
    assert ev.coverage_of(OPTIONS[1], cited) == 0.8
    assert ev.coverage_of(OPTIONS[1], ev.cited_cards(CARDS.cards, ["f2"])) == 1.0
    assert ev.coverage_of("", cited) == 0.0


def test_witness_uses_linked_cards_then_all_quotes() -> None:
    # f1 linked to option 0 scores 5 on option 0; f9 linked to option 1 scores 4 on option 1
    assert ev.witness_of(OPTIONS, ev.cited_cards(CARDS.cards, ["f1", "f9"])) == 0
    # unlinked context card: every option scored against all cited quotes; "right" ties 1 and 2,
    # option 1 also matches y1/by/6 -> 1
    loose = [card("c1", "every Y1 is mapped right by 6", "context")]
    assert ev.witness_of(OPTIONS, loose) == 1
    assert ev.witness_of(OPTIONS, [card("c2", "nothing here", "context")]) is None


def test_credit_check_reasons_in_order() -> None:
    ok = ev.credit_check(OPTIONS, 1, 1, CARDS, ["f2", "f9"], tau=0.4)
    assert ok == {"coverage": 1.0, "witness_pass": True, "credited": True, "reasons": []}
    wrong = ev.credit_check(OPTIONS, 1, 0, CARDS, ["f1"], tau=0.4)
    assert wrong["reasons"] == ["coverage_below_tau", "witness_mismatch"] and not wrong["credited"]
    none = ev.credit_check(OPTIONS, 1, 1, CARDS, [], tau=0.4)  # no citations: all cards count
    assert none["reasons"][0] == "no_citations" and not none["credited"]
    unlinked = ev.credit_check(OPTIONS, 1, 1, CARDS, ["f3"], tau=0.4)
    assert unlinked["reasons"] == ["no_option_quote_for_choice", "coverage_below_tau", "witness_mismatch"]
    unknown = ev.credit_check(OPTIONS, 1, 1, CARDS, ["zz"], tau=0.4)
    assert unknown["reasons"][0] == "tag_or_quote_filter"
    high_tau = ev.credit_check(OPTIONS, 1, 1, CARDS, ["f9"], tau=0.9)
    assert "coverage_below_tau" in high_tau["reasons"] and not high_tau["credited"]


def test_credit_needs_snippet_provenance_when_tools_are_on() -> None:
    snippets = ["Under rule R4 every Y1 is mapped right by 6."]
    assert ev.credit_check(OPTIONS, 1, 1, CARDS, ["f2", "f9"], 0.4, snippets)["credited"]
    only_pro = ev.credit_check(OPTIONS, 1, 1, CARDS, ["f2"], 0.4, snippets)
    assert only_pro["reasons"] == ["no_snippet_quote"]


def test_gate_checks_hard_evidence_for_the_choice_without_gold() -> None:
    assert ev.gate_reason(OPTIONS, 1, CARDS, ["f2", "f9"], 0.4) is None
    assert ev.gate_reason(OPTIONS, 1, CARDS, ["f2"], 0.4) == "no_context_quote_for_choice"
    assert ev.gate_reason(OPTIONS, 1, CARDS, ["f9"], 0.4) == "required_card_not_cited"
    assert ev.gate_reason(OPTIONS, 1, CARDS, [], 0.4) == "no_citations"
    assert ev.gate_reason(OPTIONS, 0, CARDS, ["f9"], 0.4) == "no_option_quote_for_choice"
    assert ev.gate_reason(OPTIONS, None, CARDS, ["f9"], 0.4) == "no_option_quote_for_choice"
    assert ev.gate_reason(OPTIONS, 1, CARDS, ["f2", "f9"], 0.9) == "coverage_below_tau"


def test_evidence_report_shape() -> None:
    report = ev.evidence_report(OPTIONS, 1, 1, CARDS, ["f2", "f9"], 0.4)
    assert report == {
        "post_pass": True,
        "abstain_reason": None,
        "coverage": 1.0,
        "witness_idx": 1,
        "witness_pass": True,
        "has_option_quote_chosen": True,
        "required_ok_chosen": True,
        "cited_ids": ["f2", "f9"],
        "metrics": {"num_cited_cards": 2, "coverage": 1.0, "witness_idx": 1, "witness_pass": True},
    }
    assert ev.evidence_report(OPTIONS, 1, None, CARDS, [], 0.4)["has_option_quote_chosen"] is None


def test_calibrated_score_and_citation_helpers() -> None:
    assert ev.calibrated_score(True, False, 0.6) == 1.0
    assert ev.calibrated_score(False, True, 0.6) == 0.0
    assert ev.calibrated_score(False, False, 0.6) == -1.5
    assert ev.normalise_citations(["f2", 9, {"id": "f3"}, "f2", None, True]) == ["f2", "f9", "f3"]
    assert ev.order_citations(["f9", "f3", "f2"], 1, CARDS) == ["f2", "f9", "f3"]
    witness = ev.witness_block(["f2", "f9"], 1, CARDS)
    assert witness == {
        "rule": {"card_id": "f9", "quote": "every Y1 is mapped right by 6"},
        "choice": {"card_id": "f2", "quote": "Map Y1 right by 6"},
    }


def test_learn_cards_pro_stubs_budget_and_validation() -> None:
    raw = [
        RawCard("map y1 right", "option", 1),  # canonical match -> exact option slice
        RawCard("every Y1 is mapped right by 6", "context", 1),
        RawCard("not in the text at all", "context", 0),
        RawCard("a Q8 never shifts", "context", 0),
        RawCard("Invented option text", "option", 2),  # not in the option -> PRO slice
    ]
    cards = build_cards(raw, OPTIONS, CONTEXT, budget=4)
    ids = [c.id for c in cards.cards]
    # PRO cards first in the budget (stub opt1, f1, f4), then one context card fits
    assert cards.pro_ids == {0: "opt1", 1: "f1", 2: "f4"}
    assert set(ids) == {"opt1", "f1", "f4", "f2"} and len(ids) == 4
    by_id = cards.by_id()
    assert by_id["f1"].quote == "Map Y1 right" and by_id["f4"].quote == "Drop MV-205 right"
    assert by_id["opt1"].quote == "Shift Q8 forward by 4"
    assert by_id["f2"].start == CONTEXT.index("every")
    v = cards.validation
    assert v["validator_modes"] == {"offset": 0, "canon-substring": 1, "fail": 1}
    assert "quote_not_in_context" in v["issues"] and "quote_not_in_option" in v["issues"]
    assert v["counts"] == {"option": 3, "context": 1, "other": 0}
    # order: grouped by option, context after option cards
    assert ids == ["opt1", "f1", "f2", "f4"]


def test_budget_smaller_than_options_evicts_pro_cards() -> None:
    cards = build_cards([], OPTIONS, CONTEXT, budget=2)
    assert cards.pro_ids == {0: "opt1", 1: "opt2"}
    assert "missing_option_card:2" in cards.validation["issues"]


def test_long_quotes_are_cut_to_15_tokens() -> None:
    context = " ".join(f"w{i}" for i in range(30))
    cards = build_cards([RawCard(context, "context", None)], OPTIONS, context, budget=10)
    long = next(c for c in cards.cards if c.scope == "context")
    assert len(tokens(long.quote)) == 15 and long.quote.startswith("w0 ")


def test_template_items_do_not_depend_on_the_hash_seed() -> None:
    """Entity codes were drawn into a set and shuffled in its iteration order, which follows
    PYTHONHASHSEED: the demo's items (and its numbers in the README) changed between processes."""
    import subprocess
    import sys

    code = (
        "from runner.items import TemplateTutor; t = TemplateTutor(424244); "
        "print([t.item(k) for k in range(40)])"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(outs) == 1
