#!/usr/bin/env python3
"""Benchmark servicer tape intake (not a test): a 10,000-loan tape of the home-equity
deal's servicer, read, tied out against the previous month's 10,000-loan tape and
statement, aggregated and written as the period file, against a bare polars read of the
same CSV.

Prints rows per second, the ratio to the bare read, whether one tape is under its 0.5 s
target, and a month end of 1,000 such deals (10 million rows) on this machine's cores,
extrapolated from a measured run of ``--deals`` deals in worker processes, with the peak
memory of one worker (bounded by one deal's tapes, not the book).

    .venv/bin/python scripts/bench_intake.py [--loans 10000] [--deals 16]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from generator.intake import run_intake, write_period  # noqa: E402

DEAL = ROOT / "inputs" / "synthetic-home-equity-2024-1"
TARGET = 0.5  # seconds for one 10,000-loan tape, at most
HEADER = ("LOAN_NO,BEG_SCHED_BAL,SCHED_PRIN,CURTAIL,PIF_AMT,LIQ_BAL,LIQ_PROCEEDS,END_SCHED_BAL,ACTUAL_UPB,"
          "INT_REMIT,PI_ADVANCE,PPP_COLLECTED,PPIS,COMP_INT,SCRA_SHORTFALL,NOTE_RATE,REM_TERM,NEXT_DUE,STATUS,"
          "REO_BOOK,MOD_FLAG,PROPERTY_STATE")
INTAKE = "\nintake:\n  mapping: servicer.yaml\n  delinquency_method: MBA\n  fixings: fixings.yaml\n"


def money(cents: int) -> str:
    text = f"{Decimal(cents).scaleb(-2):,.2f}"
    return f'"{text}"' if "," in text else text


#: The deal's cut-off balance, in cents: the first tape's loans add up to it, as intake checks.
CUTOFF = 500_000_000_00


def tapes(n: int, seed: int) -> tuple[str, str]:
    """The 2024-02 and 2024-03 tapes of ``n`` loans: the first adds up to the cut-off balance,
    the second starts where the first ends."""
    rng = random.Random(seed)
    weights = [rng.randint(4, 45) for _ in range(n)]
    begins = [CUTOFF * w // sum(weights) for w in weights]
    for i in range(CUTOFF - sum(begins)):  # the cents the division left, one each to the first loans
        begins[i] += 1
    before, after = [HEADER], [HEADER]
    for i in range(n):
        loan = f"{200000 + i}"
        begin = begins[i]
        sched = begin // 800
        end = begin - sched
        rate = rng.choice(("9.750", "10.125", "10.500", "11.000"))
        before.append(",".join((loan, money(begin), money(sched), "0.00", "0.00", "0.00", "0.00", money(end),
                                money(end), money(begin // 100), "0.00", "0.00", "0.00", "0.00", "0.00", rate,
                                "357", "02/01/2024", "C", "0.00", "N", "CA")))
        roll = rng.random()
        sched2 = end // 800
        if roll < 0.02:  # paid in full
            cells = (money(sched2), "0.00", money(end - sched2), "0.00", "0.00", "0.00", "0.00", "03/01/2024", "P")
        elif roll < 0.05:  # a payment missed
            cells = (money(sched2), "0.00", "0.00", "0.00", "0.00", money(end - sched2), money(end), "02/01/2024",
                     "3")
        else:
            cells = (money(sched2), "0.00", "0.00", "0.00", "0.00", money(end - sched2), money(end - sched2),
                     "03/01/2024", "C")
        s, c, p, lb, lp, e, a, due, status = cells
        after.append(",".join((loan, money(end), s, c, p, lb, lp, e, a, money(end // 100), "0.00", "0.00", "0.00",
                               "0.00", "0.00", rate, "356", due, status, "0.00", "N", "CA")))
    return "\n".join(before) + "\n", "\n".join(after) + "\n"


def make_deal(where: Path, loans: int, seed: int) -> Path:
    deal = where / f"deal-{seed}"
    (deal / "periods").mkdir(parents=True)
    (deal / "tapes").mkdir()
    (deal / "deal.yaml").write_text((DEAL / "deal.yaml").read_text().split("\nintake:")[0] + INTAKE)
    shutil.copy(DEAL / "servicer.yaml", deal / "servicer.yaml")
    (deal / "fixings.yaml").write_text("2024-02: 0.0411\n2024-03: 0.0500\n2024-04: 0.0510\n")
    first, second = tapes(loans, seed)
    (deal / "tapes" / "2024-02.csv").write_text(first)
    (deal / "tapes" / "2024-03.csv").write_text(second)
    # the first month is taken from its tape too, so that the measured month ties to its statement
    write_period(deal, run_intake(deal, "2024-02", deal / "tapes" / "2024-02.csv"))
    return deal


def one(deal: Path) -> float:
    start = time.perf_counter()
    write_period(deal, run_intake(deal, "2024-03", deal / "tapes" / "2024-03.csv"))
    return time.perf_counter() - start


def worker(deal: str) -> tuple[float, int]:
    seconds = one(Path(deal))
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=16, help="deals run in worker processes for the month end")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        deal = make_deal(Path(tmp), args.loans, 1)
        tape = deal / "tapes" / "2024-03.csv"
        one(deal)  # warm: imports, the deal file's first read
        bare = min(_timed(lambda: pl.read_csv(tape, infer_schema=False)) for _ in range(5))
        full = min(one(deal) for _ in range(5))
        print(f"tape of {args.loans:,} loans ({tape.stat().st_size / 1e6:.1f} MB), tied to the previous month's:")
        print(f"  bare polars read of the CSV      {bare * 1000:8.1f} ms  {args.loans / bare:12,.0f} rows/s")
        print(f"  intake: read, tie out, aggregate {full * 1000:8.1f} ms  {args.loans / full:12,.0f} rows/s"
              f"  ({full / bare:.1f}x the bare read; it reads last month's tape too)")
        verdict = "PASS" if full < TARGET else "MISS"
        print(f"  one tape: {full:.3f} s (target under {TARGET} s): {verdict}")
        deals = [str(make_deal(Path(tmp), args.loans, seed)) for seed in range(2, 2 + args.deals)]
        start = time.perf_counter()
        # spawn, not fork: a forked child of a process whose polars thread pool is running can hang
        with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(worker, deals))
        wall = time.perf_counter() - start
        peak = max(rss for _, rss in results)
        per_deal = wall / args.deals
        print(f"month end: {args.deals} deals of {args.loans:,} loans in {wall:.2f} s on {cores} cores "
              f"({per_deal:.3f} s a deal, with process start-up)")
        print(f"  1,000 deals ({1000 * args.loans / 1e6:.0f} million rows): about {per_deal * 1000 / 60:.1f} minutes;"
              f" peak memory of a worker {peak / 1024:.0f} MiB (one deal's tapes at a time)")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
