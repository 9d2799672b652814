"""remit diff and remit approve: the approved outputs in golden/, as a user checks them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .conftest import GOLDEN, INPUTS, REFERENCE_DEAL, ROOT
from .test_errors import edit

STEM = "new-century-2002-1_2002-05-28"


def remit(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def _needs_pdftotext():
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install the Debian package poppler-utils (scripts/setup does)")


def test_diff_is_quiet_when_everything_matches():
    approved = sorted(p.name for p in GOLDEN.iterdir())
    code, output = remit("diff", "--root", INPUTS, "--golden", GOLDEN)
    assert code == 0, output
    assert output == f"{len(approved)} approved files: {len(approved)} unchanged, 0 changed\n"


def test_a_broken_template_under_templates_is_named_in_its_folder(tmp_path):
    """Not as ``templates/NAME``, which would send the author to the project's own copy."""
    templates = tmp_path / "layouts"
    shutil.copytree(ROOT / "templates", templates)
    body = templates / "_statement-body.txt.j2"
    lines = body.read_text().splitlines(keepends=True)
    lines[2] = "{{ s.pool.no_such_figure|money }}\n" + lines[2]
    body.write_text("".join(lines))
    code, output = remit("diff", "--root", INPUTS, "--golden", GOLDEN, "--templates", templates)
    assert code == 1
    assert f"{templates / '_statement-body.txt.j2'}:3: " in output
    assert "templates/_statement-body" not in output


