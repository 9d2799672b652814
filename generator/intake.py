"""Servicer data in: the month's loan-level tape becomes the deal's period file.

The servicer sends one row per loan, in its own columns, number and date formats and status
codes; the deal's mapping (``servicer.yaml``) says how to read them.  Intake reads every cell
as text, turns it into exact integers (cents, billionths of a rate, months, dates), ties the
tape out loan by loan (each balance rolls; a loan leaves only paid in full, liquidated or
repurchased; against the previous month's tape, each beginning balance is last month's ending
balance and no loan vanishes or appears), aggregates it by :data:`RULES`, ties the totals to
the servicer's remittance report to the cent, and writes ``periods/YYYY-MM.yaml``.  Every
figure the engine derives stays the engine's: intake writes only what the servicer reports.

The tape is read by :mod:`generator.tape` with polars: a CSV reader and a columnar engine
made for millions of rows, every amount kept as text and then as whole cents in 64-bit
(128-bit for rate x balance) integers, never as a float.  :data:`RULES` is the one statement of what each period figure
is made of: the aggregation reads it, and ``remit explain --loans`` lists the loans of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import Field

from .calendar import add_months, period_month
from .load import (INTAKE_HEADER, carried_accounts_given, list_periods, load_deal, period_path, validate,
                   written_by_intake)
from .model import Count, Deal, GroupName, Money, Payoffs, PeriodKey, Repurchases, Strict
from .output import write_atomic
from .source import InputError, InputErrors, SourceMap, load_yaml, read_input, shown
from .tape import (MAX_TAPE_BYTES, PERFORMING, RATE_SCALE, Mapping, Problems, Tape, TapeError, check_mapping,
                   money_text, rate_text, read_tape)


# --------------------------------------------------------------------------- the remittance report


class LiquidationTotals(Strict):
    count: Count = Field(description="Loans liquidated.")
    balance: Money = Field(description="Their stated balance.")
    proceeds: Money = Field(description="Net liquidation proceeds.")


class RemittanceTotals(Strict):
    """The servicer's totals, for the pool or one loan group; each one stated is tied to the tape."""

    loans: Count | None = Field(None, description="Loans on the tape (in the pool at the start of the period).")
    beginning_balance: Money | None = Field(None, description="Stated balance at the start of the period.")
    scheduled_principal: Money | None = Field(None, description="Scheduled principal.")
    curtailments: Money | None = Field(None, description="Partial prepayments.")
    payoffs: Payoffs | None = Field(None, description="Payments in full.")
    liquidations: LiquidationTotals | None = Field(None, description="Liquidated loans.")
    repurchases: Repurchases | None = Field(None, description="Repurchased loans.")
    interest: Money | None = Field(None, description="Interest remitted.")
    advances: Money | None = Field(None, description="P&I advances.")
    prepayment_charges: Money | None = Field(None, description="Prepayment charges.")
    ending_balance: Money | None = Field(None, description="Stated balance at the end of the period.")


class Remittance(Strict):
    """The servicer's remittance report: its own totals of the month's tape."""

    period: PeriodKey = Field(description="The distribution month, YYYY-MM.")
    totals: RemittanceTotals = Field(description="The pool's totals.")
    groups: dict[GroupName, RemittanceTotals] = Field({}, description="Each loan group's totals.")


# --------------------------------------------------------------------------- delinquency and the rules


def as_of_date(period: str) -> dt.date:
    """The tape's reporting date: the last day of the month before the distribution month."""
    return dt.date(*period_month(period), 1) - dt.timedelta(days=1)


def _classify(frame: pl.DataFrame, as_of: dt.date, method: str, previous: pl.DataFrame | None) -> pl.DataFrame:
    """Add each loan's missed payments, its delinquency bucket by ``method`` and whether it
    became REO this month."""
    due = pl.col("next_due_date")
    months = (as_of.year * 12 + as_of.month) - (due.dt.year().cast(pl.Int64) * 12 + due.dt.month().cast(pl.Int64))
    missed = pl.when(due > pl.lit(as_of)).then(0).otherwise(months + 1)
    level = missed - (1 if method == "OTS" else 0)
    performing = pl.col("status").is_in(list(PERFORMING)) & (pl.col("ending_balance") > 0)
    bucket = (pl.when(performing & (pl.col("level") == 1)).then(pl.lit("days_30_59"))
              .when(performing & (pl.col("level") == 2)).then(pl.lit("days_60_89"))
              .when(performing & (pl.col("level") >= 3)).then(pl.lit("days_90_plus"))
              .otherwise(pl.lit(None, dtype=pl.String)))
    out = frame.with_columns(missed.alias("missed"), level.alias("level")).with_columns(bucket.alias("bucket"))
    if previous is not None:
        was = previous.select("loan_id", (pl.col("status") == "reo").alias("was_reo"))
        out = out.join(was, on="loan_id", how="left").with_columns(pl.col("was_reo").fill_null(False))
    else:
        out = out.with_columns(pl.lit(False).alias("was_reo"))
    return out


