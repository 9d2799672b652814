"""A deal compiled: every figure it computes, typed and ordered, and the actions of its waterfall.

:func:`compile_deal` reads the deal's rules (its ``figures``, ``triggers``, ``accounts`` and
``waterfall``, its classes' coupons and its fees) together with the standard figures of
``generator/prelude.yaml``, and checks them as a whole before any period is run:

* every formula parses, names only what is there (inputs, figures, what actions pay), and
  has the type its place needs (a condition is a flag, cash is money);
* no figure depends on itself, however indirectly;
* no formula an action reads depends on what that action or a later one pays: a figure is
  final when it is read;
* no cash is claimed twice (a class paid twice by one kind of action on one path through
  the waterfall, fees paid twice, two residual payments from one account, ...).

Every problem is a ``deal.yaml:line: field: message`` error, all of them at once.

The result is a :class:`Program`: a :class:`Definition` for every figure (its formula, the
names it reads, its type and label, where it is written), the inputs it reads, and the
waterfall's actions, with the figures to compute before each of them.
"""

from __future__ import annotations

import dataclasses
import difflib
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import formula as f
from . import model as m
from .catalog import InputSpec, deal_inputs, input_plan, key, period_inputs
from .number import arithmetic
from .source import InputError, InputErrors, SourceMap, dotted, load_yaml

PRELUDE = Path(__file__).resolve().parent / "prelude.yaml"

#: Figures the engine computes itself from the calendar, with their types.
BUILTINS = {"distribution_date": f.DATE, "distribution_number": f.COUNT, "next_distribution_date": f.DATE,
            "record_date": f.DATE, "determination_date": f.DATE}
#: What each of them is, in words (remit explain's, the record schema's).
BUILTIN_LABELS = {"distribution_date": "distribution date", "distribution_number": "distribution number",
                  "next_distribution_date": "next distribution date", "record_date": "record date",
                  "determination_date": "determination date"}
#: Kinds of class whose balances are not certificates backed by the pool.
NOT_CERTIFICATES = ("excess", "residual", "interest_only")
#: The classes that accrue or receive excess interest.
INTEREST_KINDS = ("senior", "mezzanine", "excess", "interest_only")
#: The figure each kind of class payment adds to: <class>.paid.<tally>.
PAID = {"interest": "interest", "unpaid_interest": "interest", "principal": "principal",
        "extra_principal": "extra_principal", "carryover": "carryover", "writedown_reimbursement": "reimbursement",
        "residual": "residual", "prepayment_charges": "prepayment_charges"}
CLASS_TALLIES = ("interest", "principal", "extra_principal", "carryover", "reimbursement", "residual",
                 "prepayment_charges")


@dataclass(frozen=True, slots=True)
class Definition:
    """How one figure is computed."""

    name: str
    type: str
    label: str
    kind: str  # formula, carried, tally, constant, action (evaluated by its action)
    where: tuple[str, tuple] = ("", ())  # ("deal" or "prelude", the path of the entry)
    expr: Any = None  # the formula's tree, names as written (with {c} for a class's own)
    deps: tuple[str, ...] = ()  # the names it reads, in the order its function takes them
    fn: Callable[[Any], Any] | None = None
    carried_from: str | None = None  # carried: the previous statement's figure ...
    opening: "Definition | None" = None  # ... or, without one, this (from the period's opening)
    local: tuple[str, ...] = ()  # the names as the formula writes them (deps, in the same order)
    value: Any = None  # a constant's value

    def shown(self, name: str) -> str:
        """The figure a name of the formula (as written) stands for here."""
        if not self.local:
            return name
        return self.deps[self.local.index(name)] if name in self.local else name

    def formula(self, show: Callable[[str], str] | None = None) -> str:
        if self.expr is None:
            return ""
        return f.text(self.expr, (lambda n: show(self.shown(n))) if show else self.shown)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One action of the waterfall, with the figures it reads."""

    action: Any  # the model (generator.model.PayFees, ...)
    path: tuple  # where it stands in the deal file: ("waterfall", 3) or ("waterfall", 8, "else", 0)
    top: int  # the index of the top-level action it belongs to
    figures: dict[str, str]  # what the action names (when, amount, targets.A, ...) -> the figure
    otherwise: tuple["Prepared", ...] = ()

    @property
    def label(self) -> str:
        return "waterfall" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path[1:])


@dataclass
class Program:
    deal: m.Deal
    source: SourceMap
    defs: dict[str, Definition]
    period_inputs: dict[str, InputSpec]
    deal_values: dict[str, tuple[str, tuple, Any]]
    actions: tuple[Prepared, ...]
    #: The figures computed before each top-level action, and last, after the waterfall, in order.
    phases: tuple[tuple[Definition, ...], ...]
    #: Figures repeated for each liquidated loan ({i}), made for each period's loans.
    items: tuple[Definition, ...]
    #: Tallies finalized after each top-level action.
    finals: tuple[tuple[str, ...], ...]
    accounts: dict[str, m.Account]
    #: The names a statement's record gives figures that stand for another (triggers.Cumulative losses.value).
    aliases: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # a fee's or trigger's name -> its key in figure names
    #: Each account's figure of what it holds when the waterfall starts (its deposit, or for a
    #: carried account what it held before and its deposit).
    starts: dict[str, str] = field(default_factory=dict)
    #: What the engine derives once from the rules (its plan of each phase, the zero tallies):
    #: shared by every deal whose program this is, as the rules are.
    derived: dict[str, Any] = field(default_factory=dict)

    def type_of(self, name: str) -> str | None:
        """The declared type of a figure (a reported one, for how it is shown), None if unknown."""
        if name in BUILTINS:
            return BUILTINS[name]
        if name in self.defs:
            return self.defs[name].type
        if name in self.deal_values:
            return self.deal_values[name][0]
        return getattr(self.period_inputs.get(name), "type", None)

    def from_deal(self, name: str) -> Any:
        """The value of a figure that reads only the deal file (a cut-off balance, with the deal's
        own rule for it if it has one), without a period; None if it reads any period's figures."""
        if name in self.deal_values:
            return self.deal_values[name][2]
        d = self.defs.get(name)
        if d is None or d.kind not in ("constant", "formula"):
            return None
        if d.kind == "constant":
            return d.value
        values = [self.from_deal(x) for x in d.deps]
        if any(v is None for v in values):
            return None
        with arithmetic():
            return d.fn(values)

    def where(self, d: Definition) -> str:
        file, path = d.where
        if not file:
            return ""
        return (prelude_source() if file == "prelude" else self.source).where(path)


# ------------------------------------------------------------------ the prelude


class PreludeEntry(m.Strict):
    name: str
    type: m.FigureType
    label: str
    formula: str | None = None
    carried: dict[str, str] | None = None
    for_: str | None = m.Field(None, alias="for")
    kind: tuple[str, ...] | None = None
    kind_not: tuple[str, ...] | None = None
    coupon: bool | None = None
    basis: str | tuple[str, ...] | None = None
    original: str | None = None
    coupon_kind: str | None = None
    floor: bool | None = None
    day_count: tuple[str, ...] | None = None
    accrual_period: str | None = None
    accrual: bool | None = None
    rule: bool = False  # a deal's own rule the standard figures read: the deal defines it, of this type
    #: The statement's own arithmetic (a total, a factor, a per-$1,000 amount), which says what the
    #: figures beside it add up to: a deal may not redefine it, or the statement would disagree
    #: with itself and still be published.
    fixed: bool = False


