"""The synthetic two-group deal: loan groups reported apart, fixed and floating coupons on
their own day counts, an interest-only class, a swap, an insurer's policy drawn and
reimbursed with interest, cross-collateralization.  Every expected number is worked out here
by hand from the period files and the deal's terms."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal as D
from pathlib import Path

import pytest

from generator import formats
from generator.explain import explain
from generator.pipeline import run

from .conftest import INPUTS, ROOT, check_golden
from .test_errors import edit
from .test_explain import every_figure_explains

DEAL = INPUTS / "synthetic-two-group-2025-1"
INSURED = ("A-1", "A-2", "A-3")

GOLDEN_MONTHS = {
    "2025-03": "first distribution: each group's collections apart, the swap pays the trust",
    "2025-07": "the index spikes: A-3 capped at Group II's net WAC, carryover owed",
    "2025-09": "A-3's carryover paid from excess cash flow",
    "2025-12": "servicing disruption: Group II covers Group I's seniors, the policy pays the rest",
    "2026-01": "the insurer reimbursed, with interest, from excess cash flow",
    "2026-02": "the insurer repaid in full; the mezzanine classes' unpaid interest repaid",
    "2026-04": "Group II liquidations: losses absorbed by OC",
    "2026-10": "the index under the swap's fixed rate: the trust pays the counterparty",
    "2028-03": "A-IO's notional has stepped down to nothing",
}


@pytest.fixture(scope="module")
def story():
    return {c.period.period: c for c in run(DEAL, "all")}


def cents(x: D) -> D:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_forty_eight_months_reconcile_and_the_groups_add_up(story):
    assert len(story) == 48
    for key, c in story.items():
        s = c.statement
        assert all(check.ok for check in s.checks), key
        assert "groups add up to the pool" in [check.name for check in s.checks]
        groups = s.extra["groups"]
        assert sum(g["ending_balance"] for g in groups.values()) == s.pool["ending_balance"], key
        assert sum(g["principal_remittance"] for g in groups.values()) == s.pool["principal_remittance"], key
        assert sum(g["interest_remittance"] for g in groups.values()) == s.pool["interest_remittance"], key
        assert s.cash["available"] == s.cash["distributed"], key


@pytest.mark.parametrize("month", sorted(GOLDEN_MONTHS))
def test_golden_months(story, month, file_regression):
    check_golden(story[month], file_regression)


def test_pool_figures_are_the_groups_weighted(story):
    s = story["2025-12"].statement
    g1, g2 = s.extra["groups"]["fixed"], s.extra["groups"]["adjustable"]
    # the groups' WACs in the period file (Group II's loans reset in month 7, most to their caps)
    assert (g1["wac"], g2["wac"]) == (D("0.0720"), D("0.1051"))
    weighted = (D("0.0720") * g1["beginning_balance"] + D("0.1051") * g2["beginning_balance"]) \
        / s.pool["beginning_balance"]
    assert abs(s.pool["wac"] - weighted) < D("1e-25")
    term = (g1["remaining_term"] * g1["beginning_balance"] + g2["remaining_term"] * g2["beginning_balance"]) \
        / s.pool["beginning_balance"]
    # (321 x 273,888,243.39 + 348 x 171,286,770.39) / 445,175,013.78 = 331.39
    assert s.pool["remaining_term"] == int(term.quantize(D(1), rounding=ROUND_HALF_UP)) == 331


def test_first_month_coupons(story):
    s = story["2025-03"].statement
    assert s.accrual_days == 28  # 2025-02-25 to 2025-03-25
    assert s.cls("A-1").current_interest == D("650000.00")  # 150,000,000 x 5.20% x 30/360
    assert s.cls("A-2").current_interest == D("546000.00")  # 117,000,000 x 5.60% x 30/360
    assert s.cls("A-IO").current_interest == D("75000.00")  # 60,000,000 notional x 1.50% x 30/360
    a3 = s.cls("A-3")  # SOFR 4.30% + 0.30%, over its 0.50% floor, under Group II's cap
    assert a3.rate == D("0.0460")
    assert a3.current_interest == cents(D("178000000.00") * D("0.0460") * 28 / 360)
    m1 = s.cls("M-1")
    assert m1.rate == D("0.0520") and m1.current_interest == cents(D("22000000.00") * D("0.0520") * 28 / 360)


def test_a3_capped_at_group_ii_net_wac_and_its_carryover_paid(story):
    s = story["2025-07"].statement
    assert s.accrual_days == 30
    a3 = s.cls("A-3")
    cap = (D("0.0840") - D("0.005")) * 30 / 30  # Group II's WAC less servicing, Actual/360 on 30 days
    assert a3.uncapped_rate == D("0.0850") and a3.rate == cap == D("0.0790") and a3.cap_binding
    assert a3.carryover_current == cents(a3.beginning_balance * D("0.0850") * 30 / 360) \
        - cents(a3.beginning_balance * D("0.0790") * 30 / 360)
    owed = story["2025-08"].statement.cls("A-3").carryover_after
    assert owed > a3.carryover_current > 0
    paid = story["2025-09"].statement.cls("A-3")
    assert paid.carryover_paid == owed and paid.carryover_after == 0


def test_each_class_shows_its_own_cap(story):
    """The page's rates table shows each class's own cap: A-3's is Group II's net WAC cap, not
    the deal's, and the fixed classes, which have none, show none."""
    c = story["2025-07"]
    s = c.statement
    assert s.cls("A-3").cap == D("0.0790") != s.net_wac_cap
    assert s.cls("M-1").cap == s.net_wac_cap and s.cls("A-1").cap is None and s.cls("CE").cap is None
    page = formats.html(c).decode()
    rates = page[page.index('<section id="rates">'):page.index('<section id="per-1000">')]
    row = {r.split("</th>")[0]: r for r in re.findall(r'<tr><th scope="row">(.*?)</tr>', rates)}
    assert '<td class="num" data-field="classes.A-3.cap">7.90000%</td><td class="flag">Yes</td>' in row["A-3"]
    assert "data-field=\"net_wac_cap\"" not in rates.split("Pool rates")[0]
    assert '<td class="num na">&mdash;</td><td class="num na">&mdash;</td>' in row["A-1"]  # no cap, so none applied
    record = {k["name"]: k for k in json.loads(formats.json_(c))["classes"]}
    assert (record["A-3"]["cap"], record["A-1"]["cap"]) == ("0.0790", None)