#: Which loans a figure adds up: a polars condition and how explain describes it.
SELECTIONS: dict[str, tuple[pl.Expr, str]] = {
    "all": (pl.lit(True), "every loan on the tape"),
    "paid_in_full": (pl.col("status") == "paid_in_full", "the loans paid in full"),
    "liquidated": (pl.col("status") == "liquidated", "the loans liquidated"),
    "repurchased": (pl.col("status") == "repurchased", "the loans repurchased"),
    "days_30_59": (pl.col("bucket") == "days_30_59", "the loans 30-59 days delinquent by the {method} method "
                                                     "(status current or delinquent, {first} missed at {as_of})"),
    "days_60_89": (pl.col("bucket") == "days_60_89", "the loans 60-89 days delinquent by the {method} method "
                                                     "(status current or delinquent, {second} missed at {as_of})"),
    "days_90_plus": (pl.col("bucket") == "days_90_plus", "the loans 90 or more days delinquent by the {method} "
                                                         "method (status current or delinquent, {third} missed at "
                                                         "{as_of})"),
    "foreclosure": (pl.col("status") == "foreclosure", "the loans in foreclosure (status)"),
    "bankruptcy": (pl.col("status") == "bankruptcy", "the loans in bankruptcy (status)"),
    "bankruptcy_60_plus": ((pl.col("status") == "bankruptcy") & (pl.col("level") >= 2),
                           "the loans in bankruptcy 60 or more days delinquent by the {method} method ({second} "
                           "or more missed at {as_of})"),
    "reo": (pl.col("status") == "reo", "the REO properties (status)"),
    "reo_new": ((pl.col("status") == "reo") & ~pl.col("was_reo"), "the loans REO this month and not on the "
                                                                  "previous tape"),
    "modified": (pl.col("modified"), "the modified loans"),
}


@dataclass(frozen=True)
class Rule:
    """One figure of the period file: ``op`` over the ``column`` of the loans ``selection`` picks;
    ``needs``: the tape field its column comes from (the figure is written only when the mapping
    reads it)."""

    path: tuple[str, ...]
    selection: str
    op: Literal["sum", "count", "weighted"]
    column: str | None = None
    needs: str | None = None

    def expr(self) -> pl.Expr:
        where = SELECTIONS[self.selection][0]
        if self.op == "count":
            return pl.col("row").filter(where).count().cast(pl.Int64)
        if self.op == "sum":
            return pl.col(self.column).filter(where).cast(pl.Int128).sum()  # a 64-bit sum would wrap around
        return (pl.col(self.column).cast(pl.Int128) * pl.col("beginning_balance").cast(pl.Int128)).sum()

    @property
    def key(self) -> str:
        return ".".join(self.path)


BUCKETS = ("days_30_59", "days_60_89", "days_90_plus", "foreclosure", "bankruptcy", "bankruptcy_60_plus")

#: What each figure of a period file is, from the tape: the one statement of it.
RULES: tuple[Rule, ...] = (
    Rule(("collections", "interest"), "all", "sum", "interest"),
    Rule(("collections", "scheduled_principal"), "all", "sum", "scheduled_principal"),
    Rule(("collections", "curtailments"), "all", "sum", "curtailment"),
    Rule(("collections", "payoffs", "count"), "paid_in_full", "count"),
    Rule(("collections", "payoffs", "amount"), "paid_in_full", "sum", "payoff"),
    Rule(("collections", "repurchases", "count"), "repurchased", "count", needs="repurchased_balance"),
    Rule(("collections", "repurchases", "amount"), "repurchased", "sum", "repurchased_balance",
         needs="repurchased_balance"),
    Rule(("collections", "prepayment_charges"), "all", "sum", "prepayment_charge", needs="prepayment_charge"),
    Rule(("advances",), "all", "sum", "advance", needs="advance"),
    Rule(("wac",), "all", "weighted", "note_rate"),
    Rule(("remaining_term",), "all", "weighted", "remaining_term"),
    *(Rule(("delinquency", b, part), b, op, column)
      for b in BUCKETS
      for part, op, column in (("count", "count", None), ("unpaid_balance", "sum", "actual_balance"),
                               ("stated_balance", "sum", "ending_balance"))),
    Rule(("reo", "stated_balance"), "reo", "sum", "ending_balance"),
    Rule(("reo", "book_value"), "reo", "sum", "reo_book_value", needs="reo_book_value"),
    Rule(("shortfalls", "prepayment_interest"), "all", "sum", "prepayment_interest_shortfall",
         needs="prepayment_interest_shortfall"),
    Rule(("shortfalls", "covered_by_servicer"), "all", "sum", "compensating_interest", needs="compensating_interest"),
    Rule(("shortfalls", "relief_act"), "all", "sum", "relief_act_shortfall", needs="relief_act_shortfall"),
)
#: Lists of loans in the period file: the selection and the columns of each item.
LISTS = {
    ("collections", "liquidations"): ("liquidated", (("loan", "loan_id"), ("balance", "liquidated_balance"),
                                                     ("proceeds", "liquidation_proceeds"))),
    ("reo", "new"): ("reo_new", (("loan", "loan_id"), ("unpaid_balance", "actual_balance"),
                                 ("stated_balance", "ending_balance"))),
}
#: Totals of the tape itself, tied to the remittance report (beside the figures of RULES).
TAPE_TOTALS = {
    "loans": Rule(("loans",), "all", "count"),
    "beginning_balance": Rule(("beginning_balance",), "all", "sum", "beginning_balance"),
    "ending_balance": Rule(("ending_balance",), "all", "sum", "ending_balance"),
    "liquidations.count": Rule(("liquidations", "count"), "liquidated", "count"),
    "liquidations.balance": Rule(("liquidations", "balance"), "liquidated", "sum", "liquidated_balance"),
    "liquidations.proceeds": Rule(("liquidations", "proceeds"), "liquidated", "sum", "liquidation_proceeds"),
    "modified.count": Rule(("modified", "count"), "modified", "count"),
    "modified.balance": Rule(("modified", "balance"), "modified", "sum", "ending_balance"),
}
#: The remittance report's names for the figures of RULES and TAPE_TOTALS.
REMITTANCE = {
    "loans": "loans", "beginning_balance": "beginning_balance", "ending_balance": "ending_balance",
    "scheduled_principal": "collections.scheduled_principal", "curtailments": "collections.curtailments",
    "payoffs.count": "collections.payoffs.count", "payoffs.amount": "collections.payoffs.amount",
    "liquidations.count": "liquidations.count", "liquidations.balance": "liquidations.balance",
    "liquidations.proceeds": "liquidations.proceeds", "repurchases.count": "collections.repurchases.count",
    "repurchases.amount": "collections.repurchases.amount", "interest": "collections.interest",
    "advances": "advances", "prepayment_charges": "collections.prepayment_charges",
}


