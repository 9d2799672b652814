"""Hostile input through the real command line for the new structures: the auto-loan deal's
reserve and fixed coupons, the two-group deal's grouped period files.  Each case mutates one
value (or drops or doubles a line) of a deal or period file and runs ``remit render`` in a
subprocess: the answer is exit 0 with a reconciled statement, or exit 1 with every message
``file:line: ...`` and nothing written; never a traceback, a signal or a hang."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import INPUTS, ROOT

DEALS = {"synthetic-auto-2025-1": "2025-02", "synthetic-two-group-2025-1": "2025-03"}
SCALARS = ["0x24A", "1e3", "-0.00", "-5.00", "yes", "null", "~", "[]", "{}", "0.001", "99999999999999999.99",
           "2002-02-30", '"25"', "1.5", "0", "fixed", "adjustable", "arm", "30/360", "none", "*nowhere", "!!int 5"]
VALUE = re.compile(rb"^(\s*-?\s*[A-Za-z_0-9-]+:) (\S.*)$", re.M)
ERROR = re.compile(r"^(?P<file>/\S+\.yaml)(?::[1-9][0-9]*)?: \S.*$|^[0-9]{4}-[0-9]{2}: does not reconcile: \S.*$")


@st.composite
def cases(draw):
    deal = draw(st.sampled_from(sorted(DEALS)))
    target = draw(st.sampled_from(["deal.yaml", f"periods/{DEALS[deal]}.yaml"]))
    kind = draw(st.sampled_from(["scalar", "drop", "double"]))
    return deal, target, kind, draw(st.integers(0, 10**6)), draw(st.sampled_from(SCALARS))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_mutated_structures_are_answered_properly(case):
    deal, target, kind, at, scalar = case
    with tempfile.TemporaryDirectory() as tmp:
        copy, out = Path(tmp) / deal, Path(tmp) / "out"
        shutil.copytree(INPUTS / deal, copy)
        for p in (copy / "periods").iterdir():  # only the first month on file: the case runs in a second
            if p.name != f"{DEALS[deal]}.yaml":
                p.unlink()
        path = copy / target
        text = path.read_bytes()
        if kind == "scalar":
            values = list(VALUE.finditer(text))
            m = values[at % len(values)]
            text = text[:m.start(2)] + scalar.encode() + text[m.end(2):]
        else:
            lines = text.split(b"\n")
            i = at % len(lines)
            lines[i:i + 1] = [] if kind == "drop" else [lines[i], lines[i]]
            text = b"\n".join(lines)
        path.write_bytes(text)
        done = subprocess.run([sys.executable, "-m", "generator", "render", str(copy), "-p", DEALS[deal], "-f", "text",
                               "-f", "json", "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode in (0, 1), (done.returncode, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        if done.returncode == 0:
            records = [json.loads(p.read_text()) for p in out.glob("*.json")]
            assert records and all(c["ok"] for r in records for c in r["checks"])
            return
        assert not out.exists() or not any(out.iterdir())
        lines = done.stderr.splitlines()
        assert re.fullmatch(r"[0-9]+ errors?; nothing written", lines[-1]), lines[-1]
        for line in lines[:-1]:
            assert ERROR.match(line), line
