"""The engine: one distribution as a pure function of (program, the previous distribution, period).

It interprets the deal's :class:`~generator.program.Program`: it reads the period's inputs,
computes each phase of figures in order, runs each action of the waterfall between them
(:mod:`generator.actions`), and finalizes what each action paid.  The result is a
:class:`Run`: every figure's value, with what each action computed and how, from which the
statement (:mod:`generator.view`), its checks and ``remit explain`` all read.  Nothing here
knows a deal by name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import actions
from . import calendar as cal
from . import formula as f
from .model import Deal, Period
from .program import Definition, Program
from .source import InputError, InputErrors, SourceMap

ZERO = Decimal("0.00")


class FigureError(Exception):
    """A figure that cannot be computed for this period (a value it needs is not there)."""

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        super().__init__("\n".join(map(str, errors)))


@dataclass
class Run:
    """One distribution computed: every figure's value, and how the waterfall got its own."""

    program: Program
    period: Period
    source: SourceMap
    values: dict[str, Any]
    ledger: actions.Ledger
    previous: "Run | None"
    #: Figures the engine computed from the calendar, and why (for explain).
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def deal(self) -> Deal:
        return self.program.deal

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def distribution_date_for(deal: Deal, period: Period) -> dt.date:
    if period.distribution_date is not None:
        return period.distribution_date
    year, month = cal.period_month(period.period)
    return cal.distribution_date(year, month, deal.schedule.distribution_day, deal.schedule.holiday_calendar)


def _next_distribution_date(deal: Deal, date: dt.date) -> dt.date:
    year, month = cal.add_months(date.year, date.month, 1)
    return cal.distribution_date(year, month, deal.schedule.distribution_day, deal.schedule.holiday_calendar)


def _calendar(program: Program, period: Period, values: dict[str, Any], notes: dict[str, str]) -> None:
    deal, sched = program.deal, program.deal.schedule
    date = distribution_date_for(deal, period)
    values["distribution_date"] = date
    if period.distribution_date is None:
        nominal = dt.date(*cal.period_month(period.period), sched.distribution_day)
        notes["distribution_date"] = (f"day {sched.distribution_day} of {period.period}, or the next business day: "
                                      f"{cal.why_business_day(nominal, sched.holiday_calendar)}")
    values["distribution_number"] = cal.months_between(sched.first_distribution_date, date) + 1
    notes["distribution_number"] = (f"months from the first distribution date {sched.first_distribution_date} to "
                                    f"{date}, + 1")
    values["next_distribution_date"] = _next_distribution_date(deal, date)
    notes["next_distribution_date"] = "the deal's distribution date of the next month"
    values["record_date"] = cal.record_date(date, sched.holiday_calendar)
    notes["record_date"] = "the business day before the distribution date"


def _inputs(program: Program, period: Period, values: dict[str, Any]) -> None:
    for name, spec in program.period_inputs.items():
        if "{i}" in name:
            continue
        values[name] = spec.get(period)
    for list_name in ("collections.liquidations", "reo.new"):
        items = values.get(list_name) or ()
        for i, item in enumerate(items):
            for field_name in type(item).model_fields:
                values[f"{list_name}[{i}].{field_name}"] = getattr(item, field_name)
    for name, (_, _, value, _) in program.deal_values.items():
        values[name] = value
    for name, d in program.defs.items():
        if d.kind == "constant":
            values[name] = d.value


def _compute(program: Program, d: Definition, values: dict[str, Any], previous: Run | None) -> None:
    if d.kind == "carried":
        if previous is not None:
            values[d.name] = previous.values[d.carried_from]
            return
        d = d.opening
    try:
        values[d.name] = d.fn([values[x] for x in d.deps])
    except f.Missing:
        missing = ", ".join(x for x in d.deps if values.get(x) is None) or "a value it needs"
        if d.where[0] == "prelude":  # a standard figure: the deal gave it nothing to compute from
            raise FigureError([program.source.error(("figures",), f"the standard figure {d.name} cannot be computed "
                                                                  f"this period: {missing} has no value")]) from None
        raise FigureError([program.source.error(d.where[1], f"{d.name} cannot be computed this period: {missing} has "
                                                            "no value (expected a formula that asks given(...) "
                                                            "first)")]) from None


def _items(program: Program, values: dict[str, Any]) -> None:
    """The figures of each liquidated loan."""
    count = len(values.get("collections.liquidations") or ())
    for i in range(count):
        for d in program.items:
            deps = [x.replace("{i}", str(i)) for x in d.deps]
            values[d.name.replace("{i}", str(i))] = d.fn([values[x] for x in deps])


def _finalize(names: tuple[str, ...], w: actions.Ledger) -> None:
    """What the actions paid, now that no later action adds to it."""
    for name in names:
        if name.startswith("accounts.") and name.endswith(".balance"):
            current = w.balance.get(name.split(".")[1])
            if current is None:
                current = f"accounts.{name.split('.')[1]}.deposit"
            w.let(name, w.values[current], w.program.defs[name].label, current, (current,))
            continue
        flows = tuple(w.tallies.get(name, ()))
        value = sum((w.values[x] for x in flows), ZERO)
        w.let(name, value, w.program.defs[name].label, " + ".join(flows) if flows else "0.00", flows)


def run_period(program: Program, previous: Run | None, period: Period, source: SourceMap) -> Run:
    """Compute one distribution.  Pure: the same inputs give the same figures."""
    values: dict[str, Any] = {}
    notes: dict[str, str] = {}
    _inputs(program, period, values)
    _calendar(program, period, values, notes)
    _items(program, values)
    w = actions.Ledger(program, values)
    for k, phase in enumerate(program.phases):
        _finalize(program.finals[k], w)
        for d in phase:
            _compute(program, d, values, previous)
        if k < len(program.actions):
            if k == 0:
                w.balance.update({a: f"accounts.{a}.deposit" for a in program.accounts})
            actions.run(w, program.actions[k])
    return Run(program, period, source, values, w, previous, notes)


__all__ = ["Run", "run_period", "distribution_date_for", "FigureError"]
