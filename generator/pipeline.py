"""From a deal directory to checked statements: load -> validate -> roll forward -> reconcile.

Each stage is a function of what the stage before it returned; nothing is
written until every requested statement has been computed and reconciled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from typing import Any

from . import collector
from .calendar import add_months, period_month
from .engine import FigureError, Run, distribution_date_for, run_period
from .load import (Loaded, carried_accounts_given, list_periods, load_deal, load_period, period_folder_problem,
                   period_path)
from .model import Deal, GroupedOpening, GroupedPeriod, Period
from .number import ZERO
from .program import once
from .source import InputError, InputErrors, SourceMap
from .statement import Revision, Statement
from .view import BUCKETS, invariants, statement as statement_of


class ReconciliationError(Exception):
    """A statement that does not tie out; it is never written."""

    def __init__(self, period: str, failures: list[str]):
        self.period = period
        self.failures = failures
        super().__init__("\n".join(f"{period}: does not reconcile: {f}" for f in failures))


def fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def reconcile(statement: Statement, broken: list[str] = ()) -> None:
    """Refuse a statement whose checks fail, or whose waterfall broke one of its rules (``broken``)."""
    failures = []
    for check in statement.checks:
        if not check.ok:
            diff = check.left - check.right
            failures.append(f"{check.name}: {fmt(check.left)} != {fmt(check.right)} (off by {fmt(abs(diff))})")
    failures += list(broken)
    if failures:
        raise ReconciliationError(statement.period, failures)


@dataclass(frozen=True, slots=True)
class Start:
    """Where a period starts: the previous distribution's date, pool balance and loan count."""

    distribution_date: dt.date
    pool_balance: Decimal
    loan_count: int
    groups: dict[str, tuple[Decimal, int]] = field(default_factory=dict)  # each loan group's (balance, loans)

    @classmethod
    def of(cls, run: Run) -> "Start":
        groups = {g.name: (run[f"groups.{g.name}.pool.ending_balance"], run[f"groups.{g.name}.pool.ending_count"])
                  for g in run.deal.groups}
        return cls(run["distribution_date"], run["pool.ending_balance"], run["pool.ending_count"], groups)


# ------------------------------------------------------------------ period checks


def _opening_groups(deal: Deal, op: GroupedOpening, src: SourceMap) -> list[InputError]:
    """A grouped deal's opening: a balance and loan count for each group, adding up to the pool's."""
    errors: list[InputError] = []
    names = [g.name for g in deal.groups]
    for key, mapping, total, what in (("group_balances", op.group_balances, op.pool_balance, "pool_balance"),
                                      ("group_loan_counts", op.group_loan_counts, op.loan_count, "loan_count")):
        for g in mapping:
            if g not in names:
                errors.append(src.error(("opening", key, g), f"group {g!r} is not a group of deal {deal.id} "
                                                             f"(expected one of: {', '.join(names)})"))
        missing = [g for g in names if g not in mapping]
        if missing:
            errors.append(src.error(("opening", key), f"no value for group {', '.join(missing)}"))
        added = sum(mapping.values(), ZERO if key == "group_balances" else 0)
        if not missing and added != total:
            shown = fmt(added) if key == "group_balances" else str(added)
            stated = fmt(total) if key == "group_balances" else str(total)
            errors.append(src.error(("opening", key), f"the groups add up to {shown}, but {what} is {stated} "
                                                      f"(expected the groups to add up to the pool)"))
    return errors


