"""The statement as a PDF: reproducible bytes, dated from the inputs, paged like a report."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import formats
from generator.cli import main
from generator.golden import pdf_text
from generator.html import pdf_from_page
from generator.pipeline import run

from .conftest import REFERENCE_DEAL, ROOT


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install the Debian package poppler-utils (scripts/setup does)")
    return path


def pdftotext(data: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, as ``pdftotext -raw`` extracts it."""
    src = tmp_path / "doc.pdf"
    src.write_bytes(data)
    out = subprocess.run([poppler("pdftotext"), "-raw", str(src), "-"], check=True, capture_output=True).stdout
    return out.decode("utf-8").split("\f")[:-1]


def pdfinfo(data: bytes, tmp_path: Path) -> dict[str, str]:
    src = tmp_path / "info.pdf"
    src.write_bytes(data)
    out = subprocess.run([poppler("pdfinfo"), "-isodates", str(src)], check=True, capture_output=True, text=True)
    return dict(re.findall(r"^([^:]+):\s*(.*)$", out.stdout, re.M))


@pytest.fixture(scope="module")
def reference_pdf() -> bytes:
    (computed,) = run(REFERENCE_DEAL, "2002-05")
    return formats.FORMATS["pdf"][1](computed, formats.TEMPLATES)


def test_two_renders_are_byte_identical(reference_pdf, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the bytes must not depend on it either
    (computed,) = run(REFERENCE_DEAL, "2002-05")
    again = formats.FORMATS["pdf"][1](computed, formats.TEMPLATES)
    assert reference_pdf.startswith(b"%PDF-")
    assert again == reference_pdf


def test_metadata_comes_from_the_inputs(reference_pdf, tmp_path):
    info = pdfinfo(reference_pdf, tmp_path)
    assert info["CreationDate"] == info["ModDate"] == "2002-05-28T00:00:00Z"
    assert info["Title"] == "New Century Home Equity Loan Trust 2002-1 Statement to Certificateholders, May 28, 2002"
    assert info["Author"] == "U.S. Bank National Association"
    assert info["Page size"].startswith("612 x 792 pts")  # US letter


def test_running_header_and_page_numbers(reference_pdf, tmp_path):
    pages = pdftotext(reference_pdf, tmp_path)
    n = len(pages)
    assert n >= 3
    for i, text in enumerate(pages, 1):
        assert f"Page {i} of {n}" in text
        if i > 1:  # the first page has the masthead instead
            assert "New Century Home Equity Loan Trust, Series 2002-1" in text
            assert "Distribution Date May 28, 2002" in text


def test_pdf_golden(reference_pdf, file_regression):
    poppler("pdftotext")
    file_regression.check(pdf_text(reference_pdf), basename="new-century-2002-1_2002-05-28.pdf", extension=".txt")


def test_long_tables_repeat_their_header_and_never_split_a_row(tmp_path):
    css = (ROOT / "templates" / "statement.css").read_text()
    rows = "".join(f"<tr><th scope='row'>Row {i}<br>second line {i}</th><td class='num'>{i}.00</td></tr>"
                   for i in range(1, 121))
    page = (f"<!DOCTYPE html><html lang='en'><head><title>t</title><style>{css}</style></head><body>"
            f"<table><caption>Long</caption><thead><tr><th scope='col'>Header here</th>"
            f"<th scope='col' class='num'>Amount</th></tr></thead><tbody>{rows}</tbody></table></body></html>")
    pages = pdftotext(pdf_from_page(page), tmp_path)
    assert len(pages) >= 3
    for text in pages:
        assert "Header here" in text
    for i in range(1, 121):  # both lines of each row land on the same page
        where = [n for n, text in enumerate(pages) if re.search(rf"\bRow {i}\b", text)]
        assert where and all(re.search(rf"\bsecond line {i}\b", pages[n]) for n in where), i


def test_render_writes_html_and_pdf(tmp_path):
    result = CliRunner().invoke(main, ["render", str(REFERENCE_DEAL), "--period", "2002-05", "--format", "html",
                                       "--format", "pdf", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = tmp_path / "new-century-2002-1_2002-05-28.html"
    pdf = tmp_path / "new-century-2002-1_2002-05-28.pdf"
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert pdf.read_bytes().startswith(b"%PDF-")
    record = tmp_path / "new-century-2002-1_2002-05-28.json"  # the figures record goes with every publication
    assert sorted(p.name for p in tmp_path.iterdir()) == [html.name, record.name, pdf.name]


def test_the_pdf_is_tagged_for_screen_readers(tmp_path):
    from generator import formats
    from generator.pipeline import run

    from .conftest import REFERENCE_DEAL

    import subprocess

    [computed] = run(REFERENCE_DEAL, "2002-05")
    data = formats.pdf(computed)
    path = tmp_path / "statement.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert [line.split()[-1] for line in info.splitlines() if line.startswith("Tagged:")] == ["yes"]
    assert data == formats.pdf(computed)  # and still the same bytes every time


def _plain(fragment: str) -> str:
    """An HTML fragment's text as pdftotext gives it: no tags, entities decoded, one space."""
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


@pytest.mark.parametrize("deal", sorted(p.name for p in (ROOT / "inputs").iterdir() if (p / "deal.yaml").exists()))
def test_no_heading_or_caption_is_left_alone_at_the_foot_of_a_page(deal, tmp_path):
    from generator import html

    [computed] = run(ROOT / "inputs" / deal, "latest")
    page = html.page(computed)
    headings = {_plain(h) for h in re.findall(r"<h2>(.*?)</h2>", page, re.S)}
    captions = [_plain(c) for c in re.findall(r"<caption>(.*?)</caption>", page, re.S)]
    running = (f"{computed.deal.trust}, Series {computed.deal.series}", "Statement to Certificateholders Page")
    pages = pdftotext(pdf_from_page(page), tmp_path)
    assert len(pages) >= 3
    for n, text in enumerate(pages, 1):
        body = [line for line in text.splitlines() if line.strip() and not line.startswith(running)]
        last = " ".join(body[-1].split())
        assert last not in headings, f"page {n} of {deal} ends with the heading {last!r}"
        assert not any(c.startswith(last) for c in captions), f"page {n} of {deal} ends with a caption: {last!r}"


@pytest.mark.parametrize("deal, month", [("synthetic-two-group-2025-1", "2025-12"), ("synthetic-auto-2025-1", "2026-03"),
                                         ("synthetic-home-equity-2024-1", "2025-03"), ("new-century-2002-1", "2002-05")])
def test_no_page_but_the_last_is_left_mostly_blank(deal, month, tmp_path):
    """Each page's text reaches at least three quarters of the way down the page (the running
    footer apart). The flow of funds kept each of its short groups' rows together, so a run of
    them was one block moved whole to the next page: the two-group deal's page 3 ended under
    a third of the way down its sources."""
    from generator import html

    [computed] = run(ROOT / "inputs" / deal, month)
    words = _words(html.pdf(computed), tmp_path)
    pages = max(n for n, *_ in words)
    lowest = {n: max(top for p, top, *_ in words if p == n and top < 740) for n in range(1, pages + 1)}
    assert {n: round(y) for n, y in lowest.items() if n < pages and y < 792 * 0.75} == {}


#: Page geometry of the print style sheet: US letter, 0.6in side margins, 5pt cell padding.
_LEFT, _WIDTH, _PADDING = 43.2, 612 - 2 * 43.2, 5.0


def _words(pdf: bytes, tmp_path: Path) -> list[tuple[int, float, float, float, str]]:
    """Each word of the PDF: its page, top, left and right edges (points) and its text."""
    src = tmp_path / "words.pdf"
    src.write_bytes(pdf)
    out = subprocess.run([poppler("pdftotext"), "-bbox", str(src), "-"], check=True, capture_output=True,
                         text=True).stdout
    words = []
    for n, page in enumerate(out.split("<page ")[1:], 1):
        for x0, y0, x1, text in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                                           r'yMax="[\d.]+">([^<]*)</word>', page):
            words.append((n, float(y0), float(x0), float(x1), text))
    return words


@pytest.mark.parametrize("kind, widest, width", [
    ('pairs( summary)?', "999,999,999,999,999.99", 0.80),  # the largest amount a deal can hold
    ("compact", "999,999,999,999,999.99", 0.75),
    ("waterfall", "99,999,999,999.99", 1.00),  # a payment the size of a $100 billion pool
])
def test_fixed_layout_columns_hold_the_widest_amount(kind, widest, width, tmp_path):
    """The print layout takes these tables' column widths from their first row, without
    measuring the cells: every amount in them, made as wide as it can be, still ends at its
    column's right edge, inside its table, and touches no other word."""
    from decimal import Decimal

    from generator import html
    from generator.model import MAX_MONEY

    assert Decimal(widest.replace(",", "")) <= MAX_MONEY
    [computed] = run(REFERENCE_DEAL, "2002-05")
    page = html.page(computed)

    def widen(table: re.Match) -> str:
        return re.sub(r'(<td class="num"[^>]*>)-?[\d,]+\.\d\d(</td>)', rf"\g<1>{widest}\g<2>", table.group(0))

    page, tables = re.subn(rf'<table class="{kind}">.*?</table>', widen, page, flags=re.S)
    assert tables >= 1 and page.count(widest) >= 4
    words = _words(pdf_from_page(page), tmp_path)
    right = _LEFT + width * _WIDTH - _PADDING
    wide = [w for w in words if w[4] == widest]
    assert len(wide) == page.count(widest)
    assert all(x1 <= right + 0.5 for _, _, _, x1, _ in wide), max(w[3] for w in wide)
    lines: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for n, y0, x0, x1, text in words:
        lines.setdefault((n, round(y0)), []).append((x0, x1, text))
    for where, line in lines.items():
        line.sort()
        for (_, x1, a), (x0, _, b) in zip(line, line[1:]):
            assert x1 <= x0 + 0.1, f"{a!r} runs into {b!r} on page {where[0]}"


def test_the_lean_user_agent_stylesheet_changes_no_byte(reference_pdf):
    """The PDF drops the user-agent rules for footnote and note pseudo-elements (a sixth of the
    time to print).  WeasyPrint with its stock stylesheet must give the same bytes, and its
    hook must still be the one overridden, or the saving is gone."""
    import io

    import weasyprint

    from generator import html

    assert "_ua_stylesheets" in vars(weasyprint.HTML)
    (sheet,) = html._printer()(string="<p>x</p>")._ua_stylesheets()
    (stock,) = weasyprint.HTML(string="<p>x</p>")._ua_stylesheets()
    assert sheet is not stock
    (computed,) = run(REFERENCE_DEAL, "2002-05")
    out = io.BytesIO()
    weasyprint.HTML(string=html.page(computed), base_url=None).write_pdf(out, pdf_identifier=False, **html.PDF_OPTIONS)
    assert out.getvalue() == reference_pdf


def _stock(page: str) -> bytes:
    import io

    import weasyprint

    from generator import html

    out = io.BytesIO()
    weasyprint.HTML(string=page, base_url=None).write_pdf(out, pdf_identifier=False, **html.PDF_OPTIONS)
    return out.getvalue()


NOTES = {
    "a footnote": ".fn { float: footnote }",
    "in capitals, with a comment": ".fn { FLOAT :/* a; note */ footnote }",
    "through a custom property": ":root { --where: footnote } .fn { float: var(--where) }",
    "through a CSS escape": ".fn { float: foot\\6e ote }",
    "a note": ".fn { position: note(remarks) } @page { @note-area { content: note(remarks) } }",
    "a footnote whose call the template styles": ".fn { float: footnote } .fn::footnote-call { color: red }",
    "an escaped footnote whose escaped marker is styled": ".fn { float: foot\\6e ote } .fn::foot\\6e ote-marker { color: red }",
    "an escaped note whose escaped marker is styled": ".fn { position: n\\6f te(r) } .fn::n\\6f te-marker { color: red }",
}


@pytest.mark.parametrize("css", NOTES.values(), ids=NOTES.keys())
def test_a_page_with_footnotes_or_notes_prints_as_with_the_whole_user_agent_stylesheet(css):
    """A deal's HTML template may make a remark a footnote or a note: its call and marker are
    numbered and raised by the rules the lean stylesheet drops (without them WeasyPrint stops,
    or would print a call its template styled without the raise)."""
    page = f"<html lang=en><style>{css}</style><p>Losses<span class='fn'>Net of recoveries.</span> this period.</p>"
    assert pdf_from_page(page) == _stock(page)


def test_a_footnote_is_numbered(tmp_path):
    page = "<style>.fn { float: footnote }</style><p>Losses<span class='fn'>Net of recoveries.</span> this period.</p>"
    text = " ".join(" ".join(pdftotext(pdf_from_page(page), tmp_path)).split())  # the call is raised
    assert "Losses1 this period." in text
    assert "1. Net of recoveries." in text


def test_one_font_configuration_for_every_page_changes_no_byte(tmp_path):
    """Pages printed one after another in a process share WeasyPrint's font configuration (a
    seventh of the time to print): the last of three deals' PDFs is byte for byte what a process
    printing only it gives."""
    import sys

    from .conftest import INPUTS

    deals = sorted(p for p in INPUTS.iterdir() if (p / "deal.yaml").is_file())[:3]
    for deal in deals:
        (computed,) = run(deal, "latest")
        data = formats.FORMATS["pdf"][1](computed, formats.TEMPLATES)
    alone = tmp_path / "alone.pdf"
    code = ("import sys; from pathlib import Path; from generator import formats; from generator.pipeline import run; "
            f"(c,) = run(Path({str(deals[-1])!r}), 'latest'); "
            f"Path({str(alone)!r}).write_bytes(formats.FORMATS['pdf'][1](c, formats.TEMPLATES))")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=300)
    assert data == alone.read_bytes()


@pytest.mark.parametrize("css", ["@font-face { font-family: Own; src: local(Liberation Serif) }",
                                 "@\\66ont-face { font-family: Own; src: local(Liberation Serif) }"])
def test_a_page_declaring_a_font_is_printed_with_a_configuration_of_its_own(css, monkeypatch):
    """A deal's template may declare a font (@font-face), which a font configuration keeps: such
    a page is never printed with the shared one, so it cannot change another deal's PDF."""
    from generator import html

    def shared():
        raise AssertionError("the shared font configuration was used")

    monkeypatch.setattr(html, "_fonts", shared)
    page = f"<html lang=en><style>{css} p {{ font-family: Own }}</style><p>Losses this period.</p>"
    assert pdf_from_page(page) == _stock(page)


def test_every_bundled_page_is_printed_with_its_stylesheet_parsed_once_and_the_same_bytes():
    """A month end prints hundreds of pages of one stylesheet: it is parsed once per process, not
    once per page, and each PDF is byte for byte what WeasyPrint gives the page as it is."""
    from generator import html

    from .conftest import INPUTS

    sheets = set()
    for deal in sorted(p for p in INPUTS.iterdir() if (p / "deal.yaml").is_file()):
        (computed,) = run(deal, "latest")
        page = html.page(computed)
        body, parsed = html._split_style(page)
        assert parsed is not None and "<style" not in body, deal.name
        sheets.add(id(parsed[0]))
        assert pdf_from_page(page) == _stock(page), deal.name
    assert len(sheets) == 1  # one stylesheet, parsed once


STYLED_ELSEWHERE = {
    "a style attribute": "<style>p { color: red }</style><p style='color: blue'>x</p>",
    "a second stylesheet": "<style>p { color: red }</style><style>p { color: blue }</style><p>x</p>",
    "a stylesheet in a comment": "<!-- <style>p { color: red }</style> --><p>x</p>",
    "a stylesheet with a media query": "<style media='screen'>p { color: red }</style><p>x</p>",
    "important rules and page boxes": "<style>@page { @top-center { content: 'T' } } p { color: red !important }"
                                      " p { color: blue }</style><p>x</p>",
}


@pytest.mark.parametrize("page", STYLED_ELSEWHERE.values(), ids=STYLED_ELSEWHERE.keys())
def test_a_page_styled_in_more_than_its_one_sheet_prints_as_it_is(page):
    assert pdf_from_page(f"<html lang=en>{page}") == _stock(f"<html lang=en>{page}")
