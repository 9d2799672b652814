"""``explain``: every figure traced to its inputs' file:line, recomputed, and equal to the statement."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal as D
from pathlib import Path

import pytest

from generator.engine import net_wac_cap
from generator.explain import Explanation, Input, Mismatch, UnknownFigure, display, explain, figures
from generator.pipeline import Computed, run
from generator.statement import Statement

from .conftest import REFERENCE_DEAL, SYNTHETIC
from .test_errors import edit


#: Synthetic months whose story exercises a rule (see tests/test_synthetic.py).
MONTHS = {
    "2024-02": "first period: opening state in the file",
    "2024-03": "no opening state: balances carried from 2024-02",
    "2024-04": "the Net WAC cap binds",
    "2024-08": "interest short: unpaid interest carried",
    "2024-12": "losses exhaust OC and write down M-4",
    "2026-06": "stepdown: principal by class targets, OC released",
    "2027-02": "trigger event holds the OC target",
}


@pytest.fixture(scope="module")
def reference() -> Computed:
    [c] = run(REFERENCE_DEAL, "2002-05")
    return c


@pytest.fixture(scope="module")
def story() -> dict[str, Computed]:
    return {c.period.period: c for c in run(SYNTHETIC, "all")}


def before(story: dict[str, Computed], month: str) -> Statement | None:
    keys = sorted(story)
    i = keys.index(month)
    return story[keys[i - 1]].statement if i else None


def item(explanation: Explanation, symbol: str):
    for x in explanation.inputs + explanation.intermediates + (explanation.result,):
        if x.symbol == symbol:
            return x
    raise AssertionError(f"{symbol} not in the explanation of {explanation.figure}")


def cited_line(source: Input) -> str:
    file, _, line = source.where.rpartition(":")
    return Path(file).read_text().splitlines()[int(line) - 1]


def value_on_line(source: Input) -> str:
    """The YAML text of the input's key on the line it cites."""
    key = re.split(r"[.\[\]]", source.field.rstrip("]"))[-1]
    match = re.search(rf"(?<![\w-]){re.escape(key)}:\s*([^,}}\s#]+)", cited_line(source))
    assert match, f"{source.field}: key {key!r} is not on {source.where}: {cited_line(source)!r}"
    return match.group(1)


def same_value(text: str, value) -> bool:
    if isinstance(value, bool):
        return text == str(value).lower()
    if isinstance(value, dt.date):
        return text == value.isoformat()
    if isinstance(value, (D, int)):
        return D(text) == value
    return text == str(value)


def statement_figure(s: Statement, figure: str):
    """The figure as the statement holds it, looked up here independently of explain."""
    top = {"accrual_days": s.accrual_days, "net_wac_cap": s.net_wac_cap, "cash.available": s.cash["available"],
           "pool.beginning_balance": s.pool["beginning_balance"], "pool.ending_balance": s.pool["ending_balance"],
           "pool.principal_remittance": s.pool["principal_remittance"], "oc.target": s.oc["target"],
           "oc.ending": s.oc["ending"], "credit_enhancement_pct": s.performance["credit_enhancement_pct"],
           "delinquency_pct": s.performance["delinquency_pct"], "losses.cumulative_pct": s.losses["cumulative_pct"]}
    if figure in top:
        return top[figure]
    name, _, attribute = figure.partition(".")
    result = s.cls(name)
    if attribute.startswith("per_1000."):
        return result.per_1000[attribute.split(".")[1]]
    return getattr(result, attribute)


# ------------------------------------------------------------------ the reference statement


def test_class_a_interest_traces_to_index_margin_and_opening_balance(reference):
    e = explain(reference, "A.interest")
    assert e.result.value == reference.statement.cls("A").interest == D("318726.37")
    assert e.statement_field == "classes.A.interest"

    index = item(e, "index")
    assert index.field == "index.current" and index.value == D("0.0184")
    assert index.where.endswith("periods/2002-05.yaml:28")
    assert re.search(r"^\s*current:\s*0\.0184\b", cited_line(index))

    margin = item(e, "margin_base[A]")
    assert margin.field == "classes[0].margin" and margin.value == D("0.0033")
    assert margin.where.endswith("deal.yaml:54")
    assert "name: A," in cited_line(margin) and "margin: 0.0033," in cited_line(margin)

    balance = item(e, "beg[A]")
    assert isinstance(balance, Input) and balance.field == "opening.class_balances.A"
    assert re.search(r"^\s*A:\s*160231105\.07\s*$", cited_line(balance))

    # the chain: dates -> accrual days -> cap -> capped rate -> Actual/360 interest
    assert item(e, "date").value == dt.date(2002, 5, 28) and item(e, "prev_date").value == dt.date(2002, 4, 25)
    assert item(e, "days").value == 33 and item(e, "days").substituted == "2002-05-28 - 2002-04-25"
    assert item(e, "cap").value == net_wac_cap(D("0.0865983"), D("0.005"), 33) == reference.statement.net_wac_cap
    assert item(e, "optional_termination").value is False
    assert item(e, "margin[A]").substituted == "optional_termination is no: margin_base[A] = 0.0033"
    assert item(e, "rate[A]").value == D("0.0217") and item(e, "rate[A]").note == "the Net WAC cap does not bind"
    accrued = item(e, "accrued[A]")
    assert accrued.substituted == "160,231,105.07 x 0.0217 x 33 / 360"
    assert accrued.value == D("318726.37") and accrued.rounding == "rounded half-up to the cent"