def _calendar_and_index(deal: Deal, period: Period, src: SourceMap) -> list[InputError]:
    """A period against the deal's calendar (an opening no earlier than the deal's closing, a
    distribution date in the month it reports) and its coupons (an index where they read one)."""
    errors: list[InputError] = []
    op = period.opening
    if op is not None:
        dated = deal.intake.dated_date if deal.intake is not None else None
        begins = min(deal.schedule.closing_date, dated or deal.schedule.closing_date)
        if op.previous_distribution_date < begins:
            errors.append(src.error(("opening", "previous_distribution_date"), (
                f"{op.previous_distribution_date.isoformat()} is before the deal's closing date "
                f"{deal.schedule.closing_date.isoformat()}{' and dated date' if dated else ''} (expected the "
                "distribution date before this one, or for the deal's first, the date interest began to accrue)")))
    floating = [c.name for c in deal.classes if c.coupon is not None and c.coupon.kind == "floating"]
    if period.index is None and (floating or deal.swaps or deal.caps):
        readers = (f"class {', '.join(floating)}'s floating coupon" if len(floating) == 1 else
                   f"classes {', '.join(floating)}'s floating coupons" if floating else "the deal's swaps and caps")
        errors.append(src.error(("period",), f"index: not given, and {readers} read it (expected index: "
                                             "{current: ..., next: ...}, the index for this and the next accrual "
                                             "period)"))
    if period.distribution_date is not None and \
            (period.distribution_date.year, period.distribution_date.month) != period_month(period.period):
        errors.append(src.error(("distribution_date",), (
            f"{period.distribution_date.isoformat()} is not in {period.period}, the month this file reports (expected "
            f"the date the {period.period} distribution is made, in {period.period})")))
    return errors


def check_period(deal: Deal, start: Start | None, period: Period, src: SourceMap,
                 charges_received: bool = True) -> list[InputError]:
    """Rules that tie a period to its deal and to the state it starts from."""
    errors: list[InputError] = []
    names = [c.name for c in deal.classes]
    known = set(names)

    def unknown_classes(path: tuple, mapping: dict, choices: list[str]) -> None:
        for name in mapping:
            if name not in known:
                errors.append(src.error(path + (name,), f"class {name!r} is not a class of deal {deal.id} "
                                                        f"(expected one of: {', '.join(choices)})"))

    op = period.opening
    if op is not None:
        excess = [c.name for c in deal.classes if c.kind in ("excess", "interest_only")]
        for key in ("class_balances", "unpaid_interest", "net_wac_carryover", "unpaid_realized_losses"):
            unknown_classes(("opening", key), getattr(op, key),
                            [n for n in names if n not in excess] if key == "class_balances" else names)
        for name in excess:
            if name in op.class_balances:
                errors.append(src.error(("opening", "class_balances", name),
                                        f"class {name}'s notional is derived (the pool less the certificates, "
                                        "or its notional: formula), not given"))
        certificates = sum((v for k, v in op.class_balances.items() if k in known and k not in excess), ZERO)
        if certificates > op.pool_balance:
            errors.append(src.error(("opening", "class_balances"),
                                    f"opening class balances add up to {fmt(certificates)}, more than the pool "
                                    f"balance {fmt(op.pool_balance)} (expected at most the pool balance)"))
        elif certificates < op.pool_balance and not any(c.kind == "excess" for c in deal.classes):
            errors.append(src.error(("opening", "class_balances"),
                                    f"opening class balances add up to {fmt(certificates)}, less than the pool "
                                    f"balance {fmt(op.pool_balance)}, and the deal has no excess class to hold the "
                                    f"{fmt(op.pool_balance - certificates)} between them (expected the classes to "
                                    "add up to the pool balance)"))
        fees = [fee.name for fee in deal.fees]
        for name in op.unpaid_fees:
            if name not in fees:
                errors.append(src.error(("opening", "unpaid_fees", name),
                                        f"{name!r} is not a fee of deal {deal.id} (expected one of: "
                                        f"{', '.join(fees) or 'none: the deal has no fees'})"))
        # the deal starts from this opening (no start before it): every balance it carries is given
        errors += carried_accounts_given(deal, op.accounts, src, ("opening", "accounts"),
                                         "after the previous distribution", complete=start is None)
        if start is None:
            left_out = [n for n in names if n not in excess and n not in op.class_balances]
            if left_out:
                errors.append(src.error(("opening", "class_balances"), (
                    f"no balance given for class {', '.join(left_out)} (expected the balance of each class but the "
                    "excess class after the previous distribution: 0.00 for one paid off, 0 for a residual class "
                    "without one)")))
        for c in deal.classes:
            if c.name in op.class_balances and op.class_balances[c.name] > c.original_balance:
                errors.append(src.error(("opening", "class_balances", c.name),
                                        f"{fmt(op.class_balances[c.name])} is more than class {c.name}'s "
                                        f"original balance {fmt(c.original_balance)}"))
    if op is not None and isinstance(op, GroupedOpening):
        errors += _opening_groups(deal, op, src)
    errors += _calendar_and_index(deal, period, src)
    if start is None and op is not None:
        groups = ({g: (op.group_balances.get(g, ZERO), op.group_loan_counts.get(g, 0)) for g in op.group_balances}
                  if isinstance(op, GroupedOpening) else {})
        start = Start(op.previous_distribution_date, op.pool_balance, op.loan_count, groups)
    if start is None:
        return errors
    date = distribution_date_for(deal, period)
    path = ("distribution_date",) if period.distribution_date else ("period",)
    if date <= start.distribution_date:
        errors.append(src.error(path, f"distribution date {date.isoformat()} is not after the previous "
                                      f"distribution date {start.distribution_date.isoformat()}"))
    first = deal.schedule.first_distribution_date
    if period.revised_on is not None:
        errors += _check_revised_on(period.revised_on, date, src)
    if date < first:
        errors.append(src.error(path, f"distribution date {date.isoformat()} is before the deal's first "
                                      f"distribution date {first.isoformat()} (expected on or after it)"))
    if isinstance(period, GroupedPeriod):
        errors += _group_checks(deal, start, period, src, charges_received)
    else:
        errors += _report_checks(period, start.pool_balance, start.loan_count, (), src, deal, charges_received)
    return errors