@lru_cache(maxsize=1)
def _prelude() -> tuple[tuple[tuple[PreludeEntry, int], ...], SourceMap]:
    data, src = load_yaml(PRELUDE, display="generator/prelude.yaml")
    return tuple((PreludeEntry.model_validate(raw), i) for i, raw in enumerate(data)), src


def prelude_source() -> SourceMap:
    return _prelude()[1]


def _applies(entry: PreludeEntry, c: m.CertificateClass) -> bool:
    if entry.kind is not None and c.kind not in entry.kind:
        return False
    if entry.kind_not is not None and c.kind in entry.kind_not:
        return False
    if entry.coupon is not None and (c.coupon is not None) != entry.coupon:
        return False
    if entry.basis is not None:
        allowed = (entry.basis,) if isinstance(entry.basis, str) else entry.basis
        if c.per_1000_basis not in allowed:
            return False
    if entry.original is not None and (c.original_balance > 0) != (entry.original == "positive"):
        return False
    if entry.accrual is not None and (c.accretes is not None) != entry.accrual:
        return False
    coupon = c.coupon
    if (entry.coupon_kind is not None or entry.day_count is not None) and coupon is None:
        return False
    if entry.coupon_kind is not None and coupon.kind != entry.coupon_kind:
        return False
    if entry.floor is not None and (coupon is None or (coupon.floor is not None) != entry.floor):
        return False
    if entry.day_count is not None and coupon.day_count not in entry.day_count:
        return False
    if entry.accrual_period is not None and (coupon.accrual_period or "month") != entry.accrual_period:
        return False
    return True


# ------------------------------------------------------------------ formulas, once per text


@dataclass(frozen=True, slots=True)
class _Formula:
    tree: Any  # rewritten (total, share)
    local: tuple[str, ...]  # its names
    problems: tuple[str, ...]


@lru_cache(maxsize=16384)
def _formula(source: str) -> _Formula:
    """A formula parsed and rewritten, once per text.  Raises :class:`formula.FormulaError`."""
    problems: list[str] = []
    tree = f.rewrite(f.parse(source), problems)
    return _Formula(tree, tuple(f.names(tree)), tuple(problems))


@lru_cache(maxsize=16384)
def _function(source: str) -> Callable[[Any], Any]:
    parsed = _formula(source)
    return f.compile_(parsed.tree, parsed.local)


# ------------------------------------------------------------------ compiling


