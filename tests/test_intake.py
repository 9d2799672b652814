"""remit intake on a tape small enough to work out by hand: eight loans of the home-equity
deal in the 2024-03 distribution (as of 2024-02-29), one of each state, and the previous
month's tape beside it.  Every expected figure below is added up here from the rows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from generator.intake import _classify, aggregate, as_of_date
from generator.load import validate
from generator.source import load_yaml
from generator.tape import Mapping, read_tape

from .conftest import SYNTHETIC

HEADER = ("LOAN_NO,BEG_SCHED_BAL,SCHED_PRIN,CURTAIL,PIF_AMT,LIQ_BAL,LIQ_PROCEEDS,END_SCHED_BAL,ACTUAL_UPB,"
          "INT_REMIT,PI_ADVANCE,PPP_COLLECTED,PPIS,COMP_INT,SCRA_SHORTFALL,NOTE_RATE,REM_TERM,NEXT_DUE,STATUS,"
          "REO_BOOK,MOD_FLAG,PROPERTY_STATE")

#: loan, beginning, scheduled, curtailment, payoff, liquidated, proceeds, ending, actual, interest,
#: advance, prepayment charge, PPIS, compensating, relief act, rate %, term, next due, status, REO book, mod
ROWS = [
    ("100001", "100,000.00", "100.00", "500.00", "0.00", "0.00", "0.00", "99,400.00", "99,400.00", "875.00",
     "0.00", "0.00", "0.00", "0.00", "15.00", "10.500", "356", "03/01/2024", "C", "0.00", "N"),
    ("100002", "50,000.00", "50.00", "0.00", "49,950.00", "0.00", "0.00", "0.00", "0.00", "437.50",
     "0.00", "999.00", "120.00", "100.00", "0.00", "10.000", "356", "03/01/2024", "P", "0.00", "N"),
    ("100003", "80,000.00", "80.00", "0.00", "0.00", "0.00", "0.00", "79,920.00", "80,000.00", "700.00",
     "780.00", "0.00", "0.00", "0.00", "0.00", "11.000", "350", "02/01/2024", "3", "0.00", "N"),
    ("100004", "120,000.00", "120.00", "0.00", "0.00", "0.00", "0.00", "119,880.00", "120,120.00", "1,100.00",
     "1,220.00", "0.00", "0.00", "0.00", "0.00", "11.250", "340", "01/01/2024", "6", "0.00", "Y"),
    ("100005", "60,000.00", "60.00", "0.00", "0.00", "0.00", "0.00", "59,940.00", "60,180.00", "0.00",
     "0.00", "0.00", "0.00", "0.00", "0.00", "9.750", "356", "12/01/2023", "B", "0.00", "N"),
    ("100006", "70,000.00", "0.00", "0.00", "0.00", "70,000.00", "40,000.00", "0.00", "0.00", "0.00",
     "0.00", "0.00", "0.00", "0.00", "0.00", "12.000", "300", "10/01/2023", "L", "0.00", "N"),
    ("100007", "90,000.00", "0.00", "0.00", "0.00", "0.00", "0.00", "90,000.00", "90,500.00", "0.00",
     "0.00", "0.00", "0.00", "0.00", "0.00", "10.000", "356", "09/01/2023", "R", "55,000.00", "N"),
    ("100008", "110,000.00", "0.00", "0.00", "0.00", "0.00", "0.00", "110,000.00", "110,300.00", "0.00",
     "0.00", "0.00", "0.00", "0.00", "0.00", "10.000", "356", "11/01/2023", "F", "0.00", "N"),
]
#: last month: each loan ends where this month's row begins; 100007 was in foreclosure then
PREVIOUS_STATUS = {"100001": "C", "100002": "C", "100003": "C", "100004": "3", "100005": "B", "100006": "F",
                   "100007": "F", "100008": "F"}

INTAKE = """
intake:
  mapping: servicer.yaml
  delinquency_method: {method}
  fixings: fixings.yaml
"""


def csv_cell(cell: str) -> str:
    return f'"{cell}"' if "," in cell else cell


def tape_text(rows) -> str:
    return "\n".join([HEADER] + [",".join(map(csv_cell, (*r, "CA"))) for r in rows]) + "\n"


def previous_rows():
    out = []
    for r in ROWS:
        out.append((r[0], r[1], "0.00", "0.00", "0.00", "0.00", "0.00", r[1], r[1], "0.00", "0.00", "0.00",
                    "0.00", "0.00", "0.00", r[15], str(int(r[16]) + 1), r[17], PREVIOUS_STATUS[r[0]], "0.00", "N"))
    return out


#: The deal's first month, as small as the tapes: its pool ends where the tapes' loans begin
#: (680,000.00 in 8 loans), as intake checks.
FIRST_PERIOD = """\
period: 2024-02
opening:
  previous_distribution_date: 2024-01-30
  pool_balance: 680000.00
  loan_count: 8
  class_balances: {A: 600000.00, M-1: 0.00, M-2: 0.00, M-3: 0.00, M-4: 0.00, P: 100.00, R: 0.00}
index: {current: 0.0411, next: 0.0410}
collections:
  interest: 5950.00
  scheduled_principal: 0.00
  curtailments: 0.00
  payoffs: {count: 0, amount: 0.00}
  liquidations: []
  prepayment_charges: 0.00
advances: 0.00
wac: 0.1050
remaining_term: 357
delinquency:
  days_30_59: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}
  days_60_89: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}
  days_90_plus: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}
  foreclosure: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}
  bankruptcy: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}
  bankruptcy_60_plus: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}