#: The delinquency buckets that do not overlap (bankrupt and 60+ days is part of bankrupt).
_BUCKETS = tuple(b for b in BUCKETS if b != "bankruptcy_60_plus")


def _report_checks(report: Any, pool_balance: Decimal, loan_count: int, at: tuple, src: SourceMap, deal: Deal,
                   charges_received: bool) -> list[InputError]:
    """A pool's (or a loan group's) report against the balance and loans it starts from."""
    errors: list[InputError] = []
    coll = report.collections
    if coll.prepayment_charges and not charges_received:
        errors.append(src.error(at + ("collections", "prepayment_charges"),
                                f"{fmt(coll.prepayment_charges)} collected, but deal {deal.id} names no class to "
                                "receive them (expected 0, or a pay: prepayment_charges action in the deal)"))
    liq_balance = sum((l.balance for l in coll.liquidations), ZERO)
    removed = (coll.scheduled_principal + coll.curtailments + coll.payoffs.amount + liq_balance
               + coll.repurchases.amount)
    if removed > pool_balance:
        errors.append(src.error(at + ("collections",), f"principal collected and liquidated ({fmt(removed)}) is more "
                                                  f"than the pool balance {fmt(pool_balance)}"))
    for i, loan in enumerate(coll.liquidations):
        if loan.proceeds > loan.balance:
            errors.append(src.error(at + ("collections", "liquidations", i, "proceeds"),
                                    f"proceeds {fmt(loan.proceeds)} exceed the loan's balance {fmt(loan.balance)}"))
    errors += _listed_once(coll.liquidations, at + ("collections", "liquidations"), "liquidated", src)
    errors += _listed_once(report.reo.new, at + ("reo", "new"), "listed as new REO", src)
    for what, counted in (("payoffs", coll.payoffs), ("repurchases", coll.repurchases)):
        if bool(counted.count) != bool(counted.amount):
            errors.append(src.error(at + ("collections", what), (
                f"{counted.count} loans with {fmt(counted.amount)} of principal (expected a count and an amount "
                "both zero or both not)")))
    removed_loans = coll.payoffs.count + len(coll.liquidations) + coll.repurchases.count
    if removed_loans > loan_count:
        errors.append(src.error(at + ("collections", "payoffs", "count"),
                                f"{removed_loans} loans paid off, liquidated or repurchased, but the pool has "
                                f"only {loan_count}"))
    dq = report.delinquency
    for b in BUCKETS:
        bucket = getattr(dq, b)
        if bucket.count and not bucket.stated_balance or bucket.stated_balance and not bucket.count:
            errors.append(src.error(at + ("delinquency", b), "count and stated balance must both be zero or both not"))
    if dq.bankruptcy_60_plus.stated_balance > dq.bankruptcy.stated_balance:
        errors.append(src.error(at + ("delinquency", "bankruptcy_60_plus"),
                                "bankrupt loans 60+ days delinquent are part of all bankrupt loans; "
                                f"{fmt(dq.bankruptcy_60_plus.stated_balance)} > {fmt(dq.bankruptcy.stated_balance)}"))
    if removed > pool_balance or removed_loans > loan_count:
        return errors  # the pool's end is not known: nothing more is measured against it
    errors += _against_the_pools_end(report, pool_balance - removed, loan_count - removed_loans, at, src)
    return errors