class Compiler:
    """Builds a deal's :class:`Program`; every problem goes to ``errors``."""

    def __init__(self, deal: m.Deal, src: SourceMap):
        self.deal, self.src = deal, src
        self.errors: list[InputError] = []
        self.classes = [c.name for c in deal.classes]
        self.group_names = tuple(g.name for g in deal.groups)
        self.inputs = period_inputs(self.classes, tuple(a.name for a in deal.accounts if a.carried), self.group_names,
                                    tuple(fee.name for fee in deal.fees))
        self.deal_values = deal_inputs(deal)
        self.defs: dict[str, Definition] = {}
        self.items: list[Definition] = []
        self.item_types: dict[str, str] = {}  # the figures of each liquidated loan ({i})
        self.aliases: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.writers: dict[str, set[int]] = {}  # tally -> the top-level actions that may add to it
        self.action_reads: dict[int, set[str]] = {}  # top-level action -> figures it reads
        self.actions: list[Prepared] = []
        self.starts: dict[str, str] = {}  # account -> the figure of what it holds when the waterfall starts
        self.failed: set[str] = set()  # figures whose formula has a problem (reported once)
        self.mistyped: set[tuple] = set()  # deal-file fields a type problem is reported for (once each)
        self.checked: dict[str, str] = {}  # figure -> its type, once checked
        self.checking: set[str] = set()  # figures being checked (a cycle if met again)
        self.cycles_met = 0  # how many times a figure being checked was met again, untyped
        self.rules: dict[str, str] = {}  # the deal's own rules the standard figures read, by name: their types
        self.fixed: dict[str, str] = {}  # the standard figures a deal may not redefine: their labels
        self.needs: dict[tuple, list[str]] = {}  # (name not there, or a problem) -> the standard figures it fails
        kinds = m.ClassKind.__args__  # type: ignore[attr-defined]
        self.groups: dict[str, list[str]] = {
            "all": self.classes,
            "certificates": [c.name for c in deal.classes if c.kind not in NOT_CERTIFICATES],
            "interest_classes": [c.name for c in deal.classes if c.kind in INTEREST_KINDS],
            "balances": [c.name for c in deal.classes if c.kind != "interest_only"],  # a notional is no balance
            "fees": [f"fees.{key(fee.name)}" for fee in deal.fees],
            **{kind: [c.name for c in deal.classes if c.kind == kind] for kind in kinds}}
        self.kind_names = frozenset(self.groups)  # what total() takes besides the loan groups
        self.groups.update({g.name: [c.name for c in deal.classes if c.group == g.name] for g in deal.groups
                            if g.name not in self.kind_names})  # a group named as a kind is refused below

    # -------------------------------------------------------------- reporting

    def report(self, where: tuple[str, tuple], message: str) -> None:
        file, path = where
        src = prelude_source() if file == "prelude" else self.src
        self.errors.append(src.error(path, message))

    # -------------------------------------------------------------- defining figures

    def formula(self, name: str, source: str, type_: str | None, label: str, where: tuple[str, tuple],
                cls: str | None = None, kind: str = "formula") -> Definition | None:
        """Define ``name`` by a formula (``cls``: the class whose ``{c}`` it is written with)."""
        try:
            parsed = _formula(source)
            problems = parsed.problems
        except f.FormulaError as exc:
            problems = (str(exc),)
        for problem in problems:
            self.report(where, f"{f.shown(source)}: {problem}")
        if problems:  # the figure stands, untyped, so that what reads it is not reported for it too
            self.failed.add(name)
            self.defs[name] = Definition(name, type_ or f.NONE, label, "constant", where)
            return None
        deps = tuple(n.replace("{c}", cls) for n in parsed.local) if cls else parsed.local
        fn = _function(source)
        if type_ == f.COUNT and isinstance(parsed.tree, f.Num) and parsed.tree.value == int(parsed.tree.value):
            fn = _whole(int(parsed.tree.value))  # a count written as a number is a whole number
        d = Definition(name, type_ or "", label.replace("{c}", cls) if cls else label, kind, where, parsed.tree,
                       deps, fn, local=parsed.local if cls else ())
        self.defs[name] = d
        return d

    def carried(self, name: str, source: str, from_: str, type_: str, label: str, where: tuple[str, tuple],
                cls: str | None = None) -> None:
        opening = self.formula(name, source, type_, label, where, cls)
        if opening is None:
            return
        self.defs[name] = Definition(name, type_, opening.label, "carried", where, carried_from=from_,
                                     opening=opening)

    def check_carried(self) -> None:
        """Each carried figure starts from a figure the previous statement has."""
        for d in list(self.defs.values()):
            if d.kind != "carried" or d.carried_from in self.defs or self.type_of(d.carried_from) is not None:
                continue
            close = difflib.get_close_matches(d.carried_from, list(self.defs), n=2, cutoff=0.75)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            file, path = d.where
            at = (file, path[:-1] + ("carried_from",) if path[-1:] == ("formula",) else path)
            self.report(at, f"{d.carried_from} is no figure of the deal{hint} (expected the "
                            "figure whose value at the previous distribution this one starts from)")

    def tally(self, name: str, type_: str, label: str) -> None:
        self.defs.setdefault(name, Definition(name, type_, label, "tally"))

    def constant(self, name: str, type_: str, value: Any, label: str) -> None:
        self.defs[name] = Definition(name, type_, label, "constant", value=value)

    # -------------------------------------------------------------- names and types

    def _aggregate(self, name: str) -> str | None:
        """total(kind, field), list(kind, field) and position(kind, class): defined on first use."""
        match = re.fullmatch(r"(total|list|position)\(([^,()]+), ([^()]+)\)", name)
        if not match:
            return None
        what, group, second = match.groups()
        members = self.groups.get(group)
        if members is None:
            raise f.FormulaError(f"no kind of class {group!r} (expected all, certificates, interest_classes, fees or "
                                 f"one of the kinds: {', '.join(m.ClassKind.__args__)})")  # type: ignore[attr-defined]
        if what == "position":
            if second not in members:
                raise f.FormulaError(f"class {second} is not one of the {group} classes")
            self.constant(name, f.COUNT, members.index(second),
                          f"the place of class {second} among the {group} classes")
            return f.COUNT
        deps = tuple(f"{member}.{second}" for member in members)
        types = {self.type_of(dep) for dep in deps}
        if None in types:
            missing = [dep for dep in deps if self.type_of(dep) is None]
            raise f.FormulaError(f"{name}: there is no {missing[0]}")
        item = types.pop() if len(types) == 1 else f.MONEY
        if types and item != f.MONEY:
            raise f.FormulaError(f"{name} adds up different types")
        noun = "classes" if group != "fees" else ""
        what_ = second.replace("_", " ")
        if what == "total":
            label = {"all": f"{what_} summed over every class", "fees": f"{what_} summed over the fees"}.get(
                group, f"{what_} summed over the {group} {noun}")
            d = Definition(name, item, label, "formula", ("", ()), _sum_tree(deps), deps, _summer(len(deps), item))
            self.defs[name] = d
            return item
        self.defs[name] = Definition(name, f"list:{item}", f"{what_} of the {group} {noun}".rstrip(), "formula",
                                     ("", ()), None, deps, tuple)
        return f"list:{item}"

    def known(self) -> Iterator[str]:
        yield from self.defs
        yield from self.deal_values
        yield from (n for n in self.inputs if "{i}" not in n)
        yield from BUILTINS


    # -------------------------------------------------------------- the prelude and the deal's figures

    def prelude(self) -> None:
        entries, _ = _prelude()
        for entry, i in entries:
            where = ("prelude", (i,))
            if entry.rule:
                self.rules[entry.name] = entry.type
            elif entry.for_ == "class":
                for c in self.deal.classes:
                    if _applies(entry, c):
                        self._entry(entry, entry.name.replace("{c}", c.name), where, c.name)
            elif entry.for_ == "group":
                for g in self.deal.groups:
                    self._entry(_for_group(entry, g.name), entry.name.replace("{g}", g.name), where, None)
            elif entry.for_ == "liquidation":
                self.items.append(Definition(entry.name, entry.type, entry.label, "formula", where,
                                             *self._item_parts(entry.formula or "none")))
                self.item_types[entry.name] = entry.type
            else:
                self._entry(entry, entry.name, where, None)

    def check_groups(self) -> None:
        names = [g.name for g in self.deal.groups]
        for i, g in enumerate(self.deal.groups):
            if g.name in names[:i]:
                self.report(("deal", ("groups", i, "name")), f"group {g.name!r} is listed twice")
            if g.name in self.kind_names:
                self.report(("deal", ("groups", i, "name")), f"group {g.name!r} has the name of a kind of class "
                                                            "(expected another name: total() could not tell them apart)")
        for i, c in enumerate(self.deal.classes):
            if c.group is not None and c.group not in names:
                self.report(("deal", ("classes", i, "group")),
                            f"class {c.name} is tied to group {c.group!r}, which the deal does not have "
                            f"(expected one of: {', '.join(names) or 'none: the deal declares no groups:'})")

    def pooled(self) -> None:
        """A deal with loan groups: what a one-pool period reports at its top is the groups' together
        (sums; the WAC and remaining term weighted by the groups' beginning balances)."""
        if not self.group_names:
            return
        first = f"groups.{self.group_names[0]}."
        self.formula("pool.cutoff_balance", " + ".join(f"groups.{g}.cutoff_balance" for g in self.group_names),
                     f.MONEY, "cut-off pool balance: the groups' cut-off balances", ("deal", ("groups",)))
        for name, spec in list(self.inputs.items()):
            if not name.startswith(first) or "[" in name or spec.type == "list":
                continue
            leaf = name[len(first):]
            members = [f"groups.{g}.{leaf}" for g in self.group_names]
            where = ("deal", ("groups",))
            if leaf == "wac":
                weighted = " + ".join(f"{x} * groups.{g}.pool.beginning_balance" for x, g in zip(members, self.group_names))
                self.formula(leaf, f"({weighted}) / pool.beginning_balance", f.RATE,
                             "weighted-average mortgage rate of the pool: the groups' by their beginning balances",
                             where)
            elif leaf == "remaining_term":
                weighted = " + ".join(f"{x} * groups.{g}.pool.beginning_balance" for x, g in zip(members, self.group_names))
                self.formula(leaf, f"whole(({weighted}) / pool.beginning_balance)", f.COUNT,
                             "weighted-average remaining term of the pool: the groups' by their beginning balances, "
                             "to the whole month (half-up)", where)
            elif spec.type in (f.MONEY, f.COUNT):
                self.formula(leaf, " + ".join(members), spec.type, f"{leaf.replace('.', ' ')}: every group's", where)

    def _item_parts(self, source: str) -> tuple:
        parsed = _formula(source)
        return parsed.tree, parsed.local, _function(source)

    def _entry(self, entry: PreludeEntry, name: str, where: tuple[str, tuple], cls: str | None) -> None:
        if entry.fixed:
            self.fixed[name] = entry.label.replace("{c}", cls or "")
        if entry.carried is not None:
            self.carried(name, entry.carried["opening"], entry.carried["from"].replace("{c}", cls or ""),
                         entry.type, entry.label, where, cls)
        else:
            self.formula(name, entry.formula or "none", entry.type, entry.label, where, cls)

    def deal_figures(self) -> None:
        """The deal's own figures; a name the prelude has is the deal's from here on, of the type the
        standard figures read it as."""
        for name, spec in self.deal.figures.items():
            if name in self.fixed:
                self.report(("deal", ("figures", name)), f"{name} is the statement's own arithmetic ({self.fixed[name]}), "
                                                         "which a deal may not redefine (expected the figures it is "
                                                         "made of defined instead)")
                continue
            standard = self.defs.get(name)
            rule = self.rules.get(name) or (standard.type if standard is not None and standard.where[0] == "prelude"
                                            else None)
            if isinstance(spec, m.FigureDef) and spec.carried_from is not None:
                if spec.type is None:
                    self.report(("deal", ("figures", name)), f"{name}: a carried figure declares its type "
                                                             "(expected type: money, or another type)")
                self.carried(name, spec.formula, spec.carried_from, spec.type or f.MONEY, spec.label or name,
                             ("deal", ("figures", name, "formula")))
            elif isinstance(spec, m.FigureDef):
                if spec.type is not None and rule is not None and spec.type != rule:
                    self.report(("deal", ("figures", name, "type")), f"{name}: the standard figures read it as "
                                                                     f"{rule} (expected type: {rule})")
                self.formula(name, spec.formula, spec.type or rule, spec.label or name,
                             ("deal", ("figures", name, "formula")))
            else:
                self.formula(name, spec, rule, name, ("deal", ("figures", name)))
        for i, c in enumerate(self.deal.classes):
            if c.coupon is not None and c.coupon.cap is not None:
                self.formula(f"{c.name}.coupon.cap", c.coupon.cap, f.RATE, f"class {c.name}'s rate cap",
                             ("deal", ("classes", i, "coupon", "cap")))
            elif c.coupon is not None:
                self.formula(f"{c.name}.coupon.cap", "none", f.RATE, f"class {c.name} has no cap",
                             ("deal", ("classes", i, "coupon")))
        for i, c in enumerate(self.deal.classes):
            if c.kind == "interest_only" and c.notional is None:
                self.report(("deal", ("classes", i)), f"class {c.name} is interest-only: it needs notional: (a "
                                                      "formula giving its notional balance, money)")
            elif c.notional is not None and c.kind != "interest_only":
                self.report(("deal", ("classes", i, "notional")), f"class {c.name} ({c.kind}) has a balance, not a "
                                                                  "notional (expected kind: interest_only)")
            elif c.notional is not None:
                where = ("deal", ("classes", i, "notional"))
                if self.formula(f"{c.name}.notional", c.notional, f.MONEY, f"class {c.name}'s notional balance",
                                where) is not None:
                    self.formula(f"{c.name}.ending_notional", at_period_end(c.notional), f.MONEY,
                                 f"class {c.name}'s notional after this distribution (its notional formula at the "
                                 "period's end: the next distribution's number, balances at their end)", where)
            if c.accretes is not None:
                if c.coupon is None or c.kind not in ("senior", "mezzanine"):
                    self.report(("deal", ("classes", i, "accretes")), f"class {c.name} cannot accrete: only a senior "
                                                                      "or mezzanine class with a coupon accrues interest")
                self.formula(f"{c.name}.accretes", c.accretes, f.FLAG, f"class {c.name} accretes its interest this "
                             "period", ("deal", ("classes", i, "accretes")))
        self.hedges()
        seen: dict[str, int] = {}
        for i, fee in enumerate(self.deal.fees):
            k = key(fee.name)
            if k in seen:
                self.report(("deal", ("fees", i, "name")), f"fee {fee.name!r} is listed twice (expected each fee once)")
                continue
            seen[k] = i
            self.keys[f"fee:{fee.name}"] = k
            current = f"cents(({fee.base}) * fees.{k}.annual_rate / 12)" if fee.amount is None else f"fees.{k}.amount"
            self.formula(f"fees.{k}.current", current, f.MONEY, f"{fee.name} fee for the month", ("deal", ("fees", i)))
            # what a distribution could not pay stays owed: it is due again at the next one
            self.carried(f"fees.{k}.unpaid_before", f"opening.unpaid_fees.{k}", f"fees.{k}.unpaid_after", f.MONEY,
                         f"{fee.name} fee unpaid from earlier periods", ("deal", ("fees", i)))
            self.formula(f"fees.{k}.due", f"fees.{k}.current + fees.{k}.unpaid_before", f.MONEY,
                         f"{fee.name} fee due: the month's and what earlier periods left unpaid", ("deal", ("fees", i)))
            self.tally(f"fees.{k}.paid", f.MONEY, f"{fee.name} fee paid")
            self.formula(f"fees.{k}.unpaid_after", f"fees.{k}.due - fees.{k}.paid", f.MONEY,
                         f"{fee.name} fee still unpaid after the distribution", ("deal", ("fees", i)))

    def hedges(self) -> None:
        """Each swap's payment or receipt, each cap's receipt, from the period's index."""
        days = {"actual/360": "accrual_days / 360", "actual/365": "accrual_days / 365", "30/360": "30 / 360"}
        for i, sw in enumerate(self.deal.swaps):
            k, where = f"swaps.{sw.name}", ("deal", ("swaps", i))
            self.formula(f"{k}.notional", sw.notional, f.MONEY, f"swap {sw.name}: its notional this period",
                         ("deal", ("swaps", i, "notional")))
            self.formula(f"{k}.net", f"{k}.notional * ({k}.fixed_rate - index.current) * {days[sw.day_count]}",
                         f.AMOUNT, f"swap {sw.name}: the fixed rate less the index on its notional ({sw.day_count}); "
                         "the trust pays when it is positive", where)
            self.formula(f"{k}.payment", f"max(0.00, cents({k}.net))", f.MONEY,
                         f"swap {sw.name}: net swap payment the trust owes {sw.counterparty}", where)
            self.formula(f"{k}.receipt", f"max(0.00, cents(0.00 - {k}.net))", f.MONEY,
                         f"swap {sw.name}: net swap receipt {sw.counterparty} owes the trust", where)
        for i, cap in enumerate(self.deal.caps):
            k, where = f"caps.{cap.name}", ("deal", ("caps", i))
            self.formula(f"{k}.notional", cap.notional, f.MONEY, f"cap {cap.name}: its notional this period",
                         ("deal", ("caps", i, "notional")))
            self.formula(f"{k}.receipt", f"cents({k}.notional * max(0, index.current - {k}.strike) * "
                                         f"{days[cap.day_count]})", f.MONEY,
                         f"cap {cap.name}: what {cap.counterparty} pays, the index over the strike on its notional",
                         where)

    def triggers(self) -> None:
        names = []
        for i, t in enumerate(self.deal.triggers):
            k = key(t.name)
            base = f"triggers.{k}"
            if f"trigger:{t.name}" in self.keys or k in self.keys.values():
                self.report(("deal", ("triggers", i, "name")), f"a second trigger named {t.name!r} (expected each "
                                                               "trigger once, by a name of its own)")
            self.keys[f"trigger:{t.name}"] = k
            where = ("deal", ("triggers", i))
            self.formula(f"{base}.value", t.value, f.RATE, f"{t.name} trigger: the value tested",
                         ("deal", ("triggers", i, "value")))
            self.formula(f"{base}.threshold", t.threshold, f.RATE, f"{t.name} trigger: its threshold",
                         ("deal", ("triggers", i, "threshold")))
            self.formula(f"{base}.breached", f"given({base}.threshold) and {base}.value > {base}.threshold", f.FLAG,
                         f"{t.name} trigger breached", where)
            for part in ("value", "threshold", "breached"):
                self.aliases[f"triggers.{t.name}.{part}"] = f"{base}.{part}"
            names.append(f"{base}.breached")
        if "performance.trigger" not in self.defs:
            self.formula("performance.trigger", " or ".join(names) or "false", f.FLAG,
                         "a trigger event is in effect (any trigger test breached)", ("deal", ("triggers",)))

    def accounts(self) -> dict[str, m.Account]:
        out: dict[str, m.Account] = {}
        for i, a in enumerate(self.deal.accounts):
            if a.name in out:
                self.report(("deal", ("accounts", i, "name")), f"a second account named {a.name!r}")
                continue
            out[a.name] = a
            self.formula(f"accounts.{a.name}.deposit", a.deposit or "0.00", f.MONEY, f"deposited in the {a.name} "
                         "account", ("deal", ("accounts", i, "deposit") if a.deposit else ("accounts", i)))
            self.tally(f"accounts.{a.name}.balance", f.MONEY, f"left in the {a.name} account after the waterfall")
            self.tally(f"accounts.{a.name}.withdrawn", f.MONEY, f"paid or moved out of the {a.name} account")
            self.starts[a.name] = f"accounts.{a.name}.deposit"
            if a.carried:
                self._carried_account(a, i)
            if a.draw:
                if a.deposit is not None or a.carried:
                    self.report(("deal", ("accounts", i, "draw")), f"the {a.name} account is drawn on demand: it has "
                                                                   "no deposit: and is not carried: (expected one "
                                                                   "or the other)")
                self.tally(f"accounts.{a.name}.drawn", f.MONEY, f"drawn on the {a.name} account")
        deposits = " + ".join(f"accounts.{a}.deposit" for a in out) or "0.00"
        carried = [a for a in out.values() if a.carried]
        drawn = [a for a in out.values() if a.draw]
        if carried:  # what the carried accounts paid out of what they held is cash available too
            deposits += "".join(f" + accounts.{a.name}.beginning - accounts.{a.name}.balance" for a in carried)
        deposits += "".join(f" + accounts.{a.name}.drawn" for a in drawn)
        self.formula("accounts.deposits", deposits, f.MONEY, "deposited in every account" + (
            ", and what the carried accounts paid out of what they held (beginning less ending balance)"
            if carried else "") + (", and what was drawn on demand" if drawn else ""), ("deal", ("accounts",)))
        return out

    def _carried_account(self, a: m.Account, i: int) -> None:
        """A reserve account: its balance carried from the previous distribution, its target and floor."""
        name = f"accounts.{a.name}"
        self.carried(f"{name}.beginning", f"opening.accounts.{a.name}", f"{name}.balance", f.MONEY,
                     f"held in the {a.name} account at the start (after the previous distribution)",
                     ("deal", ("accounts", i, "carried")))
        self.formula(f"{name}.available", f"{name}.beginning + {name}.deposit", f.MONEY,
                     f"in the {a.name} account before the waterfall: what it held, and what is deposited",
                     ("deal", ("accounts", i)))
        self.starts[a.name] = f"{name}.available"
        if a.target is not None:
            self.formula(f"{name}.target", a.target, f.MONEY, f"the {a.name} account's target balance",
                         ("deal", ("accounts", i, "target")))
        if a.floor is not None:
            self.formula(f"{name}.floor", a.floor, f.MONEY, f"the least the {a.name} account's target may be",
                         ("deal", ("accounts", i, "floor")))

    # -------------------------------------------------------------- the waterfall

    def waterfall(self, accounts: dict[str, m.Account]) -> None:
        self.account_names = accounts
        for a in accounts:
            for b in accounts:
                if a != b:
                    self.tally(f"transfers.{a}.{b}", f.MONEY, f"moved from the {a} account to the {b} account")
        for i, a in enumerate(self.deal.accounts):
            if (a.carried or a.draw) and a.name in accounts:
                into = " + ".join(f"transfers.{b}.{a.name}" for b in accounts if b != a.name) or "0.00"
                self.formula(f"accounts.{a.name}.received", into, f.MONEY, f"moved into the {a.name} account from "
                             "the other accounts", ("deal", ("accounts", i)))
        for c in self.classes:
            for t in CLASS_TALLIES:
                self.tally(f"{c}.paid.{t}", f.MONEY, f"class {c} paid as {t.replace('_', ' ')}")
            self.tally(f"{c}.writedown", f.MONEY, f"class {c} written down by realized losses")
        self.principal_classes = [c for action in _all_actions(self.deal.waterfall)
                                  if isinstance(action, m.PayPrincipal) for c in action.classes]
        names = list(dict.fromkeys(a.name for a in _all_actions(self.deal.waterfall) if isinstance(a, m.PayAmount)))
        self.formula("payments.paid", " + ".join(f"{n}.paid" for n in names) or "0.00", f.MONEY,
                     "paid to payees outside the classes by pay: amount actions", ("deal", ("waterfall",)))
        for i, action in enumerate(self.deal.waterfall):
            self.actions.append(self._prepare(action, ("waterfall", i), i))
        named = {x for action in _all_actions(self.deal.waterfall)
                 for x in (getattr(action, "from_", None), getattr(action, "to", None))}
        for i, a in enumerate(self.deal.accounts):
            if a.draw and a.name not in named:  # drawn on demand, and nothing demands it
                self.report(("deal", ("accounts", i)), f"the {a.name} account is drawn on demand but no action of "
                                                       f"the waterfall pays from it (expected an action with from: "
                                                       f"{a.name}, or no such account)")

    def _prepare(self, action: Any, path: tuple, top: int) -> Prepared:
        figures: dict[str, str] = {}
        label = "waterfall" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
        where = ("deal", path)
        reads = self.action_reads.setdefault(top, set())

        def own(part: str, source: str, type_: str, what: str, at: tuple = ()) -> None:
            name = f"{label}.{part}"
            if self.formula(name, source, type_, what, ("deal", path + at), kind="action") is not None:
                figures[part] = name
                reads.add(name)

        if action.when is not None:
            own("when", action.when, f.FLAG, f"the condition of {label}", ("when",))
        for account in (getattr(action, "from_", None), getattr(action, "to", None) if isinstance(action, m.Transfer)
                        else None):
            if account is not None and account not in self.account_names:
                self.report(where, f"no account {account!r} (expected one of: {', '.join(self.account_names) or 'none'})")
            elif account is not None:
                self._writes(f"accounts.{account}.balance", top)
                if account == getattr(action, "from_", None):
                    self._writes(f"accounts.{account}.withdrawn", top)
                    if self.account_names[account].draw:
                        self._writes(f"accounts.{account}.drawn", top)
                reads.add(self.starts.get(account, f"accounts.{account}.deposit"))
        for j, c in enumerate(_classes_of(action)):
            at = ("classes", j) if hasattr(action, "classes") else ("class",)
            if c not in self.classes:
                self.report(("deal", path + at), f"class {c!r} is not one of the deal's classes "
                                                 f"({', '.join(self.classes)})")
            elif c in _classes_of(action)[:j]:
                self.report(("deal", path + at), f"class {c} is listed twice (expected each class once: a second "
                                                 "listing would pay it again)")
        self._kind_specific(action, path, top, own, reads)
        otherwise = tuple(self._prepare(a, path + ("else", j), top) for j, a in enumerate(action.else_))
        if action.else_ and action.when is None:
            self.report(("deal", path + ("else",)), "else: without when: (expected a condition for the action)")
        return Prepared(action, path, top, figures, otherwise)

    def _kind_specific(self, action: Any, path: tuple, top: int, own: Callable, reads: set[str]) -> None:
        if isinstance(action, m.PayFees):
            names = [fee.name for fee in self.deal.fees]
            for j, name in enumerate(action.fees or ()):
                if name not in names:
                    self.report(("deal", path + ("fees", j)), f"no fee {name!r} (expected one of: "
                                                          f"{', '.join(names)})")
            for fee in self.deal.fees:
                if action.fees is not None and fee.name not in action.fees:
                    continue
                k = key(fee.name)
                self._writes(f"fees.{k}.paid", top)
                reads.add(f"fees.{k}.due")
        elif isinstance(action, m.PayAmount):
            own("amount", action.amount, f.MONEY, f"{action.description}: due", ("amount",))
            self.tally(f"{action.name}.paid", f.MONEY, f"{action.description}: paid")
            self._writes(f"{action.name}.paid", top)
        elif isinstance(action, m.PayPrincipal):
            own("amount", action.amount, f.MONEY, "the principal distribution amount it pays from", ("amount",))
            if action.group is not None and action.group not in self.group_names:
                self.report(("deal", path + ("group",)), f"no loan group {action.group!r} (expected "
                                                         f"one of: {', '.join(self.group_names) or 'none declared'})")
            for c, target in (action.targets or {}).items():
                own(f"targets.{c}", target, f.MONEY, f"the most class {c} and the classes before it may stand at",
                    ("targets", c))
            missing = [c for c in action.classes if action.targets is not None and c not in action.targets]
            for c in action.targets or {}:
                if c not in action.classes:
                    self.report(("deal", path + ("targets", c)), f"class {c!r} is not one the action pays (expected "
                                                                 f"a target for each of: {', '.join(action.classes)})")
            if missing:
                self.report(("deal", path + ("targets",)), f"no target for class {', '.join(missing)} (expected one "
                                                           "for each class paid)")
        elif isinstance(action, m.Transfer):
            if action.transfer == "amount":
                if action.amount is None:
                    self.report(("deal", path), "transfer: amount needs amount: (money)")
                else:
                    own("amount", action.amount, f.MONEY, f"{action.description}: the amount", ("amount",))
            self._writes(f"transfers.{action.from_}.{action.to}", top)
            if action.from_ == action.to:
                self.report(("deal", path + ("to",)), f"a transfer from the {action.to} account to itself")
        for c in _classes_of(action):
            tally = _tally_of(action)
            if tally and c in self.classes:
                self._writes(f"{c}.{tally}", top)
                reads.update(f"{c}.{name}" for name in _class_reads(action))
                if getattr(action, "this_period", False):
                    reads.add(f"{c}.writedown")  # final only after allocate: losses
        if getattr(action, "this_period", False) and action.pay != "writedown_reimbursement":
            self.report(("deal", path + ("this_period",)), "only a writedown_reimbursement pays this period's "
                                                               "amounts too")
        if isinstance(action, m.PayExtraPrincipal):
            for c in self.principal_classes:
                self._writes(f"{c}.paid.extra_principal", top)
        if isinstance(action, m.AllocateLosses):
            reads.update(f"{c}.principal" for c in self.groups["certificates"])
            reads.add("pool.ending_balance")

    def _writes(self, tally: str, top: int) -> None:
        self.writers.setdefault(tally, set()).add(top)

    # -------------------------------------------------------------- types

    def check_types(self) -> None:
        """Type every figure.  A figure whose formula has a problem is reported once; the figures
        that read it take its declared type (or any), so that they are not reported for it."""
        for name in list(self.defs):
            self.type_of(name)
        for d in self.items:
            try:
                f.check(d.expr, f.Types(lambda n: self.type_of(_item_template(n)), self.known), d.type)
            except f.FormulaError as exc:
                self.needs.setdefault((exc.unknown, str(exc)), []).append(d.name)
        for (unknown, problem), users in self.needs.items():
            shown = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
            if unknown is None:
                message = f"the standard figures {shown} cannot use the deal's figures as defined: {problem}"
            else:
                message = (f"{unknown} is not defined, and the standard figures {shown} read it "
                           f"(expected {unknown}: <formula> under figures:)")
            self.report(("deal", ("figures",)), message)

    def type_of(self, name: str) -> str | None:
        """The type of what a formula names, or None when nothing has that name."""
        if name in BUILTINS:
            return BUILTINS[name]
        spec = self.inputs.get(name) or self.inputs.get(_item_template(name))
        if spec is not None:
            return spec.type
        if name in self.deal_values:
            return self.deal_values[name][0]
        if _item_template(name) in self.item_types:
            return self.item_types[_item_template(name)]
        if name in self.checked:
            return self.checked[name]
        d = self.defs.get(name)
        if d is None:
            return self._aggregate(name)
        if d.kind in ("tally", "constant") or d.expr is None and d.kind != "carried":
            return d.type
        if name in self.checking:  # a cycle, reported when the figures are put in order
            if not d.type:
                self.cycles_met += 1  # what reads it is not told of the type it could not have
            return d.type or f.NONE
        return self._typed(d)

    def _typed(self, d: Definition) -> str:
        source = d.opening if d.kind == "carried" else d
        self.checking.add(d.name)
        met = self.cycles_met
        try:
            mapping = dict(zip(source.local, source.deps)) if source.local else None
            types = f.Types(lambda n: self.type_of(mapping.get(n, n) if mapping else n), self.known)
            got = f.check(source.expr, types, d.type or None)
            got = f.NUMBER if got == f.LITERAL else got
            if got == f.AMOUNT and not d.type and source.where[0] == "deal":
                raise f.FormulaError("gives an amount of money not rounded to the cent: cash must be rounded, say "
                                     "how with cents(...) (half-up) or cents_down(...), or declare type: amount")
        except f.FormulaError as exc:
            if self.cycles_met > met:  # it read a figure of a cycle, untyped: the cycle is the error
                got = d.type or f.NONE
                self.checked[d.name] = got
                return got
            self.failed.add(d.name)
            if any(dep in self.failed for dep in source.deps):
                pass  # it reads a figure whose own formula is reported: not reported again for it
            elif source.where[0] == "prelude":  # a standard figure: what the deal must give it
                self.needs.setdefault((exc.unknown, str(exc)), []).append(d.name)
            elif source.where not in self.mistyped:  # (an ending notional is its class's notional formula again)
                self.mistyped.add(source.where)
                named = "" if dotted(source.where[1]) == d.name else f"{d.name}: "  # the field names it already
                self.report(source.where, f"{named}{f.shown(_source_text(source))}: {exc}")
            got = d.type or f.NONE
        finally:
            self.checking.discard(d.name)
        self.checked[d.name] = got
        return got

    # -------------------------------------------------------------- order

    def order(self) -> tuple[tuple[tuple[Definition, ...], ...], tuple[tuple[str, ...], ...]]:
        """The figures of each phase (before each top-level action, and after the last), each after
        the figures it reads; and the tallies final after each action."""
        n = len(self.actions)
        phases: list[list[Definition]] = [[] for _ in range(n + 1)]
        self.phase: dict[str, tuple[int, str]] = {}
        state: dict[str, int] = {}  # 1: being ordered, 2: done

        def visit(name: str, path: list[str]) -> tuple[int, str]:
            if name in self.phase:
                return self.phase[name]
            d = self.defs.get(name)
            if d is None:
                return (0, "")
            if d.kind == "tally":
                writers = self.writers.get(name)
                if not writers and name.startswith("accounts.") and name.endswith(".balance"):
                    # an account no action touches keeps what was deposited: final after the last action,
                    # once its deposit is computed
                    self.phase[name] = (n, name)
                else:
                    self.phase[name] = (max(writers) + 1, name) if writers else (0, "")
                return self.phase[name]
            if state.get(name) == 1:
                cycle = path[path.index(name):] + [name]
                if name not in self.failed:
                    self.failed.update(cycle)
                    self.report(d.where, f"{name}: a cycle: {' -> '.join(cycle)} (expected figures that do not "
                                        "read themselves, even through others)")
                return (0, "")
            state[name] = 1
            deps = (d.opening.deps if d.kind == "carried" else d.deps)
            found = (0, "")
            for dep in deps:
                got = visit(dep, path + [name])
                if got[0] > found[0]:
                    found = got
            state[name] = 2
            self.phase[name] = found
            if d.kind in ("formula", "carried"):
                phases[min(found[0], n)].append(d)
            return found

        for name in list(self.defs):
            visit(name, [])
        self._final_reads(visit)
        finals: list[list[str]] = [[] for _ in range(n + 1)]
        for name, d in self.defs.items():
            if d.kind == "tally":
                finals[self.phase.get(name, (0, ""))[0]].append(name)
        return tuple(tuple(p) for p in phases), tuple(tuple(x) for x in finals)

    def _final_reads(self, visit: Callable) -> None:
        """An action reads only figures that are final before it runs."""
        for top, names in self.action_reads.items():
            for name in sorted(names):
                d = self.defs.get(name)
                deps = d.deps if d is not None and d.kind == "action" else (name,)
                for dep in deps:
                    if d is not None and d.kind == "action" and re.fullmatch(r"accounts\.[a-z0-9_]+\.balance", dep):
                        continue  # in an action, an account's balance is what it holds when the action runs
                    phase, tally = visit(dep, [])
                    if phase > top:
                        own = d is not None and d.kind == "action"
                        where = d.where if own else ("deal", ("waterfall", top))
                        reader, read = (name, dep) if own else (f"waterfall[{top}]", name)
                        self.report(where, f"{reader} reads {read}, which is final only after "
                                           f"waterfall[{phase - 1}] adds to {tally} (expected only figures final "
                                           "before the action runs)")

    # -------------------------------------------------------------- cash claimed twice

    def claims(self) -> None:
        for path in _paths(self.actions, 256):
            self._claims_on(path)
        if not any(isinstance(p.action, m.PayRest) and p.action.pay == "residual" for p in _flat(self.actions)):
            self.report(("deal", ("waterfall",)), "no residual payment: the cash the other actions leave would stay "
                                                  "in the trust (expected - {pay: residual, from: ACCOUNT, class: NAME})")
        paying = [p.action for p in _flat(self.actions) if isinstance(p.action, m.PayFees)]
        for i, fee in enumerate(self.deal.fees):
            if not any(a.fees is None or fee.name in a.fees for a in paying):
                self.report(("deal", ("fees", i, "name")), f"fee {fee.name!r} is paid by no action of the waterfall "
                                                           "(expected it in the fees: of a pay: fees action, or a "
                                                           "pay: fees action without fees:, which pays every fee)")
        kinds = {c.name: c.kind for c in self.deal.classes}
        rests = [p for p in _flat(self.actions) if isinstance(p.action, m.PayRest)]
        charges = [p for p in rests if p.action.pay == "prepayment_charges"]
        for p in charges:
            if kinds.get(p.action.class_) == "excess":
                self.report(("deal", p.path + ("class",)),
                            f"class {p.action.class_} is the excess class, whose interest is the residual cash flow "
                            "(expected a prepayment or other class)")
        for p in rests:  # the rest of the cash is the residual interest's, never a coupon's
            if p.action.pay == "residual" and kinds.get(p.action.class_) not in (None, "excess", "residual"):
                self.report(("deal", p.path + ("class",)),
                            f"class {p.action.class_} is a {kinds[p.action.class_]} class: the residual would be paid "
                            "to it as interest beyond its coupon (expected the excess or residual class: "
                            f"{', '.join(n for n, k in kinds.items() if k in ('excess', 'residual')) or 'none'})")
        prepayment = [name for name, kind in kinds.items() if kind == "prepayment"]
        if prepayment and not charges:
            self.report(("deal", ("waterfall",)), f"no class receives prepayment charges (expected - {{pay: "
                                                  f"prepayment_charges, from: ACCOUNT, class: {prepayment[0]}}})")

    def _claims_on(self, path: list[Prepared]) -> None:
        paid: dict[tuple[str, str], Prepared] = {}
        once: dict[str, Prepared] = {}
        budgets: dict[str | None, Prepared] = {}  # each group's first principal action: the others share its amount
        for p in path:
            a = p.action
            if isinstance(a, m.PayPrincipal):
                budget = budgets.get(a.group)
                if budget is not None and f.text(_formula(a.amount).tree) != f.text(_formula(budget.action.amount).tree):
                    self.report(("deal", p.path + ("amount",)),
                                f"pays principal from {a.amount}, but {budget.label} pays it from "
                                f"{budget.action.amount}: the principal would be paid twice (expected the same "
                                "amount: for every principal action, which then share it, or principal actions "
                                "of different loan groups, each with its group:)")
                budgets.setdefault(a.group, p)
            kind = getattr(a, "pay", None) or (f"allocate {a.allocate}" if isinstance(a, m.AllocateLosses) else None)
            slots: list[str] = []
            if kind == "fees":
                slots = [f"fees: {fee.name}" for fee in self.deal.fees if a.fees is None or fee.name in a.fees]
            elif kind == "extra_principal" or kind in ("residual", "prepayment_charges"):
                slots = [kind if kind == "extra_principal" else f"{kind} from {a.from_}"]
            elif kind == "amount":  # its name is the figure of what it paid: two would pay the amount twice;
                # so would two of one amount to one payee (each pays all of it; two payees' fees may be alike)
                slots = [f"amount: {a.name}", f"amount of {f.text(_formula(a.amount).tree)} to {a.to}"]
            for slot in slots:
                if slot in once and once[slot] is not p:
                    what = (f"payment named {slot.removeprefix('amount: ')}" if slot.startswith("amount: ") else
                            f"payment of {slot.removeprefix('amount of ')} (each pays all of it)" if kind == "amount" else
                            f"payment of the {slot.removeprefix('fees: ')} fee" if kind == "fees" else f"{kind} payment")
                    self.report(("deal", p.path), f"a second {what} on one path through the waterfall (expected "
                                                  f"one; the first is {once[slot].label})")
                    break
                once.setdefault(slot, p)
            # what unpaid_interest pays is what is still unpaid: a second such payment (from another account,
            # an insurer's policy) pays only what the first could not
            for c in _classes_of(a) if kind not in ("residual", "prepayment_charges", "unpaid_interest") else ():
                first = paid.setdefault((kind, c), p)
                if first is not p:
                    self.report(("deal", p.path + ("classes",)),
                                f"class {c} is already paid by {kind} action {first.label} on one path through the "
                                "waterfall (expected each class once per kind of action)")