def _value(rule: Rule, raw: int, weight: int) -> Decimal | int:
    """A rule's aggregate as the period file writes it."""
    if rule.op == "count":
        return int(raw)
    if rule.op == "sum":
        return Decimal(int(raw)).scaleb(-2)
    if weight == 0:
        return Decimal(0)
    if rule.column == "note_rate":
        return (Decimal(int(raw)) / Decimal(weight) / RATE_SCALE).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return int((Decimal(int(raw)) / Decimal(weight)).quantize(Decimal(1), ROUND_HALF_UP))


def _rules_for(headers: dict[str, str]) -> list[Rule]:
    return [r for r in RULES if r.needs is None or r.needs in headers]


def aggregate(frame: pl.DataFrame, headers: dict[str, str]) -> dict[str, Any]:
    """The figures of one group (or the pool): ``{"collections.interest": Decimal, ...}``, the
    lists of loans, and the tape's own totals."""
    rules = _rules_for(headers) + list(TAPE_TOTALS.values())
    row = frame.select([r.expr().alias(f"r{i}") for i, r in enumerate(rules)]).row(0)
    weight = int(frame["beginning_balance"].cast(pl.Int128).sum())
    out: dict[str, Any] = {r.key: _value(r, v, weight) for r, v in zip(rules, row)}
    for path, (selection, items) in LISTS.items():
        picked = frame.filter(SELECTIONS[selection][0]).sort("loan_id")
        out[".".join(path)] = [{k: (r[c] if c == "loan_id" else Decimal(r[c]).scaleb(-2)) for k, c in items}
                               for r in picked.iter_rows(named=True)]
    return out


# --------------------------------------------------------------------------- the month's intake


@dataclass
class Intake:
    """One month's tape, read, tied out and aggregated."""

    deal: Deal
    period: str
    tape: Tape
    tape_path: str  # as the period file names it: relative to the deal folder
    mapping_path: str
    previous_path: str | None
    remittance_path: str | None
    remittance: Remittance | None
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)  # by group ("" for a one-pool deal)
    fixings: tuple[Decimal, Decimal] | None = None
    first: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    frame: pl.DataFrame | None = None  # the tape's rows with their delinquency buckets
    program: Any = None  # the deal's compiled rules


def _relative(path: Path, deal_dir: Path) -> str:
    # as named, links not followed: the period file names the tape the user gave; but through the
    # links when only they put it in the deal (a deal folder reached through a link)
    named = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(deal_dir)))
    if named.parts[:1] != ("..",):
        return named.as_posix()
    return Path(os.path.relpath(Path(path).resolve(), Path(deal_dir).resolve())).as_posix()


def _month(key: str, step: int) -> str:
    year, month = add_months(*period_month(key), step)
    return f"{year:04d}-{month:02d}"


def tape_on_file(deal_dir: Path, key: str) -> Path | None:
    """The month's tape kept in the deal's tapes/ folder, if there is one."""
    for suffix in (".csv", ".csv.gz"):
        path = Path(deal_dir) / "tapes" / f"{key}{suffix}"
        if os.path.lexists(path):  # whatever it is: a FIFO, a folder or a broken link is refused when read
            return path
    return None


def _load(model, path: Path, name: str):
    data, src = load_yaml(path, name)
    return validate(model, data, src), src


def _tie_to_previous(tape: Tape, previous: Tape, substitutions: bool, problems: Problems) -> None:
    cur, prev = tape.frame, previous.frame
    joined = cur.select("row", "loan_id", "beginning_balance", "group").join(
        prev.select(pl.col("row").alias("prev_row"), "loan_id", pl.col("ending_balance").alias("prev_ending"),
                    pl.col("status").alias("prev_status"), pl.col("group").alias("prev_group")),
        on="loan_id", how="full", coalesce=True)
    both = joined.filter(pl.col("row").is_not_null() & pl.col("prev_row").is_not_null())
    if both.height == 0:
        problems.add(TapeError(tape.name, 0, "", f"none of its {cur.height:,} loans is on the previous month's tape "
                                                 f"{previous.name} (expected this deal's loans: is it another deal's "
                                                 "tape?)"))
        return
    new = joined.filter(pl.col("prev_row").is_null())
    if not substitutions:
        problems.rows(tape, new, "loan_id", lambda r: f"loan {r['loan_id']} is not on the previous month's tape "
                                                      f"{previous.name} (expected only the pool's loans: the deal "
                                                      "allows no substitutions)")
    returned = both.filter(pl.col("prev_ending") == 0)
    problems.rows(tape, returned, "loan_id", lambda r: (
        f"loan {r['loan_id']} left the pool on the previous month's tape ({previous.name}:{r['prev_row']}, status "
        f"{r['prev_status'].replace('_', ' ')}) (expected it gone from this month's)"))
    moved = both.filter((pl.col("prev_ending") > 0) & (pl.col("beginning_balance") != pl.col("prev_ending")))
    problems.rows(tape, moved, "beginning_balance", lambda r: (
        f"beginning balance {money_text(r['beginning_balance'])} is not the loan's ending balance on the previous "
        f"month's tape, {money_text(r['prev_ending'])} ({previous.name}:{r['prev_row']}) (expected "
        f"{money_text(r['prev_ending'])})"))
    regrouped = both.filter(pl.col("group") != pl.col("prev_group"))
    problems.rows(tape, regrouped, "group", lambda r: (
        f"loan {r['loan_id']} is in group {r['group']}, but in group {r['prev_group']} on the previous month's tape "
        f"({previous.name}:{r['prev_row']}) (expected a loan to stay in its group)"))
    vanished = joined.filter(pl.col("row").is_null() & (pl.col("prev_ending") > 0)).with_columns(
        pl.col("prev_row").alias("row")).sort("row")
    problems.rows(previous, vanished, "loan_id", lambda r: (
        f"loan {r['loan_id']} had {money_text(r['prev_ending'])} outstanding and is not on {tape.name} (expected a "
        "row for it: a loan leaves the pool only paid in full, liquidated or repurchased)"))


