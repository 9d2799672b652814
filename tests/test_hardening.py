"""Hostile and careless input, through the real command line in subprocesses.

Each test below is one way a trustee could once publish a wrong statement, lose a run, hang
a month end or leak a file.  They run ``remit`` as a user does, in its own process, so that
a crash (a signal), a hang (a timeout) or a traceback is seen for what it is.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REFERENCE_DEAL, ROOT, SYNTHETIC
from .test_batch import copy_deal
from .test_errors import edit

STEM = "new-century-2002-1_2002-05-28"
#: Long enough for any command here on a slow machine; a hang is far longer.
TIMEOUT = 60


def remit(*args: str | Path, timeout: float = TIMEOUT, limit_file_size: int | None = None,
          cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``remit`` in a subprocess and check that it answered: no signal, no traceback."""

    def limits() -> None:
        if limit_file_size is not None:  # writes past it fail with EFBIG, as on a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    done = subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=limits)
    assert done.returncode >= 0, f"killed by signal {-done.returncode}: {done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode in (0, 1, 2), (done.returncode, done.stderr[-2000:])
    return done


def render(deal: Path, out: Path, *extra: str, **kw) -> subprocess.CompletedProcess:
    return remit("render", deal, "--period", "2002-05", "-f", "text", "-f", "json", "--out", out, *extra, **kw)


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture
def deal(tmp_path: Path) -> Path:
    target = tmp_path / "new-century-2002-1"
    shutil.copytree(REFERENCE_DEAL, target)
    return target


def period_file(deal: Path) -> Path:
    return deal / "periods" / "2002-05.yaml"


def append(path: Path, data: bytes) -> None:
    path.write_bytes(path.read_bytes() + data)


# ------------------------------------------------------------------ 1. deep nesting


@pytest.mark.parametrize("nesting", [b"[" * 50_000 + b"]" * 50_000, b"{a: " * 100_000 + b"1" + b"}" * 100_000],
                         ids=["brackets", "braces"])
def test_deep_nesting_is_an_error_not_a_crash(deal, tmp_path, nesting):
    line = period_file(deal).read_bytes().count(b"\n") + 1
    append(period_file(deal), b"deep: " + nesting + b"\n")
    done = render(deal, tmp_path / "out")
    assert done.returncode == 1
    assert done.stderr.startswith(f"{period_file(deal)}:{line}: deep")
    assert "nested more than 50 levels deep (expected at most 50)" in done.stderr
    assert files_in(tmp_path / "out") == []


def test_deep_nesting_fails_its_deal_in_a_batch_with_either_number_of_jobs(tmp_path):
    root = tmp_path / "book"
    copy_deal(REFERENCE_DEAL, root, "good")
    bad = copy_deal(REFERENCE_DEAL, root, "deep")
    append(period_file(bad), b"deep: " + b"[" * 50_000 + b"]" * 50_000 + b"\n")
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        done = remit("batch", "--root", root, "-j", jobs, "-o", out)
        assert done.returncode == 1
        manifest = json.loads((out / "manifest.json").read_text())
        assert [f["deal"] for f in manifest["failed"]] == [str(bad)]
        assert "nested more than 50 levels deep" in manifest["failed"][0]["errors"][0]
        assert [f["path"] for f in manifest["files"]] == ["good_2002-05-28.json", "good_2002-05-28.txt"]
    with served(root) as port:
        status, body = get(port, "/deep/2002-05")
        assert status == 422 and "nested more than 50 levels deep" in body
        assert get(port, "/good/2002-05")[0] == 200


# ------------------------------------------------------------------ 2. one YAML reader


def test_a_key_too_long_for_yaml_is_a_syntax_error_everywhere(deal, tmp_path):
    line = period_file(deal).read_bytes().count(b"\n") + 1
    append(period_file(deal), b"k" * 1100 + b": 1\n")
    done = render(deal, tmp_path / "out")
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"{period_file(deal)}:{line}: YAML syntax error: ")
    assert first.endswith("(a key may be at most 1,024 characters; expected a field name)")
    done = remit("batch", "--root", deal.parent, "-o", tmp_path / "batch")
    assert "internal error" not in done.stderr and "YAML syntax error" in done.stderr
    with served(deal.parent) as port:
        status, body = get(port, f"/{deal.name}/2002-05")
        assert status == 422 and "a key may be at most 1,024 characters" in body


