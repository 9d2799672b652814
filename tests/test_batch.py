"""remit batch: every deal in parallel, failures listed, a manifest, nothing partial."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .conftest import INPUTS, REFERENCE_DEAL, ROOT, SYNTHETIC, own_cusips
from .test_errors import edit


def copy_deal(source: Path, root: Path, deal_id: str) -> Path:
    """A copy of a deal under another id, with CUSIPs of its own."""
    target = root / deal_id
    (target / "periods").mkdir(parents=True)
    deal_yaml = (source / "deal.yaml").read_text()
    old_id = next(line for line in deal_yaml.splitlines() if line.startswith("id: "))
    for old, new in own_cusips(deal_yaml, deal_id).items():
        deal_yaml = deal_yaml.replace(f"cusip: {old}", f"cusip: {new}")
    (target / "deal.yaml").write_text(deal_yaml.replace(old_id, f"id: {deal_id}"))
    for p in (source / "periods").iterdir():
        (target / "periods" / p.name).write_bytes(p.read_bytes())
    return target


def batch(*args: str | Path):
    result = CliRunner().invoke(main, ["batch", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """Two good deals and one whose period file has a typo."""
    root = tmp_path / "book"
    copy_deal(REFERENCE_DEAL, root, "good-a")
    copy_deal(REFERENCE_DEAL, root, "good-b")
    bad = copy_deal(REFERENCE_DEAL, root, "bad-c")
    edit(bad / "periods" / "2002-05.yaml", "remaining_term:", "remaining_trem:")
    return root


def test_one_bad_deal_is_listed_and_never_stops_the_others(book, tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = batch("--root", INPUTS, "--root", book, "-f", "text", "-f", "json", "-j", "2", "-o", out)
    assert code == 1
    bad = book / "bad-c"
    assert (f"FAILED {bad}\n  {bad}/periods/2002-05.yaml:9: remaining_term: required field is missing\n"
            f"  {bad}/periods/2002-05.yaml:41: remaining_trem: unknown field") in stderr
    bundled = len([d for d in INPUTS.iterdir() if (d / "deal.yaml").is_file()])  # and the book's three
    deals, statements = bundled + 3, bundled + 2
    assert f"{deals} deals, {statements} statements, {2 * statements} files ({2 * statements} written, 0 unchanged)" \
        in stdout
    assert "; 1 failed;" in stdout

    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["deals"], manifest["statements"], manifest["failures"]) == (deals, statements, 1)
    assert [f["deal"] for f in manifest["failed"]] == [str(bad)]
    written = sorted(p.name for p in out.iterdir() if p.name != "manifest.json")
    assert [f["path"] for f in manifest["files"]] == written
    for f in manifest["files"]:
        assert f["sha256"] == sha256(out / f["path"])
        assert f["bytes"] == (out / f["path"]).stat().st_size
    # the reference deal's statement is the filed one, whichever worker rendered it
    filed = ROOT / "tests" / "reference" / "new-century-2002-1_2002-05-28.filed.txt"
    assert (out / "good-a_2002-05-28.txt").read_bytes()[-200:] == filed.read_bytes()[-200:]
    assert (out / "new-century-2002-1_2002-05-28.txt").read_bytes() == filed.read_bytes()


def test_a_deal_folder_whose_deal_file_is_misnamed_fails_instead_of_dropping_out(book, tmp_path):
    """A folder with its periods but its deal file written deal.yml was left out of the month
    end without a word: "2 deals ... 0 failed", exit 0."""
    (book / "bad-c" / "deal.yaml").rename(book / "bad-c" / "deal.yml")
    code, stdout, stderr = batch("--root", book, "-f", "text", "-o", tmp_path / "out")
    assert code == 1
    assert f"FAILED {book / 'bad-c'}\n  {book / 'bad-c'}/deal.yaml: file not found" in stderr
    assert stdout.startswith("3 deals, 2 statements,") and "; 1 failed;" in stdout


def test_one_job_and_two_jobs_give_the_same_bytes(book, tmp_path):
    for jobs in ("1", "2"):
        batch("--root", book, "-f", "text", "-f", "html", "-j", jobs, "-o", tmp_path / jobs)
    one, two = tmp_path / "1", tmp_path / "2"
    assert sorted(p.name for p in one.iterdir()) == sorted(p.name for p in two.iterdir())
    for p in one.iterdir():
        assert p.read_bytes() == (two / p.name).read_bytes(), p.name


def test_a_second_run_finds_everything_published_and_unchanged(book, tmp_path):
    out = tmp_path / "out"
    batch("--root", book, "-o", out)
    first = {p.name: sha256(p) for p in out.iterdir() if p.name != "manifest.json"}
    code, stdout, _ = batch("--root", book, "-o", out)
    assert code == 1  # bad-c still fails
    assert "0 written, 4 unchanged" in stdout
    assert {p.name: sha256(p) for p in out.iterdir() if p.name != "manifest.json"} == first
    statuses = {f["status"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert statuses == {"unchanged"}


def test_a_failed_deal_keeps_the_factor_lines_of_its_published_statement(book, tmp_path):
    """The factor file lists what is published: a deal whose re-run fails (it would change a
    published file, or its inputs no longer read) keeps its published statement, so it keeps
    that statement's lines too; a failed deal published nowhere has none."""
    out = tmp_path / "out"
    code, stdout, _ = batch("--root", book, "-f", "text", "-o", out, "--factor-file")
    first = (out / "factors.csv").read_text().splitlines()
    assert code == 1 and {line.split(",")[1] for line in first[1:]} == {"good-a", "good-b"}  # bad-c never rendered
    edit(book / "good-a" / "periods" / "2002-05.yaml", "curtailments: 18331.70", "curtailments: 18431.70")
    edit(book / "good-b" / "periods" / "2002-05.yaml", "remaining_term:", "remaining_trem:")
    (out / "good-b_2002-04-25.json").write_text("{")  # another month's record is not read
    code, stdout, stderr = batch("--root", book, "-f", "text", "-o", out, "--factor-file")
    assert code == 1
    assert f"FAILED {book / 'good-a'}" in stderr and "already published with different content" in stderr
    assert f"FAILED {book / 'good-b'}" in stderr and "2002-04-25" not in stderr
    assert (out / "factors.csv").read_text().splitlines() == first  # as published, line for line
    assert f"(failed, listed as published: {book / 'good-a'}, {book / 'good-b'})" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f["path"]: f["status"] for f in manifest["files"]}["factors.csv"] == "unchanged"
    assert [f.get("factor_lines_as_published") for f in manifest["failed"]] == [None, 8, 8]  # bad-c, good-a, good-b