def test_the_swap_pays_then_is_paid(story):
    first = story["2025-03"].statement.extra["hedges"]["swap Swap"]
    # 120,000,000 x (4.30% - 3.85%) x 28/360
    assert first["receipt"] == D("42000.00") and first["payment"] == D("0.00")
    later = story["2026-10"].statement
    swap = later.extra["hedges"]["swap Swap"]
    assert later.accrual_days == 31
    # 90,000,000 x (3.85% - 2.60%) x 31/360, paid from Group II's interest ahead of A-3
    assert swap["payment"] == D("96875.00") and swap["receipt"] == D("0.00")
    [step] = [st for st in later.waterfall if st.description == "Net swap payment to the counterparty"]
    assert step.amount == D("96875.00") and step.section == "group II interest"
    assert later.extra["figures"]["swap.net_to_trust"] == D("-96875.00")


def test_cross_collateralization_then_the_policy(story):
    s = story["2025-12"].statement
    by = {}
    for st in s.waterfall:
        by.setdefault(st.section, []).append(st)
    # Group I's interest is all but gone after its fees; Group II's covers A-3, then what is left to A-1
    group_two = {st.description: st for st in by["group II interest"]}
    a3_paid = group_two["Class A-3 current and unpaid interest"].amount
    assert a3_paid == s.cls("A-3").current_interest
    covered = group_two["Class A-1 unpaid interest"]
    assert covered.amount > 0 and covered.remaining == 0
    # the policy pays what the insured classes are still owed, and no more
    policy = by["insurance policy"]
    drawn = sum(st.amount for st in policy)
    # Group I's 164,190.13 does not cover its fees; Group II's 614,839.25, less its servicing fee (171,286,770.39 x
    # 0.5% / 12 = 71,369.49), with the swap's 15,500.00, leaves 13,599.58 after A-3's 545,370.18 (147,286,770.39
    # x 4.30% x 31/360) for A-1; the policy pays the rest of A-1's 523,849.05 (120,888,243.39 x 5.20% / 12) and
    # A-2's 546,000.00: 510,249.47 + 546,000.00
    assert drawn == s.extra["accounts"]["policy"]["drawn"] == s.extra["figures"]["insurer.drawn"] == D("1056249.47")
    for name in INSURED:
        c = s.cls(name)
        assert c.interest_distribution == c.current_interest and c.unpaid_interest_after == 0
    # A-IO is not insured: its interest goes unpaid, as do the mezzanine classes'
    assert s.cls("A-IO").unpaid_interest_after == D("75000.00")
    assert s.cls("M-1").unpaid_interest_after == s.cls("M-1").current_interest > 0


