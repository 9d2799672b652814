"""The synthetic auto-loan deal: fixed-rate notes on their own day counts, sequential and
turbo principal, a reserve account drawn and refilled.  Every expected number is worked out
here by hand from the period files and the deal's terms."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal as D
from pathlib import Path

import pytest

from generator import formats
from generator.pipeline import run

from .conftest import INPUTS, ROOT, check_golden
from .test_errors import edit

AUTO = INPUTS / "synthetic-auto-2025-1"
CENT = D("0.01")

GOLDEN_MONTHS = {
    "2025-02": "first distribution: A-1 on Actual/360 from the cut-off date, turbo principal builds OC",
    "2025-06": "OC reaches its target: excess goes on to fill the reserve account",
    "2025-09": "A-1 paid off in the period; principal goes on to A-2",
    "2026-01": "a 31-day accrual period: the 30/360 notes still accrue 30 days",
    "2026-03": "servicing disruption: the reserve account pays the notes' interest shortfall",
    "2026-04": "the reserve account refilled from excess to its target",
    "2026-05": "the reserve target falls with the pool: the excess above it released",
    "2029-01": "the 48th month",
}


@pytest.fixture(scope="module")
def story():
    return {c.period.period: c for c in run(AUTO, "all")}


def cents(x: D) -> D:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def test_forty_eight_months_reconcile_and_conserve_cash(story):
    assert len(story) == 48
    for key, c in story.items():
        s = c.statement
        assert all(check.ok for check in s.checks), key
        assert s.cash["available"] == s.cash["distributed"], key
        reserve = s.extra["accounts"]["reserve"]
        assert reserve["beginning"] + reserve["deposit"] + reserve["received"] - reserve["withdrawn"] \
            == reserve["balance"] >= reserve["floor"], key


@pytest.mark.parametrize("month", sorted(GOLDEN_MONTHS))
def test_golden_months(story, month, file_regression):
    check_golden(story[month], file_regression)


def test_first_month_coupons_on_their_own_day_counts(story):
    s = story["2025-02"].statement
    # from the cut-off date 2025-01-15 to 2025-02-18 (the 15th a Saturday, the 17th Presidents' Day)
    assert s.distribution_date == dt.date(2025, 2, 18) and s.accrual_days == 34
    a1, a2, c = s.cls("A-1"), s.cls("A-2"), s.cls("C")
    assert a1.current_interest == cents(D("95000000.00") * D("0.0452") * 34 / 360) == D("405544.44")
    assert a2.current_interest == D("624000.00")  # 160,000,000 x 4.68% x 30/360: a month of 30 days
    assert c.current_interest == D("81666.67")  # 17,500,000 x 5.60% / 12
    assert s.extra["coupons"]["A-1"]["accrual_days"] == 34 and s.extra["coupons"]["A-2"]["accrual_days"] == 30
    assert a1.rate == D("0.0452") and a1.next_rate == D("0.0452") and a1.index is None


def test_a_31_day_period_still_accrues_30_days_on_30_360(story):
    s = story["2026-01"].statement
    assert s.previous_distribution_date == dt.date(2025, 12, 15) and s.accrual_days == 31
    a2 = s.cls("A-2")
    assert a2.current_interest == cents(a2.beginning_balance * D("0.0468") * 30 / 360)
    assert a2.current_interest != cents(a2.beginning_balance * D("0.0468") * 31 / 360)


def test_record_and_determination_dates(story):
    s = story["2026-03"].statement
    assert s.distribution_date == dt.date(2026, 3, 16)  # the 15th is a Sunday
    assert s.record_date == dt.date(2026, 2, 27)  # the last business day of February (a Friday)
    assert s.extra["determination_date"] == dt.date(2026, 3, 10)  # 4 business days before


def test_fixed_fee_and_servicing_fee(story):
    for c in story.values():
        s = c.statement
        assert s.fees["Indenture Trustee"] == D("416.67")
        assert s.fees["Servicing"] == cents(s.pool["beginning_balance"] * D("0.01") / 12)


def test_turbo_principal_builds_oc_before_anything_reaches_the_certificates(story):
    s = story["2025-02"].statement
    assert s.oc["beginning"] == D("25000000.00")  # 500,000,000 of receivables, 475,000,000 of notes
    assert s.oc["target"] == cents(s.pool["ending_balance"] * D("0.07"))
    excess = s.cash["interest_left"] + sum(step.amount for step in s.waterfall
                                           if step.description == "Remaining interest to excess cash flow")
    assert s.oc["increase"] == excess > 0  # all the excess interest, as principal
    assert s.oc["ending"] == s.oc["beginning"] + s.oc["increase"] - s.losses["realized"]
    assert s.cls("CERT").interest == 0
    months = sorted(story)
    first_paid = next(k for k in months if story[k].statement.cls("CERT").interest > 0)
    at_target = next(k for k in months if story[k].statement.oc["ending"] == story[k].statement.oc["target"])
    assert at_target == "2025-06" and first_paid == "2025-07"  # the reserve account fills in between


def test_principal_is_sequential(story):
    for c in story.values():
        s = c.statement
        names = ["A-1", "A-2", "A-3", "A-4", "B", "C"]
        for senior, junior in zip(names, names[1:]):
            if s.cls(junior).principal > 0:
                assert s.cls(senior).ending_balance == 0, (c.period.period, senior, junior)
    s = story["2025-09"].statement
    assert s.cls("A-1").ending_balance == 0 and s.cls("A-1").principal == s.cls("A-1").beginning_balance > 0
    assert s.cls("A-2").principal > 0


def test_the_reserve_pays_the_interest_shortfall(story):
    s = story["2026-03"].statement
    reserve = s.extra["accounts"]["reserve"]
    notes = [s.cls(n) for n in ("A-1", "A-2", "A-3", "A-4", "B", "C")]
    due = sum(n.current_interest for n in notes)
    fees = s.fees["Servicing"] + s.fees["Indenture Trustee"]
    from_collections = s.pool["interest_remittance"] - fees  # all of it goes to the notes
    assert from_collections < due
    draw = due - from_collections
    # 1,292,325.63 of note interest (A-2 405,013.13 on 103,849,520.89, A-3 510,250.00, A-4 209,562.50,
    # B 85,833.33, C 81,666.67), less 472,129.69 from collections (762,734.10 collected, less servicing
    # 290,187.74 = 1% / 12 of 348,225,291.28 and the trustee's 416.67)
    assert s.extra["figures"]["reserve.draw"] == draw == D("820195.94")
    assert all(n.unpaid_interest_after == 0 and n.interest_distribution == n.current_interest for n in notes)
    assert reserve["beginning"] == D("5000000.00") and reserve["target"] == D("5000000.00")
    # the principal the notes did not need went to excess, and from there part way back up
    assert reserve["received"] == s.oc["reduction"]
    assert reserve["balance"] == reserve["beginning"] - draw + reserve["received"] < reserve["target"]
    assert s.cls("CERT").interest == 0


def test_the_reserve_is_refilled_then_released_above_its_target(story):
    before = story["2026-03"].statement.extra["accounts"]["reserve"]
    s = story["2026-04"].statement
    reserve = s.extra["accounts"]["reserve"]
    # the target: 1.50% of the pool once that is under 1.00% of the cut-off balance (5,000,000)
    assert reserve["target"] == cents(s.pool["ending_balance"] * D("0.015")) < D("5000000.00")
    assert reserve["beginning"] == before["balance"]
    # 1.50% of 326,106,596.96 is 4,891,598.95; it held 5,000,000.00 - 820,195.94 + 547,724.71 = 4,727,528.77
    assert reserve["received"] == reserve["target"] - reserve["beginning"] == D("164070.18")
    assert reserve["balance"] == reserve["target"] and reserve["withdrawn"] == 0
    after = story["2026-05"].statement.extra["accounts"]["reserve"]
    released = after["beginning"] - after["target"]
    assert released > 0 and after["withdrawn"] == released and after["balance"] == after["target"]
    assert story["2026-05"].statement.extra["figures"]["reserve.draw"] == 0


def test_no_deal_specific_python():
    found = subprocess.run(["git", "grep", "-l", "-e", "synthetic-auto", "-e", "auto-abs", "--", "generator/"],
                           cwd=ROOT, capture_output=True, text=True)
    assert found.stdout == ""


def _check(deal: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", "check", str(deal), "--period", "all"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def auto_deal(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(AUTO, target)
    return target


@pytest.mark.parametrize("figure, told", [
    # in every record's pool: reported too, it stood twice in the JSON and CSV
    ("pool.factor", "is on every statement already"),
    # in the record's accounts (a carried account's roll-forward): reported too, it stood twice
    ("accounts.reserve.target", "is on the statement already, among its deal's own figures"),
])
def test_a_figure_the_statement_shows_is_not_reported_again(auto_deal, figure, told):
    edit(auto_deal / "deal.yaml", "report: [reserve.draw,", f"report: [{figure}, reserve.draw,")
    done = _check(auto_deal)
    assert done.returncode == 1
    line = next(i for i, text in enumerate((auto_deal / "deal.yaml").read_text().splitlines(), 1)
                if text.startswith("report:"))
    assert (f"{auto_deal}/deal.yaml:{line}: report[0]: {figure} {told} (expected only figures the statement does "
            "not show: report: adds them to it)") in done.stderr.splitlines()


def test_a_reserve_target_below_its_floor_is_an_error(auto_deal):
    # without its max(..., floor), 1.50% of a pool under 83,333,333.33 is below the 1,250,000.00 floor
    edit(auto_deal / "deal.yaml",
         "target: max(min(cents(pool.cutoff_balance * 0.01), cents(pool.ending_balance * 0.015)), accounts.reserve.floor)",
         "target: min(cents(pool.cutoff_balance * 0.01), cents(pool.ending_balance * 0.015))")
    done = _check(auto_deal)
    assert done.returncode == 1
    line = next(i for i, text in enumerate((auto_deal / "deal.yaml").read_text().splitlines(), 1)
                if text.strip().startswith("target: min("))
    [error] = [e for e in done.stderr.splitlines() if "deal.yaml" in e]
    assert error.startswith(f"{auto_deal}/deal.yaml:{line}: accounts[3].target: the reserve account's target ")
    assert "is below its floor 1,250,000.00 this period (expected a target formula that gives at least " \
           "accounts.reserve.floor" in error
    assert "nothing written" in done.stderr


@pytest.mark.parametrize("old, new, message", [
    ("coupon: {kind: fixed, rate: 0.0452, day_count: actual/360}",
     "coupon: {kind: fixed, rate: 0.0452, day_count: actual/364}",
     "classes[0].coupon.day_count: got 'actual/364' (expected 'actual/360', '30/360' or 'actual/365')"),
    ("coupon: {kind: fixed, rate: 0.0452, day_count: actual/360}",
     "coupon: {kind: fixd, rate: 0.0452, day_count: actual/360}",
     "classes[0].coupon.kind: got 'fixd' (expected 'floating' or 'fixed')"),
    ("coupon: {kind: fixed, rate: 0.0452, day_count: actual/360}",
     "coupon: {kind: fixed, margin: 0.0452, day_count: actual/360}",
     "classes[0].coupon: a fixed coupon needs rate:"),
    ("{name: Indenture Trustee, amount: 416.67,", "{name: Indenture Trustee, amount: 416.67, annual_rate: 0.001,",
     "fees[1]: a fee has annual_rate: (a rate on its base) or amount: (a fixed amount each month), one of the two"),
])
def test_bad_coupons_and_fees_are_named(auto_deal, old, new, message):
    edit(auto_deal / "deal.yaml", old, new)
    done = _check(auto_deal)
    assert done.returncode == 1 and message in done.stderr, done.stderr


def test_every_month_renders_as_html_and_a_stressed_month_as_pdf(story, tmp_path):
    for key, c in story.items():
        page = formats.html(c).decode()
        reserve = c.statement.extra["accounts"]["reserve"]
        assert f'data-field="extra.accounts.reserve.balance">{reserve["balance"]:,}</td>' in page, key
        assert "Coupon terms" in page and "Actual/360" in page and "30/360" in page
    pdf = tmp_path / "stressed.pdf"
    pdf.write_bytes(formats.pdf(story["2026-03"]))
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Reserve account 5,000,000.00 0.00 547,724.71 820,195.94 4,727,528.77 5,000,000.00 1,250,000.00" \
        in text.replace("Reserve\naccount\n", "Reserve account ")
    assert "Drawn on the reserve account for note interest (reserve.draw) 820,195.94" in " ".join(text.split())


def test_the_layout_shows_the_beginning_pool_factor_which_is_last_months_pool_factor(story):
    before = story["2026-02"].statement.pool["factor"]
    now = story["2026-03"].statement.pool["factor"]
    assert story["2026-03"].statement.pool["beginning_factor"] == before
    [line] = [x for x in formats.text(story["2026-03"]).decode().splitlines() if x.startswith("Pool Factor")]
    assert line.split()[2:] == [str(before.quantize(D("1e-8"), rounding=ROUND_HALF_UP)),
                                str(now.quantize(D("1e-8"), rounding=ROUND_HALF_UP))]
    # the first month has no statement before it: it begins at the cut-off balance
    [first] = [x for x in formats.text(story["2025-02"]).decode().splitlines() if x.startswith("Pool Factor")]
    factor = story["2025-02"].statement.pool["factor"]
    assert first.split()[2:] == ["1.00000000", str(factor.quantize(D("1e-8"), rounding=ROUND_HALF_UP))]


def test_a_template_may_read_the_previous_statement(story, tmp_path):
    """``previous`` is the deal's statement before this one, none for its first."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "with-previous.txt.j2").write_text(
        "{{ s.distribution_date }} after {{ previous.distribution_date if previous else 'none' }}:"
        " {{ previous.extra.figures['reserve.draw']|money if previous else '' }}\n")
    story["2026-04"].deal.templates["text"] = "with-previous.txt.j2"
    try:
        first, later = (formats.text(story[m], templates).decode() for m in ("2025-02", "2026-04"))
    finally:
        story["2026-04"].deal.templates["text"] = "auto-abs.txt.j2"
    draw = story["2026-03"].statement.extra["figures"]["reserve.draw"]
    assert draw > 0  # the month the reserve paid the notes
    assert first == "2025-02-18 after none: \n"
    assert later == f"2026-04-15 after 2026-03-16: {cents(draw):,}\n"