def test_every_cited_line_holds_the_key_and_the_value(reference):
    checked = 0
    for figure in ("A.interest", "M-4.ending_balance", "credit_enhancement_pct", "CE.per_1000.total", "oc.target",
                   "P.interest", "delinquency_pct"):
        for source in explain(reference, figure).inputs:
            if source.note:  # a default: the file does not give the key
                assert "default" in source.note
                continue
            assert same_value(value_on_line(source), source.value), (figure, source)
            checked += 1
    assert checked > 40


def test_reference_figures_equal_the_statement(reference):
    s = reference.statement
    for figure in figures(reference):
        e = explain(reference, figure)
        assert e.statement_value == statement_figure(s, figure), figure
        assert e.result.value == e.statement_value, figure


def test_the_rendered_text_states_formula_inputs_and_result(reference):
    text = explain(reference, "A.interest").render()
    assert text.startswith("A.interest: class A interest distributed")
    assert "new-century-2002-1, period 2002-05, distribution 3 on 2002-05-28 (Tue)" in text
    assert "2002-05-25 is a Saturday, 2002-05-26 is a Sunday, 2002-05-27 is Memorial Day" in text
    assert "  interest[A] = paid_interest[A] + carry_paid[A]\n" in text
    assert "      index.current, " in text and "periods/2002-05.yaml:28\n" in text
    assert "      = 160,231,105.07 x 0.0217 x 33 / 360\n      rounded half-up to the cent\n" in text
    assert "  cap = 0.07418027272727272727272727272727273 (about 7.41803%)\n" in text
    assert text.endswith("equal to the figure on the statement: classes.A.interest = 318,726.37\n")


def test_percentages_and_per_1000_amounts_are_recomputed(reference):
    ce = explain(reference, "credit_enhancement_pct")
    assert item(ce, "mezz_end").value == D("33770000.00") and item(ce, "oc_end").value == D("3972995.74")
    assert display(ce.result.kind, ce.result.value).endswith("(about 19.23632%)")
    dq = explain(reference, "delinquency_pct")
    assert item(dq, "sixty_plus").value == D("583189.20") + D("1597528.80")
    per = explain(reference, "A.per_1000.principal")
    assert item(per, "units[A]").value == D("160901") and display("number", D("160901.000")) == "160901"
    assert display("per1000", per.result.value).endswith("(10.983810 as printed, half-up)")
    ce_rate = explain(reference, "CE.rate")
    assert item(ce_rate, "interest[CE]").value == D("925347.43")
    assert display("rate", ce_rate.result.value).endswith("(about 5.60890%)")


def test_principal_goes_down_to_the_collections(reference):
    e = explain(reference, "A.principal")
    assert e.result.value == D("1767305.99")
    parts = {s: item(e, s).value for s in ("scheduled_principal", "curtailments", "payoffs")}
    assert parts == {"scheduled_principal": D("122185.74"), "curtailments": D("18331.70"),
                     "payoffs": D("1626788.55")}
    assert item(e, "principal_remittance").value == sum(parts.values())
    assert item(e, "by_targets").value is False  # before the stepdown date: sequential
    assert item(e, "alloc[A]").formula == "min(payable, beg[A])"


def test_json_form_keeps_exact_decimals(reference):
    data = explain(reference, "A.interest").as_dict()
    text = json.dumps(data)
    assert data["result"]["value"] == "318726.37" and data["result"]["equal"] is True
    assert data["statement"]["distribution_date"] == "2002-05-28"
    [cap] = [i for i in data["intermediates"] if i["symbol"] == "cap"]
    assert cap["value"] == "0.07418027272727272727272727272727273"
    [index] = [i for i in data["inputs"] if i["symbol"] == "index"]
    assert index["value"] == "0.0184" and index["where"].endswith("2002-05.yaml:28")

    def no_floats(value) -> bool:
        if isinstance(value, dict):
            return all(no_floats(v) for v in value.values())
        if isinstance(value, list):
            return all(no_floats(v) for v in value)
        return not isinstance(value, float)

    assert no_floats(json.loads(text))