def test_the_quick_reader_is_gone():
    assert not (ROOT / "generator" / "plainyaml.py").exists()


# ------------------------------------------------------------------ 3. size and 4. special files


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_period_file_linked_to_a_device_is_refused_at_once(deal, tmp_path, device):
    period_file(deal).unlink()
    period_file(deal).symlink_to(device)
    done = render(deal, tmp_path / "out", timeout=20)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == f"{period_file(deal)}: is a character device (expected a regular file)"


@pytest.mark.parametrize("bulk", ["liquidations", "flow list"])
def test_a_huge_file_is_refused_before_it_is_read(deal, tmp_path, bulk):
    text = period_file(deal).read_bytes()
    if bulk == "liquidations":
        loans = b"".join(b"    - {loan: L%07d, balance: 1000.00, proceeds: 500.00}\n" % i for i in range(700_000))
        text = text.replace(b"  liquidations: []\n", b"  liquidations:\n" + loans)
    else:
        text += b"flow: [" + b"1, " * 17_000_000 + b"1]\n"
    assert len(text) > 40_000_000
    period_file(deal).write_bytes(text)
    done = render(deal, tmp_path / "out", timeout=30)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (f"{period_file(deal)}: is larger than 2 MiB, the most an input file may "
                                           "hold (expected a deal or period file)")
    from generator.source import MAX_FILE_BYTES

    assert MAX_FILE_BYTES == 2 * 1024 * 1024


@pytest.mark.parametrize("which", ["periods/2002-04.yaml", "deal.yaml"])
def test_a_fifo_never_blocks_a_command(deal, tmp_path, which):
    target = deal / which
    if target.exists():
        target.unlink()
    os.mkfifo(target)
    for args in (["render", deal, "-p", "2002-05", "-o", tmp_path / "out"], ["check", deal, "-p", "2002-05"],
                 ["batch", "--root", deal.parent, "-o", tmp_path / "batch"]):
        done = remit(*args, timeout=20)
        assert done.returncode == 1
        assert f"{target}: is a FIFO (named pipe) (expected a regular file)" in done.stderr
    with served(deal.parent) as port:
        status, body = get(port, f"/{deal.name}/2002-05", timeout=20)
        assert (status, which) in ((422, "periods/2002-04.yaml"), (404, "deal.yaml"))


# ------------------------------------------------------------------ 5. strict types