def test_the_insurer_is_reimbursed_with_interest(story):
    s = story["2026-01"].statement
    f = s.extra["figures"]
    assert f["insurer.owed_before"] == D("1056249.47")
    assert s.accrual_days == 31
    assert f["insurer.interest"] == cents(D("1056249.47") * D("0.06") * 31 / 360) == D("5457.29")  # 5,457.2889
    assert f["insurer.reimbursement_due"] == D("1056249.47") + D("5457.29")
    assert f["insurer_reimbursement.paid"] > 0
    assert f["insurer.owed_after"] == f["insurer.reimbursement_due"] - f["insurer_reimbursement.paid"]
    last = story["2026-02"].statement.extra["figures"]
    assert last["insurer.owed_before"] == f["insurer.owed_after"] > 0
    assert last["insurer_reimbursement.paid"] == last["insurer.reimbursement_due"] \
        == f["insurer.owed_after"] + cents(f["insurer.owed_after"] * D("0.06") * story["2026-02"].statement.accrual_days / 360)
    assert last["insurer.owed_after"] == 0
    assert story["2026-02"].statement.cls("M-1").unpaid_interest_after == 0


def test_an_unpaid_premium_is_carried_and_paid_at_the_next_distribution(story):
    """December's Group I interest covers only part of the premium: the rest is owed to the
    insurer, shown on the statement, and due again in January, where it is paid."""
    dec, jan = story["2025-12"].statement, story["2026-01"].statement
    balances = sum((dec.cls(c).beginning_balance for c in INSURED), D(0))
    month = cents(balances * D("0.0018") / 12)
    assert month == D("57776.25")
    assert dec.fees["Insurance Premium"] == D("48820.03")  # all that was left of Group I's interest
    assert dec.fees_unpaid["Insurance Premium"] == month - D("48820.03") == D("8956.22")
    jan_month = cents(sum((jan.cls(c).beginning_balance for c in INSURED), D(0)) * D("0.0018") / 12)
    assert jan.fees["Insurance Premium"] == jan_month + D("8956.22") == D("65883.42")
    assert jan.fees_unpaid["Insurance Premium"] == 0
    assert all(v == 0 for s in (dec, jan) for k, v in s.fees_unpaid.items() if k != "Insurance Premium")
    text = formats.text(story["2025-12"]).decode()
    assert "Premium Unpaid (due at the next distribution)                  8,956.22" in text


def test_an_opening_unpaid_fee_is_due_in_the_first_period_and_named_by_the_deal(deal):
    period = deal / "periods" / "2025-03.yaml"
    edit(period, "  loan_count: 4000\n",
         "  loan_count: 4000\n  unpaid_fees: {Trustee: 500.00, Custodian: 10.00}\n")
    done = _check(deal, "2025-03")
    assert done.returncode == 1
    line = _line(period, "unpaid_fees")
    assert (f"{period}:{line}: opening.unpaid_fees.Custodian: 'Custodian' is not a fee of deal "
            "synthetic-two-group-2025-1 (expected one of: Group I Servicing, Group II Servicing, Trustee, "
            "Insurance Premium)") in done.stderr
    edit(period, ", Custodian: 10.00}", "}")
    [first] = run(deal, "2025-03")
    assert first.statement.fees["Trustee"] == D("1750.00")  # the month's 1,250.00 and the 500.00 owed