def _tie_to_statement(deal_dir: Path, before: str, period: str, tape: Tape, groups: tuple[str, ...],
                      problems: Problems) -> None:
    """The tape starts where the statement before it ended: its loans' beginning balances add up
    to the pool's (each group's) ending balance, and there are as many of them as loans left.
    Without this, a tape missing a loan matches a previous tape that misses it too, or none."""
    from .pipeline import run  # noqa: PLC0415 (the pipeline reads period files; intake writes them)

    if before != _month(period, -1):
        problems.add(TapeError(tape.name, 0, "", f"the period file of {_month(period, -1)} is not on file (expected "
                                                 f"{period_path(deal_dir, _month(period, -1))}: the tape starts where "
                                                 "its statement ended)"))
        return
    try:
        (statement,) = [c.statement for c in run(deal_dir, before)]
    except InputErrors as exc:
        problems.errors += exc.errors
        return
    frame = tape.frame.filter(pl.col("beginning_balance") > 0)
    scopes = [("the pool", frame, statement.pool)]
    if groups:
        scopes += [(f"group {g}", frame.filter(pl.col("group") == g), statement.extra["groups"][g]) for g in groups]
    for scope, loans, ended in scopes:
        balance = Decimal(int(loans["beginning_balance"].cast(pl.Int128).sum())).scaleb(-2)
        if (balance, loans.height) != (ended["ending_balance"], ended["ending_count"]):
            problems.add(TapeError(tape.name, 0, "", (
                f"{scope}: the tape's loans begin the month with {balance:,.2f} ({loans.height:,} loans), but the "
                f"{before} statement left {ended['ending_balance']:,.2f} ({ended['ending_count']:,} loans) (expected "
                f"the tape to start where that statement ended: is a loan missing, or was {before} taken from "
                "another tape?)")))


def _tie_to_remittance(intake: Intake, src: SourceMap, problems: Problems) -> None:
    report = intake.remittance
    assert report is not None
    if report.period != intake.period:
        problems.add(src.error(("period",), f"is {report.period} (expected {intake.period}, the month of the tape)"))
    stated = [t for t in (report.totals, *report.groups.values()) if t.model_dump(exclude_none=True)]
    if not stated:  # the period file would say it was tied to a report that ties nothing
        problems.add(src.error(("totals",), "states no totals (expected at least one of: "
                                            f"{', '.join(RemittanceTotals.model_fields)})"))
    scopes: list[tuple[tuple[str, ...], RemittanceTotals, dict[str, Any]]] = []
    if intake.deal.groups:
        scopes.append((("totals",), report.totals, _pool(intake.figures)))
        for name, totals in report.groups.items():
            if name not in intake.figures:
                problems.add(src.error(("groups", name), f"is not a loan group of the deal (expected one of: "
                                                         f"{', '.join(g.name for g in intake.deal.groups)})"))
                continue
            scopes.append((("groups", name), totals, intake.figures[name]))
    else:
        if report.groups:
            problems.add(src.error(("groups",), "the deal has no loan groups (expected totals: only)"))
        scopes.append((("totals",), report.totals, intake.figures[""]))
    for where, totals, figures in scopes:
        stated = totals.model_dump(exclude_none=True)
        for key, ours in REMITTANCE.items():
            head, _, tail = key.partition(".")
            if head not in stated:
                continue
            theirs = stated[head][tail] if tail else stated[head]
            if ours not in figures:
                problems.add(src.error((*where, *key.split(".")), "the tape has no column for it (expected only "
                                                                  "totals the tape can be tied to)"))
                continue
            mine = figures[ours]
            if theirs != mine:
                shown_ = (lambda v: f"{v:,}") if isinstance(mine, int) else (lambda v: f"{v:,.2f}")
                problems.add(src.error((*where, *key.split(".")),
                                       f"the servicer reports {shown_(theirs)} but the tape adds up to "
                                       f"{shown_(mine)} (expected the same{'' if isinstance(mine, int) else ' to the cent'})"))


