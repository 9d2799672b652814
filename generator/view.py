"""The statement as a view over a run's figures, and the checks every statement must pass.

:func:`statement` builds the format-neutral :class:`~generator.statement.Statement` that the
templates and the JSON record read, taking each value by its figure's name from the
:class:`~generator.engine.Run`: nothing is computed here that a figure does not hold.
:func:`checks` ties the statement out (the record's checks), and :func:`invariants` holds
the waterfall to its rules; a statement that fails either is never written.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from .number import ZERO
from .statement import Check, ClassResult, Statement, TriggerTest

#: Each class's figures, as ClassResult names them.
CLASS_FIELDS = ("beginning_balance", "principal", "losses", "ending_balance", "index", "margin", "uncapped_rate",
                "rate", "next_rate", "cap", "cap_binding", "current_interest", "ppis_reduction", "relief_act_reduction",
                "loss_reduction", "unpaid_interest_before", "interest_distribution", "unpaid_interest_after",
                "carryover_before", "carryover_current", "carryover_paid", "carryover_after", "unpaid_losses_before",
                "writedown_reimbursed", "unpaid_losses_after", "interest", "total", "per_1000_basis", "factor")
PER_1000 = ("principal", "interest", "total", "losses", "ending_balance")
TOTALS = ("beginning_balance", "principal", "losses", "ending_balance", "interest", "total", "interest_distribution",
          "unpaid_interest_after", "ppis_reduction", "relief_act_reduction", "loss_reduction", "carryover_current",
          "carryover_paid", "carryover_after", "writedown_reimbursed", "unpaid_losses_after")
POOL = ("beginning_balance", "ending_balance", "beginning_count", "ending_count", "scheduled_principal",
        "curtailments", "payoffs", "payoff_count", "liquidation_proceeds", "liquidated_balance", "repurchases",
        "prepayments", "principal_remittance", "interest_remittance", "prepayment_charges", "wac", "remaining_term",
        "stated_balance_excluding_reo", "cleanup_call_threshold", "cleanup_call_exercisable", "cutoff_balance",
        "beginning_factor", "factor")
BUCKETS = ("days_30_59", "days_60_89", "days_90_plus", "foreclosure", "bankruptcy", "bankruptcy_60_plus")
OC = ("target", "beginning", "before_distribution", "deficiency", "increase", "reduction", "ending")
PERFORMANCE = ("net_monthly_excess_cash_flow", "delinquency_pct", "sixty_plus_balance", "credit_enhancement_pct",
               "prior_credit_enhancement_pct", "stepdown_test_pct", "stepdown", "trigger", "optional_termination")
CASH = ("available", "distributed", "interest_left", "principal_left", "excess_left")
TOP = ("accrual_days", "index_rate", "next_index_rate", "net_wac", "net_wac_cap")
#: Each delinquency bucket's figures; a liquidated loan's; a loan that became REO's.
BUCKET_FIELDS = ("count", "unpaid_balance", "stated_balance")
LIQUIDATED = ("loan", "balance", "proceeds", "loss", "severity")
REO_NEW = ("loan", "unpaid_balance", "stated_balance")
#: The losses' and shortfalls' figures (the losses' list of liquidated loans beside them).
LOSSES = ("realized", "bankruptcy", "cumulative", "cumulative_pct", "severity")
SHORTFALLS = ("ppis", "ppis_covered", "ppis_not_covered", "relief_act")

#: The figures a statement shows, which the deal or the prelude must define ({c}: each class).
REQUIRED = (TOP + tuple(f"pool.{k}" for k in POOL) + tuple(f"oc.{k}" for k in OC)
            + tuple(f"performance.{k}" for k in PERFORMANCE) + tuple(f"cash.{k}" for k in CASH)
            + tuple(f"totals.{k}" for k in TOTALS)
            + tuple(f"losses.{k}" for k in LOSSES) + tuple(f"shortfalls.{k}" for k in SHORTFALLS[:3])
            + tuple(f"{{c}}.{k}" for k in CLASS_FIELDS))


def statement(run: Any) -> Statement:
    """The run's statement, every value a figure of the run."""
    v = run.values
    deal, program = run.deal, run.program
    classes = tuple(_class(v, c) for c in deal.classes)
    liquidated = [{k: v[f"losses.liquidated[{i}].{k}"] for k in LIQUIDATED}
                  for i in range(len(v["collections.liquidations"]))]
    named = ((t.name, f"triggers.{program.keys[f'trigger:{t.name}']}") for t in deal.triggers)
    tests = tuple(TriggerTest(name, v[f"{k}.value"], v[f"{k}.threshold"], v[f"{k}.breached"])
                  for name, k in named if v[f"{k}.threshold"] is not None)
    s = Statement(
        deal_id=deal.id, period=run.period.period, distribution_number=v["distribution_number"],
        distribution_date=v["distribution_date"], previous_distribution_date=v["previous_distribution_date"],
        next_distribution_date=v["next_distribution_date"], record_date=v["record_date"],
        accrual_days=v["accrual_days"], index_rate=v["index_rate"], next_index_rate=v["next_index_rate"],
        net_wac=v["net_wac"], net_wac_cap=v["net_wac_cap"], classes=classes,
        totals={k: v[f"totals.{k}"] for k in TOTALS},
        fees={fee.name: v[f"fees.{program.keys[f'fee:{fee.name}']}.paid"] for fee in deal.fees},
        fees_unpaid={fee.name: v[f"fees.{program.keys[f'fee:{fee.name}']}.unpaid_after"] for fee in deal.fees},
        pool={k: v[f"pool.{k}"] for k in POOL},
        delinquency={b: {k: v[f"delinquency.{b}.{k}"] for k in BUCKET_FIELDS} for b in BUCKETS},
        reo={"stated_balance": v["reo.stated_balance"], "book_value": v["reo.book_value"],
             "new": [{k: v[f"reo.new[{i}].{k}"] for k in REO_NEW} for i in range(len(v["reo.new"]))],
             "principal_amortization": v["reo.principal_amortization"]},
        losses={**{k: v[f"losses.{k}"] for k in LOSSES[:4]}, "liquidated": liquidated, "severity": v["losses.severity"]},
        shortfalls={k: v[f"shortfalls.{k}"] for k in SHORTFALLS},
        oc={k: v[f"oc.{k}"] for k in OC},
        performance={k: v[f"performance.{k}"] for k in PERFORMANCE},
        triggers=tests,
        cash={k: v[f"cash.{k}"] for k in CASH},
        waterfall=tuple(run.ledger.steps), checks=(), advances=v["advances"],
        extraordinary_expenses=v["extraordinary_expenses"], deficiencies=v["deficiencies"], extra=_extra(run),
        kinds={name: program.type_of(name) or "" for name in deal.report},
    )
    return _with_checks(s, run)