LATER_OPENING = """opening:
  previous_distribution_date: 2025-12-26
  pool_balance: 439514671.69
  loan_count: 3594
  group_balances: {fixed: 271147138.65, adjustable: 168367533.04}
  group_loan_counts: {fixed: 2218, adjustable: 1376}
  class_balances: {A-1: 118147138.65, A-2: 117000000.00, A-3: 144367533.04, M-1: 22000000.00, M-2: 13000000.00, R: 0.00}
  unpaid_fees: {Insurance Premium: PREMIUM}
"""


@pytest.mark.parametrize("premium, agrees", [("8956.22", True), ("1000.00", False)])
def test_a_later_opening_states_the_unpaid_fee_the_last_statement_left(deal, premium, agrees):
    period = deal / "periods" / "2026-01.yaml"
    edit(period, "period: 2026-01\n", "period: 2026-01\n" + LATER_OPENING.replace("PREMIUM", premium))
    done = _check(deal, "2026-01")
    assert "Traceback" not in done.stderr
    if agrees:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 1
        assert (f"{period}:{_line(period, 'unpaid_fees')}: opening.unpaid_fees.'Insurance Premium': does not agree "
                "with the previous period's closing state: given 1,000.00, computed 8,956.22 (7,956.22 apart)"
                ) in done.stderr, done.stderr


def test_interest_only_notional_steps_down(story):
    twelfth = story["2026-02"].statement.cls("A-IO")
    assert story["2026-02"].statement.distribution_number == 12
    # accrues on distribution 12's notional; ends at distribution 13's, which its factor gives
    assert twelfth.beginning_balance == D("60000000.00") and twelfth.current_interest == D("75000.00")
    assert twelfth.ending_balance == D("40000000.00") and round(twelfth.factor, 20) == D("0.66666666666666666667")
    io = story["2026-03"].statement.cls("A-IO")
    assert io.beginning_balance == D("40000000.00") and io.current_interest == D("50000.00")
    assert io.principal == 0 and round(io.factor, 20) == D("0.66666666666666666667")
    gone = story["2028-03"].statement.cls("A-IO")
    assert gone.beginning_balance == 0 and gone.current_interest == 0


def test_interest_only_ending_notional_is_where_the_next_statement_starts(story):
    months = sorted(story)
    for before, after in zip(months, months[1:]):
        ended = story[before].statement.cls("A-IO")
        begun = story[after].statement.cls("A-IO")
        assert ended.ending_balance == begun.beginning_balance, (before, after)
        assert ended.factor * 60000000 == begun.beginning_balance
        check = next(c for c in story[after].statement.checks if c.name.startswith("class A-IO"))
        assert (check.left, check.right, check.ok) == (begun.beginning_balance, ended.ending_balance, True)


def test_group_principal_goes_to_its_own_seniors(story):
    for c in story.values():
        s = c.statement
        f = s.extra["figures"]
        assert s.cls("A-1").principal + s.cls("A-2").principal == f["principal.fixed_seniors"]
        assert s.cls("A-3").principal == f["principal.adjustable_seniors"]
        assert f["principal.fixed_seniors"] + f["principal.adjustable_seniors"] + f["principal.subordinates"] \
            == s.cls("A-1").principal + s.cls("A-2").principal + s.cls("A-3").principal \
            + s.cls("M-1").principal + s.cls("M-2").principal


def test_dates(story):
    s = story["2025-12"].statement
    assert s.distribution_date == dt.date(2025, 12, 26)  # the 25th is Christmas Day
    assert s.record_date == dt.date(2025, 12, 24)
    assert s.extra["determination_date"] == dt.date(2025, 12, 18)  # 5 business days before


@pytest.mark.parametrize("month", ["2025-12", "2026-04"])
def test_every_figure_explains(story, month):
    listed = every_figure_explains(story[month])
    assert {"groups.fixed.pool.ending_balance", "insurer.owed_after", "swaps.Swap.payment", "accounts.policy.drawn",
            "A-IO.beginning_balance"} <= set(listed)


def test_a_liquidated_loan_explains_to_its_group_in_the_file(story):
    c = story["2026-04"]
    e = explain(c, "losses.liquidated[0].balance")
    [source] = e.inputs
    assert source.field == "groups.adjustable.collections.liquidations[0].balance"
    line = int(source.where.rsplit(":", 1)[1])
    assert "balance: 99330.92" in (DEAL / "periods" / "2026-04.yaml").read_text().splitlines()[line - 1]