reo: {stated_balance: 0.00, book_value: 0.00}
shortfalls: {prepayment_interest: 0.00, covered_by_servicer: 0.00, relief_act: 0.00}
"""


@pytest.fixture
def deal(tmp_path: Path) -> Path:
    return make_deal(tmp_path / "deal")


def make_deal(target: Path) -> Path:
    """The home-equity deal with its first period on file and a hand-made intake setup."""
    target.mkdir()
    shutil.copy(SYNTHETIC / "deal.yaml", target / "deal.yaml")
    shutil.copy(SYNTHETIC / "servicer.yaml", target / "servicer.yaml")
    (target / "periods").mkdir()
    (target / "periods" / "2024-02.yaml").write_text(FIRST_PERIOD)
    text = (target / "deal.yaml").read_text()
    if "\nintake:" not in text:
        (target / "deal.yaml").write_text(text + INTAKE.format(method="MBA"))
    (target / "fixings.yaml").write_text("2024-03: 0.0500\n2024-04: 0.0510\n")
    (target / "tapes").mkdir()
    (target / "tapes" / "2024-02.csv").write_text(tape_text(previous_rows()))
    (target / "tapes" / "2024-03.csv").write_text(tape_text(ROWS))
    return target


def intake(deal: Path, *extra: str, tape: str = "tapes/2024-03.csv") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", "intake", str(deal), "--period", "2024-03",
                           str(deal / tape), *extra], capture_output=True, text=True, timeout=120)


EXPECTED_BODY = """\
period: 2024-03
index:
  current: 0.0500
  next: 0.0510
collections:
  interest: 3112.50
  scheduled_principal: 410.00
  curtailments: 500.00
  payoffs: {count: 1, amount: 49950.00}
  liquidations:
    - {loan: "100006", balance: 70000.00, proceeds: 40000.00}
  prepayment_charges: 999.00
advances: 2000.00
wac: 0.1060
remaining_term: 347
delinquency:
  days_30_59: {count: 1, unpaid_balance: 80000.00, stated_balance: 79920.00}
  days_60_89: {count: 1, unpaid_balance: 120120.00, stated_balance: 119880.00}
  days_90_plus: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}
  foreclosure: {count: 1, unpaid_balance: 110300.00, stated_balance: 110000.00}
  bankruptcy: {count: 1, unpaid_balance: 60180.00, stated_balance: 59940.00}
  bankruptcy_60_plus: {count: 1, unpaid_balance: 60180.00, stated_balance: 59940.00}
reo:
  stated_balance: 90000.00
  book_value: 55000.00
  new:
    - {loan: "100007", unpaid_balance: 90500.00, stated_balance: 90000.00}
shortfalls:
  prepayment_interest: 120.00
  covered_by_servicer: 100.00
  relief_act: 15.00