#: Each loan group's figures, as the statement shows them: (its key there, the figure).
GROUP_FIELDS = (("beginning_balance", "pool.beginning_balance"), ("ending_balance", "pool.ending_balance"),
                ("beginning_count", "pool.beginning_count"), ("ending_count", "pool.ending_count"),
                ("interest_remittance", "pool.interest_remittance"),
                ("scheduled_principal", "collections.scheduled_principal"), ("curtailments", "collections.curtailments"),
                ("payoffs", "collections.payoffs.amount"), ("liquidated_balance", "pool.liquidated_balance"),
                ("liquidation_proceeds", "pool.liquidation_proceeds"),
                ("principal_remittance", "pool.principal_remittance"), ("realized_losses", "losses.realized"),
                ("wac", "pool.wac"), ("remaining_term", "remaining_term"),
                ("sixty_plus_balance", "performance.sixty_plus_balance"),
                ("delinquency_pct", "performance.delinquency_pct"), ("factor", "pool.factor"))
#: A carried or drawn account's figures, as the statement's roll-forward shows them.
ACCOUNT_FIELDS = ("beginning", "deposit", "drawn", "received", "withdrawn", "balance", "target", "floor")
#: A swap's and a cap's figures, as the statement's hedges show them.
SWAP_FIELDS, CAP_FIELDS = ("notional", "payment", "receipt"), ("notional", "receipt")


def shown_beyond(deal: Any) -> set[str]:
    """The figures the statement shows beyond the standard ones, by the deal's parts (each
    carried or drawn account's, each loan group's, each swap's and cap's): what :func:`_extra`
    puts in the record."""
    names = {f"accounts.{a.name}.{k}" for a in deal.accounts if a.carried or a.draw for k in ACCOUNT_FIELDS}
    names |= {f"groups.{g.name}.{name}" for g in deal.groups for _, name in GROUP_FIELDS}
    names |= {f"swaps.{sw.name}.{k}" for sw in deal.swaps for k in SWAP_FIELDS}
    return names | {f"caps.{cap.name}.{k}" for cap in deal.caps for k in CAP_FIELDS}


