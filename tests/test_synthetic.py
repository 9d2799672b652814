"""The synthetic deal: 60 months through the engine, its story, and golden months."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.pipeline import run
from generator.source import InputErrors

from .conftest import SYNTHETIC, check_golden
from .test_errors import edit


#: Each rule's first appearance in the story.
GOLDEN_MONTHS = {
    "2024-02": "first distribution: excess interest builds OC toward its target",
    "2024-04": "the Net WAC cap binds: carryover owed",
    "2024-06": "carryover paid from excess cash flow",
    "2024-08": "interest short: mezzanine unpaid interest carried forward",
    "2024-09": "unpaid interest repaid from excess cash flow",
    "2024-10": "REO liquidations: realized losses with their severities",
    "2024-12": "losses exhaust OC and write down M-4",
    "2025-03": "M-4 written off, part of M-3 written down",
    "2026-04": "OC back at target: written-down amounts repaid",
    "2026-05": "class A paid off in the middle of the period",
    "2026-06": "stepdown date: principal by class targets, OC released",
    "2027-02": "trigger event (cumulative losses): OC target held, principal sequential",
    "2027-09": "clean-up call exercisable, margins stepped up",
    "2028-02": "trigger event ends as the loss schedule steps up",
}


@pytest.fixture(scope="module")
def story():
    return {c.period.period: c for c in run(SYNTHETIC, "all")}


def test_sixty_periods_reconcile(story):
    assert len(story) == 60
    for c in story.values():
        assert all(check.ok for check in c.statement.checks), c.period.period


@pytest.mark.parametrize("month", sorted(GOLDEN_MONTHS))
def test_golden_months(story, month, file_regression):
    check_golden(story[month], file_regression)


def cls(story, month, name):
    return story[month].statement.cls(name)


def test_oc_builds_to_target_from_excess(story):
    s = story["2024-02"].statement
    assert s.oc["beginning"] == D("5000000.00")
    assert s.oc["target"] == D("10000000.00")  # 2% of the 500,000,000.00 cut-off
    assert s.oc["increase"] > 0 and s.oc["ending"] == s.oc["beginning"] + s.oc["increase"]
    assert story["2024-04"].statement.oc["ending"] == D("10000000.00")


def test_cap_binds_then_carryover_is_paid(story):
    assert not cls(story, "2024-04", "A").cap_binding  # index 8.8% + 0.30% stays under the cap
    m4 = cls(story, "2024-04", "M-4")
    assert m4.cap_binding and m4.rate == story["2024-04"].statement.net_wac_cap < m4.uncapped_rate
    assert m4.carryover_current > 0
    owed = {n: cls(story, "2024-05", n).carryover_after for n in ("A", "M-1", "M-2", "M-3", "M-4")}
    assert sum(owed.values()) > 0
    assert all(cls(story, "2024-06", n).carryover_after == 0 for n in owed)
    assert sum(cls(story, "2024-06", n).carryover_paid for n in owed) >= sum(owed.values())


def test_unpaid_interest_is_carried_and_repaid(story):
    m4 = cls(story, "2024-08", "M-4")
    assert m4.unpaid_interest_after > 0 and m4.interest_distribution < m4.current_interest
    assert cls(story, "2024-09", "M-4").unpaid_interest_before == m4.unpaid_interest_after
    assert cls(story, "2024-09", "M-4").unpaid_interest_after == 0


def test_losses_exhaust_oc_then_write_down_m4_then_m3(story):
    s = story["2024-12"].statement
    assert s.oc["ending"] == 0
    assert s.cls("M-4").losses > 0 and s.cls("M-3").losses == 0
    later = story["2025-03"].statement
    assert later.cls("M-4").ending_balance == 0
    assert 0 < later.cls("M-3").losses < D("15000000.00")
    written = sum(c.statement.cls(n).losses for c in story.values() for n in ("M-3", "M-4"))
    repaid = sum(c.statement.cls(n).writedown_reimbursed for c in story.values() for n in ("M-3", "M-4"))
    assert written == repaid  # every written-down dollar is repaid from excess by the end
    assert cls(story, "2026-04", "M-3").writedown_reimbursed > 0  # in order: M-3 before M-4


def test_class_a_paid_off_mid_period_then_stepdown(story):
    s = story["2026-05"].statement
    assert s.cls("A").ending_balance == 0 and s.cls("A").principal == s.cls("A").beginning_balance
    assert s.cls("M-1").principal > 0  # the rest of the period's principal went on to M-1
    assert not s.performance["stepdown"]
    after = story["2026-06"].statement
    assert after.performance["stepdown"] and after.distribution_number == 29  # before the 37th: A is gone
    assert after.oc["reduction"] > 0  # target steps down to 4% of the current pool: OC released


def test_trigger_event_starts_and_ends(story):
    on = [k for k, c in story.items() if c.statement.performance["trigger"]]
    assert on[0] == "2027-02" and on[-1] == "2028-01" and len(on) == 12
    s = story["2027-02"].statement
    [loss] = [t for t in s.triggers if t.name == "Cumulative losses"]
    assert loss.breached and loss.threshold == D("0.0500") and loss.value > loss.threshold
    assert s.oc["target"] == story["2027-01"].statement.oc["target"]  # held while in effect
    assert [t.breached for t in story["2028-02"].statement.triggers if t.name == "Cumulative losses"] == [False]


def test_cleanup_call_and_margin_step_up(story):
    s = story["2027-09"].statement
    assert s.pool["cleanup_call_exercisable"] and not story["2027-08"].statement.pool["cleanup_call_exercisable"]
    assert cls(story, "2027-10", "M-1").margin == D("0.00975")
    assert cls(story, "2027-09", "M-1").margin == D("0.0065")


def test_next_rate_is_the_rate_the_next_statement_accrues_at(story):
    """Each class's next rate is what the following statement's coupon is, index and margin:
    in 2027-09 the pool ends under the clean-up call threshold, so October's margins are
    stepped up, and September's next rates said the old margins (A: 3.88% for 4.18%)."""
    months = sorted(story)
    for month, following in zip(months, months[1:]):
        for c in story[month].statement.classes:
            if c.next_rate is not None and c.kind != "excess":
                assert c.next_rate == cls(story, following, c.name).uncapped_rate, (month, c.name)
    assert cls(story, "2027-09", "A").next_rate == D("0.0418")


