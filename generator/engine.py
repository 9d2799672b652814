"""The deal engine: one distribution as a pure function of (deal, state, period).

The deal's priority of payments is data (``deal.waterfall``): an ordered tuple
of typed steps per fund, run by :func:`run_period`.  Nothing here knows a deal
by name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from . import calendar as cal
from .model import (CarryoverStep, Deal, ExtraPrincipalStep, FeesStep, InterestStep, Opening, Period,
                    PrincipalStep, ResidualStep, UnpaidInterestStep, WritedownStep)
from .number import MONTHS_PER_YEAR, THOUSAND, ZERO, cents, ratio
from .statement import Check, ClassResult, Statement, Step, TriggerTest

#: The payee of a transfer between funds (not cash leaving the trust).
INTERNAL = "excess cash flow"
DAYS_IN_YEAR_BASIS = Decimal(360)  # Actual/360
DAYS_IN_MONTH_BASIS = Decimal(30)  # the pool accrues 30/360


@dataclass(frozen=True, slots=True)
class State:
    """What one distribution leaves for the next."""

    distribution_date: dt.date
    pool_balance: Decimal
    loan_count: int
    balances: dict[str, Decimal]
    unpaid_interest: dict[str, Decimal]
    carryover: dict[str, Decimal]
    unpaid_losses: dict[str, Decimal]
    cumulative_losses: Decimal
    oc_target: Decimal | None
    stepdown_occurred: bool
    optional_termination_passed: bool = False
    trigger_history: tuple[tuple[str, bool], ...] = ()


def opening_state(deal: Deal, opening: Opening) -> State:
    """The state a deal's first period in ``inputs/`` starts from.  The excess class's
    notional is not an input: it is the pool balance less the certificates."""
    balances = {c.name: opening.class_balances.get(c.name, ZERO) for c in deal.classes}
    excess = _excess_class(deal)
    if excess:
        balances[excess] = max(ZERO, opening.pool_balance - _certificates(deal, balances))
    zero = {c.name: ZERO for c in deal.classes}
    return State(
        distribution_date=opening.previous_distribution_date,
        pool_balance=opening.pool_balance,
        loan_count=opening.loan_count,
        balances=balances,
        unpaid_interest={**zero, **opening.unpaid_interest},
        carryover={**zero, **opening.net_wac_carryover},
        unpaid_losses={**zero, **opening.unpaid_realized_losses},
        cumulative_losses=opening.cumulative_realized_losses,
        oc_target=opening.oc_target,
        stepdown_occurred=opening.stepdown_occurred,
    )


def _excess_class(deal: Deal) -> str | None:
    return next((c.name for c in deal.classes if c.kind == "excess"), None)


def _certificates(deal: Deal, balances: dict[str, Decimal]) -> Decimal:
    """Balances that the pool backs: every class but the excess (OC) and residual classes."""
    return sum((balances[c.name] for c in deal.classes if c.kind not in ("excess", "residual")), ZERO)


def _mezzanine(deal: Deal, balances: dict[str, Decimal]) -> Decimal:
    return sum((balances[c.name] for c in deal.classes if c.kind == "mezzanine"), ZERO)


def _senior(deal: Deal, balances: dict[str, Decimal]) -> Decimal:
    return sum((balances[c.name] for c in deal.classes if c.kind == "senior"), ZERO)


def distribution_date_for(deal: Deal, period: Period) -> dt.date:
    if period.distribution_date is not None:
        return period.distribution_date
    year, month = cal.period_month(period.period)
    return cal.distribution_date(year, month, deal.schedule.distribution_day, deal.schedule.holiday_calendar)


def _next_distribution_date(deal: Deal, date: dt.date) -> dt.date:
    year, month = cal.add_months(date.year, date.month, 1)
    return cal.distribution_date(year, month, deal.schedule.distribution_day, deal.schedule.holiday_calendar)


def accrual_interest(balance: Decimal, rate: Decimal, days: int) -> Decimal:
    """Actual/360 interest, rounded half-up to the cent."""
    return cents(balance * rate * Decimal(days) / DAYS_IN_YEAR_BASIS)


def monthly_fee(balance: Decimal, annual_rate: Decimal) -> Decimal:
    return cents(balance * annual_rate / MONTHS_PER_YEAR)


def net_wac_cap(wac: Decimal, fee_rate: Decimal, days: int) -> Decimal:
    """Pool net WAC (30/360) expressed on an Actual/360 basis for a period of ``days``."""
    return ratio((wac - fee_rate) * DAYS_IN_MONTH_BASIS, Decimal(days))


def pro_rata(amount: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Split a cash amount by weights to the cent; the rounding residue goes to the largest
    weight (ties to the first), so the parts always add up to ``amount``."""
    total = sum(weights.values(), ZERO)
    if not total or not amount:
        return {k: ZERO for k in weights}
    parts = {k: cents(amount * w / total) for k, w in weights.items()}
    residue = amount - sum(parts.values(), ZERO)
    if residue:
        largest = max(weights, key=lambda k: weights[k])
        parts[largest] += residue
    return parts