def _for_group(entry: PreludeEntry, group: str) -> PreludeEntry:
    """A group's copy of a prelude entry: ``{g}`` is the group's name."""
    swap = lambda text: text.replace("{g}", group) if text else text  # noqa: E731
    carried = {k: swap(v) for k, v in entry.carried.items()} if entry.carried else None
    return entry.model_copy(update={"label": swap(entry.label), "formula": swap(entry.formula), "carried": carried})


def _whole(n: int) -> Callable[[Any], int]:
    return lambda values: n


#: A total of more members than this is shown as sum(...): a chain of additions as long as a
#: deal of a thousand fees would nest deeper than Python reads trees.
_CHAINED_MEMBERS = 64


def _sum_tree(deps: tuple[str, ...]) -> Any:
    """How a total is shown: its members added up."""
    if not deps:
        return f.Num(f.ZERO_CASH, "0.00")
    if len(deps) > _CHAINED_MEMBERS:
        return f.Call("sum", tuple(f.Name(dep) for dep in deps))
    out: Any = f.Name(deps[0])
    for dep in deps[1:]:
        out = f.Bin("+", out, f.Name(dep))
    return out


def _summer(n: int, type_: str) -> Callable[[Any], Any]:
    zero = 0 if type_ == f.COUNT else f.ZERO_CASH
    return lambda values: sum(values, zero)