def test_an_accrual_class_adds_its_interest_to_its_balance_and_pays_the_notes_ahead_of_it(auto_deal):
    """Class C made an accrual class (in a copy of the deal): while A-1 or A-2 is outstanding its
    interest is added to its balance, and the cash that would have paid it pays principal."""
    deal = auto_deal / "deal.yaml"
    edit(deal, "coupon: {kind: fixed, rate: 0.0560, day_count: 30/360}}",
         "coupon: {kind: fixed, rate: 0.0560, day_count: 30/360},\n     accretes: \"A-1.beginning_balance + A-2.beginning_balance > 0.00\"}")
    edit(deal, "  - {pay: interest, from: interest, classes: [C]}\n",
         "  - {pay: interest, from: interest, classes: [C], when: not C.accretes}\n"
         "  - {transfer: amount, from: interest, to: principal, amount: C.accreted,\n"
         "     description: \"Accrual amount of class C, as principal of the notes before it\"}\n")
    edit(deal, "    formula: pool.principal_remittance - oc.release_due + oc.extra_principal_due",
         "    formula: pool.principal_remittance - oc.release_due + oc.extra_principal_due + C.accreted")
    # what C accretes beyond what the interest account could move to principal reduces OC
    edit(deal, 'oc.reduction: {label: "OC reduction: principal not needed by the notes", formula: '
               'transfers.principal.excess}',
         'oc.reduction: {label: "OC reduction: principal not needed, and accretion not funded", formula: '
         '"transfers.principal.excess + C.accreted - transfers.interest.principal"}')
    story = {c.period.period: c for c in run(auto_deal, "all")}
    first = story["2025-02"].statement
    c = first.cls("C")
    accreted = first.extra["coupons"]["C"]["accreted"]
    assert accreted == c.current_interest == D("81666.67")  # 17,500,000 x 5.60% / 12
    import io

    import openpyxl

    from generator import formats

    coupons = openpyxl.load_workbook(io.BytesIO(formats.xlsx(story["2025-02"])))["coupons"]
    header = [cell.value for cell in coupons[1]]
    assert {row[0].value: row[header.index("accreted")].value for row in coupons.iter_rows(min_row=2)}["C"] == 81666.67
    assert c.ending_balance == D("17500000.00") + accreted and c.interest == 0 and c.unpaid_interest_after == 0
    # the notes before C got the accrual amount as principal, besides the principal collected
    paid = sum(first.cls(n).principal for n in ("A-1", "A-2", "A-3", "A-4", "B"))
    assert paid == first.pool["principal_remittance"] + first.oc["increase"] + accreted
    balance = D("17500000.00")
    for key in sorted(story):
        s = story[key].statement
        assert all(check.ok for check in s.checks), key
        cls_c = s.cls("C")
        assert cls_c.beginning_balance == balance
        balance = cls_c.ending_balance
    # in the servicing disruption the interest account could not fund all of C's accretion
    stressed = story["2026-03"].statement
    moved = [st.amount for st in stressed.waterfall if st.description.startswith("Accrual amount of class C")]
    unfunded = stressed.extra["coupons"]["C"]["accreted"] - moved[0]
    assert unfunded > 0 and stressed.oc["reduction"] >= unfunded
    # once are paid off it stops accreting and is paid its interest
    accreting = [k for k in sorted(story) if story[k].statement.extra["coupons"]["C"]["accreted"] > 0]
    after = story[sorted(story)[len(accreting)]].statement
    assert accreting == sorted(story)[:len(accreting)] and after.cls("A-2").beginning_balance == 0
    assert after.cls("C").interest == after.cls("C").current_interest > 0
    assert after.cls("C").beginning_balance > D("17500000.00")


