"""Preview statements in a browser (``remit serve``), reloading them as their inputs change.

Routes, all read-only (the server never writes a file):

* ``/``                       every deal under the root: trust, series, latest distribution date,
                              with a filter box
* ``/<deal>/``                one deal's statements, with charts of its history (inline SVG)
* ``/<deal>/<period>``        the statement as a web page: a breadcrumb, the months before and
                              after, links to the other formats
* ``/<deal>/<period>.<ext>``  the statement as ``html``, ``txt``, ``pdf``, ``json``, ``xlsx`` or
                              ``csv``, named ``<deal-id>_<date>.<ext>`` (Content-Disposition)

* ``/__version?deal=<deal>``  a hash of the files a page depends on; served pages poll it
                              and reload when it changes

``HEAD`` is answered as ``GET`` without the body.  A request for a host other than
127.0.0.1 or localhost at the server's port is refused (421).

Bad inputs give a readable page (status 422) listing ``file:line: field: message``.
Unknown deals and periods give 404; a path that tries to leave the root gives 403, and an
input reached through a link that leaves the root is refused (422), never read.
"""

from __future__ import annotations

import hashlib
import html as _html
import json
import os
import re
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from . import formats as fmt
from . import html as page_html
from .chart import line_chart
from .engine import distribution_date_for
from .load import PERIOD, list_periods, load_deal, load_period, misnamed_folder, period_path
from .model import DEAL_ID
from .pipeline import Computed, ReconciliationError, output_name, run
from .render import TEMPLATES, template_folders
from .source import InputErrors, read_input