def test_a_renamed_folder_and_a_month_whose_file_is_gone_keep_their_published_lines(book, tmp_path):
    """A deal folder renamed since its statements were published (refused: its name is not its
    id), and a month of --period all whose period file is gone (the deal fails for the gap),
    lost their published statements' lines from the factor file without a word."""
    import shutil

    out = tmp_path / "out"
    shutil.rmtree(book / "bad-c")
    two = copy_deal(SYNTHETIC, book, "story-d")
    code, _, _ = batch("--root", book, "-f", "text", "-o", out, "--factor-file", "--period", "all")
    first = (out / "factors.csv").read_text().splitlines()
    assert code == 0
    (book / "good-b").rename(book / "good-b-moved")
    (two / "periods" / "2025-06.yaml").unlink()
    code, stdout, stderr = batch("--root", book, "-f", "text", "-o", out, "--factor-file", "--period", "all")
    assert code == 1
    assert f"FAILED {book / 'good-b-moved'}" in stderr and f"FAILED {two}" in stderr
    assert (out / "factors.csv").read_text().splitlines() == first  # as published, line for line
    assert f"(failed, listed as published: {book / 'good-b-moved'}, {two})" in stdout


@pytest.mark.parametrize("damage", ["truncated", "nested", "wrong type", "another statement", "non-ascii date"])
def test_a_published_record_that_cannot_be_read_is_told_and_its_lines_left_out(book, tmp_path, damage):
    """A failed deal's published record that is damaged, is of another statement than its name
    says, or is nested past what a parser can read, is an error of its deal; the run goes on
    and writes the factor file (without that deal) and the manifest."""
    out = tmp_path / "out"
    batch("--root", book, "-f", "text", "-o", out, "--factor-file")
    first = (out / "factors.csv").read_text().splitlines()
    edit(book / "good-a" / "periods" / "2002-05.yaml", "remaining_term:", "remaining_trem:")
    record = out / "good-a_2002-05-28.json"
    data = json.loads(record.read_text())
    if damage == "truncated":
        record.write_text("{")
    elif damage == "nested":
        record.write_text("[" * 200_000 + "]" * 200_000)
    elif damage == "wrong type":
        data["classes"][0]["cusip"] = ["X"]
        record.write_text(json.dumps(data))
    elif damage == "another statement":
        record.write_bytes((out / "good-b_2002-05-28.json").read_bytes())
    else:
        os.rename(record, out / "good-a_٢٠٠٢-05-28.json")
        record = out / "good-a_٢٠٠٢-05-28.json"
    code, stdout, stderr = batch("--root", book, "-f", "text", "-o", out, "--factor-file")
    assert code == 1 and "Traceback" not in stderr
    lines = (out / "factors.csv").read_text().splitlines()
    assert lines == [first[0]] + [line for line in first[1:] if ",good-b," in line]
    assert (out / "manifest.json").exists()
    if damage != "non-ascii date":  # a name that is no record's is no record: nothing to tell
        assert f"  {record}: the figures record of this published statement" in stderr
        assert f"{out / 'factors.csv'}: lists none of good-a's published classes" in stderr