def test_every_month_renders_as_html_and_one_as_pdf(story, tmp_path):
    for key, c in story.items():
        page = formats.html(c).decode()
        assert "Loan groups" in page and "Swaps and caps" in page and "Insurance policy" in page, key
    pdf = tmp_path / "disruption.pdf"
    pdf.write_bytes(formats.pdf(story["2025-12"]))
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Ending balance 271,147,138.65 168,367,533.04" in text
    assert "(interest and principal) (insurer.drawn) 1,056,249.47" in " ".join(text.split())


def test_no_deal_specific_python():
    found = subprocess.run(["git", "grep", "-l", "-e", "synthetic-two-group", "-e", "two-group", "--", "generator/"],
                           cwd=ROOT, capture_output=True, text=True)
    assert found.stdout == ""


# ------------------------------------------------------------------ bad input


@pytest.fixture
def deal(tmp_path: Path) -> Path:
    target = tmp_path / "synthetic-two-group-2025-1"
    shutil.copytree(DEAL, target)
    return target


def _check(deal: Path, period: str = "2025-03") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", "check", str(deal), "--period", period], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_an_interest_only_notional_the_next_statement_does_not_start_from_is_refused(deal):
    # a notional read from the period's index: its value at the period's end is not known, so the
    # ending notional (this index) is not what the next statement accrues on (next month's)
    edit(deal / "deal.yaml", 'notional: "schedule(distribution_number, 1, 60000000.00, 13, 40000000.00, 25, '
                             '20000000.00, 37, 0.00)"', 
         'notional: "cents(A-IO.original_balance * index.current * 20)"')
    assert _check(deal, "2025-06").returncode == 0  # the index is 4.30% from March to June
    done = _check(deal, "2025-07")  # 8.20% in July
    assert done.returncode == 1
    assert "class A-IO: notional = last distribution's ending notional" in done.stderr
    assert " != " in done.stderr and "off by" in done.stderr


def test_a_mistyped_interest_only_notional_is_reported_once(deal):
    # the ending notional is the same formula at the period's end: its problem is the notional's
    edit(deal / "deal.yaml", 'notional: "schedule(distribution_number, 1, 60000000.00, 13, 40000000.00, 25, '
                             '20000000.00, 37, 0.00)"', 'notional: "A-IO.coupon.rate"')
    done = _check(deal)
    assert done.returncode == 1
    line = _line(deal / "deal.yaml", 'notional: "A-IO.coupon.rate"')
    assert done.stderr.count(f"deal.yaml:{line}: classes[2].notional:") == 1, done.stderr
    assert "1 error; nothing written" in done.stderr


def test_a_class_tied_to_an_unknown_group(deal):
    edit(deal / "deal.yaml", "{name: A-3, kind: senior, group: adjustable,", "{name: A-3, kind: senior, group: arm,")
    done = _check(deal)
    line = _line(deal / "deal.yaml", "{name: A-3, kind: senior, group: arm,")
    assert done.returncode == 1
    assert (f"{deal}/deal.yaml:{line}: classes[3].group: class A-3 is tied to group 'arm', which the deal does not "
            "have (expected one of: fixed, adjustable)") in done.stderr


def test_a_group_missing_from_a_period_and_one_the_deal_lacks(deal):
    period = deal / "periods" / "2025-03.yaml"
    edit(period, "  adjustable:\n", "  arm:\n")
    done = _check(deal)
    assert done.returncode == 1
    assert f"{period}:{_line(period, '  arm:')}: groups.arm: group 'arm' is not a group of deal " \
           "synthetic-two-group-2025-1 (expected one of: fixed, adjustable)" in done.stderr
    assert f"{period}:{_line(period, 'groups:')}: groups: no report for group adjustable (expected one for each " \
           "of the deal's groups: fixed, adjustable)" in done.stderr
    assert "nothing written" in done.stderr


