"""Spreadsheets and CSV: every bundled deal's statement as a workbook and as long-format CSV,
read back (the workbook with openpyxl) and compared cell by cell with the JSON record."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from generator import formats
from generator.pipeline import run
from generator.publish import figures as record_figures
from generator.tables import NUMBER_FORMATS, tables

from .conftest import INPUTS

MONTHS = [("new-century-2002-1", "2002-05"), ("synthetic-home-equity-2024-1", "2024-12"),
          ("synthetic-auto-2025-1", "2026-03"), ("synthetic-two-group-2025-1", "2026-04")]


@pytest.fixture(scope="module", params=MONTHS, ids=[d for d, _ in MONTHS])
def computed(request):
    deal, month = request.param
    [c] = run(INPUTS / deal, month)
    return c


def _same(cell_value, kind: str, recorded: str) -> bool:
    if recorded == "":
        return cell_value is None
    if kind == "flag":
        return cell_value is (recorded == "True")
    if kind == "date":
        return cell_value.date().isoformat() == recorded
    if kind in ("money", "thousands"):
        return Decimal(repr(cell_value)) == Decimal(recorded)  # to the cent, exactly
    if kind in ("rate", "per1000", "factor", "number"):
        expected = Decimal(recorded)
        return abs(Decimal(repr(cell_value)) - expected) <= abs(expected) * Decimal("1e-15")  # a double's digits
    if kind == "count":
        return cell_value == int(recorded)
    return str(cell_value) == recorded


def test_every_cell_of_the_workbook_is_the_records_figure(computed):
    record = record_figures(json.loads(formats.json_(computed)))
    book = openpyxl.load_workbook(io.BytesIO(formats.xlsx(computed)))
    seen = set()
    for table in tables(computed.statement):
        sheet = book[table.name]
        assert [c.value for c in sheet[1]] == list(table.columns)
        assert sheet.freeze_panes == "B2"
        assert sheet.column_dimensions["A"].width > 0
        for r, row in enumerate(table.rows, 2):
            for col, cell in enumerate(row, 1):
                got = sheet.cell(r, col)
                if not cell.figure:
                    continue
                seen.add(cell.figure)
                assert _same(got.value, cell.kind, record[cell.figure]), (table.name, cell.figure, got.value)
                if cell.kind in NUMBER_FORMATS and got.value is not None:  # a number (or date), never text
                    assert got.data_type == ("d" if cell.kind == "date" else "n"), cell.figure
                    assert got.number_format == NUMBER_FORMATS[cell.kind], cell.figure
    assert seen == set(record)  # every figure of the record is in the workbook


def test_money_is_a_number_with_a_money_format(computed):
    book = openpyxl.load_workbook(io.BytesIO(formats.xlsx(computed)))
    classes = book["classes"]
    header = [c.value for c in classes[1]]
    first = classes.cell(2, header.index("ending_balance") + 1)
    assert isinstance(first.value, float) and first.number_format == "#,##0.00"
    rate = classes.cell(2, header.index("rate") + 1)
    assert rate.value is None or rate.number_format == "0.00000%"
    basis = classes.cell(2, header.index("per_1000_basis") + 1)  # $1,000s, to the cent: five places
    assert isinstance(basis.value, float) and basis.number_format == "#,##0.00000"


def test_a_figure_is_shown_as_its_declared_type_not_as_its_name_suggests():
    """The auto deal reports delinquency.pct_30_59 (type: rate) and the two-group deal's A-3 has
    a coupon floor: both rates, which a format guessed from the field name showed as 0.01331856."""
    [auto] = run(INPUTS / "synthetic-auto-2025-1", "2025-06")
    [two] = run(INPUTS / "synthetic-two-group-2025-1", "2026-10")
    assert auto.statement.kinds["delinquency.pct_30_59"] == "rate"
    assert auto.statement.kinds["reserve.draw"] == "money"
    figures = openpyxl.load_workbook(io.BytesIO(formats.xlsx(auto)))["figures"]
    formats_of = {row[0].value: row[1].number_format for row in figures.iter_rows(min_row=2)}
    assert formats_of["delinquency.pct_30_59"] == formats_of["delinquency.pct_90_plus"] == "0.00000%"
    assert formats_of["reserve.draw"] == "#,##0.00"
    pool = openpyxl.load_workbook(io.BytesIO(formats.xlsx(auto)))["pool"]
    pool_formats = {row[0].value: row[1].number_format for row in pool.iter_rows(min_row=2)}
    assert pool_formats["beginning_factor"] == pool_formats["factor"] == "0.00000000"
    coupons = openpyxl.load_workbook(io.BytesIO(formats.xlsx(two)))["coupons"]
    header = [c.value for c in coupons[1]]
    [a3] = [row for row in coupons.iter_rows(min_row=2) if row[0].value == "A-3"]
    assert a3[header.index("floor")].value == 0.005
    assert "accreted" not in header  # no class of the deal accretes: no column of blanks
    # the document's title words the deal's securities as its web page does
    assert openpyxl.load_workbook(io.BytesIO(formats.xlsx(auto))).properties.title == (
        "Synthetic Auto Receivables Trust 2025-1: statement to noteholders")
    assert openpyxl.load_workbook(io.BytesIO(formats.xlsx(two))).properties.title.endswith(
        ": statement to certificateholders")
    assert a3[header.index("floor")].number_format == "0.00000%"
    assert "kinds" not in json.loads(formats.json_(auto))  # how a figure is shown is not part of the record


def test_a_fee_is_money_whatever_the_deal_names_it(reference_deal):
    """A fee is named by its deal: "Corporate" ends in "rate", and its amount was shown as a
    percentage (8,248,925.00000%)."""
    from .test_errors import edit

    edit(reference_deal / "deal.yaml", "  - name: Servicing\n", "  - name: Corporate\n")
    [c] = run(reference_deal, "2002-05")
    summary = openpyxl.load_workbook(io.BytesIO(formats.xlsx(c)))["summary"]
    [fee] = [row for row in summary.iter_rows(min_row=2) if row[0].value == "fees.Corporate"]
    assert (fee[1].value, fee[1].number_format) == (82489.25, "#,##0.00")


def test_a_number_or_an_amount_is_shown_as_declared_whatever_its_places():
    """1.25 declared a number is not money for having two places; an amount with more places is."""
    from generator.render import shown
    from generator.tables import _kind

    assert (_kind("x.ratio", "1.25", "number"), shown(Decimal("1.25"), "number")) == ("number", "1.25000000")
    assert _kind("x.beginning_factor", "1.25", "number") == "factor"
    assert (_kind("x.third", "16666666.666667", "amount"), shown(Decimal("16666666.666667"), "amount")) == \
        ("money", "16,666,666.67")
    assert (_kind("x.left", "12.50", None), shown(Decimal("12.50"))) == ("money", "12.50")  # undeclared: as before


def test_the_workbook_and_the_csv_are_the_same_bytes_every_time(computed):
    assert formats.xlsx(computed) == formats.xlsx(computed)
    assert formats.csv(computed) == formats.csv(computed)


def test_every_line_of_the_csv_is_the_records_figure(computed):
    record = record_figures(json.loads(formats.json_(computed)))
    rows = list(csv.DictReader(io.StringIO(formats.csv(computed).decode())))
    named = [r for r in rows if r["figure"]]
    assert named == rows  # one line per figure: a label is no line of its own
    assert {r["figure"] for r in named} == set(record)
    for r in named:
        expected = record[r["figure"]]
        assert r["value"] == (expected.lower() if expected in ("True", "False") else expected), r
    assert rows[0].keys() == {"table", "row", "column", "figure", "value"}


def test_render_writes_xlsx_and_csv_named_as_the_other_formats(tmp_path):
    from click.testing import CliRunner

    from generator.cli import main

    result = CliRunner().invoke(main, ["render", str(INPUTS / "synthetic-auto-2025-1"), "-p", "2026-03",
                                       "-f", "xlsx", "-f", "csv", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "synthetic-auto-2025-1_2026-03-16.csv", "synthetic-auto-2025-1_2026-03-16.json",
        "synthetic-auto-2025-1_2026-03-16.xlsx"]
    book = openpyxl.load_workbook(tmp_path / "synthetic-auto-2025-1_2026-03-16.xlsx")
    assert {"classes", "per_1000", "pool", "delinquency", "losses", "waterfall", "triggers", "accounts"} \
        <= set(book.sheetnames)
    assert book.properties.created.date().isoformat() == "2026-03-16"


def test_a_revised_statement_says_so_first_in_the_workbook_and_the_csv(reference_deal, tmp_path):
    """A vendor loading the workbook or the CSV tells a correction from the original by its
    contents, not its file name: the revision's number, date, reason and what it supersedes,
    and every figure it changed, published and revised, the JSON record's own values."""
    from click.testing import CliRunner

    from generator.cli import main

    from .test_errors import edit

    out = tmp_path / "out"
    args = ["render", str(reference_deal), "-p", "2002-05", "-f", "xlsx", "-f", "csv", "-o", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    period = reference_deal / "periods" / "2002-05.yaml"
    edit(period, "curtailments: 18331.70", "curtailments: 18431.70")
    edit(period, "period: 2002-05\n", "period: 2002-05\nrevised_on: 2002-06-04\n")
    result = CliRunner().invoke(main, [*args, "--revise", "Servicer restated curtailments"])
    assert result.exit_code == 0, result.output
    stem = out / "new-century-2002-1_2002-05-28.rev1"
    mark = json.loads(stem.with_suffix(".rev1.json").read_bytes())["revision"]
    changes = [(c["figure"], c["old"], c["new"]) for c in mark["changes"]]
    assert ("pool.curtailments", "18331.70", "18431.70") in changes

    book = openpyxl.load_workbook(stem.with_suffix(".rev1.xlsx"))
    assert book.sheetnames[:2] == ["revision", "changes"]
    assert book.properties.title.startswith("REVISED (revision 1): ")
    rows = {r[0]: r[1] for r in book["revision"].iter_rows(min_row=2, values_only=True)}
    assert rows["number"] == 1 and rows["date"].date().isoformat() == "2002-06-04"
    assert (rows["reason"], rows["supersedes"]) == ("Servicer restated curtailments", mark["supersedes"])
    sheet = [r for r in book["changes"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in sheet] == [c[0] for c in changes]
    for (figure, old, new), (_, published, revised) in zip(changes, sheet):
        assert _same(published, "number", old) and _same(revised, "number", new), figure
    # each changed figure shown as its own sheet shows it: per-$1,000 amounts to 6 places, a trigger as a percent
    shown = {r[0].value: r[1].number_format for r in book["changes"].iter_rows(min_row=2)}
    per_1000, trigger = book["per_1000"]["B2"].number_format, book["triggers"]["B2"].number_format
    assert {shown[f] for f in shown if ".per_1000." in f} == {per_1000} and per_1000 == "0.000000"
    assert {shown[f] for f in shown if f.startswith("triggers.") and f.endswith(".value")} == {trigger}
    assert trigger == "0.00000%"

    lines = list(csv.reader(io.StringIO(stem.with_suffix(".rev1.csv").read_text())))
    assert lines[1:5] == [["revision", "number", "value", "revision.number", "1"],
                          ["revision", "date", "value", "revision.date", "2002-06-04"],
                          ["revision", "reason", "value", "revision.reason", "Servicer restated curtailments"],
                          ["revision", "supersedes", "value", "revision.supersedes", mark["supersedes"]]]
    told = [line for line in lines if line[0] == "changes"]
    assert told == [line for f, old, new in changes for line in (["changes", f, "published", f, old],
                                                                 ["changes", f, "revised", f, new])]
    # the statement's own lines follow, the revised figures
    assert ["pool", "curtailments", "value", "pool.curtailments", "18431.70"] in lines


# ------------------------------------------------------------------ the factor file


def test_batch_writes_the_factor_file_one_line_per_class(tmp_path):
    import subprocess
    import sys
    from decimal import ROUND_HALF_UP

    from .conftest import ROOT

    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "generator", "batch", "--root", str(INPUTS), "-f", "json",
                           "--factor-file", "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"factor file: {out / 'factors.csv'}" in done.stdout
    lines = list(csv.DictReader(io.StringIO((out / "factors.csv").read_text())))
    records = {json.loads(p.read_text())["deal_id"]: json.loads(p.read_text()) for p in out.glob("*.json")
               if p.name != "manifest.json"}
    assert len(lines) == sum(len(r["classes"]) for r in records.values())
    assert [line["deal"] for line in lines] == sorted(line["deal"] for line in lines)
    half_up = lambda v, n: f"{Decimal(v).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP):f}"  # noqa: E731
    for line in lines:
        record = records[line["deal"]]
        [c] = [c for c in record["classes"] if c["name"] == line["class"]]
        assert line["cusip"] == (c["cusip"] or "")
        assert (line["distribution_date"], line["record_date"]) == (record["distribution_date"], record["record_date"])
        assert line["factor"] == (half_up(c["factor"], 8) if c["factor"] is not None else "")
        assert line["coupon"] == (half_up(Decimal(c["rate"]) * 100, 5) if c["rate"] is not None else "")
        for k in ("principal", "interest", "losses", "total"):
            assert line[f"{k}_per_1000"] == (half_up(c["per_1000"][k], 6) if c["per_1000"] else "")
    listed = {f["path"]: f for f in json.loads((out / "manifest.json").read_text())["files"]}
    body = (out / "factors.csv").read_bytes()
    assert listed["factors.csv"]["sha256"] == hashlib.sha256(body).hexdigest()  # the manifest lists it
    assert listed["factors.csv"]["bytes"] == len(body)
    a = next(line for line in lines if line["deal"] == "new-century-2002-1" and line["class"] == "A")
    assert (a["cusip"], a["factor"], a["coupon"], a["next_coupon"]) == ("64352VCC3", "0.98485279", "2.17000", "2.16000")
    assert listed["factors.csv"]["status"] == "new"
    rerun = subprocess.run([sys.executable, "-m", "generator", "batch", "--root", str(INPUTS), "-f", "json",
                            "--factor-file", "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    [again_listed] = [f for f in json.loads((out / "manifest.json").read_text())["files"] if f["path"] == "factors.csv"]
    assert again_listed == {**listed["factors.csv"], "status": "unchanged"}  # the same month's same file
    # a later run without --factor-file leaves no stale factor file behind
    again = subprocess.run([sys.executable, "-m", "generator", "batch", "--root", str(INPUTS), "-f", "json",
                            "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and not (out / "factors.csv").exists()
    assert "factors.csv" not in {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}


def test_every_row_of_a_csv_table_has_every_column(computed):
    """A vendor pivots the long CSV on (table, row) and column: a class without per-$1,000
    amounts (the residual) has each column, blank, not one line under the first column's name."""
    lines = list(csv.reader(io.StringIO(formats.FORMATS["csv"][1](computed, formats.TEMPLATES).decode())))[1:]
    columns: dict[str, dict[str, list[str]]] = {}
    for table, row, column, _, _ in lines:
        columns.setdefault(table, {}).setdefault(row, []).append(column)
    for table, rows in columns.items():
        if table in ("revision", "changes"):
            continue
        shapes = {tuple(c) for c in rows.values()}
        assert len(shapes) == 1, (table, shapes)


def test_csv_text_a_spreadsheet_would_run_is_written_as_text(tmp_path):
    """A deal's words that begin as a formula does (a payee "=1+2", a fee "@SUM(1)") were written
    as they are, and a spreadsheet opening the CSV ran them; the CSV now writes them after an
    apostrophe, as text, and leaves the record, and negative amounts, as they are."""
    import csv
    import json
    import shutil
    import subprocess
    import sys

    from .conftest import INPUTS, ROOT

    deal = tmp_path / "new-century-2002-1"
    shutil.copytree(INPUTS / deal.name, deal)
    text = (deal / "deal.yaml").read_text()
    (deal / "deal.yaml").write_text(text.replace("payee: Servicer", 'payee: "=1+2"', 1))
    done = subprocess.run([sys.executable, "-m", "generator", "render", deal, "--period", "2002-05", "--format", "csv",
                           "--out", tmp_path / "out"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = list(csv.reader((tmp_path / "out" / "new-century-2002-1_2002-05-28.csv").read_text().splitlines()))
    payees = [line[4] for line in lines if line[3] == "waterfall.interest: Servicing fee.payee"]
    assert payees == ["'=1+2"]
    runnable = ("=", "+", "-", "@")
    assert not [line for line in lines[1:] if line[4].startswith(runnable[:1] + runnable[2:]) or
                line[1].startswith(runnable)]
    record = json.loads((tmp_path / "out" / "new-century-2002-1_2002-05-28.json").read_text())
    assert record["waterfall"][0]["payee"] == "=1+2"