_AT_END = {"beginning_balance": "ending_balance", "beginning_count": "ending_count"}


def at_period_end(source: str) -> str:
    """A notional formula as of the period's end, which is the next distribution's notional:
    ``distribution_number`` is the next one and each balance or loan count at the beginning
    (``A-1.beginning_balance``, ``pool.beginning_balance``, ``total(senior, beginning_balance)``)
    is the one at the end.  An interest-only class's ending notional, and so its factor, is
    therefore what the next statement starts from, as for any other class."""
    def end(name: str) -> str:
        if name == "distribution_number":
            return "(distribution_number + 1)"
        head, dot, last = name.rpartition(".")
        return f"{head}{dot}{_AT_END[last]}" if last in _AT_END else name

    return f.text(f.parse(source), end)


#: A list item's place in a figure's name (``[3]`` of ``collections.liquidations[3].balance``).
ITEM_INDEX = re.compile(r"\[[0-9]+\]")


def _item_template(name: str) -> str:
    """``collections.liquidations[3].balance`` -> ``collections.liquidations[{i}].balance``."""
    return ITEM_INDEX.sub("[{i}]", name, count=1) if "[" in name else name





def _all_actions(actions: Iterable[Any]) -> Iterator[Any]:
    for action in actions:
        yield action
        yield from _all_actions(action.else_)