def _extra(run: Any) -> dict[str, Any]:
    """What the deal has beyond the standard statement (each part only when it has it)."""
    v, deal = run.values, run.deal
    out: dict[str, Any] = {}
    bearing = [c for c in deal.classes if c.coupon is not None]
    # every class's terms, once one class's differ from a floating Actual/360 coupon without a floor
    if any((c.coupon.kind, c.coupon.day_count, c.coupon.floor) != ("floating", "actual/360", None)
           or c.accretes is not None for c in bearing):
        out["coupons"] = {c.name: {"kind": c.coupon.kind, "day_count": c.coupon.day_count,
                                   "accrual_days": v[f"{c.name}.accrual_days"], "floor": c.coupon.floor,
                                   **({"accreted": v[f"{c.name}.accreted"]} if c.accretes is not None else {})}
                          for c in bearing}
    accounts = {}
    for a in deal.accounts:
        if a.carried or a.draw:
            k = f"accounts.{a.name}"
            shown = {name: v[f"{k}.{name}"] for name in ACCOUNT_FIELDS if f"{k}.{name}" in v}
            accounts[a.name] = {"label": a.label or a.name.replace("_", " "), **shown}
    if accounts:
        out["accounts"] = accounts
    if deal.groups:
        out["groups"] = {g.name: {"label": g.label, **{k: v[f"groups.{g.name}.{name}"] for k, name in GROUP_FIELDS}}
                         for g in deal.groups}
    hedges = {f"swap {sw.name}": {"counterparty": sw.counterparty,
                                  **{k: v[f"swaps.{sw.name}.{k}"] for k in SWAP_FIELDS}}
              for sw in deal.swaps}
    hedges.update({f"cap {cap.name}": {"counterparty": cap.counterparty,
                                       **{k: v[f"caps.{cap.name}.{k}"] for k in CAP_FIELDS}}
                   for cap in deal.caps})
    if hedges:
        out["hedges"] = hedges
    if deal.report:
        out["figures"] = {name: v[name] for name in deal.report}
    if v.get("determination_date") is not None:
        out["determination_date"] = v["determination_date"]
    return out


def _class(v: dict[str, Any], c: Any) -> ClassResult:
    n = c.name
    basis = v[f"{n}.per_1000_basis"]
    per = {k: v[f"{n}.per_1000.{k}"] for k in PER_1000} if basis is not None else None
    return ClassResult(name=n, kind=c.kind, cusip=c.cusip, original_balance=c.original_balance,
                       **{k: v[f"{n}.{k}"] for k in CLASS_FIELDS if k not in ("per_1000_basis",)},
                       per_1000_basis=basis, per_1000=per)


def _with_checks(s: Statement, run: Any) -> Statement:
    return replace(s, checks=tuple(checks(s, run)))


def checks(s: Statement, run: Any) -> list[Check]:
    """The statement's reconciliation, as its record lists it: cash in equals cash out, each class
    and the pool roll forward, the classes add up to the pool, OC rolls forward."""
    v = run.values
    paid_out = sum((step.amount for i, step in enumerate(s.waterfall) if i not in run.ledger.transfers), ZERO)
    out = [Check("cash: available = paid out", s.cash["available"], paid_out),
           Check("cash: paid out = fees, expenses and class distributions", paid_out, s.cash["distributed"])]
    for r in s.classes:
        if r.kind == "interest_only":
            if run.previous is not None:
                out.append(Check(f"class {r.name}: notional = last distribution's ending notional",
                                 r.beginning_balance, run.previous.values[f"{r.name}.ending_balance"]))
        elif r.kind != "excess" and f"{r.name}.accreted" in v:
            out.append(Check(f"class {r.name}: end = beginning - principal - losses + interest accreted",
                             r.ending_balance, r.beginning_balance - r.principal - r.losses + v[f"{r.name}.accreted"]))
        elif r.kind != "excess":
            out.append(Check(f"class {r.name}: end = beginning - principal - losses",
                             r.ending_balance, r.beginning_balance - r.principal - r.losses))
    pool = s.pool
    out.append(Check("pool: end = beginning - principal collected - liquidated balances", pool["ending_balance"],
                     pool["beginning_balance"] - v["collections.scheduled_principal"] - v["collections.curtailments"]
                     - v["collections.payoffs.amount"] - v["collections.repurchases.amount"]
                     - pool["liquidated_balance"]))
    out.append(Check("classes (with the OC notional) add up to the pool",
                     sum((r.ending_balance for r in s.classes if r.kind not in ("residual", "interest_only")), ZERO),
                     pool["ending_balance"]))
    groups = s.extra.get("groups")
    if groups:
        out.append(Check("groups add up to the pool", sum((g["ending_balance"] for g in groups.values()), ZERO),
                         pool["ending_balance"]))
    out.append(Check("OC end = OC beginning + increase - reduction - losses not written down", s.oc["ending"],
                     s.oc["beginning"] + s.oc["increase"] - s.oc["reduction"] - s.losses["realized"]
                     + sum((r.losses for r in s.classes), ZERO)))
    return out


