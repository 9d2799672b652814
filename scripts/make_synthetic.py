#!/usr/bin/env python3
"""Write the SYNTHETIC deal inputs/synthetic-home-equity-2024-1: its terms and 60 months
of servicer data, from a fixed seed (same seed, same bytes).

The pool is simulated loan by loan (scripts/loans.py): 2,500 fixed-rate home-equity loans,
500,000,000.00 at the cut-off.  For each month it writes what the servicer, Example
Mortgage Servicing LLC, sends: its loan-level tape (tapes/YYYY-MM.csv.gz, in the format
servicer.yaml describes) and its remittance report (tapes/YYYY-MM.remittance.yaml, its
totals); then remit intake reads them into the period file (periods/YYYY-MM.yaml), as it
would a real servicer's.  fixings.yaml holds the index set for each month.

The deal is made up; its story is written to exercise every payment rule:

* months 1-3   excess interest builds overcollateralization from 1% to its 2% target;
* months 3-5   the index spikes: the Net WAC cap binds, carryover is owed, and paid from
               excess cash flow once the index falls;
* month 7      the servicer stops advancing, and in a servicing disruption its remittance
               carries only 38% of the interest due (the rest left out loan by loan):
               interest is short, mezzanine classes carry unpaid interest forward, repaid
               from excess the month after;
* months 9-14  loans of a loss wave, delinquent from months 5-10, go to REO in months 8-13
               and are liquidated the month after at high severities: losses exhaust OC,
               write down M-4 and part of M-3; excess later rebuilds OC and repays them;
* a refinancing wave (a 50% CPR in months 7-36) pays class A off in the middle of a
               period; that is the stepdown date (earlier than the 37th distribution
               because A is gone);
* month 37     cumulative losses exceed the loss schedule: a trigger event, which ends
               when the schedule steps up at month 49; then principal goes by class
               targets and OC is released down to its stepped-down target;
* the pool falls under 10% of the cut-off balance: the clean-up call becomes exercisable
               and the margins step up.

Twenty 40-year loans never prepay or default, so that a longer copy (--months 360, for
benchmarks) never runs out of loans.

Run from the repository root:  .venv/bin/python scripts/make_synthetic.py  (remit intake writes the period files)
(``--months N --out DIR`` writes a longer copy elsewhere, for benchmarks.)
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loans as L  # noqa: E402
from story import month  # noqa: E402

SEED = 20240125
INDEX_SEED = SEED + 1  # the index noise: a stream of its own
DEAL = Path(__file__).resolve().parent.parent / "inputs" / "synthetic-home-equity-2024-1"
MONTHS = 60
FIRST = (2024, 2)
SERVICER = "Example Mortgage Servicing LLC"
CUTOFF_BALANCE = Decimal("500000000.00")
LOANS = 2500
WAC = Decimal("0.1050")  # the cut-off pool's weighted-average note rate
PROTECTED = 20

DEAL_YAML = """\
# SYNTHETIC DEAL: not a real trust.  Written by scripts/make_synthetic.py (seed SEED);
# regenerate rather than edit.  A home-equity deal shaped like New Century 2002-1
# (A, M-1..M-4, CE, P, R) whose 60 months exercise every payment rule of its waterfall.
id: synthetic-home-equity-2024-1
trust: Synthetic Home Equity Loan Trust
series: "2024-1"
certificates: Asset Backed Pass-Through Certificates
templates:
  text: statement.txt.j2

parties:
  trustee: Example Trust Company, N.A.
  trust_administrator: Example Trust Company, N.A.
  servicer: Example Mortgage Servicing LLC

schedule:
  closing_date: 2024-01-30
  first_distribution_date: 2024-02-26
  distribution_day: 25
  holiday_calendar: US

index: One-month Term SOFR

fees:
  - {name: Servicing, annual_rate: 0.005, payee: Servicer}
  - {name: Trustee, annual_rate: 0.0001, payee: Trustee}