"""


def test_the_tape_becomes_the_period_file(deal: Path):
    # interest 875 + 437.50 + 700 + 1,100; scheduled 100 + 50 + 80 + 120 + 60; advances 780 + 1,220.
    # WAC: (10.5% x 100,000 + 10% x 50,000 + 11% x 80,000 + 11.25% x 120,000 + 9.75% x 60,000
    #       + 12% x 70,000 + 10% x 90,000 + 10% x 110,000) / 680,000 = 72,050 / 680,000 = 10.5956% -> 0.1060.
    # Term: 235,760,000 / 680,000 = 346.7 -> 347.  MBA at 2024-02-29: 100003 (due 02/01) missed one
    # payment, 30-59; 100004 (due 01/01) two, 60-89; 100005 (bankrupt, due 12/01) three, 60+.
    done = intake(deal)
    assert done.returncode == 0, done.stderr
    text = (deal / "periods" / "2024-03.yaml").read_text()
    header, body = text.split("period: ", 1)
    assert "period: " + body == EXPECTED_BODY
    assert "# tape: tapes/2024-03.csv\n" in header
    assert "# loans: 8\n" in header
    assert "# modified loans (ending balance): 1 (119,880.00)\n" in header  # 100004
    assert "against the previous tape tapes/2024-02.csv" in header
    import hashlib
    assert f"# sha256: {hashlib.sha256((deal / 'tapes' / '2024-03.csv').read_bytes()).hexdigest()}\n" in header
    assert done.stdout.strip() == f"{deal}/periods/2024-03.yaml (8 loans)"


def test_the_ots_method_counts_one_bucket_later(deal: Path):
    (deal / "deal.yaml").write_text((deal / "deal.yaml").read_text().replace("delinquency_method: MBA",
                                                                             "delinquency_method: OTS"))
    assert intake(deal).returncode == 0
    text = (deal / "periods" / "2024-03.yaml").read_text()
    # 100003's one missed payment is current under OTS; 100004's two are 30-59; the bankrupt loan's
    # three are still 60+.
    assert "  days_30_59: {count: 1, unpaid_balance: 120120.00, stated_balance: 119880.00}\n" in text
    assert "  days_60_89: {count: 0, unpaid_balance: 0.00, stated_balance: 0.00}\n" in text
    assert "  bankruptcy_60_plus: {count: 1, unpaid_balance: 60180.00, stated_balance: 59940.00}\n" in text
    assert "by the OTS method" in text


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def refused(deal: Path, *extra: str, tape: str = "tapes/2024-03.csv") -> list[str]:
    done = intake(deal, *extra, tape=tape)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (deal / "periods" / "2024-03.yaml").exists()
    lines = done.stderr.splitlines()
    assert lines[-1].endswith("; nothing written")
    return [line.replace(f"{deal}/", "") for line in lines[:-1]]


T = "tapes/2024-03.csv"


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)

BAD_CELLS = [
    ("text in a number column", "100.00,500.00,0.00", "1OO.00,500.00,0.00",
     f"{T}:2:SCHED_PRIN: '1OO.00' is not a number (expected an amount in dollars and cents, written with '.' for "
     "decimals, ',' between thousands)"),
    ("more than two decimals", "100.00,500.00,0.00", "100.005,500.00,0.00",
     f"{T}:2:SCHED_PRIN: '100.005' has more than 2 decimal places (expected an amount in dollars and cents)"),
    ("a negative amount", "100.00,500.00,0.00", "-100.00,500.00,0.00",
     f"{T}:2:SCHED_PRIN: '-100.00' is negative (expected an amount in dollars and cents, 0 or more)"),
    ("an amount too large", "100.00,500.00,0.00", "1000000000000000.00,500.00,0.00",
     f"{T}:2:SCHED_PRIN: '1000000000000000.00' is too large (expected an amount in dollars and cents, at most 15 "
     "digits before the point)"),
    ("a status code the mapping lacks", ",C,0.00,N", ",X,0.00,N",
     f"{T}:2:STATUS: 'X' is not a status code of the mapping (expected one of: C, 3, 6, 9, F, R, B, P, L, U)"),
    ("a date that is not one", "356,03/01/2024,C", "356,2024-03-01,C",
     f"{T}:2:NEXT_DUE: '2024-03-01' is not a date written %m/%d/%Y (expected a date such as 01/31/2024, its year "
     "in four digits)"),
    ("a year in two digits", "356,03/01/2024,C", "356,03/01/24,C",
     f"{T}:2:NEXT_DUE: '03/01/24' is not a date written %m/%d/%Y (expected a date such as 01/31/2024, its year in "
     "four digits)"),
    ("a date before 1900", "356,03/01/2024,C", "356,03/01/1899,C",
     f"{T}:2:NEXT_DUE: date '03/01/1899' is out of range (expected a date from 01/01/1900 to 12/31/2199)"),
    ("a date after 2199", "356,03/01/2024,C", "356,01/01/2200,C",
     f"{T}:2:NEXT_DUE: date '01/01/2200' is out of range (expected a date from 01/01/1900 to 12/31/2199)"),
    ("a balance that does not roll", '"99,400.00","99,400.00"', '"99,500.00","99,400.00"',
     f"{T}:2:END_SCHED_BAL: ending balance 99,500.00 does not roll from the beginning balance: 100,000.00 - "
     "scheduled 100.00 - curtailment 500.00 - payoff 0.00 - liquidated 0.00 - repurchased 0.00 = 99,400.00 "
     "(expected 99,400.00)"),
    ("a month without its zero", "356,03/01/2024,C", "356,3/01/2024,C",
     f"{T}:2:NEXT_DUE: '3/01/2024' is not a date written %m/%d/%Y (expected a date such as 01/31/2024, its year "
     "in four digits)"),
    ("a date with a sign", "356,03/01/2024,C", "356,+03/01/2024,C",
     f"{T}:2:NEXT_DUE: '+03/01/2024' is not a date written %m/%d/%Y (expected a date such as 01/31/2024, its year "
     "in four digits)"),
    ("proceeds on a loan not liquidated", '"100,000.00",100.00,500.00,0.00,0.00,0.00,',
     '"100,000.00",100.00,500.00,0.00,0.00,250.00,',
     f"{T}:2:LIQ_PROCEEDS: liquidation proceeds 250.00 on a loan whose status is 'C' (current) (expected status "
     "'L', liquidated: proceeds are collected only on a loan liquidated this period)"),
    ("a duplicate loan id", "100002,", "100001,",
     f"{T}:3:LOAN_NO: loan 100001 is also on row 2 (expected each loan once)"),
]


@pytest.mark.parametrize("name, old, new, expected", BAD_CELLS, ids=[c[0] for c in BAD_CELLS])
def test_a_bad_cell_names_its_row_and_column(deal: Path, name, old, new, expected):
    rewrite(deal / T, old, new)
    assert expected in refused(deal)


def test_a_bad_cell_does_not_hide_another_rows_balance_that_does_not_roll(deal: Path):
    rewrite(deal / T, "356,03/01/2024,C", "356,2024-03-01,C")
    rewrite(deal / T, '"79,920.00","80,000.00"', '"79,921.00","80,000.00"')
    lines = refused(deal)
    assert [line.split(": ")[0] for line in lines] == [f"{T}:2:NEXT_DUE", f"{T}:4:END_SCHED_BAL"], lines


def test_problems_are_told_row_by_row_and_an_empty_cell_as_empty(deal: Path):
    """Row 2's bad date is told before row 3's bad amount, though amounts are checked first; a
    cell of spaces is told as empty, not echoed as ''."""
    rewrite(deal / T, "356,03/01/2024,C", "356,   ,C")
    rewrite(deal / T, '100002,"50,000.00",50.00,', '100002,"50,000.00",5O.00,')
    rewrite(deal / T, "350,02/01/2024,3,", "350,02/01/2024, ,")
    assert refused(deal) == [
        f"{T}:2:NEXT_DUE: is empty (expected a date such as 01/31/2024, its year in four digits)",
        f"{T}:3:SCHED_PRIN: '5O.00' is not a number (expected an amount in dollars and cents, written with '.' for "
        "decimals, ',' between thousands)",
        f"{T}:4:STATUS: is empty, not a status code of the mapping (expected one of: C, 3, 6, 9, F, R, B, P, L, U)"]


def test_a_list_cut_short_is_told_right_after_its_own_rows(deal: Path):
    """With each check's list cut at two rows (lowered from 50, through the real command line),
    the line counting the rest of the bad dates follows the last date told, not another check's
    problem on the same row."""
    import csv

    rows = list(csv.reader((deal / T).open(newline="")))
    due, status = rows[0].index("NEXT_DUE"), rows[0].index("STATUS")
    for r in rows[1:4]:
        r[due] = "99/99/2024"
    for r in rows[2:4]:
        r[status] = "Q"
    with (deal / T).open("w", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)
    code = ("import sys, generator.tape as t; t.MAX_LISTED = 2; from generator.cli import main; "
            "sys.argv[0] = 'remit'; main()")
    done = subprocess.run([sys.executable, "-c", code, "intake", str(deal), "--period", "2024-03", str(deal / T)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    told = [line.replace(f"{deal}/", "") for line in done.stderr.splitlines()[:-1]]
    starts = [f"{T}:2:NEXT_DUE: ", f"{T}:3:NEXT_DUE: ", f"{T}: ... and 1 more rows like the last in column NEXT_DUE",
              f"{T}:3:STATUS: ", f"{T}:4:STATUS: "]
    assert len(told) == len(starts) and all(line.startswith(s) for line, s in zip(told, starts)), told


def test_a_loan_that_leaves_without_being_paid_off(deal: Path):
    rewrite(deal / T, ",0.00,437.50,0.00,999.00,120.00,100.00,0.00,10.000,356,03/01/2024,P,",
            ",0.00,437.50,0.00,999.00,120.00,100.00,0.00,10.000,356,03/01/2024,C,")
    assert refused(deal) == [
        f"{T}:3:PIF_AMT: payoff 49,950.00 on a loan whose status is 'C' (current) (expected status 'P', paid in full)",
        f"{T}:3:END_SCHED_BAL: loan 100002 ends with no balance but its status is 'C' (current) (expected a loan to "
        "leave the pool only paid in full, liquidated or repurchased)"]


def test_missing_and_unknown_columns(deal: Path):
    text = (deal / T).read_text().replace("LOAN_NO,BEG_SCHED_BAL,SCHED_PRIN,CURTAIL,", "LOAN_NO,BEG_SCHED_BAL,SCHED_PRINCIPAL,CURTAIL,")
    (deal / T).write_text(text)
    assert refused(deal) == [
        f"{T}:1:SCHED_PRINCIPAL: unknown column (expected one the mapping reads, under columns:, or lists under ignore:)",
        f"{T}:1:SCHED_PRIN: column is missing (expected it for scheduled_principal: scheduled principal collected or "
        f"advanced, as servicer.yaml:{_line(deal / 'servicer.yaml', 'scheduled_principal: SCHED_PRIN')} maps it)"]


def test_a_column_twice_is_named_as_written(deal: Path):
    """polars names a second column of a name LIQ_BAL_duplicated_0: the message names the tape's."""
    text = (deal / T).read_text().splitlines()
    (deal / T).write_text("\n".join(f"{line},{line.split(',')[0]}" for line in text) + "\n")
    assert refused(deal) == [f"{T}:1:LOAN_NO: column appears twice (columns 1 and 23) (expected each column once)"]