def oc_target(deal: Deal, state: State, stepdown: bool, trigger: bool, pool_end: Decimal) -> Decimal:
    rule = deal.overcollateralization
    cutoff = deal.cutoff_balance
    if rule.amount_before_stepdown is not None:
        before = rule.amount_before_stepdown
    else:
        before = cents(cutoff * rule.pct_of_cutoff_before_stepdown)
    if not stepdown or rule.pct_of_current_after_stepdown is None:
        return before
    if trigger and state.oc_target is not None:
        return state.oc_target
    floor = cents(cutoff * (rule.floor_pct_of_cutoff or ZERO))
    return max(cents(pool_end * rule.pct_of_current_after_stepdown), floor)


def allocate_principal(deal: Deal, order: tuple[str, ...], amount: Decimal, balances: dict[str, Decimal],
                       by_targets: bool, pool_end: Decimal, oc_target: Decimal = ZERO) -> dict[str, Decimal]:
    """Split the principal distribution amount among ``order``: sequentially, or (after the
    stepdown date, no trigger) so that each class with the classes senior to it stands at its
    target share of the pool, and never above what leaves the pool its OC target."""
    paid = {name: ZERO for name in order}
    left = amount
    floor = cents(deal.cutoff_balance * (deal.overcollateralization.floor_pct_of_cutoff or ZERO))
    outside = sum((balances.get(c.name, ZERO) for c in deal.classes
                   if c.name not in order and c.kind not in ("excess", "residual")), ZERO)
    room = pool_end - max(floor, oc_target) - outside  # what the classes in ``order`` may add up to
    senior_after = ZERO  # balances of classes already allocated, after their payment
    for name in order:
        balance = balances[name]
        if by_targets:
            pct = deal.cls(name).stepdown_target_pct
            allowed = max(ZERO, min(cents(pool_end * pct), room)) if pct is not None else ZERO
            due = min(balance, max(ZERO, senior_after + balance - allowed))
        else:
            due = balance
        pay = min(left, due)
        paid[name] = pay
        left -= pay
        senior_after += balance - pay
    return paid


class Funds:
    """A fund of cash that steps draw on; it records every draw as a :class:`Step`."""

    def __init__(self, section: str, amount: Decimal, ledger: list[Step]):
        self.section = section
        self.left = amount
        self.ledger = ledger

    def pay(self, description: str, payee: str, due: Decimal) -> Decimal:
        amount = min(self.left, max(ZERO, due))
        self.left -= amount
        self.ledger.append(Step(self.section, description, payee, amount, self.left))
        return amount


