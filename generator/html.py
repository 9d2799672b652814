"""The statement as one self-contained web page, and as a PDF printed from that page.

The page carries its CSS inline and makes no outside requests.  The PDF is
WeasyPrint's rendering of the same page for print: US letter, running header,
"Page X of Y".  Its metadata dates are the statement's distribution date, so
two renders of the same inputs give the same bytes.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import Any

import jinja2

from . import collector
from .formats import TEMPLATE_FAULTS, TemplateError, no_value, template_line
from .pipeline import Computed
from .render import TEMPLATES, NoValue, _env, context, view

DEFAULT_TEMPLATE = "statement.html.j2"

#: The source of each fund of the flow of funds, for the sources-and-uses table.
FUND_SOURCES = {
    "interest": "Interest remittance",
    "principal": "Principal remittance",
    "excess": "Net monthly excess cash flow",
    "prepayment charges": "Prepayment charges",
}


def template_name(computed: Computed) -> str:
    return computed.deal.templates.get("html") or DEFAULT_TEMPLATE


def _drawn_on_demand(computed: Computed) -> set[str]:
    """The funds (as the flow of funds names them) drawn on demand from outside the trust: an
    insurer's policy, a liquidity facility (each step draws what it pays)."""
    if computed.run is None:
        return set()
    ledger = computed.run.ledger
    return {ledger.section(name) for name, a in computed.run.program.accounts.items() if a.draw}


def funds(computed: Computed) -> list[dict[str, Any]]:
    """The waterfall's steps grouped by the fund that paid them, in payment order, each
    fund with what it had before its first step (that step's amount plus what it left); a
    fund drawn on demand, with what was drawn on it (every step's amount: each leaves it empty)."""
    out: list[dict[str, Any]] = []
    drawn = _drawn_on_demand(computed)
    for i, step in enumerate(computed.statement.waterfall):
        if not out or out[-1]["section"] != step.section:
            out.append({"section": step.section, "label": FUND_SOURCES.get(step.section, step.section[:1].upper() + step.section[1:]),
                        "available": step.amount + step.remaining, "steps": []})
        elif step.section in drawn:
            out[-1]["available"] += step.amount
        out[-1]["steps"].append(i)
    return out


def page(computed: Computed, templates: Path = TEMPLATES, live: dict[str, str] | None = None) -> str:
    """The statement page.  ``live`` (for the preview server only) adds links to the other
    formats and the script that reloads the page when its inputs change."""
    name = template_name(computed)
    s = computed.statement
    data = context(s, computed.deal, computed.revision)
    waterfall = data["s"]["waterfall"]
    data["funds"] = [{**f, "steps": [waterfall[i] for i in f["steps"]]} for f in funds(computed)]
    program = computed.run.program if computed.run is not None else None
    # a payment into another of the deal's funds is a transfer, not a distribution; one into a fund
    # drawn from outside the trust (reimbursing an insurer) leaves the trust, and is paid to its payee
    data["transfer_payees"] = ({a.payee or computed.run.ledger.section(name) for name, a in program.accounts.items()
                                if not a.draw} if program is not None else set())
    data["cash_left"] = view(s.cash["available"] - s.cash["distributed"], "cash.left")
    values = computed.run.values if computed.run is not None else {}
    data["figure"] = lambda name: values[name]  # a figure of the run the record does not carry (pool.factor)
    defs = program.defs if program is not None else {}
    data["label_of"] = lambda name: defs[name].label if name in defs and defs[name].label else ""  # as the deal words it
    data["live"] = live
    try:
        return _env(templates).get_template(name).render(data)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.name or name, exc.lineno or 0, exc.message or str(exc), templates) from None
    except NoValue as exc:
        raise no_value(exc, name, templates) from None
    except TEMPLATE_FAULTS as exc:
        raise TemplateError(*template_line(exc, name, templates), str(exc), templates) from None