def _classes_of(action: Any) -> tuple[str, ...]:
    if hasattr(action, "classes"):
        return tuple(action.classes)
    if hasattr(action, "class_"):
        return (action.class_,)
    return ()


def _tally_of(action: Any) -> str | None:
    """The per-class figure an action adds to (paid.interest, writedown, ...)."""
    if isinstance(action, m.AllocateLosses):
        return "writedown"
    kind = getattr(action, "pay", None)
    return f"paid.{PAID[kind]}" if kind in PAID else None


def _class_reads(action: Any) -> tuple[str, ...]:
    """The figures of each class an action reads to know what is due."""
    kind = getattr(action, "pay", None)
    return {"interest": ("current_interest", "unpaid_interest_before"),
            "unpaid_interest": ("current_interest", "unpaid_interest_before"),
            "principal": ("beginning_balance",), "carryover": ("carryover_before", "carryover_current"),
            "writedown_reimbursement": ("unpaid_losses_before",)}.get(kind, ("beginning_balance",)
                                                                       if isinstance(action, m.AllocateLosses) else ())


def _flat(actions: Iterable[Prepared]) -> Iterator[Prepared]:
    for p in actions:
        yield p
        yield from _flat(p.otherwise)


def _paths(actions: tuple[Prepared, ...], limit: int) -> list[list[Prepared]]:
    """Every way through the waterfall (an action with a condition, or its else), at most ``limit``."""
    paths: list[list[Prepared]] = [[]]
    for p in actions:
        ways = _ways(p, limit)
        paths = [done + way for done in paths for way in ways][:limit]
    return paths


