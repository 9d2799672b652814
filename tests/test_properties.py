"""Properties that hold for any valid servicer report (hypothesis)."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.engine import run_period
from generator.load import load_deal, load_period
from generator.model import Period
from generator.number import ZERO
from generator.source import SourceMap
from generator.view import invariants, statement

from .conftest import REFERENCE_DEAL

LOADED = load_deal(REFERENCE_DEAL)
BASE = load_period(REFERENCE_DEAL, "2002-05").value
POOL = BASE.opening.pool_balance


def cents(low: int, high: int):
    return st.integers(low, high).map(lambda c: Decimal(c).scaleb(-2))


def rate(low: int, high: int):  # in hundredths of a basis point
    return st.integers(low, high).map(lambda r: Decimal(r).scaleb(-6))


@st.composite
def periods(draw):
    liquidations = draw(st.lists(st.tuples(cents(1_000_00, 2_000_000_00), st.integers(0, 100)), max_size=5))
    liq = [{"loan": f"L{i}", "balance": b, "proceeds": (b * p / 100).quantize(Decimal("0.01"))}
           for i, (b, p) in enumerate(liquidations)]
    sched = draw(cents(0, 500_000_00))
    curt = draw(cents(0, 100_000_00))
    payoff = draw(cents(0, 20_000_000_00))
    bucket = lambda b: {"count": 1 if b else 0, "unpaid_balance": b, "stated_balance": b}  # noqa: E731
    data = BASE.model_dump(by_alias=True)
    data.update({
        "index": {"current": draw(rate(0, 120_000)), "next": draw(rate(0, 120_000))},
        "wac": draw(rate(20_000, 140_000)),
        "collections": {
            "interest": draw(cents(0, 2_500_000_00)), "scheduled_principal": sched, "curtailments": curt,
            "payoffs": {"count": draw(st.integers(0, 10)), "amount": payoff}, "liquidations": liq,
            "prepayment_charges": draw(cents(0, 50_000_00)),
        },
        "delinquency": {k: bucket(draw(cents(0, 1_000_000_00))) for k in
                        ("days_30_59", "days_60_89", "days_90_plus", "foreclosure", "bankruptcy")}
        | {"bankruptcy_60_plus": bucket(ZERO)},
        "shortfalls": {"prepayment_interest": draw(cents(0, 20_000_00)), "covered_by_servicer": draw(cents(0, 20_000_00)),
                       "relief_act": draw(cents(0, 5_000_00))},
    })
    opening = dict(data["opening"])
    opening["unpaid_interest"] = {"M-3": draw(cents(0, 50_000_00))}
    opening["unpaid_realized_losses"] = {"M-4": draw(cents(0, 100_000_00))}
    opening["net_wac_carryover"] = {"A": draw(cents(0, 10_000_00))}
    opening["stepdown_occurred"] = draw(st.booleans())
    data["opening"] = opening
    return Period.model_validate(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(periods())
def test_any_valid_period_reconciles(period: Period):
    after = run_period(LOADED.program, None, period, SourceMap("period.yaml"))
    s = statement(after)
    # cash is conserved to the cent, every check holds, and the waterfall kept its rules
    assert s.cash["available"] == s.cash["distributed"]
    assert all(c.ok for c in s.checks), [c for c in s.checks if not c.ok]
    assert invariants(s, after) == []
    for c in s.classes:
        assert c.ending_balance >= 0
        if c.kind != "excess":
            # principal never above what was due, and factors never increase
            assert 0 <= c.principal <= c.beginning_balance
            assert c.ending_balance <= c.beginning_balance
        assert c.interest_distribution >= 0 and c.unpaid_interest_after >= 0 and c.carryover_after >= 0
    # realized losses are absorbed by OC or allocated as write-downs, to the cent
    written_down = sum((c.losses for c in s.classes), ZERO)
    absorbed = s.oc["beginning"] + s.oc["increase"] - s.oc["reduction"] - s.oc["ending"]
    assert written_down + absorbed == s.losses["realized"]
    # OC identity: the pool backs the certificates plus OC
    certificates = sum((c.ending_balance for c in s.classes if c.kind not in ("excess", "residual")), ZERO)
    assert s.pool["ending_balance"] == certificates + s.cls("CE").ending_balance
    assert after["pool.ending_balance"] == s.pool["ending_balance"]


json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
    lambda children: (st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
                      | st.dictionaries(st.integers(), children, min_size=1, max_size=2)),
    max_leaves=20)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(json_data)
def test_json_text_is_json_dumps_indented(data) -> None:
    """The JSON writer the statements use gives json.dumps's bytes for any data, the shapes it
    writes itself (text keys, lists, text, whole numbers, booleans, None) and the others."""
    from generator.render import json_text

    assert json_text(data) == json.dumps(data, indent=2, ensure_ascii=False)