DEAL = re.compile(DEAL_ID)
TYPES = {
    "html": "text/html; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
FORMAT_OF_EXT = {"html": "html", "txt": "text", "json": "json", "pdf": "pdf", "xlsx": "xlsx", "csv": "csv"}
#: Formats a browser shows (named, if saved); the others are downloaded.
INLINE = ("html", "txt", "json", "pdf")

#: What the index shows for a deal whose deal file cannot be read (its own page lists why).
DEAL_FILE_ERRORS = "(its deal file has errors)"

#: (status, content type, body, other headers)
Response = tuple[int, str, bytes, dict[str, str]]


class Previewer:
    """Answers a request path with (status, content type, body); knows nothing of sockets."""

    def __init__(self, root: Path, templates: Path = TEMPLATES):
        self.root = Path(root).resolve()
        self.templates = Path(templates).resolve()
        self._printing = threading.Lock()  # one PDF printed at a time (WeasyPrint's fonts and layout)
        self._histories: dict[str, tuple[tuple, str | None]] = {}  # deal -> (its files' stats, what is wrong)
        self._names: dict[str, tuple[tuple, str | None]] = {}  # folder -> (its deal file's stat, why not read)

    # -------------------------------------------------------------- what is on disk

    def deals(self) -> list[str]:
        return [p.name for p in self._folders() if self._inside(p.name) and not self._misnamed(p)]

    def _folders(self) -> list[Path]:
        """Every deal folder under the root, a link that leaves it too (listed, never read)."""
        return sorted(p for p in self.root.iterdir()
                      if p.is_dir() and DEAL.fullmatch(p.name) and (p / "deal.yaml").is_file())

    def _misnamed(self, folder: Path) -> str | None:
        """Why a deal folder is not read because its deal file names another deal (a copy of a
        deal's folder, or a link to one, would list one deal twice), or None; read once for each
        state of its deal file."""
        try:
            st = (folder / "deal.yaml").stat()
            stat: tuple = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stat = ()
        known = self._names.get(folder.name)
        if known is None or known[0] != stat:
            wrong = misnamed_folder(folder, self.root)
            known = self._names[folder.name] = (stat, f"not read: {wrong[0].field}: {wrong[0].message}" if wrong
                                                else None)
        return known[1]

    def _not_deals(self) -> list[tuple[str, str]]:
        """Folders that look like a deal's (a deal file or a periods folder) but are not read as
        one, and why."""
        out = [(p.name, why) for p in self._folders() if self._inside(p.name) and (why := self._misnamed(p))]
        for p in sorted(self.root.iterdir()):
            if p.name.startswith(".") or not p.is_dir() or not ((p / "deal.yaml").exists() or (p / "periods").is_dir()):
                continue
            if not DEAL.fullmatch(p.name):
                out.append((p.name, "not read: a deal's folder is named by its id, in lower-case letters, digits and "
                                    "hyphens (expected a name such as new-century-2002-1)"))
            elif not (p / "deal.yaml").is_file():
                out.append((p.name, f"not read: no deal file (expected {p.name}/deal.yaml beside its periods/)"))
        return sorted(out)

    def _stats(self, deal: str) -> tuple:
        """What a deal's history is computed from, as the file system says: each input's name,
        modification time and size."""
        folder = self.root / deal
        out = []
        for path in (folder / "deal.yaml", *(period_path(folder, p) for p in list_periods(folder))):
            try:
                st = path.stat()
                out.append((path.name, st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((path.name,))
        return tuple(out)

    def history_problem(self, deal: str) -> str | None:
        """Why the deal's history cannot be computed (a period file with errors, a month missing,
        an opening that disagrees, a month that does not reconcile), or None; computed once for
        each state of its files."""
        stats = self._stats(deal)
        known = self._histories.get(deal)
        if known is not None and known[0] == stats:
            return known[1]
        try:
            run(self.root / deal, "latest", root=self.root)
            problem = None
        except InputErrors as exc:
            problem = _problems(exc)
        except ReconciliationError as exc:
            problem = f"{exc.period} does not reconcile"
        except Exception as exc:  # noqa: BLE001 (a bug in one deal's run must not take the index down with it)
            traceback.print_exc()
            problem = f"an internal error ({type(exc).__name__}; see the server's output)"
        self._histories[deal] = (stats, problem)
        return problem

    def version(self, deal: str | None = None) -> str:
        """A hash of every input and template file a page depends on (names and contents); for
        the index, every deal's and period file's name and the contents of what it shows (each
        deal file and its latest period's)."""
        h = hashlib.sha256()
        if deal is None:
            folders = [(self.root, ("*/deal.yaml", "*/periods/*.yaml"))]
            deals = self.deals()
            shown = {self.root / d / "deal.yaml" for d in deals} | {
                period_path(self.root / d, ps[-1]) for d in deals if (ps := list_periods(self.root / d))}
            for d in deals:  # whether each history can be computed: from every file of it
                h.update(repr(self._stats(d)).encode())
            h.update(repr(self._not_deals()).encode())
        else:
            folders = [(self.root / deal, ("**/*",))]
            folders += [(folder, ("**/*",)) for folder in template_folders(self.templates)]
            shown = None
        for folder, patterns in folders:
            for pattern in patterns:
                for path in sorted(folder.glob(pattern)):
                    if path.is_file():
                        h.update(str(path.relative_to(folder)).encode() + b"\0")
                        if shown is None or path in shown:
                            h.update(self._contents(path, folder) + b"\0")
        return h.hexdigest()[:16]

    def _contents(self, path: Path, folder: Path) -> bytes:
        """A file's bytes, read as inputs are (a regular file, not too large, not outside
        ``folder``); the refusal's words instead, so that fixing it reloads the page."""
        try:
            return read_input(path, root=folder)
        except InputErrors as exc:
            return str(exc).encode()

    # -------------------------------------------------------------- routing

    def handle(self, raw_path: str) -> Response:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]  # an encoded slash is no separator
        if any(".." in p.split("/") or "." in p.split("/") or "\\" in p or "\0" in p for p in parts):
            return self._page(HTTPStatus.FORBIDDEN, "Refused", "<p>No page has a <code>.</code> or <code>..</code> "
                              'step, a backslash or a NUL in its path. <a href="/">All deals</a></p>')
        if not self._inside(path):
            return self._page(HTTPStatus.FORBIDDEN, "Refused", '<p>That path leaves the preview root. '
                              '<a href="/">All deals</a></p>')
        if any("/" in p for p in parts):
            return self._not_found(path)
        if path == "/":
            return self.index()
        if len(parts) == 1 and parts[0] in self.deals():  # a deal's page is its folder: /deal/
            return 301, TYPES["txt"], b"", {"Location": f"/{parts[0]}/" + (f"?{url.query}" if url.query else "")}
        if path == "/__version":
            deal = parse_qs(url.query).get("deal", [None])[0]
            if deal is not None and deal not in self.deals():
                return self._not_found(path)
            return 200, "text/plain; charset=utf-8", self.version(deal).encode(), {}
        if len(parts) == 2 and parts[1] == "" and parts[0] in self.deals():
            return self.deal_page(parts[0])
        if len(parts) == 2 and parts[0] in self.deals():
            deal, name = parts
            period, dot, ext = name.partition(".")
            if PERIOD.fullmatch(period) and period in list_periods(self.root / deal) and (ext in TYPES or not dot):
                return self.statement(deal, period, ext)
        return self._not_found(path)

    def _inside(self, path: str) -> bool:
        try:
            target = (self.root / path.lstrip("/")).resolve()
        except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13): it leads nowhere
            return False
        return target == self.root or self.root in target.parents

    # -------------------------------------------------------------- pages

    def index(self) -> Response:
        rows = []
        for deal in self.deals():
            trust, series, latest, date = self._summary(deal)
            link = f'<a href="/{deal}/">{_html.escape(deal)}</a>'
            last = f'<a href="/{deal}/{latest}">{date}</a>' if latest else "none on file"
            problem = self.history_problem(deal) if latest and trust != DEAL_FILE_ERRORS else None
            if problem:
                last += f' <a class="bad" href="/{deal}/">its history cannot be computed: {_html.escape(problem)}</a>'
            search = _html.escape(" ".join((deal, trust, series, date)).lower())
            rows.append(f'<tr data-search="{search}"><th scope="row">{link}</th><td>{_html.escape(trust)}</td>'
                        f'<td>{_html.escape(series)}</td><td>{last}</td></tr>')
        for folder in self._folders():
            if not self._inside(folder.name):
                name = _html.escape(folder.name)
                rows.append(f'<tr data-search="{name.lower()}"><th scope="row">{name}</th><td colspan="3">its folder '
                            'is a link that leaves the preview root: not read</td></tr>')
        for name, why in self._not_deals():
            shown = _html.escape(name)
            rows.append(f'<tr data-search="{shown.lower()}"><th scope="row">{shown}</th><td colspan="3" class="bad">'
                        f'{_html.escape(why)}</td></tr>')
        if not rows:
            return self._page(200, "Statements", f"<p>No deals under {_html.escape(str(self.root))}.</p>",
                              poll="/__version")
        # the filter is shown by its script: without one, no box that does nothing
        body = ('<p id="filtering" hidden><label>Filter <input type="search" id="filter" '
                'placeholder="deal, trust, series or date" autocomplete="off"></label></p><div class="scroll"><table id="deals"><thead><tr>'
                '<th scope="col">Deal</th><th scope="col">Trust</th><th scope="col">Series</th>'
                f'<th scope="col">Latest distribution</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
                f'<p id="no-match" hidden>No deal matches the filter.</p><script>{FILTER_SCRIPT}</script>')
        return self._page(200, "Statements", body, poll="/__version")

    def _summary(self, deal: str) -> tuple[str, str, str | None, str]:
        """A deal's trust, series, latest period on file and its distribution date (as far as the
        files can be read: a deal with errors shows its id and the errors on its own page)."""
        periods = list_periods(self.root / deal)
        try:
            loaded = load_deal(self.root / deal, self.root).value
        except InputErrors:
            return (DEAL_FILE_ERRORS, "", periods[-1] if periods else None,
                    f"{periods[-1]}: not rendered" if periods else "")
        if not periods:
            return loaded.trust, loaded.series, None, ""
        try:
            period = load_period(self.root / deal, periods[-1], self.root, grouped=bool(loaded.groups)).value
            date = distribution_date_for(loaded, period).isoformat()
        except InputErrors:
            date = f"{periods[-1]}: its report has errors"
        return loaded.trust, loaded.series, periods[-1], date

    def deal_page(self, deal: str) -> Response:
        poll = f"/__version?deal={deal}"
        try:
            computed = run(self.root / deal, "all", root=self.root)
        except (InputErrors, ReconciliationError) as exc:
            on_file = "".join(f'<li><a href="/{deal}/{p}">{p}</a></li>' for p in list_periods(self.root / deal))
            return self._errors(deal, "history", exc, poll,
                                f'<section id="statements"><h2>Statements on file</h2><ul class="periods">'
                                f'{on_file}</ul></section>' if on_file else "")
        if not computed:
            return self._page(200, deal, "<p>No periods on file.</p>", poll=poll, version=self.version(deal))
        first = computed[0]
        rows = "".join(f'<tr><th scope="row"><a href="/{deal}/{c.period.period}">{c.period.period}</a></th>'
                       f'<td>{c.statement.distribution_date.isoformat()}</td>'
                       f'<td class="num">{c.statement.pool["ending_balance"]:,.2f}</td></tr>' for c in computed)
        body = (f'<nav class="crumbs"><a href="/">All deals</a> / {_html.escape(deal)}</nav>'
                f'<p>{_html.escape(first.deal.trust)}, Series {_html.escape(first.deal.series)}</p>'
                f'<section id="history"><h2>History</h2>{history_charts(computed)}</section>'
                '<section id="statements"><h2>Statements</h2><table><thead><tr><th scope="col">Period</th>'
                '<th scope="col">Distribution date</th><th scope="col" class="num">Ending pool balance</th></tr>'
                f'</thead><tbody>{rows}</tbody></table></section>')
        return self._page(200, deal, body, poll=poll, version=self.version(deal))

    def statement(self, deal: str, period: str, ext: str) -> Response:
        poll = f"/__version?deal={deal}"
        try:
            (computed,) = run(self.root / deal, period, root=self.root)
            if ext == "pdf":
                with self._printing:
                    data = page_html.pdf(computed, self.templates)
            elif ext:
                data = fmt.FORMATS[FORMAT_OF_EXT[ext]][1](computed, self.templates)
            else:
                data = page_html.page(computed, self.templates, self._live(deal, period, poll)).encode()
        except (InputErrors, ReconciliationError, fmt.TemplateError) as exc:
            return self._errors(deal, period, exc, poll)
        headers = {}
        if ext:  # a download is named as remit render names it
            name = output_name(computed.statement, ext)
            headers["Content-Disposition"] = f'{"inline" if ext in INLINE else "attachment"}; filename="{name}"'
        return 200, TYPES[ext or "html"], data, headers

    def _live(self, deal: str, period: str, poll: str) -> dict[str, str | None]:
        """The statement page's links: the index, the deal, the months either side, each format."""
        periods = list_periods(self.root / deal)
        at = periods.index(period)
        return {"version": self.version(deal), "poll": poll, "index": "/", "deal": f"/{deal}/", "deal_id": deal,
                "period": period, "prev": f"/{deal}/{periods[at - 1]}" if at > 0 else None,
                "next": f"/{deal}/{periods[at + 1]}" if at + 1 < len(periods) else None,
                **{k: f"/{deal}/{period}.{ext}" for k, ext in (("text", "txt"), ("pdf", "pdf"), ("json", "json"),
                                                               ("xlsx", "xlsx"), ("csv", "csv"))}}

    def _errors(self, deal: str, period: str, exc: Exception, poll: str, more: str = "") -> Response:
        if isinstance(exc, InputErrors):  # paths as the preview's root names them
            lines = [str(e).replace(str(self.root.parent) + os.sep, "") for e in exc.errors]
            what = "The inputs have errors"
        elif isinstance(exc, ReconciliationError):
            lines, what = str(exc).splitlines(), "The statement does not reconcile"
        else:
            lines, what = [str(exc)], "The template could not render the statement"
        items = "".join(f"<li><code>{_html.escape(line)}</code></li>" for line in lines)
        n = len(lines)
        crumbs = ('<nav class="crumbs"><a href="/">All deals</a> / '
                  + (_html.escape(deal) if period == "history" else f'<a href="/{deal}/">{_html.escape(deal)}</a>')
                  + "</nav>")
        body = (f'{crumbs}<p class="lead">{what} ({n} problem{"s" if n != 1 else ""}); fix the file and this page '
                f'reloads.</p><ul class="errors">{items}</ul>{more}')
        return self._page(HTTPStatus.UNPROCESSABLE_ENTITY, f"{deal} {period}: not rendered", body, poll=poll,
                          version=self.version(deal))

    def _not_found(self, path: str) -> Response:
        return self._page(HTTPStatus.NOT_FOUND, "Not found",
                          f'<p>No deal or period at <code>{_html.escape(path)}</code>. <a href="/">All deals</a></p>')

    def _page(self, status: int, title: str, body: str, poll: str | None = None, version: str | None = None) -> Response:
        script = ""
        if poll:
            seen = version if version is not None else self.version()
            script = (f"<script>(function(){{var seen={json.dumps(seen)},url={json.dumps(poll)};setInterval(function(){{"
                      "fetch(url,{cache:'no-store'}).then(function(r){return r.text();})"
                      ".then(function(v){if(v!==seen){location.reload();}}).catch(function(){});},700);})();</script>")
        doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_html.escape(title)}</title><style>