def _ways(p: Prepared, limit: int) -> list[list[Prepared]]:
    if p.action.when is None:
        return [[p]]
    return [[p]] + _paths(p.otherwise, limit)


def _source_text(d: Definition) -> str:
    return f.text(d.expr) if d.expr is not None else ""


def once(program: Program, name: str, make: Any) -> Any:
    """What ``make()`` gives for the program, made on the first statement and kept with it
    (the same for every statement of the deal)."""
    found = program.derived.get(name)
    if found is None:
        found = program.derived[name] = make()
    return found


class FigureError(Exception):
    """A figure that cannot be computed for this period (a value it needs is not there)."""

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        super().__init__("\n".join(map(str, errors)))


#: Programs already compiled, by the structure of their deal (what the program depends on, and
#: not its values: a book's deals written from one agreement share one).  Bounded.
_PROGRAMS: dict[Any, Program] = {}
_PROGRAMS_MAX = 64


def structure(deal: m.Deal, data: dict[str, Any]) -> Any:
    """What a deal's program depends on: its classes' names and kinds and which figures they
    have, its fees' names and bases, and its figures, triggers, accounts and waterfall as the
    file writes them (``data``: the file's values) -- not the values the program reads
    (balances, margins, rates, dates, CUSIPs).  The file's sections are pickled: bytes that are
    equal only for equal values (text, numbers with their places, dates, true and false kept
    apart), made several times quicker than their repr."""
    classes = tuple((c.name, c.kind, c.per_1000_basis, c.original_balance > 0, c.group, c.notional, c.accretes)
                    + ((c.coupon.kind, c.coupon.cap, c.coupon.floor is not None, c.coupon.day_count,
                        c.coupon.accrual_period) if c.coupon else ()) for c in deal.classes)
    return (classes, tuple((fee.name, fee.base, fee.amount is None) for fee in deal.fees),
            tuple(g.name for g in deal.groups),
            pickle.dumps(tuple(data.get(k) for k in ("figures", "triggers", "accounts", "waterfall", "swaps", "caps",
                                                     "report")), protocol=5))


