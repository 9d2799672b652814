"""The audit trail behind any figure of a statement (``remit explain``): a walk of the figures.

Every figure of a run is a node: an input read from a file (its value, its field and its
``file:line``), a figure of the deal or of the standard prelude (its formula, where it is
written, and the figures it reads), a figure the calendar gives (why the date falls where it
does), a figure carried from the statement before, or an amount an action of the waterfall
paid (the formula it applied).  :func:`explain` walks from the figure asked for down to its
inputs and prints each node once, in the order it is computed, with its formula, the values
substituted into it and where it was rounded.

Nothing is computed here beside the engine.  What an action computed is evaluated again from
its formula by the formula language, and the figure explained is compared with the statement's
figures record: a difference raises :class:`Mismatch` (a bug, never an explanation).
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from . import formula as f
from .engine import Run, calendar_notes
from .number import arithmetic
from .pipeline import Computed
from .catalog import POOLED_LISTS, pooled_item_path
from .program import BUILTIN_LABELS, BUILTINS, Definition, prelude_source
from .render import fixed, pct
from .source import dotted
from .statement import to_plain


class UnknownFigure(Exception):
    """A figure name that this statement does not have."""

    def __init__(self, figure: str, choices: list[str]):
        self.figure, self.choices = figure, choices
        close = difflib.get_close_matches(figure, choices, n=3) or sorted(  # a part of a name (a trigger's, a fee's)
            (c for c in choices if figure.lower() in c.lower().split(".")),
            key=lambda c: figure not in c.split("."))[:3]  # its own case first
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        super().__init__(f"unknown figure {figure!r}{hint}; remit explain --list shows the {len(choices):,} figures "
                         "this statement can explain")


class Mismatch(Exception):
    """An action's figure that its own formula does not give, or a figure the statement does not show."""


# ------------------------------------------------------------------ the explanation


@dataclass(frozen=True, slots=True)
class Input:
    """A value read from a deal or period file."""

    name: str
    label: str
    value: Any
    type: str
    field: str  # its path in the file: classes[0].coupon.margin
    where: str  # file:line
    note: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """A figure computed from others: by a formula, the calendar, or an action."""

    name: str
    label: str
    formula: str
    substituted: str
    value: Any
    type: str
    rounding: str = ""
    note: str = ""
    where: str = ""  # where its formula is written


@dataclass(frozen=True, slots=True)
class Explanation:
    figure: str
    name: str  # the figure it is (an alias's figure)
    label: str
    deal_id: str
    period: str
    distribution_date: dt.date
    distribution_number: int
    date_basis: str
    inputs: tuple[Input, ...]
    steps: tuple[Step, ...]  # every figure computed on the way, in order; the last is the result
    statement_value: Any

    @property
    def result(self) -> Step | Input:
        return self.steps[-1] if self.steps else self.inputs[-1]

    def render(self) -> str:
        """The explanation as text, for a terminal or a work paper."""
        out = [f"{self.figure}: {self.label}",
               f"  statement: {self.deal_id}, period {self.period}, distribution {self.distribution_number} "
               f"on {_date_text(self.distribution_date)}",
               f"  {self.date_basis}", "", "Inputs"]
        if not self.inputs:
            carried = any(step.note.startswith("carried from") for step in self.steps)
            out.append("  none: every value is carried from the previous statement" if carried else
                       "  none: it reads no value of a deal or period file (a constant, or figures computed "
                       "without one)")
        for item in self.inputs:
            out += [f"  {item.name} = {display(item.type, item.value)}", f"      {item.label}",
                    f"      {item.field}, {item.where}" + (f" ({item.note})" if item.note else "")]
        if len(self.steps) > 1:
            out += ["", "Intermediates (in the order they are computed)"]
            for step in self.steps[:-1]:
                out += _step_lines(step)
        if self.steps:
            out += ["", "Result"] + _step_lines(self.steps[-1])
        r = self.result
        out.append(f"  equal to the figure on the statement: {self.figure} = {display(r.type, self.statement_value)}")
        return "\n".join(out) + "\n"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals as exact strings, dates in ISO form."""
        r = self.result
        return {
            "figure": self.figure, "name": self.name, "label": self.label,
            "statement": {"deal_id": self.deal_id, "period": self.period,
                          "distribution_date": self.distribution_date.isoformat(),
                          "distribution_number": self.distribution_number, "date_basis": self.date_basis},
            "inputs": [{"name": i.name, "label": i.label, "value": _plain(i.value), "display": display(i.type, i.value),
                        "type": i.type, "field": i.field, "where": i.where, "note": i.note} for i in self.inputs],
            "steps": [{"name": s.name, "label": s.label, "formula": s.formula, "substituted": s.substituted,
                       "value": _plain(s.value), "display": display(s.type, s.value), "type": s.type,
                       "rounding": s.rounding, "note": s.note, "where": s.where} for s in self.steps],
            "result": {"name": r.name, "value": _plain(r.value), "statement_value": _plain(self.statement_value),
                       "equal": r.value == self.statement_value},
        }


def _step_lines(step: Step) -> list[str]:
    lines = [f"  {step.name} = {display(step.type, step.value)}", f"      {step.label}"]
    if step.formula:
        lines.append(f"      = {step.formula}" + (f"    ({step.where})" if step.where else ""))
    if step.substituted and step.substituted != step.formula:
        lines.append(f"      = {step.substituted}")
    for extra in (step.rounding, step.note):
        if extra:
            lines.append(f"      {extra}")
    return lines


# ------------------------------------------------------------------ display


def _money(value: Decimal) -> str:
    text = f"{value:,.2f}"
    return f"({text})" if value < 0 else text


def _exact(value: Decimal) -> str:
    """Every digit of the Decimal, without trailing zeros or exponent."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _percent(value: Decimal) -> str:
    exact = _exact(value.scaleb(2))
    if len(exact.partition(".")[2]) <= 6:
        return f"{exact}%"
    return f"about {pct(value)}"


