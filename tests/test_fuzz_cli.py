"""End to end: mutated and hostile inputs through the real ``remit`` in subprocesses.

``tests/test_fuzz.py`` drives the command in-process, where a crash of the interpreter, a
hang or a signal cannot be seen.  Here hypothesis builds deal directories -- the mutations
of ``test_fuzz.py`` plus the shapes that once killed or hung the process: keys longer than
YAML allows, nesting tens of thousands deep, scalars other YAML readers take for numbers or
booleans, FIFOs, devices, directories and links where files should be, links that leave
the root, files of tens of megabytes -- and runs ``remit render``, ``remit batch`` and
``remit serve`` on them as separate processes, each under a time limit.

Every answer must be exit 0 with reconciled statements, or exit 1 with ``file:line``
messages and nothing written for that deal; never a signal, a traceback, a hang, or a
server that answers 500 or dies.  The budget keeps the whole file within a minute;
``FUZZ_EXAMPLES=50`` runs more, with a fresh seed each time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import REFERENCE_DEAL, ROOT, own_cusips
from .test_fuzz import DEAL, EARLIER, FILES, PERIOD, assert_answered_properly, mutated_files, mutations
from .test_hardening import get, served

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))
TIMEOUT = 60

#: Scalars that YAML 1.1 readers take for numbers, booleans or dates, and text that looks fine
#: but is not printable: each must be refused by name or read as the text it is.
ODD_SCALARS = ["0x24A", "01112", "5:56", "1_000", "0o17", ".inf", "-.nan", "yes", "no", "on", "off", "True",
               "-0.00", "-0", "25.0", '"25"', "1e3", "1.", ".5", "2002-02-30", "2002-05-28 10:00:00", "~", "null",
               '"\\u202eA"', '"\\u200b"', '"\\ufeff"', "!!int 5", "!!str 5", "&a 5", "*nowhere", "[]", "{}"]
VALUE_LINE = re.compile(rb"^(\s*-?\s*[A-Za-z_0-9-]+:) (\S.*)$", re.M)


@dataclass(frozen=True)
class Hostile:
    kind: str
    file: str
    size: int = 0
    choice: int = 0


hostile = st.one_of(
    st.builds(Hostile, st.just("long_key"), st.sampled_from(FILES), st.integers(1025, 5000)),
    st.builds(Hostile, st.just("deep"), st.sampled_from(FILES), st.integers(51, 60_000), st.integers(0, 2)),
    st.builds(Hostile, st.just("scalar"), st.sampled_from(FILES), st.integers(0, 10**6),
              st.integers(0, len(ODD_SCALARS) - 1)),
    st.builds(Hostile, st.just("special"), st.sampled_from((*FILES, EARLIER)), st.just(0), st.integers(0, 5)),
    st.builds(Hostile, st.just("huge"), st.sampled_from(FILES), st.integers(3, 40), st.integers(0, 2)),
)
#: One deal directory's inputs: the mutations of test_fuzz.py, a hostile shape, or both.
cases = st.one_of(
    st.tuples(mutations, st.none()),
    st.tuples(st.just({}), hostile),
    st.tuples(mutations, hostile),
)
SPECIAL = ["fifo", "/dev/zero", "/dev/urandom", "directory", "outside", "dangling"]


def _apply(deal: Path, h: Hostile, outside: Path) -> None:
    path = deal / h.file
    data = path.read_bytes() if path.is_file() else b"period: 2002-04\n"
    if h.kind == "long_key":
        path.write_bytes(data + b"k" * h.size + b": 1\n")
    elif h.kind == "deep":
        opener, closer = [(b"[", b"]"), (b"{a: ", b"}"), (b"", b"")][h.choice]
        if opener:
            path.write_bytes(data + b"deep: " + opener * h.size + b"1" + closer * h.size + b"\n")
        else:  # block lists, each one level in
            path.write_bytes(data + b"deep:\n" + b"".join(b" " * i + b"- \n" for i in range(0, min(h.size, 3000), 1)))
    elif h.kind == "scalar":
        lines = list(VALUE_LINE.finditer(data))
        if lines:
            m = lines[h.size % len(lines)]
            odd = ODD_SCALARS[h.choice].encode()
            path.write_bytes(data[:m.start(2)] + odd + data[m.end(2):])
    elif h.kind == "special":
        if path.exists() or path.is_symlink():
            path.unlink()
        what = SPECIAL[h.choice]
        if what == "fifo":
            os.mkfifo(path)
        elif what == "directory":
            path.mkdir()
        elif what == "outside":
            secret = outside / f"{deal.name}-{path.name}"
            secret.write_bytes(data)
            path.symlink_to(secret)
        elif what == "dangling":
            path.symlink_to(outside / "nothing-here.yaml")
        else:
            path.symlink_to(what)
    elif h.kind == "huge":
        filler = [b"# " + b"x" * 78 + b"\n", b"  - {loan: L1, balance: 1.00, proceeds: 1.00}\n", b"1, "][h.choice]
        path.write_bytes(data + filler * (h.size * 1024 * 1024 // len(filler)))


def make_deal(root: Path, name: str, case: tuple, outside: Path) -> Path:
    muts, h = case
    deal = root / name
    shutil.copytree(REFERENCE_DEAL, deal)
    for file, data in mutated_files(muts).items():
        (deal / file).write_bytes(data)
    if name != REFERENCE_DEAL.name:  # a deal id and CUSIPs of its own, unless a mutation changed them
        text = (deal / DEAL).read_bytes().replace(b"id: new-century-2002-1\n", f"id: {name}\n".encode(), 1)
        for old, new in own_cusips((REFERENCE_DEAL / DEAL).read_text(), name).items():
            text = text.replace(f"cusip: {old}".encode(), f"cusip: {new}".encode())
        (deal / DEAL).write_bytes(text)
    if h is not None:
        _apply(deal, h, outside)
    return deal


class Answer:
    """A subprocess's answer, shaped as test_fuzz's checks read a CliRunner result."""

    def __init__(self, done: subprocess.CompletedProcess):
        self.exit_code, self.stdout, self.stderr, self.exception = done.returncode, done.stdout, done.stderr, None
        self.output = done.stdout + done.stderr


def remit(*args: str | Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode >= 0, f"killed by signal {-done.returncode}: {done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr[-3000:]
    return done


FUZZ = settings(max_examples=EXAMPLES or 40, deadline=None, derandomize=not EXAMPLES, database=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(cases)
def test_render_answers_every_input_properly(case):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "outside").mkdir()
        deal = make_deal(tmp / "root", "new-century-2002-1", case, tmp / "outside")
        out = tmp / "out"
        done = remit("render", deal, "--period", "2002-05", "--format", "text", "--format", "json", "--out", out)
        assert_answered_properly(deal, out, Answer(done))


def _deal_error(line: str, deal: Path) -> bool:
    """An error a failed deal may be reported with: one of its inputs at a line, or a
    reconciliation or column-width failure."""
    inputs = "|".join(re.escape(str(deal / name)) for name in (DEAL, PERIOD, EARLIER, "periods"))
    return bool(re.match(rf"^({inputs})(:[1-9][0-9]*)?: \S", line)
                or re.match(r"^[0-9]{4}-[0-9]{2}: does not reconcile: \S", line)
                or re.match(r"^templates/[^:\s]+(:[1-9][0-9]*)?: .*too wide for its", line))


@settings(FUZZ, max_examples=EXAMPLES or 10)
@given(st.lists(cases, min_size=10, max_size=10))
def test_batch_and_serve_answer_a_book_of_hostile_deals(book):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root, out, outside = tmp / "root", tmp / "out", tmp / "outside"
        outside.mkdir()
        deals = [make_deal(root, f"deal-{i:02d}", case, outside) for i, case in enumerate(book)]
        done = remit("batch", "--root", root, "--period", "2002-05", "-f", "text", "-j", "2", "-o", out,
                     timeout=120)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        manifest = json.loads((out / "manifest.json").read_text())
        failed = {f["deal"]: f["errors"] for f in manifest["failed"]}
        found = [d for d in deals if os.path.lexists(d / "deal.yaml")]
        assert manifest["deals"] == len(found)
        for deal in found:
            for line in failed.get(str(deal), []):
                assert _deal_error(line, deal), line
        assert manifest["statements"] == len(found) - len(failed)
        assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left"
        for f in manifest["files"]:
            if f["path"].endswith(".json"):
                record = json.loads((out / f["path"]).read_text())
                assert all(c["ok"] for c in record["checks"])

        with served(root) as port:  # the preview never leaves the root, and never answers 500
            for deal in deals:
                status, body = get(port, f"/{deal.name}/2002-05", timeout=TIMEOUT)
                assert status in (200, 404, 422), (deal, status, body[:500])
                if status == 200:  # the page renders what the text could not fit in its columns
                    assert all("too wide for its" in line for line in failed.get(str(deal), [])), failed[str(deal)]
                for secret in outside.iterdir():
                    if secret.is_file() and status == 200:
                        assert not os.path.samefile(secret, deal / "deal.yaml")
            assert get(port, "/", timeout=TIMEOUT)[0] == 200