def invariants(s: Statement, run: Any) -> list[str]:
    """What the waterfall's rules guarantee, checked on the figures: no payment beyond what its
    account held or what was due, principal within the principal distribution amount (and what
    the classes could not take accounted for), every account rolled forward, nothing negative.
    Each failure names both numbers."""
    v, w = run.values, run.ledger
    out: list[str] = []
    for n, due in w.dues:
        step = s.waterfall[n - 1]
        available = step.amount + step.remaining
        if step.amount > max(ZERO, v[due]):
            out.append(f"flow[{n}] ({step.description}) pays {_m(step.amount)}, more than is due {_m(v[due])}")
        if step.remaining < 0:
            out.append(f"flow[{n}] ({step.description}) pays {_m(step.amount)}, more than its account held "
                       f"{_m(available)}")
    out += _principal(run)
    for account in run.program.accounts:
        out += _rolled_forward(run, account)
    for r in s.classes:
        for name in ("ending_balance", "unpaid_interest_after", "carryover_after", "unpaid_losses_after"):
            value = getattr(r, name)
            if value is not None and value < 0:
                out.append(f"class {r.name} {name.replace('_', ' ')} is {_m(value)}, below zero")
    for name in AMOUNTS:
        if v.get(name) is not None and v[name] < 0:
            out.append(f"{name} is {_m(v[name])}, below zero (a deal's rule for it gives a negative amount)")
    return out


#: The amounts a deal's rules give that are never below zero: a target, what is owed or moved.
AMOUNTS = ("oc.target", "oc.deficiency", "oc.increase", "oc.reduction", "principal_distribution_amount",
           "pool.cleanup_call_threshold")


def _principal(run: Any) -> list[str]:
    v, w = run.values, run.ledger
    out = []
    pda = v.get("principal_distribution_amount")
    paid_all = sum((v[f"{c.name}.paid.principal"] + v[f"{c.name}.paid.extra_principal"] for c in run.deal.classes),
                   ZERO)
    if pda is not None and paid_all > pda:
        out.append(f"principal paid to the classes {_m(paid_all)} is more than the principal distribution amount "
                   f"{_m(pda)} ({_m(paid_all - pda)} over)")
    for budget, allocated in w.allocated.items():
        amount = v[w.budgets[budget]]
        total = sum((v[x] for x in allocated), ZERO)
        if total > amount:
            out.append(f"principal allocated {_m(total)} is more than the principal distribution amount {_m(amount)} "
                       f"({budget}; {_m(total - amount)} over)")
        classes = [x.split(".")[-2] for x in allocated]
        paid = sum((v[f"{c}.paid.principal"] + v[f"{c}.paid.extra_principal"] for c in classes), ZERO)
        if paid > total:
            out.append(f"principal paid to the classes {_m(paid)} is more than was allocated to them {_m(total)}")
        unfunded = sum((v[f"{c}.principal_still_due"] for c in classes if f"{c}.principal_still_due" in v), ZERO)
        extra = sum((v[f"{c}.paid.extra_principal"] for c in classes), ZERO)
        if extra > unfunded:
            out.append(f"extra principal paid {_m(extra)} is more than the principal still due {_m(unfunded)}")
    return out


def _rolled_forward(run: Any, account: str) -> list[str]:
    v, w = run.values, run.ledger
    section = w.section(account)
    deposit = (v[f"accounts.{account}.deposit"] + v.get(f"accounts.{account}.beginning", ZERO)
               + v.get(f"accounts.{account}.drawn", ZERO))
    out_ = sum((step.amount for step in w.steps if step.section == section), ZERO)
    incoming = sum((v[f"transfers.{a}.{account}"] for a in run.program.accounts if a != account), ZERO)
    ending = v[f"accounts.{account}.balance"]
    problems = []
    if deposit + incoming - out_ != ending:
        problems.append(f"the {account} account does not roll forward: held and deposited {_m(deposit)} + "
                        "transferred in "
                        f"{_m(incoming)} - paid out {_m(out_)} = {_m(deposit + incoming - out_)}, but it holds "
                        f"{_m(ending)}")
    if ending < 0:
        problems.append(f"the {account} account ends below zero: {_m(ending)}")
    if out_ != v[f"accounts.{account}.withdrawn"]:
        problems.append(f"the {account} account's withdrawals {_m(v[f'accounts.{account}.withdrawn'])} are not "
                        f"what its flow of funds lines paid out {_m(out_)}")
    return problems


def _m(value: Decimal) -> str:
    return f"{value:,.2f}"


__all__ = ["statement", "checks", "invariants", "REQUIRED"]
