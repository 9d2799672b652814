"""The reference: the statement filed for New Century 2002-1's 05/28/02 distribution."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from generator import formats
from generator.cli import main
from generator.pipeline import run

from .conftest import REFERENCE_DEAL, ROOT

FILED = ROOT / "tests" / "reference" / "new-century-2002-1_2002-05-28.filed.txt"


def test_rendered_text_is_the_filed_statement_byte_for_byte(tmp_path: Path):
    result = CliRunner().invoke(main, ["render", str(REFERENCE_DEAL), "--period", "2002-05", "--format", "text",
                                       "--format", "json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["new-century-2002-1_2002-05-28.json", "new-century-2002-1_2002-05-28.txt"]
    text = (tmp_path / "new-century-2002-1_2002-05-28.txt").read_bytes()
    assert len(text) == 11140
    assert text == FILED.read_bytes()


def test_json_statement_is_golden(file_regression):
    [computed] = run(REFERENCE_DEAL, "2002-05")
    file_regression.check(formats.json_(computed).decode(), basename="new-century-2002-1_2002-05-28",
                          extension=".json", newline="\n")


def test_json_carries_exact_decimal_strings(tmp_path: Path):
    CliRunner().invoke(main, ["render", str(REFERENCE_DEAL), "-p", "2002-05", "-f", "json", "-o", str(tmp_path)])
    doc = json.loads((tmp_path / "new-century-2002-1_2002-05-28.json").read_text())
    a = next(c for c in doc["classes"] if c["name"] == "A")
    assert a["interest"] == "318726.37"
    assert a["principal"] == "1767305.99"
    assert Decimal(a["factor"]).quantize(Decimal("1e-8")) == Decimal("0.98485279")
    assert doc["oc"]["target"] == "3972995.74"
    assert all(check["ok"] for check in doc["checks"])


def test_key_figures_of_the_reference():
    [c] = run(REFERENCE_DEAL, "2002-05")
    s = c.statement
    assert s.accrual_days == 33
    assert s.previous_distribution_date.isoformat() == "2002-04-25"
    assert s.distribution_number == 3
    assert s.fees == {"Servicing": Decimal("82489.25")}
    assert s.cls("CE").interest == Decimal("925347.43") == s.performance["net_monthly_excess_cash_flow"]
    assert s.cls("P").interest == Decimal("12525.30")
    assert s.pool["ending_balance"] == Decimal("196206894.82")
    assert s.pool["ending_count"] == 582
    assert s.totals["interest_distribution"] == Decimal("1343474.06")
    assert s.cash["available"] == s.cash["distributed"] == Decimal("3205794.60")
    assert s.performance["stepdown"] is False and s.performance["trigger"] is False
