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
import functools
import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import actions
from . import calendar as cal
from . import formula as f
from .model import Deal, Period
from .number import PRECISION, ZERO, arithmetic
from .program import ITEM_INDEX, Definition, FigureError, Program, once
from .source import SourceMap




@dataclass
class Run:
    """One distribution computed: every figure's value, and how the waterfall got its own."""

    program: Program
    period: Period
    source: SourceMap
    values: dict[str, Any]
    ledger: actions.Ledger
    previous: "Run | None"

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


def _calendar(program: Program, period: Period, values: dict[str, Any]) -> None:
    deal, sched = program.deal, program.deal.schedule
    date = distribution_date_for(deal, period)
    values["distribution_date"] = date
    values["distribution_number"] = cal.months_between(sched.first_distribution_date, date) + 1
    values["next_distribution_date"] = _next_distribution_date(deal, date)
    values["record_date"] = cal.record_date(date, sched.holiday_calendar, sched.record_date)
    days = sched.determination_business_days
    values["determination_date"] = (cal.business_days_before(date, days, sched.holiday_calendar)
                                    if days is not None else None)


def calendar_notes(run: "Run") -> dict[str, str]:
    """Why each date the calendar gives falls where it does (for explain)."""
    sched, period, values = run.deal.schedule, run.period, run.values
    notes = {"distribution_number": f"months from the first distribution date {sched.first_distribution_date} to "
                                    f"{values['distribution_date']}, + 1",
             "next_distribution_date": "the deal's distribution date of the next month",
             "record_date": ("the last business day of the month before the distribution date"
                             if sched.record_date == "last_business_day_of_previous_month"
                             else "the business day before the distribution date")}
    if sched.determination_business_days is not None:
        notes["determination_date"] = (f"{sched.determination_business_days} business days before the distribution "
                                       "date")
    if period.distribution_date is None:
        nominal = dt.date(*cal.period_month(period.period), sched.distribution_day)
        notes["distribution_date"] = (f"day {sched.distribution_day} of {period.period}, or the next business day: "
                                      f"{cal.why_business_day(nominal, sched.holiday_calendar)}")
    return notes


def _inputs(program: Program, period: Period, values: dict[str, Any]) -> None:
    getters = once(program, "inputs", lambda: tuple((name, spec.get) for name, spec in program.period_inputs.items()
                                                     if "{i}" not in name))
    for name, get in getters:
        values[name] = get(period)
    for list_name in ("collections.liquidations", "reo.new"):
        items = values.get(list_name) or ()
        for i, item in enumerate(items):
            for name, field_name in _item_fields(list_name, i, type(item)):
                values[name] = getattr(item, field_name)
    for name, (_, _, value, _) in program.deal_values.items():
        values[name] = value
    for name, d in program.defs.items():
        if d.kind == "constant":
            values[name] = d.value


@functools.lru_cache(maxsize=4096)
def _item_fields(list_name: str, i: int, model: type) -> tuple[tuple[str, str], ...]:
    """The figure names of the i-th item of a list input (``collections.liquidations[0].balance``),
    with the field each reads: the same for every statement, so made once."""
    return tuple((f"{list_name}[{i}].{field_name}", field_name) for field_name in model.model_fields)


def _plan(program: Program) -> list[list[tuple]]:
    """Each phase's figures as (name, function, the names it reads, carried from), once per program."""
    return once(program, "plan", lambda: [[(d.name, (d.opening or d).fn, _getter((d.opening or d).deps),
                                             d.carried_from) for d in phase] for phase in program.phases])


def _getter(deps: tuple[str, ...]) -> Any:
    """The values of ``deps`` from the figures, as a tuple, in one C call."""
    if not deps:
        return lambda values: ()
    if len(deps) == 1:
        (only,) = deps
        return lambda values: (values[only],)
    return operator.itemgetter(*deps)


def _compute(program: Program, phase: list[tuple], values: dict[str, Any], previous: Run | None) -> None:
    carried = previous.values if previous is not None else None
    for name, fn, get, carried_from in phase:
        if carried is not None and carried_from is not None:
            values[name] = carried[carried_from]
            continue
        try:
            values[name] = fn(get(values))
        except (f.Missing, TypeError):  # none where a value is needed (Decimal arithmetic with None)
            deps = (program.defs[name].opening or program.defs[name]).deps
            if not any(values.get(x) is None for x in deps):
                raise
            raise _no_value(program, program.defs[name], values) from None
        except ArithmeticError:  # a result beyond what the decimal context holds (a formula's 1E+40)
            raise _too_large(program, program.defs[name], values) from None


def _too_large(program: Program, d: Definition, values: dict[str, Any]) -> FigureError:
    d = d.opening or d
    numbers = [x for x in d.deps if isinstance(values.get(x), (Decimal, int)) and not isinstance(values[x], bool)]
    read = ", ".join(f"{x} = {values[x]}" for x in numbers[:4]) or "the figures it reads"
    expected = (f"(expected a result of at most {PRECISION} significant digits: does the formula multiply where it "
                "should divide?)")
    if d.where[0] == "prelude":
        return FigureError([program.source.error(("figures",), f"the standard figure {d.name} cannot be computed "
                                                              f"this period: its result is too large, from {read} "
                                                              f"{expected}")])
    return FigureError([program.source.error(d.where[1], f"{d.name}: {f.shown(d.formula())} gives a number too large "
                                                         f"to compute, from {read} {expected}")])


