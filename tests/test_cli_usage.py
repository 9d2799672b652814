"""The command line's usage rules, through the real command in subprocesses: a malformed
--period is a usage error (exit 2) in every command, before any file is read or written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import INPUTS, REFERENCE_DEAL, ROOT


def remit(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("period", ["2002-13", "2002-5", "2002/05", "May 2002", "2002-06..2002-05", "2002-05..",
                                    "latest..all", ""])
@pytest.mark.parametrize("command", ["render", "check", "batch", "explain"])
def test_a_malformed_period_is_a_usage_error(tmp_path, command, period):
    out = tmp_path / "out"
    args = {"render": ["render", REFERENCE_DEAL, "--period", period, "-o", out],
            "check": ["check", REFERENCE_DEAL, "--period", period],
            "batch": ["batch", "--root", INPUTS, "--period", period, "-o", out],
            "explain": ["explain", REFERENCE_DEAL, "--period", period, "A.rate"]}[command]
    done = remit(*args)
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--period' / '-p'" in done.stderr and "is not a period (expected YYYY-MM" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("period", ["0000-01", "1899-12", "2200-01", "2002-05..9999-12"])
def test_a_period_outside_the_years_remit_takes_is_a_usage_error(period):
    done = remit("check", REFERENCE_DEAL, "--period", period)
    assert done.returncode == 2, done.stderr
    assert "is outside the years remit takes (expected months from 1900-01 to 2199-12)" in done.stderr


@pytest.mark.parametrize("period", ["2002-05", "2002-05..2002-05", "all", "latest"])
def test_well_formed_periods_are_taken(period):
    done = remit("check", REFERENCE_DEAL, "--period", period)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", ["render", "batch", "schema"])
def test_an_empty_out_is_a_usage_error_not_the_current_directory(tmp_path, command):
    args = {"render": ["render", REFERENCE_DEAL, "--period", "2002-05"], "batch": ["batch", "--root", INPUTS],
            "schema": ["schema"]}[command]
    done = subprocess.run([sys.executable, "-m", "generator", *map(str, args), "--out", ""], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--out' / '-o': the name is empty (expected a directory to write into)" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_version():
    done = remit("--version")
    assert done.returncode == 0 and done.stdout.strip().startswith("remit ")
    assert done.stdout.strip().split(" ")[1][0].isdigit()


AUTO = INPUTS / "synthetic-auto-2025-1"


def copy_of(deal, tmp_path):
    import shutil

    target = tmp_path / deal.name
    shutil.copytree(deal, target)
    return target


@pytest.mark.parametrize("period", ["2026-03", "2026-08", "all", "2026-01..2026-09"])
def test_a_month_missing_from_a_deals_history_is_an_error_not_a_bridge(tmp_path, period):
    """Each statement starts from the balances the month before it left: with a month's report
    missing, the next would start from two months back (March from January's closing pool, 60
    days of interest); it is refused, every gap named, and nothing is written."""
    deal = copy_of(AUTO, tmp_path)
    for gone in ("2026-02", "2026-05", "2026-06"):
        (deal / "periods" / f"{gone}.yaml").unlink()
    out = tmp_path / "out"
    done = remit("render", deal, "--period", period, "-f", "text", "-o", out)
    assert done.returncode == 1, done.stderr
    p = deal / "periods"
    if ".." in period:  # every month of a range must be on file: the missing ones are named as such
        assert done.stderr.splitlines()[0] == (
            f"{p}: no period file for 2026-02, 2026-05..2026-06 (expected {p}/2026-02.yaml and one for each of "
            "the others; on file: 2025-02..2026-01, 2026-03..2026-04, 2026-07..2029-01)")
        return
    assert (f"{p}/2026-03.yaml: the servicer's report for 2026-02 is missing (expected {p}/2026-02.yaml): "
            "2026-03's statement starts from the balances 2026-02's left") in done.stderr.splitlines()
    if period != "2026-03":
        assert (f"{p}/2026-07.yaml: the servicer's report for 2026-05..2026-06 is missing (expected {p}/2026-05.yaml "
                "and one for each month after it): 2026-07's statement starts from the balances 2026-06's left"
                ) in done.stderr.splitlines()
    assert not out.exists() or not any(out.iterdir())
    # the months before the first gap still run
    assert remit("check", deal, "--period", "2026-01").returncode == 0


@pytest.mark.parametrize("gone", [["2025-02"], ["2025-02", "2025-03", "2025-04"]])
def test_the_first_months_missing_are_named(tmp_path, gone):
    """A deal whose first reports are not on file cannot start from the first one that is (it
    has no opening state): the months missing since the deal's first distribution are named."""
    deal = copy_of(AUTO, tmp_path)
    for month in gone:
        (deal / "periods" / f"{month}.yaml").unlink()
    done = remit("check", deal, "--period", "latest")
    assert done.returncode == 1, done.stderr
    p = deal / "periods"
    after = " and one for each month after it" if len(gone) > 1 else ""
    months = gone[0] if len(gone) == 1 else f"{gone[0]}..{gone[-1]}"
    first = f"{p}/2025-{len(gone) + 2:02d}.yaml"
    assert done.stderr.splitlines()[0].startswith(f"{first}:")
    assert done.stderr.splitlines()[0].endswith(
        "opening: the deal's first period on file needs an opening state (balances after the previous distribution), "
        "or the servicer's reports before it are missing: the deal's first distribution was 2025-02-18 "
        f"(expected {p}/2025-02.yaml{after}, for {months})")