def test_diff_shows_a_template_change(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    body = templates / "_statement-body.txt.j2"
    assert "Payments in Full" in body.read_text()
    body.write_text(body.read_text().replace("Payments in Full", "Payments In Full"))
    code, output = remit("diff", "--root", INPUTS, "--golden", GOLDEN, "--templates", templates)
    assert code == 1
    def shares_the_body(golden: Path) -> bool:  # the deal's text layout includes the changed template
        deal = (INPUTS / golden.name.split("_")[0] / "deal.yaml").read_text()
        [layout] = [line.split(":", 1)[1].strip() for line in deal.splitlines() if line.strip().startswith("text:")]
        return "_statement-body.txt.j2" in (ROOT / "templates" / layout).read_text()

    text_goldens = sorted(p.name for p in GOLDEN.glob("*.txt") if not p.name.endswith(".pdf.txt")
                          and shares_the_body(p))
    assert len(text_goldens) >= 14
    headers = sorted(line[4:].strip() for line in output.splitlines() if line.startswith("--- "))
    assert headers == [str(GOLDEN / name) for name in text_goldens]  # those text layouts, nothing else
    removed = [line for line in output.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in output.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert removed and all("Payments in Full" in line for line in removed)
    assert [line.replace("In Full", "in Full") for line in added] == [line.replace("-", "+", 1)
                                                                            for line in removed]
    assert f"{len(text_goldens)} changed (remit approve FILE to accept a change)" in output


def test_approve_then_diff(tmp_path):
    out, golden = tmp_path / "out", tmp_path / "golden"
    code, output = remit("render", REFERENCE_DEAL, "-p", "2002-05", "-f", "text", "-f", "pdf", "-o", out)
    assert code == 0, output
    code, output = remit("approve", out / f"{STEM}.txt", out / f"{STEM}.pdf", "--golden", golden)
    assert code == 0, output
    assert output.splitlines() == [f"{golden / STEM}.txt (new)", f"{golden / STEM}.pdf.txt (new)"]
    assert (golden / f"{STEM}.pdf.txt").read_bytes() == (GOLDEN / f"{STEM}.pdf.txt").read_bytes()
    assert remit("diff", "--root", INPUTS, "--golden", golden)[0] == 0

    approved = golden / f"{STEM}.txt"
    approved.write_text(approved.read_text().replace("Form 8-K", "Form 8-Q"))
    code, output = remit("diff", "--root", INPUTS, "--golden", golden)
    assert code == 1
    assert "-Form 8-Q\n+Form 8-K\n" in output
    code, output = remit("approve", out / f"{STEM}.txt", "--golden", golden)
    assert output == f"{golden / STEM}.txt (changed)\n"
    assert remit("diff", "--root", INPUTS, "--golden", golden) == (0, "2 approved files: 2 unchanged, 0 changed\n")


def test_approve_refuses_what_is_not_a_plain_statement(tmp_path):
    revision = tmp_path / f"{STEM}.rev1.txt"
    stray = tmp_path / "notes.txt"
    revision.write_text("REVISED\n")
    stray.write_text("hello\n")
    code, output = remit("approve", revision, stray, "--golden", tmp_path / "golden")
    assert code == 1
    assert f"{revision}: a revision carries its REVISED mark" in output
    assert f"{stray}: not a rendered statement" in output
    assert not (tmp_path / "golden").exists()


def test_approve_checks_every_output_before_it_approves_any(tmp_path):
    """One output that cannot be approved (a spreadsheet) and nothing is approved: the good ones
    beside it are not copied into golden/ either."""
    out, golden = tmp_path / "out", tmp_path / "golden"
    assert remit("render", REFERENCE_DEAL, "-p", "2002-05", "-f", "text", "-f", "xlsx", "-o", out)[0] == 0
    code, output = remit("approve", out / f"{STEM}.txt", out / f"{STEM}.xlsx", "--golden", golden)
    assert code == 1
    assert output.splitlines() == [f"{out / STEM}.xlsx: not a rendered statement (expected <deal-id>_<YYYY-MM-DD>"
                                   ".txt, .json, .html or .pdf)", "nothing approved"]
    assert not golden.exists()


def test_approve_refuses_a_file_of_no_statement_under_root(tmp_path):
    """A file named for a deal that is not under --root, or for a date the deal has no statement
    of, is refused with every such file named: approved, it would stop remit diff for every deal."""
    out, golden = tmp_path / "out", tmp_path / "golden"
    assert remit("render", REFERENCE_DEAL, "-p", "2002-05", "-f", "text", "-o", out)[0] == 0
    body = (out / f"{STEM}.txt").read_bytes()
    other_deal, other_date = out / "no-such-deal_2002-05-28.txt", out / "new-century-2002-1_2002-05-27.txt"
    no_period = out / "new-century-2002-1_2099-01-28.txt"
    for path in (other_deal, other_date, no_period):
        path.write_bytes(body)
    code, output = remit("approve", out / f"{STEM}.txt", other_deal, other_date, no_period, "--root", INPUTS,
                         "--golden", golden)
    assert code == 1
    assert output.splitlines() == [f"{other_deal}: no deal with id 'no-such-deal' under {INPUTS}",
                                   f"{no_period}: deal new-century-2002-1 has no statement dated 2099-01-28 (no "
                                   "period file for 2099-01)",
                                   f"{other_date}: deal new-century-2002-1 has no statement dated 2002-05-27",
                                   "nothing approved"]
    assert not golden.exists()
    code, output = remit("approve", out / f"{STEM}.txt", "--root", INPUTS, "--golden", golden)
    assert (code, output) == (0, f"{golden / STEM}.txt (new)\n")


def test_approve_refuses_an_output_that_is_not_what_remit_renders(reference_deal, tmp_path):
    """An edited output, or one rendered before its inputs changed, is refused: approved, it would
    fail remit diff at once, or hold every later rendering to figures remit never made."""
    out, golden = tmp_path / "out", tmp_path / "golden"
    assert remit("render", reference_deal, "-p", "2002-05", "-f", "text", "-f", "pdf", "-o", out)[0] == 0
    edited = tmp_path / "edited" / f"{STEM}.txt"
    edited.parent.mkdir()
    edited.write_text((out / f"{STEM}.txt").read_text().replace("333-72880", "333-72881"))
    root = reference_deal.parent
    code, output = remit("approve", edited, out / f"{STEM}.pdf", "--root", root, "--golden", golden)
    assert code == 1
    assert output.splitlines() == [f"{edited}: not what remit renders now for this statement (its inputs or templates "
                                   "changed since it was rendered, or it was edited; expected the statement as "
                                   "rendered: render it again, read it, and approve that)", "nothing approved"]
    assert not golden.exists()
    edit(reference_deal / "periods" / "2002-05.yaml", "curtailments: 18331.70", "curtailments: 18431.70")
    code, output = remit("approve", out / f"{STEM}.txt", out / f"{STEM}.pdf", "--root", root, "--golden", golden)
    assert code == 1 and output.count("not what remit renders now") == 2, output  # both stale
    assert remit("render", reference_deal, "-p", "2002-05", "-f", "text", "-o", tmp_path / "again")[0] == 0
    code, output = remit("approve", tmp_path / "again" / f"{STEM}.txt", "--root", root, "--golden", golden)
    assert (code, output) == (0, f"{golden / STEM}.txt (new)\n")


def test_diff_of_no_approved_files_is_no_pass(tmp_path):
    """A --golden that does not exist (a typo in a CI script) or holds nothing checks nothing:
    a usage error, and a failure, not '0 approved files: 0 unchanged'."""
    code, output = remit("diff", "--root", INPUTS, "--golden", tmp_path / "no-such-dir")
    assert code == 2 and "'--golden': Directory" in output and "does not exist" in output
    (tmp_path / "empty").mkdir()
    code, output = remit("diff", "--root", INPUTS, "--golden", tmp_path / "empty")
    assert (code, output) == (1, f"{tmp_path / 'empty'}: no approved files (expected the files remit approve writes; "
                                 "a check of nothing is no pass)\n")


def test_diff_names_a_golden_file_it_cannot_place(tmp_path):
    golden = tmp_path / "golden"
    golden.mkdir()
    (golden / "no-such-deal_2002-05-28.txt").write_text("x\n")
    code, output = remit("diff", "--root", INPUTS, "--golden", golden)
    assert code == 1
    assert f"{golden}/no-such-deal_2002-05-28.txt: no deal with id 'no-such-deal'" in output


def test_a_broken_deal_without_approved_files_does_not_stop_diff(tmp_path):
    roots = tmp_path / "inputs"
    shutil.copytree(INPUTS, roots)
    broken = roots / "broken-deal"
    broken.mkdir()
    (broken / "deal.yaml").write_text("id: broken-deal\nclasses: [\n")
    approved = sorted(p.name for p in GOLDEN.iterdir())
    code, output = remit("diff", "--root", roots, "--golden", GOLDEN)
    assert (code, output) == (0, f"{len(approved)} approved files: {len(approved)} unchanged, 0 changed\n")

    golden = tmp_path / "golden"
    golden.mkdir()
    (golden / "broken-deal_2002-05-28.txt").write_text("x\n")  # now the broken deal may be the one wanted
    code, output = remit("diff", "--root", roots, "--golden", golden)
    assert code == 1
    assert f"{broken / 'deal.yaml'}:3: YAML syntax error" in output


def test_approve_is_all_or_nothing_on_a_full_disk_and_refuses_two_outputs_for_one_file(tmp_path):
    import subprocess

    out, other = tmp_path / "out", tmp_path / "other"
    assert remit("render", REFERENCE_DEAL, "-p", "2002-05", "-f", "text", "-f", "json", "-o", out)[0] == 0
    (other).mkdir()
    (other / f"{STEM}.txt").write_text((out / f"{STEM}.txt").read_text().replace("Form 8-K", "Form 8-Q"))
    golden = tmp_path / "golden"
    code, output = remit("approve", out / f"{STEM}.txt", other / f"{STEM}.txt", "--golden", golden)
    assert code == 1 and output.splitlines() == [
        f"{other / STEM}.txt: approves {golden / STEM}.txt, as {out / STEM}.txt does, with other content (expected "
        "one output for each approved file)", "nothing approved"]
    assert not golden.exists()

    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(small)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:  # room for the text (11 KB), not for the figures record (20 KB) beside it
        code, output = remit("approve", out / f"{STEM}.txt", out / f"{STEM}.json", "--golden", small)
        assert code == 1
        assert output.splitlines() == [f"{small / STEM}.json: cannot write (No space left on device)",
                                       "nothing approved"]
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)])


