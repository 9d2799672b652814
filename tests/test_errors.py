"""Bad input gets `file:line: field: message`, every problem at once, and nothing is written.

Each case edits a copy of the reference deal (the edit stands beside the message
it must produce) and runs ``remit render`` as a user would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .conftest import INPUTS, REFERENCE_DEAL


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def render(deal: Path, out: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["render", str(deal), "-p", "2002-05", "-f", "text", "-f", "json",
                                       "-o", str(out)])
    lines = result.stderr.splitlines()
    return result.exit_code, lines


CASES = [
    ("yaml syntax error", "period", "index:\n", "index: [\n",
     ["{p}:29: YAML syntax error: while parsing a flow sequence that starts on line 27: did not find expected ',' "
      "or ']'"]),
    ("missing required field", "period", "wac: 0.0865983", "",
     ["{p}:9: wac: required field is missing"]),
    ("unknown field (a typo)", "period", "remaining_term: 356", "remaining_trem: 356",
     ["{p}:9: remaining_term: required field is missing",
      "{p}:41: remaining_trem: unknown field (expected one of: period, distribution_date, opening, index, "
      "collections, advances, wac, remaining_term, delinquency, reo, bankruptcy_losses, shortfalls, "
      "extraordinary_expenses, deficiencies, revised_on)"]),
    ("text where a number is expected", "period", "advances: 1277953.00", "advances: 1,277,953",
     ["{p}:39: advances: expected a number, got text '1,277,953'"]),
    ("nothing where a number is expected", "period", "advances: 1277953.00", "advances: ~",
     ["{p}:39: advances: expected a number, got nothing (null, ~ or an empty value: write the number, 0 if none)"]),
    ("a date where a number is expected", "period", "advances: 1277953.00", "advances: 2002-05-01",
     ["{p}:39: advances: expected a number, got a date"]),
    ("money with more than two decimals", "period", "prepayment_charges: 12525.30",
     "prepayment_charges: 12525.305",
     ["{p}:37: collections.prepayment_charges: money amount 12525.305 has 3 decimal places (expected at most 2)"]),
    ("negative amount", "period", "curtailments: 18331.70", "curtailments: -18331.70",
     ["{p}:34: collections.curtailments: must not be negative (got -18331.70)"]),
    ("no index for floating coupons", "period",
     "index:\n  current: 0.0184     # one-month LIBOR for this accrual period (INFERRED from the rates)\n"
     "  next: 0.0183        # set for the next accrual period (INFERRED from the \"next rate\")\n", "",
     ["{p}:9: period: index: not given, and classes A, M-1, M-2, M-3, M-4's floating coupons read it (expected "
      "index: {{current: ..., next: ...}}, the index for this and the next accrual period)"]),
    ("an opening before the deal closed", "period", "previous_distribution_date: 2002-04-25",
     "previous_distribution_date: 2001-04-25",
     ["{p}:14: opening.previous_distribution_date: 2001-04-25 is before the deal's closing date 2002-02-26 (expected "
      "the distribution date before this one, or for the deal's first, the date interest began to accrue)"]),
    ("a distribution date in another month", "period", "period: 2002-05\n", "period: 2002-05\n"
     "distribution_date: 2002-12-01\n",
     ["{p}:10: distribution_date: 2002-12-01 is not in 2002-05, the month this file reports (expected the date the "
      "2002-05 distribution is made, in 2002-05)"]),
    ("a first distribution date off the deal's day", "deal", "first_distribution_date: 2002-03-25",
     "first_distribution_date: 2002-03-03",
     ["{d}:40: schedule.first_distribution_date: 2002-03-03 is not the deal's distribution date of March 2002: day "
      "25, or the next business day, is 2002-03-25 (expected 2002-03-25, or a distribution_day that gives "
      "2002-03-03)"]),
    ("a loan liquidated twice", "period", "  liquidations: []",
     "  liquidations: [{loan: L1, balance: 100.00, proceeds: 40.00}, {loan: L1, balance: 100.00, proceeds: 40.00}]",
     ["{p}:36: collections.liquidations[1].loan: loan L1 is liquidated twice (also at item 0; expected each loan "
      "once)"]),
    ("a loan number a spreadsheet would run", "period", "  liquidations: []",
     '  liquidations: [{loan: "=HYPERLINK(\\"http://x/\\")", balance: 100.00, proceeds: 40.00}]',
     ["{p}:36: collections.liquidations[0].loan: '=HYPERLINK(\"http://x/\")' is not a loan number (expected "
      "letters, digits and . _ / -, at most 40, the first a letter or digit)"]),
    ("principal paid in full by no loans", "period", "payoffs: {count: 4,", "payoffs: {count: 0,",
     ["{p}:35: collections.payoffs: 0 loans with 1,626,788.55 of principal (expected a count and an amount both "
      "zero or both not)"]),
    ("more loans delinquent than the pool has", "period", "days_30_59:         {count: 9,",
     "days_30_59:         {count: 900000,",
     ["{p}:44: delinquency.days_30_59.count: 900,000 loans, more than the 582 the pool ends with"]),
    ("distribution date not after the previous one", "period", "previous_distribution_date: 2002-04-25",
     "previous_distribution_date: 2002-05-28",
     ["{p}:9: period: distribution date 2002-05-28 is not after the previous distribution date 2002-05-28"]),
    ("distribution before the deal's first", "deal", "first_distribution_date: 2002-03-25",
     "first_distribution_date: 2002-06-25",
     ["{p}:9: period: distribution date 2002-05-28 is before the deal's first distribution date 2002-06-25 "
      "(expected on or after it)"]),
    ("a class the deal lacks", "period", "    R: 0\n", "    R: 0\n    B-1: 5.00\n",
     ["{p}:25: opening.class_balances.B-1: class 'B-1' is not a class of deal new-century-2002-1 "
      "(expected one of: A, M-1, M-2, M-3, M-4, P, R)"]),
    ("bankruptcy losses beyond the month's realized losses", "period", "bankruptcy_losses: 0", "bankruptcy_losses: 500.00",
     ["{p}:57: bankruptcy_losses: 500.00 is more than the period's realized losses 0.00 it is part of (the liquidated "
      "balances less their proceeds; expected at most 0.00)"]),
    ("the servicer covering more than the shortfall", "period", "  covered_by_servicer: 0", "  covered_by_servicer: 0.01",
     ["{p}:60: shortfalls.covered_by_servicer: 0.01 is more than the prepayment interest shortfall 0.00 it covers a "
      "part of (expected at most 0.00)"]),
    ("a class left out of the opening state (it would start at nothing)", "period", "    M-4: 497000.00\n", "",
     ["{p}:17: opening.class_balances: no balance given for class M-4 (expected the balance of each class but "
      "the excess class after the previous distribution: 0.00 for one paid off, 0 for a residual class without one)"]),
    ("an opening account the deal does not carry", "period", "  cumulative_realized_losses: 0\n",
     "  cumulative_realized_losses: 0\n  accounts: {reserve: 5.00}\n",
     ["{p}:26: opening.accounts.reserve: deal new-century-2002-1 carries no account from one distribution to "
      "the next (expected no accounts under opening.accounts)"]),
    ("delinquency larger than the pool", "period", "stated_balance: 1597528.80", "stated_balance: 296206894.00",
     ["{p}:43: delinquency: delinquent and REO stated balances add up to 299,622,838.20, more than the ending "
      "pool balance 196,206,894.82",
      "{p}:47: delinquency.foreclosure.stated_balance: 296,206,894.00 is more than the ending pool balance "
      "196,206,894.82"]),
    ("opening balances that do not fit the pool", "period", "pool_balance: 197974200.81",
     "pool_balance: 190000000.00",
     ["{p}:17: opening.class_balances: opening class balances add up to 194,001,205.07, more than the pool "
      "balance 190,000,000.00 (expected at most the pool balance)"]),
    ("a CUSIP with a character mistyped", "deal", "cusip: 64352VCD1", "cusip: 64352VCB1",
     ["{d}:56: classes[1].cusip: '64352VCB1' is not a CUSIP: its check digit is 1, and its first eight characters "
      "give 5 (expected the CUSIP as the offering documents give it: is a character mistyped?)"]),
    ("a CUSIP of digits that YAML reads as a number", "deal", "cusip: 64352VCD1", "cusip: 594918104",
     ["{d}:56: classes[1].cusip: 594918104 is read as a number (expected the CUSIP in quotes, as text: a CUSIP "
      "of digits, or with an E between digits, must be quoted, cusip: '594918104')"]),
    ("unknown class in the deal's waterfall", "deal", "classes: [A, M-1, M-2, M-3, M-4]}",
     "classes: [A, M1, M-2, M-3, M-4]}",
     ["{d}:170: waterfall[13].classes[1]: class 'M1' is not one of the deal's classes "
      "(A, M-1, M-2, M-3, M-4, CE, P, R)"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_and_nothing_is_written(reference_deal: Path, tmp_path: Path, case):
    _, which, old, new, expected = case
    period = reference_deal / "periods" / "2002-05.yaml"
    deal = reference_deal / "deal.yaml"
    edit(period if which == "period" else deal, old, new)
    out = tmp_path / "out"
    code, lines = render(reference_deal, out)
    assert code == 1
    assert lines[:-1] == [e.format(p=period, d=deal) for e in expected]
    assert lines[-1] == f"{len(expected)} error{'s' if len(expected) > 1 else ''}; nothing written"
    assert not out.exists()


def test_a_template_error_run_from_elsewhere_names_the_template_by_a_path_that_is_there(reference_deal: Path,
                                                                                      tmp_path: Path):
    """Not templates/NAME, which does not exist from another folder: the absolute path."""
    import subprocess
    import sys

    from generator.render import TEMPLATES

    edit(reference_deal / "deal.yaml", "original_balance: 160901000.00", "original_balance: 1609010000000.00")
    edit(reference_deal / "periods" / "2002-05.yaml", "A: 160231105.07", "A: 1602311050000.07")
    edit(reference_deal / "periods" / "2002-05.yaml", "pool_balance: 197974200.81", "pool_balance: 1602348744995.81")
    done = subprocess.run([sys.executable, "-m", "generator", "render", str(reference_deal), "-p", "2002-05",
                           "-o", str(tmp_path / "out"), "--errors", "json"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(TEMPLATES.parent)})
    assert done.returncode == 1
    [error] = json.loads(done.stderr)["errors"]
    assert error["file"] == str(TEMPLATES / "_statement-body.txt.j2") and error["line"] == 18
    assert Path(error["file"]).is_file()


def test_every_problem_is_reported_at_once(reference_deal: Path, tmp_path: Path):
    period = reference_deal / "periods" / "2002-05.yaml"
    edit(period, "advances: 1277953.00", "advances: lots")
    edit(period, "prepayment_charges: 12525.30", "prepayment_charges: 12525.305")
    edit(period, "wac: 0.0865983", "wak: 0.0865983")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert [line.split(": ", 2)[1] for line in lines[:-1]] == [
        "wac", "collections.prepayment_charges", "advances", "wak"]
    assert lines[-1] == "4 errors; nothing written"


def test_value_too_wide_for_its_column_names_field_and_width(reference_deal: Path, tmp_path: Path):
    period = reference_deal / "periods" / "2002-05.yaml"
    edit(reference_deal / "deal.yaml", "original_balance: 160901000.00", "original_balance: 1609010000000.00")
    edit(period, "A: 160231105.07", "A: 1602311050000.07")
    edit(period, "pool_balance: 197974200.81", "pool_balance: 1602348744995.81")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert lines == [
        "templates/_statement-body.txt.j2:18: classes.A.beginning_balance: '1,602,311,050,000' is 17 characters, "
        "too wide for its 16-character column",
        "1 error; nothing written",
    ]
    assert not (tmp_path / "out").exists()


def test_errors_as_json(reference_deal: Path, tmp_path: Path):
    import json

    period = reference_deal / "periods" / "2002-05.yaml"
    edit(period, "advances: 1277953.00", "advances: lots")
    result = CliRunner().invoke(main, ["check", str(reference_deal), "-p", "2002-05", "--errors", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stderr) == {"errors": [
        {"file": str(period), "line": 39, "field": "advances", "message": "expected a number, got text 'lots'"}]}


def test_a_statement_that_does_not_reconcile_is_not_written(reference_deal: Path, tmp_path: Path, monkeypatch):
    # Simulate an engine fault: class A's principal flow pays one cent more than the rule gives.
    from decimal import Decimal

    from generator import actions

    real_pay = actions.Ledger.pay

    def leaky(self, account, due_name, description, *args, **kwargs):
        got = real_pay(self, account, due_name, description, *args, **kwargs)
        if description.startswith("Class A principal"):
            flow = f"flow[{len(self.steps)}]"
            self.values[flow] += Decimal("0.01")
            return got + Decimal("0.01")
        return got

    monkeypatch.setattr(actions.Ledger, "pay", leaky)
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1
    assert lines == [
        "2002-05: does not reconcile: cash: paid out = fees, expenses and class distributions: "
        "3,205,794.60 != 3,205,794.61 (off by 0.01)",
        "2002-05: does not reconcile: OC end = OC beginning + increase - reduction - losses not written down: "
        "3,972,995.75 != 3,972,995.74 (off by 0.01)",
        "2002-05: does not reconcile: principal paid to the classes 1,767,306.00 is more than the principal "
        "distribution amount 1,767,305.99 (0.01 over)",
        "2002-05: does not reconcile: principal paid to the classes 1,767,306.00 is more than was allocated to them "
        "1,767,305.99",
        "2002-05: does not reconcile: extra principal paid 0.00 is more than the principal still due -0.01",
        "2002-05: does not reconcile: the principal account's withdrawals 1,767,306.00 are not what its flow of "
        "funds lines paid out 1,767,305.99",
        "6 errors; nothing written",
    ]
    assert not (tmp_path / "out").exists()


def test_prepayment_charges_need_a_class_to_receive_them():
    from generator.load import load_period
    from generator.pipeline import check_period

    from generator.load import load_deal

    deal = load_deal(REFERENCE_DEAL).value
    loaded = load_period(REFERENCE_DEAL, "2002-05")
    errors = [str(e) for e in check_period(deal, None, loaded.value, loaded.source, charges_received=False)]
    assert errors == [f"{loaded.source.file}:37: collections.prepayment_charges: 12,525.30 collected, but deal "
                      "new-century-2002-1 names no class to receive them (expected 0, or a pay: prepayment_charges "
                      "action in the deal)"]


def test_an_output_directory_that_cannot_be_written_is_an_error_not_a_traceback(tmp_path: Path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the output directory should be\n")
    result = CliRunner().invoke(main, ["render", str(REFERENCE_DEAL), "-p", "2002-05", "-o", str(blocked / "out")])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "cannot write" in result.stderr


def test_a_carried_account_left_out_or_misspelt_in_the_opening_state(tmp_path: Path):
    """A reserve account must not silently start empty: a misspelt name is not a carried
    account, and a carried account left out of the first opening state is said to be."""
    import shutil

    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    period = deal / "periods" / "2025-02.yaml"
    edit(period, "accounts: {reserve: 2500000.00}", "accounts: {reserv: 2500000.00}")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(deal), "-p", "2025-02", "-f", "json", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{period}:14: opening.accounts.reserv: 'reserv' is not a carried account of deal synthetic-auto-2025-1 "
        "(expected one of: reserve)",
        f"{period}:14: opening.accounts: no balance given for the reserve account (expected what each carried "
        "account held after the previous distribution under opening.accounts, 0.00 for one empty)",
        "2 errors; nothing written"]
    assert not out.exists()


def test_a_later_opening_states_account_must_agree(tmp_path: Path):
    """An opening state given after the first period is checked against the computed one, its
    carried accounts too: a reserve given as 9,999,999.00 was not, and 2,500,000.00 was used."""
    import shutil

    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    period = deal / "periods" / "2025-03.yaml"
    edit(period, "period: 2025-03\n", "period: 2025-03\nopening:\n  previous_distribution_date: 2025-02-18\n"
                                      "  pool_balance: 487115243.88\n  loan_count: 24707\n"
                                      "  class_balances: {A-1: 80822999.81}\n  cumulative_realized_losses: 52569.32\n"
                                      "  accounts: {reserve: 9999999.00}\n")
    result = CliRunner().invoke(main, ["check", str(deal), "-p", "2025-03"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{period}:14: opening.accounts.reserve: does not agree with the previous period's closing state: given "
        "9,999,999.00, computed 2,500,000.00 (7,499,999.00 apart)", "1 error; nothing written"]


def test_a_missing_layout_is_told_with_the_period_files_problems(reference_deal, tmp_path):
    """A period file with an error and a deal naming a layout that is not there: both at once,
    not the layout only once the period file is fixed; nothing written."""
    edit(reference_deal / "deal.yaml", "text: new-century-8k.txt.j2", "text: nope.txt.j2")
    edit(reference_deal / "periods" / "2002-05.yaml", "wac: 0.0865983", "wac: high")
    code, lines = render(reference_deal, tmp_path / "out")
    assert code == 1 and not (tmp_path / "out").exists()
    assert lines[0] == f"{reference_deal}/periods/2002-05.yaml:40: wac: expected a number, got text 'high'"
    assert lines[1].startswith(f"{reference_deal}/deal.yaml:14: templates.text: no template 'nope.txt.j2' in ")
    assert lines[2:] == ["2 errors; nothing written"]


def test_an_opening_below_the_pool_in_a_deal_without_an_excess_class_is_told_at_its_line(tmp_path):
    """Without an excess class nothing holds the pool above the classes: the statement used to
    be refused only at reconciliation ("classes (with the OC notional) add up to the pool ...
    off by"), with no file or line to look at."""
    import shutil

    from generator.pipeline import run
    from generator.source import InputErrors

    from .conftest import INPUTS

    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    edit(deal / "deal.yaml", "{name: CERT, kind: excess,", "{name: CERT, kind: residual,")
    edit(deal / "periods" / "2025-02.yaml", "C: 17500000.00}", "C: 17500000.00, CERT: 0}")
    with pytest.raises(InputErrors) as info:
        run(deal, "2025-02")
    assert [str(e) for e in info.value.errors] == [
        f"{deal / 'periods' / '2025-02.yaml'}:13: opening.class_balances: opening class balances add up to "
        "475,000,000.00, less than the pool balance 500,000,000.00, and the deal has no excess class to hold the "
        "25,000,000.00 between them (expected the classes to add up to the pool balance)"]


def test_a_periods_folder_that_cannot_be_read_is_told_so_not_empty(reference_deal, monkeypatch):
    """It was told "no period files" (remit runs as root here, which reads any folder: the
    refusal a back office's account meets is made by hand)."""
    from generator import load, pipeline
    from generator.source import InputErrors

    folder = reference_deal / "periods"
    real = os.listdir

    def refused(path):
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "listdir", refused)
    assert load.list_periods(reference_deal) == []
    with pytest.raises(InputErrors) as info:
        pipeline.run(reference_deal, "2002-05")
    assert [str(e) for e in info.value.errors] == [
        f"{folder}: cannot be read (Permission denied; expected a folder remit may list)"]