def test_published_lines_never_give_a_cusip_a_rendered_deal_has(tmp_path):
    """A failed deal's published lines whose CUSIP a rendered deal now holds (the failed deal's
    CUSIP corrected since, and the old one taken by a new deal) are left out, and said."""
    root, out = tmp_path / "book", tmp_path / "out"
    a = copy_deal(REFERENCE_DEAL, root, "good-a")
    batch("--root", root, "-f", "text", "-o", out, "--factor-file")
    old = next(iter(own_cusips(REFERENCE_DEAL.joinpath("deal.yaml").read_text(), "good-a").values()))
    new = next(iter(own_cusips(REFERENCE_DEAL.joinpath("deal.yaml").read_text(), "good-z").values()))
    edit(a / "deal.yaml", f"cusip: {old}", f"cusip: {new}")  # good-a's re-run now differs: refused
    c = copy_deal(REFERENCE_DEAL, root, "good-c")
    first_c = next(iter(own_cusips(REFERENCE_DEAL.joinpath("deal.yaml").read_text(), "good-c").values()))
    edit(c / "deal.yaml", f"cusip: {first_c}", f"cusip: {old}")
    code, stdout, stderr = batch("--root", root, "-f", "text", "-o", out, "--factor-file")
    assert code == 1 and f"FAILED {a}" in stderr
    factors = (out / "factors.csv").read_text()
    assert ",good-a," not in factors and factors.count(f"{old},good-c,") == 1
    assert (f"{out / 'factors.csv'}: lists none of good-a's published classes: CUSIP {old} of its published "
            "statement is another deal's line there") in stderr
    assert "listed as published" not in stdout


def test_deals_refused_before_rendering_keep_their_published_lines(tmp_path):
    """Two published deals that now give one CUSIP (a typo's fix that collides) both fail before
    anything is rendered; their statements stay published, and so do their lines."""
    root, out = tmp_path / "book", tmp_path / "out"
    a, b = copy_deal(REFERENCE_DEAL, root, "good-a"), copy_deal(REFERENCE_DEAL, root, "good-b")
    batch("--root", root, "-f", "text", "-o", out, "--factor-file")
    first = (out / "factors.csv").read_text()
    reference = REFERENCE_DEAL.joinpath("deal.yaml").read_text()
    a_cusip = next(iter(own_cusips(reference, "good-a").values()))
    edit(b / "deal.yaml", f"cusip: {next(iter(own_cusips(reference, 'good-b').values()))}", f"cusip: {a_cusip}")
    code, stdout, stderr = batch("--root", root, "-f", "text", "-o", out, "--factor-file")
    assert code == 1 and "neither deal is rendered" in stderr
    assert (out / "factors.csv").read_text() == first
    assert f"(failed, listed as published: {a}, {b})" in stdout