def test_a_vanished_loan_is_named_on_the_previous_tape(deal: Path):
    lines = (deal / T).read_text().splitlines(keepends=True)
    (deal / T).write_text("".join(lines[:-1]))  # 100008, in foreclosure, is not on this month's tape
    assert refused(deal) == [
        "tapes/2024-02.csv:9:LOAN_NO: loan 100008 had 110,000.00 outstanding and is not on "
        f"{deal}/{T} (expected a row for it: a loan leaves the pool only paid in full, liquidated or "
        "repurchased)".replace(f"{deal}/", ""),
        f"{T}: the pool: the tape's loans begin the month with 570,000.00 (7 loans), but the 2024-02 statement left "
        "680,000.00 (8 loans) (expected the tape to start where that statement ended: is a loan missing, or was "
        "2024-02 taken from another tape?)"]


def test_the_tape_starts_where_the_last_statement_ended(deal: Path):
    """Without last month's tape to compare loan by loan, the pool's totals still tie: a tape
    missing a loan is refused, when the previous tape misses it too."""
    lines = (deal / T).read_text().splitlines(keepends=True)
    (deal / T).write_text("".join(lines[:-1]))  # 100008 is on neither tape, but on the 2024-02 statement
    previous = (deal / "tapes" / "2024-02.csv").read_text().splitlines(keepends=True)
    (deal / "tapes" / "2024-02.csv").write_text("".join(previous[:-1]))
    assert refused(deal) == [
        f"{T}: the pool: the tape's loans begin the month with 570,000.00 (7 loans), but the 2024-02 statement left "
        "680,000.00 (8 loans) (expected the tape to start where that statement ended: is a loan missing, or was "
        "2024-02 taken from another tape?)"]
    (deal / T).write_text("".join(lines))
    (deal / "tapes" / "2024-02.csv").write_text("".join(previous))
    assert intake(deal).returncode == 0


def test_a_new_loan_and_a_beginning_balance_that_is_not_last_months(deal: Path):
    rewrite(deal / T, "100008,", "100009,")
    rewrite(deal / T, '100003,"80,000.00",80.00,0.00,0.00,0.00,0.00,"79,920.00"',
            '100003,"80,100.00",80.00,0.00,0.00,0.00,0.00,"80,020.00"')
    out = refused(deal)
    assert f"{T}:9:LOAN_NO: loan 100009 is not on the previous month's tape {deal}/tapes/2024-02.csv (expected only " \
           "the pool's loans: the deal allows no substitutions)".replace(f"{deal}/", "") in out
    assert f"{T}:4:BEG_SCHED_BAL: beginning balance 80,100.00 is not the loan's ending balance on the previous " \
           f"month's tape, 80,000.00 ({deal}/tapes/2024-02.csv:4) (expected 80,000.00)".replace(f"{deal}/", "") in out
    assert any(line.startswith("tapes/2024-02.csv:9:LOAN_NO: loan 100008 had 110,000.00 outstanding") for line in out)


def test_a_tape_of_another_deal(deal: Path):
    (deal / T).write_text((deal / T).read_text().replace("\n10000", "\n90000"))
    assert refused(deal) == [
        f"{T}: none of its 8 loans is on the previous month's tape tapes/2024-02.csv (expected this deal's loans: is "
        "it another deal's tape?)"]


def test_a_tape_of_another_month(deal: Path):
    rewrite(deal / "servicer.yaml", "  loan_id: LOAN_NO\n", "  loan_id: LOAN_NO\n  as_of: AS_OF\n")
    for name in ("2024-02.csv", "2024-03.csv"):
        lines = (deal / "tapes" / name).read_text().splitlines()
        day = "01/31/2024"  # both tapes say January: the 2024-03 distribution's is as of 02/29/2024
        (deal / "tapes" / name).write_text("\n".join([lines[0] + ",AS_OF"] + [l + "," + day for l in lines[1:]]) + "\n")
    out = refused(deal)
    assert out[0] == f"{T}:2:AS_OF: the tape is as of 2024-01-31, not 2024-02-29 (expected the tape of the 2024-03 " \
                     "distribution: is it another month's?)"
    assert len(out) == 8


def test_an_encoding_error(deal: Path):
    raw = (deal / T).read_bytes().replace(b",CA\n", b",C\xe1\n", 1)
    (deal / T).write_bytes(raw)
    assert refused(deal) == [f"{T}:2:PROPERTY_STATE: byte b'\\xe1' is not utf-8 text (expected the mapping's "
                             "encoding, utf-8)"]


def test_an_empty_tape_and_a_header_only_tape(deal: Path):
    (deal / T).write_text("")
    assert refused(deal) == [f"{T}:1: the tape has no loans (expected a header row, then one row per loan)"]
    (deal / T).write_text(HEADER + "\n")
    assert refused(deal) == [f"{T}:2: the tape has no loans (expected a header row, then one row per loan)"]


def test_a_row_with_a_cell_too_many(deal: Path):
    rewrite(deal / T, ",CA\n", ",CA,XX\n")
    assert refused(deal) == [f"{T}:2: has 23 cells (expected 22, one per column of the header)"]