def test_a_principal_only_class(auto_deal):
    """A-1 made principal-only (in a copy of the deal): it is paid principal in its turn and
    accrues nothing; a senior class with neither a coupon nor principal_only is refused."""
    deal = auto_deal / "deal.yaml"
    edit(deal, "original_balance: 95000000.00,\n     coupon: {kind: fixed, rate: 0.0452, day_count: actual/360}}",
         "original_balance: 95000000.00, principal_only: true}")
    story = {c.period.period: c for c in run(auto_deal, "2025-02..2025-09")}
    first = story["2025-02"].statement
    a1 = first.cls("A-1")
    assert a1.current_interest == 0 and a1.interest == 0 and a1.rate is None
    assert a1.principal > 0 and first.cls("A-2").principal == 0
    assert story["2025-09"].statement.cls("A-1").ending_balance == 0
    edit(deal, "original_balance: 95000000.00, principal_only: true}", "original_balance: 95000000.00}")
    done = _check(auto_deal)
    assert done.returncode == 1 and "class A-1 (senior) needs a coupon (expected coupon: {margin: ..., cap: ...}, " \
                                   "or principal_only: true)" in done.stderr


def amounts_of_table(text: str, header: str) -> tuple[dict[str, list[D]], list[D]]:
    """The money columns of a text statement's class table: each class row's, and its Total row's."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 1
    rows: dict[str, list[D]] = {}
    for line in lines[start:]:
        words = line.split()
        money = [D(w.replace(",", "")) for w in words if re.fullmatch(r"-?[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}", w)]
        if words[0] == "Total":
            return rows, money
        rows[words[0]] = money
    raise AssertionError(f"no Total row after {header!r}")


@pytest.mark.parametrize("month", sorted(GOLDEN_MONTHS))
def test_the_notes_total_is_the_sum_of_the_notes_shown(story, month):
    """The NOTES table lists the notes, not the certificates (whose notional is the OC, shown with
    the pool); its Total row adds up the rows above it, column by column."""
    rows, total = amounts_of_table(formats.text(story[month]).decode(), "Class   CUSIP")
    assert list(rows) == ["A-1", "A-2", "A-3", "A-4", "B", "C"]
    assert [sum(column) for column in zip(*rows.values())] == total and len(total) == 5


def test_the_plain_layout_takes_fixed_rate_notes_and_no_index(auto_deal):
    """The plain statement (statement.txt.j2), which a new deal may start from, shows a deal
    with fixed-rate notes, no index and no rate cap, and a fee name longer than its column."""
    edit(auto_deal / "deal.yaml", "text: auto-abs.txt.j2", "text: statement.txt.j2")
    (c,) = run(auto_deal, "2026-03")
    text = formats.text(c).decode()
    lines = text.splitlines()
    assert "LIBOR" not in text and "Net WAC Cap" not in text
    assert "Indenture Trustee Fee                                           417" in lines
    assert max(len(line) for line in lines if "Fee" in line) == 67
    a2 = next(line for line in lines if line.startswith("A-2 ") and "fixed" in line)
    assert a2.split()[1:] == ["fixed", "4.68000%", "4.68000%"]


def _no_value(auto_deal: Path, tmp_path: Path, name: str, layout: str, kind: str) -> tuple[Path, str]:
    """The templates folder and the error of the auto deal's March 2026 (which has no Net WAC
    cap) rendered with the project's templates and ``name`` written as ``layout``, its ``kind``."""
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(formats.TEMPLATES, templates)
    (templates / name).write_text(layout)
    edit(auto_deal / "deal.yaml", f"{kind}: auto-abs.{kind}.j2".replace("text.j2", "txt.j2"), f"{kind}: {name}")
    (c,) = run(auto_deal, "2026-03")
    with pytest.raises(formats.TemplateError) as caught:
        formats.FORMATS[kind][1](c, templates)
    return templates, str(caught.value)