def test_diff_names_every_approved_file_it_cannot_use_at_once_and_never_blocks(tmp_path):
    """A name that is no statement's, a deal or a date that is not there, a FIFO, a directory
    or a link to nothing where an approved file should be: each is named, in one run (diff
    stopped at the first kind, and passed over a FIFO or a directory without a word);
    remit approve refuses a FIFO instead of waiting on it for ever."""
    import os
    import subprocess
    import sys

    golden = tmp_path / "golden"
    golden.mkdir()
    shutil.copy(GOLDEN / f"{STEM}.txt", golden)
    (golden / "random.txt").write_text("x\n")
    (golden / "nope-deal_2002-05-28.txt").write_text("x\n")
    (golden / "new-century-2002-1_2099-01-01.txt").write_text("x\n")
    os.mkfifo(golden / f"{STEM}.html")
    (golden / f"{STEM}.json").mkdir()
    (golden / "new-century-2002-1_2002-04-25.txt").symlink_to(tmp_path / "nowhere")
    done = subprocess.run([sys.executable, "-m", "generator", "diff", "--root", INPUTS, "--golden", golden],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert sorted(done.stderr.splitlines()) == sorted([
        f"{golden}/{STEM}.html: is a FIFO (named pipe) (expected a regular file)",
        f"{golden}/{STEM}.json: is a directory (expected a regular file)",
        f"{golden}/new-century-2002-1_2002-04-25.txt: file not found",
        f"{golden}/random.txt: not a statement's golden file (expected <deal-id>_<YYYY-MM-DD>.txt, .json, .html or "
        ".pdf.txt)",
        f"{golden}/nope-deal_2002-05-28.txt: no deal with id 'nope-deal' under {INPUTS}",
        f"{golden}/new-century-2002-1_2099-01-01.txt: deal new-century-2002-1 has no statement dated 2099-01-01 (no "
        "period file for 2099-01)"])
    fifo = tmp_path / "out" / f"{STEM}.txt"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "generator", "approve", fifo, "--root", INPUTS, "--golden",
                           tmp_path / "approved"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{fifo}: is a FIFO (named pipe) (expected a regular file)", "nothing approved"])
