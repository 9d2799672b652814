"""The statement result: every figure of one distribution, format-neutral.

Cash amounts are whole cents; ratios (rates, per-$1,000 amounts, factors,
percentages) are exact quotients that only a template filter rounds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .number import ZERO


@dataclass(frozen=True, slots=True)
class ClassResult:
    name: str
    kind: str
    cusip: str | None
    original_balance: Decimal
    beginning_balance: Decimal
    principal: Decimal
    losses: Decimal  # realized losses allocated (write-down)
    ending_balance: Decimal
    # rates (None where the class bears no coupon)
    index: Decimal | None
    margin: Decimal | None
    uncapped_rate: Decimal | None
    rate: Decimal | None
    next_rate: Decimal | None
    cap: Decimal | None  # the class's own rate cap this period (None: it has none)
    cap_binding: bool
    # interest
    current_interest: Decimal  # accrued at the (capped) rate, less shortfalls allocated
    ppis_reduction: Decimal
    relief_act_reduction: Decimal
    loss_reduction: Decimal
    unpaid_interest_before: Decimal
    interest_distribution: Decimal  # current + unpaid interest paid
    unpaid_interest_after: Decimal
    carryover_before: Decimal
    carryover_current: Decimal
    carryover_paid: Decimal
    carryover_after: Decimal
    unpaid_losses_before: Decimal
    writedown_reimbursed: Decimal
    unpaid_losses_after: Decimal
    interest: Decimal  # the Int column: all interest-type cash the class received
    total: Decimal  # principal + interest + write-down reimbursement
    per_1000_basis: Decimal | None  # in thousands of dollars
    per_1000: dict[str, Decimal] | None
    factor: Decimal | None


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the flow of funds: which fund paid how much to whom, and what was left."""

    section: str
    description: str
    payee: str
    amount: Decimal
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class TriggerTest:
    name: str
    value: Decimal
    threshold: Decimal
    breached: bool


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    left: Decimal
    right: Decimal

    @property
    def ok(self) -> bool:
        return self.left == self.right


@dataclass(frozen=True, slots=True)
class Statement:
    deal_id: str
    period: str
    distribution_number: int
    distribution_date: dt.date
    previous_distribution_date: dt.date
    next_distribution_date: dt.date
    record_date: dt.date
    accrual_days: int
    index_rate: Decimal
    next_index_rate: Decimal
    net_wac: Decimal
    net_wac_cap: Decimal
    classes: tuple[ClassResult, ...]
    totals: dict[str, Decimal]
    fees: dict[str, Decimal]  # each fee paid, by its name
    fees_unpaid: dict[str, Decimal]  # each fee still owed after the distribution (a shortfall carried forward)
    pool: dict[str, Any]
    delinquency: dict[str, Any]
    reo: dict[str, Any]
    losses: dict[str, Any]
    shortfalls: dict[str, Decimal]
    oc: dict[str, Decimal]
    performance: dict[str, Any]
    triggers: tuple[TriggerTest, ...]
    cash: dict[str, Decimal]
    waterfall: tuple[Step, ...]
    checks: tuple[Check, ...]
    advances: Decimal
    extraordinary_expenses: Decimal
    deficiencies: str
    #: What the deal has beyond the standard statement: its carried accounts' roll-forwards,
    #: its classes' coupon terms other than floating Actual/360, its loan groups, the figures
    #: its deal file lists under report:, the determination date.  Left out of the record when
    #: the deal has none.
    extra: dict[str, Any] = field(default_factory=dict)
    #: The declared type (money, rate, number, count, flag, date, text) of each figure under
    #: ``extra.figures``, which a value alone does not tell (a rate of 0.0133 from a number):
    #: how the web page and the workbook show it.  Not part of the record.
    kinds: dict[str, str] = field(default_factory=dict, metadata={"record": False})

    def cls(self, name: str) -> ClassResult:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Change:
    """A figure that a revision changed: its name and the published and revised values."""

    figure: str
    old: str
    new: str

    def shown(self) -> tuple[str, str]:
        """Both values for reading: cents with separators; a ratio to 8 places, or to as many
        more as it takes for the two to differ (the record keeps the exact values)."""
        return _readable(self.old, self.new), _readable(self.new, self.old)


def _readable(value: str, other: str) -> str:
    try:
        exact, versus = Decimal(value), Decimal(other)
    except (InvalidOperation, ValueError):
        return value or "(none)"
    places = -exact.as_tuple().exponent if isinstance(exact.as_tuple().exponent, int) else 0
    if places == 2:
        return f"{exact:,.2f}"
    if places <= 8:
        return value
    shown = 8
    while shown < places and exact.quantize(Decimal(1).scaleb(-shown), ROUND_HALF_UP) == \
            versus.quantize(Decimal(1).scaleb(-shown), ROUND_HALF_UP):
        shown += 2
    return f"{exact.quantize(Decimal(1).scaleb(-min(shown, places)), ROUND_HALF_UP)}"


@dataclass(frozen=True, slots=True)
class Revision:
    """What marks a revised statement: which revision, why, when, and what it changed."""

    number: int
    reason: str
    date: dt.date
    supersedes: str  # the file name of the version it replaces
    changes: tuple[Change, ...]


#: Fields left out of the record when empty (so that a deal without them has the record it had).
_EMPTY_LEFT_OUT = frozenset({"extra"})
#: Each type's field names if it is a dataclass, else None: looked up once per type.
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def to_plain(value: Any) -> Any:
    """The statement as JSON-ready data: Decimals as exact strings, dates in ISO form."""
    kind = type(value)
    if kind is Decimal:
        return format(value, "f")
    if kind is str or kind is int or kind is bool or value is None:
        return value
    try:
        names = _FIELDS[kind]
    except KeyError:
        names = _FIELDS[kind] = (tuple(f.name for f in fields(value) if f.metadata.get("record", True))
                                 if is_dataclass(value) and not isinstance(value, type) else None)
    if names is not None:
        out = {name: to_plain(getattr(value, name)) for name in names
               if name not in _EMPTY_LEFT_OUT or getattr(value, name)}
        if isinstance(value, Check):
            out["ok"] = value.ok
        return out
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    return value


__all__ = ["ClassResult", "Step", "TriggerTest", "Check", "Statement", "Change", "Revision", "to_plain", "ZERO"]
