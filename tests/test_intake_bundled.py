"""The bundled servicer data: remit intake over every month's tape of the two synthetic
mortgage deals writes their committed period files byte for byte, a statement rendered from
one is the golden statement, and the generators write the same tapes again from their seeds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .conftest import GOLDEN, INPUTS, ROOT

DEALS = {"synthetic-home-equity-2024-1": "make_synthetic", "synthetic-two-group-2025-1": "make_two_group",
         "synthetic-auto-2025-1": "make_auto"}


def intake_all(deal: Path, months: list[str]) -> None:
    runner = CliRunner()
    for key in months:
        tapes = deal / "tapes"
        result = runner.invoke(main, ["intake", str(deal), "-p", key, str(tapes / f"{key}.csv.gz"),
                                      "--remittance", str(tapes / f"{key}.remittance.yaml")])
        assert result.exit_code == 0, (key, result.output)


@pytest.mark.parametrize("name", sorted(DEALS))
def test_intake_over_every_tape_writes_the_committed_period_files(name, tmp_path):
    deal = tmp_path / name
    shutil.copytree(INPUTS / name, deal)
    months = sorted(p.stem for p in (INPUTS / name / "periods").glob("*.yaml"))
    assert months == sorted(p.name[:7] for p in (INPUTS / name / "tapes").glob("*.csv.gz"))
    shutil.rmtree(deal / "periods")
    intake_all(deal, months)
    for key in months:
        assert (deal / "periods" / f"{key}.yaml").read_bytes() == (INPUTS / name / "periods" / f"{key}.yaml").read_bytes(), key


def test_a_period_file_from_the_command_line_renders_the_golden_statement(tmp_path):
    name = "synthetic-home-equity-2024-1"
    deal = tmp_path / name
    shutil.copytree(INPUTS / name, deal)
    for p in (deal / "periods").glob("*.yaml"):
        if p.stem > "2024-04":
            p.unlink()
    (deal / "periods" / "2024-04.yaml").unlink()
    tapes = deal / "tapes"
    done = subprocess.run([sys.executable, "-m", "generator", "intake", str(deal), "--period", "2024-04",
                           str(tapes / "2024-04.csv.gz"), "--remittance", str(tapes / "2024-04.remittance.yaml")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import gzip
    loans = gzip.decompress((tapes / "2024-04.csv.gz").read_bytes()).count(b"\n") - 1  # less the header
    assert done.stdout == f"{deal}/periods/2024-04.yaml ({loans:,} loans)\n"
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "generator", "render", str(deal), "--period", "2024-04",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (out / f"{name}_2024-04-25.txt").read_bytes() == (GOLDEN / f"{name}_2024-04-25.txt").read_bytes()


@pytest.mark.parametrize("name", sorted(DEALS))
def test_the_generators_write_the_same_tapes_again(name, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        module = __import__(DEALS[name])
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    out = tmp_path / name
    out.mkdir()
    module.write(out, 6)
    for key in sorted(p.name for p in (out / "tapes").iterdir()):
        assert (out / "tapes" / key).read_bytes() == (INPUTS / name / "tapes" / key).read_bytes(), key
    for key in sorted(p.name for p in (out / "periods").iterdir()):
        assert (out / "periods" / key).read_bytes() == (INPUTS / name / "periods" / key).read_bytes(), key


def two_group_month(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A copy of the two-group deal up to 2025-04, its 2025-04 tape unzipped for editing."""
    import gzip

    deal = tmp_path / "synthetic-two-group-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    for p in (deal / "periods").glob("*.yaml"):
        if p.stem >= "2025-04":
            p.unlink()
    tape = deal / "tapes" / "2025-04.csv"
    tape.write_bytes(gzip.decompress((deal / "tapes" / "2025-04.csv.gz").read_bytes()))
    return deal, tape, tape.read_text(encoding="utf-8-sig").splitlines()