def _listed_once(loans: Any, at: tuple, what: str, src: SourceMap) -> list[InputError]:
    first: dict[str, int] = {}
    errors = []
    for i, loan in enumerate(loans):
        if loan.loan in first:
            errors.append(src.error(at + (i, "loan"), f"loan {loan.loan} is {what} twice (also at item "
                                                      f"{first[loan.loan]}; expected each loan once)"))
        first.setdefault(loan.loan, i)
    return errors


def _against_the_pools_end(report: Any, pool_end: Decimal, loans_end: int, at: tuple, src: SourceMap
                           ) -> list[InputError]:
    """The delinquency and REO a report gives, against the balance and loans the pool ends with."""
    errors: list[InputError] = []
    dq = report.delinquency
    stated = sum((getattr(dq, b).stated_balance for b in _BUCKETS), ZERO) + report.reo.stated_balance
    if stated > pool_end:
        errors.append(src.error(at + ("delinquency",), f"delinquent and REO stated balances add up to {fmt(stated)}, "
                                                  f"more than the ending pool balance {fmt(pool_end)}"))
    over = False
    for b in BUCKETS:
        bucket = getattr(dq, b)
        if bucket.count > loans_end:
            over = True
            errors.append(src.error(at + ("delinquency", b, "count"),
                                    f"{bucket.count:,} loans, more than the {loans_end:,} the pool ends with"))
        if bucket.stated_balance > pool_end:
            errors.append(src.error(at + ("delinquency", b, "stated_balance"),
                                    f"{fmt(bucket.stated_balance)} is more than the ending pool balance {fmt(pool_end)}"))
    loans = sum(getattr(dq, b).count for b in _BUCKETS)
    if loans > loans_end and not over:
        errors.append(src.error(at + ("delinquency",), f"{loans:,} loans delinquent, in foreclosure or bankrupt, more "
                                                  f"than the {loans_end:,} the pool ends with"))
    if report.reo.stated_balance > pool_end:
        errors.append(src.error(at + ("reo", "stated_balance"), f"more than the ending pool balance {fmt(pool_end)}"))
    return errors


def _group_checks(deal: Deal, start: "Start", period: GroupedPeriod, src: SourceMap,
                  charges_received: bool) -> list[InputError]:
    """Each loan group's report against where it starts; the servicer's pool totals, where given,
    are the groups' added up."""
    errors: list[InputError] = []
    names = [g.name for g in deal.groups]  # a report for each and no other (load_period holds the file to that)
    for g in names:
        if g in period.groups and g in start.groups:
            balance, count = start.groups[g]
            errors += _report_checks(period.groups[g], balance, count, ("groups", g), src, deal, charges_received)
    totals = period.pool_totals
    if totals is not None:
        reports = [period.groups[g] for g in names if g in period.groups]
        sums = {"interest": lambda r: r.collections.interest,
                "scheduled_principal": lambda r: r.collections.scheduled_principal,
                "curtailments": lambda r: r.collections.curtailments,
                "payoffs": lambda r: r.collections.payoffs.amount,
                "prepayment_charges": lambda r: r.collections.prepayment_charges, "advances": lambda r: r.advances}
        for name, get in sums.items():
            stated = getattr(totals, name)
            added = sum((get(r) for r in reports), ZERO)
            if stated is not None and stated != added:
                errors.append(src.error(("pool_totals", name), f"{fmt(stated)} for the pool, but the groups' add up "
                                                                f"to {fmt(added)} (expected the groups' sum)"))
    return errors