classes:
  - {name: A,   kind: senior,    cusip: 00000SYA0, original_balance: 390000000.00, coupon: {margin: 0.0030, step_up_margin: 0.0060,  cap: net_wac_cap}}
  - {name: M-1, kind: mezzanine, cusip: 00000SYB8, original_balance: 40000000.00,  coupon: {margin: 0.0065, step_up_margin: 0.00975, cap: net_wac_cap}}
  - {name: M-2, kind: mezzanine, cusip: 00000SYC6, original_balance: 40000000.00,  coupon: {margin: 0.0120, step_up_margin: 0.0180,  cap: net_wac_cap}}
  - {name: M-3, kind: mezzanine, cusip: 00000SYD4, original_balance: 15000000.00,  coupon: {margin: 0.0200, step_up_margin: 0.0300,  cap: net_wac_cap}}
  - {name: M-4, kind: mezzanine, cusip: 00000SYE2, original_balance: 9999900.00,   coupon: {margin: 0.0300, step_up_margin: 0.0450,  cap: net_wac_cap}}
  - {name: CE,  kind: excess,    cusip: 00000SYF9, original_balance: 5000000.00, per_1000_basis: current_notional}
  - {name: P,   kind: prepayment, cusip: 00000SYG7, original_balance: 100.00}
  - {name: R,   kind: residual,  original_balance: 0, per_1000_basis: none}

figures:
  net_wac_cap:
    label: "Net WAC cap: the pool's net WAC (30/360) on an Actual/360 basis"
    formula: (wac - fees.annual_rate) * 30 / accrual_days
  pool.cleanup_call_threshold:
    label: clean-up call threshold, 10% of the cut-off balance
    formula: cents(pool.cutoff_balance * 0.10)
  performance.optional_termination:
    label: optional termination date passed (margins step up)
    formula: performance.optional_termination_before or pool.beginning_balance <= pool.cleanup_call_threshold
  performance.stepdown:
    label: the stepdown date has occurred (from the 37th distribution, at a senior enhancement of 44%)
    formula: >-
      performance.stepdown_before
      or distribution_number >= 37 and performance.stepdown_test_pct >= 0.44
      or total(senior, beginning_balance) == 0.00
  oc.floor:
    label: OC floor, 0.50% of the cut-off balance
    formula: cents(pool.cutoff_balance * 0.005)
  oc.target:
    label: "required overcollateralization (OC target): 2% of the cut-off balance, then 4% of the pool"
    formula: >-
      if(not performance.stepdown, cents(pool.cutoff_balance * 0.02),
         if(performance.trigger and given(oc.target_before), oc.target_before,
            max(cents(pool.ending_balance * 0.04), oc.floor)))
  oc.before_distribution:
    label: OC before the distribution (if the whole remittance paid certificates)
    formula: pool.ending_balance - (total(certificates, beginning_balance) - pool.principal_remittance)
  oc.deficiency:
    label: OC deficiency
    formula: max(0.00, oc.target - oc.before_distribution)
  oc.release_due:
    label: OC release held back from the principal remittance
    formula: "if(oc.deficiency > 0.00, 0.00, min(pool.principal_remittance, max(0.00, oc.before_distribution - oc.target)))"
  oc.extra_principal_due:
    label: extra principal from excess cash flow, to rebuild OC
    formula: min(transfers.interest.excess + oc.release_due, oc.deficiency)
  principal_distribution_amount:
    label: principal distribution amount (remittance, less OC release, plus extra principal)
    formula: pool.principal_remittance - oc.release_due + oc.extra_principal_due
  principal.room:
    label: what the classes may add up to after the stepdown date (the pool less its OC target or floor, less P)
    formula: pool.ending_balance - max(oc.floor, oc.target) - P.beginning_balance
  oc.increase: {label: "OC increase: the extra principal paid", formula: "total(all, paid.extra_principal)"}
  oc.reduction: {label: "OC reduction: principal not needed by the certificates", formula: transfers.principal.excess}
  performance.net_monthly_excess_cash_flow:
    label: net monthly excess cash flow
    formula: transfers.interest.excess + transfers.principal.excess
  cash.interest_left: {label: left in the interest account, formula: accounts.interest.balance}
  cash.principal_left: {label: left in the principal account, formula: accounts.principal.balance}
  cash.excess_left: {label: left in the excess account, formula: accounts.excess.balance}