def _no_value(program: Program, d: Definition, values: dict[str, Any]) -> FigureError:
    d = d.opening or d
    missing = ", ".join(x for x in d.deps if values.get(x) is None) or "a value it needs"
    if d.where[0] == "prelude":  # a standard figure: the deal gave it nothing to compute from
        return FigureError([program.source.error(("figures",), f"the standard figure {d.name} cannot be computed "
                                                              f"this period: {missing} has no value")])
    return FigureError([program.source.error(d.where[1], f"{d.name} cannot be computed this period: {missing} has no "
                                                         "value (expected a formula that asks given(...) first)")])


def _items(program: Program, values: dict[str, Any]) -> None:
    """The figures of each liquidated loan."""
    count = len(values.get("collections.liquidations") or ())
    expanded = program.derived.get("items", [])  # each loan's (name, function, names it reads), once
    if len(expanded) < count:
        expanded = expanded + [[(d.name.replace("{i}", str(i)), d.fn, [x.replace("{i}", str(i)) for x in d.deps])
                                for d in program.items] for i in range(len(expanded), count)]
        program.derived["items"] = expanded
    for i in range(count):
        for name, fn, deps in expanded[i]:
            values[name] = fn([values[x] for x in deps])


def _indexed_reads(program: Program) -> tuple[str, ...]:
    """The items of lists that formulas read by their place (``collections.liquidations[0].balance``):
    a month whose list is shorter has no value for them, which a formula asks with given()."""
    defs = [*program.defs.values(), *(d.opening for d in program.defs.values() if d.opening)]
    return tuple(sorted({x for d in defs for x in d.deps if ITEM_INDEX.search(x)}))


def _zeros(program: Program) -> tuple[dict[str, Any], dict[str, actions.Dynamic]]:
    """The tallies no action adds to: zero, once per program."""
    def make() -> tuple[dict[str, Any], dict[str, actions.Dynamic]]:
        names = [n for n in program.finals[0] if not (n.startswith("accounts.") and n.endswith(".balance"))]
        return ({n: ZERO for n in names}, {n: actions.Dynamic(n, program.defs[n].label, "0.00", ()) for n in names})

    return once(program, "zeros", make)


def _finals(program: Program, zeros: dict[str, Any]) -> list[tuple[tuple[str, str | None, str], ...]]:
    """Each phase's tallies to finish before it: (name, the account whose balance it is, or none
    for a sum of flows; its label), once per program.  (The first phase's leave out the
    tallies no action adds to: they are zero.)"""
    return once(program, "finals", lambda: [
        tuple((n, n.split(".")[1] if n.startswith("accounts.") and n.endswith(".balance") else None,
               program.defs[n].label) for n in names if k or n not in zeros)
        for k, names in enumerate(program.finals)])


def _finalize(entries: tuple[tuple[str, str | None, str], ...], w: actions.Ledger) -> None:
    """What the actions paid, now that no later action adds to it."""
    for name, account, label in entries:
        if account is not None:
            current = w.balance.get(account)
            if current is None:
                current = w.program.starts[account]
            w.let(name, w.values[current], label, current, (current,))
            continue
        formula, flows = w.paid_so_far(name)
        w.let(name, sum((w.values[x] for x in flows), ZERO), label, formula, flows)


def run_period(program: Program, previous: Run | None, period: Period, source: SourceMap) -> Run:
    """Compute one distribution.  Pure: the same inputs give the same figures."""
    with arithmetic():
        try:
            return _run_period(program, previous, period, source)
        except ArithmeticError:  # an action's amount beyond the decimal context (its figures were not)
            raise FigureError([program.source.error(("waterfall",), f"the waterfall cannot be run for {period.period}: "
                                                                    "an amount it pays is too large (expected a result "
                                                                    f"of at most {PRECISION} significant digits)")]) from None


def _run_period(program: Program, previous: Run | None, period: Period, source: SourceMap) -> Run:
    values: dict[str, Any] = {}
    _inputs(program, period, values)
    _calendar(program, period, values)
    _items(program, values)
    for name in once(program, "indexed", lambda: _indexed_reads(program)):
        values.setdefault(name, None)  # an item the list does not have this period: no value
    w = actions.Ledger(program, values)
    zeros, zero_figures = _zeros(program)
    values.update(zeros)
    w.dynamic.update(zero_figures)
    finals = _finals(program, zeros)
    for k, phase in enumerate(_plan(program)):
        _finalize(finals[k], w)
        _compute(program, phase, values, previous)
        if k < len(program.actions):
            if k == 0:
                w.balance.update(program.starts)
            actions.run(w, program.actions[k])
    _bounded(program, values)
    return Run(program, period, source, values, w, previous)


def _bounded(program: Program, values: dict[str, Any]) -> None:
    """A carried account's target is never below its floor."""
    errors = []
    for i, a in enumerate(program.deal.accounts):
        if a.carried and a.floor is not None:
            target, floor = values[f"accounts.{a.name}.target"], values[f"accounts.{a.name}.floor"]
            if target is not None and floor is not None and target < floor:
                errors.append(program.source.error(("accounts", i, "target"), (
                    f"the {a.name} account's target {target:,.2f} is below its floor {floor:,.2f} this period "
                    f"(expected a target formula that gives at least accounts.{a.name}.floor, such as "
                    f"max(..., accounts.{a.name}.floor))")))
    if errors:
        raise FigureError(errors)


__all__ = ["Run", "run_period", "distribution_date_for", "FigureError"]