def test_a_figure_with_no_value_given_to_a_filter_says_what_to_write(auto_deal, tmp_path):
    """Not Python's "conversion from NoneType to Decimal is not supported"."""
    templates, message = _no_value(auto_deal, tmp_path, "mine.txt.j2", "Cap {{ s.net_wac_cap|pct(5) }}\n", "text")
    assert message == (
        f"{templates / 'mine.txt.j2'}:1: a figure with no value this period (a fixed-rate class's index, the rate cap "
        "of a deal without one, ...) is given to a number filter, in `s.net_wac_cap|pct(5)` "
        "(expected the template to show it only when it has one: {% if figure is not none %})")


@pytest.mark.parametrize("layout, where, shown", [
    ("Cap {{ s.index_rate|pct(5) }} {{ s.net_wac_cap|pct(5) }} {{ s.accrual_days }}\n", "mine.txt.j2:1",
     "in one of `s.index_rate|pct(5)`, `s.net_wac_cap|pct(5)` ("),
    ("{{ ('x' * 150) }}{{ s.pool.ending_balance|money }}{{ ('y' * 150) }}{{ s.net_wac_cap|pct(5)|rjust(9) }}\n",
     "mine.txt.j2:1", "in one of `s.pool.ending_balance|money`, `s.net_wac_cap|pct(5)|rjust(9)` ("),
    ("Pool\n{{ (s.pool.ending_balance|money) ~\n   (s.net_wac_cap|pct(5)) }}\n", "mine.txt.j2:2",
     "in `(s.pool.ending_balance|money) ~ (s.net_wac_cap|pct(5))` ("),
    ("Pool\n{% include 'parts/cap.txt.j2' %}\n", "parts/cap.txt.j2:2",
     "in `s.net_wac_cap|pct(5)`, called from mine.txt.j2:2 ("),
    ("{# {{ s.pool.ending_balance|money }} #}{% set a = '{{' %}{{- s.net_wac_cap|pct(5) ~ '}}' -}}\n",
     "mine.txt.j2:1", "in `s.net_wac_cap|pct(5) ~ '}}'` ("),
    ("{% raw %}{{ x|money }}{% endraw %}{{ s.net_wac_cap|pct(5) }}\n", "mine.txt.j2:1", "in `s.net_wac_cap|pct(5)` ("),
    ("{% import 'parts/m.txt.j2' as m %}\nA {{ m.cap(s.net_wac_cap) }}\n", "parts/m.txt.j2:2",
     "in `x|pct(5)`, called from mine.txt.j2:2 in `m.cap(s.net_wac_cap)` ("),
])
def test_a_figure_with_no_value_is_found_among_the_lines_expressions(auto_deal, tmp_path, layout, where, shown):
    """A long line, several filters on one line, an expression over two lines, an included part
    in a subfolder (beside a part of the same name at the top): the message names the template
    and the line, and quotes every number-filtered expression that starts there, whole."""
    templates = tmp_path / "templates"
    (templates / "parts").mkdir(parents=True)
    (templates / "mine.txt.j2").write_text(layout)
    (templates / "parts" / "cap.txt.j2").write_text("Cap\n{{ s.net_wac_cap|pct(5) }}\n")
    (templates / "cap.txt.j2").write_text("an unrelated template\n{{ s.accrual_days }}\n")
    (templates / "parts" / "m.txt.j2").write_text("{% macro cap(x) %}\n[{{ x|pct(5) }}]\n{% endmacro %}\n")
    edit(auto_deal / "deal.yaml", "text: auto-abs.txt.j2", "text: mine.txt.j2")
    (c,) = run(auto_deal, "2026-03")
    with pytest.raises(formats.TemplateError) as caught:
        formats.text(c, templates)
    assert str(caught.value).startswith(f"{templates}/{where}: a figure with no value this period")
    assert shown in str(caught.value)


