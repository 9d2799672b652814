"""The ``remit`` command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import formats as fmt
from .model import FIRST_DATE, LAST_DATE, printable_line
from .output import AlreadyPublished, OutputError, locked, write_all_atomic, write_atomic
from .pipeline import ReconciliationError, month_runs, run
from .publish import PublishRefused, plan_all, write
from .source import InputError, InputErrors

if TYPE_CHECKING:  # the month end is imported where it runs
    from .batch import BatchResult


def _report(exc: Exception, as_json: bool, writes: bool = True) -> None:
    """An expected failure on stderr; ``writes``: the command writes files, and none were."""
    items, lines = _told(exc)
    if as_json:
        click.echo(json.dumps({"errors": items}, indent=2), err=True)
    else:
        for line in lines:
            click.echo(line, err=True)
        n = len(lines)
        click.echo(f"{n} error{'s' if n != 1 else ''}{'; nothing written' if writes else ''}", err=True)


def _told(exc: Exception) -> tuple[list[dict], list[str]]:
    """An expected failure as error records (``--errors json``) and as lines."""
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
        items = [{"file": exc.file, "line": exc.line, "field": "", "message": exc.message}]
        lines = [str(exc)]
    elif isinstance(exc, (OutputError, AlreadyPublished)):
        items = [{"file": str(exc.path), "line": 0, "field": "", "message": str(exc).split(": ", 1)[1]}]
        lines = [str(exc)]
    else:  # pragma: no cover
        raise exc
    return items, lines


def _bad_figure(message: str, as_json: bool) -> NoReturn:
    """A FIGURE remit explain does not know: a usage error (exit 2), as an error record with
    --errors json."""
    if not as_json:
        raise click.BadParameter(message, param_hint="FIGURE")
    click.echo(json.dumps({"errors": [{"file": "", "line": 0, "field": "FIGURE", "message": message}]}, indent=2),
               err=True)
    sys.exit(2)


_EXPECTED = (InputErrors, ReconciliationError, fmt.TemplateError, PublishRefused, OutputError, AlreadyPublished)

#: Longest reason a revision may give: it is printed on one line of the statement.
MAX_REASON = 200


def _reason(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A revision's reason is printed on the statement: one line of printable text, not too long."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("the reason is empty (expected the words printed on the revised statement)")
    problem = printable_line(value)
    if problem:
        raise click.BadParameter(problem.replace("text ", "the reason ", 1))
    if len(value) > MAX_REASON:
        raise click.BadParameter(f"the reason is {len(value):,} characters (expected at most {MAX_REASON}, "
                                 "printed on one line of the statement)")
    return value

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def period_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --period as written: YYYY-MM, a range YYYY-MM..YYYY-MM, all or latest; anything else is a
    usage error (exit 2) before any file is read."""
    if value is None or value in ("all", "latest"):
        return value
    first, dots, last = value.partition("..")
    if _MONTH.fullmatch(first) and (not dots or (_MONTH.fullmatch(last) and first <= last)):
        months = (first, last) if dots else (first,)
        if all(f"{FIRST_DATE:%Y-%m}" <= m <= f"{LAST_DATE:%Y-%m}" for m in months):
            return value
        raise click.BadParameter(f"{value!r} is outside the years remit takes (expected months from "
                                 f"{FIRST_DATE:%Y-%m} to {LAST_DATE:%Y-%m})")
    raise click.BadParameter(f"{value!r} is not a period (expected YYYY-MM, a range YYYY-MM..YYYY-MM from an "
                             "earlier month to a later one, all, or latest)")


period_option = click.option("--period", "-p", required=True, callback=period_spec,
                             help="YYYY-MM, a range YYYY-MM..YYYY-MM, 'all' or 'latest'.")