@pytest.mark.parametrize("period, missing", [("2030-01..2030-03", "2030-01..2030-03"),
                                             ("2028-11..2029-06", "2029-02..2029-06")])
def test_a_range_takes_every_month_in_it(tmp_path, period, missing):
    """A range is every month from its first to its last, each of which must be on file, as a
    single month must; one that runs past the reports on file says which months are not."""
    out = tmp_path / "out"
    done = remit("render", AUTO, "--period", period, "-o", out)
    assert done.returncode == 1
    p = AUTO / "periods"
    assert done.stderr.splitlines()[0] == (
        f"{p}: no period file for {missing} (expected {p}/{missing[:7]}.yaml and one for each of the others; "
        "on file: 2025-02..2029-01)")
    assert not out.exists()


def test_a_periods_file_that_is_not_a_folder_is_said_to_be_one(tmp_path):
    deal = tmp_path / "deal"
    deal.mkdir()
    (deal / "deal.yaml").write_bytes((REFERENCE_DEAL / "deal.yaml").read_bytes())
    (deal / "periods").write_text("")
    done = remit("check", deal, "--period", "2002-05")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (f"{deal}/periods: is not a folder (expected a folder of the servicer's "
                                           "reports, periods/YYYY-MM.yaml)")


def test_serve_on_a_port_that_is_taken_says_so(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = remit("serve", "--root", INPUTS, "--port", port)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (f"127.0.0.1:{port}: cannot listen (Address already in use; expected a free port, or "
                           "--port 0 for any)\n")


@pytest.mark.parametrize("name", ["2026-13.yaml", "2026-00.yaml", "2026-05\n.yaml", "2026-5.yaml"])
def test_a_file_named_as_no_month_is_no_period_file(tmp_path, name):
    """A name like a period that is not a month is not taken for one: the months on file still
    run, and none is said to be missing because of it."""
    deal = copy_of(AUTO, tmp_path)
    (deal / "periods" / name).write_bytes((deal / "periods" / "2026-04.yaml").read_bytes())
    done = remit("check", deal, "--period", "2026-06")
    assert done.returncode == 0, done.stderr
    path = str(deal / "periods" / name)
    shown = path if path.isprintable() else repr(path)
    assert done.stderr == (f"warning: {shown}: not read: no period file has this name (expected YYYY-MM.yaml, "
                           "such as 2002-05.yaml)\n")


def test_a_yaml_file_no_period_reads_is_warned_of(tmp_path):
    """A month the servicer sent as .yml is not read: render and check say so, and still run the
    months on file; with --errors json, stderr stays JSON."""
    deal = copy_of(AUTO, tmp_path)
    (deal / "periods" / "2026-07.yml").write_bytes((deal / "periods" / "2026-04.yaml").read_bytes())
    (deal / "periods" / "README.md").write_text("not YAML: not a period file\n")
    warning = f"warning: {deal / 'periods' / '2026-07.yml'}: not read: no period file has this name"
    done = remit("check", deal, "--period", "latest")
    assert done.returncode == 0 and done.stderr.startswith(warning) and done.stderr.count("warning:") == 1
    done = remit("render", deal, "--period", "latest", "-o", tmp_path / "out")
    assert done.returncode == 0 and done.stderr.startswith(warning)
    done = remit("render", deal, "--period", "2099-01", "-o", tmp_path / "out", "--errors", "json")
    assert done.returncode == 1 and "warning" not in done.stderr and done.stderr.startswith("{")
    done = remit("batch", "--root", tmp_path, "--period", "latest", "-o", tmp_path / "month-end")  # and the month end
    assert done.returncode == 0 and done.stderr.startswith(warning)


def test_a_book_keeps_its_own_templates_folder(tmp_path):
    """A book's deals name layouts in a templates folder of its own: render, check, batch and
    diff take it as --templates; without it a layout that is not among the project's is named."""
    import shutil

    book, templates = tmp_path / "book", tmp_path / "layouts"
    deal = book / REFERENCE_DEAL.name
    shutil.copytree(REFERENCE_DEAL, deal)
    shutil.copytree(ROOT / "templates", templates)
    mine = templates / "mine.txt.j2"
    mine.write_text("OUR LAYOUT\n" + (templates / "new-century-8k.txt.j2").read_text())
    text = (deal / "deal.yaml").read_text()
    (deal / "deal.yaml").write_text(text.replace("text: new-century-8k.txt.j2", "text: mine.txt.j2", 1))
    done = remit("check", deal, "--period", "2002-05")
    assert done.returncode == 1 and "templates.text: no template 'mine.txt.j2' in " in done.stderr
    assert remit("check", deal, "--period", "2002-05", "--templates", templates).returncode == 0
    out = tmp_path / "out"
    done = remit("render", deal, "--period", "2002-05", "--templates", templates, "-o", out)
    assert done.returncode == 0, done.stderr
    written = (out / "new-century-2002-1_2002-05-28.txt").read_text()
    assert written.startswith("OUR LAYOUT")
    month = tmp_path / "month"
    done = remit("batch", "--root", book, "--templates", templates, "-o", month, "-j", "1")
    assert done.returncode == 0, done.stderr
    assert (month / "new-century-2002-1_2002-05-28.txt").read_text() == written


def test_a_books_templates_folder_holds_only_its_own_layouts(tmp_path):
    """A --templates folder need hold only the book's layouts: what it lacks (the parts a layout
    includes, the web page and its stylesheet) is the project's, and what it has comes first."""
    import shutil

    book, templates = tmp_path / "book", tmp_path / "layouts"
    deal = book / REFERENCE_DEAL.name
    shutil.copytree(REFERENCE_DEAL, deal)
    templates.mkdir()
    (templates / "mine.txt.j2").write_text('OUR LAYOUT\n{% include "_statement-body.txt.j2" %}')
    (templates / "statement.css").write_text("body { color: #123456; }\n")
    text = (deal / "deal.yaml").read_text()
    (deal / "deal.yaml").write_text(text.replace("text: new-century-8k.txt.j2", "text: mine.txt.j2", 1))
    out = tmp_path / "out"
    done = remit("render", deal, "--period", "2002-05", "--templates", templates, "-f", "text", "-f", "html", "-o", out)
    assert done.returncode == 0, done.stderr
    assert (out / "new-century-2002-1_2002-05-28.txt").read_text().startswith("OUR LAYOUT\n")
    page = (out / "new-century-2002-1_2002-05-28.html").read_text()
    assert "body { color: #123456; }" in page and 'id="rates"' in page  # the book's sheet, the project's page
    (deal / "deal.yaml").write_text(text.replace("text: new-century-8k.txt.j2", "text: nosuch.txt.j2", 1))
    done = remit("check", deal, "--period", "2002-05", "--templates", templates)
    assert done.returncode == 1
    assert "no template 'nosuch.txt.j2' in " in done.stderr
    assert "(expected one of: auto-abs.txt.j2, mine.txt.j2, new-century-8k.txt.j2" in done.stderr


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.1])
def test_ctrl_c_while_the_command_starts_is_no_traceback(delay):
    """Ctrl-C in the moment the command line loads printed the traceback of whichever module
    was being imported, and the process died of the signal.  (Before its first line runs, the
    interpreter's own start-up answers Ctrl-C as Python does: a Ctrl-C 50 ms after the start,
    on a busy machine, can land there, which no program can change.)"""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "generator", "check", str(REFERENCE_DEAL), "--period", "2002-05"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr.decode(), stderr.decode()
    # an exit status, not death by the signal: 130 while it starts, 1 (Aborted!) while it runs; only
    # once it has done its work and said so may a Ctrl-C end the interpreter as Python ends it
    assert proc.returncode >= 0 or (proc.returncode == -signal.SIGINT and b"reconciled" in stdout), stderr.decode()