def test_an_html_template_given_a_figure_with_no_value_says_which(auto_deal, tmp_path):
    templates, message = _no_value(auto_deal, tmp_path, "mine.html.j2", "<p>Cap\n{{ s.net_wac_cap|pct(5) }}</p>\n",
                                   "html")
    assert message.startswith(f"{templates}/mine.html.j2:2: a figure with no value this period")
    assert "in `s.net_wac_cap|pct(5)` (expected" in message


def test_a_layout_showing_a_determination_date_the_schedule_lacks_names_the_schedule(auto_deal):
    """Listing it under report: would not help: the schedule's rule gives the date."""
    edit(auto_deal / "deal.yaml", "  determination_business_days: 4\n", "")
    done = subprocess.run([sys.executable, "-m", "generator", "check", str(auto_deal), "--period", "2025-02"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{auto_deal}/deal.yaml:19: schedule: template auto-abs.txt.j2 shows the determination date, which the "
        "deal's schedule does not give (expected determination_business_days: N, the business days before the "
        "distribution date it falls)", "1 error; nothing written"]


def test_the_plain_layout_shows_carried_accounts_and_reported_figures(auto_deal):
    """A deal on the plain layout (statement.txt.j2) gets its carried accounts' roll-forward and
    the figures its report: adds, as the HTML does: nothing the JSON has is left off."""
    edit(auto_deal / "deal.yaml", "  text: auto-abs.txt.j2", "  text: statement.txt.j2")
    [c] = run(auto_deal, "2026-03")
    lines = formats.text(c).decode().splitlines()
    accounts = lines[lines.index("ACCOUNTS") + 1:lines.index("OTHER FIGURES")]
    reserve = c.statement.extra["accounts"]["reserve"]
    assert accounts[0] == "Reserve account"
    shown = {line[:38].strip(): line[38:].strip() for line in accounts[1:] if line.strip()}
    assert shown["Beginning Balance"] == f"{reserve['beginning']:,.2f}" and shown["Ending Balance"] == \
        f"{reserve['balance']:,.2f}" and shown["Target"] == f"{reserve['target']:,.2f}"
    assert all(len(line) <= 73 for line in accounts)
    figures = {line[:44].strip(): line[44:].strip() for line in lines[lines.index("OTHER FIGURES") + 1:] if line}
    assert list(figures) == list(c.statement.extra["figures"])
    assert figures["notes.ending_balance"] == f"{c.statement.extra['figures']['notes.ending_balance']:,.2f}"
    assert figures["delinquency.pct_30_59"].endswith("%")