def test_a_report_before_the_deals_first_distribution_is_named_for_what_it_is(tmp_path):
    """A stray periods/2023-12.yaml in the home equity deal (first distributed 2024-02-26) made
    every month fail with "the servicer's report for 2024-01 is missing"."""
    import shutil
    import subprocess
    import sys

    from .conftest import ROOT, SYNTHETIC

    deal = tmp_path / SYNTHETIC.name
    shutil.copytree(SYNTHETIC, deal)
    stray = deal / "periods" / "2023-12.yaml"
    stray.write_text((deal / "periods" / "2024-03.yaml").read_text().replace("period: 2024-03", "period: 2023-12"))
    done = subprocess.run([sys.executable, "-m", "generator", "render", deal, "--period", "2024-05", "--out",
                           tmp_path / "out"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{stray}: a report for 2023-12, before the deal's first distribution (2024-02-26): no statement is made for "
        "it (expected none before 2024-02: is the file misnamed?)", "1 error; nothing written"])
    assert not (tmp_path / "out").exists()


def test_a_report_of_a_group_the_deal_does_not_have_is_told_as_such(tmp_path):
    """A groups: entry the deal does not have (third: {}) was told as five missing fields of
    a group's report."""
    import shutil
    import subprocess
    import sys

    from .conftest import INPUTS, ROOT

    deal = tmp_path / "synthetic-two-group-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    edit(deal / "periods" / "2025-03.yaml", "\ngroups:\n", "\ngroups:\n  third: {}\n")
    done = subprocess.run([sys.executable, "-m", "generator", "check", deal, "--period", "2025-03"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{deal}/periods/2025-03.yaml:21: groups.third: group 'third' is not a group of deal "
        "synthetic-two-group-2025-1 (expected one of: fixed, adjustable)", "1 error; nothing written"])