def test_group_figures_that_do_not_add_up_to_the_pool(deal):
    period = deal / "periods" / "2025-03.yaml"
    # the groups' interest in the first month: 1,800,000.37 + 1,399,999.71 = 3,200,000.08
    edit(period, "pool_totals: {interest: 3200000.08,", "pool_totals: {interest: 3200000.09,")
    edit(period, "group_balances: {fixed: 300000000.00,", "group_balances: {fixed: 300000001.00,")
    done = _check(deal)
    assert done.returncode == 1
    assert (f"{period}:{_line(period, 'pool_totals:')}: pool_totals.interest: 3,200,000.09 for the pool, but the "
            "groups' add up to 3,200,000.08 (expected the groups' sum)") in done.stderr
    assert (f"{period}:{_line(period, 'group_balances:')}: opening.group_balances: the groups add up to "
            "500,000,001.00, but pool_balance is 500,000,000.00 (expected the groups to add up to the pool)") \
        in done.stderr


def test_a_swap_without_a_notional(deal):
    edit(deal / "deal.yaml", "    notional: schedule(distribution_number, 1, 120000000.00, 13, 90000000.00, 25, "
                             "60000000.00, 37, 0.00)\n", "")
    done = _check(deal)
    assert done.returncode == 1
    assert f"{deal}/deal.yaml:{_line(deal / 'deal.yaml', '  - name: Swap')}: swaps[0].notional: required field is " \
           "missing" in done.stderr


def test_a_principal_action_of_an_unknown_group(deal):
    edit(deal / "deal.yaml", "{pay: principal, group: adjustable,", "{pay: principal, group: arm,")
    done = _check(deal)
    assert done.returncode == 1
    assert "waterfall[15].group: no loan group 'arm' (expected one of: fixed, adjustable)" in done.stderr


def test_a_cap_pays_the_index_over_its_strike(deal):
    """A cap (here added to a copy of the deal, its receipt deposited with Group II's interest)."""
    edit(deal / "deal.yaml", "classes:\n", "caps:\n  - {name: Cap, counterparty: Example Cap Provider, "
                                           "notional: \"50000000.00\", strike: 0.0700}\n\nclasses:\n")
    edit(deal / "deal.yaml", "deposit: groups.adjustable.collections.interest}",
         "deposit: groups.adjustable.collections.interest + caps.Cap.receipt}")
    story = {c.period.period: c for c in run(deal, "2025-03..2025-07")}
    cap = story["2025-07"].statement.extra["hedges"]["cap Cap"]
    assert cap["receipt"] == cents(D("50000000.00") * (D("0.0820") - D("0.0700")) * 30 / 360) == D("50000.00")
    assert story["2025-03"].statement.extra["hedges"]["cap Cap"]["receipt"] == 0  # SOFR 4.30% under the strike
    s = story["2025-07"].statement
    assert s.cash["available"] == s.cash["distributed"]
    steps = explain(story["2025-07"], "caps.Cap.receipt").steps
    assert steps[-1].formula == "cents(caps.Cap.notional * max(0, index.current - caps.Cap.strike) * accrual_days / 360)"


def test_oc_per_group_and_either_groups_excess_builds_it(story):
    s = story["2025-03"].statement
    f = s.extra["figures"]
    assert (f["oc.fixed.target"], f["oc.adjustable.target"]) == (D("15000000.00"), D("10000000.00"))  # 5% each
    # Group I: its 300,000,000 of loans less A-1 and A-2 (267,000,000) and 60% of M-1 and M-2 (21,000,000)
    assert f["oc.fixed.before"] == D("12000000.00") and f["oc.fixed.deficiency"] == D("3000000.00")
    # Group II: 200,000,000 less A-3 (178,000,000) and the other 40% (14,000,000)
    assert f["oc.adjustable.before"] == D("8000000.00") and f["oc.adjustable.deficiency"] == D("2000000.00")
    assert s.oc["deficiency"] == D("5000000.00")
    # all the excess goes to Group I's deficiency first
    assert f["oc.fixed.extra"] == f["oc.excess_for_principal"] > 0 and f["oc.adjustable.extra"] == 0
    assert s.cls("A-1").principal == f["principal.fixed_available"] \
        == s.extra["groups"]["fixed"]["principal_remittance"] + f["oc.fixed.extra"]
    # once Group I is at target, the excess (Group I's interest with Group II's) builds Group II's OC
    later = story["2025-07"].statement.extra["figures"]
    assert later["oc.fixed.deficiency"] == 0 and later["oc.adjustable.extra"] == later["oc.excess_for_principal"] > 0
    # Group II's realized losses are made good from the excess of both groups
    loss = story["2026-04"].statement
    g = loss.extra["figures"]
    assert g["oc.fixed.deficiency"] == 0
    assert g["oc.adjustable.deficiency"] == g["oc.adjustable.extra"] \
        == loss.extra["groups"]["adjustable"]["realized_losses"] == D("476202.16")  # 980,792.69 - 504,590.53
    assert loss.cls("A-3").principal == loss.extra["groups"]["adjustable"]["principal_remittance"] + D("476202.16")
    assert loss.oc["ending"] == D("25000000.00")