#: How long after its distribution date a statement may still be revised.
REVISION_YEARS = 10


def _check_revised_on(revised_on: dt.date, date: dt.date, src: SourceMap) -> list[InputError]:
    """A revision is made on or after the distribution date it revises, and within
    REVISION_YEARS of it (a date decades ahead is a typo, and would print as a two-digit year
    that reads as the past)."""
    latest = date.replace(year=date.year + REVISION_YEARS) if not (date.month == 2 and date.day == 29) \
        else dt.date(date.year + REVISION_YEARS, 2, 28)
    if revised_on < date:
        return [src.error(("revised_on",), f"{revised_on.isoformat()} is before the distribution date "
                                           f"{date.isoformat()} it revises (expected that date or later)")]
    if revised_on > latest:
        return [src.error(("revised_on",), f"{revised_on.isoformat()} is more than {REVISION_YEARS} years after the "
                                           f"distribution date {date.isoformat()} (expected a date from "
                                           f"{date.isoformat()} to {latest.isoformat()})")]
    return []


def agree_with_opening(deal: Deal, previous: Run, period: Period, src: SourceMap) -> list[InputError]:
    """An opening state given after the first period must equal the computed one."""
    op = period.opening
    v = previous.values
    pairs: list[tuple[tuple, Any, Any]] = [
        (("opening", "previous_distribution_date"), op.previous_distribution_date, v["distribution_date"]),
        (("opening", "pool_balance"), op.pool_balance, v["pool.ending_balance"]),
        (("opening", "loan_count"), op.loan_count, v["pool.ending_count"]),
        (("opening", "cumulative_realized_losses"), op.cumulative_realized_losses, v["losses.cumulative"])]
    for c in deal.classes:
        if c.name in op.class_balances:
            pairs.append((("opening", "class_balances", c.name), op.class_balances[c.name], v[f"{c.name}.ending_balance"]))
    for name, value in op.accounts.items():  # a carried account's (an unknown one is reported by check_period)
        if f"accounts.{name}.balance" in v:
            pairs.append((("opening", "accounts", name), value, v[f"accounts.{name}.balance"]))
    for section, figure in (("unpaid_interest", "unpaid_interest_after"), ("net_wac_carryover", "carryover_after"),
                            ("unpaid_realized_losses", "unpaid_losses_after")):
        for name, value in getattr(op, section).items():
            computed = v.get(f"{name}.{figure}", ZERO)
            pairs.append((("opening", section, name), value, computed))
    for fee in deal.fees:
        if fee.name in op.unpaid_fees:
            pairs.append((("opening", "unpaid_fees", fee.name), op.unpaid_fees[fee.name],
                          v[f"fees.{previous.program.keys[f'fee:{fee.name}']}.unpaid_after"]))
    errors = []
    for path, stated, computed in pairs:
        if stated != computed:
            if isinstance(stated, Decimal):
                detail = f"given {fmt(stated)}, computed {fmt(computed)} ({fmt(abs(stated - computed))} apart)"
            else:
                detail = f"given {stated}, computed {computed}"
            errors.append(src.error(path, f"does not agree with the previous period's closing state: {detail}"))
    return errors


# ------------------------------------------------------------------ running periods


@dataclass(frozen=True, slots=True)
class Computed:
    deal: Deal
    deal_source: SourceMap
    period: Period
    source: SourceMap
    statement: Statement
    #: Set when the statement is rendered as a revision of a published one.
    revision: Revision | None = None
    #: Every figure of the distribution, and how it was reached (for remit explain).
    run: Run | None = None

    def previous_statement(self) -> Statement | None:
        """The deal's previous statement (a template may show last month's figures), or none."""
        if self.run is None or self.run.previous is None:
            return None
        return statement_of(self.run.previous)


