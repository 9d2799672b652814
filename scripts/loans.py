"""Loan-by-loan simulation for the seeded period writers (make_synthetic.py, make_two_group.py):
a group of mortgage loans from its cut-off date, month by month, with the servicer's view of
each loan (its tape row), and the servicer's totals of them (its remittance report).

What happens to a loan in a month:

* it amortizes: a level monthly payment of principal and interest (cents, half up), the
  interest ``cents(balance * note_rate / 12)``; its stated balance falls by the scheduled
  principal whether the borrower paid or the servicer advanced it;
* it may pay in full (the month's payoffs are drawn loan by loan, in a random order that may
  lean to the higher note rates, until they make up the month's CPR of the performing
  balance, less the curtailments) or make a curtailment (a partial prepayment);
* the borrower may miss installments: the count of unpaid installments rolls current ->
  30 -> 60 -> 90+ days, with cures; 90+ loans are referred to foreclosure; foreclosures are
  reinstated, redeemed (paid in full) or go to REO; REO is liquidated at a loss;
  bankruptcy is a state of its own; the rates of each step rise in the stress months;
* the loans of a loss wave follow a set path from their first missed installment to their
  liquidation (the story's losses, in the story's months);
* the servicer advances a delinquent loan's installment (P&I), unless it has stopped
  advancing; in a servicing disruption its remittance leaves out the interest of some loans;
* an adjustable loan's rate resets to the index plus its margin, within its floor and cap.

Every amount, rate and balance is a Decimal; probabilities are whole numbers out of
PER (random integers, never floats), so the same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Callable, Iterable

from story import cents, money, month

PER = 100_000  # probabilities are given out of PER
EIGHTH = Decimal("0.00125")  # note rates move in eighths of a percent
ZERO = Decimal("0.00")

#: A tape row's status, by the loan's state at the as-of date.
CURRENT, DAYS_30, DAYS_60, DAYS_90, FORECLOSURE, REO, BANKRUPTCY, PAID, LIQUIDATED = (
    "current", "days_30", "days_60", "days_90_plus", "foreclosure", "reo", "bankruptcy", "paid_in_full", "liquidated")


def chance(rng: random.Random, p: int) -> bool:
    """True with probability ``p`` / PER."""
    return rng.randrange(PER) < p


def smm(cpr: Decimal) -> Decimal:
    """Single monthly mortality from an annual conditional prepayment rate."""
    with localcontext() as ctx:
        ctx.prec = 28
        return 1 - (1 - cpr) ** (Decimal(1) / 12)


def level_payment(balance: Decimal, rate: Decimal, term: int) -> Decimal:
    """The monthly payment that pays ``balance`` off over ``term`` months at ``rate`` a year."""
    r = rate / 12
    if term <= 1:
        return cents(balance * (1 + r))
    with localcontext() as ctx:
        ctx.prec = 34
        return cents(balance * r / (1 - (1 + r) ** -term))


def as_of(first: tuple[int, int], t: int) -> dt.date:
    """The as-of date of the t-th distribution's tape: the last day of the month before it."""
    y, m = (int(x) for x in month(first, t).split("-"))
    return dt.date(y, m, 1) - dt.timedelta(days=1)


