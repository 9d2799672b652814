#!/usr/bin/env python3
"""Benchmark in instructions (not a test): what one statement costs, counted by valgrind's
callgrind, which counts the instructions a run executes rather than timing it.  A count is
the same every run on the same build, however busy or slow the machine is, so these ratios
can be compared from one day (or machine) to the next where seconds cannot: a shared
machine's timings of the same code have been seen to drift by half.

Prints, each measured in this run:

* text end to end (load, validate, compute, reconcile, render) and the bare Jinja render of
  the same template from a context prepared beforehand, instructions per statement, and
  their ratio against the 4x target scripts/bench_month_end.py times;
* PDF end to end and bare WeasyPrint on the same page (the arguments generator/html.py
  uses), instructions per statement, and their ratio.

Each figure is the difference between a run that does the work ``n`` times and one that
does it no times (the same imports, the same warm-up: templates compiled, fonts loaded), so
start-up costs fall out.  Every run hashes strings alike (``PYTHONHASHSEED=0``): with Python's
random seed, the order of sets and the collisions of dicts moved a count by about 1% from
one run of the same code to the next.  Seconds are not instructions: a run that misses the CPU's caches
more takes longer for the same count, which is why the timed ratio is higher.

    .venv/bin/python scripts/bench_instructions.py [--deals 10] [--no-pdf]

It needs valgrind (Debian: apt-get install -y valgrind) and takes about ten minutes on two
cores (text alone, ``--no-pdf``: two): callgrind runs a program about fifty times slower.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

TEXT_TARGET = 4.0  # as scripts/bench_month_end.py
PDF_TARGET = 1.15
MODES = ("text", "bare-text", "pdf", "bare-pdf")


def child(mode: str, book: Path, deals: int, times: int) -> None:
    """The work measured: ``times`` rounds of ``mode`` over the first ``deals`` deals of the
    book, after a warm-up on another deal (so that both runs of a pair warm up alike)."""
    from generator import html as statement_page
    from generator.formats import FORMATS
    from generator.pipeline import run
    from generator.render import TEMPLATES, _env, context

    every = sorted(p for p in book.iterdir() if p.is_dir())
    warm, measured = every[-1], every[:deals]
    fmt = "pdf" if mode.endswith("pdf") else "text"
    for c in run(warm, "latest"):
        FORMATS[fmt][1](c)
    if mode == "bare-text":
        jobs = [(_env(TEMPLATES).get_template(c.deal.templates["text"]), context(c.statement, c.deal, c.revision,
                                                                                 named=False))
                for d in measured for c in run(d, "latest")]
    elif mode == "bare-pdf":
        import weasyprint

        pages = [statement_page.page(c) for d in measured for c in run(d, "latest")]
    for _ in range(times):
        if mode in ("text", "pdf"):
            for d in measured:
                for c in run(d, "latest"):
                    FORMATS[fmt][1](c)
        elif mode == "bare-text":
            for template, ctx in jobs:
                template.render(ctx)
        else:
            for page in pages:
                weasyprint.HTML(string=page, base_url=None).write_pdf(io.BytesIO(), pdf_identifier=False,
                                                                      **statement_page.PDF_OPTIONS)


def instructions(mode: str, book: Path, deals: int, times: int) -> int:
    """What callgrind counts for one child run."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                           __file__, "--child", mode, "--book", str(book), "--deals", str(deals), "--times", str(times)],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : ([0-9]+)", done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"callgrind run of {mode} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_statement(mode: str, book: Path, deals: int, times: int, pool: ThreadPoolExecutor) -> float:
    runs = [pool.submit(instructions, mode, book, deals, n) for n in (0, times)]
    none, some = (r.result() for r in runs)
    return (some - none) / (deals * times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10, help="deals measured for text (default 10; PDF: 1)")
    parser.add_argument("--no-pdf", action="store_true", help="text only (a PDF run takes minutes under callgrind)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--book", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--times", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.book, args.deals, args.times)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install -y valgrind)")
    import make_book

    with tempfile.TemporaryDirectory(prefix="remit-book-") as tmp, ThreadPoolExecutor(2) as pool:
        book = Path(tmp)
        make_book.write_book(book, args.deals + 1)
        print(f"Instructions per statement, counted by callgrind ({args.deals} deals of a generated book, "
              "each figure a run of n rounds less a run of none):", flush=True)
        text = per_statement("text", book, args.deals, 2, pool)
        bare = per_statement("bare-text", book, args.deals, 4, pool)
        ratio = text / bare
        print(f"  text end to end          {text / 1e6:8.2f} M")
        print(f"  bare Jinja render        {bare / 1e6:8.2f} M")
        print(f"  text / bare              {ratio:8.2f}x   <= {TEXT_TARGET}x   {'PASS' if ratio <= TEXT_TARGET else 'MISS'}",
              flush=True)
        if args.no_pdf:
            return
        pdf = per_statement("pdf", book, 1, 1, pool)
        weasy = per_statement("bare-pdf", book, 1, 1, pool)
        ratio = pdf / weasy
        print(f"  pdf end to end           {pdf / 1e6:8.0f} M")
        print(f"  bare WeasyPrint          {weasy / 1e6:8.0f} M")
        print(f"  pdf / bare WeasyPrint    {ratio:8.2f}x   <= {PDF_TARGET}x   {'PASS' if ratio <= PDF_TARGET else 'MISS'}")


if __name__ == "__main__":
    main()
