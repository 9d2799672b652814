"""The ``remit`` command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import formats as fmt
from .pipeline import ReconciliationError, run, write_atomic
from .publish import PublishRefused, plan_all
from .source import InputErrors


def _report(exc: Exception, as_json: bool) -> None:
    if isinstance(exc, InputErrors):
        items = [e.as_dict() for e in exc.errors]
        lines = [str(e) for e in exc.errors]
    elif isinstance(exc, ReconciliationError):
        items = [{"file": exc.period, "line": 0, "field": "", "message": m} for m in exc.failures]
        lines = str(exc).splitlines()
    elif isinstance(exc, PublishRefused):
        items = [{"file": "", "line": 0, "field": "", "message": m} for m in exc.problems]
        lines = exc.problems
    elif isinstance(exc, fmt.TemplateError):
        items = [{"file": f"templates/{exc.template}", "line": exc.line, "field": "", "message": exc.message}]
        lines = [str(exc)]
    else:  # pragma: no cover
        raise exc
    if as_json:
        click.echo(json.dumps({"errors": items}, indent=2), err=True)
    else:
        for line in lines:
            click.echo(line, err=True)
        n = len(lines)
        click.echo(f"{n} error{'s' if n != 1 else ''}; nothing written", err=True)


_EXPECTED = (InputErrors, ReconciliationError, fmt.TemplateError, PublishRefused)

period_option = click.option("--period", "-p", required=True,
                             help="YYYY-MM, a range YYYY-MM..YYYY-MM, or 'all'.")
errors_option = click.option("--errors", "errors_as", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="How to print input errors.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Statements to certificateholders from deal and servicer data."""


@main.command()
@click.argument("deal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@period_option
@click.option("--format", "-f", "formats", multiple=True, default=("text",), show_default=True,
              type=click.Choice(list(fmt.FORMATS)), help="Output format; repeat for several.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory the statements are written to.")
@click.option("--revise", metavar="REASON",
              help="Publish a revision of statements already in --out, marked REVISED with REASON.")
@errors_option
def render(deal_dir: Path, period: str, formats: tuple[str, ...], out: Path, revise: str | None,
           errors_as: str) -> None:
    """Render the statements of DEAL_DIR for --period into --out.

    A statement already in --out is published: a file that would come out the same is left
    alone, and one that would change is refused unless --revise gives the reason for a
    revision (written beside the original as <name>.rev<N>.<ext>)."""
    try:
        computed = run(deal_dir, period)
        outputs = plan_all(computed, formats, out, revise)  # everything is rendered before anything is written
    except _EXPECTED as exc:
        _report(exc, errors_as == "json")
        sys.exit(1)
    for o in outputs:
        if o.status != "unchanged":
            write_atomic(o.path, o.data)
        click.echo(f"{o.path}" if o.status == "new" else f"{o.path} ({o.status})")


@main.command()
@click.argument("deal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@period_option
@errors_option
def check(deal_dir: Path, period: str, errors_as: str) -> None:
    """Validate and reconcile DEAL_DIR's statements for --period; write nothing."""
    try:
        computed = run(deal_dir, period)
        for c in computed:
            fmt.text(c)  # a value too wide for its column fails the check too
    except _EXPECTED as exc:
        _report(exc, errors_as == "json")
        sys.exit(1)
    for c in computed:
        s = c.statement
        click.echo(f"{s.deal_id} {s.period} ({s.distribution_date.isoformat()}): reconciled, "
                   f"{s.cash['distributed']:,.2f} distributed")


@main.command()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("schema"),
              show_default=True, help="Directory for deal.schema.json and period.schema.json.")
def schema(out: Path) -> None:
    """Write JSON Schemas of the deal and period files (for editors' YAML validation)."""
    from .model import Deal, Period

    for name, model in (("deal", Deal), ("period", Period)):
        doc = model.model_json_schema(by_alias=True)
        doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        doc["title"] = f"remit {name} file"
        path = out / f"{name}.schema.json"
        write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode())
        click.echo(str(path))


@main.command()
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("inputs"),
              show_default=True, help="Directory of deal directories.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
def serve(root: Path, port: int) -> None:
    """Preview every deal's statements in a browser; pages reload when inputs or templates change."""
    from .serve import make_server

    server = make_server(root, port)
    click.echo(f"Previewing {root} at http://127.0.0.1:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":  # pragma: no cover
    main()