triggers:
  - name: Delinquency
    value: performance.delinquency_pct
    threshold: performance.prior_credit_enhancement_pct * 0.40
  - name: Cumulative losses
    value: losses.cumulative_pct
    threshold: schedule(distribution_number, 37, 0.0500, 49, 0.0700)

accounts:
  - {name: interest, deposit: collections.interest}
  - {name: principal, deposit: pool.principal_remittance}
  - {name: excess, payee: excess cash flow}
  - {name: prepayment_charges, deposit: collections.prepayment_charges}

waterfall:
  - {pay: amount, name: expenses, from: interest, amount: extraordinary_expenses, to: Trust,
     description: Extraordinary trust fund expenses, when: extraordinary_expenses > 0.00}
  - {pay: fees, from: interest}
  - {pay: interest, from: interest, classes: [A]}
  - {pay: interest, from: interest, classes: [M-1], include_unpaid: false}
  - {pay: interest, from: interest, classes: [M-2], include_unpaid: false}
  - {pay: interest, from: interest, classes: [M-3], include_unpaid: false}
  - {pay: interest, from: interest, classes: [M-4], include_unpaid: false}
  - {transfer: remaining, from: interest, to: excess, description: Remaining interest to excess cash flow}
  - pay: principal
    from: principal
    classes: [A, M-1, M-2, M-3, M-4]
    amount: principal_distribution_amount
    targets:
      A:   min(cents(pool.ending_balance * 0.56), principal.room)
      M-1: min(cents(pool.ending_balance * 0.72), principal.room)
      M-2: min(cents(pool.ending_balance * 0.84), principal.room)
      M-3: min(cents(pool.ending_balance * 0.90), principal.room)
      M-4: min(cents(pool.ending_balance * 0.98), principal.room)
    when: performance.stepdown and not performance.trigger
    else:
      - {pay: principal, from: principal, classes: [A, M-1, M-2, M-3, M-4], amount: principal_distribution_amount}
  - {transfer: remaining, from: principal, to: excess, when: accounts.principal.balance > 0.00,
     description: "Principal not needed by the certificates, to excess cash flow"}
  - {pay: extra_principal, from: excess}
  - {pay: unpaid_interest, from: excess, classes: [M-1, M-2, M-3, M-4]}
  - {pay: writedown_reimbursement, from: excess, classes: [M-1, M-2, M-3, M-4]}
  - {pay: carryover, from: excess, classes: [A, M-1, M-2, M-3, M-4]}
  - {pay: residual, from: excess, class: CE}
  - {pay: prepayment_charges, from: prepayment_charges, class: P}
  - {allocate: losses, classes: [M-4, M-3, M-2, M-1]}

# How remit intake reads the servicer's tape (docs/intake.md).
intake:
  mapping: servicer.yaml
  delinquency_method: MBA
  fixings: fixings.yaml
