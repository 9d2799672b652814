"""Each formula with numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from generator import calendar as cal
from generator import formula as f
from generator import render
from generator.number import D as build, arithmetic, cents
from generator.pipeline import run

from .conftest import REFERENCE_DEAL, SYNTHETIC


def evaluate(text: str, **values) -> object:
    """A formula of the deal language, with names given as keyword arguments (dots as __)."""
    tree = f.parse(text)
    names = f.names(tree)
    with arithmetic():  # as every figure is computed
        return f.compile_(tree, names)([values[n.replace(".", "__")] for n in names])


def test_actual_360_interest_rounds_half_up_to_the_cent():
    accrued = "cents(b * r * days / 360)"
    # 160,231,105.07 x 0.0217 x 33 / 360 = 318,726.3731...
    assert evaluate(accrued, b=D("160231105.07"), r=D("0.0217"), days=33) == D("318726.37")
    # 12,415,000 x 0.0265 x 33 / 360 = 30,158.1041...
    assert evaluate(accrued, b=D("12415000.00"), r=D("0.0265"), days=33) == D("30158.10")
    # 1,000 x 0.0365 x 1 / 360 = 0.10138... ; 100 x 0.009 x 30 / 360 = 0.075 -> 0.08 (half-up)
    assert evaluate(accrued, b=D("1000.00"), r=D("0.0365"), days=1) == D("0.10")
    assert evaluate(accrued, b=D("100.00"), r=D("0.009"), days=30) == D("0.08")


def test_servicing_fee_is_a_twelfth_of_the_annual_rate():
    # 197,974,200.81 x 0.005 / 12 = 82,489.2503...
    assert evaluate("cents(b * r / 12)", b=D("197974200.81"), r=D("0.005")) == D("82489.25")


def test_net_wac_cap_converts_30_360_to_actual_360():
    # (8.65983% - 0.50%) x 30 / 33 = 7.41802727...%
    cap = evaluate("(wac - fee) * 30 / days", wac=D("0.0865983"), fee=D("0.005"), days=33)
    assert cap.quantize(D("1e-8")) == D("0.07418027")
    [c] = run(REFERENCE_DEAL, "2002-05")
    assert c.statement.net_wac_cap == cap


def test_sums_and_products_keep_the_34_digits_quotients_have():
    """A rate worked out as a quotient has 34 significant digits; a product or sum of it keeps 34
    (Python's default context would round it to 28, so that a net WAC of a 30-day month, times
    30 / 30, would not equal itself)."""
    third = evaluate("a / b", a=D(1), b=D(3))
    assert third == D("0." + "3" * 34)
    assert evaluate("x * x", x=third) == D("0." + "1" * 34)  # 68 digits, rounded (half-even) to 34
    assert evaluate("x + 0.1", x=third) == D("0.4" + "3" * 33)
    assert evaluate("x - 0.1", x=third) == D("0.2" + "3" * 33)
    assert evaluate("w * 30 / 30", w=third) == third
    assert evaluate("d - e", d=dt.date(2002, 5, 28), e=dt.date(2002, 4, 25)) == 33  # days between two dates


def test_pro_rata_split_adds_up_to_the_cent():
    parts = f.pro_rata([D(1), D(1), D(1)], D("100.00"))
    assert parts == [D("33.34"), D("33.33"), D("33.33")]  # the cent left over: all cut alike, to the first
    assert sum(parts) == D("100.00")
    assert evaluate("share(x, b, a, b, c)", x=D("100.00"), a=D(1), b=D(1), c=D(1)) == D("33.33")


def test_pro_rata_never_gives_a_share_above_what_it_is_owed_or_below_zero():
    """Split by what each class is owed, an account a few cents short: rounding each share
    half-up and giving the residue to the largest gave class A 251,906.30 of its 251,906.29
    (its carryover after the payment then -0.01, refused); a 0.03 split five ways gave -0.01."""
    owed = [D("251906.29"), D("157930.97"), D("158777.40"), D("193540.05"), D("163192.75")]
    parts = f.pro_rata(owed, D("925347.43"))
    assert parts == [D("251906.28"), D("157930.97"), D("158777.40"), D("193540.04"), D("163192.74")]
    assert sum(parts) == D("925347.43") and all(p <= o for p, o in zip(parts, owed))
    small = f.pro_rata([D("1.40"), D("1.34"), D("1.19"), D("1.58"), D("1.47")], D("0.03"))
    assert small == [D("0.01"), D("0.00"), D("0.00"), D("0.01"), D("0.01")]
    assert f.pro_rata([D("2.00"), D("1.00")], D("-1.00")) == [D("-0.67"), D("-0.33")]
    import random

    rng = random.Random(7)
    for _ in range(2000):  # the bounds hold for any weights in cents and any amount up to their total
        weights = [D(rng.randint(0, 10**8)) / 100 for _ in range(rng.randint(1, 6))]
        amount = D(rng.randint(0, int(sum(weights) * 100))) / 100
        parts = f.pro_rata(weights, amount)
        assert sum(parts) == (amount if sum(weights) else 0)
        assert all(D(0) <= p <= w for p, w in zip(parts, weights)), (weights, amount, parts)


def test_a_quotient_of_nothing_is_zero_and_schedules_step():
    assert evaluate("a / b", a=D("5.00"), b=D("0.00")) == D("0.00")
    steps = "schedule(n, 37, 0.0275, 49, 0.0425)"
    assert evaluate(steps, n=36) is None and evaluate(steps, n=37) == D("0.0275") and evaluate(steps, n=60) == D("0.0425")


def test_sequential_principal_pays_a_first():
    [c] = run(REFERENCE_DEAL, "2002-05")
    v = c.run.values
    # before the stepdown date the whole principal distribution amount goes to A, which can take it
    assert v["waterfall[8].else[0].A.allocated"] == v["principal_distribution_amount"] == D("1767305.99")
    assert [v[f"waterfall[8].else[0].{n}.allocated"] for n in ("M-1", "M-2", "M-3", "M-4")] == [D("0.00")] * 4


def test_principal_by_targets_after_stepdown():
    months = [c.run.values for c in run(SYNTHETIC, "all")]
    paying = [v for v in months if v["performance.stepdown"] and not v["performance.trigger"]
              and v["principal_distribution_amount"] > 0]
    assert len(paying) >= 3
    v = paying[0]
    before, left = D("0.00"), v["waterfall[8].payable"]
    for name in ("A", "M-1", "M-2", "M-3", "M-4"):  # each class, with those before it, at most at its target
        balance, allocated = v[f"{name}.beginning_balance"], v[f"waterfall[8].{name}.allocated"]
        target = max(D("0.00"), v[f"waterfall[8].targets.{name}"])
        assert allocated == min(left, min(balance, max(D("0.00"), before + balance - target)))
        before, left = before + balance - allocated, left - allocated
    assert v["waterfall[8].payable"] - left > 0  # principal went to some class, by its target
    # A's target is 56% of the ending pool, unless the room the pool leaves the classes is smaller
    assert v["waterfall[8].targets.A"] == min(cents(v["pool.ending_balance"] * D("0.56")), v["principal.room"])


def test_reference_per_1000_factors_and_percentages():
    [c] = run(REFERENCE_DEAL, "2002-05")
    s = c.statement
    a = s.cls("A")
    # 1,767,305.99 / 160,901 = 10.98380986...; 158,463,799.08 / 160,901 = 984.85279197
    assert render.per1000(a.per_1000["principal"]) == "10.983810"
    assert render.per1000(a.per_1000["ending_balance"]) == "984.852792"
    assert render.fixed(a.factor, 8) == "0.98485279"
    # P: 12,525.30 / (100 / 1,000) = 125,253.00 -> two places, as filed
    assert render.per1000(s.cls("P").per_1000["interest"]) == "125253.00"
    # CE: per $1,000 of its current notional 3,972,995.74: 925,347.43 / 3,972.99574 = 232.909243
    assert render.per1000(s.cls("CE").per_1000["interest"]) == "232.909243"
    # CE's rate: 925,347.43 x 12 / 197,974,200.81 = 5.608901%
    assert render.pct(s.cls("CE").rate) == "5.60890%"
    # (583,189.20 + 1,597,528.80) / 196,206,894.82 = 1.111440%
    assert render.pct(s.performance["delinquency_pct"]) == "1.11144%"
    # (33,770,000.00 + 3,972,995.74) / 196,206,894.82 = 19.236318%
    assert render.pct(s.performance["credit_enhancement_pct"]) == "19.23632%"


def test_filters_format_as_the_filed_statement():
    assert render.dollars(D("1355998.97")) == "1,355,999"
    assert render.dollars(D("0.50")) == "1"  # half-up, not banker's rounding
    assert render.dollars(D("2.50")) == "3"
    assert render.pct(D("0.0217")) == "2.17000%"
    assert render.date_dmy(dt.date(2002, 5, 28)) == "28-May-02"
    assert render.date_mdy(dt.date(2002, 5, 28)) == "05/28/02"
    assert render.date_mdy_short(dt.date(2002, 5, 28)) == "5/28/02"
    assert render.date_long(dt.date(2002, 2, 1)) == "February 1, 2002"


def test_a_value_too_wide_for_its_column_is_an_error_naming_field_and_width():
    value = render.view(D("12345678901.00"), "classes.A.interest")
    with pytest.raises(render.ColumnOverflow) as info:
        render.rjust(render.dollars(value), 12)
    assert str(info.value) == ("classes.A.interest: '12,345,678,901' is 14 characters, "
                               "too wide for its 12-character column")
    assert render.rjust(render.dollars(value), 14) == "12,345,678,901"


def test_distribution_dates_follow_the_business_day_rule():
    # 05/25/02 was a Saturday and 05/27/02 Memorial Day
    assert cal.distribution_date(2002, 5, 25, "US") == dt.date(2002, 5, 28)
    assert cal.distribution_date(2002, 4, 25, "US") == dt.date(2002, 4, 25)
    # 12/25 is Christmas: the next business day
    assert cal.distribution_date(2003, 12, 25, "US") == dt.date(2003, 12, 26)


def test_numbers_are_built_from_text_never_from_floats():
    assert build("2.17") == D("2.17")
    with pytest.raises(TypeError):
        build(2.17)
    assert cents(D("0.005")) == D("0.01")
