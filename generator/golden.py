"""Approved outputs: ``golden/`` holds statements as a person approved them.

A golden file is named like a rendered statement, ``<deal-id>_<date>.<ext>``:

* ``.txt``, ``.json``, ``.html`` are the rendered bytes;
* ``.pdf.txt`` is the PDF's text, page by page, as ``pdftotext -raw`` extracts it
  (PDF bytes are reproducible, but text is what a reviewer can read in a diff).

:func:`compare` renders everything that has a golden file from the current inputs and
templates and returns a unified diff of whatever changed; :func:`approve` puts a rendered
output in ``golden/``.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from . import formats as fmt
from .batch import find_deals
from .load import list_periods, load_deal
from .pipeline import Computed, output_name, run
from .render import TEMPLATES
from .source import InputError, InputErrors, read_input

#: The most an approved file or a rendered output to approve may hold (a PDF is about 80 KB).
MAX_APPROVED_BYTES = 64 * 1024 * 1024

#: golden file suffix -> the output format it is made from
KINDS = {".pdf.txt": "pdf", ".txt": "text", ".json": "json", ".html": "html"}
_NAME = re.compile(r"(?P<deal>.+)_(?P<date>\d{4}-\d{2}-\d{2})(?P<suffix>\.pdf\.txt|\.txt|\.json|\.html)")


class GoldenError(Exception):
    """A golden file or an output to approve that remit cannot place."""


@dataclass(frozen=True, slots=True)
class Difference:
    golden: Path
    diff: list[str]  # unified diff lines, empty when the file matches


def parse(name: str) -> tuple[str, str, str] | None:
    """``(deal id, distribution date, format)`` of a golden or output file name, or None."""
    m = _NAME.fullmatch(name)
    if not m:
        return None
    return m["deal"], m["date"], KINDS[m["suffix"]]


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as a golden file keeps it: the page count, then each page."""
    tool = shutil.which("pdftotext")
    if tool is None:
        raise GoldenError("pdftotext is missing: install the Debian package poppler-utils (scripts/setup does)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "statement.pdf"
        src.write_bytes(pdf)
        done = subprocess.run([tool, "-raw", str(src), "-"], capture_output=True, timeout=120)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GoldenError(f"not a PDF that pdftotext can read ({said[0] if said else f'exit {done.returncode}'})")
    pages = done.stdout.decode("utf-8", "replace").split("\f")[:-1]
    return f"pages: {len(pages)}\n" + "".join(f"\n--- page {i} ---\n{p}" for i, p in enumerate(pages, 1))


def golden_bytes(computed: Computed, kind: str, templates: Path = TEMPLATES) -> bytes:
    """What the golden file of ``kind`` holds for a computed statement."""
    _, render = fmt.FORMATS[kind]
    data = render(computed, templates)
    return pdf_text(data).encode("utf-8") if kind == "pdf" else data


def golden_name(computed: Computed, kind: str) -> str:
    ext = fmt.FORMATS[kind][0]
    return output_name(computed.statement, "pdf.txt" if kind == "pdf" else ext)


def deals_by_id(roots: Iterable[Path], wanted: Iterable[str] = ()) -> dict[str, Path]:
    """Deal directories under ``roots`` by deal id.  A deal that does not load matters only
    when one of the ``wanted`` ids is found nowhere: it may be that deal, so its errors are
    raised.  Otherwise it is left alone: a broken deal without approved files does not stop
    the check of the others."""
    found: dict[str, Path] = {}
    errors: list[InputError] = []
    for deal_dir in find_deals(roots):
        try:
            found.setdefault(load_deal(deal_dir).value.id, deal_dir)
        except InputErrors as exc:
            errors += exc.errors
    if errors and not set(wanted) <= found.keys():
        raise InputErrors(errors)
    return found


def read_file(path: Path, what: str) -> bytes:
    """A golden file's or an output's bytes, refused if it is not a regular file (a FIFO is
    never opened, so it cannot block) or too large.  Raises :class:`GoldenError`."""
    try:
        return read_input(path, limit=MAX_APPROVED_BYTES, what=what)
    except InputErrors as exc:
        raise GoldenError("\n".join(f"{path}: {e.message}" for e in exc.errors)) from None


def compare(roots: Iterable[Path], golden: Path, templates: Path = TEMPLATES) -> list[Difference]:
    """Render every statement that has a golden file and diff it against that file.  Every
    problem is raised at once: a name that is no statement's, a file that cannot be read, a
    statement that cannot be found."""
    entries = sorted(p for p in golden.iterdir() if not p.name.startswith(".")) if golden.is_dir() else []
    problems: list[str] = []
    approved: dict[Path, bytes] = {}
    placed = []
    for path in entries:
        key = parse(path.name)
        if key is None:
            problems.append(f"{path}: not a statement's golden file (expected <deal-id>_<YYYY-MM-DD>.txt, .json, "
                            ".html or .pdf.txt)")
            continue
        try:
            approved[path] = read_file(path, "an approved file")
        except GoldenError as exc:
            problems.append(str(exc))
            continue
        placed.append((path, key))
    try:
        found = statements(roots, placed)
    except GoldenError as exc:
        problems += str(exc).splitlines()
        found = []
    if problems:
        raise GoldenError("\n".join(problems))
    out: list[Difference] = []
    for path, computed, kind in found:
        now, before = golden_bytes(computed, kind, templates), approved[path]
        diff = [] if now == before else _unified(before, now, str(path), f"rendered {path.name}")
        out.append(Difference(path, diff))
    return sorted(out, key=lambda d: d.golden.name)


def statements(roots: Iterable[Path], named: Sequence[tuple[Path, tuple[str, str, str]]]
               ) -> list[tuple[Path, Computed, str]]:
    """Each ``(file, (deal id, date, format))`` with the statement of that deal and date under
    ``roots``, computed now; :class:`GoldenError` naming every file that has no such deal or
    no statement of that date (all of them at once)."""
    deals = deals_by_id(roots, {key[0] for _, key in named})
    wanted: dict[str, list[tuple[Path, str, str]]] = {}
    missing = []
    for path, (deal_id, date, kind) in named:
        if deal_id not in deals:
            missing.append(f"{path}: no deal with id {deal_id!r} under {', '.join(map(str, roots))}")
        else:
            wanted.setdefault(deal_id, []).append((path, date, kind))
    found = []
    for deal_id, items in wanted.items():
        on_file = set(list_periods(deals[deal_id]))
        missing += [f"{path}: deal {deal_id} has no statement dated {date} (no period file for {date[:7]})"
                    for path, date, _ in items if date[:7] not in on_file]
        items = [item for item in items if item[1][:7] in on_file]
        if not items:
            continue
        months = sorted({date[:7] for _, date, _ in items})
        computed = {c.statement.distribution_date.isoformat(): c
                    for c in run(deals[deal_id], f"{months[0]}..{months[-1]}")}
        for path, date, kind in items:
            if date not in computed:
                missing.append(f"{path}: deal {deal_id} has no statement dated {date}")
            else:
                found.append((path, computed[date], kind))
    if missing:
        raise GoldenError("\n".join(missing))
    return found


def _unified(before: bytes, now: bytes, a: str, b: str) -> list[str]:
    try:
        old, new = before.decode("utf-8"), now.decode("utf-8")
    except UnicodeDecodeError:
        return [f"Binary files {a} and {b} differ\n"]
    lines = list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), a, b))
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]


def approval(output: Path, golden: Path) -> tuple[Path, bytes, str]:
    """What approving a rendered output would write, and where, without writing it: the golden
    path, its bytes (a PDF's text) and whether it is ``new``, ``changed`` or the ``same``."""
    name = output.name
    if re.search(r"\.rev[0-9]+\.", name):
        raise GoldenError(f"{output}: a revision carries its REVISED mark; approve the statement as rendered "
                          "(its name without .revN)")
    data = read_file(output, "a rendered statement")
    if name.endswith(".pdf"):
        try:
            data, name = pdf_text(data).encode("utf-8"), name + ".txt"
        except GoldenError as exc:
            raise GoldenError(f"{output}: {exc}") from None
    if parse(name) is None:
        raise GoldenError(f"{output}: not a rendered statement (expected <deal-id>_<YYYY-MM-DD>.txt, .json, "
                          ".html or .pdf)")
    target = golden / name
    status = "new" if not os.path.lexists(target) else ("same" if read_file(target, "an approved file") == data
                                                        else "changed")
    return target, data, status


__all__ = ["compare", "approval", "parse", "pdf_text", "golden_bytes", "golden_name", "Difference", "GoldenError",
           "KINDS"]