def test_a_groups_own_trigger(story):
    s = story["2026-02"].statement
    tests = {t.name: t for t in s.triggers}
    group = tests["Group II delinquency"]
    g2 = s.extra["groups"]["adjustable"]
    assert group.value == g2["delinquency_pct"] and round(group.value, 20) == round(g2["sixty_plus_balance"] / g2["ending_balance"], 20)
    assert group.threshold == D("0.0300") and group.breached and not tests["Delinquency"].breached
    assert s.performance["trigger"]  # any test breached: a trigger event


def test_a2_steps_up_after_the_optional_termination_date(deal):
    """In a copy of the deal whose clean-up call threshold is 99% of the cut-off balance, the
    optional termination date passes in the second month: A-2's coupon steps up from 5.60% to 6.10%, A-3's
    margin from 0.30% to 0.60%."""
    edit(deal / "deal.yaml", "formula: cents(pool.cutoff_balance * 0.10)", "formula: cents(pool.cutoff_balance * 0.99)")
    [first, second] = run(deal, "2025-03..2025-04")
    assert not first.statement.performance["optional_termination"]  # 500,000,000 at the start of month 1
    s = second.statement
    assert s.performance["optional_termination"]
    a2 = s.cls("A-2")
    assert a2.rate == D("0.0610") and a2.current_interest == cents(a2.beginning_balance * D("0.0610") * 30 / 360)
    assert first.statement.cls("A-2").rate == D("0.0560")
    assert s.cls("A-3").margin == D("0.0060") and s.cls("A-3").uncapped_rate == D("0.0430") + D("0.0060")


def test_the_policy_pays_what_losses_write_the_insured_classes_down(deal):
    """In a copy of the deal, a Group II loan of 61,000,000.00 is liquidated for nothing in April
    2026: the loss exhausts OC and both mezzanine classes and writes A-3 down; the policy pays A-3
    what it was written down, the same day, and the insurer is owed it."""
    period = deal / "periods" / "2026-04.yaml"
    edit(period, "      liquidations:\n", "      liquidations:\n        - {loan: \"G2BIG\", balance: 61000000.00, "
                                          "proceeds: 0.00}\n")
    story = {c.period.period: c for c in run(deal, "2026-03..2026-04")}
    s = story["2026-04"].statement
    assert s.cls("M-2").ending_balance == 0 and s.cls("M-1").ending_balance == 0
    a3 = s.cls("A-3")
    assert a3.losses > 0 and s.cls("A-2").losses == 0
    assert a3.writedown_reimbursed == a3.losses and a3.unpaid_losses_after == 0
    assert a3.total == a3.principal + a3.interest + a3.losses  # made whole in cash
    policy = s.extra["accounts"]["policy_principal"]
    assert policy["drawn"] == a3.losses and policy["balance"] == 0
    f = s.extra["figures"]
    before = story["2026-03"].statement.extra["figures"]["insurer.owed_after"]
    assert f["insurer.drawn"] == a3.losses + s.extra["accounts"]["policy"]["drawn"]
    assert f["insurer.owed_after"] == before + f["insurer.interest"] + f["insurer.drawn"] \
        - f["insurer_reimbursement.paid"] >= a3.losses
    assert all(check.ok for check in s.checks) and s.cash["available"] == s.cash["distributed"]