def test_a_month_every_deal_must_have(book, tmp_path):
    code, stdout, stderr = batch("--root", INPUTS, "--period", "2002-05", "-o", tmp_path / "out", "-j", "1")
    assert code == 1
    assert f"FAILED {SYNTHETIC}\n  {SYNTHETIC}/periods: no period file for 2002-05" in stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_two_folders_of_one_deal_both_fail_and_neither_is_published(tmp_path, jobs):
    """One deal id in two folders would publish one deal's statements twice over, the worker
    that came first winning: a month end's deal folder must be named by its id, and folders
    of one name under two roots are refused before anything is rendered, the same every run."""
    first, second = tmp_path / "first", tmp_path / "second"
    a = copy_deal(REFERENCE_DEAL, first, "same-deal")
    b = copy_deal(REFERENCE_DEAL, second, "same-deal")
    edit(b / "periods" / "2002-05.yaml", "curtailments: 18331.70", "curtailments: 18331.71")
    other = copy_deal(REFERENCE_DEAL, first, "named-otherwise")
    edit(other / "deal.yaml", "id: named-otherwise", "id: good-a")
    good = copy_deal(REFERENCE_DEAL, second, "good-b")
    manifests = []
    for trial in range(2):
        out = tmp_path / f"out-{trial}"
        code, stdout, stderr = batch("--root", first, "--root", second, "-j", jobs, "-o", out)
        assert code == 1
        for d, o in ((a, b), (b, a)):
            assert (f"FAILED {d}\n  {d}: a deal folder of this name is also under another root ({o}): deal ids "
                    "must be unique; neither is rendered") in stderr
        assert (f"FAILED {other}\n  {other}/deal.yaml:9: id: 'good-a' is not the name of its folder "
                "'named-otherwise' (expected a deal's folder named by its deal's id, so that no two "
                "publish one deal's statements)") in stderr
        assert "4 deals, 1 statement," in stdout and "; 3 failed;" in stdout
        assert sorted(p.name for p in out.iterdir()) == ["good-b_2002-05-28.json", "good-b_2002-05-28.txt",
                                                         "manifest.json"]
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["failures"] == 3 and sorted(f["deal"] for f in manifest["failed"]) == sorted(
            map(str, (a, b, other)))
        assert [f["path"] for f in manifest["files"]] == ["good-b_2002-05-28.json", "good-b_2002-05-28.txt"]
        manifests.append(manifest)
    assert manifests[0] == manifests[1]
    assert good.name == "good-b"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_two_deals_giving_one_cusip_both_fail_before_anything_is_rendered(tmp_path, jobs):
    """A CUSIP names one class in the whole book: the factor file and every vendor key a class's
    figures by it.  Two deals giving one CUSIP are refused, both (the book cannot tell which
    is mistaken), with each deal file's line, before either is rendered; the others go on."""
    root = tmp_path / "root"
    a, b, c = (copy_deal(REFERENCE_DEAL, root, name) for name in ("deal-a", "deal-b", "deal-c"))
    reference = (REFERENCE_DEAL / "deal.yaml").read_text()
    a_cusip = own_cusips(reference, "deal-a")["64352VCC3"]
    b_cusip = own_cusips(reference, "deal-b")["64352VCE9"]
    edit(b / "deal.yaml", f"cusip: {b_cusip}", f"cusip: {a_cusip}")
    for trial in range(2):
        out = tmp_path / f"out-{trial}"
        code, stdout, stderr = batch("--root", root, "-j", jobs, "-o", out, "--factor-file")
        assert code == 1
        assert (f"FAILED {a}\n  {a}/deal.yaml:55: classes[0].cusip: class A's CUSIP {a_cusip} is also class M-2's of "
                f"{b} ({b}/deal.yaml:57) (expected a CUSIP of this deal's own: a CUSIP names one class in the whole "
                "book); neither deal is rendered\n") in stderr
        assert (f"FAILED {b}\n  {b}/deal.yaml:57: classes[2].cusip: class M-2's CUSIP {a_cusip} is also class A's of "
                f"{a} ({a}/deal.yaml:55) (expected") in stderr
        assert "3 deals, 1 statement," in stdout and "; 2 failed;" in stdout
        assert sorted(p.name for p in out.iterdir()) == ["deal-c_2002-05-28.json", "deal-c_2002-05-28.txt",
                                                         "factors.csv", "manifest.json"]
        manifest = json.loads((out / "manifest.json").read_text())
        assert sorted(f["deal"] for f in manifest["failed"]) == [str(a), str(b)]
        factors = (out / "factors.csv").read_text()
        assert a_cusip not in factors and own_cusips(reference, "deal-c")["64352VCC3"] in factors
    assert str(c).endswith("deal-c")