def refused(deal: Path, tape: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "generator", "intake", str(deal), "--period", "2025-04", str(tape)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert not (deal / "periods" / "2025-04.yaml").exists()
    return [line.replace(f"{deal}/", "") for line in done.stderr.splitlines()[:-1]]


def test_the_second_mappings_conventions_in_its_messages(tmp_path):
    deal, tape, lines = two_group_month(tmp_path)
    assert lines[1].startswith("G1700003;I;31.03.2025;197279,42;179,71;")
    lines[1] = lines[1].replace(";I;31.03.2025;197279,42;179,71;", ";III;31.03.2025;197279,42;179.71;")
    tape.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    assert refused(deal, tape) == [  # in the order of the mapping's columns
        "tapes/2025-04.csv:2:Pool: 'III' is not a group code of the mapping (expected one of: I, II)",
        "tapes/2025-04.csv:2:ScheduledPrincipal: '179.71' is not a number (expected an amount in dollars and cents, "
        "written with ',' for decimals)"]


def test_the_tape_of_another_month_by_its_as_of_date(tmp_path):
    deal, tape, lines = two_group_month(tmp_path)
    tape.write_text("\ufeff" + "\n".join([lines[0]] + [l.replace(";31.03.2025;", ";28.02.2025;") for l in lines[1:]])
                    + "\n", encoding="utf-8")
    out = refused(deal, tape)
    assert out[0] == ("tapes/2025-04.csv:2:AsOfDate: the tape is as of 2025-02-28, not 2025-03-31 (expected the tape "
                      "of the 2025-04 distribution: is it another month's?)")
    assert len(out) == 51  # fifty listed, and one line for the rest
    assert out[-1].startswith("tapes/2025-04.csv: ... and ") and out[-1].endswith(" more rows like the last in "
                                                                                    "column AsOfDate")


def test_a_loan_that_changes_group(tmp_path):
    deal, tape, lines = two_group_month(tmp_path)
    lines[1] = lines[1].replace("G1700003;I;", "G1700003;II;")
    tape.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    first, *ties = refused(deal, tape)
    assert first == ("tapes/2025-04.csv:2:Pool: loan G1700003 is in group adjustable, but in group fixed on the "
                     "previous month's tape (tapes/2025-03.csv.gz:2) (expected a loan to stay in its group)")
    # and neither group's tape starts where its group ended on the 2025-03 statement
    assert [t.split(": the tape's loans begin the month")[0] for t in ties] == [
        "tapes/2025-04.csv: group fixed", "tapes/2025-04.csv: group adjustable"]


def remit(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_the_first_month_gives_every_carried_accounts_closing_balance(tmp_path):
    """Intake writes the opening state at closing: without the reserve's balance it would write a
    period file that check then refuses, under a header that says to regenerate, not edit, it."""
    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    text = (deal / "deal.yaml").read_text()
    line = next(x for x in text.splitlines() if "opening_accounts:" in x)
    (deal / "deal.yaml").write_text(text.replace(line + "\n", ""))
    before = (deal / "periods" / "2025-02.yaml").read_bytes()
    done = remit("intake", deal, "--period", "2025-02", deal / "tapes" / "2025-02.csv.gz", "--remittance",
                 deal / "tapes" / "2025-02.remittance.yaml")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].endswith(
        ": intake: no balance given for the reserve account (expected what each carried account held at closing "
        "under intake.opening_accounts, 0.00 for one empty)")
    assert (deal / "periods" / "2025-02.yaml").read_bytes() == before


def test_a_deal_folder_reached_through_a_link_names_its_tape_inside_it(tmp_path):
    deal = tmp_path / "synthetic-home-equity-2024-1"
    shutil.copytree(INPUTS / deal.name, deal)
    (deal / "periods" / "2024-03.yaml").unlink()
    for p in (deal / "periods").glob("*.yaml"):
        if p.stem > "2024-03":
            p.unlink()
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "deal").symlink_to(deal)
    done = remit("intake", tmp_path / "links" / "deal", "--period", "2024-03", deal / "tapes" / "2024-03.csv.gz")
    assert done.returncode == 0, done.stderr
    assert (deal / "periods" / "2024-03.yaml").read_text().splitlines()[1] == "# tape: tapes/2024-03.csv.gz"


def test_explain_traces_a_month_whose_statement_before_no_longer_ties(tmp_path):
    """Tracing a period file back to its loans reads its tape again, without the tie to the
    statement before (a later edit to that month is the render's to judge, not the trace's)."""
    deal = tmp_path / "synthetic-home-equity-2024-1"
    shutil.copytree(INPUTS / deal.name, deal)
    may = deal / "periods" / "2024-05.yaml"
    text = may.read_text()
    line = next(x for x in text.splitlines() if x.startswith("  curtailments: "))
    may.write_text(text.replace(line, "  curtailments: " + str(Decimal(line.split(": ")[1]) + 1000000), 1))
    assert remit("check", deal, "--period", "2024-06").returncode == 0
    done = remit("explain", deal, "collections.payoffs.count", "--period", "2024-06")
    assert done.returncode == 0, done.stderr
    assert "From the servicer's tape" in done.stdout


def test_a_closing_balance_of_an_account_the_deal_does_not_carry_is_named(tmp_path):
    """The same rule as a period's opening accounts: a misspelt reserve is named with the
    accounts the deal carries, and the reserve is then missing."""
    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    text = (deal / "deal.yaml").read_text()
    (deal / "deal.yaml").write_text(text.replace("opening_accounts: {reserve: 2500000.00}",
                                                 "opening_accounts: {reserv: 2500000.00}"))
    line = text.splitlines().index("  opening_accounts: {reserve: 2500000.00}") + 1
    before = (deal / "periods" / "2025-02.yaml").read_bytes()
    done = remit("intake", deal, "--period", "2025-02", deal / "tapes" / "2025-02.csv.gz")
    assert done.returncode == 1
    errors = done.stderr.splitlines()
    assert f"{deal / 'deal.yaml'}:{line}: intake.opening_accounts.reserv: 'reserv' is not a carried account of deal " \
           "synthetic-auto-2025-1 (expected one of: reserve)" in errors
    assert f"{deal / 'deal.yaml'}:{line}: intake.opening_accounts: no balance given for the reserve account (expected " \
           "what each carried account held at closing under intake.opening_accounts, 0.00 for one empty)" in errors
    assert (deal / "periods" / "2025-02.yaml").read_bytes() == before