"""


def cpr_for(t: int) -> Decimal:
    if t <= 6:
        return Decimal("0.12") + Decimal(t) * Decimal("0.03")
    if t <= 36:
        return Decimal("0.50")  # the refinancing wave
    return Decimal("0.30")


def index_for(t: int, rng: random.Random) -> Decimal:
    if 3 <= t <= 5:
        base = Decimal("0.0880")
    elif t < 3:
        base = Decimal("0.0420")
    else:
        base = Decimal("0.0350")
    return base + Decimal(rng.randint(-15, 15)) / 10000


def key(t: int) -> str:
    return month(FIRST, t)


STRESS = range(7, 15)      # months of heavier delinquency ...
STRESS_FACTOR = Decimal("1.5")  # ... by this factor
ADVANCE_STOP = 7           # the month the servicer stops advancing ...
REMITTED = 38000           # ... and its remittance carries this share (per 100,000) of the interest due
WAVE = range(8, 14)        # the loss wave: months its loans go to REO (liquidated the month after) ...
WAVE_BALANCE = Decimal("8200000.00")  # ... about this much of them each month
RELIEF_LOANS = 15          # loans whose borrowers are called to active duty at some point
CHARGE_MONTHS = 24         # prepayment charges are collected on payoffs in the first 24 months
COMPENSATING_CAP = Decimal("0.0004")  # compensating interest: at most 0.04% a year of the pool
WAVE_PATH = ("missed", "missed", "foreclosure", "reo", "liquidated")  # referred at 60 days, a quick foreclosure
#: property states, weighted; the loss wave's in quick (non-judicial) foreclosure states
STATES = ["CA"] * 24 + ["FL"] * 12 + ["TX"] * 8 + ["NY"] * 7 + ["IL"] * 6 + ["NJ"] * 5 + ["AZ"] * 5 + \
    ["GA"] * 4 + ["MA"] * 4 + ["MD"] * 4 + ["VA"] * 4 + ["WA"] * 4 + ["NV"] * 3 + ["CO"] * 3 + ["MI"] * 3 + \
    ["OH"] * 2 + ["PA"] * 2 + ["CT"] * 2 + ["MN"] * 2
QUICK = ["TX", "GA", "MI", "AZ", "NV", "VA", "TN", "MO", "AL"]
BEHAVIOR = L.Behavior(miss=900, roll_1=18000, roll_2=35000, roll_3=40000, cure_3=10000, reinstate=12000, redeem=10000,
                       refi_tilt=50)
TERMS = (360,) * 14 + (240,) * 3 + (180,) * 3  # original terms, in months: a mix of 30, 20 and 15 years
COLUMNS = ["LOAN_NO", "BEG_SCHED_BAL", "SCHED_PRIN", "CURTAIL", "PIF_AMT", "LIQ_BAL", "LIQ_PROCEEDS", "END_SCHED_BAL",
           "ACTUAL_UPB", "INT_REMIT", "PI_ADVANCE", "PPP_COLLECTED", "PPIS", "COMP_INT", "SCRA_SHORTFALL", "NOTE_RATE",
           "REM_TERM", "NEXT_DUE", "STATUS", "REO_BOOK", "MOD_FLAG", "PROPERTY_STATE"]
CODES = {L.CURRENT: "C", L.DAYS_30: "3", L.DAYS_60: "6", L.DAYS_90: "9", L.FORECLOSURE: "F", L.REO: "R",
         L.BANKRUPTCY: "B", L.PAID: "P", L.LIQUIDATED: "L"}


def share(rng: random.Random) -> int:
    """A loan's place in the 40,000-450,000 range (millionths): most of them small."""
    return (rng.randint(0, 10**6) + rng.randint(0, 10**6) * rng.randint(0, 10**6) // 10**6) // 2


def cutoff_pool(rng: random.Random) -> list[L.Loan]:
    balances = L.cutoff_balances(rng, LOANS, CUTOFF_BALANCE, Decimal("40000.00"), Decimal("450000.00"), share)
    ids, n = [], 100000
    for _ in range(LOANS):
        n += rng.randint(1, 4)
        ids.append(f"{n:06d}")
    rates = [L.EIGHTH * (60 + rng.randint(0, 16) + rng.randint(0, 16) + rng.randint(0, 16))  # 7.50% to 13.50%
             for _ in range(LOANS)]
    rates = L.aim_rates(rng, balances, rates, WAC)
    pool = []
    for loan_id, balance, rate in zip(ids, balances, rates):
        term = rng.choice(TERMS)
        age = rng.randint(1, 4)
        pool.append(L.Loan(loan_id, "pool", balance, rate, term - age + 1, L.cents(balance * (1 + Decimal(age) / 400)),
                           rng.choice(STATES), modified=rng.randrange(1000) < 15,
                           charge=rng.randrange(100) < 70))
    order = list(range(LOANS))
    rng.shuffle(order)
    for i in order[:PROTECTED]:  # 40-year loans that never prepay or default
        x = pool[i]
        x.protected, x.term = True, 480 - rng.randint(2, 10)
        x.payment = L.level_payment(x.balance, x.rate, x.term)
    rest = [pool[i] for i in order[PROTECTED:]]
    wave = random.Random(SEED + 2)  # its own stream: the wave's size does not reshuffle the rest
    candidates = [x for x in rest if Decimal("150000") <= x.balance <= Decimal("350000")]
    for m in WAVE:  # the loss wave: the first installment missed three months before REO
        cohort = Decimal(0)
        while cohort < WAVE_BALANCE:
            x = candidates.pop(wave.randrange(len(candidates)))
            x.path, x.path_start, x.state_code = WAVE_PATH, m - 3, wave.choice(QUICK)
            cohort += x.balance
    for x in wave.sample([x for x in rest if x.path is None], RELIEF_LOANS):  # active-duty borrowers: their
        start = wave.randint(1, 36)                                             # rate is held at 6%
        x.relief = range(start, start + wave.randint(6, 24))
    return pool


def recovery(rng: random.Random, x: L.Loan) -> Decimal:
    """Net proceeds of an REO sale: part of its book value, after costs and advances."""
    return x.reo_book / x.balance * Decimal(rng.randint(45, 68)) / 100


def month_inputs(t: int) -> L.Month:
    return L.Month(t, cpr_for(t), stress=STRESS_FACTOR if t in STRESS else Decimal(1),
                   advancing=t != ADVANCE_STOP, remitted=REMITTED if t == ADVANCE_STOP else L.PER,
                   charges=t <= CHARGE_MONTHS, ppis=True, comp_cap=COMPENSATING_CAP)


def amount(x: Decimal) -> str:
    return f"{x:,.2f}"


def tape(rows: list[L.Row]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r.id, amount(r.beginning), amount(r.scheduled), amount(r.curtailment), amount(r.payoff),
                    amount(r.liquidated), amount(r.proceeds), amount(r.ending), amount(r.actual), amount(r.interest),
                    amount(r.advance), amount(r.charge), amount(r.ppis), amount(r.compensating), amount(r.relief),
                    f"{r.rate * 100:.3f}", r.remaining_term, r.next_due.strftime("%m/%d/%Y"), CODES[r.status],
                    amount(r.reo_book), "Y" if r.modified else "N", r.state_code])
    return out.getvalue()