def test_a_gzip_tape_and_a_broken_one(deal: Path):
    import gzip

    (deal / "tapes" / "2024-03.csv.gz").write_bytes(gzip.compress((deal / T).read_bytes(), mtime=0))
    (deal / T).unlink()
    assert intake(deal, tape="tapes/2024-03.csv.gz").returncode == 0
    (deal / "periods" / "2024-03.yaml").unlink()
    (deal / "tapes" / "2024-03.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    [line] = refused(deal, tape="tapes/2024-03.csv.gz")
    assert line.startswith("tapes/2024-03.csv.gz: is not a readable gzip file (")


REMITTANCE = """\
# Example Mortgage Servicing LLC: remittance report for the 2024-03 distribution.
period: 2024-03
totals:
  loans: 8
  beginning_balance: 680000.00
  scheduled_principal: 410.00
  curtailments: 500.00
  payoffs: {count: 1, amount: 49950.00}
  liquidations: {count: 1, balance: 70000.00, proceeds: 40000.00}
  interest: 3112.50
  advances: 2000.00
  prepayment_charges: 999.00
  ending_balance: 559140.00
"""


def test_the_remittance_report_ties_to_the_cent(deal: Path):
    # ending: 680,000.00 - 410.00 - 500.00 - 49,950.00 - 70,000.00 = 559,140.00
    report = deal / "tapes" / "2024-03.remittance.yaml"
    report.write_text(REMITTANCE)
    done = intake(deal, "--remittance", str(report))
    assert done.returncode == 0, done.stderr
    assert "totals against the remittance report tapes/2024-03.remittance.yaml" in \
        (deal / "periods" / "2024-03.yaml").read_text()
    (deal / "periods" / "2024-03.yaml").unlink()
    report.write_text(REMITTANCE.replace("interest: 3112.50", "interest: 3112.51").replace("loans: 8", "loans: 9"))
    assert refused(deal, "--remittance", str(report)) == [
        "tapes/2024-03.remittance.yaml:4: totals.loans: the servicer reports 9 but the tape adds up to 8 (expected "
        "the same)",
        "tapes/2024-03.remittance.yaml:10: totals.interest: the servicer reports 3,112.51 but the tape adds up to "
        "3,112.50 (expected the same to the cent)"]


def test_explain_names_the_tape_the_rule_and_the_loans(deal: Path):
    assert intake(deal).returncode == 0
    run = lambda *a: subprocess.run([sys.executable, "-m", "generator", "explain", str(deal), "-p", "2024-03",  # noqa: E731
                                     "performance.sixty_plus_balance", *a], capture_output=True, text=True, timeout=120)
    brief, full = run(), run("--loans")
    assert brief.returncode == 0 and full.returncode == 0, brief.stderr + full.stderr
    assert "From the servicer's tape (tapes/2024-03.csv)\n  delinquency.days_60_89.stated_balance\n" \
           "      the sum of END_SCHED_BAL over the loans 60-89 days delinquent by the MBA method (status current or " \
           "delinquent, 2 payments missed at 2024-02-29): 1 loan\n" in brief.stdout
    assert "(--loans lists them)" in brief.stdout and "100004  row 5" not in brief.stdout
    assert "): 1 loan\n      100004  row 5  119,880.00\n" in full.stdout
    assert "over the loans in bankruptcy 60 or more days delinquent by the MBA method (2 payments or more missed " \
           "at 2024-02-29): 1 loan\n      100005  row 6  59,940.00\n" in full.stdout
    # a tape changed since intake read it is not traced to loans
    (deal / T).write_text((deal / T).read_text() + "\n")
    changed = run("--loans")
    assert changed.returncode == 0
    assert "not traced: the tape's SHA-256 is now" in changed.stdout and "100004  row 5" not in changed.stdout


def test_explain_traces_liquidation_proceeds_to_the_liquidated_loans(deal: Path):
    """Proceeds are a part of each item of the period file's list of liquidations: traced too."""
    assert intake(deal).returncode == 0
    done = subprocess.run([sys.executable, "-m", "generator", "explain", str(deal), "-p", "2024-03",
                           "pool.principal_remittance", "--loans"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("  collections.liquidations[].proceeds\n      LIQ_PROCEEDS of each of the loans liquidated: 1 loan\n"
            "      100006  row 7  40,000.00\n") in done.stdout


def test_explain_json_carries_the_tape_and_with_loans_the_loans(deal: Path):
    import json

    assert intake(deal).returncode == 0
    run = lambda *a: subprocess.run([sys.executable, "-m", "generator", "explain", str(deal), "-p", "2024-03",  # noqa: E731
                                     "delinquency.days_60_89.stated_balance", "-f", "json", *a],
                                    capture_output=True, text=True, timeout=120)
    brief, full = json.loads(run().stdout), json.loads(run("--loans").stdout)
    assert brief["tape"] == [{"field": "delinquency.days_60_89.stated_balance", "tape": "tapes/2024-03.csv",
                              "rule": "the sum of END_SCHED_BAL over the loans 60-89 days delinquent by the MBA "
                                      "method (status current or delinquent, 2 payments missed at 2024-02-29): "
                                      "1 loan"}]
    assert full["tape"][0]["loans"] == [{"loan": "100004", "row": 5, "value": "119,880.00"}]
    assert full["result"]["value"] == "119880.00"


def test_the_first_distributions_tape_must_start_from_the_cut_off_pool(tmp_path: Path):
    import gzip

    deal = tmp_path / "synthetic-home-equity-2024-1"
    shutil.copytree(SYNTHETIC, deal)
    for p in (deal / "periods").glob("*.yaml"):
        p.unlink()
    lines = gzip.decompress((deal / "tapes" / "2024-02.csv.gz").read_bytes()).decode().splitlines()
    header = lines[0].split(",")
    cells = next(__import__("csv").reader([lines[1]]))
    start, end = header.index("BEG_SCHED_BAL"), header.index("END_SCHED_BAL")
    more = lambda text: f"{__import__('decimal').Decimal(text.replace(',', '')) + 1:,.2f}"  # noqa: E731
    cells[start], cells[end], cells[header.index("ACTUAL_UPB")] = more(cells[start]), more(cells[end]), more(cells[end])
    lines[1] = ",".join(f'"{c}"' if "," in c else c for c in cells)
    (deal / "tapes" / "2024-02.csv").write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "generator", "intake", str(deal), "--period", "2024-02",
                           str(deal / "tapes" / "2024-02.csv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and not (deal / "periods" / "2024-02.yaml").exists()
    assert done.stderr.splitlines()[0] == (
        f"{deal}/tapes/2024-02.csv: the pool's loans start the first distribution at 500,000,001.00, not the pool's "
        "cut-off balance 500,000,000.00 in the deal file (expected the cut-off pool: is it another deal's or another "
        "month's tape?)")


def test_a_hand_written_period_file_is_never_replaced(deal: Path):
    (deal / "periods" / "2024-03.yaml").write_text("# written by hand\nperiod: 2024-03\n")
    done = intake(deal)
    assert done.returncode == 1
    assert f"{deal}/periods/2024-03.yaml: was written by hand: intake would replace it (expected no period file for " \
           "the month, or one intake wrote; move it aside first)" in done.stderr
    assert (deal / "periods" / "2024-03.yaml").read_text() == "# written by hand\nperiod: 2024-03\n"
    (deal / "periods" / "2024-03.yaml").unlink()
    assert intake(deal).returncode == 0  # and what intake wrote, it may write again
    first = (deal / "periods" / "2024-03.yaml").read_bytes()
    assert intake(deal).returncode == 0 and (deal / "periods" / "2024-03.yaml").read_bytes() == first


def test_a_line_break_in_a_quoted_cell_keeps_the_rows_line_numbers(deal: Path):
    # 100001's state is quoted over two lines: the rows after it start a line later
    rewrite(deal / T, ",N,CA\n100002,", ',N,"C\nA"\n100002,')
    rewrite(deal / T, "100003,\"80,000.00\",80.00,", "100003,\"80,000.00\",8O.00,")
    assert refused(deal) == [f"{T}:5:SCHED_PRIN: '8O.00' is not a number (expected an amount in dollars and cents, "
                             "written with '.' for decimals, ',' between thousands)"]


def test_a_tape_that_inflates_past_the_limit_is_refused_before_it_is_inflated(deal: Path):
    import gzip

    # the limit is 1 GiB; lowered to 4 KiB here (the tape inflates to 4 KiB and more), through the real command line
    (deal / "tapes" / "2024-03.csv.gz").write_bytes(gzip.compress((deal / T).read_bytes() + b"\n" * 8192, mtime=0))
    code = ("import sys, generator.tape as t; t.MAX_TAPE_BYTES = 4096; from generator.cli import main; "
            "sys.argv[0] = 'remit'; main()")
    done = subprocess.run([sys.executable, "-c", code, "intake", str(deal), "--period", "2024-03",
                           str(deal / "tapes" / "2024-03.csv.gz")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == f"{deal}/tapes/2024-03.csv.gz: holds more than 4,096 bytes once " \
                                          "decompressed (expected a tape of at most that)"


def test_a_gzip_bomb_is_refused_holding_little_of_it(deal: Path):
    """A tape inflating to 512 MiB against a limit lowered to 256 MiB is refused having held about
    a megabyte of it, not the limit: the command's peak memory is within 32 MiB of reading the
    month's real tape, as a parent process measures it."""
    import zlib

    bomb = deal / "tapes" / "2024-03.csv.gz"
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # a gzip stream
    with bomb.open("wb") as out:
        out.write(packer.compress((deal / T).read_bytes()))
        for _ in range(512):
            out.write(packer.compress(b"\n" * (1 << 20)))
        out.write(packer.flush())
    cli = ("import sys, generator.tape as t; t.MAX_TAPE_BYTES = 256 << 20; from generator.cli import main; "
           "sys.argv[0] = 'remit'; main()")
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, "
               "text=True); print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "print(done.stderr, file=sys.stderr)")

    def peak(tape: Path) -> tuple[int, int, str]:
        done = subprocess.run([sys.executable, "-c", measure, sys.executable, "-c", cli, "intake", str(deal),
                               "--period", "2024-03", str(tape)], capture_output=True, text=True,
                              timeout=300)
        code, kib = map(int, done.stdout.split())
        return code, kib, done.stderr

    code, bombed, told = peak(bomb)
    assert code == 1 and told.splitlines()[0] == (f"{bomb}: holds more than 268,435,456 bytes once decompressed "
                                                  "(expected a tape of at most that)"), told
    code, plain, told = peak(deal / T)
    assert code == 0, told
    assert bombed - plain < 32 << 10, (bombed, plain)


def test_a_bad_flag_names_the_flag_codes_whatever_the_order_of_the_columns(deal: Path):
    # the mapping reads modified before status: the message still lists the yes/no codes
    text = (deal / "servicer.yaml").read_text()
    rewrite(deal / "servicer.yaml", "  modified: MOD_FLAG\n", "")
    rewrite(deal / "servicer.yaml", "  status: STATUS\n", "  modified: MOD_FLAG\n  status: STATUS\n")
    assert text != (deal / "servicer.yaml").read_text()
    rewrite(deal / T, ",0.00,N,CA\n100002,", ",0.00,X,CA\n100002,")
    assert refused(deal) == [f"{T}:2:MOD_FLAG: 'X' is not a flag code of the mapping (expected one of: Y, N)"]


def test_a_mapping_naming_a_group_the_deal_lacks(deal: Path):
    rewrite(deal / "servicer.yaml", "flags:", 'groups: {"1": fixed}\nflags:')
    line = (deal / "servicer.yaml").read_text().splitlines().index('groups: {"1": fixed}') + 1
    assert refused(deal) == [f"servicer.yaml:{line}: groups.1: 'fixed' is not a loan group of the deal (expected: "
                             "none, it has one pool)"]


def test_a_group_column_without_group_codes_is_told_once_at_the_mapping(deal: Path):
    rewrite(deal / "servicer.yaml", "  loan_id: LOAN_NO\n", "  loan_id: LOAN_NO\n  group: PROPERTY_STATE\n")
    rewrite(deal / "servicer.yaml", "ignore: [PROPERTY_STATE]", "ignore: []")
    line = _line(deal / "servicer.yaml", "group: PROPERTY_STATE")
    assert refused(deal) == [f"servicer.yaml:{line}: columns.group: a group column needs groups: (expected the "
                             'servicer\'s code for each loan group, e.g. groups: {"1": fixed})']


def test_a_mapping_whose_entries_disagree_names_each_entry_at_its_line(deal: Path):
    """Two fields reading one column, a column both read and ignored, a yes/no column with no
    codes, a field a tape must have with no column: each at the line of the entry it is about,
    all at once, before any tape is read."""
    rewrite(deal / "servicer.yaml", "  curtailment: CURTAIL\n", "  curtailment: SCHED_PRIN\n")
    rewrite(deal / "servicer.yaml", "  payoff: PIF_AMT\n", "")
    rewrite(deal / "servicer.yaml", "ignore: [PROPERTY_STATE]", "ignore: [PROPERTY_STATE, NOTE_RATE]")
    rewrite(deal / "servicer.yaml", 'flags: {"Y": true, "N": false}', "")
    lines = (deal / "servicer.yaml").read_text().splitlines()
    at = {what: lines.index(what) + 1 for what in ("columns:", "  curtailment: SCHED_PRIN", "  modified: MOD_FLAG",
                                                   "ignore: [PROPERTY_STATE, NOTE_RATE]")}
    assert refused(deal) == [
        f"servicer.yaml:{at['columns:']}: columns: names no column for payoff (expected a column for every field a "
        "tape must have)",
        f"servicer.yaml:{at['  curtailment: SCHED_PRIN']}: columns.curtailment: reads column 'SCHED_PRIN', which "
        "scheduled_principal reads too (expected each column read once)",
        f"servicer.yaml:{at['  modified: MOD_FLAG']}: columns.modified: a yes/no column needs flags: (expected the "
        "servicer's codes for yes and no, e.g. flags: {Y: true, N: false})",
        f"servicer.yaml:{at['ignore: [PROPERTY_STATE, NOTE_RATE]']}: ignore[1]: 'NOTE_RATE' is a column columns: "
        "reads, as note_rate (expected a column either read or ignored)",
    ]


def test_a_period_file_on_file_that_is_not_text_is_refused_not_read(deal: Path):
    (deal / "periods" / "2024-03.yaml").write_bytes(b"period: 2024-03\n\xff\xfe\n")
    done = intake(deal)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{deal}/periods/2024-03.yaml: was written by hand: intake would replace it" in done.stderr
    assert (deal / "periods" / "2024-03.yaml").read_bytes() == b"period: 2024-03\n\xff\xfe\n"


def test_totals_of_the_largest_amounts_do_not_wrap_around(deal: Path):
    """Each cell may hold up to 15 digits before the point; 200 such loans add up to more than a
    64-bit integer holds in cents.  The weighted averages over them stay right."""
    big = "999,999,999,999,999.99"
    rows = [(f"2{i:05d}", big, "0.00", "0.00", "0.00", "0.00", "0.00", big, big, "875.00", "0.00", "0.00", "0.00",
             "0.00", "0.00", "10.500", "356", "03/01/2024", "C", "0.00", "N") for i in range(200)]
    (deal / T).write_text(tape_text(rows))
    (deal / "tapes" / "2024-02.csv").unlink()
    # no statement holds such a pool: the tie to the month before says so, with the exact sum
    assert refused(deal) == [
        f"{T}: the pool: the tape's loans begin the month with 199,999,999,999,999,998.00 (200 loans), but the "
        "2024-02 statement left 680,000.00 (8 loans) (expected the tape to start where that statement ended: is a "
        "loan missing, or was 2024-02 taken from another tape?)"]
    mapping = validate(Mapping, *load_yaml(deal / "servicer.yaml"))
    tape = read_tape(deal / T, mapping)
    figures = aggregate(_classify(tape.frame, as_of_date("2024-03"), "MBA", None), tape.headers)
    assert (figures["wac"], figures["remaining_term"]) == (D("0.1050"), 356)
    assert figures["collections.interest"] == D("175000.00")


def test_a_file_name_with_a_line_break_is_refused(deal: Path):
    """The period file's header names the tape: a line break in its name would start a field."""
    odd = deal / "tapes" / "2024-03\nextraordinary_expenses: 1000000.00\n#.csv"
    (deal / T).rename(odd)
    lines = refused(deal, tape=odd.relative_to(deal).as_posix())
    assert lines == ["'tapes/2024-03\\nextraordinary_expenses: 1000000.00\\n#.csv': the file's name holds a "
                     "character that is not printable (a line break, a control character, a non-breaking space, ...) "
                     "(expected a name of printable characters: the period file's header names the files it was made "
                     "from)"]


def test_tapes_the_csv_module_cannot_read_are_errors_not_tracebacks(deal: Path):
    import gzip

    (deal / T).write_bytes(b"LOAN_NO\rX\n\xff\n")  # a carriage return in the header, then a byte not UTF-8
    assert refused(deal) == [f"{T}:2:column 1: byte b'\\xff' is not utf-8 text (expected the mapping's encoding, "
                             "utf-8)"]
    (deal / T).write_bytes(gzip.compress(tape_text(ROWS).encode(), mtime=0))
    assert refused(deal) == [f"{T}: is compressed with gzip but its name does not end .gz (expected a name ending "
                             ".csv.gz for a compressed tape)"]
    upper = deal / "tapes" / "2024-03.CSV.GZ"
    (deal / T).rename(upper)
    assert intake(deal, tape="tapes/2024-03.CSV.GZ").returncode == 0
    (deal / "periods" / "2024-03.yaml").unlink()
    upper.rename(deal / T)
    # a cell larger than the csv module's limit, in a tape whose rows polars cannot count
    (deal / T).write_text(tape_text(ROWS) + '"' + ("x" * 50_000 + "\n") * 4 + '"\n' + "1,2\n")
    [line] = refused(deal)
    assert line.startswith(f"{T}:10: is not a CSV row that can be read (field larger than field limit (131072))")


def test_blank_lines_hold_no_loan_and_keep_the_line_numbers(deal: Path):
    lines = tape_text(ROWS).splitlines()
    (deal / T).write_text("\n".join(lines[:2] + ["", "  "] + lines[2:]) + "\n\n\n")
    done = intake(deal)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("(8 loans)")
    (deal / "periods" / "2024-03.yaml").unlink()
    rewrite(deal / T, "100002,", "100001,")  # the third loan, two blank lines further down: line 5
    assert f"{T}:5:LOAN_NO: loan 100001 is also on row 2 (expected each loan once)" in refused(deal)
    (deal / T).write_text(HEADER + "\n\n\n")
    assert refused(deal) == [f"{T}:2: the tape has no loans (expected a header row, then one row per loan)"]


def test_a_file_of_no_tapes_shape_is_refused_before_it_is_parsed(deal: Path):
    """A header of 100,000 empty columns took 30 s and 4.6 GB; a gigabyte on one line, 9 GB."""
    (deal / T).write_text(HEADER + "," * 100_000 + "\n" + tape_text(ROWS).split("\n", 1)[1])
    assert refused(deal) == [f"{T}:1: the header has 100,022 columns (expected a tape's, at most 1,000)"]
    (deal / T).write_text(HEADER + "\n" + "1" * 300_000 + "\n" * 20_000)  # blank lines do not hide it
    assert refused(deal) == [f"{T}:2: is a line of 300,000 bytes (expected a row per line, each a few hundred "
                             "bytes, at most 65,536)"]
    (deal / T).write_bytes(tape_text(ROWS).replace("\n", "\r").encode())
    assert refused(deal) == [f"{T}: its lines end in a carriage return alone (expected lines ending in a line feed, "
                             "or a carriage return and a line feed)"]


def test_a_remittance_report_that_states_nothing_ties_nothing(deal: Path):
    report = deal / "tapes" / "2024-03.remittance.yaml"
    report.write_text("period: 2024-03\ntotals: {}\n")
    assert refused(deal, "--remittance", str(report)) == [
        "tapes/2024-03.remittance.yaml:2: totals: states no totals (expected at least one of: loans, "
        "beginning_balance, scheduled_principal, curtailments, payoffs, liquidations, repurchases, interest, "
        "advances, prepayment_charges, ending_balance)"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "folder", "broken link"])
def test_a_previous_tape_that_is_not_a_file_is_said_to_be_one(deal: Path, kind):
    """Not skipped: the loan-by-loan tie to last month would be left out without a word."""
    previous = deal / "tapes" / "2024-02.csv"
    previous.unlink()
    {"fifo": os.mkfifo, "folder": os.mkdir, "broken link": lambda p: os.symlink(deal / "nowhere.csv", p)}[kind](previous)
    [line] = refused(deal)
    assert line.startswith("tapes/2024-02.csv: "), line


def test_a_linked_tape_is_named_as_given(deal: Path, tmp_path: Path):
    outside = tmp_path / "elsewhere.csv"
    (deal / T).rename(outside)
    (deal / T).symlink_to(outside)
    assert intake(deal).returncode == 0
    assert "\n# tape: tapes/2024-03.csv\n" in (deal / "periods" / "2024-03.yaml").read_text()


def test_a_row_with_a_cell_too_few_is_refused(deal: Path):
    """polars pads a short row with empty cells: a row missing an ignored last cell was taken,
    and one missing a cell in the middle would have the cells after it read from the wrong
    columns."""
    rewrite(deal / T, ",N,CA\n", ",N\n")  # loan 100001, its last cell (ignored)
    rewrite(deal / T, '100003,"80,000.00",80.00,', '100003,"80,000.00",')  # its scheduled principal
    assert refused(deal) == [f"{T}:2: has 21 cells (expected 22, one per column of the header)",
                             f"{T}:4: has 21 cells (expected 22, one per column of the header)"]


def test_intake_writes_no_period_file_that_check_would_refuse(tmp_path):
    """A tape whose figures pass intake's own checks but not the period file's (proceeds above
    a liquidated loan's balance) was written, and remit check then refused the file intake
    wrote: the file is now checked as a render reads it, and not written."""
    import csv
    import gzip

    from .conftest import ROOT

    deal = tmp_path / SYNTHETIC.name
    shutil.copytree(SYNTHETIC, deal)
    with gzip.open(deal / "tapes" / "2025-01.csv.gz", "rt", newline="") as fh:
        rows = list(csv.reader(fh))
    loan, proceeds = rows[0].index("LOAN_NO"), rows[0].index("LIQ_PROCEEDS")
    [row] = [r for r in rows if r[loan] == "100614"]  # liquidated: balance 176,387.33
    row[proceeds] = "999,999.00"
    tape = tmp_path / "2025-01.csv"
    with open(tape, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    period = deal / "periods" / "2025-01.yaml"
    period.write_bytes(period.read_bytes().replace(b"totals against the remittance report", b"untied"))
    before = period.read_bytes()
    done = subprocess.run([sys.executable, "-m", "generator", "intake", deal, "--period", "2025-01", tape], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{period} (as intake would write it):18: collections.liquidations[0].proceeds: proceeds 999,999.00 exceed "
        "the loan's balance 176,387.33", "1 error; nothing written"])
    assert period.read_bytes() == before


def test_intake_again_for_a_month_keeps_its_remittance_tie_and_names_the_months_after_it(tmp_path):
    """Intake again without --remittance replaced a file tied to the servicer's remittance
    report (a grouped deal's lost its pool totals) without a word; a changed month's later
    months start from what it left, and nothing said so; a FIFO where the month's file is
    blocked intake for ever."""
    from .conftest import ROOT

    deal = tmp_path / SYNTHETIC.name
    shutil.copytree(SYNTHETIC, deal)
    period = deal / "periods" / "2025-01.yaml"
    before = period.read_bytes()

    def intake(*extra) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "generator", "intake", deal, "--period", "2025-01",
                               deal / "tapes" / "2025-01.csv.gz", *extra], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)

    done = intake()
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{period}: was tied to the servicer's remittance report tapes/2025-01.remittance.yaml (expected --remittance "
        "REPORT to tie the file that replaces it too; or remove the file to write one without)",
        "1 error; nothing written"])
    assert period.read_bytes() == before
    done = intake("--remittance", deal / "tapes" / "2025-01.remittance.yaml")
    assert done.returncode == 0 and done.stderr == "" and period.read_bytes() == before  # the same file: no word
    period.write_bytes(before.replace(b"totals against the remittance report tapes/2025-01.remittance.yaml", b"x"))
    done = intake()
    assert done.returncode == 0 and period.read_bytes() != before
    assert done.stderr.splitlines() == [
        "remit intake: warning: the period files of 2025-02..2029-01 start from the state this month's statement "
        "leaves, which this file may have changed: run remit intake again for each of them, in order (each ties its "
        "tape to the month before; their tapes are named in their headers)"]
    period.unlink()
    os.mkfifo(period)
    done = intake()
    assert done.returncode == 1 and "was written by hand" in done.stderr
