"""Change one input of the reference period and assert the exact figures that follow."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from generator.pipeline import run
from generator.render import fixed, pct

from .test_errors import edit


def statement(deal: Path):
    [computed] = run(deal, "2002-05")
    return computed.statement


def test_libor_up_ten_basis_points(reference_deal: Path):
    edit(reference_deal / "periods" / "2002-05.yaml", "current: 0.0184", "current: 0.0194")
    s = statement(reference_deal)
    # A: 160,231,105.07 x 2.27% x 33/360 = 333,414.2245 -> 333,414.22
    assert s.cls("A").rate == D("0.0227")
    assert s.cls("A").interest == D("333414.22")
    # M-1: 12,415,000 x 2.75% x 33/360 = 31,296.1458; M-2 x 3.35% = 35,078.1292;
    # M-3 x 3.95% = 34,162.5625; M-4 x 4.30% = 1,959.0083
    assert [s.cls(n).interest for n in ("M-1", "M-2", "M-3", "M-4")] == [
        D("31296.15"), D("35078.13"), D("34162.56"), D("1959.01")]
    # the class interest rises by 435,910.07 - 418,126.63 = 17,783.44, all out of CE's excess:
    # 925,347.43 - 17,783.44 = 907,563.99
    assert s.cls("CE").interest == D("907563.99")
    assert s.performance["net_monthly_excess_cash_flow"] == D("907563.99")
    # the next rates do not depend on this period's index
    assert s.cls("A").next_rate == D("0.0216")
    assert s.cash["available"] == s.cash["distributed"] == D("3205794.60")


def test_distribution_date_one_day_later(reference_deal: Path):
    edit(reference_deal / "periods" / "2002-05.yaml", "period: 2002-05\n",
         "period: 2002-05\ndistribution_date: 2002-05-29  # test: one day later than the rule\n")
    s = statement(reference_deal)
    assert s.accrual_days == 34
    # A: 160,231,105.07 x 2.17% x 34/360 = 328,384.7481 -> 328,384.75
    assert s.cls("A").interest == D("328384.75")
    # M-1: 12,415,000 x 2.65% x 34/360 = 31,071.9861 -> 31,071.99
    assert s.cls("M-1").interest == D("31071.99")
    # classes take 430,797.14 instead of 418,126.63; CE gets 925,347.43 - 12,670.51
    assert s.cls("CE").interest == D("912676.92")
    # net WAC cap: 8.15983% x 30 / 34 = 7.19985%
    assert pct(s.net_wac_cap) == "7.19985%"


def test_one_more_payoff_of_100000(reference_deal: Path):
    edit(reference_deal / "periods" / "2002-05.yaml", "payoffs: {count: 4, amount: 1626788.55}",
         "payoffs: {count: 5, amount: 1726788.55}")
    s = statement(reference_deal)
    a = s.cls("A")
    # all principal still goes to A before the stepdown date
    assert a.principal == D("1867305.99")
    assert a.ending_balance == D("158363799.08")
    assert s.pool["ending_balance"] == D("196106894.82")
    assert s.pool["ending_count"] == 581
    assert s.pool["prepayments"] == D("1745120.25")
    # OC is unchanged at target; CE's excess is unchanged
    assert s.oc["ending"] == D("3972995.74")
    assert s.cls("CE").interest == D("925347.43")
    # 2,180,718.00 / 196,106,894.82 = 1.112005%; 37,742,995.74 / 196,106,894.82 = 19.246134%
    assert pct(s.performance["delinquency_pct"]) == "1.11200%"
    assert pct(s.performance["credit_enhancement_pct"]) == "19.24613%"
    # 158,363,799.08 / 160,901,000 = 0.98423129
    assert fixed(a.factor, 8) == "0.98423129"