def test_cash_is_rounded_from_the_exact_value_of_its_formula(story):
    """M-4 accrues at the Net WAC cap in 2024-06: its balance times (wac - fees) * 30 / 28,
    times 28 / 360, is 83,165.835 exactly, 83,165.84 half-up.  Computed with the cap cut at
    34 digits it came to 83,165.8349...9 and was rounded to 83,165.83."""
    from fractions import Fraction

    run = story["2024-06"].run
    v = run.values
    assert v["M-4.rate"] == v["net_wac_cap"] < v["M-4.uncapped_rate"]
    exact = (Fraction(v["M-4.beginning_balance"]) * (Fraction(v["wac"]) - Fraction(v["fees.annual_rate"]))
             * 30 / v["accrual_days"] * v["accrual_days"] / 360)
    assert exact == Fraction("83165.835")
    assert v["M-4.accrued"] == D("83165.84")


def test_factors_never_increase_and_balances_never_negative(story):
    previous = {}
    for key in sorted(story):
        for c in story[key].statement.classes:
            assert c.ending_balance >= 0
            if c.factor is not None and c.kind != "excess":
                assert c.factor <= previous.get(c.name, c.factor)
                previous[c.name] = c.factor


def test_render_all_writes_sixty_statements(tmp_path: Path):
    result = CliRunner().invoke(main, ["render", str(SYNTHETIC), "--period", "all", "--format", "text",
                                       "--format", "json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert len(list(tmp_path.glob("*.txt"))) == 60 and len(list(tmp_path.glob("*.json"))) == 60


def test_period_range(tmp_path: Path):
    assert [c.period.period for c in run(SYNTHETIC, "2025-11..2026-02")] == [
        "2025-11", "2025-12", "2026-01", "2026-02"]


def test_a_later_opening_state_must_agree(tmp_path: Path, story):
    import shutil

    deal = tmp_path / "deal"
    shutil.copytree(SYNTHETIC, deal)
    pool = story["2024-02"].statement.pool["ending_balance"]
    edit(deal / "periods" / "2024-03.yaml", "index:\n",
         "opening:\n  previous_distribution_date: 2024-02-26\n"
         f"  pool_balance: {pool + D('1.00')}\n  loan_count: {story['2024-02'].statement.pool['ending_count']}\n"
         "  class_balances: {}\nindex:\n")
    with pytest.raises(InputErrors) as info:
        run(deal, "2024-03")
    line = (deal / "periods" / "2024-03.yaml").read_text().splitlines().index(f"  pool_balance: {pool + D('1.00')}") + 1
    assert [str(e) for e in info.value.errors] == [
        f"{deal / 'periods' / '2024-03.yaml'}:{line}: opening.pool_balance: does not agree with the previous period's "
        f"closing state: given {pool + 1:,.2f}, computed {pool:,.2f} (1.00 apart)"]


def _loss_rows(statement, deal) -> list[str]:
    """The classes in the plain layout's unpaid realized loss table."""
    from generator.render import render_template

    text = render_template("statement.txt.j2", statement, deal)
    table = text.split("UNPAID REALIZED LOSS AMOUNTS", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in table.splitlines()[1:]]


def test_the_plain_layout_shows_a_senior_class_once_it_is_written_down(story):
    """It listed the mezzanine classes only: a deal that allocates losses to its seniors showed
    none of their write-downs."""
    import dataclasses

    s, deal = story["2024-12"].statement, story["2024-12"].deal
    assert _loss_rows(s, deal) == ["M-1", "M-2", "M-3", "M-4"]  # M-4 written down; the senior never
    written = tuple(dataclasses.replace(c, losses=D("1000.00"), unpaid_losses_after=D("1000.00"))
                    if c.name == "A" else c for c in s.classes)
    assert _loss_rows(dataclasses.replace(s, classes=written), deal) == ["A", "M-1", "M-2", "M-3", "M-4"]
