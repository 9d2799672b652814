"""The deal language: what a deal file may say, and every way it can be wrong.

Each bad-input case edits a copy of the reference deal (the edit beside the message it
must produce) and runs ``remit render`` as a user would: every problem is reported as
``deal.yaml:line: field: message``, all at once, with exit status 1 and nothing written.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.pipeline import run

from .conftest import INPUTS, ROOT
from .test_errors import edit

SEQUENTIAL = "  - {pay: principal, from: principal, classes: [A, M-1, M-2, M-3, M-4], amount: principal_distribution_amount}\n"
ONE_BY_ONE = ("  - {pay: principal, from: principal, classes: [A], amount: principal_distribution_amount}\n"
              "      - {pay: principal, from: principal, classes: [M-1, M-2, M-3, M-4], "
              "amount: principal_distribution_amount}\n")


def render(deal: Path, out: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["render", str(deal), "-p", "2002-05", "-f", "json", "-o", str(out)])
    return result.exit_code, result.stderr.splitlines()


def two_principal_steps(deal: Path, second_amount: str = "principal_distribution_amount") -> None:
    """The sequential principal action split in two: A, then the mezzanine classes."""
    edit(deal / "deal.yaml", "      - {pay: principal, from: principal, classes: [A, M-1, M-2, M-3, M-4], "
                             "amount: principal_distribution_amount}\n",
         "      - {pay: principal, from: principal, classes: [A], amount: principal_distribution_amount}\n"
         f"      - {{pay: principal, from: principal, classes: [M-1, M-2, M-3, M-4], amount: {second_amount}}}\n")


# ------------------------------------------------------------------ principal is paid once


def test_two_principal_steps_share_the_principal_distribution_amount(reference_deal):
    """Before the deal language, the second of two principal steps was handed the whole principal
    distribution amount again: on the reference month A took all 1,767,305.99, M-1 was "still
    due" the same again, and the extra principal step paid it 925,347.43 from excess cash, with
    every check passing.  Now every principal action naming one amount draws on it once."""
    two_principal_steps(reference_deal)
    [c] = run(reference_deal, "2002-05")
    paid = {r.name: r.principal for r in c.statement.classes}
    assert paid["A"] == c.run["principal_distribution_amount"] == D("1767305.99")
    assert paid["M-1"] == paid["M-2"] == paid["M-3"] == paid["M-4"] == D("0.00")
    assert c.statement.oc["increase"] == D("0.00")
    assert c.statement.cls("CE").interest == D("925347.43")  # the excess cash flow still goes to CE
    v = c.run.values
    assert v["waterfall[8].else[1].payable"] == D("0.00")  # what was left of the amount after A's step


def test_principal_actions_drawing_on_two_amounts_are_refused(reference_deal, tmp_path):
    two_principal_steps(reference_deal, "pool.principal_remittance")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert lines == [f"{reference_deal / 'deal.yaml'}:165: waterfall[8].else[1].amount: pays principal from "
                     "pool.principal_remittance, but waterfall[8].else[0] pays it from principal_distribution_amount: "
                     "the principal would be paid twice (expected the same amount: for every principal action, which "
                     "then share it, or principal actions of different loan groups, each with its group:)",
                     "1 error; nothing written"]
    assert not (tmp_path / "out").exists()


def test_principal_beyond_the_principal_distribution_amount_is_refused_with_both_numbers(reference_deal, tmp_path):
    edit(reference_deal / "deal.yaml", "classes: [A, M-1, M-2, M-3, M-4], amount: principal_distribution_amount}",
         "classes: [A, M-1, M-2, M-3, M-4], amount: principal_distribution_amount + 1000000.00}")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert ("2002-05: does not reconcile: principal paid to the classes 2,692,653.42 is more than the principal "
            "distribution amount 1,767,305.99 (925,347.43 over)") in lines
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ bad input


D_ = "{d}"
CASES = [
    ("unknown action kind", "  - {pay: fees, from: interest}", "  - {pay: bonuses, from: interest}",
     [f"{D_}:143: waterfall[1]: unknown action 'pay: bonuses' (expected one of: pay: fees, pay: amount, pay: "
      "interest, pay: principal, pay: extra_principal, pay: unpaid_interest, pay: writedown_reimbursement, pay: "
      "carryover, pay: residual, pay: prepayment_charges, transfer, allocate: losses)"]),
    ("an action naming an unknown account", "  - {pay: fees, from: interest}", "  - {pay: fees, from: intrest}",
     [f"{D_}:143: waterfall[1]: no account 'intrest' (expected one of: interest, principal, excess, "
      "prepayment_charges)"]),
    ("an action naming an unknown class", "{pay: residual, from: excess, class: CE}",
     "{pay: residual, from: excess, class: XE}",
     [f"{D_}:171: waterfall[14].class: class 'XE' is not one of the deal's classes (A, M-1, M-2, M-3, M-4, CE, P, R)"]),
    ("a formula that does not parse", "formula: (wac - fees.annual_rate) * 30 / accrual_days",
     "formula: (wac - fees.annual_rate * 30 / accrual_days",
     [f"{D_}:70: figures.net_wac_cap.formula: formula '(wac - fees.annual_rate * 30 / accrual_days': the formula "
      "ends too soon (a parenthesis, an operand or an argument is missing)"]),
    ("a formula naming nothing known", "formula: (wac - fees.annual_rate) * 30 / accrual_days",
     "formula: (wac - fees.annual_rat) * 30 / accrual_days",
     [f"{D_}:70: figures.net_wac_cap.formula: net_wac_cap: formula '(wac - fees.annual_rat) * 30 / accrual_days': "
      "unknown name 'fees.annual_rat' (did you mean fees.annual_rate?)"]),
    ("a subtraction written without spaces", "formula: max(0.00, oc.target - oc.before_distribution)",
     "formula: max(0.00, oc.target-oc.before_distribution)",
     [f"{D_}:102: figures.'oc.deficiency'.formula: oc.deficiency: formula 'max(0.00, oc.target-oc.before_distribution)': "
      "unknown name 'oc.target-oc.before_distribution' (did you mean oc.target - oc.before_distribution? a - inside a "
      "name is part of it: put spaces around a minus sign)"]),
    ("a name like none known", "formula: max(0.00, oc.target - oc.before_distribution)",
     "formula: max(0.00, oc.target - zzz)",
     [f"{D_}:102: figures.'oc.deficiency'.formula: oc.deficiency: formula 'max(0.00, oc.target - zzz)': unknown name "
      "'zzz' (expected a figure the deal file or the standard figures name: remit explain --list shows them)"]),
    ("a number written with an exponent, read as a name", "formula: cents(pool.cutoff_balance * 0.10)",
     "formula: cents(pool.cutoff_balance * 1E+90)",
     [f"{D_}:73: figures.'pool.cleanup_call_threshold'.formula: pool.cleanup_call_threshold: formula "
      "'cents(pool.cutoff_balance * 1E + 90)': unknown name '1E' (a number is written in plain digits, without an "
      "exponent: 1000000000, not 1e9; a formula is exact to 34 significant digits)"]),
    ("a number written with an exponent, unreadable", "formula: cents(pool.cutoff_balance * 0.10)",
     "formula: cents(pool.cutoff_balance * 1.5e9)",
     [f"{D_}:73: figures.'pool.cleanup_call_threshold'.formula: formula 'cents(pool.cutoff_balance * 1.5e9)': "
      "cannot read '1.5e9' at column 29 (a number is written in plain digits, without an exponent: 1000000000, "
      "not 1e9; a formula is exact to 34 significant digits)"]),
    ("a deal rule of the wrong type", "formula: cents(pool.cutoff_balance * 0.10)", "formula: net_wac_cap",
     [f"{D_}:73: figures.'pool.cleanup_call_threshold'.formula: pool.cleanup_call_threshold: formula 'net_wac_cap': "
      "gives a rate (expected money (whole cents))"]),
    ("a deal rule declared of the wrong type", "formula: cents(pool.cutoff_balance * 0.10)",
     "formula: cents(pool.cutoff_balance * 0.10)\n    type: rate",
     [f"{D_}:73: figures.'pool.cleanup_call_threshold'.formula: pool.cleanup_call_threshold: formula "
      "'cents(pool.cutoff_balance * 0.10)': gives money (whole cents) (expected a rate)",
      f"{D_}:74: figures.'pool.cleanup_call_threshold'.type: pool.cleanup_call_threshold: the standard figures read "
      "it as money (expected type: money)"]),
    ("two unknown names in one formula", "formula: (wac - fees.annual_rate) * 30 / accrual_days",
     "formula: (wacc - fees.annual_rat) * 30 / accrual_days",
     [f"{D_}:70: figures.net_wac_cap.formula: net_wac_cap: formula '(wacc - fees.annual_rat) * 30 / accrual_days': "
      "unknown names 'wacc' (did you mean wac?) and 'fees.annual_rat' (did you mean fees.annual_rate?)"]),
    ("a cap named to a figure written as a plain number", "formula: (wac - fees.annual_rate) * 30 / accrual_days",
     'formula: "0.0440"',
     [f"{D_}:{55 + i}: classes[{i}].coupon.cap: {c}.coupon.cap: formula 'net_wac_cap': gives a number: net_wac_cap "
      "is a plain number; declare type: rate where it is defined (expected a rate)"
      for i, c in enumerate(("A", "M-1", "M-2", "M-3", "M-4"))]),
    ("a rate where money is needed", "formula: cents(pool.cutoff_balance * 0.005)",
     "formula: pool.cutoff_balance * 0.005",
     [f"{D_}:87: figures.'oc.floor'.formula: oc.floor: formula 'pool.cutoff_balance * 0.005': gives an amount of "
      "money not rounded to the cent: cash must be rounded, say how with cents(...) (half-up) or cents_down(...), "
      "or declare type: amount"]),
    ("a rate added to money", "formula: cents(pool.cutoff_balance * 0.005)",
     "formula: cents(pool.cutoff_balance + wac)",
     [f"{D_}:87: figures.'oc.floor'.formula: oc.floor: formula 'cents(pool.cutoff_balance + wac)': + between money "
      "(whole cents) and a rate (pool.cutoff_balance + wac) (expected money on both sides or on neither: a rate "
      "times a balance is an amount of money, and cents(...) makes it cash)"]),
    ("a choice of money or a rate", "formula: cents(pool.cutoff_balance * 0.005)",
     "formula: max(cents(pool.cutoff_balance * 0.005), wac)",
     [f"{D_}:87: figures.'oc.floor'.formula: oc.floor: formula 'max(cents(pool.cutoff_balance * 0.005), wac)': max() "
      "of money (whole cents) and a rate (expected values of one type)"]),
    ("a cycle between figures", "formula: cents(pool.cutoff_balance * 0.005)", "formula: cents(oc.target * 0.005)",
     [f"{D_}:87: figures.'oc.floor'.formula: oc.floor: a cycle: oc.floor -> oc.target -> oc.floor (expected figures "
      "that do not read themselves, even through others)"]),
    ("a cycle between figures nothing else reads, untyped", "figures:\n",
     "figures:\n  loop.a:\n    label: a\n    formula: loop.b + 0.00\n  loop.b:\n    label: b\n    formula: loop.a\n",
     [f"{D_}:70: figures.'loop.a'.formula: loop.a: a cycle: loop.a -> loop.b -> loop.a (expected figures that do "
      "not read themselves, even through others)"]),
    ("a target for a class the action does not pay", "      M-1: min(cents(pool.ending_balance * 0.7446), principal.room)",
     "      M-9: min(cents(pool.ending_balance * 0.7446), principal.room)",
     [f"{D_}:156: waterfall[8].targets: no target for class M-1 (expected one for each class paid)",
      f"{D_}:158: waterfall[8].targets.M-9: class 'M-9' is not one the action pays (expected a target for each of: "
      "A, M-1, M-2, M-3, M-4)"]),
    ("a misspelt field of an action", "{pay: interest, from: interest, classes: [A]}",
     "{pay: interest, from: interest, clases: [A]}",
     [f"{D_}:144: waterfall[2].clases: unknown field (expected one of: when, else, pay, from, classes, "
      "include_unpaid)", f"{D_}:144: waterfall[2].classes: required field is missing"]),
    ("a condition that is not a condition", "when: extraordinary_expenses > 0.00}", "when: extraordinary_expenses}",
     [f"{D_}:142: waterfall[0].when: formula 'extraordinary_expenses': gives money (whole cents) "
      "(expected a condition (true or false))"]),
    ("fees paid twice", "  - {pay: fees, from: interest}\n", "  - {pay: fees, from: interest}\n" * 2,
     [f"{D_}:144: waterfall[2]: a second payment of the Servicing fee on one path through the waterfall (expected one; the first is "
      "waterfall[1])"]),
    ("two triggers of one name", "  - name: Cumulative losses\n", "  - name: Delinquency\n",
     [f"{D_}:130: triggers[1].name: a second trigger named 'Delinquency' (expected each trigger once, by a name of "
      "its own)"]),
    ("a trigger's value naming nothing known", "value: losses.cumulative_pct", "value: losses.cumulativ_pct",
     [f"{D_}:131: triggers[1].value: triggers.Cumulative_losses.value: formula 'losses.cumulativ_pct': unknown name "
      "'losses.cumulativ_pct' (did you mean losses.cumulative_pct or losses.cumulative or "
      "losses.cumulative_before?)"]),
    ("a formula written as a number", "threshold: performance.prior_credit_enhancement_pct * 0.40",
     "threshold: 0.05",
     [f"{D_}:129: triggers[0].threshold: got 0.05, which YAML reads as a number (expected text: a formula or a name "
      'is written in quotes, "0.05")']),
    ("a coupon's formula written as a number, refused once", "cap: net_wac_cap}}", "cap: 0.12}}",
     [f"{D_}:55: classes[0].coupon.cap: got 0.12, which YAML reads as a number (expected text: a formula or a name "
      'is written in quotes, "0.12")']),
    ("an amount paid twice", "  - {pay: fees, from: interest}\n",
     "  - {pay: amount, name: expenses, from: interest, amount: extraordinary_expenses, to: Trust, description: Again}\n"
     "  - {pay: fees, from: interest}\n",
     [f"{D_}:143: waterfall[1]: a second payment named expenses on one path through the waterfall (expected one; the "
      "first is waterfall[0])"]),
    ("one amount paid twice under two names", "  - {pay: fees, from: interest}\n",
     "  - {pay: amount, name: again, from: interest, amount: extraordinary_expenses, to: Trust, description: Again}\n"
     "  - {pay: fees, from: interest}\n",
     [f"{D_}:143: waterfall[1]: a second payment of extraordinary_expenses to Trust (each pays all of it) on one path "
      "through the waterfall (expected one; the first is waterfall[0])"]),
    ("a figure's lines indented too little", "  oc.floor:\n    label: OC floor, 0.50% of the cut-off balance (ASSUMED)\n"
     "    formula:", "  oc.floor:\n  label: OC floor, 0.50% of the cut-off balance (ASSUMED)\n  formula:",
     [f"{D_}:85: figures.'oc.floor': expected text, got nothing (a key with no value: are the lines meant under it "
      "indented too little?)",
      f"{D_}:86: figures.label: formula 'OC floor, 0.50% of the cut-off balance (ASSUMED)': unexpected 'floor' at "
      "column 4 (expected ( or ) or * or / or + or - or , or a comparison or and or or)"]),
    ("a class listed twice in one action", "classes: [A]}", "classes: [A, A]}",
     [f"{D_}:144: waterfall[2].classes[1]: class A is listed twice (expected each class once: a second listing would "
      "pay it again)"]),
    ("an action reading what a later action pays", "formula: min(transfers.interest.excess + oc.release_due, "
     "oc.deficiency)", "formula: min(transfers.principal.excess + oc.release_due, oc.deficiency)",
     [f"{D_}:155: waterfall[8].amount: waterfall[8].amount reads principal_distribution_amount, which is final only "
      "after waterfall[9] adds to transfers.principal.excess (expected only figures final before the action runs)",
      f"{D_}:164: waterfall[8].else[0].amount: waterfall[8].else[0].amount reads principal_distribution_amount, "
      "which is final only after waterfall[9] adds to transfers.principal.excess (expected only figures final before "
      "the action runs)"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_deal_language_is_reported_and_nothing_is_written(reference_deal, tmp_path, case):
    _, old, new, expected = case
    edit(reference_deal / "deal.yaml", old, new)
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert lines[:-1] == [e.format(d=reference_deal / "deal.yaml") for e in expected]
    assert not (tmp_path / "out").exists()


def test_a_formula_cut_at_its_comma_in_a_flow_mapping_says_to_quote_it(reference_deal, tmp_path):
    edit(reference_deal / "deal.yaml", "    payee: Servicer\n", "    payee: Servicer\n  - {name: Trustee, annual_rate: "
         "0.0001, payee: Trustee, base: total(senior, beginning_balance)}\n")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1 and not (tmp_path / "out").exists()
    assert lines[0] == (f"{reference_deal / 'deal.yaml'}:50: fees[1].beginning_balance): unknown field (expected one "
                        "of: name, annual_rate, amount, payee, base): a formula with a comma, written inside { }, is "
                        'cut at the comma by YAML (expected the formula in quotes, for example base: "total(senior, '
                        'beginning_balance)")')


def test_a_fee_no_action_pays_is_refused(reference_deal, tmp_path):
    """A fee the deal charges but no action pays would show as paid nothing, every month."""
    edit(reference_deal / "deal.yaml", "    payee: Servicer\n",
         "    payee: Servicer\n  - name: Trustee\n    annual_rate: 0.0001\n    payee: Trustee\n")
    edit(reference_deal / "deal.yaml", "  - {pay: fees, from: interest}", "  - {pay: fees, from: interest, fees: [Servicing]}")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1 and not (tmp_path / "out").exists()
    assert lines == [f"{reference_deal / 'deal.yaml'}:50: fees[1].name: fee 'Trustee' is paid by no action of the "
                     "waterfall (expected it in the fees: of a pay: fees action, or a pay: fees action without fees:, "
                     "which pays every fee)", "1 error; nothing written"]


def test_every_problem_of_the_language_is_reported_at_once(reference_deal, tmp_path):
    chosen = ("an action naming an unknown account", "a formula that does not parse", "a rate added to money",
              "a condition that is not a condition")
    for _, old, new, _ in (c for c in CASES if c[0] in chosen):
        edit(reference_deal / "deal.yaml", old, new)
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1 and lines[-1] == "4 errors; nothing written"
    assert [int(line.split(":")[1]) for line in lines[:-1]] == [70, 87, 142, 143]


def test_a_formula_that_does_not_parse_is_told_beside_a_shape_error(reference_deal, tmp_path):
    """A deal file refused for its shape is never compiled; its formulas' syntax errors (a
    figure's, an action's condition) are still told in the same run, as compiling tells them."""
    deal = reference_deal / "deal.yaml"
    edit(deal, "original_balance: 12415000.00", "original_balance: 12415000.001")
    edit(deal, "formula: (wac - fees.annual_rate) * 30 / accrual_days",
         "formula: (wac - fees.annual_rate * 30 / accrual_days")
    edit(deal, "when: extraordinary_expenses > 0.00}", "when: extraordinary_expenses >> 0.00}")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert lines == [
        f"{deal}:56: classes[1].original_balance: money amount 12415000.001 has 3 decimal places (expected at most 2)",
        f"{deal}:70: figures.net_wac_cap.formula: formula '(wac - fees.annual_rate * 30 / accrual_days': the formula "
        "ends too soon (a parenthesis, an operand or an argument is missing)",
        f"{deal}:142: waterfall[0].when: formula 'extraordinary_expenses >> 0.00': unexpected '>' at column 25 "
        "(expected ( or - or a name or a number)",
        "3 errors; nothing written"]
    assert not (tmp_path / "out").exists()


def test_a_standard_figure_missing_its_rule_names_what_the_deal_must_define(reference_deal, tmp_path):
    edit(reference_deal / "deal.yaml", "  performance.optional_termination:\n", "  performance.optional_terminated:\n")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert (f"{reference_deal / 'deal.yaml'}:67: figures: performance.optional_termination is not defined, and the "
            "standard figures performance.optional_termination_next, A.margin, M-1.margin and 3 more read it (expected "
            "performance.optional_termination: <formula> under figures:)") in lines


def test_the_schema_describes_every_field(tmp_path):
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0
    missing = []
    for name in ("deal", "period", "grouped-period", "servicer", "remittance"):
        doc = json.loads((tmp_path / f"{name}.schema.json").read_text())
        for model, spec in [("(top)", doc), *doc.get("$defs", {}).items()]:
            for field, prop in spec.get("properties", {}).items():
                if "description" not in prop:
                    missing.append(f"{name}: {model}.{field}")
    assert missing == []


def test_a_formula_reading_a_figure_whose_formula_is_wrong_is_not_reported_for_it(tmp_path):
    """One misspelt name is one error: not a second one, "- with none", for each figure and
    action target that reads the figure it broke."""
    import shutil

    deal = tmp_path / "synthetic-two-group-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    text = (deal / "deal.yaml").read_text()
    old = "cents(insurer.owed_before * 0.06"  # insurer.interest, which two figures and an action read
    assert old in text and "insurer.owed_before + insurer.interest" in text
    (deal / "deal.yaml").write_text(text.replace(old, "cents(insurer.owed_befor * 0.06", 1))
    result = CliRunner().invoke(main, ["check", str(deal), "--period", "2025-03"])
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 2 and errors[-1] == "1 error; nothing written", errors
    assert "insurer.interest" in errors[0] and "unknown name 'insurer.owed_befor'" in errors[0]


def test_no_function_of_the_engine_is_over_100_lines():
    """The engine reads as small actions, not one long procedure: no function in generator/ is
    over 100 lines."""
    import ast

    long = []
    for path in sorted((ROOT / "generator").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 100:
                long.append(f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert long == []


@pytest.mark.parametrize("pro_rata", [False, True])
def test_unpaid_interest_pro_rata_shares_a_short_account_by_what_each_class_is_owed(reference_deal, pro_rata):
    """M-1 and M-2 owed 800,000.00 and 400,000.00 of earlier interest, from an excess account
    that holds less: in order, M-1 is paid in full first; pro rata, each gets its share of
    what the account holds (2 to 1, the cent of rounding to the larger), and nothing is left."""
    period = reference_deal / "periods" / "2002-05.yaml"
    edit(period, "  cumulative_realized_losses: 0\n",
         "  cumulative_realized_losses: 0\n  unpaid_interest: {M-1: 800000.00, M-2: 400000.00}\n")
    if pro_rata:
        edit(reference_deal / "deal.yaml", "classes: [M-1, M-2, M-3, M-4]}\n  - {pay: writedown",
             "classes: [M-1, M-2, M-3, M-4], pro_rata: true}\n  - {pay: writedown")
    [c] = run(reference_deal, "2002-05")
    paid = {s.payee: s.amount for s in c.statement.waterfall if s.description.endswith(" unpaid interest")
            and s.section == "excess"}
    first = next(s for s in c.statement.waterfall if s.description == "Class M-1 unpaid interest")
    available = first.amount + first.remaining  # what the excess account held then
    assert available == D("925347.43")
    if pro_rata:
        assert paid == {"M-1": D("616898.29"), "M-2": D("308449.14"), "M-3": D("0.00"), "M-4": D("0.00")}
        assert c.run.values["waterfall[11].available"] == available
    else:
        assert paid == {"M-1": D("800000.00"), "M-2": D("125347.43"), "M-3": D("0.00"), "M-4": D("0.00")}
    assert sum(paid.values()) == available
    assert {r.name: r.unpaid_interest_after for r in c.statement.classes if r.name in ("M-1", "M-2")} == (
        {"M-1": D("183101.71"), "M-2": D("91550.86")} if pro_rata else {"M-1": D("0.00"), "M-2": D("274652.57")})
    if pro_rata:
        result = CliRunner().invoke(main, ["explain", str(reference_deal), "-p", "2002-05",
                                           "waterfall[11].M-1.due.share"])
        assert result.exit_code == 0, result.output
        assert ("= share(waterfall[11].available, waterfall[11].M-1.due, waterfall[11].M-1.due, waterfall[11].M-2.due, "
                "waterfall[11].M-3.due, waterfall[11].M-4.due)") in result.output


def test_one_amount_to_two_payees_is_two_payments(reference_deal, tmp_path):
    """Two fees alike (a trustee's and a custodian's, each 1,000.00) are two payments, not one
    paid twice: only one amount to one payee is refused."""
    edit(reference_deal / "deal.yaml", "  - {pay: fees, from: interest}\n",
         '  - {pay: amount, name: trustee, from: interest, amount: "1000.00", to: Trustee, description: Trustee fee}\n'
         '  - {pay: amount, name: custodian, from: interest, amount: "1000.00", to: Custodian, '
         'description: Custodian fee}\n  - {pay: fees, from: interest}\n')
    [c] = run(reference_deal, "2002-05")
    paid = {s.payee: s.amount for s in c.statement.waterfall if s.description.endswith(" fee")}
    assert paid == {"Trustee": D("1000.00"), "Custodian": D("1000.00"), "Servicer": D("82489.25")}


def test_deals_share_a_compiled_program_only_when_their_rules_are_written_alike(reference_deal, tmp_path):
    """A book's deals written from one agreement share one compiled program (each with its own
    values); a deal whose rules are written otherwise, even by one number in a formula, gets its own."""
    import shutil

    from generator.load import load_deal

    base = load_deal(reference_deal).program
    alike, other = (tmp_path / name / reference_deal.name for name in ("alike", "other"))
    for copy in (alike, other):
        shutil.copytree(reference_deal, copy)
    edit(alike / "deal.yaml", "margin: 0.0033,", "margin: 0.0034,")  # a value: the same rules
    edit(other / "deal.yaml", "performance.prior_credit_enhancement_pct * 0.40",
         "performance.prior_credit_enhancement_pct * 0.45")
    shared, own = load_deal(alike).program, load_deal(other).program
    assert shared.phases is base.phases and shared.deal_values["A.coupon.margin"][2] == D("0.0034")
    assert own.phases is not base.phases
    [c] = run(reference_deal, "2002-05")
    [d] = run(other, "2002-05")
    ratio = d.statement.triggers[0].threshold / c.statement.triggers[0].threshold
    assert ratio.quantize(D("0.0001")) == D("1.1250")


def test_a_class_figure_is_redefined_by_its_class_name(reference_deal, tmp_path):
    """A deal names a class's figure by the class (M-4.cap), as formulas do: the class's rate
    follows the cap the deal gives it, and its carryover the rate."""
    edit(reference_deal / "deal.yaml", "figures:\n", 'figures:\n  M-4.cap: "0.0400"\n')
    [c] = run(reference_deal, "2002-05")
    m4 = c.statement.cls("M-4")
    assert (m4.cap, m4.uncapped_rate, m4.rate, m4.cap_binding) == (D("0.0400"), D("0.0420"), D("0.0400"), True)
    days = c.statement.accrual_days
    assert m4.carryover_current == (round(m4.beginning_balance * D("0.0420") * days / 360, 2)
                                    - round(m4.beginning_balance * D("0.0400") * days / 360, 2)) > 0
    assert c.statement.cls("M-3").cap == c.statement.net_wac_cap  # the others keep theirs


def test_a_figure_name_that_formulas_cannot_read_is_refused_in_words(reference_deal, tmp_path):
    edit(reference_deal / "deal.yaml", "figures:\n", 'figures:\n  M-4-.x: "1"\n')
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1 and not (tmp_path / "out").exists()
    assert lines[0] == (f"{reference_deal / 'deal.yaml'}:68: figures.'M-4-.x': not a valid key: got 'M-4-.x' "
                        "(expected a figure's name: words of letters, digits and _ joined by dots, such as oc.target, "
                        "or a class's name and a word, such as M-1.rate)")


def test_a_deal_may_accrue_interest_on_unpaid_interest(tmp_path):
    """The standard figures carry a class's unpaid interest forward as it is; a deal whose
    agreement adds interest on it at the class's rate writes that, as docs/deal-language.md
    shows, with a carried figure of its own.  M-2 of the home equity deal was left 157,932.46
    short in 2024-08 and paid in full in 2024-09: with interest on it, 2024-09 owes and pays
    30 days of it at M-2's 4.64% more, and the statement still reconciles."""
    import shutil

    deal = tmp_path / "synthetic-home-equity-2024-1"
    shutil.copytree(INPUTS / "synthetic-home-equity-2024-1", deal)
    [plain] = run(deal, "2024-09")
    edit(deal / "deal.yaml", "figures:\n", "figures:\n"
         '  M-2.unpaid_interest_carried: {type: money, carried_from: M-2.unpaid_interest_after,\n'
         '                                formula: "opening.unpaid_interest.M-2"}\n'
         "  M-2.unpaid_interest_before: M-2.unpaid_interest_carried\n"
         "    + cents(M-2.unpaid_interest_carried * M-2.rate * M-2.accrual_days / 360)\n")
    [before, after] = run(deal, "2024-08..2024-09")
    m2, was = after.statement.cls("M-2"), plain.statement.cls("M-2")
    carried = before.statement.cls("M-2").unpaid_interest_after
    assert carried == was.unpaid_interest_before == D("157932.46")
    interest = (carried * D("0.0464") * 30 / 360).quantize(D("0.01"))
    assert (m2.rate, after.statement.accrual_days, interest) == (D("0.0464"), 30, D("610.67"))
    assert m2.unpaid_interest_before == carried + interest
    assert m2.interest_distribution == was.interest_distribution + interest
    assert m2.unpaid_interest_after == 0
    assert all(check.ok for check in after.statement.checks)
    assert after.statement.cls("M-1").unpaid_interest_before == D("6111.38")  # the others as they were