def test_a_figure_the_layout_shows_but_the_deal_does_not_report(deal):
    """Found by tests/test_fuzz_structures.py: a figure dropped from report: while the layout still
    prints it was a TypeError from a filter; it is the deal file's line, saying what to add."""
    edit(deal / "deal.yaml", "insurer.interest, insurer.drawn, insurer.reimbursement_due",
         "insurer.interest, insurer.reimbursement_due")
    done = _check(deal)
    assert done.returncode == 1
    line = _line(deal / "deal.yaml", "report: [")
    assert (f"{deal}/deal.yaml:{line}: report: template two-group.txt.j2 shows the figure insurer.drawn, which is "
            "not listed here (expected insurer.drawn under report:, so that the statement and its record carry it)"
            ) in done.stderr


def test_a_group_named_as_a_kind_of_class_is_refused(deal):
    edit(deal / "deal.yaml", "{name: fixed, label: Group I", "{name: senior, label: Group I")
    done = _check(deal)
    line = _line(deal / "deal.yaml", "{name: senior, label: Group I")
    assert done.returncode == 1
    assert (f"{deal}/deal.yaml:{line}: groups[0].name: group 'senior' has the name of a kind of class (expected "
            "another name: total() could not tell them apart)") in done.stderr


def test_an_account_drawn_on_demand_that_no_action_draws(deal):
    # found by tests/test_fuzz_structures.py: without the action that draws it, the account's
    # balance was finalized before its deposit existed (a KeyError)
    edit(deal / "deal.yaml", "  - {pay: writedown_reimbursement, from: policy_principal, classes: [A-3, A-2, A-1], "
                             "this_period: true}\n", "")
    done = _check(deal)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{deal}/deal.yaml:201: accounts[5]: the policy_principal account is drawn on demand but no action of " \
           "the waterfall pays from it (expected an action with from: policy_principal, or no such account)" \
           in done.stderr


def test_an_account_no_action_touches_keeps_its_deposit(deal):
    edit(deal / "deal.yaml", "accounts:\n", "accounts:\n  - {name: spare, deposit: \"1.00\"}\n")
    done = _check(deal)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "does not reconcile: cash: available = paid out: " in done.stderr and "(off by 1.00)" in done.stderr


def test_the_balance_totals_leave_out_the_interest_only_notional(story):
    """A-IO's balance is a notional: shown in its row, it is no part of the trust's balance, so
    the balance totals are the pool's (the certificates and CE's overcollateralization), while
    its interest is in the interest and distribution totals."""
    from .test_auto import amounts_of_table

    for key, c in story.items():
        s = c.statement
        assert s.totals["beginning_balance"] == s.pool["beginning_balance"], key
        assert s.totals["ending_balance"] == s.pool["ending_balance"], key
        rows, total = amounts_of_table(formats.text(c).decode(), "Class  Group")
        io = rows.pop("A-IO")
        sums = [sum(column) for column in zip(*rows.values())]
        assert total == [sums[0], sums[1] + io[1], sums[2] + io[2], sums[3] + io[3], sums[4], sums[5]], key


def test_a_mapping_without_the_group_column_is_refused_at_its_columns(deal):
    """A deal with loan groups needs each loan's group: a mapping naming no group column is told at
    its columns: line, before the tape is read."""
    edit(deal / "servicer.yaml", "  group: Pool\n", "")
    done = subprocess.run([sys.executable, "-m", "generator", "intake", str(deal), "--period", "2025-03",
                           str(deal / "tapes" / "2025-03.csv.gz")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"{deal}/servicer.yaml:{_line(deal / 'servicer.yaml', 'columns:')}: columns: the deal has loan groups but "
        "no group column is named (expected columns: group: ...)")


def test_an_action_amount_with_no_value_is_an_error_not_a_traceback(tmp_path):
    """A figure written as none that an action pays from (found by the structure fuzzer): the
    action's amount is told as having no value, at the action's line, through the command line."""
    from .conftest import INPUTS

    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    edit(deal / "deal.yaml", "formula: pool.principal_remittance - oc.release_due + oc.extra_principal_due",
         "formula: none")
    done = _check(deal, "2025-02")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"{deal}/deal.yaml:{_line(deal / 'deal.yaml', 'amount: principal_distribution_amount}')}: "
        "waterfall[6].amount: waterfall[6].amount cannot be computed this period: principal_distribution_amount has "
        "no value (expected an amount for the action)")