def select_periods(available: list[str], spec: str) -> list[str]:
    """``2002-05``, ``all``, ``latest`` (the last on file), or a range ``2002-05..2004-12``: every
    month in it, first and last included, each of which must be on file like a single month."""
    if spec == "all":
        return list(available)
    if spec == "latest":
        return list(available[-1:])
    if ".." in spec:
        first, last = spec.split("..", 1)
        return months_from(first, next_month(last))
    return [spec]


def months_from(first: str, stop: str) -> list[str]:
    """Every month from ``first`` up to, not including, ``stop`` (none when ``stop`` is not after it)."""
    out = []
    month = first
    while month < stop:
        out.append(month)
        month = next_month(month)
    return out


def next_month(key: str) -> str:
    """``2002-06`` for ``2002-05``; ``2003-01`` for ``2002-12``."""
    year, month = add_months(*period_month(key), 1)
    return f"{year:04d}-{month:02d}"


def month_runs(keys: list[str]) -> str:
    """Months, in order, said as runs: ``2002-05, 2002-07..2002-09``."""
    runs: list[list[str]] = []
    for key in keys:
        if runs and next_month(runs[-1][-1]) == key:
            runs[-1].append(key)
        else:
            runs.append([key])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def gaps(available: list[str], last: str) -> list[tuple[str, list[str]]]:
    """Each period on file up to ``last`` that does not follow the one before it on file, with the
    months missing before it: every statement starts where the month before it ended."""
    out = []
    for before, key in zip(available, available[1:]):
        if key > last:
            break
        missing = months_from(next_month(before), key)
        if missing:
            out.append((key, missing))
    return out


def run(deal_dir: Path, spec: str, root: Path | None = None,
        unreconciled: list[ReconciliationError] | None = None, staged: dict[str, str] | None = None
        ) -> list[Computed]:
    """Compute and reconcile the statements for ``spec``, rolling every period forward from
    the deal's first period on file.  ``root``: a directory no input may be read from outside
    of, links followed (the preview server's).  ``unreconciled``: where a statement's
    reconciliation failures go instead of being raised (for remit explain, which shows the
    figures of a statement that does not reconcile, to find why; nothing is written from it).

    Raises :class:`InputErrors` (every problem found: the deal's and each period file's
    together) or :class:`ReconciliationError`.  ``staged``: period files about to be written, by
    month (remit intake's), read as if they were on file: what would be written is checked as a
    render would read it, before it is."""
    with collector.paused():
        return _run(Path(deal_dir), spec, root, unreconciled, staged or {})


