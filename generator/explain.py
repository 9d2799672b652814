"""The audit trail behind one figure of a statement (``remit explain``).

An explanation gives the figure's formula, every input with its value and the
``file:line`` it was read from, and every intermediate with its formula, the
values substituted into it and its value, down to the figure itself.

Nothing is copied from the statement and called explained: each intermediate is
recomputed here, from the inputs and the intermediates before it, with the
engine's own functions (:func:`~generator.engine.accrual_interest`,
:func:`~generator.engine.net_wac_cap`, :func:`~generator.engine.pro_rata`,
:func:`~generator.engine.oc_target`, :func:`~generator.engine.allocate_principal`
...), and compared with the statement wherever the statement shows the same
figure.  A difference raises :class:`Mismatch`: it would be a bug in the engine
or here.  Two kinds of value are taken as given, and labelled so: other payees'
steps of the statement's flow of funds (the running balance of each fund is
recomputed from them and checked), and, for a period file without an ``opening``
block, the previous statement's closing figures ("carried from ...").
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any, Callable

import holidays

from . import calendar as cal
from .engine import (DAYS_IN_MONTH_BASIS, DAYS_IN_YEAR_BASIS, State, accrual_interest,
                     allocate_principal, monthly_fee, net_wac_cap, oc_target, opening_state, pro_rata)
from .load import list_periods
from .model import (CarryoverStep, CertificateClass, ExtraPrincipalStep, InterestStep, Opening, PrincipalStep,
                    ResidualStep, UnpaidInterestStep, WritedownStep)
from .number import MONTHS_PER_YEAR, THOUSAND, ZERO, cents, places, ratio
from .pipeline import Computed, run
from .render import fixed, per1000, pct
from .source import SourceMap, dotted
from .statement import ClassResult, Statement

#: How each kind of rounding is named where it happens.
HALF_UP_CENT = "rounded half-up to the cent"
QUOTIENT = "exact quotient to 34 significant digits (not rounded to the cent)"
PRO_RATA = ("each share rounded half-up to the cent; the rounding residue goes to the largest share, "
            "so the shares add up to the amount")

#: The flow of funds' step descriptions, as the engine writes them.
_EXPENSES = "Extraordinary trust fund expenses"
_INTEREST_TO_EXCESS = "Remaining interest to excess cash flow"
_PRINCIPAL_TO_EXCESS = "Principal not needed by the certificates, to excess cash flow"
#: A class's payment in the flow of funds -> the method that recomputes it and its symbol.
_CLASS_PAYMENTS = {
    ("current and unpaid interest", "interest"): ("interest_paid", "paid_interest"),
    ("current interest", "interest"): ("interest_paid", "paid_interest"),
    ("principal", "principal"): ("principal_paid", "paid_principal"),
    ("extra principal", "excess"): ("extra_paid", "extra_paid"),
    ("unpaid interest", "excess"): ("unpaid_paid", "unpaid_paid"),
    ("unpaid realized loss amount", "excess"): ("reimbursed", "reimbursed"),
    ("Net WAC rate carryover", "excess"): ("carry_paid", "carry_paid"),
    ("remaining excess cash flow", "excess"): ("residual", "residual"),
}
#: The symbol of what each fund starts with.
_FUND_START = {"interest": "interest_remittance", "principal": "principal_remittance",
               "prepayment charges": "prepayment_charges", "excess": "excess_start"}


class UnknownFigure(Exception):
    """A figure name that :func:`explain` does not know for this statement."""

    def __init__(self, figure: str, choices: list[str], classes: list[str], reason: str = ""):
        self.figure = figure
        self.choices = choices
        close = difflib.get_close_matches(figure, choices, n=3)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        super().__init__(f"{reason or f'unknown figure {figure!r}'}{hint}; figures that can be explained: "
                         f"{', '.join(_PATTERNS)}, where <class> is one of {', '.join(classes)} "
                         "(not every class has every figure)")


class Mismatch(Exception):
    """A recomputed value differs from the statement's: a bug in the engine or in this module."""


# ------------------------------------------------------------------ the explanation


@dataclass(frozen=True, slots=True)
class Input:
    """A value read from a deal or period file."""

    symbol: str
    label: str
    value: Any
    kind: str
    field: str  # its path in the file, e.g. ``classes[0].margin``
    where: str  # ``file:line``
    note: str = ""