errors_option = click.option("--errors", "errors_as", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="How to print input errors.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="remit", prog_name="remit", message="%(prog)s %(version)s")
def main() -> None:
    """Statements to certificateholders from deal and servicer data."""


class OutDir(click.Path):
    """A directory to write into.  An empty name is refused: it would be the current directory."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("the name is empty (expected a directory to write into)", param, ctx)
        return super().convert(value, param, ctx)


templates_option = click.option(
    "--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
    help="A folder of the book's own templates, read before the project's templates/ (which has "
         "what it lacks).  [default: the project's templates/ alone]")


@main.command()
@click.argument("deal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@period_option
@click.option("--format", "-f", "formats", multiple=True, default=("text",), show_default=True,
              type=click.Choice(list(fmt.FORMATS)), help="Output format; repeat for several.")
@click.option("--out", "-o", type=OutDir(file_okay=False, path_type=Path), required=True,
              help="Directory the statements are written to.")
@templates_option
@click.option("--revise", metavar="REASON", callback=_reason,
              help=f"Publish a revision of statements already in --out, marked REVISED with REASON "
                   f"(one line, at most {MAX_REASON} characters).")
@errors_option
def render(deal_dir: Path, period: str, formats: tuple[str, ...], out: Path, templates: Path | None,
           revise: str | None, errors_as: str) -> None:
    """Render the statements of DEAL_DIR for --period into --out.

    A statement already in --out is published: a file that would come out the same is left
    alone, and one that would change is refused unless --revise gives the reason for a
    revision (written beside the original as <name>.rev<N>.<ext>)."""
    try:
        computed = _run_telling_templates(deal_dir, period, templates, errors_as == "json")
        # what is published is decided and written by one remit at a time; a revision made
        # while another remit publishes there is refused, not made against what that one wrote
        with locked(out, wait=revise is None):
            # everything is rendered before anything is written
            outputs = plan_all(computed, formats, out, revise, templates or fmt.TEMPLATES)
            write(outputs)
    except _EXPECTED as exc:
        _report(exc, errors_as == "json")
        sys.exit(1)
    for o in outputs:
        click.echo(f"{o.path}" if o.status == "new" else f"{o.path} ({o.status})")


#: The most worker processes a month end starts: each holds a Python process and its imports
#: (about 65 MiB); thousands would exhaust the machine before rendering a deal.
MAX_JOBS = 256


@main.command()
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=(Path("inputs"),), show_default=True,
              help="Directory of deal directories; repeat for several.")
@click.option("--period", "-p", default="latest", show_default=True, callback=period_spec,
              help="YYYY-MM (every deal must have it), a range, 'all', or 'latest' (each deal's last).")
@click.option("--format", "-f", "formats", multiple=True, default=("text",), show_default=True,
              type=click.Choice(list(fmt.FORMATS)), help="Output format; repeat for several.")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help=f"Worker processes, at most {MAX_JOBS} and no more than there are deals  "
                   "[default: the number of CPUs]")
@click.option("--out", "-o", type=OutDir(file_okay=False, path_type=Path), required=True,
              help="Directory the statements and manifest.json are written to.")
@click.option("--factor-file", "factor_file", is_flag=True,
              help="Also write factors.csv: one line per class of every deal (README, 'The factor file').")
@templates_option
def batch(roots: tuple[Path, ...], period: str, formats: tuple[str, ...], jobs: int | None, out: Path,
          factor_file: bool, templates: Path | None) -> None:
    """Render every deal under --root in parallel, then write a manifest of every file.

    A deal that fails is listed with its errors and the others go on; the exit status is 1
    if any failed.  Ctrl-C finishes the deals in hand and stops without a manifest."""
    from . import batch as month_end

    deals = month_end.find_deals(roots)
    if not deals:
        click.echo(f"no deal directories (with a deal.yaml) under {', '.join(map(str, roots))}", err=True)
        sys.exit(1)
    for deal in deals:  # as render and check warn of them: a month a misnamed file was meant for is not run
        _warn_unread(deal)
    jobs = min(jobs or month_end.default_jobs(), len(deals))  # a worker with no deal to render is not started
    result = manifest = factors = None
    try:
        with locked(out):  # one month end (or render) publishes into a directory at a time
            earlier_factors = month_end.retire_manifest(out)
            label = f"Rendering {len(deals)} deal{'s' if len(deals) != 1 else ''}"
            with click.progressbar(length=len(deals), label=label, file=sys.stderr, show_pos=True,
                                   show_eta=False) as bar:
                result = month_end.run_batch(deals, period, formats, out, jobs, progress=lambda _: bar.update(1),
                                             templates=(templates or fmt.TEMPLATES).resolve())
            factors = month_end.write_factor_file(result, out, period, earlier_factors) if factor_file else None
            manifest = month_end.write_manifest(result, roots, period, formats, out,
                                                also=[factors] if factors else [])
    except month_end.Interrupted as exc:
        click.echo(f"\ninterrupted: {len(exc.result.outcomes)} of {exc.total} deals done (their files are "
                   "complete); no manifest written", err=True)
        sys.exit(130)
    except OutputError as exc:
        if result is None:  # nothing was rendered
            click.echo(f"{exc}; no manifest written", err=True)
            sys.exit(1)
        # the deals are done and their statements published: say what they did, then what failed
        _batch_summary(result, out, jobs)
        click.echo(f"{exc}; {'no manifest written' if manifest is None else f'manifest: {manifest}'}", err=True)
        sys.exit(1)
    failed = _batch_summary(result, out, jobs)
    click.echo(f"manifest: {manifest}")
    if factors is not None:
        kept = [o.deal for o in result.failures if o.factors]
        click.echo(f"factor file: {out / factors.path}" + (
            f" (failed, listed as published: {', '.join(kept)})" if kept else ""))
    if failed:
        sys.exit(1)


def _batch_summary(result: BatchResult, out: Path, jobs: int) -> int:
    """Each failed deal with its errors, then the run's totals; the number of failures."""
    for o in result.failures:
        click.echo(f"FAILED {o.deal}", err=True)
        for line in o.errors:
            click.echo(f"  {line}", err=True)
    files = result.files
    new = sum(1 for w in files if w.status != "unchanged")
    peak = max(result.peak_rss_kib().values(), default=0) / 1024
    rate = result.statements / result.seconds if result.seconds else 0.0
    failed = len(result.failures)
    click.echo(f"{_count(len(result.outcomes), 'deal')}, {_count(result.statements, 'statement')}, "
               f"{_count(len(files), 'file')} ({new} written, {len(files) - new} unchanged) in {out}; {failed} failed; "
               f"{result.seconds:.1f} s ({rate:.1f} statements/s, {_count(jobs, 'job')}, "
               f"peak {peak:.0f} MiB per worker)")
    return failed


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _warn_unread(deal_dir: Path) -> None:
    """Warn of each YAML file in the deal's periods/ that no period reads (a 2029-02.yml)."""
    from .load import unread_period_files

    for name in unread_period_files(deal_dir):
        path = str(Path(deal_dir) / "periods" / name)
        click.echo(f"warning: {path if path.isprintable() else repr(path)}: not read: no period file has this "
                   "name (expected YYYY-MM.yaml, such as 2002-05.yaml)", err=True)


def _run_telling_templates(deal_dir: Path, period: str, templates: Path | None, as_json: bool = False) -> list[Any]:
    """:func:`run`, its input errors told with the layouts the deal names that are missing (which
    rendering would find only once the rest is fixed); a YAML file in periods/ that no period
    reads is warned of first (in the text form of errors)."""
    if not as_json:
        _warn_unread(deal_dir)
    try:
        return run(deal_dir, period)
    except InputErrors as exc:
        raise InputErrors(exc.errors + fmt.missing_templates(deal_dir, templates or fmt.TEMPLATES)) from None


@main.command()
@click.argument("deal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@period_option
@templates_option
@errors_option
def check(deal_dir: Path, period: str, templates: Path | None, errors_as: str) -> None:
    """Validate and reconcile DEAL_DIR's statements for --period; write nothing.  A deal folder
    not named by its deal's id is told too, as remit batch refuses it at month end."""
    from .load import misnamed, misnamed_folder

    try:
        try:
            computed = _run_telling_templates(deal_dir, period, templates, errors_as == "json")
        except InputErrors as exc:
            raise InputErrors(exc.errors + misnamed_folder(deal_dir)) from None
        if computed and (wrong := misnamed(computed[0].deal, computed[0].deal_source, deal_dir)):
            raise InputErrors(wrong)
        for c in computed:
            fmt.text(c, templates or fmt.TEMPLATES)  # a value too wide for its column fails the check too
    except _EXPECTED as exc:
        _report(exc, errors_as == "json")
        sys.exit(1)
    for c in computed:
        s = c.statement
        click.echo(f"{s.deal_id} {s.period} ({s.distribution_date.isoformat()}): reconciled, "
                   f"{s.cash['distributed']:,.2f} distributed")


@main.command(short_help="Trace a figure of a statement back to its inputs.")
@click.argument("deal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("figure", required=False)
@click.option("--period", "-p", required=True, callback=period_spec, help="YYYY-MM (one statement).")
@click.option("--list", "list_figures", is_flag=True,
              help="List the figures this statement can explain (with FIGURE, those whose names start with it).")
@click.option("--format", "-f", "as_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The explanation (or --list's names) as text, or as JSON with exact decimals.")
@click.option("--loans", is_flag=True, help="List the loans of the servicer's tape behind each input intake wrote.")
@errors_option
def explain(deal_dir: Path, figure: str | None, period: str, list_figures: bool, as_format: str, loans: bool,
            errors_as: str) -> None:
    """Trace FIGURE (e.g. A.interest, credit_enhancement_pct) on DEAL_DIR's --period statement
    back to its inputs: the formula, each input with its value and file:line, each
    intermediate recomputed, and the result, checked equal to the statement's figure."""
    from .explain import Mismatch, UnknownFigure, explain as trace, figures

    if period in ("all", "latest") or ".." in period:
        raise click.BadParameter("explain takes one month, YYYY-MM", param_hint="--period")
    if not figure and not list_figures:
        raise click.UsageError("name a FIGURE (e.g. A.interest), or --list to see them")
    unreconciled: list[ReconciliationError] = []  # a statement that does not reconcile is explained, to find why
    try:
        [computed] = run(deal_dir, period, unreconciled=unreconciled)
    except _EXPECTED as exc:
        _report(exc, errors_as == "json", writes=False)
        sys.exit(1)
    if list_figures:
        names = figures(computed)
        if figure:  # --list A-1: the figures of class A-1
            names = [n for n in names if n.startswith(figure)]
            if not names:
                _bad_figure(f"no figure's name starts with {figure!r} (remit explain --list shows them all)",
                            errors_as == "json")
        click.echo(json.dumps(names, indent=2, ensure_ascii=False) if as_format == "json" else "\n".join(names))
        _tell_unreconciled(unreconciled, errors_as == "json")
        return
    try:
        explanation = trace(computed, figure)
    except UnknownFigure as exc:
        _bad_figure(str(exc), errors_as == "json")
    except Mismatch as exc:  # the engine and its audit trail disagree: a defect, never a statement
        click.echo(f"internal check failed: {exc}", err=True)
        sys.exit(1)
    from .load import period_path, written_by_intake

    traced = []
    header = written_by_intake(period_path(deal_dir, period))
    if loans and not header:
        click.echo(f"note: {period_path(deal_dir, period)} was not written by remit intake: it names no loans "
                   "(--loans lists those of a tape intake read)", err=True)
    if header:  # only then is the tape reader (polars) loaded
        from .intake import trace as trace_tape  # (trace, here, is explain's)

        period_file = str(computed.source.file)
        # a list's part (collections.liquidations[].proceeds) is traced as named, the rest by field
        fields = [i.name if i.name.startswith(i.field + "[") else i.field for i in explanation.inputs
                  if i.where.rpartition(":")[0] == period_file]
        try:
            traced = trace_tape(deal_dir, period, fields, header)
        except _EXPECTED as exc:
            _report(exc, errors_as == "json", writes=False)
            sys.exit(1)
    if as_format == "json":
        doc = explanation.as_dict()
        if traced:
            doc["tape"] = [{"field": t.field, "tape": t.tape, "rule": t.rule,
                            **({"loans": [{"loan": n, "row": r, "value": v} for n, r, v in t.loans]} if loans else {})}
                           for t in traced]
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        click.echo(explanation.render(), nl=False)
        if traced:
            lines = ["", f"From the servicer's tape ({traced[0].tape})"]
            for t in traced:
                lines += [f"  {t.field}", f"      {t.rule}"]
                if loans:
                    lines += [f"      {n}  row {r}" + (f"  {v}" if v else "") for n, r, v in t.loans]
            if not loans:
                lines.append("  (--loans lists them)")
            click.echo("\n".join(lines))
    _tell_unreconciled(unreconciled, errors_as == "json")


def _tell_unreconciled(failures: list[ReconciliationError], as_json: bool) -> None:
    """After an explanation of a statement that does not reconcile (or that follows one that
    does not): why, as --errors asks, and exit 1."""
    if not failures:
        return
    told = [_told(exc) for exc in failures]
    if as_json:
        click.echo(json.dumps({"errors": [item for items, _ in told for item in items]}, indent=2), err=True)
    else:
        click.echo("\n".join([line for _, lines in told for line in lines]
                             + ["(explained all the same, to find why: remit render and remit check refuse it)"]),
                   err=True)
    sys.exit(1)


golden_option = click.option("--golden", type=click.Path(file_okay=False, path_type=Path), default=Path("golden"),
                             show_default=True, help="Directory of approved outputs.")


roots_option = click.option("--root", "roots", multiple=True,
                            type=click.Path(exists=True, file_okay=False, path_type=Path), default=(Path("inputs"),),
                            show_default=True, help="Directory of deal directories; repeat for several.")


@main.command()
@roots_option
@click.option("--golden", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("golden"),
              show_default=True, help="Directory of approved outputs (it must exist: a check of nothing is no pass).")
@templates_option
def diff(roots: tuple[Path, ...], golden: Path, templates: Path | None) -> None:
    """Re-render everything that has an approved file in --golden and show what changed.

    Exit status 0 when everything matches, 1 when anything differs (shown as a unified
    diff), cannot be rendered, or --golden holds no approved file."""
    from .golden import GoldenError, compare
    from .render import TEMPLATES

    try:
        differences = compare(roots, golden, templates or TEMPLATES)
        if not differences:
            raise GoldenError(f"{golden}: no approved files (expected the files remit approve writes; a check of "
                              "nothing is no pass)")
    except (GoldenError, *_EXPECTED) as exc:
        if isinstance(exc, GoldenError):
            click.echo(str(exc), err=True)
        else:
            _report(exc, False)
        sys.exit(1)
    changed = [d for d in differences if d.diff]
    for d in changed:
        click.echo("".join(d.diff), nl=False)
    click.echo(f"{len(differences)} approved files: {len(differences) - len(changed)} unchanged, "
               f"{len(changed)} changed" + (" (remit approve FILE to accept a change)" if changed else ""),
               err=bool(changed))
    if changed:
        sys.exit(1)


@main.command()
@click.argument("outputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@roots_option
@golden_option
@templates_option
def approve(outputs: tuple[Path, ...], roots: tuple[Path, ...], golden: Path, templates: Path | None) -> None:
    """Approve rendered OUTPUTS: copy them into --golden (a PDF as its text), where remit diff
    and the tests hold every later rendering to them.  Each must be a statement of a deal under
    --root, of a date it has a statement for, exactly as remit renders it now (with --templates,
    if it was rendered with them)."""
    from .golden import GoldenError, approval, golden_bytes, parse, statements
    from .render import TEMPLATES

    problems: list[str] = []
    approvals: dict[Path, tuple[Path, bytes, str]] = {}  # golden file -> the output, its bytes, its status
    for output in outputs:  # every output is checked before any is approved
        try:
            target, data, status = approval(output, golden)
        except GoldenError as exc:
            problems.append(str(exc))
            continue
        if target in approvals and approvals[target][1] != data:
            problems.append(f"{output}: approves {target}, as {approvals[target][0]} does, with other content "
                            "(expected one output for each approved file)")
        approvals.setdefault(target, (output, data, status))
    try:  # remit diff renders each approved file again: one that names no statement would stop it, and one
        # that is not what remit renders (edited, or rendered before its inputs changed) would fail it at once
        named = {output: (target, data) for target, (output, data, _) in approvals.items()}
        for output, computed, kind in statements(roots, [(output, parse(target.name))
                                                         for output, (target, _) in named.items()]):
            if golden_bytes(computed, kind, templates or TEMPLATES) != named[output][1]:
                problems.append(f"{output}: not what remit renders now for this statement (its inputs or templates "
                                "changed since it was rendered, or it was edited; expected the statement as "
                                "rendered: render it again, read it, and approve that)")
    except GoldenError as exc:
        problems += str(exc).splitlines()
    except _EXPECTED as exc:
        problems += _told(exc)[1]
    try:
        if not problems:  # every file approved, or none
            write_all_atomic([(target, data) for target, (_, data, status) in approvals.items() if status != "same"])
    except OutputError as exc:
        problems.append(str(exc))
    if problems:
        for p in problems:
            click.echo(p, err=True)
        click.echo("nothing approved", err=True)
        sys.exit(1)
    for target, (_, _, status) in approvals.items():
        click.echo(f"{target} ({status})")


def month_spec(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """One month, YYYY-MM; anything else is a usage error (exit 2)."""
    if not _MONTH.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a month (expected YYYY-MM)")
    return value


@main.command()
@click.argument("deal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--period", "-p", required=True, callback=month_spec, help="YYYY-MM: the distribution the tape is for.")
@click.argument("tape", type=click.Path(path_type=Path))
@click.option("--remittance", type=click.Path(path_type=Path), default=None,
              help="The servicer's remittance report (its totals, YAML): every total is tied to the tape.")
@errors_option
def intake(deal_dir: Path, period: str, tape: Path, remittance: Path | None, errors_as: str) -> None:
    """Read the servicer's loan-level TAPE for --period, tie it out loan by loan (and to the
    remittance report), and write DEAL_DIR/periods/YYYY-MM.yaml; nothing is written if any
    check fails."""
    from .intake import run_intake, write_period
    from .load import list_periods, period_path, written_by_intake

    target = period_path(deal_dir, period)
    before = target.read_bytes() if written_by_intake(target) else None  # intake's own (a hand-written one stays)
    try:
        result = run_intake(deal_dir, period, tape, remittance)
        path = write_period(deal_dir, result)
    except _EXPECTED as exc:
        _report(exc, errors_as == "json")
        sys.exit(1)
    groups = "".join(f", {g} {n:,}" for g, n in result.counts.items())
    click.echo(f"{path} ({result.tape.rows:,} loans{groups})")
    later = [k for k in list_periods(deal_dir) if k > period]
    if later and path.read_bytes() != before:
        click.echo(f"remit intake: warning: the period files of {month_runs(later)} start from the state this "
                   "month's statement leaves, which this file may have changed: run remit intake again for each of "
                   "them, in order (each ties its tape to the month before; their tapes are named in their headers)",
                   err=True)


@main.command()
@click.option("--out", "-o", type=OutDir(file_okay=False, path_type=Path), default=Path("schema"),
              show_default=True, help="Directory for deal.schema.json, period.schema.json, "
                                      "grouped-period.schema.json, servicer.schema.json and "
                                      "remittance.schema.json.")
@click.option("--record", "records", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              metavar="DEAL_DIR", help="Also write DEAL-ID.record.schema.json, the schema of that deal's figures "
                                       "records (repeatable).")
def schema(out: Path, records: tuple[Path, ...]) -> None:
    """Write JSON Schemas of the deal and period files (for editors' YAML validation); a deal with
    loan groups has its periods checked by grouped-period.schema.json; servicer.schema.json and
    remittance.schema.json describe a servicer's mapping and remittance report (remit intake).
    With --record, the schema of a deal's figures records (its .json files), for their readers."""
    from .intake import Remittance
    from .load import load_deal
    from .model import Deal, GroupedPeriod, Period
    from .record import DRAFT, record_schema
    from .tape import Mapping

    docs = []
    for name, model in (("deal", Deal), ("period", Period), ("grouped-period", GroupedPeriod),
                        ("servicer", Mapping), ("remittance", Remittance)):
        doc = model.model_json_schema(by_alias=True)
        doc["$schema"] = DRAFT
        doc["title"] = f"remit {name} file"
        docs.append((name, doc))
    errors: list[InputError] = []
    for deal_dir in records:
        try:
            loaded = load_deal(deal_dir)
        except InputErrors as exc:
            errors += exc.errors
            continue
        docs.append((f"{loaded.value.id}.record", record_schema(loaded.value, loaded.program)))
    if errors:
        _report(InputErrors(errors), False)
        sys.exit(1)
    for name, doc in docs:
        path = out / f"{name}.schema.json"
        try:
            write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode())
        except OutputError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        click.echo(str(path))


@main.command()
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("inputs"),
              show_default=True, help="Directory of deal directories.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@templates_option
def serve(root: Path, port: int, templates: Path | None) -> None:
    """Preview every deal's statements in a browser; pages reload when inputs or templates change."""
    from .serve import make_server

    try:
        server = make_server(root, port, templates or fmt.TEMPLATES)
    except OSError as exc:  # the port is taken (another preview?) or not ours to listen on
        click.echo(f"127.0.0.1:{port}: cannot listen ({exc.strerror or exc}; expected a free port, or --port 0 "
                   "for any)", err=True)
        sys.exit(1)
    click.echo(f"Previewing {root} at http://127.0.0.1:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":  # pragma: no cover
    main()
