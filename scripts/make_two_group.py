#!/usr/bin/env python3
"""Write the servicer reports of the SYNTHETIC two-group deal inputs/synthetic-two-group-2025-1:
48 months, each group reported apart, from a fixed seed (same seed, same bytes).  Its deal
file, deal.yaml, is written by hand.

The story:

* months 1-4   the index (4.30%) is over the swap's fixed rate: the swap pays the trust;
* months 5-8   the index spikes to 8.20% before Group II's adjustable loans reset: A-3's
               coupon is capped at Group II's net WAC; its carryover is paid from excess later;
* month 10     a servicing disruption: a tenth of Group I's interest and 40% of Group II's is
               remitted; what Group II's seniors leave covers part of Group I's senior
               interest (cross-collateralization) and the insurance policy pays the rest;
               the mezzanine classes' interest goes unpaid;
* months 11-   excess cash flow reimburses the insurer, with interest, and the mezzanine
               classes' unpaid interest;
* months 14-24 Group II loans are liquidated at a loss; OC absorbs it;
* month 20-    the index falls to 2.60%: the trust pays the swap counterparty;
* A-IO's notional steps down every 12 months, to nothing at the 37th distribution.

Run from the repository root:  python3 scripts/make_two_group.py
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from story import cents, money, month  # noqa: E402

SEED = 20250225
DEAL = Path(__file__).resolve().parent.parent / "inputs" / "synthetic-two-group-2025-1"
MONTHS = 48
FIRST = (2025, 3)
CLASSES = {"A-1": "150000000.00", "A-2": "117000000.00", "A-3": "178000000.00", "M-1": "22000000.00",
           "M-2": "13000000.00"}


def key(t: int) -> str:
    return month(FIRST, t)


def index_for(t: int) -> Decimal:
    if t <= 4:
        return Decimal("0.0430")
    if t <= 8:
        return Decimal("0.0820")
    if t < 20:
        return Decimal("0.0400")
    return Decimal("0.0260")


def smm(cpr: Decimal) -> Decimal:
    return 1 - (1 - cpr) ** (Decimal(1) / 12)


class Group:
    def __init__(self, name: str, balance: str, count: int, wac: str, term: int, cpr: str):
        self.name, self.balance, self.count = name, Decimal(balance), count
        self.wac, self.term, self.cpr = Decimal(wac), term, Decimal(cpr)

    def month(self, t: int, rng: random.Random, loan_no: list[int]) -> list[str]:
        pool, avg = self.balance, self.balance / self.count
        sched = cents(pool * Decimal("0.0011"))
        liquidations = []
        if self.name == "adjustable" and 14 <= t <= 24:
            for _ in range(rng.randint(4, 8)):
                loan_no[0] += rng.randint(1, 50)
                balance = Decimal(rng.randint(9000000, 22000000)) / 100
                liquidations.append((f"G2{loan_no[0]}", balance, cents(balance * Decimal(rng.randint(40, 70)) / 100)))
        liq_balance = sum((b for _, b, _ in liquidations), Decimal(0))
        prepaid = cents((pool - sched - liq_balance) * smm(self.cpr))
        curtail = cents(prepaid * Decimal("0.02"))
        payoff = prepaid - curtail
        payoff_count = min(max(1, int(payoff / avg)), self.count - len(liquidations) - 1)
        interest = cents(pool * self.wac / 12)
        if t == 10:  # a servicing disruption: a tenth of Group I's interest, 40% of Group II's
            interest = cents(interest * (Decimal("0.10") if self.name == "fixed" else Decimal("0.40")))
        end = pool - sched - curtail - payoff - liq_balance
        stress = Decimal(2) if self.name == "adjustable" and 12 <= t <= 24 else Decimal(1)
        pct = lambda lo, hi: Decimal(rng.randint(lo, hi)) / 10000 * stress  # noqa: E731
        buckets = {"days_30_59": cents(end * pct(120, 200)), "days_60_89": cents(end * pct(40, 70)),
                   "days_90_plus": cents(end * pct(20, 40)), "foreclosure": cents(end * pct(50, 90)),
                   "bankruptcy": cents(end * pct(10, 20))}
        buckets["bankruptcy_60_plus"] = cents(buckets["bankruptcy"] * Decimal(rng.randint(30, 60)) / 100)
        n = lambda b: max(1, int(b / avg)) if b else 0  # noqa: E731
        advances = cents((buckets["days_30_59"] + buckets["days_60_89"]) * self.wac / 12)
        lines = [f"  {self.name}:",
                 "    collections:",
                 f"      interest: {money(interest)}",
                 f"      scheduled_principal: {money(sched)}",
                 f"      curtailments: {money(curtail)}",
                 f"      payoffs: {{count: {payoff_count}, amount: {money(payoff)}}}"]
        if liquidations:
            lines.append("      liquidations:")
            lines += [f"        - {{loan: \"{loan}\", balance: {money(b)}, proceeds: {money(p)}}}"
                      for loan, b, p in liquidations]
        lines += [f"    advances: {money(advances)}", f"    wac: {self.wac}", f"    remaining_term: {self.term}",
                  "    delinquency:"]
        lines += [f"      {b}: {{count: {n(v)}, unpaid_balance: {money(v)}, stated_balance: {money(v)}}}"
                  for b, v in buckets.items()]
        self.last = {"interest": interest, "advances": advances}
        self.balance, self.count, self.term = end, self.count - payoff_count - len(liquidations), self.term - 1
        if self.name == "adjustable" and t % 6 == 0:  # the adjustable loans reset every six months
            self.wac = min(Decimal("0.1100"), index_for(t) + Decimal("0.0350"))
        return lines


def write(deal_dir: Path = DEAL, months: int = MONTHS) -> None:
    rng = random.Random(SEED)
    (deal_dir / "periods").mkdir(parents=True, exist_ok=True)
    groups = [Group("fixed", "300000000.00", 2400, "0.0720", 356, "0.10"),
              Group("adjustable", "200000000.00", 1600, "0.0840", 357, "0.18")]
    loan_no = [700000]
    for t in range(1, months + 1):
        lines = [f"# SYNTHETIC servicer report, month {t} of the synthetic two-group deal (scripts/make_two_group.py).",
                 f"period: {key(t)}"]
        if t == 1:
            lines += ["# The first period on file starts at closing: the certificates are dated 2025-02-25.",
                      "opening:",
                      "  previous_distribution_date: 2025-02-25",
                      "  pool_balance: 500000000.00",
                      "  loan_count: 4000",
                      "  group_balances: {fixed: 300000000.00, adjustable: 200000000.00}",
                      "  group_loan_counts: {fixed: 2400, adjustable: 1600}",
                      "  class_balances: {" + ", ".join(f"{k}: {v}" for k, v in CLASSES.items()) + ", R: 0}"]
        lines += ["index:", f"  current: {index_for(t)}", f"  next: {index_for(t + 1)}", "groups:"]
        for g in groups:
            lines += g.month(t, rng, loan_no)
        total_interest = sum((g.last["interest"] for g in groups), Decimal(0))
        total_advances = sum((g.last["advances"] for g in groups), Decimal(0))
        lines += ["# the servicer's totals for the pool, checked against the groups'",
                  f"pool_totals: {{interest: {money(total_interest)}, advances: {money(total_advances)}}}"]
        (deal_dir / "periods" / f"{key(t)}.yaml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    write()