@dataclass(frozen=True, slots=True)
class Intermediate:
    """A value recomputed here from inputs and earlier intermediates."""

    symbol: str
    label: str
    formula: str
    substituted: str
    value: Any
    kind: str
    rounding: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class FlowStep:
    """A step of the statement's flow of funds, used as given (another payee's amount)."""

    symbol: str
    number: int  # 1-based position in the flow of funds
    section: str
    description: str
    payee: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Explanation:
    figure: str
    label: str
    deal_id: str
    period: str
    distribution_date: dt.date
    distribution_number: int
    date_basis: str
    inputs: tuple[Input, ...]
    intermediates: tuple[Intermediate, ...]
    flow_of_funds: tuple[FlowStep, ...]
    result: Intermediate
    statement_field: str
    statement_value: Any

    @property
    def formula(self) -> str:
        return f"{self.result.symbol} = {self.result.formula}"

    def render(self) -> str:
        """The explanation as text, for a terminal or a work paper."""
        out = [f"{self.figure}: {self.label}",
               f"  statement: {self.deal_id}, period {self.period}, distribution {self.distribution_number} "
               f"on {_date_text(self.distribution_date)}",
               f"  {self.date_basis}",
               "", "Formula", f"  {self.formula}", "", "Inputs"]
        if not self.inputs:
            out.append("  none: every value is carried from the previous statement")
        for item in self.inputs:
            out += [f"  {item.symbol} = {display(item.kind, item.value)}", f"      {item.label}",
                    f"      {item.field}, {item.where}" + (f" ({item.note})" if item.note else "")]
        if self.intermediates:
            out += ["", "Intermediates (each recomputed, in order)"]
            for step in self.intermediates:
                out += _render_step(step)
        if self.flow_of_funds:
            out += ["", "From the statement's flow of funds (other payees' amounts, used as given; "
                        "each fund's running balance is recomputed from them and checked)"]
            for f in self.flow_of_funds:
                out.append(f"  {f.symbol} = {_money(f.amount)}  ({f.section}: {f.description}, to {f.payee})")
        r = self.result
        out += ["", "Result", f"  {r.symbol} = {r.formula}"]
        if r.substituted and r.substituted != r.formula:
            out.append(f"  {' ' * len(r.symbol)} = {r.substituted}")
        out.append(f"  {' ' * len(r.symbol)} = {display(r.kind, r.value)}")
        for extra in (r.rounding, r.note):
            if extra:
                out.append(f"      {extra}")
        out.append(f"  equal to the figure on the statement: {self.statement_field} = "
                   f"{display(r.kind, self.statement_value)}")
        return "\n".join(out) + "\n"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals as exact strings, dates in ISO form."""
        return {
            "figure": self.figure,
            "label": self.label,
            "statement": {"deal_id": self.deal_id, "period": self.period,
                          "distribution_date": self.distribution_date.isoformat(),
                          "distribution_number": self.distribution_number, "date_basis": self.date_basis},
            "formula": self.formula,
            "inputs": [{"symbol": i.symbol, "label": i.label, "value": _plain(i.value),
                        "display": display(i.kind, i.value), "field": i.field, "where": i.where, "note": i.note}
                       for i in self.inputs],
            "intermediates": [_step_dict(s) for s in self.intermediates],
            "flow_of_funds": [{"symbol": f.symbol, "step": f.number, "section": f.section,
                               "description": f.description, "payee": f.payee, "amount": _plain(f.amount)}
                              for f in self.flow_of_funds],
            "result": {**_step_dict(self.result), "statement_field": self.statement_field,
                       "statement_value": _plain(self.statement_value),
                       "equal": self.result.value == self.statement_value},
        }


def _render_step(step: Intermediate) -> list[str]:
    lines = [f"  {step.symbol} = {display(step.kind, step.value)}", f"      {step.label}",
             f"      = {step.formula}"]
    if step.substituted and step.substituted != step.formula:
        lines.append(f"      = {step.substituted}")
    for extra in (step.rounding, step.note):
        if extra:
            lines.append(f"      {extra}")
    return lines


def _step_dict(step: Intermediate) -> dict[str, Any]:
    return {"symbol": step.symbol, "label": step.label, "formula": step.formula, "substituted": step.substituted,
            "value": _plain(step.value), "display": display(step.kind, step.value), "rounding": step.rounding,
            "note": step.note}


# ------------------------------------------------------------------ display


def _money(value: Decimal) -> str:
    return f"{places(value, 2):,}"


def _exact(value: Decimal) -> str:
    """Every digit of the Decimal, without trailing zeros or exponent (``normalize`` would round
    to the context's 28 digits; a ratio has 34)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _percent(value: Decimal) -> str:
    """A fraction as a percentage: exact when it has at most six places, else rounded to five."""
    exact = _exact(value.scaleb(2))
    if len(exact.partition(".")[2]) <= 6:
        return f"{exact}%"
    return f"about {pct(value)}"


def _date_text(value: dt.date) -> str:
    return f"{value.isoformat()} ({value.strftime('%a')})"


def display(kind: str, value: Any) -> str:
    """A value as an auditor reads it: money with separators and cents, rates exact and in percent."""
    if value is None:
        return "none"
    if kind == "money":
        return _money(value)
    if kind in ("rate", "pct"):
        return f"{_exact(value)} ({_percent(value)})"
    if kind == "per1000":
        return f"{_exact(value)} ({per1000(value)} as printed, half-up)"
    if kind == "factor":
        return f"{_exact(value)} ({fixed(value, 8)} as printed, half-up)"
    if kind == "number":
        return _exact(value)
    if kind == "date":
        return _date_text(value)
    if kind == "flag":
        return "yes" if value else "no"
    return str(value)


def _operand(kind: str, value: Any) -> str:
    """A value as it is substituted into a formula."""
    if value is None:
        return "none"
    if kind == "money":
        text = _money(value)
        return f"({text})" if value < 0 else text
    if kind in ("rate", "pct", "per1000", "factor", "number"):
        return _exact(value)
    if kind == "date":
        return value.isoformat()
    if kind == "flag":
        return "yes" if value else "no"
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------ the trail


def _once(method: Callable) -> Callable:
    """Compute (and record) a quantity once per explanation; later uses get the same value."""

    @wraps(method)
    def wrapper(self: _Trail, *args: Any) -> Any:
        key = (method.__name__, args)
        if key not in self.memo:
            self.memo[key] = method(self, *args)
        return self.memo[key]

    return wrapper


def _sum_formula(symbols: list[str]) -> str:
    return " + ".join(symbols) if symbols else "0"


class _Trail:
    """Recomputes quantities of one distribution, recording each with its provenance."""

    def __init__(self, computed: Computed, previous: Statement | None,
                 load_previous: Callable[[], Statement | None]):
        self.deal = computed.deal
        self.period = computed.period
        self.s = computed.statement
        self.pin: SourceMap = computed.source
        self.din: SourceMap = computed.deal_source
        self._previous = previous
        self._load_previous = load_previous
        self.inputs: list[Input] = []
        self.steps: list[Intermediate] = []
        self.flows: dict[int, FlowStep] = {}
        self.kinds: dict[str, tuple[str, Any]] = {}
        self.memo: dict[tuple, Any] = {}
        self.last = ""

    # ---------------------------------------------------------------- recording

    def _record(self, symbol: str, kind: str, value: Any) -> None:
        if symbol in self.kinds:  # pragma: no cover - a symbol is computed once (see _once)
            raise ValueError(f"{symbol} recorded twice")
        self.kinds[symbol] = (kind, value)
        self.last = symbol

    def input(self, symbol: str, label: str, value: Any, kind: str, src: SourceMap, path: tuple) -> Any:
        note = "" if tuple(path) in src.lines else "not in the file, so the default"
        self.inputs.append(Input(symbol, label, value, kind, dotted(path), src.where(path), note))
        self._record(symbol, kind, value)
        return value

    def period_input(self, symbol: str, label: str, value: Any, kind: str, *path: str | int) -> Any:
        return self.input(symbol, label, value, kind, self.pin, path)

    def deal_input(self, symbol: str, label: str, value: Any, kind: str, *path: str | int) -> Any:
        return self.input(symbol, label, value, kind, self.din, path)

    def step(self, symbol: str, label: str, formula: str, value: Any, kind: str, *, substituted: str | None = None,
             rounding: str = "", note: str = "", statement: Any = ..., field: str = "") -> Any:
        """Record an intermediate; when the statement shows the same figure, it must be equal."""
        if statement is not ...:
            self.agree(symbol, kind, value, statement, field)
        text = self.substitute(formula) if substituted is None else substituted
        self.steps.append(Intermediate(symbol, label, formula, text, value, kind, rounding, note))
        self._record(symbol, kind, value)
        return value

    def agree(self, symbol: str, kind: str, value: Any, statement: Any, field: str = "") -> None:
        if value != statement or (value is None) != (statement is None):
            where = f" ({field})" if field else ""
            raise Mismatch(f"{self.s.deal_id} {self.s.period}: {symbol} recomputes to {display(kind, value)} "
                           f"but the statement has {display(kind, statement)}{where}")

    def substitute(self, formula: str) -> str:
        """``formula`` with each symbol replaced by its value."""
        if not self.kinds:
            return formula
        names = sorted(self.kinds, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w\]\[])(" + "|".join(re.escape(n) for n in names) + r")(?![\w\[])")
        return pattern.sub(lambda m: _operand(*self.kinds[m.group(1)]), formula)

    def flow(self, index: int) -> Decimal:
        """A step of the flow of funds, used as given."""
        st = self.s.waterfall[index]
        symbol = f"flow[{index + 1}]"
        if index not in self.flows:
            self.flows[index] = FlowStep(symbol, index + 1, st.section, st.description, st.payee, st.amount)
            self.kinds[symbol] = ("money", st.amount)
        return st.amount

    # ---------------------------------------------------------------- lookups

    def cls(self, name: str) -> ClassResult:
        return self.s.cls(name)

    def class_index(self, name: str) -> int:
        return next(i for i, c in enumerate(self.deal.classes) if c.name == name)

    def spec(self, name: str) -> CertificateClass:
        return self.deal.classes[self.class_index(name)]

    def names(self, *kinds: str) -> list[str]:
        return [c.name for c in self.deal.classes if c.kind in kinds]

    @property
    def certificates(self) -> list[str]:
        """Classes the pool backs: all but the excess (OC) and residual classes."""
        return [c.name for c in self.deal.classes if c.kind not in ("excess", "residual")]

    @property
    def coupon(self) -> list[str]:
        return [c.name for c in self.deal.classes if c.margin is not None]

    def ledger(self, section: str, description: str) -> list[int]:
        return [i for i, st in enumerate(self.s.waterfall) if st.section == section and st.description == description]

    def one_step(self, section: str, description: str) -> int:
        found = self.ledger(section, description)
        if len(found) != 1:
            raise Mismatch(f"{self.s.deal_id} {self.s.period}: expected one {section} step {description!r} in the "
                           f"flow of funds, found {len(found)}")
        return found[0]

    @property
    def opening(self) -> Opening | None:
        return self.period.opening

    @property
    def previous(self) -> Statement:
        if self._previous is None:
            self._previous = self._load_previous()
            if self._previous is None:
                raise ValueError(f"{self.s.deal_id} {self.s.period}: no opening state and no previous statement")
        if self._previous.distribution_date != self.s.previous_distribution_date:
            raise ValueError(f"the previous statement given ({self._previous.period}, "
                             f"{self._previous.distribution_date}) is not the one before {self.s.period}")
        return self._previous

    def carried(self, symbol: str, label: str, value: Any, kind: str, what: str, statement: Any = ...,
                field: str = "") -> Any:
        prev = self.previous.period
        return self.step(symbol, label, f"carried from the {prev} statement's {what}", value, kind, substituted="",
                         statement=statement, field=field)

    # ---------------------------------------------------------------- dates

    @_once
    def date(self) -> dt.date:
        p = self.period
        if p.distribution_date is not None:
            value = self.period_input("date", "distribution date, given in the period file (overrides the deal's rule)",
                                      p.distribution_date, "date", "distribution_date")
            self.agree("date", "date", value, self.s.distribution_date, "distribution_date")
            return value
        self.period_input("period_key", "the period", p.period, "text", "period")
        day = self.deal_input("distribution_day", "distribution day of the month", self.deal.schedule.distribution_day,
                              "count", "schedule", "distribution_day")
        calendar = self.deal_input("holiday_calendar", "bank holidays", self.deal.schedule.holiday_calendar, "text",
                                   "schedule", "holiday_calendar")
        value, why = _rule_date(p.period, day, calendar)
        return self.step("date", "distribution date", "day distribution_day of the month of period_key, or the next "
                         "business day on the holiday_calendar calendar", value, "date", substituted=why,
                         statement=self.s.distribution_date, field="distribution_date")

    @_once
    def prev_date(self) -> dt.date:
        label = "previous distribution date (the accrual period starts on it)"
        if self.opening is not None:
            value = self.period_input("prev_date", label, self.opening.previous_distribution_date, "date",
                                      "opening", "previous_distribution_date")
            self.agree("prev_date", "date", value, self.s.previous_distribution_date)
            return value
        return self.carried("prev_date", label, self.previous.distribution_date, "date", "distribution date",
                            statement=self.s.previous_distribution_date, field="previous_distribution_date")

    @_once
    def days(self) -> int:
        value = (self.date() - self.prev_date()).days
        return self.step("days", "accrual days, from the previous distribution date (inclusive) to this one",
                         "date - prev_date", value, "days", statement=self.s.accrual_days, field="accrual_days")

    @_once
    def number(self) -> int:
        first = self.deal_input("first_date", "first distribution date", self.deal.schedule.first_distribution_date,
                                "date", "schedule", "first_distribution_date")
        date = self.date()
        value = cal.months_between(first, date) + 1
        return self.step("number", "distribution number", "months from first_date to date, + 1", value, "count",
                         substituted=f"months from {first.isoformat()} to {date.isoformat()}, + 1",
                         statement=self.s.distribution_number, field="distribution_number")

    # ---------------------------------------------------------------- rates

    @_once
    def index(self) -> Decimal:
        return self.period_input("index", f"{self.deal.index} for this accrual period", self.period.index.current,
                                 "rate", "index", "current")

    @_once
    def index_next(self) -> Decimal:
        return self.period_input("index_next", f"{self.deal.index} for the next accrual period",
                                 self.period.index.next, "rate", "index", "next")

    @_once
    def wac(self) -> Decimal:
        return self.period_input("wac", "pool's weighted-average mortgage rate at the start of the period",
                                 self.period.wac, "rate", "wac")

    @_once
    def fee_rate(self) -> Decimal:
        value = sum((self.fee_annual(i) for i in range(len(self.deal.fees))), ZERO)
        return self.step("fee_rate", "fee rates, a year", _sum_formula(
            [f"fee_rate[{f.name}]" for f in self.deal.fees]), value, "rate")

    @_once
    def fee_annual(self, i: int) -> Decimal:
        fee = self.deal.fees[i]
        return self.deal_input(f"fee_rate[{fee.name}]", f"{fee.name} fee, a year", fee.annual_rate, "rate",
                               "fees", i, "annual_rate")

    @_once
    def cap(self) -> Decimal:
        value = net_wac_cap(self.wac(), self.fee_rate(), self.days())
        return self.step("cap", "Net WAC cap: the pool's net WAC (30/360) on an Actual/360 basis",
                         f"(wac - fee_rate) x {DAYS_IN_MONTH_BASIS} / days", value, "rate", rounding=QUOTIENT,
                         statement=self.s.net_wac_cap, field="net_wac_cap")

    @_once
    def original(self, name: str) -> Decimal:
        return self.deal_input(f"original[{name}]", f"class {name} original balance", self.spec(name).original_balance,
                               "money", "classes", self.class_index(name), "original_balance")

    @_once
    def cutoff(self) -> Decimal:
        names = [c.name for c in self.deal.classes]
        value = sum((self.original(n) for n in names), ZERO)
        return self.step("cutoff", "cut-off pool balance: the classes' original balances",
                         _sum_formula([f"original[{n}]" for n in names]), value, "money",
                         statement=self.s.pool["cutoff_balance"], field="pool.cutoff_balance")

    @_once
    def cleanup_threshold(self) -> Decimal:
        share = self.deal_input("cleanup_call_pct", "clean-up call share of the cut-off balance",
                                self.deal.cleanup_call_pct, "rate", "cleanup_call_pct")
        value = cents(self.cutoff() * share)
        return self.step("cleanup_threshold", "clean-up call threshold", "cutoff x cleanup_call_pct", value, "money",
                         rounding=HALF_UP_CENT, statement=self.s.pool["cleanup_call_threshold"],
                         field="pool.cleanup_call_threshold")

    @_once
    def ot_before(self) -> bool:
        label = "optional termination date passed at an earlier distribution"
        if self.opening is not None:
            return self.step("ot_before", label, "no: an opening state starts with it not passed", False, "flag",
                             substituted="")
        return self.carried("ot_before", label, self.previous.performance["optional_termination"], "flag",
                            "optional termination flag")

    @_once
    def optional_termination(self) -> bool:
        before = self.ot_before()
        value = before or self.pool_beg() <= self.cleanup_threshold()
        return self.step("optional_termination", "optional termination date passed (margins step up)",
                         "ot_before or pool_beg <= cleanup_threshold", value, "flag",
                         statement=self.s.performance["optional_termination"], field="performance.optional_termination")

    @_once
    def margin(self, name: str) -> Decimal:
        spec, i = self.spec(name), self.class_index(name)
        base = self.deal_input(f"margin_base[{name}]", f"class {name} margin over the index", spec.margin, "rate",
                               "classes", i, "margin")
        after = spec.margin_after_optional_termination
        if after is None:
            return self.step(f"margin[{name}]", f"class {name} margin applied", f"margin_base[{name}]", base, "rate",
                             note="the deal gives no margin after the optional termination date",
                             statement=self.cls(name).margin, field=f"classes.{name}.margin")
        self.deal_input(f"margin_after_ot[{name}]", f"class {name} margin after the optional termination date",
                        after, "rate", "classes", i, "margin_after_optional_termination")
        ot = self.optional_termination()
        value = after if ot else base
        chosen = f"margin_after_ot[{name}]" if ot else f"margin_base[{name}]"
        return self.step(f"margin[{name}]", f"class {name} margin applied",
                         f"margin_after_ot[{name}] if optional_termination, else margin_base[{name}]", value, "rate",
                         substituted=f"optional_termination is {display('flag', ot)}: {chosen} = {_exact(value)}",
                         statement=self.cls(name).margin, field=f"classes.{name}.margin")

    @_once
    def uncapped(self, name: str) -> Decimal:
        value = self.index() + self.margin(name)
        return self.step(f"uncapped[{name}]", f"class {name} rate before the cap", f"index + margin[{name}]", value,
                         "rate", statement=self.cls(name).uncapped_rate, field=f"classes.{name}.uncapped_rate")

    @_once
    def rate(self, name: str) -> Decimal:
        if self.spec(name).kind == "excess":
            return self.excess_rate(name)
        uncapped, cap = self.uncapped(name), self.cap()
        value = min(uncapped, cap)
        binding = value < uncapped
        self.agree(f"cap binds for {name}", "flag", binding, self.cls(name).cap_binding, f"classes.{name}.cap_binding")
        return self.step(f"rate[{name}]", f"class {name} pass-through rate", f"min(uncapped[{name}], cap)", value,
                         "rate", note="the Net WAC cap binds" if binding else "the Net WAC cap does not bind",
                         statement=self.cls(name).rate, field=f"classes.{name}.rate")

    @_once
    def excess_rate(self, name: str) -> Decimal:
        value = ratio(self.interest(name) * MONTHS_PER_YEAR, self.pool_beg())
        return self.step(f"rate[{name}]", f"class {name} rate: its interest a year over the beginning pool balance",
                         f"interest[{name}] x {MONTHS_PER_YEAR} / pool_beg", value, "rate", rounding=QUOTIENT,
                         statement=self.cls(name).rate, field=f"classes.{name}.rate")

    @_once
    def next_rate(self, name: str) -> Decimal:
        value = self.index_next() + self.margin(name)
        return self.step(f"next_rate[{name}]", f"class {name} rate for the next accrual period (before its cap)",
                         f"index_next + margin[{name}]", value, "rate", statement=self.cls(name).next_rate,
                         field=f"classes.{name}.next_rate")

    # ---------------------------------------------------------------- the state the period starts from

    @_once
    def pool_beg(self) -> Decimal:
        label = "pool balance at the start of the period"
        if self.opening is not None:
            value = self.period_input("pool_beg", label, self.opening.pool_balance, "money", "opening", "pool_balance")
            self.agree("pool_beg", "money", value, self.s.pool["beginning_balance"], "pool.beginning_balance")
            return value
        return self.carried("pool_beg", label, self.previous.pool["ending_balance"], "money", "ending pool balance",
                            statement=self.s.pool["beginning_balance"], field="pool.beginning_balance")

    @_once
    def beg(self, name: str) -> Decimal:
        symbol, label = f"beg[{name}]", f"class {name} balance at the start of the period"
        field, shown = f"classes.{name}.beginning_balance", self.cls(name).beginning_balance
        if self.opening is None:
            return self.carried(symbol, label, self.previous.cls(name).ending_balance, "money", f"class {name} ending "
                                "balance", statement=shown, field=field)
        if self.spec(name).kind == "excess":
            certs = [f"beg[{n}]" for n in self.certificates]
            total = sum((self.beg(n) for n in self.certificates), ZERO)
            value = max(ZERO, self.pool_beg() - total)
            return self.step(symbol, f"class {name} notional at the start: the pool less the certificates",
                             f"max(0, pool_beg - ({_sum_formula(certs)}))", value, "money", statement=shown,
                             field=field)
        value = self.period_input(symbol, label, self.opening.class_balances.get(name, ZERO), "money",
                                  "opening", "class_balances", name)
        self.agree(symbol, "money", value, shown, field)
        return value

    def _opening_or_carried(self, symbol: str, label: str, key: str, name: str, carried: Decimal, what: str,
                            shown: Decimal, field: str) -> Decimal:
        if self.opening is None:
            return self.carried(symbol, label, carried, "money", what, statement=shown, field=field)
        value = self.period_input(symbol, label, getattr(self.opening, key).get(name, ZERO), "money",
                                  "opening", key, name)
        self.agree(symbol, "money", value, shown, field)
        return value

    @_once
    def unpaid_before(self, name: str) -> Decimal:
        prev = self.previous.cls(name).unpaid_interest_after if self.opening is None else ZERO
        return self._opening_or_carried(f"unpaid_before[{name}]", f"class {name} unpaid interest from earlier periods",
                                        "unpaid_interest", name, prev, f"class {name} unpaid interest after its "
                                        "distribution", self.cls(name).unpaid_interest_before,
                                        f"classes.{name}.unpaid_interest_before")

    @_once
    def carry_before(self, name: str) -> Decimal:
        prev = self.previous.cls(name).carryover_after if self.opening is None else ZERO
        return self._opening_or_carried(f"carry_before[{name}]", f"class {name} Net WAC carryover still owed",
                                        "net_wac_carryover", name, prev, f"class {name} Net WAC carryover unpaid",
                                        self.cls(name).carryover_before, f"classes.{name}.carryover_before")

    @_once
    def unpaid_losses_before(self, name: str) -> Decimal:
        prev = self.previous.cls(name).unpaid_losses_after if self.opening is None else ZERO
        return self._opening_or_carried(f"writedown_before[{name}]", f"class {name} written-down amount not yet repaid",
                                        "unpaid_realized_losses", name, prev, f"class {name} unpaid realized losses",
                                        self.cls(name).unpaid_losses_before, f"classes.{name}.unpaid_losses_before")

    @_once
    def cum_losses_before(self) -> Decimal:
        label = "cumulative realized losses before this period"
        if self.opening is not None:
            return self.period_input("cum_losses_before", label, self.opening.cumulative_realized_losses, "money",
                                     "opening", "cumulative_realized_losses")
        return self.carried("cum_losses_before", label, self.previous.losses["cumulative"], "money",
                            "cumulative realized losses")

    @_once
    def stepdown_before(self) -> bool:
        label = "stepdown date occurred at an earlier distribution"
        if self.opening is not None:
            return self.period_input("stepdown_before", label, self.opening.stepdown_occurred, "flag",
                                     "opening", "stepdown_occurred")
        return self.carried("stepdown_before", label, self.previous.performance["stepdown"], "flag", "stepdown flag")

    @_once
    def prev_oc_target(self) -> Decimal | None:
        label = "OC target of the previous distribution"
        if self.opening is not None:
            return self.period_input("prev_oc_target", label, self.opening.oc_target, "money", "opening", "oc_target")
        return self.carried("prev_oc_target", label, self.previous.oc["target"], "money", "OC target")

    def start_state(self) -> State:
        """The engine's state the period starts from (for the engine's functions that take one)."""
        if self.opening is not None:
            return opening_state(self.deal, self.opening)
        p = self.previous
        return State(distribution_date=p.distribution_date, pool_balance=p.pool["ending_balance"],
                     loan_count=p.pool["ending_count"], balances={c.name: c.ending_balance for c in p.classes},
                     unpaid_interest={c.name: c.unpaid_interest_after for c in p.classes},
                     carryover={c.name: c.carryover_after for c in p.classes},
                     unpaid_losses={c.name: c.unpaid_losses_after for c in p.classes},
                     cumulative_losses=p.losses["cumulative"], oc_target=p.oc["target"],
                     stepdown_occurred=p.performance["stepdown"],
                     optional_termination_passed=p.performance["optional_termination"])

    def _balance_sum(self, symbol: str, label: str, names: list[str]) -> Decimal:
        value = sum((self.beg(n) for n in names), ZERO)
        return self.step(symbol, label, _sum_formula([f"beg[{n}]" for n in names]), value, "money")

    @_once
    def certs_beg(self) -> Decimal:
        return self._balance_sum("certs_beg", "certificates at the start (all classes but the excess and residual)",
                                 self.certificates)

    @_once
    def senior_beg(self) -> Decimal:
        return self._balance_sum("senior_beg", "senior classes at the start", self.names("senior"))

    @_once
    def mezz_beg(self) -> Decimal:
        return self._balance_sum("mezz_beg", "mezzanine classes at the start", self.names("mezzanine"))

    @_once
    def oc_beg(self) -> Decimal:
        value = self.pool_beg() - self.certs_beg()
        return self.step("oc_beg", "overcollateralization at the start", "pool_beg - certs_beg", value, "money",
                         statement=self.s.oc["beginning"], field="oc.beginning")

    # ---------------------------------------------------------------- the pool

    def _collection(self, symbol: str, label: str, value: Decimal, *path: str | int) -> Decimal:
        return self.period_input(symbol, label, value, "money", "collections", *path)

    @_once
    def liquidations(self) -> tuple[Decimal, Decimal]:
        """(balance, net proceeds) of the loans liquidated in the period."""
        loans = self.period.collections.liquidations
        balances, proceeds = [], []
        for i, loan in enumerate(loans):
            self._collection(f"liquidated[{i + 1}]", f"loan {loan.loan} balance when liquidated", loan.balance,
                             "liquidations", i, "balance")
            self._collection(f"proceeds[{i + 1}]", f"loan {loan.loan} net liquidation proceeds", loan.proceeds,
                             "liquidations", i, "proceeds")
            balances.append(f"liquidated[{i + 1}]")
            proceeds.append(f"proceeds[{i + 1}]")
        note = "" if loans else "no loans liquidated in the period"
        balance = self.step("liquidated_balance", "balance of the loans liquidated", _sum_formula(balances),
                            sum((l.balance for l in loans), ZERO), "money", note=note,
                            statement=self.s.pool["liquidated_balance"], field="pool.liquidated_balance")
        net = self.step("liquidation_proceeds", "net liquidation proceeds", _sum_formula(proceeds),
                        sum((l.proceeds for l in loans), ZERO), "money", note=note,
                        statement=self.s.pool["liquidation_proceeds"], field="pool.liquidation_proceeds")
        return balance, net

    @_once
    def principal_parts(self) -> None:
        coll = self.period.collections
        self._collection("scheduled_principal", "scheduled principal", coll.scheduled_principal, "scheduled_principal")
        self._collection("curtailments", "curtailments (partial prepayments)", coll.curtailments, "curtailments")
        self._collection("payoffs", "payments in full", coll.payoffs.amount, "payoffs", "amount")
        self._collection("repurchases", "repurchased loans' principal", coll.repurchases.amount,
                         "repurchases", "amount")
        self.liquidations()

    @_once
    def principal_remittance(self) -> Decimal:
        self.principal_parts()
        coll = self.period.collections
        _, proceeds = self.liquidations()
        value = coll.scheduled_principal + coll.curtailments + coll.payoffs.amount + proceeds + coll.repurchases.amount
        return self.step("principal_remittance", "principal remittance",
                         "scheduled_principal + curtailments + payoffs + liquidation_proceeds + repurchases", value,
                         "money", statement=self.s.pool["principal_remittance"], field="pool.principal_remittance")

    @_once
    def pool_end(self) -> Decimal:
        self.principal_parts()
        coll = self.period.collections
        balance, _ = self.liquidations()
        value = (self.pool_beg() - coll.scheduled_principal - coll.curtailments - coll.payoffs.amount - balance
                 - coll.repurchases.amount)
        return self.step("pool_end", "pool balance at the end of the period",
                         "pool_beg - scheduled_principal - curtailments - payoffs - liquidated_balance - repurchases",
                         value, "money", statement=self.s.pool["ending_balance"], field="pool.ending_balance")

    @_once
    def realized_losses(self) -> Decimal:
        balance, proceeds = self.liquidations()
        return self.step("realized_losses", "realized losses of the period",
                         "liquidated_balance - liquidation_proceeds", balance - proceeds, "money",
                         statement=self.s.losses["realized"], field="losses.realized")

    @_once
    def cum_losses(self) -> Decimal:
        value = self.cum_losses_before() + self.realized_losses()
        return self.step("cum_losses", "cumulative realized losses", "cum_losses_before + realized_losses", value,
                         "money", statement=self.s.losses["cumulative"], field="losses.cumulative")

    @_once
    def loss_pct(self) -> Decimal:
        value = ratio(self.cum_losses(), self.cutoff())
        return self.step("loss_pct", "cumulative losses as a share of the cut-off balance", "cum_losses / cutoff",
                         value, "pct", rounding=QUOTIENT, statement=self.s.losses["cumulative_pct"],
                         field="losses.cumulative_pct")

    @_once
    def sixty_plus(self) -> Decimal:
        dq = self.period.delinquency
        parts = [("days_60_89", "60-89 days delinquent"), ("days_90_plus", "90+ days delinquent"),
                 ("foreclosure", "in foreclosure"), ("bankruptcy_60_plus", "bankrupt and 60+ days delinquent")]
        symbols = []
        for key, label in parts:
            self.period_input(f"stated[{key}]", f"stated balance of loans {label}", getattr(dq, key).stated_balance,
                              "money", "delinquency", key, "stated_balance")
            symbols.append(f"stated[{key}]")
        self.period_input("stated[reo]", "stated balance of REO properties", self.period.reo.stated_balance, "money",
                          "reo", "stated_balance")
        symbols.append("stated[reo]")
        value = sum((getattr(dq, k).stated_balance for k, _ in parts), ZERO) + self.period.reo.stated_balance
        return self.step("sixty_plus", "loans 60+ days delinquent, in foreclosure, REO or bankrupt and 60+",
                         _sum_formula(symbols), value, "money", statement=self.s.performance["sixty_plus_balance"],
                         field="performance.sixty_plus_balance")

    @_once
    def delinquency_pct(self) -> Decimal:
        value = ratio(self.sixty_plus(), self.pool_end())
        return self.step("delinquency_pct", "delinquency percentage", "sixty_plus / pool_end", value, "pct",
                         rounding=QUOTIENT, statement=self.s.performance["delinquency_pct"],
                         field="performance.delinquency_pct")

    @_once
    def cash_available(self) -> Decimal:
        value = self.fund_start("interest") + self.principal_remittance() + self.charges_collected()
        return self.step("cash_available", "cash available for distribution",
                         "interest_remittance + principal_remittance + prepayment_charges", value, "money",
                         statement=self.s.cash["available"], field="cash.available")

    @_once
    def charges_collected(self) -> Decimal:
        return self._collection("prepayment_charges", "prepayment charges collected",
                                self.period.collections.prepayment_charges, "prepayment_charges")

    # ---------------------------------------------------------------- stepdown, triggers, OC target

    @_once
    def prior_enhancement(self) -> Decimal:
        value = ratio(self.mezz_beg() + self.oc_beg(), self.pool_beg())
        return self.step("prior_enhancement", "credit enhancement percentage at the start", "(mezz_beg + oc_beg) / "
                         "pool_beg", value, "pct", rounding=QUOTIENT,
                         statement=self.s.performance["prior_credit_enhancement_pct"],
                         field="performance.prior_credit_enhancement_pct")

    @_once
    def senior_enhancement(self) -> Decimal:
        pool_end, senior = self.pool_end(), self.senior_beg()
        value = ratio(pool_end - senior, pool_end) if pool_end else ZERO
        return self.step("senior_enhancement", "senior enhancement percentage for the stepdown test (after the "
                         "pool's principal, before principal is paid)", "(pool_end - senior_beg) / pool_end", value,
                         "pct", rounding=QUOTIENT, statement=self.s.performance["stepdown_test_pct"],
                         field="performance.stepdown_test_pct")

    @_once
    def stepdown(self) -> bool:
        rule = self.deal.stepdown
        earliest = self.deal_input("earliest_distribution", "stepdown no earlier than this distribution",
                                   rule.earliest_distribution, "count", "stepdown", "earliest_distribution")
        target = self.deal_input("senior_enhancement_target", "senior enhancement the stepdown needs",
                                 rule.senior_enhancement_target, "rate", "stepdown", "senior_enhancement_target")
        before, number = self.stepdown_before(), self.number()
        test, senior = self.senior_enhancement(), self.senior_beg()
        value = before or (number >= earliest and test >= target) or senior == ZERO
        return self.step("stepdown", "stepdown date has occurred",
                         "stepdown_before or (number >= earliest_distribution and senior_enhancement >= "
                         "senior_enhancement_target) or senior_beg = 0", value, "flag",
                         statement=self.s.performance["stepdown"], field="performance.stepdown")

    def _trigger_test(self, name: str):
        return next(t for t in self.s.triggers if t.name == name)

    @_once
    def delinquency_breached(self) -> bool:
        fraction = self.deal_input("dq_fraction", "share of the prior enhancement that 60+ delinquencies may reach",
                                   self.deal.trigger.delinquency_fraction_of_senior_enhancement, "rate",
                                   "trigger", "delinquency_fraction_of_senior_enhancement")
        test = self._trigger_test("Delinquency")
        threshold = self.step("dq_threshold", "delinquency trigger threshold", "prior_enhancement x dq_fraction",
                              self.prior_enhancement() * fraction, "pct", statement=test.threshold,
                              field="triggers.Delinquency.threshold")
        value = self.delinquency_pct() > threshold
        return self.step("dq_breached", "delinquency trigger breached", "delinquency_pct > dq_threshold", value,
                         "flag", statement=test.breached, field="triggers.Delinquency.breached")

    @_once
    def loss_breached(self) -> bool:
        number = self.number()
        schedule = self.deal.trigger.cumulative_loss_schedule
        applies = [i for i, s in enumerate(schedule) if s.from_distribution <= number]
        if not applies:
            return self.step("loss_breached", "cumulative loss trigger breached",
                             "no: no step of the cumulative loss schedule applies yet", False, "flag", substituted="",
                             note=f"distribution {number} is before the schedule's first step")
        j = applies[-1]
        limit = self.deal_input("loss_limit", f"cumulative loss limit from distribution "
                                f"{schedule[j].from_distribution}", schedule[j].pct_of_cutoff, "rate",
                                "trigger", "cumulative_loss_schedule", j, "pct_of_cutoff")
        test = self._trigger_test("Cumulative losses")
        self.agree("loss_limit", "rate", limit, test.threshold, "triggers.Cumulative losses.threshold")
        value = self.loss_pct() > limit
        return self.step("loss_breached", "cumulative loss trigger breached", "loss_pct > loss_limit", value, "flag",
                         statement=test.breached, field="triggers.Cumulative losses.breached")

    @_once
    def trigger(self) -> bool:
        value = self.delinquency_breached() or self.loss_breached()
        return self.step("trigger", "trigger event in effect", "dq_breached or loss_breached", value, "flag",
                         statement=self.s.performance["trigger"], field="performance.trigger")

    @_once
    def oc_floor(self) -> Decimal:
        share = self.deal.overcollateralization.floor_pct_of_cutoff
        if share is not None:
            self.deal_input("oc_floor_pct", "OC floor as a share of the cut-off balance", share, "rate",
                            "overcollateralization", "floor_pct_of_cutoff")
            formula = "cutoff x oc_floor_pct"
        else:
            formula = "0 (the deal gives no floor)"
        value = cents(self.cutoff() * (share or ZERO))
        return self.step("oc_floor", "OC floor", formula, value, "money", rounding=HALF_UP_CENT if share else "")

    @_once
    def oc_target(self) -> Decimal:
        rule = self.deal.overcollateralization
        stepdown, trigger, pool_end = self.stepdown(), self.trigger(), self.pool_end()
        if rule.amount_before_stepdown is not None:
            before = self.deal_input("oc_before_stepdown", "OC target before the stepdown date",
                                     rule.amount_before_stepdown, "money", "overcollateralization",
                                     "amount_before_stepdown")
        else:
            share = self.deal_input("oc_pct_before", "OC target before the stepdown date, share of the cut-off balance",
                                    rule.pct_of_cutoff_before_stepdown, "rate", "overcollateralization",
                                    "pct_of_cutoff_before_stepdown")
            before = self.step("oc_before_stepdown", "OC target before the stepdown date", "cutoff x oc_pct_before",
                               cents(self.cutoff() * share), "money", rounding=HALF_UP_CENT)
        value = oc_target(self.deal, self.start_state(), stepdown, trigger, pool_end)
        if not stepdown or rule.pct_of_current_after_stepdown is None:
            why = "the stepdown date has not occurred" if not stepdown else "the deal gives no target after stepdown"
            shown, formula, rounding = before, "oc_before_stepdown", ""
        elif trigger and self.start_state().oc_target is not None:
            why = "after the stepdown date a trigger event holds the previous target"
            shown, formula, rounding = self.prev_oc_target(), "prev_oc_target", ""
        else:
            why = "after the stepdown date, no trigger event: a share of the current pool, floored"
            after = self.deal_input("oc_pct_after", "OC target after the stepdown date, share of the ending pool",
                                    rule.pct_of_current_after_stepdown, "rate", "overcollateralization",
                                    "pct_of_current_after_stepdown")
            shown = max(cents(pool_end * after), self.oc_floor())
            formula, rounding = "max(pool_end x oc_pct_after, oc_floor)", f"pool_end x oc_pct_after {HALF_UP_CENT}"
        if shown != value:
            raise Mismatch(f"{self.s.deal_id} {self.s.period}: the OC target's formula gives {_money(shown)}, the "
                           f"engine's oc_target {_money(value)}")
        return self.step("oc_target", "required overcollateralization (OC target)", formula, value, "money",
                         rounding=rounding, note=why, statement=self.s.oc["target"], field="oc.target")

    @_once
    def oc_before(self) -> Decimal:
        value = self.pool_end() - (self.certs_beg() - self.principal_remittance())
        return self.step("oc_before", "OC before the distribution (if the whole remittance paid certificates)",
                         "pool_end - (certs_beg - principal_remittance)", value, "money",
                         statement=self.s.oc["before_distribution"], field="oc.before_distribution")

    @_once
    def deficiency(self) -> Decimal:
        value = max(ZERO, self.oc_target() - self.oc_before())
        return self.step("deficiency", "OC deficiency", "max(0, oc_target - oc_before)", value, "money",
                         statement=self.s.oc["deficiency"], field="oc.deficiency")

    @_once
    def release(self) -> Decimal:
        remittance, before, target, deficiency = (self.principal_remittance(), self.oc_before(), self.oc_target(),
                                                  self.deficiency())
        value = min(remittance, max(ZERO, before - target)) if not deficiency else ZERO
        return self.step("release", "OC release held back from the principal remittance",
                         "min(principal_remittance, max(0, oc_before - oc_target)), or 0 when deficiency > 0", value,
                         "money")

    # ---------------------------------------------------------------- funds

    @_once
    def fund_start(self, section: str) -> Decimal:
        coll = self.period.collections
        if section == "interest":
            return self._collection("interest_remittance", "interest remittance (collected, advanced and "
                                    "compensating interest, before fees)", coll.interest, "interest")
        if section == "principal":
            return self.principal_remittance()
        if section == "prepayment charges":
            return self.charges_collected()
        if section == "excess":
            parts = [self.excess_interest()]
            formula = "excess_interest"
            if self.ledger("principal", _PRINCIPAL_TO_EXCESS):
                parts.append(self.principal_left())
                formula += " + principal_left"
            return self.step("excess_start", "excess cash flow available", formula, sum(parts, ZERO), "money")
        raise Mismatch(f"unknown fund {section!r}")  # pragma: no cover

    def _walk(self, index: int, symbol: str, label: str) -> Decimal:
        """What fund ``section`` held before step ``index``: its start less the steps before it."""
        section = self.s.waterfall[index].section
        start = self.fund_start(section)
        earlier = [self.amount(j) for j in range(index) if self.s.waterfall[j].section == section]
        value = start - sum((amount for _, amount in earlier), ZERO)
        st = self.s.waterfall[index]
        formula = " - ".join([_FUND_START[section]] + [symbol for symbol, _ in earlier])
        return self.step(symbol, label, formula, value, "money", statement=st.amount + st.remaining,
                         field=f"flow of funds step {index + 1}: amount + remaining")

    def amount(self, index: int) -> tuple[str, Decimal]:
        """The amount of an earlier step of a fund: recomputed for fees and expenses, else as given."""
        st = self.s.waterfall[index]
        if st.section == "interest" and st.description == _EXPENSES:
            return "expenses_paid", self.expenses_paid(index)
        for i, fee in enumerate(self.deal.fees):
            if st.section == "interest" and st.description == f"{fee.name} fee":
                return f"fee[{fee.name}]", self.fee(i, index)
        match = re.fullmatch(r"Class (\S+) (.+)", st.description)
        if match and (match.group(2), st.section) in _CLASS_PAYMENTS:
            method, symbol = _CLASS_PAYMENTS[match.group(2), st.section]
            key = (method, (match.group(1),))
            if key in self.memo:  # already recomputed in this explanation
                return f"{symbol}[{match.group(1)}]", self.memo[key]
        return f"flow[{index + 1}]", self.flow(index)

    @_once
    def expenses_paid(self, index: int) -> Decimal:
        due = self.period_input("expenses", "extraordinary trust fund expenses", self.period.extraordinary_expenses,
                                "money", "extraordinary_expenses")
        return self.paid("expenses_paid", "extraordinary trust fund expenses paid", index, "expenses", due)

    @_once
    def fee(self, i: int, index: int) -> Decimal:
        fee = self.deal.fees[i]
        due = self.step(f"fee_due[{fee.name}]", f"{fee.name} fee for the month",
                        f"pool_beg x fee_rate[{fee.name}] / {MONTHS_PER_YEAR}",
                        monthly_fee(self.pool_beg(), self.fee_annual(i)), "money", rounding=HALF_UP_CENT)
        value = self.paid(f"fee[{fee.name}]", f"{fee.name} fee paid, to {fee.payee or fee.name}", index,
                          f"fee_due[{fee.name}]", due)
        self.agree(f"fee[{fee.name}]", "money", value, self.s.fees[fee.name], f"fees.{fee.name}")
        return value

    @_once
    def available(self, index: int) -> Decimal:
        st = self.s.waterfall[index]
        return self._walk(index, f"available[{index + 1}]",
                          f"{st.section} funds before step {index + 1} ({st.description})")

    @_once
    def excess_interest(self) -> Decimal:
        index = self.one_step("interest", _INTEREST_TO_EXCESS)
        value = self._walk(index, "excess_interest", "interest left after fees and class interest: excess cash flow")
        self.agree("excess_interest", "money", value, self.s.waterfall[index].amount,
                   f"flow of funds step {index + 1}")
        return value

    @_once
    def principal_left(self) -> Decimal:
        index = self.one_step("principal", _PRINCIPAL_TO_EXCESS)
        value = self._walk(index, "principal_left", "principal not needed by the certificates, to excess cash flow")
        self.agree("principal_left", "money", value, self.s.waterfall[index].amount,
                   f"flow of funds step {index + 1}")
        self.agree("principal_left", "money", value, self.s.oc["reduction"], "oc.reduction")
        return value

    def paid(self, symbol: str, label: str, index: int, due_symbol: str, due: Decimal, note: str = "") -> Decimal:
        """A payment of ``due`` from the fund, limited to what the fund holds (as the engine's ``Funds.pay``)."""
        available = self.available(index)
        value = min(available, max(ZERO, due))
        return self.step(symbol, label, f"min(available[{index + 1}], {due_symbol})", value, "money", note=note,
                         statement=self.s.waterfall[index].amount, field=f"flow of funds step {index + 1}")

    # ---------------------------------------------------------------- interest

    @_once
    def accrued(self, name: str) -> Decimal:
        value = accrual_interest(self.beg(name), self.rate(name), self.days())
        c = self.cls(name)
        shown = c.current_interest + c.ppis_reduction + c.relief_act_reduction
        return self.step(f"accrued[{name}]", f"class {name} interest accrued at its rate (Actual/360)",
                         f"beg[{name}] x rate[{name}] x days / {DAYS_IN_YEAR_BASIS}", value, "money",
                         rounding=HALF_UP_CENT, statement=shown,
                         field=f"classes.{name}: current_interest + ppis_reduction + relief_act_reduction")

    @_once
    def accrued_total(self) -> Decimal:
        value = sum((self.accrued(n) for n in self.coupon), ZERO)
        return self.step("accrued_total", "interest accrued by all classes", _sum_formula(
            [f"accrued[{n}]" for n in self.coupon]), value, "money")

    def _weights(self) -> dict[str, Decimal]:
        return {c.name: self.accrued(c.name) if c.margin is not None else ZERO for c in self.deal.classes}

    @_once
    def ppis_uncovered(self) -> Decimal:
        sh = self.period.shortfalls
        ppis = self.period_input("ppis", "prepayment interest shortfall", sh.prepayment_interest, "money",
                                 "shortfalls", "prepayment_interest")
        covered = self.period_input("ppis_covered", "part of it the servicer covered (compensating interest)",
                                    sh.covered_by_servicer, "money", "shortfalls", "covered_by_servicer")
        value = ppis - min(covered, ppis)
        return self.step("ppis_uncovered", "prepayment interest shortfall not covered",
                         "ppis - min(ppis_covered, ppis)", value, "money",
                         statement=self.s.shortfalls["ppis_not_covered"],
                         field="shortfalls.ppis_not_covered")

    @_once
    def ppis_allocated(self) -> Decimal:
        if not self.ppis_uncovered():
            return self.step("ppis_allocated", "uncovered shortfall allocated", "0: nothing to allocate", ZERO,
                             "money", substituted="")
        value = min(self.ppis_uncovered(), self.accrued_total())
        return self.step("ppis_allocated", "uncovered shortfall to allocate (at most the interest accrued)",
                         "min(ppis_uncovered, accrued_total)", value, "money")

    @_once
    def ppis(self, name: str) -> Decimal:
        return self._shortfall_share(name, f"ppis[{name}]", f"class {name} share of the prepayment interest shortfall",
                                     "ppis_uncovered", self.ppis_uncovered(), "ppis_allocated", self.ppis_allocated,
                                     "ppis_reduction")

    def _shortfall_share(self, name: str, symbol: str, label: str, total_symbol: str, total: Decimal,
                         allocated_symbol: str, allocated: Callable[[], Decimal], attribute: str) -> Decimal:
        """Class ``name``'s pro-rata share (by interest accrued) of an interest shortfall."""
        field, shown = f"classes.{name}.{attribute}", getattr(self.cls(name), attribute)
        if not total:
            return self.step(symbol, label, "0: nothing to allocate", ZERO, "money", substituted="",
                             note=f"{total_symbol} is 0.00", statement=shown, field=field)
        parts = pro_rata(allocated(), self._weights())
        return self.step(symbol, label, f"{allocated_symbol} x accrued[{name}] / accrued_total", parts[name],
                         "money", rounding=PRO_RATA, statement=shown, field=field)

    @_once
    def relief(self) -> Decimal:
        return self.period_input("relief", "Relief Act interest shortfall", self.period.shortfalls.relief_act, "money",
                                 "shortfalls", "relief_act")

    @_once
    def relief_allocated(self) -> Decimal:
        value = min(self.relief(), self.accrued_total() - self.ppis_allocated())
        return self.step("relief_allocated", "Relief Act shortfall to allocate (at most the interest left)",
                         "min(relief, accrued_total - ppis_allocated)", value, "money")

    @_once
    def relief_share(self, name: str) -> Decimal:
        return self._shortfall_share(name, f"relief[{name}]", f"class {name} share of the Relief Act shortfall",
                                     "relief", self.relief(), "relief_allocated", self.relief_allocated,
                                     "relief_act_reduction")

    @_once
    def current(self, name: str) -> Decimal:
        value = self.accrued(name) - self.ppis(name) - self.relief_share(name)
        return self.step(f"current[{name}]", f"class {name} current interest",
                         f"accrued[{name}] - ppis[{name}] - relief[{name}]", value, "money",
                         statement=self.cls(name).current_interest, field=f"classes.{name}.current_interest")

    @_once
    def carry_current(self, name: str) -> Decimal:
        symbol, label = f"carry_new[{name}]", f"class {name} Net WAC carryover of this period"
        field, shown = f"classes.{name}.carryover_current", self.cls(name).carryover_current
        rate, uncapped = self.rate(name), self.uncapped(name)
        if rate >= uncapped:
            return self.step(symbol, label, "0: the cap does not bind", ZERO, "money", substituted="",
                             statement=shown, field=field)
        full = self.step(f"accrued_uncapped[{name}]", f"class {name} interest at its uncapped rate",
                         f"beg[{name}] x uncapped[{name}] x days / {DAYS_IN_YEAR_BASIS}",
                         accrual_interest(self.beg(name), uncapped, self.days()), "money", rounding=HALF_UP_CENT)
        return self.step(symbol, label, f"accrued_uncapped[{name}] - accrued[{name}]", full - self.accrued(name),
                         "money", statement=shown, field=field)

    def _interest_rule(self, name: str) -> InterestStep | None:
        return next((r for r in self.deal.waterfall.interest if isinstance(r, InterestStep) and name in r.classes),
                    None)

    @_once
    def due(self, name: str) -> Decimal:
        rule = self._interest_rule(name)
        if rule.include_unpaid:
            value = self.current(name) + self.unpaid_before(name)
            formula = f"current[{name}] + unpaid_before[{name}]"
        else:
            value, formula = self.current(name), f"current[{name}]"
        note = "" if rule.include_unpaid else "this step pays current interest only; unpaid interest waits for excess"
        return self.step(f"due[{name}]", f"class {name} interest due from the interest remittance", formula, value,
                         "money", note=note)

    @_once
    def interest_paid(self, name: str) -> Decimal:
        rule = self._interest_rule(name)
        label = "current and unpaid interest" if rule.include_unpaid else "current interest"
        index = self.one_step("interest", f"Class {name} {label}")
        symbol = f"paid_interest[{name}]"
        step_label = f"class {name} paid from the interest remittance"
        if len(rule.classes) == 1:
            return self.paid(symbol, step_label, index, f"due[{name}]", self.due(name))
        # classes paid pro rata by what each is due when the fund is short
        dues = {n: self.due(n) for n in rule.classes}
        first = self.one_step("interest", f"Class {rule.classes[0]} {label}")
        total = sum(dues.values(), ZERO)
        available = min(self.available(first), total)
        split = dues if available == total else pro_rata(available, dues)
        value = min(self.available(index), max(ZERO, split[name]))
        dues_sum = " + ".join(f"due[{n}]" for n in rule.classes)
        formula = (f"min(available[{first + 1}], {dues_sum}) x due[{name}] / ({dues_sum}), "
                   f"at most available[{index + 1}]")
        return self.step(symbol, step_label, formula, value, "money", rounding=PRO_RATA if split is not dues else "",
                         statement=self.s.waterfall[index].amount, field=f"flow of funds step {index + 1}")

    @_once
    def unpaid_mid(self, name: str) -> Decimal:
        """Unpaid interest after the interest remittance, before excess cash flow."""
        rule = self._interest_rule(name)
        if rule is None:
            return self.step(f"unpaid_mid[{name}]", f"class {name} interest still unpaid after the interest "
                             "remittance", f"unpaid_before[{name}]", self.unpaid_before(name), "money",
                             note=f"class {name} is in no interest step")
        owed = self.due(name) - self.interest_paid(name)
        if rule.include_unpaid:
            formula, value = f"due[{name}] - paid_interest[{name}]", owed
        else:
            formula = f"unpaid_before[{name}] + due[{name}] - paid_interest[{name}]"
            value = self.unpaid_before(name) + owed
        return self.step(f"unpaid_mid[{name}]", f"class {name} interest still unpaid after the interest remittance",
                         formula, value, "money")

    def _excess_rule(self, kind: type, name: str):
        return next((r for r in self.deal.waterfall.excess if isinstance(r, kind) and name in r.classes), None)

    @_once
    def unpaid_paid(self, name: str) -> Decimal:
        index = self.one_step("excess", f"Class {name} unpaid interest")
        return self.paid(f"unpaid_paid[{name}]", f"class {name} unpaid interest paid from excess cash flow", index,
                         f"unpaid_mid[{name}]", self.unpaid_mid(name))

    @_once
    def carry_paid(self, name: str) -> Decimal:
        due = self.carry_before(name) + self.carry_current(name)
        self.step(f"carry_due[{name}]", f"class {name} Net WAC carryover owed",
                  f"carry_before[{name}] + carry_new[{name}]", due, "money")
        index = self.one_step("excess", f"Class {name} Net WAC rate carryover")
        value = self.paid(f"carry_paid[{name}]", f"class {name} Net WAC carryover paid from excess cash flow", index,
                          f"carry_due[{name}]", due)
        self.agree(f"carry_paid[{name}]", "money", value, self.cls(name).carryover_paid,
                   f"classes.{name}.carryover_paid")
        return value

    @_once
    def residual(self, name: str) -> Decimal:
        index = self.one_step("excess", f"Class {name} remaining excess cash flow")
        value = self.available(index)
        return self.step(f"residual[{name}]", f"class {name} remaining excess cash flow (all that is left)",
                         f"available[{index + 1}]", value, "money", statement=self.s.waterfall[index].amount,
                         field=f"flow of funds step {index + 1}")

    @_once
    def charges(self, name: str) -> Decimal:
        index = self.one_step("prepayment charges", f"Class {name} prepayment charges")
        value = self.charges_collected()
        return self.step(f"charges[{name}]", f"prepayment charges paid to class {name}", "prepayment_charges", value,
                         "money", statement=self.s.waterfall[index].amount, field=f"flow of funds step {index + 1}")

    def interest_parts(self, name: str) -> list[tuple[str, Callable[[str], Decimal]]]:
        """The interest-type payments the waterfall makes to a class, as (symbol, method)."""
        wf = self.deal.waterfall
        residual = any(isinstance(r, ResidualStep) and r.class_ == name for r in wf.excess)
        if self.spec(name).kind == "excess":
            return [(f"residual[{name}]", self.residual)] if residual else []
        parts = []
        if self._interest_rule(name):
            parts.append((f"paid_interest[{name}]", self.interest_paid))
        if self._excess_rule(UnpaidInterestStep, name):
            parts.append((f"unpaid_paid[{name}]", self.unpaid_paid))
        if self._excess_rule(CarryoverStep, name):
            parts.append((f"carry_paid[{name}]", self.carry_paid))
        if residual:
            parts.append((f"residual[{name}]", self.residual))
        if wf.prepayment_charges_to == name:
            parts.append((f"charges[{name}]", self.charges))
        return parts

    @_once
    def interest(self, name: str) -> Decimal:
        parts = self.interest_parts(name)
        value = sum((method(name) for _, method in parts), ZERO)
        note = "" if parts else f"no step of the waterfall pays class {name} interest"
        return self.step(f"interest[{name}]", f"class {name} interest distributed",
                         _sum_formula([s for s, _ in parts]), value, "money", note=note,
                         statement=self.cls(name).interest, field=f"classes.{name}.interest")

    # ---------------------------------------------------------------- principal

    def _principal_rule(self, name: str) -> int | None:
        rules = self.deal.waterfall.principal
        found = [i for i, r in enumerate(rules) if isinstance(r, PrincipalStep) and name in r.classes]
        if len(found) > 1:
            raise ValueError(f"class {name} is in {len(found)} principal steps; an explanation follows one")
        return found[0] if found else None

    @_once
    def extra(self) -> Decimal:
        if not any(isinstance(r, ExtraPrincipalStep) for r in self.deal.waterfall.excess):
            return self.step("extra", "extra principal from excess cash flow", "0: the waterfall has no "
                             "extra_principal step", ZERO, "money", substituted="")
        value = min(self.excess_interest() + self.release(), self.deficiency())
        return self.step("extra", "extra principal to rebuild OC (planned)", "min(excess_interest + release, "
                         "deficiency)", value, "money")

    @_once
    def by_targets(self) -> bool:
        stepdown, trigger = self.stepdown(), self.trigger()
        value = stepdown and not trigger
        return self.step("by_targets", "principal by class targets (else sequentially)", "stepdown and not trigger",
                         value, "flag")

    @_once
    def basic_principal(self) -> Decimal:
        return self.step("basic_principal", "principal remittance less the OC release", "principal_remittance - "
                         "release", self.principal_remittance() - self.release(), "money")

    @_once
    def alloc(self, r: int) -> dict[str, Decimal]:
        """The engine's split of principal step ``r``'s principal distribution amount, each share recorded.
        (Each class is in one principal step, so no earlier step has paid the classes of this one.)"""
        rule = self.deal.waterfall.principal[r]
        names = list(rule.classes)
        tag = "" if len(self.deal.waterfall.principal) == 1 else f"{r + 1}"
        remaining = sum((self.beg(n) for n in names), ZERO)
        payable = self.step(f"payable{tag}", "principal distribution amount",
                            f"min(basic_principal + extra, {_sum_formula([f'beg[{n}]' for n in names])})",
                            min(self.basic_principal() + self.extra(), remaining), "money")
        by_targets, pool_end, target = self.by_targets(), self.pool_end(), self.oc_target()
        balances = {n: self.beg(n) for n in self.certificates}
        split = allocate_principal(self.deal, rule.classes, payable, balances, by_targets, pool_end, target)
        if by_targets:
            self._alloc_by_targets(names, split, payable, tag)
        else:
            for k, n in enumerate(names):
                before = "".join(f" - alloc[{m}]" for m in names[:k])
                self.step(f"alloc[{n}]", f"class {n} share of the principal distribution amount",
                          f"min(payable{tag}{before}, beg[{n}])", split[n], "money",
                          note="sequentially, in the order of the principal step")
        return split

    def _alloc_by_targets(self, names: list[str], split: dict[str, Decimal], payable: Decimal, tag: str) -> None:
        """After the stepdown date: each class is paid down until it, with the classes senior to it,
        stands at its target share of the ending pool (the engine's ``allocate_principal``, step by step)."""
        outside_names = [n for n in self.certificates if n not in names]
        outside = self.step(f"outside{tag}", "certificates outside the principal step",
                            _sum_formula([f"beg[{n}]" for n in outside_names]),
                            sum((self.beg(n) for n in outside_names), ZERO), "money")
        room = self.step(f"room{tag}", "what the classes of the step may add up to, leaving the pool its OC target",
                         f"pool_end - max(oc_floor, oc_target) - outside{tag}",
                         self.pool_end() - max(self.oc_floor(), self.oc_target()) - outside, "money")
        left, above = payable, ZERO
        for k, n in enumerate(names):
            spec = self.spec(n)
            seniors = " + ".join(f"(beg[{m}] - alloc[{m}])" for m in names[:k]) or "0"
            self.step(f"above[{n}]", f"classes senior to {n} after their principal", seniors, above, "money")
            if spec.stepdown_target_pct is not None:
                pct_ = self.deal_input(f"target_pct[{n}]", f"class {n} and those senior to it: most of the ending pool",
                                       spec.stepdown_target_pct, "rate", "classes", self.class_index(n),
                                       "stepdown_target_pct")
                allowed = self.step(f"allowed[{n}]", f"most that class {n} and those senior to it may stand at",
                                    f"max(0, min(pool_end x target_pct[{n}], room{tag}))",
                                    max(ZERO, min(cents(self.pool_end() * pct_), room)), "money",
                                    rounding=f"pool_end x target_pct[{n}] {HALF_UP_CENT}")
            else:
                allowed = self.step(f"allowed[{n}]", f"class {n} has no target", "0", ZERO, "money")
            due = min(self.beg(n), max(ZERO, above + self.beg(n) - allowed))
            pay = min(left, due)
            self.step(f"alloc[{n}]", f"class {n} share of the principal distribution amount",
                      f"min(payable{tag}{''.join(f' - alloc[{m}]' for m in names[:k])}, beg[{n}], "
                      f"max(0, above[{n}] + beg[{n}] - allowed[{n}]))", split[n], "money")
            if pay != split[n]:
                raise Mismatch(f"{self.s.deal_id} {self.s.period}: alloc[{n}] by the stated formula is {_money(pay)}, "
                               f"the engine's allocate_principal gives {_money(split[n])}")
            left -= pay
            above += self.beg(n) - pay

    @_once
    def principal_paid(self, name: str) -> Decimal:
        split = self.alloc(self._principal_rule(name))
        index = self.one_step("principal", f"Class {name} principal")
        available = self.available(index)
        value = min(available, split[name])
        return self.step(f"paid_principal[{name}]", f"class {name} principal paid from the principal remittance",
                         f"min(alloc[{name}], available[{index + 1}])", value, "money",
                         statement=self.s.waterfall[index].amount, field=f"flow of funds step {index + 1}")

    @_once
    def extra_paid(self, name: str) -> Decimal:
        due = self.step(f"extra_due[{name}]", f"class {name} share not paid from the principal remittance",
                        f"alloc[{name}] - paid_principal[{name}]",
                        self.alloc(self._principal_rule(name))[name] - self.principal_paid(name), "money")
        found = self.ledger("excess", f"Class {name} extra principal")
        has_step = any(isinstance(r, ExtraPrincipalStep) for r in self.deal.waterfall.excess)
        if not due or not has_step:
            if found:
                raise Mismatch(f"{self.s.deal_id} {self.s.period}: class {name} extra principal paid, none due")
            why = "nothing is due" if not due else "the waterfall has no extra_principal step"
            return self.step(f"extra_paid[{name}]", f"class {name} extra principal from excess cash flow",
                             f"0: {why}", ZERO, "money", substituted="")
        return self.paid(f"extra_paid[{name}]", f"class {name} extra principal from excess cash flow",
                         self.one_step("excess", f"Class {name} extra principal"), f"extra_due[{name}]", due)

    @_once
    def principal(self, name: str) -> Decimal:
        symbol, label = f"principal[{name}]", f"class {name} principal distributed"
        field, shown = f"classes.{name}.principal", self.cls(name).principal
        if self.spec(name).kind == "excess":
            return self.step(symbol, label, "0: the excess class's notional is the OC; it is paid no principal",
                             ZERO, "money", substituted="", statement=shown, field=field)
        if self._principal_rule(name) is None:
            return self.step(symbol, label, f"0: class {name} is in no principal step of the waterfall", ZERO,
                             "money", substituted="", statement=shown, field=field)
        value = self.principal_paid(name) + self.extra_paid(name)
        return self.step(symbol, label, f"paid_principal[{name}] + extra_paid[{name}]", value, "money",
                         statement=shown, field=field)

    # ---------------------------------------------------------------- losses and ending balances

    @_once
    def certs_after_principal(self) -> Decimal:
        terms = [f"(beg[{n}] - principal[{n}])" for n in self.certificates]
        value = sum((self.beg(n) - self.principal(n) for n in self.certificates), ZERO)
        return self.step("certs_after_principal", "certificates after principal", _sum_formula(terms), value, "money")

    @_once
    def loss_shortfall(self) -> Decimal:
        value = self.certs_after_principal() - self.pool_end()
        return self.step("loss_shortfall", "certificates above the pool after principal (losses OC cannot absorb)",
                         "certs_after_principal - pool_end", value, "money",
                         note="write-downs only when positive")

    @_once
    def writedown(self, name: str) -> Decimal:
        symbol, label = f"writedown[{name}]", f"class {name} realized losses allocated (write-down)"
        field, shown = f"classes.{name}.losses", self.cls(name).losses
        order = list(self.deal.waterfall.loss_allocation)
        if self.spec(name).kind == "excess" or name not in order:
            why = (f"class {name} is not in the loss allocation order ({', '.join(order) or 'none'})"
                   if name not in order else "the excess class absorbs losses as OC, not as a write-down")
            return self.step(symbol, label, f"0: {why}", ZERO, "money", substituted="", statement=shown, field=field)
        shortfall = self.loss_shortfall()
        if shortfall <= 0:
            return self.step(symbol, label, "0: loss_shortfall is not positive", ZERO, "money",
                             substituted=f"0: loss_shortfall = {_operand('money', shortfall)}", statement=shown,
                             field=field)
        earlier = order[:order.index(name)]
        left = shortfall - sum((self.writedown(n) for n in earlier), ZERO)
        value = min(self.beg(name) - self.principal(name), left) if left > 0 else ZERO
        less = "".join(f" - writedown[{n}]" for n in earlier)
        return self.step(symbol, label, f"min(beg[{name}] - principal[{name}], loss_shortfall{less}), 0 once "
                         "nothing is left", value, "money", note=f"losses write down {', '.join(order)} in turn",
                         statement=shown, field=field)

    @_once
    def ending(self, name: str) -> Decimal:
        symbol, label = f"ending[{name}]", f"class {name} balance at the end of the period"
        field, shown = f"classes.{name}.ending_balance", self.cls(name).ending_balance
        if self.spec(name).kind == "excess":
            return self.step(symbol, f"class {name} notional at the end: the OC", "max(0, oc_end)",
                             max(ZERO, self.oc_end()), "money", statement=shown, field=field)
        value = self.beg(name) - self.principal(name) - self.writedown(name)
        return self.step(symbol, label, f"beg[{name}] - principal[{name}] - writedown[{name}]", value, "money",
                         statement=shown, field=field)

    @_once
    def certs_end(self) -> Decimal:
        value = sum((self.ending(n) for n in self.certificates), ZERO)
        return self.step("certs_end", "certificates at the end", _sum_formula(
            [f"ending[{n}]" for n in self.certificates]), value, "money")

    @_once
    def oc_end(self) -> Decimal:
        value = self.pool_end() - self.certs_end()
        return self.step("oc_end", "overcollateralization at the end", "pool_end - certs_end", value, "money",
                         statement=self.s.oc["ending"], field="oc.ending")

    @_once
    def credit_enhancement(self) -> Decimal:
        mezz = self.names("mezzanine")
        mezz_end = self.step("mezz_end", "mezzanine classes at the end", _sum_formula([f"ending[{n}]" for n in mezz]),
                             sum((self.ending(n) for n in mezz), ZERO), "money")
        value = ratio(mezz_end + self.oc_end(), self.pool_end())
        return self.step("credit_enhancement", "credit enhancement percentage", "(mezz_end + oc_end) / pool_end",
                         value, "pct", rounding=QUOTIENT, statement=self.s.performance["credit_enhancement_pct"],
                         field="performance.credit_enhancement_pct")

    @_once
    def reimbursed(self, name: str) -> Decimal:
        if not self._excess_rule(WritedownStep, name):
            return self.step(f"reimbursed[{name}]", f"class {name} written-down amount repaid",
                             f"0: class {name} is in no writedown_reimbursement step", ZERO, "money", substituted="",
                             statement=self.cls(name).writedown_reimbursed,
                             field=f"classes.{name}.writedown_reimbursed")
        index = self.one_step("excess", f"Class {name} unpaid realized loss amount")
        value = self.paid(f"reimbursed[{name}]", f"class {name} written-down amount repaid from excess cash flow",
                          index, f"writedown_before[{name}]", self.unpaid_losses_before(name))
        self.agree(f"reimbursed[{name}]", "money", value, self.cls(name).writedown_reimbursed,
                   f"classes.{name}.writedown_reimbursed")
        return value

    @_once
    def total(self, name: str) -> Decimal:
        value = self.principal(name) + self.interest(name) + self.reimbursed(name)
        return self.step(f"total[{name}]", f"class {name} total distribution",
                         f"principal[{name}] + interest[{name}] + reimbursed[{name}]", value, "money",
                         statement=self.cls(name).total, field=f"classes.{name}.total")

    @_once
    def factor(self, name: str) -> Decimal:
        value = ratio(self.ending(name), self.original(name))
        return self.step(f"factor[{name}]", f"class {name} certificate factor", f"ending[{name}] / original[{name}]",
                         value, "factor", rounding=QUOTIENT, statement=self.cls(name).factor,
                         field=f"classes.{name}.factor")

    @_once
    def basis(self, name: str) -> Decimal:
        kind = self.deal_input(f"per_1000_basis[{name}]", f"what class {name}'s per-$1,000 amounts are divided by",
                               self.spec(name).per_1000_basis, "text", "classes", self.class_index(name),
                               "per_1000_basis")
        amount = self.original(name) if kind == "original" else self.beg(name)
        symbol = f"original[{name}]" if kind == "original" else f"beg[{name}]"
        return self.step(f"units[{name}]", f"class {name} per-$1,000 basis, in thousands of dollars",
                         f"{symbol} / {THOUSAND}", amount / THOUSAND, "number",
                         statement=self.cls(name).per_1000_basis, field=f"classes.{name}.per_1000_basis")

    @_once
    def per_1000(self, name: str, key: str) -> Decimal:
        amounts = {"principal": self.principal, "interest": self.interest, "total": self.total,
                   "losses": self.writedown, "ending_balance": self.ending}
        symbols = {"principal": "principal", "interest": "interest", "total": "total", "losses": "writedown",
                   "ending_balance": "ending"}
        value = ratio(amounts[key](name), self.basis(name))
        return self.step(f"per_1000_{key}[{name}]", f"class {name} {key.replace('_', ' ')} per $1,000",
                         f"{symbols[key]}[{name}] / units[{name}]", value, "per1000", rounding=QUOTIENT,
                         statement=self.cls(name).per_1000[key], field=f"classes.{name}.per_1000.{key}")


# ------------------------------------------------------------------ the distribution date


def _closed_because(day: dt.date, calendar: str) -> str:
    if day.weekday() >= 5:
        return f"{day.isoformat()} is a {day.strftime('%A')}"
    if calendar == "NYSE":
        names = holidays.financial_holidays("NYSE", years=day.year)
    else:
        names = holidays.country_holidays(calendar, years=day.year)
    return f"{day.isoformat()} is {names.get(day, 'a bank holiday')}"


def _rule_date(key: str, day: int, calendar: str) -> tuple[dt.date, str]:
    """The distribution date by the deal's rule, and why it falls where it does."""
    year, month = cal.period_month(key)
    value = cal.distribution_date(year, month, day, calendar)
    nominal = dt.date(year, month, day)
    if value == nominal:
        return value, f"{nominal.isoformat()} is a business day ({calendar} calendar)"
    closed = []
    d = nominal
    while d < value:
        closed.append(_closed_because(d, calendar))
        d += dt.timedelta(days=1)
    return value, f"{', '.join(closed)} ({calendar} calendar): the next business day is {value.isoformat()}"


def _date_basis(computed: Computed) -> str:
    p, deal = computed.period, computed.deal
    if p.distribution_date is not None:
        return (f"distribution date given in the period file at {computed.source.where(('distribution_date',))}, "
                "overriding the deal's rule")
    sched = deal.schedule
    value, why = _rule_date(p.period, sched.distribution_day, sched.holiday_calendar)
    if value != computed.statement.distribution_date:
        raise Mismatch(f"{deal.id} {p.period}: the deal's rule gives {value}, the statement "
                       f"{computed.statement.distribution_date}")
    return (f"distribution date by the deal's rule (day {sched.distribution_day} of {p.period}, or the next business "
            f"day; {computed.deal_source.where(('schedule',))}): {why}")


# ------------------------------------------------------------------ figures


@dataclass(frozen=True, slots=True)
class _Figure:
    label: str
    field: str
    statement: Callable[[Statement], Any]
    compute: Callable[[_Trail], Any]


@dataclass(frozen=True, slots=True)
class _ClassFigure:
    label: str
    attribute: str  # of ClassResult; ``per_1000.<key>`` for per-$1,000 amounts
    applies: Callable[[ClassResult, CertificateClass], bool]
    compute: Callable[[_Trail, str], Any]

    def statement(self, result: ClassResult) -> Any:
        if self.attribute.startswith("per_1000."):
            return result.per_1000[self.attribute.split(".", 1)[1]]
        return getattr(result, self.attribute)


_FIGURES: dict[str, _Figure] = {
    "accrual_days": _Figure("accrual days", "accrual_days", lambda s: s.accrual_days, _Trail.days),
    "net_wac_cap": _Figure("Net WAC cap", "net_wac_cap", lambda s: s.net_wac_cap, _Trail.cap),
    "cash.available": _Figure("cash available for distribution", "cash.available", lambda s: s.cash["available"],
                              _Trail.cash_available),
    "pool.beginning_balance": _Figure("pool balance at the start of the period", "pool.beginning_balance",
                                      lambda s: s.pool["beginning_balance"], _Trail.pool_beg),
    "pool.ending_balance": _Figure("pool balance at the end of the period", "pool.ending_balance",
                                   lambda s: s.pool["ending_balance"], _Trail.pool_end),
    "pool.principal_remittance": _Figure("principal remittance", "pool.principal_remittance",
                                         lambda s: s.pool["principal_remittance"], _Trail.principal_remittance),
    "oc.target": _Figure("required overcollateralization (OC target)", "oc.target", lambda s: s.oc["target"],
                         _Trail.oc_target),
    "oc.ending": _Figure("overcollateralization at the end", "oc.ending", lambda s: s.oc["ending"], _Trail.oc_end),
    "credit_enhancement_pct": _Figure("credit enhancement percentage", "performance.credit_enhancement_pct",
                                      lambda s: s.performance["credit_enhancement_pct"], _Trail.credit_enhancement),
    "delinquency_pct": _Figure("delinquency percentage (60+ days, foreclosure, REO, bankrupt 60+)",
                               "performance.delinquency_pct", lambda s: s.performance["delinquency_pct"],
                               _Trail.delinquency_pct),
    "losses.cumulative_pct": _Figure("cumulative realized losses as a share of the cut-off balance",
                                     "losses.cumulative_pct", lambda s: s.losses["cumulative_pct"], _Trail.loss_pct),
}


def _always(result: ClassResult, spec: CertificateClass) -> bool:
    return True


def _per_1000(key: str) -> _ClassFigure:
    return _ClassFigure(f"{key.replace('_', ' ')} per $1,000", f"per_1000.{key}",
                        lambda r, c: r.per_1000 is not None, lambda t, n: t.per_1000(n, key))


_CLASS_FIGURES: dict[str, _ClassFigure] = {
    "interest": _ClassFigure("interest distributed (the statement's interest column)", "interest", _always,
                             _Trail.interest),
    "current_interest": _ClassFigure("current interest: accrued at the class rate, less shortfalls allocated",
                                     "current_interest", lambda r, c: c.margin is not None, _Trail.current),
    "rate": _ClassFigure("pass-through rate for this accrual period", "rate", lambda r, c: r.rate is not None,
                         _Trail.rate),
    "next_rate": _ClassFigure("rate for the next accrual period", "next_rate", lambda r, c: r.next_rate is not None,
                              _Trail.next_rate),
    "beginning_balance": _ClassFigure("balance at the start of the period", "beginning_balance", _always, _Trail.beg),
    "principal": _ClassFigure("principal distributed", "principal", _always, _Trail.principal),
    "losses": _ClassFigure("realized losses allocated (write-down)", "losses", _always, _Trail.writedown),
    "ending_balance": _ClassFigure("balance at the end of the period", "ending_balance", _always, _Trail.ending),
    "total": _ClassFigure("total distribution: principal, interest and write-down repaid", "total", _always,
                          _Trail.total),
    "factor": _ClassFigure("certificate factor", "factor", lambda r, c: r.factor is not None, _Trail.factor),
    **{f"per_1000.{k}": _per_1000(k) for k in ("principal", "interest", "total", "losses", "ending_balance")},
}

_PATTERNS = [f"<class>.{suffix}" for suffix in _CLASS_FIGURES] + list(_FIGURES)


def figures(computed: Computed) -> list[str]:
    """Every figure name :func:`explain` accepts for this statement."""
    names = list(_FIGURES)
    for spec in computed.deal.classes:
        result = computed.statement.cls(spec.name)
        names += [f"{spec.name}.{suffix}" for suffix, f in _CLASS_FIGURES.items() if f.applies(result, spec)]
    return names


def previous_statement(computed: Computed) -> Statement | None:
    """The statement before ``computed``'s (the deal run from its first period on file), or None for the
    first period on file."""
    deal_dir = Path(computed.deal_source.file).parent
    earlier = [k for k in list_periods(deal_dir) if k < computed.period.period]
    if not earlier:
        return None
    return run(deal_dir, earlier[-1])[0].statement


def explain(computed: Computed, figure: str, previous: Statement | None = None) -> Explanation:
    """The audit trail of ``figure`` (e.g. ``A.interest``, ``oc.target``) on ``computed``'s statement.

    ``previous`` is the statement before it; when the period file has no opening state and it is
    not given, it is computed from the deal directory.  Raises :class:`UnknownFigure`, or
    :class:`Mismatch` if a recomputed value differs from the statement."""
    s = computed.statement
    choices = figures(computed)
    if figure in _FIGURES:
        spec = _FIGURES[figure]
        label, field, shown = spec.label, spec.field, spec.statement(s)
        run_figure = spec.compute
    else:
        name, _, suffix = figure.partition(".")
        classes = [c.name for c in computed.deal.classes]
        if suffix not in _CLASS_FIGURES:
            raise UnknownFigure(figure, choices, classes)
        if name not in classes:
            raise UnknownFigure(figure, choices, classes, f"no class {name!r} in deal {computed.deal.id}")
        cfig = _CLASS_FIGURES[suffix]
        if figure not in choices:
            raise UnknownFigure(figure, choices, classes,
                                f"class {name} has no {suffix.replace('_', ' ')} on the statement")
        label = f"class {name} {cfig.label}"
        field = f"classes.{name}.{cfig.attribute}"
        shown = cfig.statement(s.cls(name))

        def run_figure(trail: _Trail) -> Any:
            return cfig.compute(trail, name)

    trail = _Trail(computed, previous, lambda: previous_statement(computed))
    value = run_figure(trail)
    result = _result(trail)
    trail.agree(result.symbol, result.kind, value, shown, field)
    return Explanation(
        figure=figure, label=label, deal_id=s.deal_id, period=s.period, distribution_date=s.distribution_date,
        distribution_number=s.distribution_number, date_basis=_date_basis(computed),
        inputs=tuple(sorted(trail.inputs, key=_file_order(computed))),
        intermediates=tuple(x for x in trail.steps if x is not result),
        flow_of_funds=tuple(trail.flows[k] for k in sorted(trail.flows)),
        result=result, statement_field=field, statement_value=shown,
    )


def _file_order(computed: Computed) -> Callable[[Input], tuple[int, int]]:
    """Inputs in the order an auditor reads the files: the period file, then the deal file, by line."""
    def key(item: Input) -> tuple[int, int]:
        file, _, line = item.where.rpartition(":")
        return (0 if file == computed.source.file else 1, int(line))
    return key


def _result(trail: _Trail) -> Intermediate:
    """The figure's own item: the last one recorded.  A figure that is itself an input (a balance
    given in the opening state) is stated as equal to that input."""
    for step in trail.steps:
        if step.symbol == trail.last:
            return step
    item = next(i for i in trail.inputs if i.symbol == trail.last)
    return Intermediate(item.symbol, item.label, f"{item.field}, an input (above)", "", item.value, item.kind,
                        note=item.note)


__all__ = ["Explanation", "FlowStep", "Input", "Intermediate", "Mismatch", "UnknownFigure", "display", "explain",
           "figures", "previous_statement"]
