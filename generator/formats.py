"""Output formats of a computed statement: bytes for each format name."""

from __future__ import annotations

import re
import traceback
import typing
from pathlib import Path
from typing import Callable

import jinja2
from pydantic import BaseModel

from .pipeline import Computed
from .render import (TEMPLATES, ColumnOverflow, Later, NoValue, _env, render_json, render_template, template_file,
                     template_folders)
from .source import InputError, InputErrors, SourceMap, shown


class TemplateError(Exception):
    """A template could not render a statement (a value too wide for its column, ...).  ``file``
    names it as a path from where the command runs (``templates/NAME`` in the project, the
    ``--templates DIR`` given as ``DIR/NAME``), absolute when it is not under it."""

    def __init__(self, template: str, line: int, message: str, templates: Path = TEMPLATES):
        self.template, self.line, self.message = template, line, message
        path = template_file(template, templates)
        try:  # as a path from where the command runs, when it is under it
            self.file = path.resolve().relative_to(Path.cwd().resolve()).as_posix() if path.is_absolute() else str(path)
        except (ValueError, OSError):
            self.file = str(path)
        super().__init__(f"{self.file}:{line}: {message}" if line else f"{self.file}: {message}")


def template_frames(exc: BaseException, templates: Path = TEMPLATES) -> list[tuple[str, int]]:
    """Each template and line ``exc`` passed through, outermost first; each template named as
    under ``templates`` (``parts/extra.txt.j2`` for one in a subfolder)."""
    folders = [folder.resolve() for folder in template_folders(templates)]
    frames = []
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2"):
            path = Path(filename).resolve()
            under = next((folder for folder in folders if path.is_relative_to(folder)), None)
            frames.append((path.relative_to(under).as_posix() if under is not None else path.name, lineno))
    return frames


def template_line(exc: BaseException, template: str, templates: Path = TEMPLATES) -> tuple[str, int]:
    """The innermost template (an included one, if any) and line where ``exc`` was raised."""
    frames = template_frames(exc, templates)
    return frames[-1] if frames else (template, 0)


def template_names(templates: Path = TEMPLATES, kind: str | None = None) -> list[str]:
    """The templates a deal may name (``_name.j2`` files are parts that others include); of one
    kind, ``text`` (``*.txt.j2``) or ``html`` (``*.html.j2``), when it is given."""
    names = sorted({p.name for folder in template_folders(templates) for p in folder.glob("*.j2")
                    if not p.name.startswith("_")})
    suffix = {"text": ".txt.j2", "html": ".html.j2"}.get(kind or "")
    return [n for n in names if suffix is None or n.endswith(suffix)]