def write(deal_dir: Path = DEAL, months: int = MONTHS) -> None:
    deal_dir = Path(deal_dir)
    for sub in ("periods", "tapes"):
        (deal_dir / sub).mkdir(parents=True, exist_ok=True)
    (deal_dir / "deal.yaml").write_text(DEAL_YAML.replace("SEED", str(SEED)))
    index_rng = random.Random(INDEX_SEED)
    fixings = {key(t): index_for(t, index_rng) for t in range(1, months + 2)}
    L.write_fixings(deal_dir / "fixings.yaml", fixings)
    group = L.Group("pool", cutoff_pool(random.Random(SEED + 1)), BEHAVIOR, random.Random(SEED + 3), FIRST, recovery)
    if deal_dir.resolve() != DEAL.resolve():
        shutil.copy(DEAL / "servicer.yaml", deal_dir / "servicer.yaml")
    for t in range(1, months + 1):
        rows = group.month(month_inputs(t))
        L.write_gzip(deal_dir / "tapes" / f"{key(t)}.csv.gz", tape(rows), "utf-8")
        report = [f"# {SERVICER}: remittance report for the {key(t)} distribution.", f"period: {key(t)}", "totals:"]
        report += L.remittance_lines(L.totals(rows), "  ", charges=True)
        (deal_dir / "tapes" / f"{key(t)}.remittance.yaml").write_text("\n".join(report) + "\n")
        L.intake(deal_dir, key(t))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=MONTHS)
    parser.add_argument("--out", type=Path, default=DEAL)
    args = parser.parse_args()
    write(args.out, args.months)


if __name__ == "__main__":
    main()