def test_a_misnamed_folder_is_told_beside_its_input_errors(tmp_path):
    """A deal folder not named by its deal's id, whose period file also has an error: both are
    told in the one run, not the name only once the input is mended."""
    deal = copy_deal(REFERENCE_DEAL, tmp_path / "root", "named-otherwise")
    edit(deal / "deal.yaml", "id: named-otherwise", "id: good-a")
    edit(deal / "periods" / "2002-05.yaml", "curtailments: 18331.70", "curtailments: 18331.7x")
    code, stdout, stderr = batch("--root", tmp_path / "root", "-j", "1", "-o", tmp_path / "out")
    assert code == 1
    lines = stderr.splitlines()
    told = lines[lines.index(f"FAILED {deal}") + 1:]
    assert any(line.startswith(f"  {deal}/periods/2002-05.yaml:") and "curtailments" in line for line in told), stderr
    assert (f"  {deal}/deal.yaml:9: id: 'good-a' is not the name of its folder 'named-otherwise' (expected a "
            "deal's folder named by its deal's id, so that no two publish one deal's statements)") in told
    assert "1 deal, 0 statements" in stdout


def test_check_tells_a_misnamed_folder_as_batch_refuses_it(tmp_path):
    """remit check is the month end's check of one deal: a folder batch would refuse for its
    name fails the check too, alone or beside its input errors."""
    deal = copy_deal(REFERENCE_DEAL, tmp_path / "root", "named-otherwise")
    edit(deal / "deal.yaml", "id: named-otherwise", "id: good-a")
    told = (f"{deal}/deal.yaml:9: id: 'good-a' is not the name of its folder 'named-otherwise' (expected a deal's "
            "folder named by its deal's id, so that no two publish one deal's statements)")
    result = CliRunner().invoke(main, ["check", str(deal), "-p", "2002-05"])
    assert result.exit_code == 1 and told in result.stderr.splitlines()
    edit(deal / "periods" / "2002-05.yaml", "curtailments: 18331.70", "curtailments: 18331.7x")
    result = CliRunner().invoke(main, ["check", str(deal), "-p", "2002-05"])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1 and told in lines
    assert any(line.startswith(f"{deal}/periods/2002-05.yaml:") and "curtailments" in line for line in lines)
    # a folder given as . or with a trailing slash is named as it stands
    named = copy_deal(REFERENCE_DEAL, tmp_path / "root", "good-b")
    for given, cwd in ((".", named), ("../good-b/", named), (str(named) + "/", ROOT)):
        done = subprocess.run([sys.executable, "-m", "generator", "check", given, "-p", "2002-05"], cwd=cwd,
                              capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0 and "good-b 2002-05 (2002-05-28): reconciled" in done.stdout, done.stderr
    # . inside a link named by the deal's id, to a folder named otherwise, is the link, as the shell shows it
    other = tmp_path / "store" / "good-c-v2"
    other.parent.mkdir()
    copy_deal(REFERENCE_DEAL, tmp_path / "store", "good-c").rename(other)
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "good-c").symlink_to(other)
    for given, cwd in ((".", tmp_path / "links" / "good-c"), ("..", tmp_path / "links" / "good-c" / "periods")):
        done = subprocess.run([sys.executable, "-m", "generator", "check", given, "-p", "2002-05"], cwd=cwd,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "PWD": str(cwd)})
        assert done.returncode == 0 and "good-c 2002-05 (2002-05-28): reconciled" in done.stdout, done.stderr


