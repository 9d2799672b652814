"""Output formats of a computed statement: bytes for each format name."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Callable

from .pipeline import Computed
from .render import TEMPLATES, ColumnOverflow, render_json, render_template


class TemplateError(Exception):
    """A template could not render a statement (a value too wide for its column, ...)."""

    def __init__(self, template: str, line: int, message: str):
        self.template, self.line, self.message = template, line, message
        super().__init__(f"templates/{template}:{line}: {message}" if line else f"templates/{template}: {message}")


def _template_line(exc: BaseException, template: str) -> tuple[str, int]:
    """The innermost template (an included one, if any) and line where ``exc`` was raised."""
    where = (template, 0)
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = (Path(filename).name, lineno)
    return where


def render_with(template: str, computed: Computed, templates: Path = TEMPLATES) -> str:
    try:
        return render_template(template, computed.statement, computed.deal, templates, computed.revision)
    except ColumnOverflow as exc:
        raise TemplateError(*_template_line(exc, template), str(exc)) from None


def text(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    name = computed.deal.templates.get("text")
    if not name:
        raise TemplateError("?", 0, f"deal {computed.deal.id} names no text template (templates.text)")
    return render_with(name, computed, templates).encode("utf-8")


def json_(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    return render_json(computed.statement, computed.revision).encode("utf-8")


FORMATS: dict[str, tuple[str, Callable[[Computed, Path], bytes]]] = {
    "text": ("txt", text),
    "json": ("json", json_),
}


def register(name: str, ext: str, fn: Callable[[Computed, Path], bytes]) -> None:
    FORMATS[name] = (ext, fn)


def html(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    """The statement as a self-contained web page (generator.html)."""
    from . import html as page

    return page.html(computed, templates)


def pdf(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    """The web page printed to PDF by WeasyPrint (generator.html)."""
    from . import html as page

    return page.pdf(computed, templates)


register("html", "html", html)
register("pdf", "pdf", pdf)