body {{ font: 15px/1.5 "Liberation Sans", Helvetica, Arial, sans-serif; color: #1b2430; max-width: 60rem;
       margin: 0 auto; padding: 1.5rem 1.25rem; }}
h1, h2 {{ color: #1f3a5f; }} a {{ color: #1f3a5f; }}
.periods {{ display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; list-style: none; padding: 0; }}
.errors {{ background: #fbeeee; border-left: 4px solid #a12222; padding: .75rem 1rem .75rem 2rem; }}
.errors code {{ white-space: pre-wrap; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .2rem .8rem .2rem 0; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(min(26rem, 100%), 1fr)); gap: 1.25rem; }}
.chart {{ width: 100%; height: auto; }} .chart-title {{ font-weight: bold; font-size: 15px; fill: #1f3a5f; }}
.axis, .legend {{ font-size: 13px; }} .axis {{ fill: #4a5566; }} .crumbs {{ margin-bottom: .5rem; }}
@media (max-width: 32rem) {{  /* a phone: a chart is drawn smaller than its 440 units, its words set larger */
  .chart-title {{ font-size: 17px; }} .axis, .legend {{ font-size: 15px; }} }}
.bad {{ color: #a12222; }}
.scroll {{ overflow-x: auto; }} #deals th, #deals td:nth-child(3), #deals td:nth-child(4) > a:first-child, .periods a {{ white-space: nowrap; }}
</style>{script}</head>
<body><h1>{_html.escape(title)}</h1>{body}</body></html>
"""
        return int(status), TYPES["html"], doc.encode(), {}


ALLOW = "GET, HEAD, OPTIONS"

#: The index's filter: rows holding every word typed (in any order), and a line when none does.
#: The words are kept in the address (#q=...), so a reload, a link or Back keeps them.
FILTER_SCRIPT = (
    "(function(){var box=document.getElementById('filter'),none=document.getElementById('no-match');"
    "document.getElementById('filtering').hidden=false;"
    "function show(){var words=box.value.toLowerCase().split(/\\s+/).filter(Boolean),seen=0;"
    "document.querySelectorAll('#deals tbody tr').forEach(function(r){r.hidden=!words.every(function(w){"
    "return r.dataset.search.indexOf(w)>=0;});if(!r.hidden){seen++;}});none.hidden=seen>0;}"
    "function typed(){show();history.replaceState(null,'',box.value?'#q='+encodeURIComponent(box.value):"
    "location.pathname);}"
    "function fromAddress(){var m=location.hash.match(/^#q=(.*)$/),q='';if(m){try{q=decodeURIComponent(m[1]);}"
    "catch(e){q=m[1];}}box.value=q;show();}"
    "fromAddress();box.addEventListener('input',typed);window.addEventListener('hashchange',fromAddress);})();")


def _problems(exc: InputErrors) -> str:
    """A line for the index: how many problems, and in which of the deal's files."""
    files = list(dict.fromkeys(Path(e.file).name for e in exc.errors))
    n = len(exc.errors)
    where = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return f"{n} problem{'s' if n != 1 else ''} ({where})"


def _handler(previewer: Previewer, quiet: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "remit-preview"
        timeout = 60  # an idle connection is closed after a minute
        # every answer has a status line and headers: a request line without a version (garbage,
        # HTTP/0.9's "GET /") or one naming HTTP/0.9 is answered as HTTP/1.0, not with a bare body
        default_request_version = _version = "HTTP/1.0"

        @property
        def request_version(self) -> str:
            return self._version

        @request_version.setter
        def request_version(self, version: str) -> None:
            self._version = "HTTP/1.0" if version == "HTTP/0.9" else version

        def parse_request(self) -> bool:
            """The request line and headers read, and addressed to this preview: a request for any
            other host name (a page elsewhere whose name was pointed at 127.0.0.1, to read the
            statements through the browser) is refused with 421."""
            if not super().parse_request():
                return False
            port = self.server.server_address[1]
            named = [n for n in (self.headers.get("Host"), urlsplit(self.path).netloc) if n]
            if all(n.lower() in (f"127.0.0.1:{port}", f"localhost:{port}") for n in named):
                return True
            self.close_connection = True
            self._reply(HTTPStatus.MISDIRECTED_REQUEST, TYPES["txt"],
                        f"this preview answers only for 127.0.0.1:{port} or localhost:{port}\n".encode(), {},
                        with_body=self.command != "HEAD")
            return False

        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            self._answer(with_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(with_body=False)

        def do_OPTIONS(self) -> None:  # noqa: N802
            self._reply(HTTPStatus.NO_CONTENT, TYPES["txt"], b"", {"Allow": ALLOW}, with_body=False)

        def _read_only(self) -> None:
            self._reply(HTTPStatus.METHOD_NOT_ALLOWED, TYPES["txt"], f"the preview is read-only: {ALLOW}\n".encode(),
                        {"Allow": ALLOW}, with_body=True)

        do_POST = do_PUT = do_DELETE = do_PATCH = _read_only  # noqa: N815

        def __getattr__(self, name: str):
            if name.startswith("do_"):  # any other method (TRACE, PROPFIND, ...): not allowed here either
                return self._read_only
            raise AttributeError(name)

        def _answer(self, with_body: bool) -> None:
            target = self.requestline.split(" ")[1] if self.requestline.count(" ") >= 1 else self.path
            if target.startswith("//"):  # http.server reads //deal/ as /deal/: one address for each page
                self._reply(HTTPStatus.MOVED_PERMANENTLY, TYPES["txt"], b"", {"Location": self.path}, with_body)
                return
            try:
                status, ctype, body, headers = previewer.handle(self.path)
            except Exception:  # a bug must not stop the preview
                traceback.print_exc()
                status, ctype, body, headers = 500, TYPES["txt"], b"internal error; see the server's output\n", {}
            self._reply(status, ctype, body, headers, with_body)

        def _reply(self, status: int, ctype: str, body: bytes, headers: dict[str, str], with_body: bool) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if with_body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the browser went away (a cancelled download)
                self.close_connection = True

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            if not quiet:
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up mid-request: nothing to tell
            return
        super().handle_error(request, client_address)


def make_server(root: Path, port: int = 8000, templates: Path = TEMPLATES, quiet: bool = False) -> ThreadingHTTPServer:
    """A preview server on 127.0.0.1 (port 0: any free port); call ``serve_forever()``."""
    server = _Server(("127.0.0.1", port), _handler(Previewer(root, templates), quiet))
    server.daemon_threads = True
    return server


def history_charts(computed: list[Computed]) -> str:
    """A deal's history: pool balance and factor, 60+ delinquency, cumulative losses against
    the loss trigger, OC against its target; each point a figure of a month's statement."""
    labels = [c.period.period for c in computed]
    statements = [c.statement for c in computed]

    def loss_threshold(s):
        tests = [t.threshold for t in s.triggers if "loss" in t.name.lower()]
        return tests[0] if tests else None

    charts = [
        line_chart("Pool balance", labels, [("ending pool balance", [s.pool["ending_balance"] for s in statements])],
                   chart_id="chart-pool"),
        line_chart("Pool factor", labels, [("pool factor", [c.run.values["pool.factor"] if c.run else None
                                                            for c in computed])], percent=True, chart_id="chart-factor"),
        line_chart("60+ days delinquent", labels, [("of the pool", [s.performance["delinquency_pct"]
                                                                    for s in statements])],
                   percent=True, chart_id="chart-delinquency"),
        line_chart("Cumulative losses", labels, [("of the cut-off balance", [s.losses["cumulative_pct"]
                                                                             for s in statements]),
                                                 ("loss trigger", [loss_threshold(s) for s in statements])],
                   percent=True, chart_id="chart-losses"),
        line_chart("Overcollateralization", labels, [("OC", [s.oc["ending"] for s in statements]),
                                                     ("target", [s.oc["target"] for s in statements])],
                   chart_id="chart-oc"),
    ]
    return f'<div class="charts">{"".join(charts)}</div>'


__all__ = ["Previewer", "make_server", "history_charts"]