LAX = [
    ("deal.yaml", "distribution_day: 25 ", "distribution_day: true",
     "schedule.distribution_day: expected a whole number, got true"),
    ("deal.yaml", "distribution_day: 25 ", 'distribution_day: "25"',
     "schedule.distribution_day: expected a whole number, got text '25' (a number in quotes is text: write it "
     "without the quotes)"),
    ("deal.yaml", "distribution_day: 25 ", "distribution_day: 25.0",
     "schedule.distribution_day: expected a whole number, got the decimal number 25.0 (write a whole number as "
     "digits alone, without a decimal point or an exponent)"),
    ("period", "loan_count: 586", 'loan_count: "586"',
     "opening.loan_count: expected a whole number, got text '586'"),
    ("period", "payoffs: {count: 4,", "payoffs: {count: 4.0,",
     "collections.payoffs.count: expected a whole number, got the decimal number 4.0"),
    ("deal.yaml", "include_unpaid: false}", 'include_unpaid: "on"}',
     "waterfall[3].include_unpaid: expected true or false, got 'on'"),
    ("deal.yaml", "include_unpaid: false}", "include_unpaid: yes}",
     "waterfall[3].include_unpaid: expected true or false, got 'yes'"),
    ("deal.yaml", "include_unpaid: false}", "include_unpaid: no}",
     "waterfall[3].include_unpaid: expected true or false, got 'no'"),
    ("deal.yaml", "include_unpaid: false}", "include_unpaid: 0}",
     "waterfall[3].include_unpaid: expected true or false, got 0"),
    ("deal.yaml", "include_unpaid: false}", "include_unpaid: 1.0}",
     "waterfall[3].include_unpaid: expected true or false, got Decimal('1.0')"),
    ("period", "remaining_term: 356 ", "remaining_term: 5:56",
     "remaining_term: expected a whole number, got text '5:56', which is not a plain decimal number"),
    ("period", "loan_count: 586", "loan_count: 0x24A",
     "opening.loan_count: expected a whole number, got text '0x24A', which is not a plain decimal number"),
    ("period", "loan_count: 586", "loan_count: 01112",
     "opening.loan_count: expected a whole number, got text '01112', which is not a plain decimal number"),
    ("period", "prepayment_charges: 12525.30", "prepayment_charges: -0.00",
     "collections.prepayment_charges: -0.00 is a zero written with a minus sign (expected 0.00: zero has no sign)"),
    ("deal.yaml", "trust: New Century Home Equity Loan Trust", 'trust: "\\u202eNew Century"',
     "trust: text '\\u202eNew Century' has the invisible format character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("deal.yaml", "trust: New Century Home Equity Loan Trust", 'trust: "New\\u200bCentury"',
     "trust: text 'New\\u200bCentury' has the invisible format character U+200B (ZERO WIDTH SPACE)"),
    ("deal.yaml", "trust: New Century Home Equity Loan Trust", 'trust: "\\ufeffNew Century"',
     "trust: text '\\ufeffNew Century' has the invisible format character U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
]


@pytest.mark.parametrize("case", LAX, ids=[c[2] for c in LAX])
def test_types_are_strict(deal, tmp_path, case):
    which, old, new, message = case
    edit(deal / which if which != "period" else period_file(deal), old, new)
    done = render(deal, tmp_path / "out")
    assert done.returncode == 1
    assert message in done.stderr.splitlines()[0], done.stderr
    assert files_in(tmp_path / "out") == []


# ------------------------------------------------------------------ 6. every error at once


def test_the_deals_errors_and_every_periods_come_together(deal, tmp_path):
    edit(deal / "deal.yaml", "cusip: 64352VCC3", "cusip: 64352vcc")
    edit(period_file(deal), "wac: 0.0865983", "wac: high")
    edit(period_file(deal), "remaining_term: 356", "remaining_term: -1")
    edit(period_file(deal), "advances: 1277953.00", "advances: 12.345")
    done = render(deal, tmp_path / "out")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[-1] == "4 errors; nothing written"
    assert lines[0].startswith(f"{deal / 'deal.yaml'}:55: classes[0].cusip: got '64352vcc'")
    assert [line.split(": ", 2)[1] for line in lines[1:4]] == ["advances", "wac", "remaining_term"]


# ------------------------------------------------------------------ 7. publication race


def test_two_renders_racing_into_one_directory_publish_one_whole_statement(tmp_path):
    """Two renders of the synthetic deal's 60 statements, one with its last month restated, start
    together: without an exclusive publisher each sees nothing published yet and both succeed,
    the later overwriting the earlier's files one by one."""
    deal_id = SYNTHETIC.name
    a, b = tmp_path / "a" / deal_id, tmp_path / "b" / deal_id
    shutil.copytree(SYNTHETIC, a)
    shutil.copytree(SYNTHETIC, b)
    edit(b / "periods" / "2029-01.yaml", "curtailments: 0.00", "curtailments: 100.00")  # the month had none
    last = f"{deal_id}_2029-01-25"
    for trial in range(3):
        out = tmp_path / f"out-{trial}"
        procs = [subprocess.Popen([sys.executable, "-m", "generator", "render", str(d), "-p", "all", "-f", "text",
                                   "-o", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for d in (a, b)]
        results = [(p.wait(timeout=TIMEOUT), p.stdout.read(), p.stderr.read()) for p in procs]
        assert sorted(code for code, _, _ in results) == [0, 1], results
        winner = [d for d, (code, _, _) in zip((a, b), results) if code == 0][0]
        loser = [err for code, _, err in results if code == 1][0]
        assert f"{out / last}.txt, {out / last}.json: already published with different content" in loser
        assert len(files_in(out)) == 120
        # the last statement's text and figures record are both the winner's
        curtailments = "0.00" if winner == a else "100.00"
        record = json.loads((out / f"{last}.json").read_text())
        assert record["pool"]["curtailments"] == curtailments
        clean = tmp_path / f"clean-{trial}"
        assert remit("render", winner, "-p", "2029-01", "-o", clean).returncode == 0
        assert (out / f"{last}.txt").read_bytes() == (clean / f"{last}.txt").read_bytes()


# ------------------------------------------------------------------ 8. whole statements only


def test_a_full_disk_publishes_nothing(deal, tmp_path):
    out = tmp_path / "out"
    done = render(deal, out, limit_file_size=15_000)  # the text (11 KB) fits, its figures record (20 KB) does not
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == f"{out / STEM}.json: cannot write (File too large)"
    assert ".tmp" not in done.stderr
    assert files_in(out) == []
    assert render(deal, out).returncode == 0
    assert files_in(out) == [f"{STEM}.json", f"{STEM}.txt"]


def test_a_published_statement_without_its_figures_record_is_an_error_never_no_change(deal, tmp_path):
    out = tmp_path / "out"
    assert render(deal, out).returncode == 0
    (out / f"{STEM}.json").unlink()
    edit(period_file(deal), "curtailments: 18331.70", "curtailments: 18431.70")
    missing = f"{out / STEM}.json: the figures record of this published statement is missing"
    done = render(deal, out)
    assert done.returncode == 1 and done.stderr.startswith(missing), done.stderr
    edit(period_file(deal), "period: 2002-05\n", "period: 2002-05\nrevised_on: 2002-06-04\n")
    done = render(deal, out, "--revise", "Servicer restated curtailments")
    assert done.returncode == 1 and done.stderr.startswith(missing), done.stderr
    assert files_in(out) == [f"{STEM}.txt"]
    (out / f"{STEM}.json").write_text("{not json")
    done = render(deal, out)
    assert done.returncode == 1 and "the figures record of this published statement is damaged" in done.stderr


def test_a_format_joins_a_published_statement_only_with_the_same_figures(deal, tmp_path):
    out = tmp_path / "out"
    assert render(deal, out).returncode == 0
    edit(period_file(deal), "curtailments: 18331.70", "curtailments: 18431.70")
    done = remit("render", deal, "-p", "2002-05", "-f", "html", "-o", out)
    assert done.returncode == 1
    assert "refusing to add to a published statement whose figures would change" in done.stderr
    assert "  pool.curtailments: 18,331.70 -> 18,431.70" in done.stderr.splitlines()
    assert files_in(out) == [f"{STEM}.json", f"{STEM}.txt"]


# ------------------------------------------------------------------ 9. output that cannot be written


def test_output_that_cannot_be_written_is_an_error_not_a_traceback(deal, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way\n")
    done = remit("batch", "--root", deal.parent, "-o", blocker / "out")
    assert done.returncode == 1 and f"{blocker / 'out'}: cannot write (Not a directory)" in done.stderr
    done = remit("schema", "--out", blocker / "schema")
    assert done.returncode == 1 and done.stderr.startswith(f"{blocker / 'schema'}: cannot write (Not a directory)")
    out = tmp_path / "month-end"
    (out / "manifest.json").mkdir(parents=True)
    done = remit("batch", "--root", deal.parent, "-o", out)
    assert done.returncode == 1
    assert "manifest.json: cannot write (the earlier run's manifest cannot be removed: Is a directory)" in done.stderr
    done = remit("batch", "--root", deal.parent, "-o", tmp_path / "full", limit_file_size=15_000)
    assert done.returncode == 1
    assert f"{tmp_path / 'full' / STEM}.json: cannot write (File too large)" in done.stderr


def test_approving_a_corrupt_pdf_is_an_error(tmp_path):
    pdf = tmp_path / f"{STEM}.pdf"
    pdf.write_bytes(b"%PDF-1.7\nnot really\n")
    done = remit("approve", pdf, "--golden", tmp_path / "golden")
    assert done.returncode == 1
    assert done.stderr.startswith(f"{pdf}: not a PDF that pdftotext can read")
    assert not (tmp_path / "golden").exists()


# ------------------------------------------------------------------ 10. orphan workers, stale manifests


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        out |= {int(c) for c in (task / "children").read_text().split()}
    return out


def test_workers_end_with_a_killed_batch_and_its_old_manifest_is_gone(tmp_path):
    root, out = tmp_path / "book", tmp_path / "out"
    for i in range(40):
        copy_deal(SYNTHETIC, root, f"copy-{i:02d}")
    assert remit("batch", "--root", root, "-f", "text", "-o", out).returncode == 0
    assert (out / "manifest.json").exists()
    proc = subprocess.Popen([sys.executable, "-m", "generator", "batch", "--root", str(root), "-f", "html",
                             "-j", "2", "-o", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT
    while not list(out.glob("*.html")) and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = _children(proc.pid)
    assert len(workers) == 2 and not (out / "manifest.json").exists()
    proc.kill()  # the parent only
    proc.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()
              for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()
             and "zombie" not in Path(f"/proc/{w}/status").read_text()]
    assert alive == [], "workers outlived their batch"
    settled = files_in(out)
    time.sleep(0.5)
    assert files_in(out) == settled and "manifest.json" not in settled


# ------------------------------------------------------------------ 11. the server stays in its root


def served(root: Path):
    """``remit serve`` over ``root`` in a subprocess, on a free port."""
    import contextlib

    @contextlib.contextmanager
    def server():
        proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--root", str(root), "--port", "0"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))
            yield port
            assert proc.poll() is None, "the server died"
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=TIMEOUT)
            assert "Traceback" not in err, err
    return server()


def get(port: int, path: str, timeout: float = TIMEOUT) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path)
    resp = conn.getresponse()
    out = resp.status, resp.read().decode("utf-8", "replace")
    conn.close()
    return out


def test_the_server_refuses_inputs_linked_from_outside_its_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    shutil.copytree(REFERENCE_DEAL, outside / "deal")
    (outside / "secret.yaml").write_text("password_of_the_trust_account: hunter2\n")
    linked_deal = root / "linked-deal"
    (linked_deal / "periods").mkdir(parents=True)
    (linked_deal / "deal.yaml").symlink_to(outside / "deal" / "deal.yaml")
    shutil.copy(period_file(outside / "deal"), linked_deal / "periods")
    linked_period = root / "new-century-2002-1"
    shutil.copytree(REFERENCE_DEAL, linked_period)
    period_file(linked_period).unlink()
    period_file(linked_period).symlink_to(outside / "secret.yaml")
    with served(root) as port:
        status, body = get(port, "/linked-deal/2002-05")
        assert status == 422
        # paths as the preview names them: under the folder that holds its root
        assert "is a link to outside/deal/deal.yaml, outside root (expected a file under root)" in body
        status, body = get(port, "/new-century-2002-1/2002-05")
        assert status == 422 and "password_of_the_trust_account" not in body
        assert "outside" in body
        assert get(port, "/new-century-2002-1/2002-05.json")[0] == 422
        assert get(port, "/%2e%2e/%2e%2e/etc/passwd")[0] == 403
    (root / "linked-folder").symlink_to(outside / "deal")  # a whole deal folder that leaves the root
    with served(root) as port:
        status, body = get(port, "/")
        assert status == 200 and ('<th scope="row">linked-folder</th><td colspan="3">its folder is a link that '
                                  'leaves the preview root: not read</td>') in body
        assert 'href="/linked-folder/' not in body and get(port, "/linked-folder/")[0] == 403


# ------------------------------------------------------------------ 12. revisions


def test_a_revision_reason_is_one_printable_line_and_its_date_is_plausible(deal, tmp_path):
    out = tmp_path / "out"
    assert render(deal, out).returncode == 0
    edit(period_file(deal), "curtailments: 18331.70", "curtailments: 18431.70")
    for reason, said in (("restated\nTOTAL PAID: 0", "the reason 'restated\\nTOTAL PAID: 0' has the control "
                                                     "character U+000A"),
                         ("restated \x1b[2J", "the reason 'restated \\x1b[2J' has the control character U+001B"),
                         ("x" * 20_000, "the reason is 20,000 characters (expected at most 200")):
        done = render(deal, out, "--revise", reason)
        assert done.returncode == 2 and said in done.stderr, done.stderr
    edit(period_file(deal), "period: 2002-05\n", "period: 2002-05\nrevised_on: 2199-12-31\n")
    done = render(deal, out, "--revise", "Servicer restated curtailments")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        f"{period_file(deal)}:10: revised_on: 2199-12-31 is more than 10 years after the distribution date "
        "2002-05-28 (expected a date from 2002-05-28 to 2012-05-28)")
    assert files_in(out) == [f"{STEM}.json", f"{STEM}.txt"]


@pytest.fixture
def mounted(tmp_path):
    """Mount small tmpfs file systems (root only; skipped where mounting is not allowed)."""
    mounts: list[Path] = []

    def mount(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounts.append(point)
        return point

    yield mount
    for point in reversed(mounts):
        subprocess.run(["umount", str(point)], capture_output=True)


def test_a_real_full_disk_and_a_read_only_mount(deal, mounted):
    full = mounted("full", "size=16k")  # room for the text (11 KB), not for its figures record (20 KB)
    done = render(deal, full)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == f"{full / STEM}.json: cannot write (No space left on device)"
    assert files_in(full) == []
    done = remit("batch", "--root", deal.parent, "-o", full)
    assert done.returncode == 1
    assert f"{full / STEM}.json: cannot write (No space left on device)" in done.stderr
    assert files_in(full) == ["manifest.json"]  # the deal's failure, in the little room there was

    # statements published, then no room for the manifest: what the deals did is still said
    two_group = ROOT / "inputs" / "synthetic-two-group-2025-1"
    # room for the latest statement's text (13 KB) and record (27 KB), not for the manifest
    tight = mounted("tight", "size=44k")
    root = tight.parent / "one-deal"
    root.mkdir()
    (root / two_group.name).symlink_to(two_group)
    done = remit("batch", "--root", root, "-f", "text", "-f", "json", "-o", tight)
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and done.stdout.startswith("1 deal, 1 statement, 2 files (2 written"), done
    assert lines[-1] == f"{tight / 'manifest.json'}: cannot write (No space left on device); no manifest written"
    assert json.loads((full / "manifest.json").read_text())["failed"][0]["deal"] == str(deal)

    # months of a run: the disk fills at the third of six statements, and none is published
    two_group = ROOT / "inputs" / "synthetic-two-group-2025-1"
    months = mounted("months", "size=100k")
    done = remit("render", two_group, "-p", "2025-03..2025-08", "-f", "text", "-f", "json", "-o", months)
    assert done.returncode == 1
    [error, said] = done.stderr.splitlines()
    assert error.endswith(".json: cannot write (No space left on device)") and said == "1 error; nothing written"
    assert files_in(months) == [] and done.stdout == ""

    read_only = mounted("read-only", "ro,size=64k")
    for args in (["render", deal, "-p", "2002-05", "-o", read_only], ["batch", "--root", deal.parent, "-o", read_only],
                 ["schema", "--out", read_only]):
        done = remit(*args)
        assert done.returncode == 1, done
        assert "cannot write (Read-only file system)" in done.stderr, done.stderr


def test_a_formula_too_large_to_compute_is_an_error_at_its_line(deal, tmp_path):
    """A result beyond the decimal context (34 significant digits) names the formula and what it
    read, in every command: not a traceback, nor a portal index that fails for every deal."""
    edit(deal / "deal.yaml", "formula: cents(pool.cutoff_balance * 0.005)",
         "formula: cents(pool.cutoff_balance * 10000000000000000000000000000)")
    expected = (f"{deal / 'deal.yaml'}:87: figures.'oc.floor'.formula: oc.floor: formula 'cents(pool.cutoff_balance * "
                "10000000000000000000000000000)' gives a number too large to compute, from pool.cutoff_balance = "
                "198693446.63 (expected a result of at most 34 significant digits: does the formula multiply where "
                "it should divide?)\n")
    out = tmp_path / "out"
    for args in (("render", deal, "-p", "2002-05", "-o", out), ("check", deal, "-p", "2002-05"),
                 ("explain", deal, "oc.floor", "-p", "2002-05")):
        done = remit(*args)
        assert done.returncode == 1 and done.stderr.startswith(expected), (args, done.stderr)
    done = remit("batch", "--root", deal.parent, "-o", out)
    assert done.returncode == 1 and "oc.floor: formula 'cents(pool.cutoff_balance" in done.stderr, done.stderr
    assert files_in(out) == ["manifest.json"]  # the month's record of what failed; no statement
