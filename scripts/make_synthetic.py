#!/usr/bin/env python3
"""Write the SYNTHETIC deal inputs/synthetic-home-equity-2024-1: its terms and 60 months
of servicer reports, from a fixed seed (same seed, same bytes).

The deal is made up; its story is written to exercise every payment rule:

* months 1-3   excess interest builds overcollateralization from 1% to its 2% target;
* months 3-5   the index spikes: the Net WAC cap binds, carryover is owed, and paid from
               excess cash flow once the index falls;
* month 7      the servicer stops advancing: interest is short, mezzanine classes carry
               unpaid interest forward, repaid from excess the month after;
* months 9-15  loans go to REO and are liquidated at high severities: losses exhaust OC,
               write down M-4 and part of M-3; excess later rebuilds OC and repays them;
* a refinancing wave pays class A off in the middle of a period; that is the stepdown date
               (earlier than the 37th distribution because A is gone);
* month 37     cumulative losses exceed the loss schedule: a trigger event, which ends
               when the schedule steps up at month 49; then principal goes by class
               targets and OC is released down to its stepped-down target;
* the pool falls under 10% of the cut-off balance: the clean-up call becomes exercisable
               and the margins step up.

Run from the repository root:  python3 scripts/make_synthetic.py
(``--months N --out DIR`` writes a longer copy elsewhere, for benchmarks.)
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

SEED = 20240125
DEAL = Path(__file__).resolve().parent.parent / "inputs" / "synthetic-home-equity-2024-1"
MONTHS = 60
FIRST = (2024, 2)
CENT = Decimal("0.01")

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
  - {name: A,   kind: senior,    cusip: 00000SYA1, original_balance: 390000000.00, coupon: {margin: 0.0030, step_up_margin: 0.0060,  cap: net_wac_cap}}
  - {name: M-1, kind: mezzanine, cusip: 00000SYB9, original_balance: 40000000.00,  coupon: {margin: 0.0065, step_up_margin: 0.00975, cap: net_wac_cap}}
  - {name: M-2, kind: mezzanine, cusip: 00000SYC7, original_balance: 40000000.00,  coupon: {margin: 0.0120, step_up_margin: 0.0180,  cap: net_wac_cap}}
  - {name: M-3, kind: mezzanine, cusip: 00000SYD5, original_balance: 15000000.00,  coupon: {margin: 0.0200, step_up_margin: 0.0300,  cap: net_wac_cap}}
  - {name: M-4, kind: mezzanine, cusip: 00000SYE3, original_balance: 9999900.00,   coupon: {margin: 0.0300, step_up_margin: 0.0450,  cap: net_wac_cap}}
  - {name: CE,  kind: excess,    cusip: 00000SYF1, original_balance: 5000000.00, per_1000_basis: current_notional}
  - {name: P,   kind: prepayment, cusip: 00000SYG9, original_balance: 100.00}
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
"""


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def smm(cpr: Decimal) -> Decimal:
    """Single monthly mortality from an annual conditional prepayment rate."""
    with localcontext() as ctx:
        ctx.prec = 28
        return 1 - (1 - cpr) ** (Decimal(1) / 12)


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
    index = FIRST[0] * 12 + FIRST[1] - 1 + (t - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def money(x: Decimal) -> str:
    return f"{x:.2f}"


def bucket(count: int, stated: Decimal, rng: random.Random) -> str:
    unpaid = stated + cents(stated * Decimal(rng.randint(5, 30)) / 10000) if count else Decimal(0)
    return f"{{count: {count}, unpaid_balance: {money(unpaid)}, stated_balance: {money(stated)}}}"


def write(deal_dir: Path = DEAL, months: int = MONTHS) -> None:
    rng = random.Random(SEED)
    (deal_dir / "periods").mkdir(parents=True, exist_ok=True)
    (deal_dir / "deal.yaml").write_text(DEAL_YAML.replace("SEED", str(SEED)))
    pool = Decimal("500000000.00")
    count = 2500
    wac = Decimal("0.1050")
    index = index_for(1, rng)
    reo_next: list[tuple[str, Decimal]] = []  # loans in REO, liquidated next month
    loan_no = 100000
    for t in range(1, months + 1):
        next_index = index_for(t + 1, rng)
        avg = pool / count
        sched = cents(pool * Decimal("0.0012"))
        liquidations = [(loan, bal, cents(bal * Decimal(rng.randint(25, 45)) / 100)) for loan, bal in reo_next]
        liq_balance = sum((b for _, b, _ in liquidations), Decimal(0))
        performing = pool - sched - liq_balance
        prepaid = cents(performing * smm(cpr_for(t)))
        curtail = cents(prepaid * Decimal("0.012"))
        payoff = prepaid - curtail
        payoff_count = min(max(1, int(payoff / avg)), count - len(liquidations) - 1)  # one loan stays
        # loans going to REO this month (liquidated next month): the loss wave of months 9-14
        new_reo: list[tuple[str, Decimal, Decimal]] = []
        if 8 <= t <= 13:
            for _ in range(rng.randint(31, 35)):
                loan_no += rng.randint(1, 40)
                stated = Decimal(rng.randint(18000000, 32000000)) / 100
                new_reo.append((f"{loan_no}", stated + cents(stated * Decimal("0.004")), stated))
        reo_next = [(loan, stated) for loan, _, stated in new_reo]
        reo_stated = sum((s for _, _, s in new_reo), Decimal(0))
        interest = cents(pool * wac / 12)
        if t == 7:
            interest = cents(interest * Decimal("0.36"))  # advances stopped for a month
        ppis = cents(prepaid * wac / 12 * Decimal(rng.randint(10, 40)) / 100)
        covered = min(ppis, cents(pool * Decimal("0.005") / 12))
        covered = cents(covered * Decimal(rng.randint(60, 100)) / 100)
        ppis = min(ppis, interest + covered)
        interest -= ppis - covered
        relief = cents(Decimal(rng.randint(0, 90000)) / 100)
        relief = min(relief, max(Decimal(0), interest))
        interest -= relief
        charges = cents(payoff * Decimal("0.018")) if t <= 24 else Decimal("0.00")
        end_pool = pool - sched - curtail - payoff - liq_balance
        # delinquencies: low, higher in the loss wave
        stress = Decimal(3) if 7 <= t <= 14 else Decimal(1)
        pct = lambda lo, hi: Decimal(rng.randint(lo, hi)) / 10000 * stress  # noqa: E731
        b30 = cents(end_pool * pct(150, 250))
        b60 = cents(end_pool * pct(50, 90))
        b90 = cents(end_pool * pct(30, 60))
        fcl = cents(end_pool * pct(80, 140))
        bk = cents(end_pool * pct(20, 40))
        bk60 = cents(bk * Decimal(rng.randint(30, 60)) / 100)
        n = lambda b: max(1, int(b / avg)) if b else 0  # noqa: E731
        advances = cents((b30 + b60 + b90 + fcl) * wac / 12)
        remaining = max(0, 358 - t)
        lines = [f"# SYNTHETIC servicer report, month {t} of the synthetic deal (scripts/make_synthetic.py).",
                 f"period: {key(t)}"]
        if t == 1:
            lines += ["# The first period on file starts at closing: the opening state is the cut-off pool.",
                      "opening:",
                      "  previous_distribution_date: 2024-01-30  # closing date: interest accrues from it",
                      f"  pool_balance: {money(pool)}",
                      f"  loan_count: {count}",
                      "  class_balances: {A: 390000000.00, M-1: 40000000.00, M-2: 40000000.00, M-3: 15000000.00,"
                      " M-4: 9999900.00, P: 100.00, R: 0}"]
        lines += [
            "index:",
            f"  current: {index}",
            f"  next: {next_index}",
            "collections:",
            f"  interest: {money(interest)}",
            f"  scheduled_principal: {money(sched)}",
            f"  curtailments: {money(curtail)}",
            f"  payoffs: {{count: {payoff_count}, amount: {money(payoff)}}}",
        ]
        if liquidations:
            lines.append("  liquidations:")
            lines += [f"    - {{loan: \"{l}\", balance: {money(b)}, proceeds: {money(p)}}}" for l, b, p in liquidations]
        else:
            lines.append("  liquidations: []")
        lines += [
            f"  prepayment_charges: {money(charges)}",
            f"advances: {money(advances)}",
            f"wac: {wac}",
            f"remaining_term: {remaining}",
            "delinquency:",
            f"  days_30_59: {bucket(n(b30), b30, rng)}",
            f"  days_60_89: {bucket(n(b60), b60, rng)}",
            f"  days_90_plus: {bucket(n(b90), b90, rng)}",
            f"  foreclosure: {bucket(n(fcl), fcl, rng)}",
            f"  bankruptcy: {bucket(n(bk), bk, rng)}",
            f"  bankruptcy_60_plus: {bucket(n(bk60), bk60, rng)}",
            "reo:",
            f"  stated_balance: {money(reo_stated)}",
            f"  book_value: {money(cents(reo_stated * Decimal('0.62')))}",
        ]
        if new_reo:
            lines.append("  new:")
            lines += [f"    - {{loan: \"{l}\", unpaid_balance: {money(u)}, stated_balance: {money(s)}}}"
                      for l, u, s in new_reo]
        lines += [
            "shortfalls:",
            f"  prepayment_interest: {money(ppis)}",
            f"  covered_by_servicer: {money(covered)}",
            f"  relief_act: {money(relief)}",
        ]
        (deal_dir / "periods" / f"{key(t)}.yaml").write_text("\n".join(lines) + "\n")
        pool = end_pool
        count -= payoff_count + len(liquidations)
        wac = wac - Decimal("0.0002") if t % 6 == 0 else wac
        index = next_index


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=MONTHS)
    parser.add_argument("--out", type=Path, default=DEAL)
    args = parser.parse_args()
    write(args.out, args.months)


if __name__ == "__main__":
    main()