def due_date(asof: dt.date, missed: int) -> dt.date:
    """The oldest unpaid due date of a loan ``missed`` installments behind at ``asof`` (due the
    1st of each month; with none missed, the next one, the 1st after ``asof``)."""
    index = asof.year * 12 + asof.month - missed  # the month after asof, less missed, zero-based
    return dt.date(index // 12, index % 12 + 1, 1)


def cutoff_balances(rng: random.Random, n: int, total: Decimal, low: Decimal, high: Decimal,
                    draw: Callable[[random.Random], int]) -> list[Decimal]:
    """``n`` cut-off balances from ``low`` to ``high`` adding up to ``total`` exactly: each
    loan's share of the range drawn by ``draw`` (millionths), scaled (whole cents) so that
    they add up, clipped to the range, the last cents spread one by one."""
    lo, hi, want = int(low * 100), int(high * 100), int(total * 100)
    shares = [draw(rng) for _ in range(n)]
    span = hi - lo

    def amounts(scale: int) -> list[int]:  # scale in millionths
        return [lo + min(span, span * s * scale // 10**12) for s in shares]

    a, b = 0, 10**7  # the scale that adds up: a bisection in whole millionths
    while b - a > 1:
        mid = (a + b) // 2
        a, b = (mid, b) if sum(amounts(mid)) <= want else (a, mid)
    values = amounts(a)
    left = want - sum(values)
    i = 0
    while left:
        if values[i % n] < hi:
            values[i % n] += 1
            left -= 1
        i += 1
    return [Decimal(v).scaleb(-2) for v in values]


def aim_rates(rng: random.Random, balances: list[Decimal], rates: list[Decimal], wac: Decimal) -> list[Decimal]:
    """``rates`` moved an eighth at a time, loan by loan in random order, until their average
    weighted by ``balances`` is as near ``wac`` as an eighth on one loan can bring it."""
    rates = list(rates)
    gap = wac * sum(balances, ZERO) - sum((r * b for r, b in zip(rates, balances)), ZERO)
    order = list(range(len(rates)))
    while True:
        rng.shuffle(order)
        moved = False
        for i in order:
            step = EIGHTH * balances[i]
            if abs(gap) * 2 > step and rates[i] > EIGHTH * 8:
                sign = 1 if gap > 0 else -1
                rates[i] += sign * EIGHTH
                gap -= sign * step
                moved = True
        if not moved:
            return rates


# --------------------------------------------------------------------------- loans


@dataclass(slots=True)
class Arm:
    """An adjustable loan's terms: margin over the index, floor and life cap (fractions)."""

    margin: Decimal
    floor: Decimal
    cap: Decimal

    def reset(self, index: Decimal) -> Decimal:
        """The new note rate: the index plus the margin to the nearest eighth, within floor and cap."""
        eighths = ((index + self.margin) / EIGHTH).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return min(self.cap, max(self.floor, eighths * EIGHTH))


@dataclass(slots=True)
class Loan:
    id: str
    group: str
    balance: Decimal            # stated principal balance (after the last scheduled payment)
    rate: Decimal               # note rate, a fraction to 5 places
    term: int                   # scheduled payments left, the next one due included
    original: Decimal           # original balance (prepayment charges are on it)
    state_code: str             # the property's state
    payment: Decimal = ZERO     # level monthly principal and interest
    state: str = "performing"   # performing, bankruptcy, foreclosure, reo, gone
    arrears: list[Decimal] = field(default_factory=list)  # principal of each unpaid installment, oldest first
    months_in_state: int = 0
    reo_book: Decimal = ZERO
    modified: bool = False
    protected: bool = False     # never prepays nor defaults (keeps a long copy of the deal alive)
    path: tuple[str, ...] | None = None  # a loss-wave loan's states, one a month from ``path_start``
    path_start: int = 0
    charge: bool = False        # carries a prepayment charge
    relief: range | None = None  # months of Servicemembers Civil Relief Act rate relief
    arm: Arm | None = None

    def __post_init__(self) -> None:
        self.payment = level_payment(self.balance, self.rate, self.term)


@dataclass(frozen=True, slots=True)
class Row:
    """One loan's line of the servicer's tape for a month."""

    id: str
    group: str
    beginning: Decimal
    scheduled: Decimal
    curtailment: Decimal
    payoff: Decimal
    liquidated: Decimal
    proceeds: Decimal
    ending: Decimal
    actual: Decimal
    interest: Decimal
    advance: Decimal
    charge: Decimal
    ppis: Decimal
    compensating: Decimal
    relief: Decimal
    rate: Decimal
    remaining_term: int
    next_due: dt.date
    status: str
    reo_book: Decimal
    modified: bool
    state_code: str


@dataclass(frozen=True)
class Behavior:
    """How a group's borrowers pay, per PER a month; the stress multiplier raises the odds
    marked so (new delinquencies and the rolls to a later bucket), the cures make room."""

    miss: int = 1200             # a current borrower misses the installment (stressed)
    cure_1: int = 45000          # one behind: pays both (current again)
    roll_1: int = 23000          # one behind: misses again (stressed); else pays one, still one behind
    cure_2: int = 15000
    back_2: int = 10000          # two behind: pays two (one behind)
    roll_2: int = 42000          # (stressed)
    cure_3: int = 6000           # three or more behind
    roll_3: int = 54000          # (stressed)
    refer: int = 25000           # four or more behind: referred to foreclosure
    to_bankruptcy: int = 30      # a current borrower files
    to_bankruptcy_late: int = 800  # a delinquent one (stressed)
    bk_pay: int = 75000          # in bankruptcy: pays the plan's installment; else misses
    bk_cure: int = 5000
    bk_exit: int = 6000          # the case ends (dismissed, discharged): back to performing
    reinstate: int = 7000        # in foreclosure: the arrears are paid
    redeem: int = 4000           # in foreclosure: paid in full
    to_reo: int = 800            # in foreclosure (after min_foreclosure months): the property goes to the trust
    min_foreclosure: int = 4
    sell_reo: int = 45000        # REO sold (after a month at least)
    curtail: int = 1000          # a current borrower makes a partial prepayment
    refi_tilt: int = 0           # payoffs lean to the higher note rates: this much (per PER) of a draw per eighth
    charge_off: int = 0          # a performing loan this many installments behind is charged off (its
    # collateral repossessed and sold: liquidated) at the start of the month; 0: never (mortgages)
    stressed: tuple[str, ...] = ("miss", "roll_1", "roll_2", "roll_3", "to_bankruptcy_late")


@dataclass
class Month:
    """The macro inputs of one month for one group."""

    t: int
    cpr: Decimal
    stress: Decimal = Decimal(1)
    advancing: bool = True       # the servicer advances delinquent loans' P&I
    remitted: int = PER          # the share (per PER) of the interest due that the remittance carries (a
    # servicing disruption leaves the rest out, loan by loan)
    reset: Decimal | None = None  # adjustable loans reset at this index
    charges: bool = False        # prepayment charges are collected on payoffs
    ppis: bool = False           # payoffs in the month pay interest only to their day
    comp_cap: Decimal = ZERO     # compensating interest at most this (a rate a year on the group's balance)


class Group:
    """A loan group and its month-by-month servicing."""

    def __init__(self, name: str, loans: list[Loan], behavior: Behavior, rng: random.Random,
                 first: tuple[int, int], recovery: Callable[[random.Random, Loan], Decimal]):
        self.name, self.loans, self.behavior, self.rng, self.first = name, sorted(loans, key=lambda x: x.id), \
            behavior, rng, first
        self.recovery = recovery  # a liquidated loan's net proceeds, as a fraction of its balance

    def alive(self) -> list[Loan]:
        return [x for x in self.loans if x.state != "gone"]

    # ------------------------------------------------------------------ one month

    def month(self, m: Month) -> list[Row]:
        rng, b, t = self.rng, self.behavior, m.t
        asof = as_of(self.first, t)
        loans = self.alive()
        stress = m.stress

        def p(name: str) -> int:
            value = getattr(b, name)
            return min(PER, int(value * stress)) if name in b.stressed else value

        if m.reset is not None:
            for x in loans:
                if x.arm is not None:
                    x.rate = x.arm.reset(m.reset)
                    x.payment = level_payment(x.balance, x.rate, x.term)
        sched: dict[str, Decimal] = {}
        due: dict[str, Decimal] = {}
        matured: set[str] = set()
        for x in loans:
            due[x.id] = cents(x.balance * x.rate / 12)
            if x.term <= 1 or x.payment - due[x.id] >= x.balance:  # the last installment: it pays the loan off
                sched[x.id] = x.balance
                matured.add(x.id)
            else:
                sched[x.id] = max(ZERO, x.payment - due[x.id])
        fate: dict[str, str] = {}          # id -> paid, liquidated (the loans leaving)
        paid_now: dict[str, int] = {}      # id -> installments the borrower paid this month
        curtail: dict[str, Decimal] = {}
        # a loss-wave loan's state is set by its path
        for x in loans:
            if x.path is not None and t >= x.path_start:
                step = x.path[min(t - x.path_start, len(x.path) - 1)]
                if step == "liquidated":
                    fate[x.id] = "liquidated"
                elif step in ("foreclosure", "reo"):
                    self._enter(x, step)
                    paid_now[x.id] = 0
                else:  # missed: one more unpaid installment
                    paid_now[x.id] = 0
        # charged off (an auto loan's vehicle repossessed and sold): liquidated
        if b.charge_off:
            for x in loans:
                if x.id not in fate and x.path is None and not x.protected and x.state == "performing" \
                        and len(x.arrears) >= b.charge_off:
                    fate[x.id] = "liquidated"
        # matured loans pay in full
        for x in loans:
            if x.id not in fate and x.id in matured:
                fate[x.id] = "paid"
        # foreclosure and REO
        for x in loans:
            if x.id in fate or x.id in paid_now or x.protected:
                continue
            if x.state == "reo":
                if x.months_in_state >= 1 and chance(rng, b.sell_reo):
                    fate[x.id] = "liquidated"
                else:
                    paid_now[x.id] = 0
            elif x.state == "foreclosure":
                draw = rng.randrange(PER)
                if draw < b.reinstate:
                    x.state, x.months_in_state = "performing", 0
                    paid_now[x.id] = len(x.arrears) + 1
                elif draw < b.reinstate + b.redeem:
                    fate[x.id] = "paid"
                elif x.months_in_state >= b.min_foreclosure and draw < b.reinstate + b.redeem + b.to_reo:
                    self._enter(x, "reo")
                    paid_now[x.id] = 0
                else:
                    paid_now[x.id] = 0
        # curtailments, from current borrowers
        for x in loans:
            if x.id in fate or x.id in paid_now or x.protected or x.path is not None:
                continue
            if x.state == "performing" and not x.arrears and chance(rng, b.curtail):
                room = x.balance - sched[x.id]
                amount = min(cents(room / 5), Decimal(rng.randint(50_000, 2_500_000)).scaleb(-2))
                if amount > 0:
                    curtail[x.id] = amount
        # payoffs: loan by loan, in random order, until they make up the month's CPR
        performing = sum((x.balance - sched[x.id] for x in loans if fate.get(x.id) != "liquidated"), ZERO)
        target = cents(performing * smm(m.cpr)) - sum(curtail.values(), ZERO) \
            - sum((x.balance - sched[x.id] for x in loans if fate.get(x.id) == "paid"), ZERO)
        candidates = [x for x in loans if x.id not in fate and x.id not in paid_now and x.id not in curtail
                      and not x.protected and x.path is None and x.state == "performing" and len(x.arrears) <= 1]
        # in random order, leaning to the higher note rates (the most to gain from a refinancing)
        candidates.sort(key=lambda x: rng.randrange(PER) - int(x.rate / EIGHTH) * b.refi_tilt)
        total = ZERO
        for x in candidates:
            if total >= target:
                break
            amount = x.balance - sched[x.id]
            if total + amount - target > target - total:
                continue  # overshoots by more than the gap: a smaller loan may fit
            fate[x.id] = "paid"
            total += amount
        # everyone else: the roll of delinquency
        for x in loans:
            if x.id in fate or x.id in paid_now:
                continue
            if x.protected or (x.path is not None and t < x.path_start):
                paid_now[x.id] = len(x.arrears) + 1 if x.arrears else 1
                continue
            paid_now[x.id] = self._roll(x, p)
        # a servicing disruption: the remittance carries the interest of only part of the loans
        withheld: set[str] = set()
        if m.remitted < PER:
            eligible = [x for x in loans if fate.get(x.id) != "liquidated"]
            rng.shuffle(eligible)
            keep, carried = sum((due[x.id] for x in eligible), ZERO) * m.remitted / PER, ZERO
            for x in eligible:
                if carried + due[x.id] <= keep:
                    carried += due[x.id]
                else:
                    withheld.add(x.id)
        # the rows
        rows: list[Row] = []
        comp_left = cents(sum((x.balance for x in loans), ZERO) * m.comp_cap / 12)
        for x in loans:  # in loan-id order
            rows.append(self._row(x, m, asof, sched[x.id], due[x.id], fate.get(x.id), paid_now.get(x.id, 0),
                                  curtail.get(x.id, ZERO), comp_left, x.id in withheld))
            comp_left -= rows[-1].compensating
        return rows

    def _enter(self, x: Loan, state: str) -> None:
        if x.state != state:
            x.state, x.months_in_state = state, 0
            if state == "reo":
                x.reo_book = cents(x.balance * Decimal(self.rng.randint(55, 70)) / 100)

    def _roll(self, x: Loan, p: Callable[[str], int]) -> int:
        """The installments a performing or bankrupt borrower pays this month (the one due now
        included); moves the loan between states."""
        rng, b = self.rng, self.behavior
        behind = len(x.arrears)
        if x.state == "bankruptcy":
            if chance(rng, b.bk_exit):
                x.state, x.months_in_state = "performing", 0
            draw = rng.randrange(PER)
            if draw < b.bk_cure:
                return behind + 1
            return 1 if draw < b.bk_cure + b.bk_pay else 0
        if chance(rng, p("to_bankruptcy") if behind == 0 else p("to_bankruptcy_late")):
            x.state, x.months_in_state = "bankruptcy", 0
            return 1 if chance(rng, b.bk_pay) else 0
        draw = rng.randrange(PER)
        if behind == 0:
            return 0 if draw < p("miss") else 1
        if behind == 1:
            roll = p("roll_1")
            cure = min(b.cure_1, PER - roll)
            return 2 if draw < cure else 0 if draw < cure + roll else 1
        if behind == 2:
            roll = p("roll_2")
            cure, back = min(b.cure_2, PER - roll), min(b.back_2, max(0, PER - roll - b.cure_2))
            return 3 if draw < cure else 2 if draw < cure + back else 0 if draw < cure + back + roll else 1
        roll = p("roll_3")
        cure = min(b.cure_3, PER - roll)
        paid = behind + 1 if draw < cure else 0 if draw < cure + roll else 1
        if behind + 1 - paid >= 4 and chance(rng, b.refer):
            x.state, x.months_in_state = "foreclosure", 0
            return 0
        return paid

    def _row(self, x: Loan, m: Month, asof: dt.date, scheduled: Decimal, due: Decimal, fate: str | None,
             paid: int, curtailment: Decimal, comp_left: Decimal, withheld: bool) -> Row:
        rng = self.rng
        beginning, rate, remaining = x.balance, x.rate, x.term - 1
        relief = ZERO
        if x.relief is not None and m.t in x.relief and rate > Decimal("0.06"):
            relief = cents(beginning * (rate - Decimal("0.06")) / 12)  # the rate is held at 6%
        payoff = liquidated = proceeds = charge = ppis = compensating = advance = ZERO
        if fate == "paid":
            payoff = beginning - scheduled
            interest = due
            if m.ppis and scheduled != beginning:  # paid off on a day of the month: interest to that day only
                ppis = cents(due * Decimal(30 - rng.randint(15, 30)) / 30)
                compensating = min(ppis, max(ZERO, comp_left))
                interest = due - ppis + compensating
            if m.charges and x.charge and rng.randrange(PER) < 80000:  # some charges are waived
                charge = cents(max(ZERO, payoff - x.original / 5) * rate / 2)  # six months' interest over 20%
            if scheduled == beginning:  # matured: the last installment is its payoff
                payoff, scheduled = beginning, ZERO
            ending, status, actual = ZERO, PAID, ZERO
            x.arrears.clear()
            next_due = due_date(asof, 0)
            x.state = "gone"
        elif fate == "liquidated":
            scheduled = ZERO
            liquidated = beginning
            proceeds = cents(beginning * self.recovery(rng, x))
            interest = due  # out of the liquidation proceeds
            ending, status, actual = ZERO, LIQUIDATED, ZERO
            next_due = due_date(asof, len(x.arrears) + 1)
            x.state = "gone"
        else:
            x.arrears.append(scheduled)
            del x.arrears[:paid]
            behind = len(x.arrears)
            ending = beginning - scheduled - curtailment
            actual = ending + sum(x.arrears, ZERO)
            next_due = due_date(asof, behind)
            interest = due - relief
            if behind:  # this month's installment is unpaid: advanced, if the servicer advances
                if m.advancing:
                    advance = scheduled + interest
                else:
                    advance, interest = scheduled, ZERO  # principal only: the stated balance still amortizes
            if x.state == "foreclosure":
                status = FORECLOSURE
            elif x.state == "reo":
                status = REO
            elif x.state == "bankruptcy":
                status = BANKRUPTCY
            else:
                status = (CURRENT, DAYS_30, DAYS_60)[behind] if behind < 3 else DAYS_90
            x.balance, x.term = ending, x.term - 1
            x.months_in_state += 1
        if withheld and interest:  # a servicing disruption: the remittance leaves this loan's interest out
            advance -= interest if advance else ZERO
            interest = compensating = ZERO
        return Row(x.id, self.name, beginning, scheduled, curtailment, payoff, liquidated, proceeds, ending, actual,
                   interest, advance, charge, ppis, compensating, relief, rate, remaining, next_due, status,
                   x.reo_book if status == REO else ZERO, x.modified, x.state_code)


# --------------------------------------------------------------------------- what the period file says


def total(rows: Iterable[Row], what: str) -> Decimal:
    return sum((getattr(r, what) for r in rows), ZERO)


def totals(rows: list[Row]) -> dict:
    """The servicer's own totals of a group's (or a one-pool deal's) tape: its remittance
    report, which remit intake ties the tape to."""
    paid = [r for r in rows if r.status == PAID]
    liquidated = [r for r in rows if r.status == LIQUIDATED]
    return {
        "loans": len(rows), "beginning_balance": total(rows, "beginning"),
        "scheduled_principal": total(rows, "scheduled"), "curtailments": total(rows, "curtailment"),
        "payoffs": (len(paid), total(paid, "payoff")),
        "liquidated": (len(liquidated), total(rows, "liquidated"), total(rows, "proceeds")),
        "interest": total(rows, "interest"), "advances": total(rows, "advance"),
        "prepayment_charges": total(rows, "charge"), "ending_balance": total(rows, "ending"),
    }


def remittance_lines(f: dict, indent: str, charges: bool) -> list[str]:
    """The servicer's totals for a group (or the pool), as its remittance report writes them."""
    n, balance, proceeds = f["liquidated"]
    lines = [f"{indent}loans: {f['loans']}",
             f"{indent}beginning_balance: {money(f['beginning_balance'])}",
             f"{indent}scheduled_principal: {money(f['scheduled_principal'])}",
             f"{indent}curtailments: {money(f['curtailments'])}",
             f"{indent}payoffs: {{count: {f['payoffs'][0]}, amount: {money(f['payoffs'][1])}}}",
             f"{indent}liquidations: {{count: {n}, balance: {money(balance)}, proceeds: {money(proceeds)}}}",
             f"{indent}interest: {money(f['interest'])}",
             f"{indent}advances: {money(f['advances'])}"]
    if charges:
        lines.append(f"{indent}prepayment_charges: {money(f['prepayment_charges'])}")
    lines.append(f"{indent}ending_balance: {money(f['ending_balance'])}")
    return lines


def pooled(parts: list[dict]) -> dict:
    """The pool's remittance totals from its groups'."""
    add = lambda key: sum((p[key] for p in parts), ZERO)  # noqa: E731
    return {"loans": sum(p["loans"] for p in parts), "beginning_balance": add("beginning_balance"),
            "scheduled_principal": add("scheduled_principal"), "curtailments": add("curtailments"),
            "payoffs": (sum(p["payoffs"][0] for p in parts), sum((p["payoffs"][1] for p in parts), ZERO)),
            "liquidated": (sum(p["liquidated"][0] for p in parts), sum((p["liquidated"][1] for p in parts), ZERO),
                           sum((p["liquidated"][2] for p in parts), ZERO)),
            "interest": add("interest"), "advances": add("advances"),
            "prepayment_charges": add("prepayment_charges"), "ending_balance": add("ending_balance")}


def write_gzip(path: Path, text: str, encoding: str) -> None:
    """``text`` gzipped, with no timestamp in the header: the same text, the same bytes."""
    path.write_bytes(gzip.compress(text.encode(encoding), compresslevel=9, mtime=0))


def write_fixings(path: Path, fixings: dict[str, Decimal]) -> None:
    lines = ["# One-month Term SOFR as set for each accrual period, by distribution month."]
    lines += [f"{key}: {value}" for key, value in fixings.items()]
    path.write_text("\n".join(lines) + "\n")


def intake(deal_dir: Path, key: str) -> None:
    """The month's period file, written by remit intake from the tape and remittance report."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from generator.intake import run_intake, write_period

    tapes = Path(deal_dir) / "tapes"
    write_period(deal_dir, run_intake(deal_dir, key, tapes / f"{key}.csv.gz", tapes / f"{key}.remittance.yaml"))