def test_an_unknown_figure_lists_what_can_be_explained(reference):
    with pytest.raises(UnknownFigure) as info:
        explain(reference, "A.intrest")
    message = str(info.value)
    assert "unknown figure 'A.intrest' (did you mean A.interest" in message
    assert "<class>.interest" in message and "<class>.per_1000.total" in message and "oc.target" in message
    assert "A, M-1, M-2, M-3, M-4, CE, P, R" in message
    assert info.value.choices == figures(reference)
    with pytest.raises(UnknownFigure, match="class P has no rate"):
        explain(reference, "P.rate")
    with pytest.raises(UnknownFigure, match="no class 'Z'"):
        explain(reference, "Z.interest")
    with pytest.raises(UnknownFigure):
        explain(reference, "a.interest")  # class names are case-sensitive


def test_a_statement_that_disagrees_with_the_recomputation_is_refused(reference):
    s = reference.statement

    def tampered(**changes) -> Computed:
        return dataclasses.replace(reference, statement=dataclasses.replace(s, **changes))

    one_cent_more = tuple(dataclasses.replace(r, interest=r.interest + D("0.01")) if r.name == "A" else r
                          for r in s.classes)
    with pytest.raises(Mismatch, match=r"interest\[A\] recomputes to 318,726.37 but the statement has 318,726.38"):
        explain(tampered(classes=one_cent_more), "A.interest")
    with pytest.raises(Mismatch, match="cap recomputes"):  # an intermediate the statement shows, checked on the way
        explain(tampered(net_wac_cap=D("0.07")), "A.interest")


def test_a_distribution_date_given_in_the_period_file(reference_deal: Path):
    edit(reference_deal / "periods" / "2002-05.yaml", "period: 2002-05\n",
         "period: 2002-05\ndistribution_date: 2002-05-29  # moved by the trustee\n")
    [c] = run(reference_deal, "2002-05")
    e = explain(c, "accrual_days")
    assert e.date_basis.startswith("distribution date given in the period file at ")
    assert e.date_basis.endswith("2002-05.yaml:10, overriding the deal's rule")
    date = item(e, "date")
    assert isinstance(date, Input) and date.field == "distribution_date" and date.value == dt.date(2002, 5, 29)
    assert e.result.value == 34


def test_figures_name_each_class_where_the_statement_has_the_figure(reference):
    names = figures(reference)
    assert {"A.rate", "A.next_rate", "A.current_interest", "CE.rate", "P.interest", "A.factor",
            "A.per_1000.total", "credit_enhancement_pct", "oc.target", "cash.available"} <= set(names)
    assert "P.rate" not in names and "CE.next_rate" not in names and "R.factor" not in names
    assert "R.per_1000.interest" not in names and "CE.current_interest" not in names
    assert len(names) == len(set(names))


# ------------------------------------------------------------------ the synthetic deal


@pytest.mark.parametrize("month", sorted(MONTHS))
def test_every_figure_explains_and_equals_the_statement(story, month):
    c = story[month]
    for figure in figures(c):
        e = explain(c, figure, before(story, month))
        assert e.result.value == statement_figure(c.statement, figure), figure
        text = e.render()
        assert text.startswith(f"{figure}: ") and f"= {display(e.result.kind, e.result.value)}\n" in text
        json.dumps(e.as_dict())


def test_synthetic_cited_lines_hold_the_key_and_the_value(story):
    checked = 0
    for month, figure in (("2024-12", "M-4.ending_balance"), ("2026-06", "M-2.principal"),
                          ("2027-02", "oc.target"), ("2024-08", "M-4.interest")):
        for source in explain(story[month], figure, before(story, month)).inputs:
            if not source.note:
                assert same_value(value_on_line(source), source.value), (month, figure, source)
                checked += 1
    assert checked > 60


def test_without_an_opening_state_balances_are_carried(story):
    e = explain(story["2024-03"], "A.interest", before(story, "2024-03"))
    beginning = item(e, "beg[A]")
    assert not isinstance(beginning, Input)
    assert beginning.formula == "carried from the 2024-02 statement's class A ending balance"
    assert beginning.value == story["2024-02"].statement.cls("A").ending_balance
    assert item(e, "prev_date").value == story["2024-02"].statement.distribution_date
    assert not [i for i in e.inputs if i.field.startswith("opening")]
    # without the previous statement at hand, explain runs the deal up to it
    assert explain(story["2024-03"], "A.interest") == e


def test_the_previous_statement_must_be_the_one_before(story):
    with pytest.raises(ValueError, match="not the one before 2024-04"):
        explain(story["2024-04"], "A.interest", story["2024-02"].statement)


