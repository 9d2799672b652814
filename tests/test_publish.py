"""Published statements are immutable; a revision is marked, dated from the inputs, and lists
what it changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .test_errors import edit

STEM = "new-century-2002-1_2002-05-28"


def render(deal: Path, out: Path, *extra: str, formats: tuple[str, ...] = ("text",)):
    args = ["render", str(deal), "--period", "2002-05", "--out", str(out)]
    for f in formats:
        args += ["--format", f]
    result = CliRunner().invoke(main, [*args, *extra])
    return result.exit_code, result.output


def digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def restate_curtailments(deal: Path) -> None:
    edit(deal / "periods" / "2002-05.yaml", "curtailments: 18331.70", "curtailments: 18431.70")


def test_first_render_publishes_the_statement_and_its_figures_record(reference_deal, tmp_path):
    out = tmp_path / "out"
    code, output = render(reference_deal, out)
    assert code == 0, output
    assert sorted(digest(out)) == [f"{STEM}.json", f"{STEM}.txt"]
    assert json.loads((out / f"{STEM}.json").read_text())["pool"]["curtailments"] == "18331.70"


def test_rendering_the_same_inputs_again_changes_nothing(reference_deal, tmp_path):
    out = tmp_path / "out"
    render(reference_deal, out)
    before = digest(out)
    code, output = render(reference_deal, out)
    assert code == 0
    assert output.splitlines() == [f"{out / STEM}.txt (unchanged)", f"{out / STEM}.json (unchanged)"]
    assert digest(out) == before


def test_a_new_format_joins_the_published_version(reference_deal, tmp_path):
    out = tmp_path / "out"
    render(reference_deal, out)
    code, output = render(reference_deal, out, formats=("html",))
    assert code == 0, output
    assert f"{out / STEM}.html" in output.splitlines()
    assert (out / f"{STEM}.html").read_text().startswith("<!DOCTYPE html>")


def test_a_changed_statement_is_refused_and_names_the_figures(reference_deal, tmp_path):
    out = tmp_path / "out"
    render(reference_deal, out)
    before = digest(out)
    restate_curtailments(reference_deal)
    code, output = render(reference_deal, out)
    assert code == 1
    assert "already published with different content; refusing to overwrite" in output
    assert "  pool.curtailments: 18,331.70 -> 18,431.70" in output.splitlines()
    assert "  A.principal: 1,767,305.99 -> 1,767,405.99" in output.splitlines()
    assert output.rstrip().endswith("1 error; nothing written")
    assert digest(out) == before


def test_a_tampered_file_is_refused_even_when_no_figure_changed(reference_deal, tmp_path):
    out = tmp_path / "out"
    render(reference_deal, out)
    published = out / f"{STEM}.txt"
    published.write_bytes(published.read_bytes().replace(b"Form 8-K", b"Form 8-k"))
    code, output = render(reference_deal, out)
    assert code == 1
    assert "no figure changes, but the rendered file differs" in output


def test_a_revision_needs_a_reason_and_a_date(reference_deal, tmp_path):
    out = tmp_path / "out"
    render(reference_deal, out)
    restate_curtailments(reference_deal)
    code, output = render(reference_deal, out, "--revise", "  ")
    assert code == 2 and "Invalid value for '--revise': the reason is empty (expected the words printed" in output
    code, output = render(reference_deal, out, "--revise", "Servicer restated curtailments")
    assert code == 1
    period = reference_deal / "periods" / "2002-05.yaml"
    assert f"{period}:9: revised_on: a revision needs the date it is made" in output
    edit(period, "period: 2002-05\n", "period: 2002-05\nrevised_on: 2002-05-01\n")
    code, output = render(reference_deal, out, "--revise", "Servicer restated curtailments")
    assert code == 1
    assert (f"{period}:10: revised_on: 2002-05-01 is before the distribution date 2002-05-28 it revises "
            "(expected that date or later)") in output.splitlines()
    assert sorted(digest(out)) == [f"{STEM}.json", f"{STEM}.txt"]


def test_a_revision_is_marked_and_leaves_the_original_untouched(reference_deal, tmp_path):
    out = tmp_path / "out"
    render(reference_deal, out, formats=("text", "html"))
    original = digest(out)
    restate_curtailments(reference_deal)
    edit(reference_deal / "periods" / "2002-05.yaml", "period: 2002-05\n", "period: 2002-05\nrevised_on: 2002-06-04\n")
    code, output = render(reference_deal, out, "--revise", "Servicer restated curtailments", formats=("text", "html"))
    assert code == 0, output
    assert output.splitlines() == [f"{out / STEM}.rev1.{ext} (revision)" for ext in ("txt", "html", "json")]
    assert {k: v for k, v in digest(out).items() if ".rev" not in k} == original

    text = (out / f"{STEM}.rev1.txt").read_text().splitlines()
    assert text[1:5] == ["REVISED STATEMENT -- REVISION 1", "Revised on:  06/04/02",
                         "Reason:      Servicer restated curtailments", f"Supersedes:  {STEM}"]
    assert "  pool.curtailments: 18,331.70 -> 18,431.70" in text
    assert "  A.ending_balance: 158,463,799.08 -> 158,463,699.08" in text
    # below the mark, the statement itself carries the restated figures
    assert "SECURITIES AND EXCHANGE COMMISSION" in text
    record = json.loads((out / f"{STEM}.rev1.json").read_text())
    assert record["revision"]["number"] == 1 and record["revision"]["date"] == "2002-06-04"
    changed = {c["figure"]: (c["old"], c["new"]) for c in record["revision"]["changes"]}
    assert changed["pool.curtailments"] == ("18331.70", "18431.70")
    assert changed["cash.available"] == ("3205794.60", "3205894.60")
    assert "Revised statement &mdash; revision 1" in (out / f"{STEM}.rev1.html").read_text()

    # the revision is now what is published: rendering again leaves it be
    code, output = render(reference_deal, out, formats=("text", "html"))
    assert code == 0 and output.count("(unchanged)") == 3
    # and asking to revise identical content is refused
    code, output = render(reference_deal, out, "--revise", "again", formats=("text",))
    assert code == 1 and "nothing to revise" in output


def test_a_revision_revises_every_format_the_statement_was_published_in(reference_deal, tmp_path):
    """Revising with the command's default format left the published workbook and CSV with the
    superseded figures and no revised copy beside them."""
    out = tmp_path / "out"
    render(reference_deal, out, formats=("text", "xlsx", "csv"))
    restate_curtailments(reference_deal)
    edit(reference_deal / "periods" / "2002-05.yaml", "period: 2002-05\n", "period: 2002-05\nrevised_on: 2002-06-04\n")
    code, output = render(reference_deal, out, "--revise", "Servicer restated curtailments", formats=("text",))
    assert code == 0, output
    assert output.splitlines() == [f"{out / STEM}.rev1.{ext} (revision)" for ext in ("txt", "json", "xlsx", "csv")]
    assert "pool.curtailments,revised,pool.curtailments,18431.70" in (out / f"{STEM}.rev1.csv").read_text()


def test_a_revision_without_anything_published_is_refused(reference_deal, tmp_path):
    code, output = render(reference_deal, tmp_path / "out", "--revise", "a reason")
    assert code == 1 and "nothing is published to revise" in output
    assert not (tmp_path / "out").exists()


def test_a_revision_while_another_remit_publishes_there_is_refused_not_queued(reference_deal, tmp_path):
    """Two revisions started together, from different inputs: the second would otherwise wait
    and then revise what the first published, unseen.  It is refused, nothing written; once the
    other is done, a revision goes ahead against what is published then."""
    import fcntl
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    out = tmp_path / "out"
    render(reference_deal, out)
    restate_curtailments(reference_deal)
    edit(reference_deal / "periods" / "2002-05.yaml", "period: 2002-05\n", "period: 2002-05\nrevised_on: 2002-06-04\n")
    before = digest(out)
    revise = [sys.executable, "-m", "generator", "render", str(reference_deal), "--period", "2002-05",
              "-o", str(out), "--revise", "Servicer restated curtailments"]
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another remit publishing into out
        done = subprocess.run(revise, cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        os.close(fd)
    assert done.returncode == 1
    assert (f"{out}: cannot write (another remit is publishing there; run the revision again once it is done, "
            "so that it revises what that one published)") in done.stderr
    assert digest(out) == before
    done = subprocess.run(revise, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (out / f"{STEM}.rev1.txt").exists()


@pytest.mark.parametrize("ext", ["json", "txt"])
def test_a_fifo_named_like_a_published_file_is_refused_not_read(reference_deal, tmp_path, ext):
    """A FIFO in --out named like the published record (or statement) is refused with its name,
    through the real command line: opened for reading, it would hang the render."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    out = tmp_path / "out"
    render(reference_deal, out)
    (out / f"{STEM}.{ext}").unlink()
    os.mkfifo(out / f"{STEM}.{ext}")
    done = subprocess.run([sys.executable, "-m", "generator", "render", str(reference_deal), "--period", "2002-05",
                           "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"{out / STEM}.{ext}: the " in done.stderr
    assert "cannot be compared with what would be published now: it is a FIFO (named pipe) (expected a regular file)" \
        in done.stderr, done.stderr


@pytest.mark.parametrize("name", [f"{STEM}.json", f"{STEM}.txt", f"{STEM}.rev1.json"])
def test_a_link_to_nothing_named_like_a_published_file_is_refused_as_such(reference_deal, tmp_path, name):
    """Not taken for nothing published (which then failed at the link, blaming another run)."""
    out = tmp_path / "out"
    if ".rev1." in name:
        render(reference_deal, out)
        restate_curtailments(reference_deal)
        edit(reference_deal / "periods" / "2002-05.yaml", "period: 2002-05\n",
             "period: 2002-05\nrevised_on: 2002-06-04\n")
    out.mkdir(exist_ok=True)
    (out / name).symlink_to("nothing")
    extra = ("--revise", "Servicer restated curtailments") if ".rev1." in name else ()
    code, output = render(reference_deal, out, *extra)
    assert code == 1
    if name.endswith(".txt"):  # a statement is published beside its record, which is not there
        assert f"{out / STEM}.json: the figures record of this published statement is missing" in output, output
    else:
        assert (f"{out / name}: the " in output and "cannot be compared with what would be published now: it is a "
                "link to nothing, which is not there" in output), output
    assert "another run" not in output


def test_a_changed_month_rolled_forward_into_later_ones_is_named_as_where_to_look(tmp_path):
    """One changed figure in a month refuses it and every later month (each starts where the
    one before it ended); the refusals listed every month and never said which file to look at."""
    import shutil

    from .conftest import INPUTS

    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(deal), "--period", "2025-02..2025-05", "--out", str(out)])
    assert result.exit_code == 0, result.output
    edit(deal / "periods" / "2025-03.yaml", "curtailments: 482028.96", "curtailments: 482029.96")
    result = CliRunner().invoke(main, ["render", str(deal), "--period", "2025-02..2025-05", "--out", str(out)])
    assert result.exit_code == 1
    assert (f"3 published statements would change; the earliest is 2025-03's: look first at "
            f"{deal / 'periods' / '2025-03.yaml'} (each later month starts where the one before it ended)") \
        in result.output