def _date_text(value: dt.date) -> str:
    return f"{value.isoformat()} ({value.strftime('%a')})"


def display(type_: str, value: Any) -> str:
    """A value as an auditor reads it: money with separators and cents, rates exact and in percent."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return _date_text(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(display(type_.partition(":")[2], v) for v in value) + "]"
    if isinstance(value, BaseModel):
        return _record(value, display)
    if isinstance(value, Decimal):
        if type_ in ("money", "amount") and value == value.quantize(Decimal("0.01")):
            return _money(value)
        if type_ == "rate":
            return f"{_exact(value)} ({_percent(value)})"
        if type_ == "number" and value.as_tuple().exponent < -8:
            return f"{_exact(value)} ({fixed(value, 8)} to 8 places)"
        return _exact(value)
    return str(value)


def _operand(type_: str, value: Any) -> str:
    """A value as it is substituted into a formula."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_operand(type_.partition(":")[2], v) for v in value) + "]"
    if isinstance(value, BaseModel):
        return _record(value, _operand)
    if isinstance(value, Decimal):
        return _money(value) if type_ in ("money", "amount") and value == value.quantize(Decimal("0.01")) \
            else _exact(value)
    return str(value)


def _record(value: BaseModel, show: Any) -> str:
    """A reported record (a liquidated loan) as its fields: ``loan AU5012456 balance 30,075.49 ...``;
    a field given in cents is shown as money."""
    return " ".join(f"{name} {show('money' if isinstance(v, Decimal) and v.as_tuple().exponent == -2 else '', v)}"
                    for name, v in ((name, getattr(value, name)) for name in type(value).model_fields))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {name: _plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------------ the walk


class _Walk:
    """Collects the nodes a figure depends on, each once, inputs first."""

    def __init__(self, run: Run):
        self.run = run
        self.program = run.program
        self.values = run.values
        self.inputs: dict[str, Input] = {}
        self.steps: dict[str, Step] = {}
        self.busy: set[str] = set()

    def type_of(self, name: str) -> str:
        d = self.program.defs.get(name)
        if d is not None and d.type:
            return d.type
        spec = self.program.period_inputs.get(name) or self.program.period_inputs.get(_template(name))
        if spec is not None:
            return spec.type
        if name in self.program.deal_values:
            return self.program.deal_values[name][0]
        if name in BUILTINS:
            return BUILTINS[name]
        item = next((d for d in self.program.items if d.name == _template(name)), None)
        if item is not None:
            return item.type
        return "money"

    def visit(self, name: str) -> None:
        if name in self.inputs or name in self.steps or name in self.busy:
            return
        self.busy.add(name)
        try:
            self._visit(name)
        finally:
            self.busy.discard(name)

    def _visit(self, name: str) -> None:
        p = self.program
        if name in self.run.ledger.dynamic:
            return self._dynamic(name)
        if name in self.run.ledger.payees:
            path = self.run.ledger.payees[name]
            self.inputs[name] = Input(name, "the payee, as the deal file names it", self.values[name], "text",
                                      dotted(path), p.source.where(path))
            return None
        d = p.defs.get(name)
        if d is not None:
            return self._definition(d)
        if name in BUILTINS:
            return self._calendar(name)
        if name in p.deal_values:
            type_, path, value, label = p.deal_values[name]
            note = "" if path in p.source.lines else "not in the file, so the default"
            self.inputs[name] = Input(name, label, value, type_, dotted(path), p.source.where(path), note)
            return None
        item = next((d for d in p.items if d.name == _template(name)), None)
        if item is not None:
            return self._item(item, name)
        self._input(name)
        return None

    def _input(self, name: str) -> None:
        p, src = self.program, self.run.source
        spec = p.period_inputs.get(name)
        if spec is None:
            spec = p.period_inputs[_template(name)]
            index = int(name.partition("[")[2].partition("]")[0])
            path = spec.path[:-2] + (index, spec.path[-1])
            list_name = name.partition("[")[0]
            if p.deal.groups and list_name in POOLED_LISTS:  # the pool's list is every group's
                path = pooled_item_path(tuple(g.name for g in p.deal.groups), self.run.period, list_name,
                                        index) + (spec.path[-1],)
        else:
            path = spec.path
        note = "" if path in src.lines else "not in the file, so the default"
        self.inputs[name] = Input(name, spec.label, self.values.get(name), spec.type, dotted(path), src.where(path),
                                  note)

    def _calendar(self, name: str) -> None:
        if name == "distribution_date" and self.run.period.distribution_date is not None:
            self._input(name)
            return
        sched = ("schedule.distribution_day", "schedule.holiday_calendar", "schedule.first_distribution_date")
        for dep in sched:
            self.visit(dep)
        if name != "distribution_date":
            self.visit("distribution_date")
        self.steps[name] = Step(name, BUILTIN_LABELS[name], "the deal's schedule", calendar_notes(self.run).get(name, ""),
                                self.values[name], BUILTINS[name])

    def _definition(self, d: Definition) -> None:
        if d.kind == "carried":
            return self._carried(d)
        if d.kind == "constant":
            self.steps[d.name] = Step(d.name, d.label, "", "", d.value, d.type)
            return None
        # an action's own figure read the accounts' balances as they stood when it ran
        running = self.run.ledger.running.get(d.name, {})
        values = {**self.values, **{dep: self.values[now] for dep, now in running.items()}} if running else self.values
        for dep in d.deps:
            self.visit(running.get(dep, dep))
        shown = d.formula(lambda n: _operand(self.type_of(n), values.get(n))) if d.expr is not None else ""
        formula = d.formula() if d.expr is not None else ("the list of " + ", ".join(d.deps))
        rounding = "; ".join(f.rounds(d.expr)) if d.expr is not None else ""
        notes = [_note(d, values)] + [f"{dep} is what the account held when the action ran: {now}"
                                      for dep, now in running.items()]
        self.steps[d.name] = Step(d.name, d.label, formula, shown, self.values.get(d.name), d.type or
                                  self.type_of(d.name), rounding, "; ".join(n for n in notes if n),
                                  self.program.where(d))
        return None

    def _carried(self, d: Definition) -> None:
        previous = self.run.previous
        if previous is None:
            opening = d.opening
            for dep in opening.deps:
                self.visit(dep)
            shown = opening.formula(lambda n: _operand(self.type_of(n), self.values.get(n)))
            self.steps[d.name] = Step(d.name, d.label, opening.formula(), shown, self.values[d.name], d.type,
                                      "; ".join(f.rounds(opening.expr)), "from the period's opening state",
                                      self.program.where(opening))
            return
        self.steps[d.name] = Step(d.name, d.label, f"{d.carried_from} of the {previous.period.period} statement", "",
                                  self.values[d.name], d.type, "", f"carried from the {previous.period.period} "
                                                                   "statement")

    def _item(self, item: Definition, name: str) -> None:
        index = name.partition("[")[2].partition("]")[0]
        deps = [x.replace("{i}", index) for x in item.deps]
        for dep in deps:
            self.visit(dep)
        mapping = dict(zip(item.deps, deps))
        formula = f.text(item.expr, lambda n: mapping.get(n, n))
        shown = f.text(item.expr, lambda n: _operand(self.type_of(mapping.get(n, n)), self.values.get(mapping.get(n, n))))
        self.steps[name] = Step(name, item.label, formula, shown, self.values.get(name), item.type,
                                "; ".join(f.rounds(item.expr)), "", prelude_source().where(item.where[1]))

    def _dynamic(self, name: str) -> None:
        dyn = self.run.ledger.dynamic[name]
        for dep in dyn.deps:
            self.visit(dep)
        tree = f.parse(dyn.formula)
        with arithmetic():  # as the engine computed it
            recomputed = f.compile_(tree, f.names(tree))([self.values[n] for n in f.names(tree)])
        if recomputed != self.values[name]:
            raise Mismatch(f"{name}: its formula {dyn.formula} gives {recomputed}, but the action paid "
                           f"{self.values[name]}")
        shown = f.text(tree, lambda n: _operand(self.type_of(n), self.values.get(n)))
        origin = self.run.ledger.origin.get(name)
        where = self.program.source.where(origin) if origin else ""
        for condition, _ in dyn.because:
            self.visit(condition)
        note = "; ".join(f"{cond} is {'true' if met else 'false'}: "
                         f"{'its action' if met else 'its else actions'} ran" for cond, met in dyn.because)
        self.steps[name] = Step(name, dyn.label, dyn.formula, shown, self.values[name], self.type_of(name),
                                dyn.rounding, note, where)


def _note(d: Definition, values: dict[str, Any]) -> str:
    """What a choice in the formula came to (the branch an if() took)."""
    expr = d.expr
    if isinstance(expr, f.Call) and expr.fn == "if":
        cond = f.text(expr.args[0], d.shown)
        test = f.compile_(expr.args[0], d.local or f.names(expr.args[0]))
        try:
            names = d.local or f.names(expr.args[0])
            with arithmetic():
                went = test([values.get(d.shown(n)) for n in names])
        except (f.Missing, TypeError):
            return ""
        return f"{cond} is {'true' if went else 'false'}: the {'first' if went else 'second'} choice"
    return ""


def _template(name: str) -> str:
    import re  # noqa: PLC0415

    return re.sub(r"\[[0-9]+\]", "[{i}]", name, count=1) if "[" in name else name


# ------------------------------------------------------------------ the figures, by name


def aliases(run: Run) -> dict[str, str]:
    """Names the statement's record gives figures, and older short names, for the figures."""
    out = dict(run.program.aliases)
    out.update({"credit_enhancement_pct": "performance.credit_enhancement_pct",
                "delinquency_pct": "performance.delinquency_pct", "deal_id": "deal_id"})
    for c in run.deal.classes:  # a class without per-$1,000 amounts: why not
        if run.values.get(f"{c.name}.per_1000_basis") is None:
            out[f"{c.name}.per_1000"] = f"{c.name}.per_1000_basis"
    for fee in run.deal.fees:
        out[f"fees.{fee.name}"] = f"fees.{run.program.keys[f'fee:{fee.name}']}.paid"
        out[f"fees_unpaid.{fee.name}"] = f"fees.{run.program.keys[f'fee:{fee.name}']}.unpaid_after"
    seen: dict[str, int] = {}
    for n, step in enumerate(run.ledger.steps, 1):
        label = f"waterfall.{step.section}: {step.description}"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f" #{seen[label]}"
        out[f"{label}.amount"] = f"flow[{n}]"
        out[f"{label}.remaining"] = f"flow[{n}].remaining"
        out[f"{label}.payee"] = f"flow[{n}].payee"
    return out


def figures(computed: Computed) -> list[str]:
    """Every figure :func:`explain` accepts for this statement: the figures of its record first,
    then every other figure of the run."""
    from .publish import figures as record_figures  # noqa: PLC0415

    run = computed.run
    record = [name for name in record_figures(to_plain(computed.statement)) if _resolve(run, name) is not None]
    named = set(record) | {aliases(run).get(n, n) for n in record}
    rest = sorted(n for n in {*run.program.defs, *run.ledger.dynamic}
                  if n in run.values and n not in named and not n.startswith(("total(", "list(", "position(")))
    return record + rest


def _resolve(run: Run, figure: str) -> str | None:
    name = aliases(run).get(figure, figure)
    return name if name in run.values else None


def explain(computed: Computed, figure: str) -> Explanation:
    """The audit trail of ``figure`` (``A.interest``, ``oc.target``, ``flow[3]``) on ``computed``'s statement."""
    from .publish import figures as record_figures  # noqa: PLC0415

    run = computed.run
    name = _resolve(run, figure)
    if name is None:
        raise UnknownFigure(figure, figures(computed))
    walk = _Walk(run)
    walk.visit(name)
    record = record_figures(to_plain(computed.statement))
    value = run.values[name]
    if figure in record and record[figure] != ("" if value is None else str(_plain(value))):
        raise Mismatch(f"{figure}: the figure is {value}, but the statement's record has {record[figure]!r}")
    steps = tuple(walk.steps.values())
    label = (walk.steps[name].label if name in walk.steps else walk.inputs[name].label)
    s = computed.statement
    return Explanation(figure, name, label, s.deal_id, s.period, s.distribution_date, s.distribution_number,
                       _date_basis(computed), tuple(walk.inputs.values()), steps, value)


def _date_basis(computed: Computed) -> str:
    run = computed.run
    if computed.period.distribution_date is not None:
        return (f"distribution date given in the period file at {computed.source.where(('distribution_date',))}, "
                "overriding the deal's rule")
    return f"distribution date by the deal's rule ({computed.deal_source.where(('schedule',))}): " \
           f"{calendar_notes(run)['distribution_date']}"


__all__ = ["explain", "figures", "aliases", "Explanation", "Input", "Step", "UnknownFigure", "Mismatch", "display"]