def compile_deal(deal: m.Deal, src: SourceMap, required: Iterable[str] = (), data: dict[str, Any] | None = None
                 ) -> Program:
    """The deal's :class:`Program`.  ``required``: the figures its statement shows, which the deal
    or the prelude must define; ``data``: the deal file's values (a program is shared by the deals
    whose rules are written alike).  Raises :class:`InputErrors` with every problem found."""
    if data is None:
        return _compile(deal, src, required)
    shape = (structure(deal, data), tuple(required))
    known = _PROGRAMS.get(shape)
    if known is not None:
        plan = once(known, "deal_inputs", lambda: input_plan(deal))  # the structure is the same: so is the plan
        return dataclasses.replace(known, deal=deal, source=src, deal_values=deal_inputs(deal, plan))
    program = _compile(deal, src, required)
    if len(_PROGRAMS) < _PROGRAMS_MAX:
        _PROGRAMS[shape] = program
    return program


def _compile(deal: m.Deal, src: SourceMap, required: Iterable[str]) -> Program:
    c = Compiler(deal, src)
    c.check_groups()
    c.prelude()
    c.pooled()
    c.deal_figures()
    c.triggers()
    accounts = c.accounts()
    c.waterfall(accounts)
    c.check_carried()
    wanted = [n.replace("{c}", cls) for n in required for cls in (c.classes if "{c}" in n else [""])]
    for name in wanted:
        if name not in c.defs and c.type_of(name) is None:
            c.report(("deal", ("figures",)), f"the statement shows {name}, which no figure defines "
                                             f"(expected {name}: <formula> under figures:)")
    for i, name in enumerate(deal.report):
        if c.type_of(name) is None:
            c.report(("deal", ("report", i)), f"{name} is not a figure of the deal (expected a name that remit "
                                              "explain --list shows)")
        elif name in wanted:
            c.report(("deal", ("report", i)), f"{name} is on every statement already (expected only figures the "
                                              "statement does not show: report: adds them to it)")
    c.check_types()
    phases, finals = c.order()
    c.claims()
    for name, type_ in c.checked.items():  # what each figure's formula gives, for its explanation
        d = c.defs[name]
        if not d.type and type_:
            c.defs[name] = dataclasses.replace(d, type=type_)
    if c.errors:
        raise InputErrors(sorted(set(c.errors), key=lambda e: (e.file != src.file, e.file, e.line, e.field)))
    return Program(deal, src, c.defs, c.inputs, c.deal_values, tuple(c.actions), phases, tuple(c.items), finals,
                   accounts, c.aliases, c.keys, c.starts)


__all__ = ["Program", "Definition", "Prepared", "compile_deal", "PRELUDE", "BUILTINS", "key", "prelude_source"]
