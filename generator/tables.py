"""The statement as tables, for spreadsheets and CSV: one table per part of the statement
(classes, per-$1,000 amounts, pool, delinquency, losses, waterfall, triggers, and the deal's
accounts and loan groups when it has them), a revised statement's mark first.

Every cell is a value of the statement's figures record with the name ``remit explain`` and
the record give it (``A.principal``, ``pool.ending_balance``), and a kind that says how a
spreadsheet shows it: money, rate, per-$1,000 amount, factor, count, date, flag or text.
The values are the record's own (exact decimal strings): nothing is computed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .publish import figures as record_figures
from .statement import Revision, Statement, to_plain
from .view import ACCOUNT_FIELDS, GROUP_FIELDS

#: How each kind of value is shown in a spreadsheet (an Excel number format).
NUMBER_FORMATS = {"money": "#,##0.00", "thousands": "#,##0.00000", "rate": "0.00000%", "per1000": "0.000000",
                  "factor": "0.00000000", "number": "0.00000000", "count": "0", "date": "yyyy-mm-dd"}

RATE_FIELDS = {"index", "margin", "uncapped_rate", "rate", "next_rate", "cap"}
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Cell:
    value: Any  # the record's value: a decimal string, a whole number, a flag, text, an ISO date, or None
    kind: str  # money, thousands ($1,000s), rate, per1000, factor, number, count, date, flag, text
    figure: str  # its name in the record (remit explain FIGURE), or "" for a row's label


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # the sheet's name
    title: str  # what it shows
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _kind(name: str, value: Any, declared: str | None = None) -> str:
    """How a spreadsheet shows a value of the record: as its figure's declared type when the
    statement gives it (a reported figure), else by the record field it is."""
    leaf = name.rsplit(".", 1)[-1]
    if declared in ("rate", "money", "count", "date", "flag", "text") and value is not None:
        return declared
    if declared == "amount" and value is not None:  # money not rounded to the cent: shown to the cent
        return "money"
    if declared == "number" and value is not None:
        return "factor" if leaf.endswith("factor") else "number"
    if isinstance(value, bool):
        return "flag"
    if isinstance(value, int):
        return "count"
    if not isinstance(value, str):
        return "text"
    if len(value) == 10 and value[4:5] == "-" and value[7:8] == "-" and value[:4].isdigit():
        return "date"
    if not _DECIMAL.fullmatch(value):  # the record writes every number as plain decimal digits
        return "text"
    if leaf in ("loan", "cusip", "deal_id", "period"):  # identifiers, whatever their characters
        return "text"
    if leaf in RATE_FIELDS or leaf.endswith(("_pct", "rate", "wac", "severity", "net_wac_cap")) \
            or name.endswith(".coupon.floor"):
        return "rate"
    if leaf.endswith("factor"):
        return "factor"
    decimals = value.partition(".")[2]
    return "money" if len(decimals) == 2 else "number"


def _cell(figures: dict[str, Any], name: str, raw: Any, declared: str | None = None) -> Cell:
    return Cell(raw, _kind(name, raw, declared), name if name in figures else "")


def _pairs(name: str, title: str, record_part: dict[str, Any], prefix: str, figures: dict[str, Any],
           declared: dict[str, str] | None = None) -> Table:
    """A part of the record as label/value rows (``declared``: the kinds of rows known by name)."""
    declared = declared or {}
    rows = tuple((Cell(k, "text", ""), _cell(figures, f"{prefix}{k}", v, declared.get(f"{prefix}{k}")))
                 for k, v in record_part.items() if not isinstance(v, (dict, list)))
    return Table(name, title, ("figure", "value"), rows)


def revision_tables(revision: Revision, shown: dict[str, str]) -> list[Table]:
    """What marks a revised statement, first: which revision, when, why, what it supersedes,
    and each figure it changed, published and revised (the record's exact values), each shown
    as the statement's own tables show it (``shown``: figure -> kind)."""
    mark = to_plain(revision)
    rows = tuple((Cell(k, "text", ""), Cell(mark[k], kind, f"revision.{k}"))
                 for k, kind in (("number", "count"), ("date", "date"), ("reason", "text"), ("supersedes", "text")))
    def kind(figure: str, value: Any) -> str:
        return shown.get(figure) or _kind(figure, value)

    changes = tuple((Cell(c["figure"], "text", ""), Cell(c["old"], kind(c["figure"], c["old"]), c["figure"]),
                     Cell(c["new"], kind(c["figure"], c["new"]), c["figure"]))
                    for c in mark["changes"])
    return [Table("revision", "Revised statement", ("figure", "value"), rows),
            Table("changes", "Figures the revision changed", ("figure", "published", "revised"), changes)]


def tables(statement: Statement, revision: Revision | None = None) -> list[Table]:
    """The statement's tables, in the order a reader meets them (a revision's mark first)."""
    record = to_plain(statement)
    names = record_figures(record)
    out: list[Table] = []
    top = {k: v for k, v in record.items() if not isinstance(v, (dict, list))}
    for part in ("totals", "fees", "fees_unpaid", "oc", "performance", "cash", "shortfalls"):  # its other figures
        top.update({f"{part}.{k}": v for k, v in record[part].items()})
    top.update({f"reo.{k}": v for k, v in record["reo"].items() if not isinstance(v, list)})
    # a fee's row is named by the deal (a "Corporate" fee is no rate): it is what the fee was paid (or
    # is still owed), money
    fees = {f"{part}.{k}": "money" for part in ("fees", "fees_unpaid") for k in record[part]}
    out.append(_pairs("summary", "Distribution", top, "", names, fees))
    fields = [k for k, v in record["classes"][0].items() if k not in ("name", "per_1000")] if record["classes"] else []
    out.append(Table("classes", "Classes", ("class", *fields), tuple(
        (Cell(c["name"], "text", ""), *(_class_cell(names, c["name"], f, c[f]) for f in fields))
        for c in record["classes"])))
    per = ("principal", "interest", "total", "losses", "ending_balance")
    out.append(Table("per_1000", "Amounts per $1,000", ("class", *per), tuple(
        (Cell(c["name"], "text", ""), *(Cell(c["per_1000"][k], "per1000", f"{c['name']}.per_1000.{k}") for k in per))
        if c["per_1000"] is not None else  # a class without per-$1,000 amounts: its row is empty, cell by cell
        (Cell(c["name"], "text", ""), *(Cell(None, "per1000", f"{c['name']}.per_1000") for _ in per))
        for c in record["classes"])))
    out.append(_pairs("pool", "Pool", record["pool"], "pool.", names))
    buckets = record["delinquency"]
    out.append(Table("delinquency", "Delinquency", ("bucket", "count", "unpaid_balance", "stated_balance"), tuple(
        (Cell(b, "text", ""), *(_cell(names, f"delinquency.{b}.{k}", v[k])
                                for k in ("count", "unpaid_balance", "stated_balance")))
        for b, v in buckets.items())))
    losses = record["losses"]
    out.append(_pairs("losses", "Realized losses", losses, "losses.", names))
    loans = losses["liquidated"]
    if loans:
        keys = tuple(loans[0])
        out.append(Table("liquidations", "Liquidated loans", keys, tuple(
            tuple(_cell(names, f"losses.liquidated[{i}].{k}", loan[k]) for k in keys) for i, loan in enumerate(loans))))
    new_reo = record["reo"]["new"]
    if new_reo:
        keys = tuple(new_reo[0])
        out.append(Table("reo_new", "Loans that became REO", keys, tuple(
            tuple(_cell(names, f"reo.new[{i}].{k}", loan[k]) for k in keys) for i, loan in enumerate(new_reo))))
    out.append(_waterfall(record["waterfall"], names))
    out.append(Table("triggers", "Trigger tests", ("test", "value", "threshold", "breached"), tuple(
        (Cell(t["name"], "text", ""), Cell(t["value"], "rate", f"triggers.{t['name']}.value"),
         Cell(t["threshold"], "rate", f"triggers.{t['name']}.threshold"),
         Cell(t["breached"], "flag", f"triggers.{t['name']}.breached"))
        for t in record["triggers"])))
    out += _extra(record.get("extra", {}), names, statement.kinds)
    if revision is None:
        return out
    shown = {cell.figure: cell.kind for t in out for row in t.rows for cell in row
             if cell.figure and cell.value is not None}
    return revision_tables(revision, shown) + out


def _class_cell(names: dict[str, Any], cls: str, field: str, value: Any) -> Cell:
    name = f"{cls}.{field}"
    if field == "per_1000_basis":  # how many $1,000s the per-$1,000 amounts are of: a cent is 0.00001 of them
        return Cell(value, "thousands" if value is not None else "text", name if name in names else "")
    return _cell(names, name, value)


def _waterfall(steps: list[dict[str, Any]], names: dict[str, Any]) -> Table:
    rows = []
    seen: dict[str, int] = {}
    for n, step in enumerate(steps, 1):
        label = f"waterfall.{step['section']}: {step['description']}"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f" #{seen[label]}"
        rows.append((Cell(n, "count", ""), Cell(step["section"], "text", ""), Cell(step["description"], "text", ""),
                     Cell(step["payee"], "text", f"{label}.payee"), Cell(step["amount"], "money", f"{label}.amount"),
                     Cell(step["remaining"], "money", f"{label}.remaining")))
    return Table("waterfall", "Flow of funds", ("line", "account", "payment", "payee", "amount", "remaining"),
                 tuple(rows))


def _extra(extra: dict[str, Any], names: dict[str, Any], kinds: dict[str, str]) -> list[Table]:
    out = []
    coupons = extra.get("coupons", {})
    if coupons:
        keys = ("kind", "day_count", "floor", "accrual_days",
                *(("accreted",) if any("accreted" in t for t in coupons.values()) else ()))  # a column only if a class accretes
        out.append(Table("coupons", "Coupon terms", ("class", *keys), tuple(
            (Cell(c, "text", ""), *(_cell(names, f"{c}.{k}" if k in ("accrual_days", "accreted") else f"{c}.coupon.{k}",
                                          t.get(k)) for k in keys))
            for c, t in coupons.items())))
    accounts = extra.get("accounts", {})
    if accounts:
        keys = [k for k in ACCOUNT_FIELDS if any(k in a for a in accounts.values())]
        out.append(Table("accounts", "Accounts", ("account", *keys), tuple(
            (Cell(a["label"], "text", ""), *(_cell(names, f"accounts.{n}.{k}", a.get(k)) for k in keys))
            for n, a in accounts.items())))
    groups = extra.get("groups", {})
    if groups:
        out.append(Table("groups", "Loan groups", ("figure", *(g["label"] for g in groups.values())), tuple(
            (Cell(key, "text", ""), *(_cell(names, f"groups.{g}.{name}", shown[key]) for g, shown in groups.items()))
            for key, name in GROUP_FIELDS)))
    hedges = extra.get("hedges", {})
    if hedges:
        out.append(Table("hedges", "Swaps and caps", ("agreement", "counterparty", "notional", "payment", "receipt"),
                         tuple((Cell(h, "text", ""), Cell(v["counterparty"], "text", ""),
                                *(_cell(names, f"{h.split(' ')[0]}s.{h.split(' ', 1)[1]}.{k}", v.get(k))
                                  for k in ("notional", "payment", "receipt")))
                               for h, v in hedges.items())))
    if "determination_date" in extra:
        out.append(Table("dates", "Dates", ("figure", "value"), (
            (Cell("determination_date", "text", ""), _cell(names, "determination_date", extra["determination_date"])),)))
    figures = extra.get("figures", {})
    if figures:
        out.append(Table("figures", "Other figures", ("figure", "value"), tuple(
            (Cell(k, "text", ""), _cell(names, k, v, kinds.get(k))) for k, v in figures.items())))
    return out


__all__ = ["Table", "Cell", "tables", "revision_tables", "NUMBER_FORMATS"]