def _book_of_synthetic_copies(root: Path, n: int) -> None:
    for i in range(n):
        copy_deal(SYNTHETIC, root, f"copy-{i:02d}")


def _start(root: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "generator", "batch", "--root", str(root), "-f", "text",
                             "-f", "json", "-j", "2", "-o", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_outputs(out: Path, proc: subprocess.Popen, at_least: int = 2) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.is_dir() and len([p for p in out.iterdir() if p.suffix == ".txt"]) >= at_least:
            return
        time.sleep(0.005)
    pytest.fail("the batch ended (or never started writing) before it could be interrupted")


def as_copied(body: bytes, deal_id: str, source: Path = SYNTHETIC) -> bytes:
    """A copy's statement with the id and CUSIPs of the deal it copies."""
    for original, own in own_cusips((source / "deal.yaml").read_text(), deal_id).items():
        body = body.replace(own.encode(), original.encode())
    return body.replace(deal_id.encode(), source.name.encode())


def _every_file_is_complete(out: Path, tmp_path: Path) -> int:
    """Each file left is exactly what a clean render writes; no temporary file is left."""
    left = sorted(out.iterdir())
    assert not [p.name for p in left if p.name.startswith(".")], "temporary files left behind"
    assert not (out / "manifest.json").exists()
    clean = tmp_path / "clean"
    CliRunner().invoke(main, ["render", str(SYNTHETIC), "--period", "latest", "-f", "text", "-f", "json",
                              "-o", str(clean)])
    expected = {p.suffix: p.read_bytes() for p in clean.iterdir()}
    for p in left:
        body = p.read_bytes()
        deal_id = p.name.split("_")[0]
        if p.suffix == ".json":
            assert json.loads(body)["deal_id"] == deal_id
        assert as_copied(body, deal_id) == expected[p.suffix], p.name  # its own id and CUSIPs aside
    return len(left)


def test_killing_a_batch_midway_leaves_no_partial_file(tmp_path):
    root, out = tmp_path / "book", tmp_path / "out"
    _book_of_synthetic_copies(root, 24)
    proc = _start(root, out)
    _wait_for_outputs(out, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, at once, wherever they are
    proc.wait(timeout=30)
    assert 0 < _every_file_is_complete(out, tmp_path) < 48


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_batch_finishes_the_deals_in_hand_and_says_so(tmp_path, signum):
    root, out = tmp_path / "book", tmp_path / "out"
    _book_of_synthetic_copies(root, 24)
    proc = _start(root, out)
    _wait_for_outputs(out, proc)
    os.killpg(proc.pid, signum)  # as Ctrl-C does: every process in the group gets it
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "no manifest written" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    files = _every_file_is_complete(out, tmp_path)
    assert files % 2 == 0  # each finished deal has both its files


def test_a_root_given_twice_is_read_once(book, tmp_path):
    out = tmp_path / "out"
    code, stdout, _ = batch("--root", book, "--root", f"{book}/", "-o", out, "-j", "1")
    assert code == 1  # bad-c, as in one reading of the book
    assert stdout.startswith("3 deals, 2 statements")
    assert json.loads((out / "manifest.json").read_text())["deals"] == 3


def _workers(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children]


def _batch_at_work(tmp_path: Path) -> tuple[Path, Path, subprocess.Popen, list[int]]:
    """A month end of 24 deals on two workers, started and writing: its book, output folder,
    process and worker processes."""
    root, out = tmp_path / "book", tmp_path / "out"
    _book_of_synthetic_copies(root, 24)
    proc = _start(root, out)
    _wait_for_outputs(out, proc)
    workers = _workers(proc.pid)
    assert workers
    return root, out, proc, workers


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_interrupt_while_the_deals_in_hand_finish_stops_them_at_once(tmp_path, second):
    """Ctrl-C waits for the deals in hand; a second Ctrl-C (or a SIGTERM) stops them too: the
    batch exits 130 with no manifest, its lock released, rather than hanging on a worker."""
    root, out, proc, workers = _batch_at_work(tmp_path)
    for w in workers:
        os.kill(w, signal.SIGSTOP)  # a worker that does not finish its task: a stuck disk, say
    try:
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(1)
        assert proc.poll() is None  # the first interrupt waits for the deals in hand
        os.kill(proc.pid, second)
        _, stderr = proc.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr.decode()
    assert "no manifest written" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    for w in workers:
        assert not Path(f"/proc/{w}").exists() or "zombie" in Path(f"/proc/{w}/status").read_text()
    _every_file_is_complete(out, tmp_path)
    code, stdout, _ = batch("--root", root, "-f", "text", "-f", "json", "-j", "1", "-o", out)
    assert code == 0, stdout  # the lock was released: the month end can be run again


def test_a_worker_killed_midway_fails_its_deals_and_the_batch_ends(tmp_path):
    """A worker the kernel kills (out of memory) or kill -9 broke the pool: the batch printed
    a BrokenProcessPool traceback and then never ended, holding the output folder's lock."""
    root, out, proc, workers = _batch_at_work(tmp_path)
    try:
        os.kill(workers[0], signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert "the worker process rendering this deal ended before it finished" in stderr.decode()
    assert " failed;" in stdout.decode()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
    code, stdout, _ = batch("--root", root, "-f", "text", "-f", "json", "-j", "2", "-o", out)
    assert code == 0, stdout  # the lock was released: run again, every deal publishes


def test_jobs_are_at_most_256_and_no_more_than_the_deals(tmp_path):
    """--jobs 100000 started thousands of workers (each a Python process with its imports)
    and ignored SIGTERM while it did: it is a usage error, and a batch of four deals starts
    four workers however many are asked for."""
    import subprocess
    import sys

    from .conftest import INPUTS, ROOT

    def batch(jobs: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "generator", "batch", "--root", INPUTS, "--jobs", jobs,
                               "--out", tmp_path / "out"], cwd=ROOT, capture_output=True, text=True, timeout=300)

    done = batch("100000")
    assert done.returncode == 2 and "100000 is not in the range 1<=x<=256" in done.stderr
    assert not (tmp_path / "out").exists()
    done = batch("64")
    assert done.returncode == 0, done.stderr
    assert "4 deals, 4 statements" in done.stdout and ", 4 jobs, " in done.stdout


def test_a_signal_whose_interrupt_is_swallowed_still_ends_the_batch_as_interrupted(tmp_path):
    """SIGTERM's KeyboardInterrupt can be raised where Python only reports it ("Exception
    ignored in: <function _releaseLock ...>", seen while workers started): the batch went on,
    exited 0 and wrote its manifest.  Here the progress callback swallows it, as such a place
    does; the batch still ends as interrupted, after the deal in hand."""
    import os
    import signal

    from generator.batch import Interrupted, find_deals, run_batch

    from .conftest import INPUTS

    deals = find_deals([INPUTS])
    seen = []

    def progress(outcome):
        seen.append(outcome)
        if len(seen) == 1:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            except KeyboardInterrupt:
                pass  # swallowed, as a finalizer or a lock's release would

    with pytest.raises(Interrupted) as caught:
        run_batch(deals, "latest", ["json"], tmp_path / "out", 1, progress=progress)
    assert len(caught.value.result.outcomes) == 1  # the deal in hand is finished, and no other begun
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