def _missing_section(computed: Computed, template: str, exc: jinja2.UndefinedError) -> InputErrors | None:
    """A template that reads a section the deal leaves out (``filing``) as an input error on the deal."""
    m = re.fullmatch(r"'None' has no attribute '(\w+)'", exc.message or "")
    if not m:
        return None
    deal = computed.deal
    for name, info in type(deal).model_fields.items():
        models = [t for t in typing.get_args(info.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        if getattr(deal, name) is None and models and m.group(1) in models[0].model_fields:
            needed = [f.alias or n for n, f in models[0].model_fields.items() if f.is_required()]
            return InputErrors([computed.deal_source.error(
                (info.alias or name,), f"is missing, and template {template} shows it "
                                       f"(expected {info.alias or name}: with {', '.join(needed)})")])
    return None


def _unreported(computed: Computed, template: str, exc: jinja2.UndefinedError) -> InputErrors | None:
    """A template that shows a figure of the deal the deal file does not list under report:."""
    m = re.fullmatch(r"'dict object' has no attribute '([^']+)'", exc.message or "")
    if not m or computed.run is None or m.group(1) not in computed.run.values:
        return None
    name = m.group(1)
    if name == "determination_date" and computed.run.values[name] is None:
        return InputErrors([computed.deal_source.error(
            ("schedule",), f"template {template} shows the determination date, which the deal's schedule does not "
                           "give (expected determination_business_days: N, the business days before the "
                           "distribution date it falls)")])
    return InputErrors([computed.deal_source.error(
        ("report",), f"template {template} shows the figure {name}, which is not listed here (expected {name} "
                     "under report:, so that the statement and its record carry it)")])


#: The filters that format a number, and so refuse a figure with no value.
NUMBER_FILTERS = frozenset({"money", "dollars", "fixed", "per1000", "pct", "number"})


def _expressions(source: str, line: int, templates: Path, number_filtered: bool = True) -> list[str]:
    """The ``{{ ... }}`` expressions starting on ``line`` (that apply a number filter, with
    ``number_filtered``), as written; read with Jinja's own lexer, so that a brace in a string
    or a comment is not taken for one."""
    found, tokens, start, piped = [], None, 0, False
    try:
        for lineno, kind, value in _env(templates).lex(source):
            if kind == "variable_begin":
                tokens, start, piped, filtered = [], lineno, False, False
            elif kind == "variable_end" and tokens is not None:
                if start == line and (filtered or not number_filtered):
                    found.append(" ".join("".join(tokens).split()))
                tokens = None
            elif tokens is not None:
                tokens.append(value)
                if kind != "whitespace":
                    filtered = filtered or (piped and kind == "name" and value in NUMBER_FILTERS)
                    piped = kind == "operator" and value == "|"
    except jinja2.TemplateSyntaxError:
        return []
    return found


def no_value(exc: NoValue, template: str, templates: Path) -> TemplateError:
    """A figure with no value given to a number filter, with the expressions that give one on
    the template line it was raised on: which figure it was (a value that is not there carries
    no name of its own), or the few it may have been; and, when that line is in a macro or part
    another template called, the line that called it."""
    frames = list(dict.fromkeys(template_frames(exc, templates))) or [(template, 0)]  # each line once
    name, line = frames[-1]
    said = []
    for where, at in reversed(frames):
        innermost = (where, at) == (name, line)
        try:
            text = template_file(where, templates).read_text(encoding="utf-8") if at else ""
        except (OSError, UnicodeDecodeError):
            text = ""
        shown = _expressions(text, at, templates, number_filtered=innermost) if text else []
        if innermost and shown:
            said.append(f"in `{shown[0]}`" if len(shown) == 1 else "in one of " + ", ".join(f"`{x}`" for x in shown))
        elif not innermost and len(said) < 2:
            said.append(f"called from {where}:{at}" + (f" in `{shown[0]}`" if len(shown) == 1 else ""))
    message = str(exc).replace(" (expected", f", {', '.join(said)} (expected", 1) if said else str(exc)
    return TemplateError(name, line, message, templates)


def _no_template(source: SourceMap, kind: str, template: str, templates: Path) -> InputError:
    return source.error(("templates", kind), f"no template {shown(template)} in {templates} (expected one of: "
                                             f"{', '.join(template_names(templates, kind))})")


def missing_templates(deal_dir: Path, templates: Path = TEMPLATES) -> list[InputError]:
    """The layouts a deal file names that ``templates`` lacks, to tell beside the other problems
    of a run that stopped before rendering (nothing, if the deal file itself does not load)."""
    from .load import load_deal

    try:
        loaded = load_deal(deal_dir)
    except InputErrors:
        return []
    return [_no_template(loaded.source, kind, name, templates) for kind, name in loaded.value.templates.items()
            if name and not template_file(name, templates).is_file()]


#: What a template's own mistake raises while it renders (a bug in a template or in what the
#: statement gives it, a macro calling itself without end): an error naming its line, never a
#: traceback.
TEMPLATE_FAULTS = (jinja2.TemplateError, ArithmeticError, ValueError, TypeError, KeyError, RecursionError)


def render_with(template: str, computed: Computed, templates: Path = TEMPLATES) -> str:
    def error(exc: BaseException, message: str) -> TemplateError:
        return TemplateError(*template_line(exc, template, templates), message, templates)

    try:
        return render_template(template, computed.statement, computed.deal, templates, computed.revision,
                               Later(computed.previous_statement))
    except ColumnOverflow as exc:
        raise error(exc, str(exc)) from None
    except NoValue as exc:
        raise no_value(exc, template, templates) from None
    except jinja2.TemplateNotFound as exc:
        named = [k for k, v in computed.deal.templates.items() if v == template]
        if exc.name != template or not named:  # an include of the template itself is missing
            raise error(exc, f"no template {exc.name!r} to include") from None
        raise InputErrors([_no_template(computed.deal_source, named[0], template, templates)]) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.name or template, exc.lineno or 0, exc.message or str(exc), templates) from None
    except jinja2.UndefinedError as exc:
        missing = _missing_section(computed, template, exc) or _unreported(computed, template, exc)
        if missing:
            raise missing from None
        raise error(exc, f"{type(exc).__name__}: {exc}") from None
    except TEMPLATE_FAULTS as exc:
        # a bug in a template or in what the statement gives it: still an error, not a traceback
        raise error(exc, f"{type(exc).__name__}: {exc}") from None


def text(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    name = computed.deal.templates.get("text")
    if not name:
        raise InputErrors([computed.deal_source.error(
            ("templates",), f"no text template is named (expected text: NAME, one of: "
                            f"{', '.join(template_names(templates, 'text'))})")])
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


def xlsx(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    """The statement's tables as an Excel workbook (generator.spreadsheet)."""
    from . import spreadsheet

    deal = computed.deal
    return spreadsheet.xlsx(computed.statement, f"{deal.trust} {deal.series}: statement to {deal.securities[:-1]}holders",
                            computed.revision)


def csv(computed: Computed, templates: Path = TEMPLATES) -> bytes:
    """Every figure of the statement's tables, one CSV line each (generator.spreadsheet)."""
    from . import spreadsheet

    return spreadsheet.long_csv(computed.statement, computed.revision)


register("html", "html", html)
register("pdf", "pdf", pdf)
register("xlsx", "xlsx", xlsx)
register("csv", "csv", csv)