def _run(deal_dir: Path, spec: str, root: Path | None,
         unreconciled: list[ReconciliationError] | None, staged: dict[str, str]) -> list[Computed]:
    errors: list[InputError] = []
    try:
        loaded_deal: Loaded | None = load_deal(deal_dir, root)
    except InputErrors as exc:
        loaded_deal, errors = None, list(exc.errors)
    available = sorted(set(list_periods(deal_dir)) | staged.keys())
    wanted = select_periods(available, spec)
    if loaded_deal is not None:  # a report for a month before the deal's first distribution, not asked for
        first = loaded_deal.value.schedule.first_distribution_date
        early = [key for key in available if key < f"{first:%Y-%m}" and key not in wanted]
        errors += [InputError(str(period_path(deal_dir, key)), 0, "", (
            f"a report for {key}, before the deal's first distribution ({first.isoformat()}): no statement is made "
            f"for it (expected none before {first:%Y-%m}: is the file misnamed?)")) for key in early]
        available = [key for key in available if key not in early]
    on_file = set(available)
    missing = [p for p in wanted if p not in on_file]
    if missing or not wanted:
        where = str(deal_dir / "periods")
        if not available:
            what = (period_folder_problem(deal_dir)
                    or "no period files (expected the servicer's reports as periods/YYYY-MM.yaml)")
            raise InputErrors(errors + [InputError(where, 0, "", what)])
        asked = [[spec]] if not wanted else [[p] for p in missing] if ".." not in spec else [missing]
        raise InputErrors(errors + [InputError(where, 0, "", f"no period file for {month_runs(months)} (expected "
                                                             f"{period_path(deal_dir, months[0])}"
                                                             f"{' and one for each of the others' if months[1:] else ''}"
                                                             f"; on file: {month_runs(available)})")
                                    for months in asked])
    last = max(wanted)
    for key, months in gaps(available, last):
        errors.append(InputError(str(period_path(deal_dir, key)), 0, "",
                                 f"the servicer's report for {month_runs(months)} is missing (expected "
                                 f"{period_path(deal_dir, months[0])}{' and one for each month after it' if len(months) > 1 else ''}"
                                 f"): {key}'s statement starts from the balances {months[-1]}'s left"))
    periods: list[Loaded] = []
    for key in available:  # every period file the roll-forward reads, each checked on its own
        if key > last:
            break
        try:
            grouped = bool(loaded_deal.value.groups) if loaded_deal is not None else None  # None: as the file is
            periods.append(load_period(deal_dir, key, root, grouped=grouped,
                                       deal=loaded_deal.value if loaded_deal is not None else None,
                                       text=staged.get(key)))
        except InputErrors as exc:
            errors += exc.errors
    if errors or loaded_deal is None:
        raise InputErrors(errors)
    return _roll_forward(loaded_deal, periods, wanted, unreconciled)


def _roll_forward(loaded_deal: Loaded, periods: list[Loaded], wanted: list[str],
                  unreconciled: list[ReconciliationError] | None = None) -> list[Computed]:
    """Run each period from the run before it, checking each against where it starts."""
    deal: Deal = loaded_deal.value
    program = loaded_deal.program
    charges = once(program, "pays_prepayment_charges", lambda: any(
        getattr(p.action, "pay", None) == "prepayment_charges" for p in _all(program.actions)))
    previous: Run | None = None
    out: list[Computed] = []
    for loaded in periods:
        period: Period = loaded.value
        first = previous is None
        errors = check_period(deal, Start.of(previous) if previous else None, period, loaded.source, charges)
        if first and period.opening is None:
            errors.append(loaded.source.error(("opening",), _no_opening(loaded_deal, loaded)))
        elif not first and period.opening is not None:
            errors += agree_with_opening(deal, previous, period, loaded.source)
        if errors:
            raise InputErrors(errors)
        try:
            run = run_period(program, previous, period, loaded.source)
        except FigureError as exc:
            raise InputErrors(exc.errors) from None
        statement = statement_of(run)
        try:
            reconcile(statement, invariants(statement, run))
        except ReconciliationError as exc:
            if unreconciled is None:
                raise
            unreconciled.append(exc)
        previous = run
        if period.period in wanted:
            out.append(Computed(deal, loaded_deal.source, period, loaded.source, statement, run=run))
    return out


def _no_opening(loaded_deal: Loaded, loaded: Loaded) -> str:
    """Why the first period on file cannot start: it has no opening state, and, when the deal
    distributed before it, the reports of those months are not on file."""
    message = "the deal's first period on file needs an opening state (balances after the previous distribution)"
    first = loaded_deal.value.schedule.first_distribution_date
    months = months_from(f"{first.year:04d}-{first.month:02d}", loaded.value.period)
    if not months:
        return message
    expected = Path(loaded.source.file).with_name(f"{months[0]}.yaml")
    return (f"{message}, or the servicer's reports before it are missing: the deal's first distribution was "
            f"{first.isoformat()} (expected {expected}{' and one for each month after it' if months[1:] else ''}, "
            f"for {month_runs(months)})")


def _all(actions: Any) -> Any:
    for p in actions:
        yield p
        yield from _all(p.otherwise)


# ------------------------------------------------------------------ naming


def output_name(statement: Statement, ext: str) -> str:
    return f"{statement.deal_id}_{statement.distribution_date.isoformat()}.{ext}"