def run_period(deal: Deal, state: State, period: Period) -> tuple[Statement, State]:
    """Compute one distribution.  Pure: the same inputs give the same statement."""
    sched = deal.schedule
    date = distribution_date_for(deal, period)
    prev = state.distribution_date
    days = (date - prev).days
    number = cal.months_between(sched.first_distribution_date, date) + 1
    next_date = _next_distribution_date(deal, date)
    classes = deal.classes
    names = [c.name for c in classes]
    beg = dict(state.balances)
    coll = period.collections

    # ---- pool ----------------------------------------------------------------------
    pool_beg = state.pool_balance
    liq_balance = sum((l.balance for l in coll.liquidations), ZERO)
    liq_proceeds = sum((l.proceeds for l in coll.liquidations), ZERO)
    realized_losses = liq_balance - liq_proceeds
    prepayments = coll.curtailments + coll.payoffs.amount + liq_proceeds
    principal_remittance = (coll.scheduled_principal + coll.curtailments + coll.payoffs.amount + liq_proceeds
                            + coll.repurchases.amount)
    pool_end = (pool_beg - coll.scheduled_principal - coll.curtailments - coll.payoffs.amount - liq_balance
                - coll.repurchases.amount)
    loans_end = state.loan_count - coll.payoffs.count - len(coll.liquidations) - coll.repurchases.count
    cumulative_losses = state.cumulative_losses + realized_losses

    # ---- rates ---------------------------------------------------------------------
    fee_rate = sum((f.annual_rate for f in deal.fees), ZERO)
    net_wac = period.wac - fee_rate
    cap = net_wac_cap(period.wac, fee_rate, days)
    optional_termination = state.optional_termination_passed or (
        pool_beg <= cents(deal.cutoff_balance * deal.cleanup_call_pct))

    def margin_of(c) -> Decimal | None:
        if c.margin is None:
            return None
        if optional_termination and c.margin_after_optional_termination is not None:
            return c.margin_after_optional_termination
        return c.margin

    rates: dict[str, tuple] = {}
    for c in classes:
        m = margin_of(c)
        if m is None:
            rates[c.name] = (None, None, None, None, False)
            continue
        uncapped = period.index.current + m
        rate = min(uncapped, cap)
        rates[c.name] = (m, uncapped, rate, period.index.next + m, rate < uncapped)

    # ---- interest due --------------------------------------------------------------
    accrued = {n: ZERO for n in names}
    carry_current = {n: ZERO for n in names}
    for c in classes:
        m, uncapped, rate, _, binding = rates[c.name]
        if rate is None:
            continue
        accrued[c.name] = accrual_interest(beg[c.name], rate, days)
        if binding:
            carry_current[c.name] = accrual_interest(beg[c.name], uncapped, days) - accrued[c.name]
    sh = period.shortfalls
    ppis_uncovered = sh.prepayment_interest - min(sh.covered_by_servicer, sh.prepayment_interest)
    ppis_alloc = pro_rata(min(ppis_uncovered, sum(accrued.values(), ZERO)), accrued)
    relief_alloc = pro_rata(min(sh.relief_act, sum(accrued.values(), ZERO) - sum(ppis_alloc.values(), ZERO)),
                            accrued)
    current = {n: accrued[n] - ppis_alloc[n] - relief_alloc[n] for n in names}
    unpaid_before = dict(state.unpaid_interest)
    unpaid = dict(unpaid_before)
    interest_paid = {n: ZERO for n in names}

    ledger: list[Step] = []

    # ---- interest remittance ---------------------------------------------------------
    interest_funds = Funds("interest", coll.interest, ledger)
    if period.extraordinary_expenses:
        interest_funds.pay("Extraordinary trust fund expenses", "Trust", period.extraordinary_expenses)
    fees_paid: dict[str, Decimal] = {}
    for rule in deal.waterfall.interest:
        if isinstance(rule, FeesStep):
            for f in deal.fees:
                fees_paid[f.name] = interest_funds.pay(f"{f.name} fee", f.payee or f.name,
                                                       monthly_fee(pool_beg, f.annual_rate))
        elif isinstance(rule, InterestStep):
            due = {n: current[n] + (unpaid[n] if rule.include_unpaid else ZERO) for n in rule.classes}
            total_due = sum(due.values(), ZERO)
            available = min(interest_funds.left, total_due)
            split = due if available == total_due else pro_rata(available, due)
            label = "current and unpaid interest" if rule.include_unpaid else "current interest"
            for n in rule.classes:
                got = interest_funds.pay(f"Class {n} {label}", n, split[n])
                interest_paid[n] += got
                owed = due[n] - got
                unpaid[n] = owed if rule.include_unpaid else unpaid[n] + owed
    # interest left after fees and class interest is the excess cash flow
    excess_interest = interest_funds.pay("Remaining interest to excess cash flow", INTERNAL,
                                         interest_funds.left)

    # ---- stepdown and triggers (tested before principal is allocated) ----------------
    certs_beg = _certificates(deal, beg)
    oc_beg = pool_beg - certs_beg
    senior_beg = _senior(deal, beg)
    prior_enhancement = ratio(_mezzanine(deal, beg) + oc_beg, pool_beg)
    enhancement_test = ratio(pool_end - senior_beg, pool_end) if pool_end else ZERO
    stepdown = state.stepdown_occurred or (
        number >= deal.stepdown.earliest_distribution
        and enhancement_test >= deal.stepdown.senior_enhancement_target
    ) or (senior_beg == ZERO)
    seriously_delinquent = _sixty_plus(period)
    delinquency_pct = ratio(seriously_delinquent, pool_end)
    tr = deal.trigger
    tests = [TriggerTest("Delinquency", delinquency_pct,
                         prior_enhancement * tr.delinquency_fraction_of_senior_enhancement,
                         delinquency_pct > prior_enhancement * tr.delinquency_fraction_of_senior_enhancement)]
    loss_pct = ratio(cumulative_losses, deal.cutoff_balance)
    steps = [s for s in tr.cumulative_loss_schedule if s.from_distribution <= number]
    if steps:
        limit = steps[-1].pct_of_cutoff
        tests.append(TriggerTest("Cumulative losses", loss_pct, limit, loss_pct > limit))
    # Recorded every month; it changes the payment rules only from the stepdown date on (before it,
    # principal is sequential and the OC target fixed anyway).
    trigger = any(t.breached for t in tests)

    # ---- overcollateralization and the principal distribution amount -----------------
    target = oc_target(deal, state, stepdown, trigger, pool_end)
    oc_before = pool_end - (certs_beg - principal_remittance)
    deficiency = max(ZERO, target - oc_before)
    release = min(principal_remittance, max(ZERO, oc_before - target)) if not deficiency else ZERO
    net_excess = excess_interest + release
    has_extra = any(isinstance(r, ExtraPrincipalStep) for r in deal.waterfall.excess)
    extra = min(net_excess, deficiency) if has_extra else ZERO

    principal_funds = Funds("principal", principal_remittance, ledger)
    excess_funds = Funds("excess", excess_interest, ledger)
    principal_paid = {n: ZERO for n in names}
    extra_split: dict[str, Decimal] = {}
    basic = principal_remittance - release
    for rule in deal.waterfall.principal:
        assert isinstance(rule, PrincipalStep)
        payable = min(basic + extra, sum((beg[n] - principal_paid[n] for n in rule.classes), ZERO))
        split = allocate_principal(deal, rule.classes, payable, beg, stepdown and not trigger, pool_end, target)
        for n in rule.classes:
            got = principal_funds.pay(f"Class {n} principal", n, min(split[n], principal_funds.left))
            principal_paid[n] += got
            extra_split[n] = split[n] - got  # still due: paid as extra principal from excess
    if principal_funds.left:
        # OC release, and principal beyond what the certificates need, joins the excess cash flow
        release = principal_funds.pay("Principal not needed by the certificates, to excess cash flow",
                                      INTERNAL, principal_funds.left)
        excess_funds.left += release
        net_excess = excess_interest + release

    # ---- excess cash flow ------------------------------------------------------------
    reimbursed = {n: ZERO for n in names}
    carry_due = {n: state.carryover[n] + carry_current[n] for n in names}
    carry_paid = {n: ZERO for n in names}
    residual_paid = {n: ZERO for n in names}
    for rule in deal.waterfall.excess:
        if isinstance(rule, ExtraPrincipalStep):
            paid_extra = ZERO
            for n, due in extra_split.items():
                if due:
                    got = excess_funds.pay(f"Class {n} extra principal", n, due)
                    principal_paid[n] += got
                    paid_extra += got
            extra = paid_extra  # the OC increase is what was paid, never more
        elif isinstance(rule, UnpaidInterestStep):
            for n in rule.classes:
                got = excess_funds.pay(f"Class {n} unpaid interest", n, unpaid[n])
                unpaid[n] -= got
                interest_paid[n] += got
        elif isinstance(rule, WritedownStep):
            pending = dict(state.unpaid_losses)
            for n in rule.classes:
                reimbursed[n] = excess_funds.pay(f"Class {n} unpaid realized loss amount", n, pending[n])
        elif isinstance(rule, CarryoverStep):
            for n in rule.classes:
                carry_paid[n] = excess_funds.pay(f"Class {n} Net WAC rate carryover", n, carry_due[n])
        elif isinstance(rule, ResidualStep):
            residual_paid[rule.class_] = excess_funds.pay(f"Class {rule.class_} remaining excess cash flow",
                                                           rule.class_, excess_funds.left)

    charges_paid = {n: ZERO for n in names}
    charges_to = deal.waterfall.prepayment_charges_to
    if charges_to:
        charges = Funds("prepayment charges", coll.prepayment_charges, ledger)
        charges_paid[charges_to] = charges.pay(f"Class {charges_to} prepayment charges", charges_to,
                                               coll.prepayment_charges)

    # ---- balances, losses ----------------------------------------------------------------
    end = {n: beg[n] - principal_paid[n] for n in names}
    excess_class = _excess_class(deal)
    certs_end = _certificates(deal, end)
    writedown = {n: ZERO for n in names}
    shortfall = certs_end - pool_end
    for n in deal.waterfall.loss_allocation:
        if shortfall <= 0:
            break
        cut = min(end[n], shortfall)
        writedown[n] = cut
        end[n] -= cut
        shortfall -= cut
    certs_end = _certificates(deal, end)
    oc_end = pool_end - certs_end
    if excess_class:
        end[excess_class] = max(ZERO, oc_end)
        writedown[excess_class] = ZERO
    unpaid_losses_after = {n: state.unpaid_losses[n] - reimbursed[n] + writedown[n] for n in names}

    # ---- per-class results -----------------------------------------------------------------
    results = []
    for c in classes:
        n = c.name
        m, uncapped, rate, next_rate, binding = rates[n]
        if n == excess_class:
            interest = residual_paid[n]
            rate = ratio(interest * MONTHS_PER_YEAR, pool_beg)
        else:
            interest = interest_paid[n] + carry_paid[n] + residual_paid[n] + charges_paid[n]
        principal = principal_paid[n] if n != excess_class else ZERO
        losses = writedown[n] if n != excess_class else ZERO
        beginning = beg[n]  # the excess class's notional moves with OC; its "principal" is nil
        basis = {"original": c.original_balance, "current_notional": beginning, "none": None}[c.per_1000_basis]
        per = None
        if basis:
            k = basis / THOUSAND
            total = principal + interest + reimbursed[n]
            per = {"principal": ratio(principal, k), "interest": ratio(interest, k), "total": ratio(total, k),
                   "losses": ratio(losses, k), "ending_balance": ratio(end[n], k)}
        results.append(ClassResult(
            name=n, kind=c.kind, cusip=c.cusip, original_balance=c.original_balance,
            beginning_balance=beginning, principal=principal, losses=losses, ending_balance=end[n],
            index=period.index.current if m is not None else None, margin=m, uncapped_rate=uncapped,
            rate=rate, next_rate=next_rate, cap_binding=binding,
            current_interest=current[n], ppis_reduction=ppis_alloc[n], relief_act_reduction=relief_alloc[n],
            loss_reduction=ZERO, unpaid_interest_before=unpaid_before[n],
            interest_distribution=interest_paid[n] if n != excess_class else residual_paid[n],
            unpaid_interest_after=unpaid[n],
            carryover_before=state.carryover[n], carryover_current=carry_current[n], carryover_paid=carry_paid[n],
            carryover_after=carry_due[n] - carry_paid[n],
            unpaid_losses_before=state.unpaid_losses[n], writedown_reimbursed=reimbursed[n],
            unpaid_losses_after=unpaid_losses_after[n],
            interest=interest, total=principal + interest + reimbursed[n],
            per_1000_basis=basis / THOUSAND if basis else None, per_1000=per,
            factor=ratio(end[n], c.original_balance) if c.original_balance else None,
        ))

    def total_of(attr: str) -> Decimal:
        return sum(map(attrgetter(attr), results), ZERO)

    totals = {a: total_of(a) for a in ("beginning_balance", "principal", "losses", "ending_balance", "interest",
                                       "total", "interest_distribution", "unpaid_interest_after",
                                       "ppis_reduction", "relief_act_reduction", "loss_reduction",
                                       "carryover_current", "carryover_paid", "carryover_after",
                                       "writedown_reimbursed", "unpaid_losses_after")}
    # the interest-distribution table covers the classes that accrue or receive excess interest
    totals["interest_distribution"] = sum((r.interest_distribution for r in results
                                           if r.kind in ("senior", "mezzanine", "excess")), ZERO)

    cash_in = coll.interest + principal_remittance + coll.prepayment_charges
    cash_out = (sum(fees_paid.values(), ZERO) + period.extraordinary_expenses
                + sum((r.principal + r.interest + r.writedown_reimbursed for r in results), ZERO))
    mezz_end = _mezzanine(deal, end)
    enhancement = ratio(mezz_end + oc_end, pool_end)

    paid_out = sum((step.amount for step in ledger if step.payee != INTERNAL), ZERO)
    checks = [Check("cash: available = paid out", cash_in, paid_out),
              Check("cash: paid out = fees, expenses and class distributions", paid_out, cash_out)]
    for r in results:
        if r.name != excess_class:
            checks.append(Check(f"class {r.name}: end = beginning - principal - losses",
                                r.ending_balance, r.beginning_balance - r.principal - r.losses))
    checks.append(Check("pool: end = beginning - principal collected - liquidated balances",
                        pool_end, pool_beg - coll.scheduled_principal - coll.curtailments - coll.payoffs.amount
                        - coll.repurchases.amount - liq_balance))
    checks.append(Check("classes (with the OC notional) add up to the pool",
                        sum((r.ending_balance for r in results if r.kind != "residual"), ZERO), pool_end))
    checks.append(Check("OC end = OC beginning + increase - reduction - losses not written down",
                        oc_end, oc_beg + extra - release - realized_losses + sum(writedown.values(), ZERO)))

    new_state = State(
        distribution_date=date, pool_balance=pool_end, loan_count=loans_end, balances=end,
        unpaid_interest=unpaid, carryover={n: carry_due[n] - carry_paid[n] for n in names},
        unpaid_losses=unpaid_losses_after, cumulative_losses=cumulative_losses, oc_target=target,
        stepdown_occurred=stepdown, optional_termination_passed=optional_termination,
        trigger_history=state.trigger_history + ((period.period, trigger),),
    )
    dq = period.delinquency
    statement = Statement(
        deal_id=deal.id, period=period.period, distribution_number=number, distribution_date=date,
        previous_distribution_date=prev, next_distribution_date=next_date,
        record_date=cal.record_date(date, sched.holiday_calendar), accrual_days=days,
        index_rate=period.index.current, next_index_rate=period.index.next, net_wac=net_wac, net_wac_cap=cap,
        classes=tuple(results), totals=totals, fees=fees_paid,
        pool={
            "beginning_balance": pool_beg, "ending_balance": pool_end, "beginning_count": state.loan_count,
            "ending_count": loans_end, "scheduled_principal": coll.scheduled_principal,
            "curtailments": coll.curtailments, "payoffs": coll.payoffs.amount, "payoff_count": coll.payoffs.count,
            "liquidation_proceeds": liq_proceeds, "liquidated_balance": liq_balance,
            "repurchases": coll.repurchases.amount, "prepayments": prepayments,
            "principal_remittance": principal_remittance, "interest_remittance": coll.interest,
            "prepayment_charges": coll.prepayment_charges, "wac": period.wac, "remaining_term": period.remaining_term,
            "stated_balance_excluding_reo": pool_end - period.reo.stated_balance,
            "cleanup_call_threshold": cents(deal.cutoff_balance * deal.cleanup_call_pct),
            "cleanup_call_exercisable": pool_end <= cents(deal.cutoff_balance * deal.cleanup_call_pct),
            "cutoff_balance": deal.cutoff_balance,
        },
        delinquency={k: {"count": getattr(dq, k).count, "unpaid_balance": getattr(dq, k).unpaid_balance,
                         "stated_balance": getattr(dq, k).stated_balance}
                     for k in ("days_30_59", "days_60_89", "days_90_plus", "foreclosure", "bankruptcy",
                               "bankruptcy_60_plus")},
        reo={"stated_balance": period.reo.stated_balance, "book_value": period.reo.book_value,
             "new": [{"loan": r.loan, "unpaid_balance": r.unpaid_balance, "stated_balance": r.stated_balance}
                     for r in period.reo.new],
             "principal_amortization": period.reo.principal_amortization},
        losses={"realized": realized_losses, "bankruptcy": period.bankruptcy_losses, "cumulative": cumulative_losses,
                "cumulative_pct": loss_pct,
                "liquidated": [{"loan": l.loan, "balance": l.balance, "proceeds": l.proceeds,
                                "loss": l.balance - l.proceeds, "severity": ratio(l.balance - l.proceeds, l.balance)}
                               for l in coll.liquidations],
                "severity": ratio(realized_losses, liq_balance)},
        shortfalls={"ppis": sh.prepayment_interest, "ppis_covered": min(sh.covered_by_servicer, sh.prepayment_interest),
                    "ppis_not_covered": ppis_uncovered, "relief_act": sh.relief_act},
        oc={"target": target, "beginning": oc_beg, "before_distribution": oc_before, "deficiency": deficiency,
            "increase": extra, "reduction": release, "ending": oc_end},
        performance={"net_monthly_excess_cash_flow": net_excess, "delinquency_pct": delinquency_pct,
                     "sixty_plus_balance": seriously_delinquent, "credit_enhancement_pct": enhancement,
                     "prior_credit_enhancement_pct": prior_enhancement, "stepdown_test_pct": enhancement_test,
                     "stepdown": stepdown, "trigger": trigger, "optional_termination": optional_termination},
        triggers=tuple(tests),
        cash={"available": cash_in, "distributed": cash_out, "interest_left": interest_funds.left,
              "principal_left": principal_funds.left, "excess_left": excess_funds.left},
        waterfall=tuple(ledger), checks=tuple(checks), advances=period.advances,
        extraordinary_expenses=period.extraordinary_expenses, deficiencies=period.deficiencies,
    )
    return statement, new_state


def _sixty_plus(period: Period) -> Decimal:
    """Stated balance of loans 60 or more days delinquent, in foreclosure, REO or bankrupt and 60+."""
    dq = period.delinquency
    return (dq.days_60_89.stated_balance + dq.days_90_plus.stated_balance + dq.foreclosure.stated_balance
            + dq.bankruptcy_60_plus.stated_balance + period.reo.stated_balance)
