"""Preview statements in a browser (``remit serve``), reloading them as their inputs change.

Routes, all read-only (the server never writes a file):

* ``/``                       every deal under the root and its periods
* ``/<deal>/``                one deal's periods
* ``/<deal>/<period>``        the statement as a web page, with links to the other formats
* ``/<deal>/<period>.<ext>``  the statement as ``html``, ``txt``, ``pdf`` or ``json``
* ``/__version?deal=<deal>``  a hash of the files a page depends on; served pages poll it
                              and reload when it changes

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
from .load import list_periods
from .pipeline import ReconciliationError, run
from .render import TEMPLATES
from .source import InputErrors, read_input

DEAL = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
TYPES = {
    "html": "text/html; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
}
FORMAT_OF_EXT = {"html": "html", "txt": "text", "json": "json", "pdf": "pdf"}

Response = tuple[int, str, bytes]


class Previewer:
    """Answers a request path with (status, content type, body); knows nothing of sockets."""

    def __init__(self, root: Path, templates: Path = TEMPLATES):
        self.root = Path(root).resolve()
        self.templates = Path(templates).resolve()
        self._lock = threading.Lock()  # one statement computed at a time

    # -------------------------------------------------------------- what is on disk

    def deals(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and DEAL.match(p.name) and (p / "deal.yaml").is_file())

    def version(self, deal: str | None = None) -> str:
        """A hash of every input and template file a page depends on (names and contents)."""
        h = hashlib.sha256()
        if deal is None:
            folders = [(self.root, ("*/deal.yaml", "*/periods/*.yaml"))]
        else:
            folders = [(self.root / deal, ("**/*",)), (self.templates, ("**/*",))]
        for folder, patterns in folders:
            for pattern in patterns:
                for path in sorted(folder.glob(pattern)):
                    if path.is_file():
                        h.update(str(path.relative_to(folder)).encode() + b"\0")
                        if deal is not None:
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
        parts = path.split("/")[1:]
        if any(p in ("..", ".") or "\\" in p or "\0" in p for p in parts) or not self._inside(path):
            return self._page(HTTPStatus.FORBIDDEN, "Refused", "<p>That path leaves the preview root.</p>")
        if path == "/":
            return self.index()
        if path == "/__version":
            deal = parse_qs(url.query).get("deal", [None])[0]
            if deal is not None and deal not in self.deals():
                return self._not_found(path)
            return 200, "text/plain; charset=utf-8", self.version(deal).encode()
        if len(parts) == 2 and parts[1] == "" and parts[0] in self.deals():
            return self.index(parts[0])
        if len(parts) == 2 and parts[0] in self.deals():
            deal, name = parts
            period, _, ext = name.partition(".")
            if PERIOD.match(period) and period in list_periods(self.root / deal) and (not ext or ext in TYPES):
                return self.statement(deal, period, ext)
        return self._not_found(path)

    def _inside(self, path: str) -> bool:
        target = (self.root / path.lstrip("/")).resolve()
        return target == self.root or self.root in target.parents

    # -------------------------------------------------------------- pages

    def index(self, only: str | None = None) -> Response:
        items = []
        for deal in self.deals():
            if only and deal != only:
                continue
            periods = list_periods(self.root / deal)
            links = "".join(f'<li><a href="/{deal}/{p}">{p}</a></li>' for p in periods) or "<li>No periods on file</li>"
            items.append(f'<section><h2 id="{deal}"><a href="/{deal}/">{deal}</a></h2><ul class="periods">{links}</ul></section>')
        body = "".join(items) or f"<p>No deals under {_html.escape(str(self.root))}.</p>"
        return self._page(200, "Statements", body, poll="/__version")

    def statement(self, deal: str, period: str, ext: str) -> Response:
        poll = f"/__version?deal={deal}"
        with self._lock:
            try:
                (computed,) = run(self.root / deal, period, root=self.root)
                if ext == "pdf":
                    data = page_html.pdf(computed, self.templates)
                elif ext:
                    data = fmt.FORMATS[FORMAT_OF_EXT[ext]][1](computed, self.templates)
                else:
                    live = {"version": self.version(deal), "poll": poll, "index": f"/{deal}/",
                            "text": f"/{deal}/{period}.txt", "pdf": f"/{deal}/{period}.pdf",
                            "json": f"/{deal}/{period}.json"}
                    data = page_html.page(computed, self.templates, live).encode()
            except (InputErrors, ReconciliationError, fmt.TemplateError) as exc:
                return self._errors(deal, period, exc, poll)
        return 200, TYPES[ext or "html"], data

    def _errors(self, deal: str, period: str, exc: Exception, poll: str) -> Response:
        if isinstance(exc, InputErrors):
            lines = [str(e).replace(str(self.root.parent) + os.sep, "", 1) for e in exc.errors]
            what = "The inputs have errors"
        elif isinstance(exc, ReconciliationError):
            lines, what = str(exc).splitlines(), "The statement does not reconcile"
        else:
            lines, what = [str(exc)], "The template could not render the statement"
        items = "".join(f"<li><code>{_html.escape(line)}</code></li>" for line in lines)
        n = len(lines)
        body = (f'<p class="lead">{what} ({n} problem{"s" if n != 1 else ""}); fix the file and this page '
                f'reloads.</p><ul class="errors">{items}</ul><p><a href="/{deal}/">Back to {deal}</a></p>')
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
</style>{script}</head>
<body><h1>{_html.escape(title)}</h1>{body}</body></html>
"""
        return int(status), TYPES["html"], doc.encode()


def _handler(previewer: Previewer, quiet: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "remit-preview"

        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            try:
                status, ctype, body = previewer.handle(self.path)
            except Exception:  # a bug must not stop the preview
                traceback.print_exc()
                status, ctype, body = 500, TYPES["txt"], b"internal error; see the server's output\n"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            if not quiet:
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def make_server(root: Path, port: int = 8000, templates: Path = TEMPLATES, quiet: bool = False) -> ThreadingHTTPServer:
    """A preview server on 127.0.0.1 (port 0: any free port); call ``serve_forever()``."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(Previewer(root, templates), quiet))
    server.daemon_threads = True
    return server


__all__ = ["Previewer", "make_server"]