def _pool(figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The pool's totals of a grouped tape: the groups' sums (counts and amounts)."""
    out: dict[str, Any] = {}
    for group in figures.values():
        for key, value in group.items():
            if isinstance(value, (int, Decimal)) and key not in ("wac", "remaining_term"):
                out[key] = out.get(key, 0) + value
    return out


def _read_fixings(deal_dir: Path, deal: Deal, period: str,
                  errors: list[InputError]) -> tuple[Decimal, Decimal] | None:
    """The index fixings of the month and the next, for a deal with an index (problems to ``errors``)."""
    spec = deal.intake
    if deal.index is None:
        return None
    if spec.fixings is None:
        errors.append(InputError(f"{deal_dir}/deal.yaml", 0, "intake.fixings", "the deal has an index but names no "
                                 "fixings file (expected intake: fixings: fixings.yaml)"))
        return None
    try:
        data, src = load_yaml(deal_dir / spec.fixings, f"{deal_dir}/{spec.fixings}")
    except InputErrors as exc:
        errors += exc.errors
        return None
    fixings, more = _fixings(data, src, period)
    errors += more
    return fixings


def _unprintable_names(*paths: Path | None) -> list[InputError]:
    """The files whose names the period file's header cannot hold: a line break in a name would
    end the header's comment line and start fields of its own."""
    return [InputError(repr(str(p)), 0, "", "the file's name holds a character that is not printable (a line "
                                             "break, a control character, a non-breaking space, ...) (expected a "
                                             "name of printable characters: the period file's header names the "
                                             "files it was made from)")
            for p in paths if p is not None and not str(p).isprintable()]


def _replacing(target: Path, remittance_path: Path | None, writes: bool) -> list[InputError]:
    """What is wrong with replacing the month's period file: one written by hand is never
    replaced, and one tied to the servicer's remittance report only by one tied to it too (or
    its tie-out, and a grouped deal's pool totals, would be dropped).  ``writes``: intake is to
    write the file (tracing one back to its loans writes none)."""
    written = written_by_intake(target)
    if target.exists() and not written:
        return [InputError(str(target), 0, "", "was written by hand: intake would replace it (expected no period file "
                                               "for the month, or one intake wrote; move it aside first)")]
    tied = written.get("tied out", "").partition("totals against the remittance report ")[2]
    if tied and remittance_path is None and writes:
        return [InputError(str(target), 0, "", (
            f"was tied to the servicer's remittance report {tied} (expected --remittance REPORT to tie the file "
            "that replaces it too; or remove the file to write one without)"))]
    return []


def run_intake(deal_dir: Path, period: str, tape_path: Path, remittance_path: Path | None = None,
               to_statement: bool = True) -> Intake:
    """Read, tie out and aggregate one month's tape; raise :class:`InputErrors` with every problem.
    ``to_statement``: tie the tape to the previous month's statement too (not when tracing a
    period file intake already wrote back to its loans)."""
    deal_dir = Path(deal_dir)
    loaded = load_deal(deal_dir)
    deal = loaded.value
    problems = Problems()
    if deal.intake is None:
        raise InputErrors([InputError(f"{deal_dir}/deal.yaml", 0, "intake", "the deal has no intake: section "
                                                                            "(expected intake: {mapping: "
                                                                            "servicer.yaml, delinquency_method: MBA})")])
    spec = deal.intake
    mapping, mapping_src = _load(Mapping, deal_dir / spec.mapping, f"{deal_dir}/{spec.mapping}")
    groups = tuple(g.name for g in deal.groups)
    if wrong := check_mapping(mapping, mapping_src, groups):  # said once, of the mapping, before a tape is read
        raise InputErrors(wrong)
    mapped_at = {f: mapping_src.where(("columns", f)) for f in mapping.columns}
    read = lambda path, name: read_tape(path, mapping, name, spec.max_note_rate,  # noqa: E731
                                        spec.max_remaining_term, mapped_at)
    errors: list[InputError] = _unprintable_names(tape_path, remittance_path)
    if errors:
        raise InputErrors(errors)
    try:
        tape = read(tape_path, str(tape_path))
    except InputErrors as exc:
        errors += exc.errors
        tape = None
    previous_file = tape_on_file(deal_dir, _month(period, -1))
    previous = None
    if previous_file is not None and tape is not None:
        try:
            previous = read(previous_file, str(previous_file))
        except InputErrors as exc:
            errors += exc.errors
    remittance = remittance_src = None
    if remittance_path is not None:
        try:
            remittance, remittance_src = _load(Remittance, remittance_path, str(remittance_path))
        except InputErrors as exc:
            errors += exc.errors
    fixings = _read_fixings(deal_dir, deal, period, errors)
    if errors or tape is None:
        raise InputErrors(errors)

    target = period_path(deal_dir, period)
    problems.errors += _replacing(target, remittance_path, to_statement)
    first_distribution = deal.schedule.first_distribution_date.strftime("%Y-%m")
    earlier = [k for k in list_periods(deal_dir) if k < period]
    first = period == first_distribution
    if first:
        problems.errors += carried_accounts_given(deal, deal.intake.opening_accounts, loaded.source,
                                                  ("intake", "opening_accounts"), "at closing")
    if not first and not earlier:
        problems.add(InputError(str(target), 0, "opening", (
            f"{period} would be the deal's first period on file, but it is not its first distribution "
            f"({first_distribution}): intake writes the opening state only at closing (expected the previous "
            "period's file, or an opening: written by hand)")))
    as_of = as_of_date(period)
    if "as_of" in tape.headers:
        wrong = tape.frame.filter(pl.col("as_of") != pl.lit(as_of))
        problems.rows(tape, wrong, "as_of", lambda r: f"the tape is as of {r['as_of']}, not {as_of} (expected the "
                                                      f"tape of the {period} distribution: is it another month's?)")
    if previous is not None:
        _tie_to_previous(tape, previous, spec.substitutions, problems)
    if earlier and not first and to_statement:
        _tie_to_statement(deal_dir, earlier[-1], period, tape, groups, problems)
    frame = _classify(tape.frame, as_of, spec.delinquency_method, previous.frame if previous is not None else None)
    if previous is None and frame.filter(pl.col("status") == "reo").height and not first:
        problems.add(TapeError(tape.name, 0, "", f"the tape has REO loans but the previous month's tape is not on "
                                                 f"file (expected tapes/{_month(period, -1)}.csv or .csv.gz, to "
                                                 "tell which became REO this month)"))
    intake = Intake(deal, period, tape, _relative(tape_path, deal_dir), spec.mapping,
                    _relative(previous_file, deal_dir) if previous is not None else None,
                    _relative(remittance_path, deal_dir) if remittance_path is not None else None, remittance,
                    fixings=fixings, first=first, frame=frame, program=loaded.program)
    if groups:
        for g in groups:
            intake.figures[g] = aggregate(frame.filter(pl.col("group") == g), tape.headers)
            intake.counts[g] = intake.figures[g]["loans"]
            if intake.counts[g] == 0:
                problems.add(TapeError(tape.name, 0, "", f"has no loans of group {g} (expected every loan group "
                                                         "of the deal)"))
    else:
        intake.figures[""] = aggregate(frame, tape.headers)
    if first:
        _tie_to_cutoff(intake, problems)
    if remittance is not None:
        _tie_to_remittance(intake, remittance_src, problems)
    if problems.errors:
        raise problems.told()
    return intake


def _tie_to_cutoff(intake: Intake, problems: Problems) -> None:
    """At the first distribution the tape starts from the cut-off pool of the deal file."""
    deal = intake.deal
    if deal.groups:
        expected = {g.name: g.cutoff_balance for g in deal.groups}
    else:  # the deal's own figure: the classes' original balances, or its own rule for it
        expected = {"": intake.program.from_deal("pool.cutoff_balance")}
    for g, cutoff in expected.items():
        if cutoff is None:  # a cut-off the deal computes from a period's figures: nothing to tie to here
            continue
        got = intake.figures[g]["beginning_balance"]
        if got != cutoff:
            what = f"group {g}'s" if g else "the pool's"
            problems.add(TapeError(intake.tape.name, 0, "", (
                f"{what} loans start the first distribution at {got:,.2f}, not {what} cut-off balance {cutoff:,.2f} "
                "in the deal file (expected the cut-off pool: is it another deal's or another month's tape?)")))


def _fixings(data: Any, src: SourceMap, period: str) -> tuple[tuple[Decimal, Decimal] | None, list[InputError]]:
    errors: list[InputError] = []
    if not isinstance(data, dict):
        return None, [src.error((), "expected a mapping of YYYY-MM: rate lines")]
    found: list[Decimal] = []
    for key in (period, _month(period, 1)):
        value = data.get(key)
        if value is None:
            errors.append(src.error((), f"has no fixing for {key} (expected a line {key}: <rate>, the index of "
                                        f"{'this' if key == period else 'the next'} accrual period)"))
        elif not isinstance(value, Decimal) or not 0 <= value < 1:
            errors.append(src.error((key,), f"{shown(value)} is not a rate (expected a fraction such as 0.0184)"))
        else:
            found.append(value)
    return (found[0], found[1]) if len(found) == 2 else None, errors


# --------------------------------------------------------------------------- the period file


def _money(v: Decimal) -> str:
    return f"{v:.2f}"


def _report_lines(figures: dict[str, Any], indent: str) -> list[str]:
    f = figures
    lines = [f"{indent}collections:",
             f"{indent}  interest: {_money(f['collections.interest'])}",
             f"{indent}  scheduled_principal: {_money(f['collections.scheduled_principal'])}",
             f"{indent}  curtailments: {_money(f['collections.curtailments'])}",
             f"{indent}  payoffs: {{count: {f['collections.payoffs.count']}, "
             f"amount: {_money(f['collections.payoffs.amount'])}}}"]
    liquidations = f["collections.liquidations"]
    if liquidations:
        lines.append(f"{indent}  liquidations:")
        lines += [f"{indent}    - {{loan: \"{x['loan']}\", balance: {_money(x['balance'])}, "
                  f"proceeds: {_money(x['proceeds'])}}}" for x in liquidations]
    else:
        lines.append(f"{indent}  liquidations: []")
    if "collections.repurchases.count" in f:
        lines.append(f"{indent}  repurchases: {{count: {f['collections.repurchases.count']}, "
                     f"amount: {_money(f['collections.repurchases.amount'])}}}")
    if "collections.prepayment_charges" in f:
        lines.append(f"{indent}  prepayment_charges: {_money(f['collections.prepayment_charges'])}")
    advances = f.get("advances", Decimal("0.00"))
    lines.append(f"{indent}advances: {_money(advances)}" + ("" if "advances" in f else "  # the tape has no "
                                                                                      "advance column"))
    lines += [f"{indent}wac: {f['wac']}", f"{indent}remaining_term: {f['remaining_term']}",
              f"{indent}delinquency:"]
    for b in BUCKETS:
        lines.append(f"{indent}  {b}: {{count: {f[f'delinquency.{b}.count']}, "
                     f"unpaid_balance: {_money(f[f'delinquency.{b}.unpaid_balance'])}, "
                     f"stated_balance: {_money(f[f'delinquency.{b}.stated_balance'])}}}")
    lines += [f"{indent}reo:", f"{indent}  stated_balance: {_money(f['reo.stated_balance'])}"]
    if "reo.book_value" in f:
        lines.append(f"{indent}  book_value: {_money(f['reo.book_value'])}")
    if f["reo.new"]:
        lines.append(f"{indent}  new:")
        lines += [f"{indent}    - {{loan: \"{x['loan']}\", unpaid_balance: {_money(x['unpaid_balance'])}, "
                  f"stated_balance: {_money(x['stated_balance'])}}}" for x in f["reo.new"]]
    shortfalls = [(k, f[f"shortfalls.{k}"]) for k in ("prepayment_interest", "covered_by_servicer", "relief_act")
                  if f"shortfalls.{k}" in f]
    if shortfalls and not indent:
        lines.append("shortfalls:")
        lines += [f"  {k}: {_money(v)}" for k, v in shortfalls]
    return lines


def period_text(intake: Intake) -> str:
    """The period file intake writes: a header naming its sources, then the servicer's figures."""
    deal, t = intake.deal, intake.tape
    counts = (f"{t.rows:,}" if not deal.groups else
              f"{t.rows:,} (" + ", ".join(f"{g} {n:,}" for g, n in intake.counts.items()) + ")")
    tied = ["each loan rolls from its beginning balance"]
    if intake.previous_path:
        tied.append(f"against the previous tape {intake.previous_path}")
    if intake.remittance_path:
        tied.append(f"totals against the remittance report {intake.remittance_path}")
    lines = [f"{INTAKE_HEADER} from the servicer's loan-level tape: regenerate rather than edit.",
             f"# tape: {intake.tape_path}",
             f"# sha256: {t.sha256}",
             f"# mapping: {intake.mapping_path} ({t.mapping.servicer}); delinquency by the "
             f"{deal.intake.delinquency_method} method, as of {as_of_date(intake.period)}",
             f"# loans: {counts}",
             *_modified_lines(intake),
             f"# tied out: {'; '.join(tied)}",
             f"period: {intake.period}"]
    if intake.first:
        lines += _opening_lines(intake)
    if intake.fixings is not None:
        lines += ["index:", f"  current: {intake.fixings[0]}", f"  next: {intake.fixings[1]}"]
    if deal.groups:
        lines.append("groups:")
        for g in intake.figures:
            lines.append(f"  {g}:")
            lines += _report_lines(intake.figures[g], "    ")
        pool = intake.remittance.totals if intake.remittance is not None else None
        if pool is not None:
            totals = {"interest": pool.interest, "scheduled_principal": pool.scheduled_principal,
                      "curtailments": pool.curtailments, "payoffs": pool.payoffs.amount if pool.payoffs else None,
                      "prepayment_charges": pool.prepayment_charges, "advances": pool.advances}
            stated = ", ".join(f"{k}: {_money(v)}" for k, v in totals.items() if v is not None)
            if stated:
                lines += ["# the servicer's totals for the pool (its remittance report), checked against the groups'",
                          f"pool_totals: {{{stated}}}"]
        shortfalls = _pool({g: {k: v for k, v in f.items() if k.startswith("shortfalls.")}
                            for g, f in intake.figures.items()})
        if shortfalls:
            lines.append("shortfalls:")
            lines += [f"  {k.split('.', 1)[1]}: {_money(v)}" for k, v in shortfalls.items()]
    else:
        lines += _report_lines(intake.figures[""], "")
    return "\n".join(lines) + "\n"


def _modified_lines(intake: Intake) -> list[str]:
    """The modified loans, which the period file has no field for: in its header, for the record."""
    if "modified" not in intake.tape.headers:
        return []
    parts = [(g, f["modified.count"], f["modified.balance"]) for g, f in intake.figures.items()]
    return ["# modified loans (ending balance): " + ", ".join(
        (f"{g} " if g else "") + f"{n:,} ({b:,.2f})" for g, n, b in parts)]


def _opening_lines(intake: Intake) -> list[str]:
    deal = intake.deal
    pool = _pool(intake.figures) if deal.groups else intake.figures[""]
    lines = ["# The first distribution: the opening state is the cut-off pool of the tape and the deal's classes.",
             "opening:",
             f"  previous_distribution_date: {(deal.intake.dated_date or deal.schedule.closing_date).isoformat()}",
             f"  pool_balance: {_money(pool['beginning_balance'])}",
             f"  loan_count: {pool['loans']}"]
    if deal.groups:
        lines.append("  group_balances: {" + ", ".join(f"{g}: {_money(f['beginning_balance'])}"
                                                        for g, f in intake.figures.items()) + "}")
        lines.append("  group_loan_counts: {" + ", ".join(f"{g}: {f['loans']}" for g, f in intake.figures.items())
                     + "}")
    balances = [(c.name, c.original_balance) for c in deal.classes if c.kind not in ("excess", "interest_only")]
    lines.append("  class_balances: {" + ", ".join(f"{n}: {_money(b)}" for n, b in balances) + "}")
    if deal.intake.opening_accounts:
        lines.append("  accounts: {" + ", ".join(f"{n}: {_money(v)}" for n, v in deal.intake.opening_accounts.items())
                     + "}")
    return lines


def write_period(deal_dir: Path, intake: Intake) -> Path:
    """Check the period file as a render would read it (its fields, its figures against the
    state the month starts from, the statement computed and reconciled), then write it
    atomically: a period file that remit check would refuse is never written.  Raises
    :class:`InputErrors` or :class:`ReconciliationError`."""
    from .pipeline import run  # noqa: PLC0415 (the pipeline reads period files; intake writes them)

    text = period_text(intake)
    path = period_path(deal_dir, intake.period)
    try:
        run(deal_dir, intake.period, staged={intake.period: text})
    except InputErrors as exc:  # told at the line of the file it would have written, which is not on disk
        would = f"{path} (as intake would write it)"
        raise InputErrors([replace(e, file=would) if e.file == str(path) else e
                           for e in exc.errors]) from None
    write_atomic(path, text.encode("utf-8"))
    return path


# --------------------------------------------------------------------------- provenance: a figure's loans


@dataclass(frozen=True)
class Traced:
    """A period-file figure that intake added up from a tape: which rule, over which loans."""

    field: str
    tape: str
    rule: str
    loans: tuple[tuple[str, int, str], ...]  # loan number, row of the tape, the value it adds


def _rule_for(path: str) -> tuple[str, Rule | None, tuple[str, tuple, int] | None]:
    """``groups.fixed.delinquency.days_60_89.count`` -> (group, its Rule); a list item -> its list."""
    group = ""
    if path.startswith("groups."):
        _, group, path = path.split(".", 2)
    for rule in RULES:
        if rule.key == path:
            return group, rule, None
    m = re.fullmatch(r"(collections\.liquidations|reo\.new)\[([0-9]*)\]\.([a-z_]+)", path)
    if m:  # one item of a list, or (no index) each item of it
        key = tuple(m.group(1).split("."))
        return group, None, (m.group(3), key, int(m.group(2)) if m.group(2) else None)
    return group, None, None


def _described(selection: str, method: str, as_of: dt.date) -> str:
    lag = 1 if method == "OTS" else 0
    words = {"first": f"{1 + lag} payment{'s' if lag else ''}", "second": f"{2 + lag} payments",
             "third": f"{3 + lag} or more payments"}
    return SELECTIONS[selection][1].format(method=method, as_of=as_of, **words)


def _loan_value(rule: Rule, column: str):
    """What one loan adds to ``rule``'s figure, as explain --loans shows it beside the loan."""
    if rule.op == "sum":
        return lambda r: money_text(r[column])
    if rule.op == "count":
        return lambda r: ""
    shown_ = rate_text if column == "note_rate" else str  # weighted by the beginning balance
    return lambda r: f"{shown_(r[column])} on {money_text(r['beginning_balance'])}"


def trace(deal_dir: Path, period: str, fields: list[str], header: dict[str, str]) -> list[Traced]:
    """The loans behind each of ``fields`` (input fields of the period file, as explain names them)
    that intake added up from the tape the period file's ``header`` names (see
    :func:`generator.load.written_by_intake`).  The tape is read again, by the same rules; one
    whose SHA-256 is no longer the header's is not traced (a message says so)."""
    wanted = [(f, *_rule_for(f)) for f in fields]
    wanted = [w for w in wanted if w[2] is not None or w[3] is not None]
    if not header.get("tape") or not wanted:
        return []
    tape_file = Path(deal_dir) / header["tape"]
    try:
        tape_bytes = read_input(tape_file, str(tape_file), limit=MAX_TAPE_BYTES, what="a servicer's tape")
        digest = hashlib.sha256(tape_bytes).hexdigest()
    except InputErrors as exc:
        return [Traced(f, header["tape"], f"not traced: {exc.errors[0].message}", ()) for f, *_ in wanted]
    if digest != header.get("sha256"):
        return [Traced(f, header["tape"], f"not traced: the tape's SHA-256 is now {digest}, not the {header.get('sha256')} "
                                          "it had when intake read it", ()) for f, *_ in wanted]
    done = run_intake(deal_dir, period, tape_file, to_statement=False)
    frame, headers = done.frame, done.tape.headers
    method, as_of = done.deal.intake.delinquency_method, as_of_date(period)
    out = []
    for name, group, rule, item in wanted:
        rows = frame.filter(pl.col("group") == group) if group else frame
        if rule is not None and rule.needs is not None and rule.needs not in headers:
            continue  # the tape has no column for it: the period file's default, not the servicer's figure
        if rule is not None:
            picked = rows.filter(SELECTIONS[rule.selection][0]).sort("loan_id")
            counted = picked.height
            if rule.op == "sum":  # the loans that add something
                picked = picked.filter(pl.col(rule.column) != 0)
            column = rule.column or "loan_id"
            source = headers.get(column, column)
            who = _described(rule.selection, method, as_of)
            if rule.op == "count":
                text = f"the number of {who}"
            elif rule.op == "sum":
                text = f"the sum of {source} over {who}"
            else:
                places = "4 places" if column == "note_rate" else "a whole month"
                text = (f"{source} weighted by {headers['beginning_balance']} over {who}, rounded half-up to "
                        f"{places}")
            value = _loan_value(rule, column)
        else:
            part, key, index = item
            selection, items = LISTS[key]
            picked = rows.filter(SELECTIONS[selection][0]).sort("loan_id")
            picked = picked if index is None else picked[index:index + 1]
            column = dict(items)[part]
            counted = picked.height
            which = "each" if index is None else f"item {index}"
            text = f"{headers.get(column, column)} of {which} of {_described(selection, method, as_of)}"
            value = (lambda r: r["loan_id"]) if column == "loan_id" else (lambda r: money_text(r[column]))
        loans = tuple((r["loan_id"], r["row"], value(r)) for r in picked.iter_rows(named=True))
        some = f", {len(loans):,} with an amount" if len(loans) != counted else ""
        out.append(Traced(name, header["tape"], f"{text}: {counted:,} loan{'s' if counted != 1 else ''}{some}",
                          loans))
    return out