def html(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    return page(computed, templates).encode("utf-8")


#: WeasyPrint's options for every PDF: tagged for accessibility.
PDF_OPTIONS = {"pdf_tags": True}

#: Rules of WeasyPrint's user-agent stylesheet that a page without footnotes or notes does
#: without: styles of pseudo-elements that any element may have (a footnote's call and
#: marker, a note's).  They give each of a statement's thousand elements five more styles to
#: compute, a tenth of the time it takes to print.  A page that may have a footnote or a note
#: (its text names one: float: footnote, position: note(), a ::footnote-call rule, ...) keeps
#: WeasyPrint's whole stylesheet, which numbers and raises the calls; so does a page that
#: WeasyPrint could not build without them (one that names a footnote in a way this test
#: misses, through a CSS escape).
LEAN_UA_DROPS = ("::footnote-", "::note-")
_MAY_HAVE_NOTES = re.compile(r"footnote|note\s*\(|:note-", re.IGNORECASE)
#: A page that may declare a font of its own: an at-rule naming one, or one written with a CSS
#: escape (which might spell @font-face).
_DECLARES_FONTS = re.compile(r"@(?:\S*\\|\S*f\S*o\S*n\S*t)", re.IGNORECASE)


@functools.cache
def _printer() -> type:
    """WeasyPrint's HTML document, with its user-agent stylesheet less LEAN_UA_DROPS."""
    import weasyprint  # imported here: only PDF output pays for it
    from weasyprint import html as ua

    kept = "\n".join(line for line in ua.UA.splitlines() if not line.lstrip().startswith(LEAN_UA_DROPS))
    sheet = weasyprint.CSS(string=kept, counter_style=ua.UA_COUNTER_STYLE)

    class Printer(weasyprint.HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet, ua.UA_FORM_STYLESHEET] if forms else [sheet]

    return Printer


@functools.cache
def _fonts() -> Any:
    """One font configuration for every page a process prints: WeasyPrint makes a new one (and
    asks fontconfig for the same fonts again) for each document otherwise, a seventh of a
    statement's time.  Only for a page that declares no fonts of its own (no @font-face, which
    a configuration keeps): what it holds is then the same for every page, and each PDF's bytes
    are what a fresh one gives."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


#: A page's one stylesheet, inline.  A page with no other style (no second <style>, no style
#: attribute, no linked sheet, no comment that might hold a <style>) is printed with that sheet
#: parsed once per process instead of once per page: the same rules, so the same bytes.
#: (WeasyPrint gives a sheet passed this way the user origin, not the author's; with no author
#: style left on the page, and no presentational hints asked for, the cascade is the same.)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_OTHER_STYLE = re.compile(r"<style|\sstyle\s*=|<link|<!--", re.IGNORECASE)


@functools.lru_cache(maxsize=16)  # a book's few templates
def _sheet(css: str) -> Any:
    import weasyprint

    return weasyprint.CSS(string=css, base_url=None)


def _split_style(text: str) -> tuple[str, list[Any] | None]:
    """The page without its stylesheet and that sheet, parsed; or the page as it is and None
    (a page that may style itself in more than one place)."""
    found = _STYLE.search(text)
    if found is None:
        return text, None
    rest = text[:found.start()] + text[found.end():]
    if _OTHER_STYLE.search(rest):
        return text, None
    return rest, [_sheet(found.group(1))]


def pdf_from_page(text: str) -> bytes:
    import weasyprint  # imported here: only PDF output pays for it

    def printed(printer: type) -> bytes:
        out = io.BytesIO()
        # tagged (the structure a screen reader follows); no random identifier: the same page, the same bytes
        with collector.paused():
            fonts = None if _DECLARES_FONTS.search(text) else _fonts()
            body, sheets = _split_style(text) if fonts is not None else (text, None)  # its fonts: its own sheet
            printer(string=body, base_url=None).write_pdf(out, pdf_identifier=False, font_config=fonts,
                                                          stylesheets=sheets, **PDF_OPTIONS)
        return out.getvalue()

    if _MAY_HAVE_NOTES.search(text):
        return printed(weasyprint.HTML)
    try:
        return printed(_printer())
    except Exception:  # noqa: BLE001 (a footnote's or note's pseudo-element without its style: see LEAN_UA_DROPS)
        return printed(weasyprint.HTML)  # what fails with the whole stylesheet too is raised from here


def pdf(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    return pdf_from_page(page(computed, templates))


__all__ = ["page", "html", "pdf", "pdf_from_page", "funds", "template_name", "DEFAULT_TEMPLATE", "PDF_OPTIONS"]