def test_cap_binding_rate(story):
    e = explain(story["2024-04"], "M-4.rate", before(story, "2024-04"))
    assert e.result.value == story["2024-04"].statement.net_wac_cap == item(e, "cap").value
    assert item(e, "uncapped[M-4]").value > e.result.value
    assert e.result.note == "the Net WAC cap binds"
    carry = explain(story["2024-04"], "M-4.interest", before(story, "2024-04"))
    assert item(carry, "carry_new[M-4]").value > 0
    assert item(carry, "carry_new[M-4]").value == story["2024-04"].statement.cls("M-4").carryover_current


def test_interest_short_leaves_unpaid_interest(story):
    e = explain(story["2024-08"], "M-4.interest", before(story, "2024-08"))
    m4 = story["2024-08"].statement.cls("M-4")
    assert item(e, "paid_interest[M-4]").value < item(e, "due[M-4]").value
    assert item(e, "unpaid_mid[M-4]").value == m4.unpaid_interest_after > 0
    assert item(e, "ppis[M-4]").value > 0 and item(e, "relief[M-4]").value > 0  # shortfalls allocated pro rata


def test_losses_write_down_the_most_junior_class(story):
    e = explain(story["2024-12"], "M-4.losses", before(story, "2024-12"))
    assert item(e, "liquidated_balance").value > item(e, "liquidation_proceeds").value  # a loss in the pool
    assert item(e, "loss_shortfall").value > 0
    assert e.result.value == story["2024-12"].statement.cls("M-4").losses > 0
    m3 = explain(story["2024-12"], "M-3.losses", before(story, "2024-12"))
    assert m3.result.value == 0 and item(m3, "writedown[M-4]").value == e.result.value


def test_stepdown_sets_principal_by_class_targets(story):
    e = explain(story["2026-06"], "oc.target", before(story, "2026-06"))
    assert item(e, "stepdown").value is True and item(e, "trigger").value is False
    assert e.result.formula == "max(pool_end x oc_pct_after, oc_floor)"
    p = explain(story["2026-06"], "M-2.principal", before(story, "2026-06"))
    assert item(p, "by_targets").value is True and item(p, "release").value > 0
    assert "allowed[M-2]" in item(p, "alloc[M-2]").formula


def test_trigger_event_holds_the_previous_oc_target(story):
    e = explain(story["2027-02"], "oc.target", before(story, "2027-02"))
    assert item(e, "loss_breached").value is True and e.result.formula == "prev_oc_target"
    assert e.result.value == story["2027-01"].statement.oc["target"]


def test_fees_and_expenses_are_recomputed_not_taken_from_the_flow_of_funds(reference_deal: Path):
    edit(reference_deal / "periods" / "2002-05.yaml", "extraordinary_expenses: 0", "extraordinary_expenses: 1000.00")
    [c] = run(reference_deal, "2002-05")
    e = explain(c, "CE.interest")
    expenses = item(e, "expenses")
    assert expenses.value == D("1000.00") and value_on_line(expenses) == "1000.00"
    assert item(e, "expenses_paid").value == D("1000.00")
    # 197,974,200.81 x 0.005 / 12 = 82,489.2503... -> 82,489.25
    fee = item(e, "fee_due[Servicing]")
    assert fee.substituted == "197,974,200.81 x 0.005 / 12" and fee.value == D("82489.25")
    assert item(e, "excess_interest").formula.startswith("interest_remittance - expenses_paid - fee[Servicing] - ")
    assert not [f for f in e.flow_of_funds if f.section == "interest" and f.payee in ("Trust", "Servicer")]
    assert e.result.value == D("925347.43") - D("1000.00")


def test_the_command_traces_class_a_interest_to_its_inputs():
    from click.testing import CliRunner

    from generator.cli import main

    deal = "inputs/new-century-2002-1"
    result = CliRunner().invoke(main, ["explain", deal, "--period", "2002-05", "A.interest"])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0] == "A.interest: class A interest distributed (the statement's interest column)"
    assert f"index.current, {deal}/periods/2002-05.yaml:28" in lines
    assert f"classes[0].margin, {deal}/deal.yaml:54" in lines
    assert f"opening.class_balances.A, {deal}/periods/2002-05.yaml:18" in lines
    assert "= 160,231,105.07 x 0.0217 x 33 / 360" in lines
    assert lines[-1] == "equal to the figure on the statement: classes.A.interest = 318,726.37"

    as_json = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "A.interest", "--format", "json"])
    doc = json.loads(as_json.output)
    assert doc["result"]["value"] == "318726.37"

    typo = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "A.intrest"])
    assert typo.exit_code == 2 and "did you mean A.interest" in typo.output
