"""``explain``: any figure traced through the figures it is computed from to its inputs' file:line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from generator.explain import Input, Mismatch, UnknownFigure, display, explain, figures
from generator.pipeline import Computed, run
from generator.publish import figures as record_figures
from generator.statement import to_plain

from .conftest import INPUTS, ROOT, REFERENCE_DEAL, SYNTHETIC
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
    return {c.period.period: c for c in run(SYNTHETIC, "2024-02..2027-02")}


def item(e, name: str):
    for x in e.inputs + e.steps:
        if x.name == name:
            return x
    raise AssertionError(f"{name} not in the explanation of {e.figure}")


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


# ------------------------------------------------------------------ the reference statement


def test_class_a_interest_traces_to_index_margin_and_opening_balance(reference):
    e = explain(reference, "A.interest")
    assert e.result.value == reference.statement.cls("A").interest == D("318726.37")

    index = item(e, "index.current")
    assert isinstance(index, Input) and index.value == D("0.0184") and index.where.endswith("periods/2002-05.yaml:28")
    assert re.search(r"^\s*current:\s*0\.0184\b", cited_line(index))
    margin = item(e, "A.coupon.margin")
    assert margin.field == "classes[0].coupon.margin" and margin.value == D("0.0033")
    assert margin.where.endswith("deal.yaml:55") and "margin: 0.0033," in cited_line(margin)
    balance = item(e, "opening.class_balances.A")
    assert re.search(r"^\s*A:\s*160231105\.07\s*$", cited_line(balance))

    # the chain: dates -> accrual days -> cap -> capped rate -> Actual/360 interest -> the flow of funds
    assert item(e, "distribution_date").value == dt.date(2002, 5, 28)
    assert item(e, "accrual_days").value == 33 and item(e, "accrual_days").substituted == "2002-05-28 - 2002-04-25"
    cap = item(e, "net_wac_cap")
    assert cap.value == reference.statement.net_wac_cap and cap.where.endswith("deal.yaml:70")
    assert cap.formula == "(wac - fees.annual_rate) * 30 / accrual_days"
    assert item(e, "A.margin").note == ("performance.optional_termination and given(A.coupon.step_up_margin) is "
                                        "false: the second choice")
    accrued = item(e, "A.accrued")
    assert accrued.formula == "cents(A.beginning_balance * A.rate * accrual_days / 360)"
    assert accrued.substituted == "cents(160,231,105.07 * 0.0217 * 33 / 360)"
    assert accrued.value == D("318726.37") and accrued.rounding.startswith("rounded half-up to the cent")
    lines = (ROOT / "generator" / "prelude.yaml").read_text().splitlines()
    entry = next(i for i, line in enumerate(lines, 1) if line == '- name: "{c}.accrued"'
                 and "actual/360" in lines[i + 1])  # the Actual/360 entry (its for: line follows)
    assert accrued.where == f"generator/prelude.yaml:{entry}"
    paid = item(e, "flow[2]")
    assert paid.formula == "min(flow[1].remaining, max(0.00, waterfall[2].A.due))"
    assert paid.substituted == "min(1,343,474.06, max(0.00, 318,726.37))" and paid.where.endswith("deal.yaml:144")


def test_every_cited_line_holds_the_key_and_the_value(reference):
    checked = 0
    for figure in ("A.interest", "M-4.ending_balance", "credit_enhancement_pct", "CE.per_1000.total", "oc.target",
                   "P.interest", "delinquency_pct"):
        for source in explain(reference, figure).inputs:
            if source.note or source.name.endswith((".payee", "[].balance", "[].proceeds")):
                continue  # a default the file leaves out, or a list
            assert same_value(value_on_line(source), source.value), (figure, source)
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("deal", sorted(p.name for p in INPUTS.iterdir() if (p / "deal.yaml").is_file()))
def test_a_payee_is_cited_where_the_deal_file_writes_it(deal):
    """A fee's payee is written under fees:, a transfer's under accounts: (its payee, label or
    name), a paid amount's at its action's to:, a class's at its entry under classes:; each line
    of the flow of funds cites that line, not the action that pays it (which may not name the
    class at all: extra principal goes to whichever class is owed it)."""
    first = sorted((INPUTS / deal / "periods").glob("*.yaml"))[0].stem
    [c] = run(INPUTS / deal, first)
    classes = {k.name for k in c.deal.classes}
    checked, paid = 0, set()
    for name in figures(c):
        if name.endswith(".payee"):
            [source] = explain(c, name).inputs
            if source.value in classes:
                paid.add(source.value)
                assert re.fullmatch(r"classes\[\d+\]\.name", source.field), (name, source)
            assert not source.field.startswith("waterfall") or source.field.endswith(".to"), (name, source)
            key = source.field.rpartition(".")[2]
            assert re.search(rf"(?<![\w-]){key}:\s*{re.escape(source.value)}\s*[,}}#\n]", cited_line(source) + "\n"), (
                name, source, cited_line(source))
            checked += 1
    assert checked >= 4 and paid


def test_every_figure_of_the_record_and_of_the_run_explains(reference):
    names = figures(reference)
    record = record_figures(to_plain(reference.statement))
    assert list(record) == names[:len(record)]  # the record's figures first, every one of them
    assert len(names) > 600 and len(set(names)) == len(names)
    for figure in names:
        e = explain(reference, figure)
        if figure in record:
            assert record[figure] == ("" if e.statement_value is None else str(json.loads(json.dumps(
                e.as_dict()["result"]["statement_value"]))))
    old = ["accrual_days", "net_wac_cap", "cash.available", "pool.beginning_balance", "pool.ending_balance",
           "pool.principal_remittance", "oc.target", "oc.ending", "credit_enhancement_pct", "delinquency_pct",
           "losses.cumulative_pct"]  # the names remit explain gave before the figures were a graph
    for figure in old:
        assert explain(reference, figure).result.value is not None


def test_the_rendered_text_states_inputs_intermediates_and_result(reference):
    text = explain(reference, "A.interest").render()
    assert text.startswith("A.interest: class A interest distributed (the statement's interest column)\n")
    assert "new-century-2002-1, period 2002-05, distribution 3 on 2002-05-28 (Tue)" in text
    assert "2002-05-25 is a Saturday, 2002-05-26 is a Sunday, 2002-05-27 is Memorial Day" in text
    assert "      index.current, " in text and "periods/2002-05.yaml:28\n" in text
    assert "      = cents(160,231,105.07 * 0.0217 * 33 / 360)\n      rounded half-up to the cent" in text
    assert "  net_wac_cap = 0.07418027272727272727272727272727273 (about 7.41803%)\n" in text
    assert text.endswith("equal to the figure on the statement: A.interest = 318,726.37\n")


def test_percentages_and_per_1000_amounts(reference):
    ce = explain(reference, "credit_enhancement_pct")
    assert item(ce, "total(mezzanine, ending_balance)").value == D("33770000.00")
    assert item(ce, "oc.ending").value == D("3972995.74")
    assert display("rate", ce.result.value).endswith("(about 19.23632%)")
    dq = explain(reference, "delinquency_pct")
    assert item(dq, "performance.sixty_plus_balance").value == D("583189.20") + D("1597528.80")
    per = explain(reference, "A.per_1000.principal")
    assert item(per, "A.per_1000_basis").value == D("160901.00")
    assert display("number", per.result.value).endswith("(10.98380986 to 8 places)")
    rate = explain(reference, "CE.rate")
    assert item(rate, "CE.interest").value == D("925347.43")
    assert rate.result.formula == "CE.interest * 12 / pool.beginning_balance"


def test_principal_goes_down_to_the_collections(reference):
    e = explain(reference, "A.principal")
    assert e.result.value == D("1767305.99")
    parts = {n: item(e, n).value for n in ("collections.scheduled_principal", "collections.curtailments",
                                           "collections.payoffs.amount")}
    assert parts == {"collections.scheduled_principal": D("122185.74"), "collections.curtailments": D("18331.70"),
                     "collections.payoffs.amount": D("1626788.55")}
    assert item(e, "pool.principal_remittance").value == sum(parts.values())
    assert item(e, "waterfall[8].when").value is False  # before the stepdown date: sequential (the else)
    assert item(e, "waterfall[8].else[0].A.allocated").formula == \
        "min(waterfall[8].else[0].payable - 0.00, A.beginning_balance)"


def test_json_form_keeps_exact_decimals(reference):
    data = explain(reference, "A.interest").as_dict()
    assert data["result"]["value"] == "318726.37" and data["result"]["equal"] is True
    assert data["statement"]["distribution_date"] == "2002-05-28"
    [cap] = [s for s in data["steps"] if s["name"] == "net_wac_cap"]
    assert cap["value"] == "0.07418027272727272727272727272727273"
    [index] = [i for i in data["inputs"] if i["name"] == "index.current"]
    assert index["value"] == "0.0184" and index["where"].endswith("2002-05.yaml:28")

    def no_floats(value) -> bool:
        if isinstance(value, dict):
            return all(no_floats(v) for v in value.values())
        if isinstance(value, list):
            return all(no_floats(v) for v in value)
        return not isinstance(value, float)

    assert no_floats(json.loads(json.dumps(data)))


def test_an_unknown_figure_suggests_close_names(reference):
    with pytest.raises(UnknownFigure) as info:
        explain(reference, "A.intrest")
    assert "unknown figure 'A.intrest' (did you mean A.interest" in str(info.value)
    assert info.value.choices == figures(reference)
    with pytest.raises(UnknownFigure) as info:  # a part of a name: the trigger's, not the delinquency table's
        explain(reference, "Delinquency")
    assert ("unknown figure 'Delinquency' (did you mean triggers.Delinquency.value or triggers.Delinquency.threshold "
            "or triggers.Delinquency.breached?)") in str(info.value)
    with pytest.raises(UnknownFigure):
        explain(reference, "Z.interest")
    with pytest.raises(UnknownFigure):
        explain(reference, "a.interest")  # class names are case-sensitive


def test_an_action_that_does_not_do_what_its_formula_says_is_refused(reference):
    values = dict(reference.run.values)
    values["flow[2]"] += D("0.01")
    tampered = dataclasses.replace(reference, run=dataclasses.replace(reference.run, values=values))
    with pytest.raises(Mismatch, match=r"flow\[2\]: its formula .* gives 318726.37, but the action paid 318726.38"):
        explain(tampered, "A.interest")


def test_a_figure_the_statement_does_not_show_is_refused(reference):
    s = reference.statement
    one_cent_more = tuple(dataclasses.replace(r, interest=r.interest + D("0.01")) if r.name == "A" else r
                          for r in s.classes)
    tampered = dataclasses.replace(reference, statement=dataclasses.replace(s, classes=one_cent_more))
    with pytest.raises(Mismatch, match="A.interest: the figure is 318726.37, but the statement's record has "
                                       "'318726.38'"):
        explain(tampered, "A.interest")


def test_a_distribution_date_given_in_the_period_file(reference_deal: Path):
    edit(reference_deal / "periods" / "2002-05.yaml", "period: 2002-05\n",
         "period: 2002-05\ndistribution_date: 2002-05-29  # moved by the trustee\n")
    [c] = run(reference_deal, "2002-05")
    e = explain(c, "accrual_days")
    assert e.date_basis.startswith("distribution date given in the period file at ")
    assert e.date_basis.endswith("2002-05.yaml:10, overriding the deal's rule")
    date = item(e, "distribution_date")
    assert isinstance(date, Input) and date.field == "distribution_date" and date.value == dt.date(2002, 5, 29)
    assert e.result.value == 34


def test_fees_and_expenses_come_from_their_formulas(reference_deal: Path):
    edit(reference_deal / "periods" / "2002-05.yaml", "extraordinary_expenses: 0", "extraordinary_expenses: 1000.00")
    [c] = run(reference_deal, "2002-05")
    e = explain(c, "CE.interest")
    expenses = item(e, "extraordinary_expenses")
    assert expenses.value == D("1000.00") and value_on_line(expenses) == "1000.00"
    assert item(e, "flow[1]").label == "Extraordinary trust fund expenses, to Trust"
    # 197,974,200.81 x 0.005 / 12 = 82,489.2503... -> 82,489.25
    fee = item(e, "fees.Servicing.current")
    assert fee.substituted == "cents(197,974,200.81 * 0.005 / 12)" and fee.value == D("82489.25")
    due = item(e, "fees.Servicing.due")  # the month's fee and none owed from before
    assert due.substituted == "82,489.25 + 0.00" and due.value == D("82489.25")
    assert e.result.value == D("925347.43") - D("1000.00")


# ------------------------------------------------------------------ the synthetic deal


def every_figure_explains(c: Computed) -> list[str]:
    """Explain every figure --list names on ``c``'s statement; each of the record's agrees with it."""
    record = record_figures(to_plain(c.statement))
    listed = figures(c)
    for figure in listed:
        e = explain(c, figure)
        text = e.render()
        assert text.startswith(f"{figure}: ") and f"= {display(e.result.type, e.result.value)}\n" in text
        assert "Decimal(" not in text and "loan=" not in text, figure  # values as a reader reads them
        as_json = json.loads(json.dumps(e.as_dict()))  # --format json: every value plain
        if figure in record:
            assert as_json["result"]["equal"], figure
    return listed


@pytest.mark.parametrize("month", ["2024-04", "2027-02"])
def test_every_figure_of_a_synthetic_month_explains(story, month):
    every_figure_explains(story[month])


def test_synthetic_cited_lines_hold_the_key_and_the_value(story):
    checked = 0
    for month, figure in (("2024-12", "M-4.ending_balance"), ("2026-06", "M-2.principal"),
                          ("2027-02", "oc.target"), ("2024-08", "M-4.interest")):
        for source in explain(story[month], figure).inputs:
            if not source.note and not source.name.endswith((".payee", "[].balance", "[].proceeds", "[].loan")):
                assert same_value(value_on_line(source), source.value), (month, figure, source)
                checked += 1
    assert checked > 60


def test_without_an_opening_state_balances_are_carried(story):
    e = explain(story["2024-03"], "A.interest")
    beginning = item(e, "A.beginning_balance")
    assert not isinstance(beginning, Input)
    assert beginning.formula == "A.ending_balance of the 2024-02 statement"
    assert beginning.value == story["2024-02"].statement.cls("A").ending_balance
    assert item(e, "previous_distribution_date").value == story["2024-02"].statement.distribution_date
    assert not [i for i in e.inputs if i.field.startswith("opening")]


def test_cap_binding_rate(story):
    e = explain(story["2024-04"], "M-4.rate")
    assert e.result.value == story["2024-04"].statement.net_wac_cap == item(e, "M-4.coupon.cap").value
    assert item(e, "M-4.uncapped_rate").value > e.result.value
    carry = explain(story["2024-04"], "M-4.interest")
    assert item(carry, "M-4.carryover_current").value > 0
    assert item(carry, "M-4.carryover_current").value == story["2024-04"].statement.cls("M-4").carryover_current


def test_interest_short_leaves_unpaid_interest(story):
    e = explain(story["2024-08"], "M-4.unpaid_interest_after")
    m4 = story["2024-08"].statement.cls("M-4")
    assert e.result.value == m4.unpaid_interest_after > 0
    assert item(e, "M-4.ppis_reduction").value > 0 and item(e, "M-4.relief_act_reduction").value > 0
    assert "the cents left over one each to the shares rounding cut most" in item(e, "M-4.ppis_reduction").rounding


def test_losses_write_down_the_most_junior_class(story):
    e = explain(story["2024-12"], "M-4.losses")
    assert item(e, "pool.liquidated_balance").value > item(e, "pool.liquidation_proceeds").value
    assert item(e, "waterfall[16].shortfall").value > 0
    assert e.result.value == story["2024-12"].statement.cls("M-4").losses > 0
    m3 = explain(story["2024-12"], "M-3.losses")
    assert m3.result.value == 0 and item(m3, "M-4.writedown_now").value == e.result.value


def test_stepdown_sets_principal_by_class_targets(story):
    e = explain(story["2026-06"], "oc.target")
    assert item(e, "performance.stepdown").value is True and item(e, "performance.trigger").value is False
    assert "max(cents(pool.ending_balance * 0.04), oc.floor)" in e.result.formula
    p = explain(story["2026-06"], "M-2.principal")
    assert item(p, "waterfall[8].when").value is True
    assert "waterfall[8].targets.M-2" in item(p, "waterfall[8].M-2.allocated").formula


def test_trigger_event_holds_the_previous_oc_target(story):
    e = explain(story["2027-02"], "oc.target")
    assert item(e, "triggers.Cumulative_losses.breached").value is True
    assert item(e, "oc.target_before").note == "carried from the 2027-01 statement"
    assert e.result.value == story["2027-01"].statement.oc["target"]


def test_the_command_traces_class_a_interest_to_its_inputs():
    from click.testing import CliRunner

    from generator.cli import main

    deal = "inputs/new-century-2002-1"
    result = CliRunner().invoke(main, ["explain", deal, "--period", "2002-05", "A.interest"])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0] == "A.interest: class A interest distributed (the statement's interest column)"
    assert f"index.current, {deal}/periods/2002-05.yaml:28" in lines
    assert f"classes[0].coupon.margin, {deal}/deal.yaml:55" in lines
    assert f"opening.class_balances.A, {deal}/periods/2002-05.yaml:18" in lines
    assert "= cents(160,231,105.07 * 0.0217 * 33 / 360)" in lines
    assert lines[-1] == "equal to the figure on the statement: A.interest = 318,726.37"

    as_json = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "A.interest", "--format", "json"])
    assert json.loads(as_json.output)["result"]["value"] == "318726.37"
    listed = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "--list"])
    assert "A.interest" in listed.output.splitlines() and len(listed.output.splitlines()) > 600
    hand_written = subprocess.run([sys.executable, "-m", "generator", "explain", deal, "-p", "2002-05", "--loans",
                                   "A.interest"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert hand_written.returncode == 0 and "was not written by remit intake: it names no loans" in hand_written.stderr
    listed_json = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "--list", "--format", "json"])
    assert json.loads(listed_json.output) == listed.output.splitlines()
    typo = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "A.intrest"])
    assert typo.exit_code == 2 and "did you mean A.interest" in typo.output
    of_a_class = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "--list", "M-1"])
    assert of_a_class.exit_code == 0 and "M-1.interest" in of_a_class.output.splitlines()
    assert {n.split(".")[0] for n in of_a_class.output.split()} == {"M-1"}
    of_none = CliRunner().invoke(main, ["explain", deal, "-p", "2002-05", "--list", "Z-9"])
    assert of_none.exit_code == 2 and "no figure's name starts with 'Z-9'" in of_none.output


def test_explain_of_a_month_not_on_file_writes_nothing_and_says_only_what_is_wrong(reference_deal):
    done = subprocess.run([sys.executable, "-m", "generator", "explain", str(reference_deal), "-p", "2003-01",
                           "A.interest"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    periods = reference_deal / "periods"
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [f"{periods}: no period file for 2003-01 (expected {periods}/2003-01.yaml; "
                                        "on file: 2002-05)", "1 error"]


# ------------------------------------------------------------------ the auto-loan deal


@pytest.mark.parametrize("month", ["2025-02", "2026-03", "2026-05"])
def test_every_figure_of_an_auto_month_explains(month):
    """Fixed coupons on their day counts, the reserve account, the pro rata interest shortfall:
    every figure traces with the explain code every deal uses."""
    [c] = run(ROOT / "inputs" / "synthetic-auto-2025-1", month)
    listed = every_figure_explains(c)
    assert {"accounts.reserve.beginning", "accounts.reserve.balance", "reserve.draw", "A-2.accrual_days",
            "determination_date"} <= set(listed)


def test_a_30_360_accrual_explains_its_30_days():
    [c] = run(ROOT / "inputs" / "synthetic-auto-2025-1", "2026-01")
    e = explain(c, "A-2.current_interest")
    accrued = item(e, "A-2.accrued")
    assert accrued.formula == "cents(A-2.beginning_balance * A-2.rate * A-2.accrual_days / 360)"
    days = item(e, "A-2.accrual_days")
    assert days.value == 30 and "30/360" in days.label
    balance = c.statement.cls("A-2").beginning_balance
    assert accrued.value == (balance * D("0.0468") * 30 / 360).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert accrued.substituted == f"cents({balance:,} * 0.0468 * 30 / 360)"


def test_an_action_reading_an_account_shows_what_it_held_then():
    """The reserve deposit reads the reserve's balance as it stood when the action ran, not after
    the whole waterfall: the values substituted into its formula give the amount it paid."""
    (c,) = run(INPUTS / "synthetic-auto-2025-1", "2026-04")
    e = explain(c, "accounts.reserve.balance")
    step = item(e, "waterfall[9].amount")
    assert step.formula == "max(0.00, accounts.reserve.target - accounts.reserve.balance)"
    assert step.substituted == "max(0.00, 4,891,598.95 - 4,727,528.77)"
    assert step.value == D("164070.18") == D("4891598.95") - D("4727528.77")
    assert step.note == "accounts.reserve.balance is what the account held when the action ran: flow[15].remaining"
    assert item(e, "flow[15].remaining").value == D("4727528.77")
    assert c.run.values["accounts.reserve.balance"] == D("4891598.95")  # after the waterfall


def test_a_deal_file_default_is_cited_as_the_default():
    """A value the deal file leaves out (a coupon's kind, a class without a CUSIP, a fixed fee's
    rate) is cited at the mapping it belongs to and said to be the default; one written is not."""
    [c] = run(INPUTS / "synthetic-two-group-2025-1", "2025-12")
    deal = INPUTS / "synthetic-two-group-2025-1" / "deal.yaml"
    for name, field, value in (("A-3.coupon.kind", "classes[3].coupon.kind", "floating"),
                               ("R.cusip", "classes[7].cusip", None),
                               ("fees.Trustee.annual_rate", "fees[2].annual_rate", D("0"))):
        e = explain(c, name)
        source = item(e, name)
        assert (source.field, source.value, source.note) == (field, value, "not in the file, so the default"), name
        assert source.where.startswith(f"{deal}:")
    written = item(explain(c, "fees.Trustee.due"), "fees.Trustee.amount")
    assert (written.field, written.note, value_on_line(written)) == ("fees[2].amount", "", "1250.00")


def test_a_statement_that_does_not_reconcile_is_explained_to_find_why(reference_deal):
    """Fees paid from the principal account leave the classes short; the extra principal that
    makes it up counts as an OC increase the pool never had, so the statement is refused.
    explain still walks its figures (that is how the author finds it), says that it does not
    reconcile, and exits 1; check refuses it as before."""
    edit(reference_deal / "deal.yaml", "  - {pay: fees, from: interest}\n",
         "  - pay: fees\n    from: interest\n    when: distribution_number > 1000\n    else:\n"
         "      - {pay: fees, from: principal}\n")
    told = ("2002-05: does not reconcile: OC end = OC beginning + increase - reduction - losses not written down: "
            "3,972,995.74 != 4,055,484.99 (off by 82,489.25)")
    done = subprocess.run([sys.executable, "-m", "generator", "explain", str(reference_deal), "-p", "2002-05",
                           "oc.increase"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "  oc.increase = 82,489.25\n      OC increase: the extra principal paid" in done.stdout
    assert "  flow[1] = 82,489.25\n      Servicing fee paid\n      = min(accounts.principal.deposit" in done.stdout
    assert done.stderr.splitlines() == [told, "(explained all the same, to find why: remit render and remit check "
                                              "refuse it)"]
    as_json = subprocess.run([sys.executable, "-m", "generator", "explain", str(reference_deal), "-p", "2002-05",
                              "oc.increase", "--format", "json", "--errors", "json"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["result"]["value"] == "82489.25"
    assert json.loads(as_json.stderr) == {"errors": [{"file": "2002-05", "line": 0, "field": "",
                                                      "message": told.removeprefix("2002-05: does not reconcile: ")}]}
    listed = subprocess.run([sys.executable, "-m", "generator", "explain", str(reference_deal), "-p", "2002-05",
                             "--list"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 1 and "oc.increase" in listed.stdout.split() and told in listed.stderr
    checked = subprocess.run([sys.executable, "-m", "generator", "check", str(reference_deal), "-p", "2002-05"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 1 and told in checked.stderr


def test_a_figure_with_no_input_says_whether_it_was_carried(story):
    """"every value is carried from the previous statement" was said of constants too (a class's
    losses in a month without any, a transfer of nothing)."""
    month = story["2024-04"]
    assert "  none: every value is carried from the previous statement" in explain(month, "A.beginning_balance").render()
    losses = explain(month, "A.losses").render()
    assert "  none: it reads no value of a deal or period file (a constant, or figures computed without one)" in losses
    assert "carried" not in losses


def test_an_unknown_figure_with_errors_as_json_is_an_error_record():
    """--errors json printed click's usage text for a figure remit explain does not know."""
    import json
    import subprocess
    import sys

    from .conftest import REFERENCE_DEAL, ROOT

    done = subprocess.run([sys.executable, "-m", "generator", "explain", REFERENCE_DEAL, "nosuch.figure", "--period",
                           "2002-05", "--errors", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    [error] = json.loads(done.stderr)["errors"]
    assert error["field"] == "FIGURE" and error["message"].startswith("unknown figure 'nosuch.figure'; remit explain "
                                                                      "--list shows the ")
