"""The waterfall's actions: one small function for each kind, run over the deal's accounts.

Every amount an action pays is a figure of the statement: ``flow[n]``, the n-th line of the
flow of funds, and what the account had left after it, ``flow[n].remaining``.  Each is
recorded with the formula that gives it and the figures it is computed from, so that
``remit explain`` can show it and check it (every recorded formula is evaluated again by
the formula language, and must give the same value).

The rule for any payment is the same: ``min(available, max(0.00, due))`` -- never more than
the account holds, never more than is due, never negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, NamedTuple

from . import formula as f
from . import model as m
from .number import ZERO
from .program import FigureError, Prepared, Program, key, once
from .statement import Step

SHARE_ROUNDING = f._ROUNDING["share"]


class Dynamic(NamedTuple):
    """A figure an action computed: its formula over other figures, as the action applied it, and
    the conditions under which the action ran (``waterfall[8].when``: the condition it met, or
    the one its else actions ran on).  (A named tuple: made about 140 times a statement, and
    four times quicker to make than a frozen dataclass.)"""

    name: str
    label: str
    formula: str
    deps: tuple[str, ...]
    rounding: str = ""
    because: tuple[tuple[str, bool], ...] = ()


@dataclass
class Ledger:
    """The state of the waterfall while it runs."""

    program: Program
    values: dict[str, Any]
    dynamic: dict[str, Dynamic] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    transfers: set[int] = field(default_factory=set)  # the steps that move cash between accounts
    balance: dict[str, str] = field(default_factory=dict)  # account -> the figure of what it holds now
    tallies: dict[str, list[str]] = field(default_factory=dict)  # tally -> the flows that add to it
    allocated: dict[str, list[str]] = field(default_factory=dict)  # principal amount -> the allocations drawn
    budgets: dict[str, str] = field(default_factory=dict)  # principal amount -> the figure that holds it
    still_due: dict[str, str] = field(default_factory=dict)  # class -> its principal the account could not fund
    dues: list[tuple[int, str]] = field(default_factory=list)  # (step, what was due), for the checks
    origin: dict[str, tuple] = field(default_factory=dict)  # figure -> the action (its path) that computed it
    payees: dict[str, tuple] = field(default_factory=dict)  # flow[n].payee -> where the deal file names it
    running: dict[str, dict[str, str]] = field(default_factory=dict)  # figure -> {accounts.X.balance: what it held then}
    current: tuple = ()  # the action running
    because: tuple[tuple[str, bool], ...] = ()  # the conditions it runs under (condition, its value)

    # -------------------------------------------------------------- figures

    def let(self, name: str, value: Any, label: str, formula: str, deps: tuple[str, ...], rounding: str = "") -> Any:
        self.values[name] = value
        self.dynamic[name] = Dynamic(name, label, formula, deps, rounding, self.because)
        if self.current:
            self.origin[name] = self.current
        return value

    def evaluate(self, name: str) -> Any:
        """One of the action's own figures (its condition, its amount), with each account's balance
        as it is now."""
        d = self.program.defs[name]
        values = []
        for dep in d.deps:
            if dep.startswith("accounts.") and dep.endswith(".balance"):
                now = self.balance[dep.split(".")[1]]
                if now != dep:  # explain shows what the account held then, not after the waterfall
                    self.running.setdefault(name, {})[dep] = now
                dep = now
            values.append(self.values[dep])
        try:
            value = d.fn(values)
        except (f.Missing, TypeError):  # none where a value is needed
            value = None
        if value is None and d.type != f.FLAG:
            missing = ", ".join(x for x, v in zip(d.deps, values) if v is None) or "its formula"
            raise FigureError([self.program.source.error(d.where[1], f"{name} cannot be computed this period: "
                                                                     f"{missing} has no value (expected an amount "
                                                                     "for the action)")])
        self.values[name] = value
        return value

    # -------------------------------------------------------------- paying

    def pay(self, account: str, due_name: str, description: str, payee: str, label: str,
            tallies: tuple[str, ...] = (), transfer: str | None = None, named: tuple | None = None) -> Decimal:
        """Pay what ``due_name`` says is due from ``account``: a line of the flow of funds.
        ``named``: where the deal file names the payee (default: a class's entry under classes:,
        else the action)."""
        n = len(self.steps) + 1
        if self.program.accounts[account].draw:
            self._draw(account, due_name, n)
        available = self.balance[account]
        amount = min(self.values[available], max(ZERO, self.values[due_name]))
        flow = f"flow[{n}]"
        self.let(flow, amount, label, f"min({available}, max(0.00, {due_name}))", (available, due_name))
        left = self.values[available] - amount
        self.let(f"{flow}.remaining", left, f"left in the {account} account after {flow}", f"{available} - {flow}",
                 (available, flow))
        self.balance[account] = f"{flow}.remaining"
        self.values[f"{flow}.payee"] = payee
        self.payees[f"{flow}.payee"] = named or self._class_entry(payee) or self.current
        self.steps.append(Step(self.section(account), description, payee, amount, left))
        self.dues.append((n, due_name))
        for tally in tallies + (f"accounts.{account}.withdrawn",):
            self.tallies.setdefault(tally, []).append(flow)
        if transfer is not None:
            self.transfers.add(n - 1)
            self._arrive(transfer, flow, account)
        return amount

    def _draw(self, account: str, due_name: str, n: int) -> None:
        """An account drawn on demand (an insurer's policy): what the payment is due is drawn first."""
        drawn = f"flow[{n}].drawn"
        self.let(drawn, max(ZERO, self.values[due_name]), f"drawn on the {account} account for flow[{n}]",
                 f"max(0.00, {due_name})", (due_name,))
        self.tallies.setdefault(f"accounts.{account}.drawn", []).append(drawn)
        before = self.balance[account]
        name = f"accounts.{account}.after_{drawn}"
        self.let(name, self.values[before] + self.values[drawn], f"in the {account} account once drawn on",
                 f"{before} + {drawn}", (before, drawn))
        self.balance[account] = name

    def _arrive(self, account: str, flow: str, source: str) -> None:
        before = self.balance[account]
        name = f"accounts.{account}.after_{flow}"
        self.let(name, self.values[before] + self.values[flow], f"in the {account} account after {flow} from the "
                 f"{source} account", f"{before} + {flow}", (before, flow))
        self.balance[account] = name

    def _class_entry(self, name: str) -> tuple | None:
        """Where the deal file names a class (its entry's name:), or None for no class."""
        found = self.entry("classes", name)
        return found + ("name",) if found is not None else None

    def entry(self, section: str, name: str) -> tuple | None:
        """The path of the deal file's entry of ``section`` (classes, fees, accounts) named
        ``name``, or None: made once per program (entries are in the order the rules are)."""
        entries = once(self.program, f"{section} entries", lambda: {
            item.name: (section, i) for i, item in enumerate(getattr(self.program.deal, section))})
        return entries.get(name)

    def section(self, account: str) -> str:
        a = self.program.accounts[account]
        return a.label or account.replace("_", " ")

    def payee(self, account: str) -> tuple[str, tuple]:
        """How a transfer into ``account`` names it as a payee, and where the deal file says so
        (its payee, else its label, else its name)."""
        a = self.program.accounts[account]
        field_ = "payee" if a.payee else "label" if a.label else "name"
        return a.payee or self.section(account), self.entry("accounts", account) + (field_,)

    def paid_so_far(self, tally: str) -> tuple[str, tuple[str, ...]]:
        """What a tally holds now, as a formula over the flows in it."""
        flows = tuple(self.tallies.get(tally, ()))
        return (" + ".join(flows) if flows else "0.00"), flows


# ------------------------------------------------------------------ the kinds of action


def pay_fees(w: Ledger, p: Prepared) -> None:
    chosen = p.action.fees
    fees = w.program.deal.fees if chosen is None else [fee for name in chosen for fee in w.program.deal.fees
                                                       if fee.name == name]
    for fee in fees:
        k = key(fee.name)
        named = w.entry("fees", fee.name) + ("payee" if fee.payee else "name",)
        w.pay(p.action.from_, f"fees.{k}.due", f"{fee.name} fee", fee.payee or fee.name, f"{fee.name} fee paid",
              (f"fees.{k}.paid",), named=named)


def pay_amount(w: Ledger, p: Prepared) -> None:
    a = p.action
    w.evaluate(p.figures["amount"])
    w.pay(a.from_, p.figures["amount"], a.description, a.to, f"{a.description}, to {a.to}", (f"{a.name}.paid",),
          named=w.current + ("to",))


def pay_interest(w: Ledger, p: Prepared) -> None:
    """Current (and unpaid) interest; pro rata among the classes when the account is short."""
    a = p.action
    label = "current and unpaid interest" if a.include_unpaid else "current interest"
    dues = []
    for c in a.classes:
        name = f"{p.label}.{c}.due"
        if a.include_unpaid:
            w.let(name, w.values[f"{c}.current_interest"] + w.values[f"{c}.unpaid_interest_before"],
                  f"class {c} interest due ({label})", f"{c}.current_interest + {c}.unpaid_interest_before",
                  (f"{c}.current_interest", f"{c}.unpaid_interest_before"))
        else:
            w.let(name, w.values[f"{c}.current_interest"], f"class {c} interest due ({label})",
                  f"{c}.current_interest", (f"{c}.current_interest",))
        dues.append(name)
    for c, due in zip(a.classes, _shared(w, p, dues, "interest funds")):
        w.pay(a.from_, due, f"Class {c} {label}", c, f"class {c} {label} paid", (f"{c}.paid.interest",))


def _shared(w: Ledger, p: Prepared, dues: list[str], funds: str) -> list[str]:
    """What each of the action's classes is paid when the account cannot pay them all they are
    owed (``dues``): what it holds, shared pro rata by what each is owed; else what each is owed."""
    total = sum((w.values[d] for d in dues), ZERO)
    available = w.balance[p.action.from_]
    if len(dues) < 2 or w.values[available] >= total:
        return dues
    start = f"{p.label}.available"
    w.let(start, min(w.values[available], total), f"{funds} for these classes", f"min({available}, {' + '.join(dues)})",
          (available, *dues))
    shares = f.pro_rata([w.values[d] for d in dues], w.values[start])
    out = []
    for c, due, share in zip(p.action.classes, dues, shares):
        w.let(f"{due}.share", share, f"class {c} pro rata share", f"share({start}, {due}, {', '.join(dues)})",
              (start, *dues), SHARE_ROUNDING)
        out.append(f"{due}.share")
    return out


def pay_principal(w: Ledger, p: Prepared) -> None:
    """Principal from the amount's budget: sequentially, or by the class targets."""
    a = p.action
    amount = p.figures["amount"]
    w.evaluate(amount)
    budget = a.amount  # every principal action naming the same amount draws on one budget
    drawn = w.allocated.setdefault(budget, [])
    w.budgets.setdefault(budget, amount)
    room = [f"{c}.beginning_balance" for c in a.classes]
    payable = f"{p.label}.payable"
    w.let(payable, min(w.values[amount] - sum((w.values[x] for x in drawn), ZERO),
                       sum((w.values[x] for x in room), ZERO)),
          "principal this action may pay: what is left of the amount, at most the classes' balances",
          f"min({amount} - {_sum(drawn)}, {' + '.join(room)})", (amount, *drawn, *room))
    before: list[str] = []  # the classes paid before (their balances, then what they were allocated)
    for c in a.classes:
        due = f"{p.label}.{c}.allocated"
        if a.targets is None:
            w.let(due, min(w.values[payable] - sum((w.values[x] for x in before[1::2]), ZERO),
                           w.values[f"{c}.beginning_balance"]),
                  f"class {c} principal allocated (sequentially)",
                  f"min({payable} - {_sum(before[1::2])}, {c}.beginning_balance)",
                  (payable, *before[1::2], f"{c}.beginning_balance"))
        else:
            target = p.figures[f"targets.{c}"]
            w.evaluate(target)
            senior_after = sum((w.values[x] for x in before[0::2]), ZERO) - sum((w.values[x] for x in before[1::2]), ZERO)
            balance = w.values[f"{c}.beginning_balance"]
            by_target = min(balance, max(ZERO, senior_after + balance - max(ZERO, w.values[target])))
            w.let(due, min(w.values[payable] - sum((w.values[x] for x in before[1::2]), ZERO), by_target),
                  f"class {c} principal allocated: down to its target, with the classes before it",
                  f"min({payable} - {_sum(before[1::2])}, min({c}.beginning_balance, max(0.00, "
                  f"{_sum(before[0::2])} - {_sum(before[1::2])} + {c}.beginning_balance - max(0.00, {target}))))",
                  (payable, *before[1::2], f"{c}.beginning_balance", *before[0::2], target))
        before += [f"{c}.beginning_balance", due]
        drawn.append(due)
        w.pay(a.from_, due, f"Class {c} principal", c, f"class {c} principal paid", (f"{c}.paid.principal",))
        flow = f"flow[{len(w.steps)}]"
        w.let(f"{c}.principal_still_due", w.values[due] - w.values[flow],
              f"class {c} principal allocated that the {a.from_} account could not fund (due as extra principal)",
              f"{due} - {flow}", (due, flow))
        w.still_due[c] = f"{c}.principal_still_due"


def pay_extra_principal(w: Ledger, p: Prepared) -> None:
    for c, due in w.still_due.items():
        if w.values[due]:
            w.pay(p.action.from_, due, f"Class {c} extra principal", c, f"class {c} extra principal paid",
                  (f"{c}.paid.extra_principal",))


#: What each kind of class payment is called, what it says is owed, and the tally it adds to.
_DUE = {"unpaid_interest": ("unpaid interest", "interest still unpaid", "interest"),
        "writedown_reimbursement": ("unpaid realized loss amount", "written-down amount not yet repaid",
                                    "reimbursement"),
        "carryover": ("Net WAC rate carryover", "Net WAC carryover owed", "carryover")}


def pay_classes(w: Ledger, p: Prepared) -> None:
    a = p.action
    words, owed, tally = _DUE[a.pay]
    if a.pro_rata:  # what each is owed first, then each's share of what the account holds
        dues = _shared(w, p, [_owed(w, p, c, owed) for c in a.classes], f"{words} funds")
    for i, c in enumerate(a.classes):
        due = dues[i] if a.pro_rata else _owed(w, p, c, owed)
        w.pay(a.from_, due, f"Class {c} {words}", c, f"class {c} {words} paid", (f"{c}.paid.{tally}",))


def _owed(w: Ledger, p: Prepared, c: str, owed: str) -> str:
    """What class ``c`` is owed by the action, as a figure (its name)."""
    a = p.action
    due = f"{p.label}.{c}.due"
    if a.pay == "unpaid_interest":
        paid, flows = w.paid_so_far(f"{c}.paid.interest")
        owing = (f"{c}.unpaid_interest_before", f"{c}.current_interest")
        value = w.values[owing[0]] + w.values[owing[1]] - sum((w.values[x] for x in flows), ZERO)
        formula = f"{c}.unpaid_interest_before + {c}.current_interest - ({paid})"
        if f"{c}.accreted" in w.values:  # an accrual class: what it accreted is not owed
            value -= w.values[f"{c}.accreted"]
            formula += f" - {c}.accreted"
            owing += (f"{c}.accreted",)
        w.let(due, value, f"class {c} {owed}", formula, (*owing, *flows))
    elif a.pay == "writedown_reimbursement" and a.this_period:  # with this period's write-down
        paid, flows = w.paid_so_far(f"{c}.paid.reimbursement")
        owing = (f"{c}.unpaid_losses_before", f"{c}.writedown")
        w.let(due, w.values[owing[0]] + w.values[owing[1]] - sum((w.values[x] for x in flows), ZERO),
              f"class {c} {owed}, with this period's", f"{c}.unpaid_losses_before + {c}.writedown - ({paid})",
              (*owing, *flows))
    elif a.pay == "writedown_reimbursement":
        w.let(due, w.values[f"{c}.unpaid_losses_before"], f"class {c} {owed}", f"{c}.unpaid_losses_before",
              (f"{c}.unpaid_losses_before",))
    else:
        w.let(due, w.values[f"{c}.carryover_before"] + w.values[f"{c}.carryover_current"], f"class {c} {owed}",
              f"{c}.carryover_before + {c}.carryover_current", (f"{c}.carryover_before", f"{c}.carryover_current"))
    return due


def pay_rest(w: Ledger, p: Prepared) -> None:
    a = p.action
    words = "remaining excess cash flow" if a.pay == "residual" else "prepayment charges"
    w.pay(a.from_, w.balance[a.from_], f"Class {a.class_} {words}", a.class_, f"class {a.class_} {words} paid",
          (f"{a.class_}.paid.{a.pay}",))


def transfer(w: Ledger, p: Prepared) -> None:
    a = p.action
    if a.transfer == "amount":
        w.evaluate(p.figures["amount"])
        due = p.figures["amount"]
    else:
        due = w.balance[a.from_]
    payee, named = w.payee(a.to)
    w.pay(a.from_, due, a.description, payee, f"{a.description} (from {a.from_} to {a.to})",
          (f"transfers.{a.from_}.{a.to}",), transfer=a.to, named=named)


def allocate_losses(w: Ledger, p: Prepared) -> None:
    """Realized losses the overcollateralization does not absorb write down the classes in order."""
    certificates = [c for c in w.program.deal.classes if c.kind not in ("excess", "residual", "interest_only")]
    ends = [f"{c.name}.beginning_balance" for c in certificates]
    paid = [f"{c.name}.principal" for c in certificates]
    name = f"{p.label}.shortfall"
    w.let(name, sum((w.values[e] for e in ends), ZERO) - sum((w.values[x] for x in paid), ZERO)
          - w.values["pool.ending_balance"],
          "certificates after principal, beyond the ending pool balance (losses OC does not absorb)",
          f"({' + '.join(ends)}) - ({' + '.join(paid)}) - pool.ending_balance", (*ends, *paid, "pool.ending_balance"))
    left = name
    for c in p.action.classes:
        cut = f"{c}.writedown_now"
        end = w.values[f"{c}.beginning_balance"] - w.values[f"{c}.principal"]
        value = min(end, w.values[left]) if w.values[left] > 0 else ZERO
        w.let(cut, value, f"class {c} written down", f"if({left} > 0.00, min({c}.beginning_balance - {c}.principal, "
              f"{left}), 0.00)", (left, f"{c}.beginning_balance", f"{c}.principal"))
        w.tallies.setdefault(f"{c}.writedown", []).append(cut)
        after = f"{cut}.left"
        w.let(after, w.values[left] - value, "losses still to allocate", f"{left} - {cut}", (left, cut))
        left = after


def _sum(names: list[str]) -> str:
    """The sum of figures as a formula's term: ``0.00``, ``a``, or ``(a + b)``."""
    if not names:
        return "0.00"
    return names[0] if len(names) == 1 else f"({' + '.join(names)})"


#: One function for each kind of action, by its model.
RUN: dict[type, Callable[[Ledger, Prepared], None]] = {
    m.PayFees: pay_fees, m.PayAmount: pay_amount, m.PayInterest: pay_interest, m.PayPrincipal: pay_principal,
    m.PayExtraPrincipal: pay_extra_principal, m.PayClasses: pay_classes, m.PayRest: pay_rest,
    m.Transfer: transfer, m.AllocateLosses: allocate_losses,
}


def run(w: Ledger, p: Prepared) -> None:
    """Run an action, or, when its condition is false, its else actions."""
    w.current = p.path
    outer = w.because
    if "when" in p.figures:
        met = bool(w.evaluate(p.figures["when"]))
        w.because = outer + ((p.figures["when"], met),)
        if not met:
            for other in p.otherwise:
                run(w, other)
            w.because = outer
            return
    w.current = p.path
    RUN[type(p.action)](w, p)
    w.current, w.because = (), outer


__all__ = ["Ledger", "Dynamic", "run", "RUN"]
