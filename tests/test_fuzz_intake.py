"""Hostile tapes and mappings through the real command line: each case mutates the hand-made
tape of tests/test_intake.py (a cell replaced, a line dropped, doubled or cut, bytes that are
not text) or a value of the servicer's mapping, and runs ``remit intake`` in a subprocess.  The
answer is exit 0 with a period file the model accepts, or exit 1 with every message naming a
file (``tape.csv:ROW:COLUMN: ...`` or ``file:line: ...``) and no period file written; never a
traceback, a signal or a hang."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ROOT
from .test_intake import make_deal

CELLS = ["", " ", "-1.00", "1e5", "NaN", "inf", "1,00", "1.234", "99999999999999999999.99", "0x10", "\"", "\"\"",
         "12/31/9999", "02/30/2024", "00/00/0000", "C", "P", "L", "U", "R", "Z", "Y", "ä", "\u2028", "100001",
         "9" * 60, "1,0,0", "10.125", "0", "-0.00"]
MAPPING_VALUES = ["x", "\";\"", "utf-16", "\"%Y\"", "fraction", "percent", "current", "[]", "{}", "null", "1",
                  "STATUS", "LOAN_NO", "\"\""]
VALUE = re.compile(rb"^(\s*[A-Za-z_0-9\"-]+:) (\S.*)$", re.M)
ERROR = re.compile(r"^/\S+(:[0-9]+)?(:[^:]+)?: \S.*$|^\.\.\. and [0-9,]+ more rows like the last in column .+$")


@st.composite
def cases(draw):
    target = draw(st.sampled_from(["tapes/2024-03.csv", "tapes/2024-03.csv", "tapes/2024-02.csv", "servicer.yaml"]))
    kind = draw(st.sampled_from(["cell", "drop", "double", "cut", "bytes"] if target != "servicer.yaml"
                                else ["value", "drop"]))
    return target, kind, draw(st.integers(0, 10**6)), draw(st.sampled_from(CELLS)), \
        draw(st.sampled_from(MAPPING_VALUES)), draw(st.binary(min_size=1, max_size=4))


@settings(max_examples=int(__import__('os').environ.get('REMIT_FUZZ_EXAMPLES', 40)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_mutated_tapes_are_answered_properly(case):
    target, kind, at, cell, value, junk = case
    with tempfile.TemporaryDirectory() as tmp:
        deal = make_deal(Path(tmp) / "deal")
        path = deal / target
        data = path.read_bytes()
        lines = data.split(b"\n")
        i = at % len(lines)
        if kind == "cell":
            cells = lines[i].split(b",")
            cells[at % len(cells)] = cell.encode()
            lines[i] = b",".join(cells)
        elif kind == "drop":
            del lines[i]
        elif kind == "double":
            lines.insert(i, lines[i])
        elif kind == "cut":
            lines = [data[:at % len(data)]]
        elif kind == "bytes":
            lines = [data[:at % len(data)] + junk + data[at % len(data):]]
        else:
            values = list(VALUE.finditer(data))
            m = values[at % len(values)]
            lines = [data[:m.start(2)] + value.encode() + data[m.end(2):]]
        path.write_bytes(b"\n".join(lines))
        done = subprocess.run([sys.executable, "-m", "generator", "intake", str(deal), "--period", "2024-03",
                               str(deal / "tapes" / "2024-03.csv")], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        written = deal / "periods" / "2024-03.yaml"
        assert "Traceback" not in done.stderr, done.stderr
        if done.returncode == 0:
            check = subprocess.run([sys.executable, "-m", "generator", "check", str(deal), "-p", "2024-03"],
                                   cwd=ROOT, capture_output=True, text=True, timeout=60)
            assert written.exists()
            assert check.returncode in (0, 1) and "Traceback" not in check.stderr, check.stderr
        else:
            assert done.returncode == 1, (done.returncode, done.stderr)
            assert not written.exists()
            *messages, last = done.stderr.splitlines()
            assert re.fullmatch(r"[0-9]+ errors?; nothing written", last), last
            for line in messages:
                assert ERROR.match(line), line
