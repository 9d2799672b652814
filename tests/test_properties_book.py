"""Properties that hold for any valid servicer report of every bundled deal structure
(hypothesis): cash is conserved to the cent, every account rolls forward, nothing goes
negative, and every check of the statement holds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.engine import run_period
from generator.load import load_deal, load_period
from generator.model import GroupedPeriod, Period
from generator.source import SourceMap
from generator.view import invariants, statement

from .conftest import INPUTS

AUTO = INPUTS / "synthetic-auto-2025-1"
TWO = INPUTS / "synthetic-two-group-2025-1"


def cents(low: int, high: int):
    return st.integers(low, high).map(lambda c: Decimal(c).scaleb(-2))


def rate(low: int, high: int):  # in hundredths of a basis point
    return st.integers(low, high).map(lambda r: Decimal(r).scaleb(-6))


@st.composite
def collections(draw, pool: Decimal, prefix: str):
    """A group's (or a pool's) collections: principal never more than the balance it comes from."""
    liquidations = draw(st.lists(st.tuples(cents(1_000_00, 400_000_00), st.integers(0, 100)), max_size=4))
    liq = [{"loan": f"{prefix}{i}", "balance": b, "proceeds": (b * p / 100).quantize(Decimal("0.01"))}
           for i, (b, p) in enumerate(liquidations)]
    room = int(pool * 100) // 4
    return {"interest": draw(cents(0, int(pool * 100) // 60)), "scheduled_principal": draw(cents(0, room)),
            "curtailments": draw(cents(0, room)), "payoffs": {"count": draw(st.integers(0, 20)),
                                                              "amount": draw(cents(0, room))},
            "liquidations": liq, "prepayment_charges": Decimal("0.00")}


def _checked(program, period) -> None:
    run = run_period(program, None, period, SourceMap("period.yaml"))
    s = statement(run)
    assert s.cash["available"] == s.cash["distributed"]
    assert all(c.ok for c in s.checks), [c for c in s.checks if not c.ok]
    assert invariants(s, run) == []  # each account rolled forward, no payment beyond its account or its due
    for c in s.classes:
        assert c.ending_balance >= 0 and c.unpaid_interest_after >= 0 and c.carryover_after >= 0
    for account in s.extra.get("accounts", {}).values():
        assert account["balance"] >= 0


AUTO_DEAL = load_deal(AUTO)
AUTO_BASE = load_period(AUTO, "2025-02").value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_auto_period_reconciles(data):
    base = AUTO_BASE.model_dump(by_alias=True)
    base["collections"] = data.draw(collections(AUTO_BASE.opening.pool_balance, "AU"))
    opening = dict(base["opening"])
    opening["accounts"] = {"reserve": data.draw(cents(0, 10_000_000_00))}
    opening["unpaid_interest"] = {"B": data.draw(cents(0, 500_000_00))}
    base["opening"] = opening
    _checked(AUTO_DEAL.program, Period.model_validate(base))


TWO_DEAL = load_deal(TWO)
TWO_BASE = load_period(TWO, "2025-03", grouped=True).value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_two_group_period_reconciles(data):
    base = TWO_BASE.model_dump(by_alias=True)
    base["index"] = {"current": data.draw(rate(0, 120_000)), "next": data.draw(rate(0, 120_000))}
    base["pool_totals"] = None
    for name, group in TWO_BASE.groups.items():
        base["groups"][name]["collections"] = data.draw(collections(TWO_BASE.opening.group_balances[name], name))
        base["groups"][name]["wac"] = data.draw(rate(20_000, 140_000))
    base["groups"] = {k: v for k, v in base["groups"].items()}
    opening = dict(base["opening"])
    opening["net_wac_carryover"] = {"A-3": data.draw(cents(0, 200_000_00))}
    base["opening"] = opening
    _checked(TWO_DEAL.program, GroupedPeriod.model_validate(base))


@pytest.mark.parametrize("deal", [AUTO, TWO])
def test_every_month_on_file_keeps_the_rules(deal):
    from generator.pipeline import run

    for c in run(deal, "all"):
        assert invariants(c.statement, c.run) == [], c.period.period
