"""Publishing statements: what has been published is never overwritten.

A statement's files in an output directory are its published versions:

* version 0, the original: ``<deal-id>_<date>.<ext>``;
* revision *n*: ``<deal-id>_<date>.rev<n>.<ext>``, marked REVISED with its reason, its
  date (``revised_on`` in the period file) and every figure it changed.

Each version also has its figures record, the ``.json`` file, written with whatever
formats were asked for: it is what a later revision compares figure by figure.

Rendering again is safe: a file whose bytes would not change is left alone, a format
not yet published is added to the latest version, and anything that would change a
published file is refused unless a revision is asked for with a reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, NoReturn, Sequence

from . import formats as fmt
from . import output
from .pipeline import Computed, output_name
from .view import GROUP_FIELDS
from .source import InputErrors, read_input
from .statement import Change, Revision, to_plain

RECORD = "json"  #: the format whose file is each version's figures record


class PublishRefused(Exception):
    """Rendering would change a published statement (or a revision was asked for wrongly)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Output:
    path: Path
    data: bytes
    status: str  # "new" (not there before), "unchanged" (same bytes), "revision"
    stem: str  # the statement it belongs to: its files are published as one set
    record: bool  # the figures record (named first)


def stem(computed: Computed) -> str:
    return output_name(computed.statement, "x")[:-2]


def version_name(stem_: str, version: int, ext: str) -> str:
    return f"{stem_}.{ext}" if version == 0 else f"{stem_}.rev{version}.{ext}"


def latest_version(out: Path, stem_: str) -> int | None:
    """The highest version of ``stem_`` with a file in ``out``, or None if none is published.

    Looks up the names a version can have rather than listing ``out``, so the cost does not
    grow with the number of files a month end leaves there."""
    exts = [ext for ext, _ in fmt.FORMATS.values()]

    def exists(version: int) -> bool:
        # a name taken by anything, a link to nothing included: read_published refuses what is no file
        return any(os.path.lexists(out / version_name(stem_, version, ext)) for ext in exts)

    if not exists(0):
        return None
    version = 0
    while exists(version + 1):
        version += 1
    return version


# ------------------------------------------------------------------ figures


def figures(record: dict[str, Any]) -> dict[str, str]:
    """A statement's figures record flattened to ``name -> value``, named as ``remit explain``
    names them (``A.interest``, ``pool.ending_balance``, ``oc.target``).  The reconciliation
    checks and a revision's own mark are not figures."""
    out: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        else:
            out[prefix] = "" if value is None else str(value)

    for key, value in record.items():
        if key in ("checks", "revision"):
            continue
        if key == "classes":
            for c in value:
                walk(c["name"], {k: v for k, v in c.items() if k != "name"})
        elif key == "triggers":
            for t in value:
                walk(f"triggers.{t['name']}", {k: v for k, v in t.items() if k != "name"})
        elif key == "waterfall":
            seen: dict[str, int] = {}
            for step in value:
                label = f"waterfall.{step['section']}: {step['description']}"
                seen[label] = seen.get(label, 0) + 1
                if seen[label] > 1:
                    label += f" #{seen[label]}"
                walk(label, {k: v for k, v in step.items() if k not in ("section", "description")})
        elif key == "extra":  # named as the figures themselves
            for c, terms in value.get("coupons", {}).items():
                walk(c, {k: terms[k] for k in ("accrual_days", "accreted") if k in terms})
                walk(f"{c}.coupon", {k: v for k, v in terms.items() if k not in ("accrual_days", "accreted")})
            for a, shown in value.get("accounts", {}).items():
                walk(f"accounts.{a}", {k: v for k, v in shown.items() if k != "label"})
            for group, shown in value.get("groups", {}).items():
                for k, name in GROUP_FIELDS:
                    walk(f"groups.{group}.{name}", shown[k])
            for hedge, shown in value.get("hedges", {}).items():
                kind, _, name = hedge.partition(" ")
                walk(f"{kind}s.{name}", {k: v for k, v in shown.items() if k != "counterparty"})
            for name, v in value.get("figures", {}).items():
                walk(name, v)
            if "determination_date" in value:
                walk("determination_date", value["determination_date"])
        else:
            walk(key, value)
    return out


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[Change, ...]:
    """Every figure whose value differs, in the new statement's order (figures only one side has
    are listed with an empty value on the other)."""
    a, b = figures(old), figures(new)
    names = list(b) + [k for k in a if k not in b]
    return tuple(Change(k, a.get(k, ""), b.get(k, "")) for k in names if a.get(k) != b.get(k))


def revision_from_record(record: dict[str, Any]) -> Revision | None:
    r = record.get("revision")
    if not r:
        return None
    return Revision(number=int(r["number"]), reason=r["reason"], date=dt.date.fromisoformat(r["date"]),
                    supersedes=r["supersedes"],
                    changes=tuple(Change(c["figure"], c["old"], c["new"]) for c in r["changes"]))


# ------------------------------------------------------------------ planning


def _render(computed: Computed, name: str, templates: Path) -> bytes:
    ext, fn = fmt.FORMATS[name]
    return fn(computed, templates)


def _formats(requested: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*requested, RECORD]))


def _shown(changes_: Iterable[Change], limit: int = 12) -> list[str]:
    items = list(changes_)
    lines = [f"  {c.figure}: {' -> '.join(c.shown())}" for c in items[:limit]]
    if len(items) > limit:
        lines.append(f"  ... and {len(items) - limit} more")
    return lines


def _output(out: Path, base: str, version: int, name: str, data: bytes, status: str) -> Output:
    return Output(out / version_name(base, version, fmt.FORMATS[name][0]), data, status, base, name == RECORD)


#: The most a published file may hold when it is read back to be compared (a PDF is the largest).
MAX_PUBLISHED_BYTES = 64 * 1024 * 1024
RESTORE = "restore it from the archive of what was published, or publish into another directory"


def read_published(path: Path, what: str = "published file") -> bytes | None:
    """The bytes of a published file, or None when there is none.  Read as inputs are
    (:func:`generator.source.read_input`): a FIFO or device named like a published file is
    refused, never opened for reading, so it cannot hang the run."""
    if not os.path.lexists(path):
        return None
    refused = f"{path}: the {what} cannot be compared with what would be published now: it"
    if not os.path.exists(path):
        raise PublishRefused([f"{refused} is a link to {os.readlink(path)}, which is not there ({RESTORE})"])
    try:
        return read_input(path, limit=MAX_PUBLISHED_BYTES, what=f"a {what}")
    except InputErrors as exc:
        raise PublishRefused([f"{refused} {e.message} ({RESTORE})" for e in exc.errors]) from None


def read_record(path: Path) -> dict[str, Any]:
    """The figures record of a published version.  Without it nothing can be compared, so a
    missing or unreadable record is refused, never taken for "no change"."""
    data = read_published(path, "figures record of a published statement")
    if data is None:
        raise PublishRefused([f"{path}: the figures record of this published statement is missing, so what was "
                              f"published cannot be compared with what would be published now ({RESTORE})"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PublishRefused([f"{path}: the figures record of this published statement cannot be read "
                              f"({exc}; {RESTORE})"]) from None
    try:
        record = json.loads(text)
        if not isinstance(record, dict) or "classes" not in record:
            raise ValueError("not a statement's figures")
        revision_from_record(record)
    except (ValueError, KeyError, TypeError) as exc:
        raise PublishRefused([f"{path}: the figures record of this published statement is damaged ({exc}; "
                              f"{RESTORE})"]) from None
    return record


def plan(computed: Computed, requested: Sequence[str], out: Path, revise: str | None = None,
         templates: Path = fmt.TEMPLATES) -> list[Output]:
    """The files to write for one statement, checked against what ``out`` has published.

    A file that would come out the same is ``unchanged``; a format not yet published joins the
    published version only when the statement's figures are those of its record.  Raises
    :class:`PublishRefused` when a published file would change without ``revise`` (or the
    published record is missing or damaged), and :class:`InputErrors` when a revision lacks its
    date in the period file."""
    names = _formats(requested)
    base = stem(computed)
    latest = latest_version(out, base)
    if latest is None:
        if revise is not None:
            raise PublishRefused([f"{out / base}: nothing is published to revise; render it without --revise first"])
        return [_output(out, base, 0, n, _render(computed, n, templates), "new") for n in names]

    record = read_record(out / version_name(base, latest, fmt.FORMATS[RECORD][0]))
    current = dataclasses.replace(computed, revision=revision_from_record(record))

    # the latest version as these inputs and templates render it, next to what was published
    planned: list[Output] = []
    differs: list[Path] = []
    for n in names:
        output = _output(out, base, latest, n, _render(current, n, templates), "new")
        published = read_published(output.path)
        if published is None:
            planned.append(output)
        elif published == output.data:
            planned.append(dataclasses.replace(output, status="unchanged"))
        else:
            differs.append(output.path)
    record_differs = not any(o.record for o in planned)
    if not differs and revise is None:
        return planned
    # figure by figure, what the published record holds against this statement's (the record
    # is the statement's JSON, so its data is the statement's plain form)
    changed = changes(record, to_plain(computed.statement))
    if revise is None:
        what = (["figures that would change, as published -> as rendered now:", *_shown(changed)] if changed
                else ["no figure changes, but the rendered file differs (a template or layout change)"])
        _refuse(differs, what, adding=[o.path for o in planned if o.status == "new"] if record_differs else [])
    return _revision(computed, current, names, out, base, latest, revise, changed, differs, templates)


def _revision(computed: Computed, current: Computed, names: list[str], out: Path, base: str, latest: int,
              revise: str, changed: tuple[Change, ...], differs: list[Path], templates: Path) -> list[Output]:
    """The files of revision ``latest + 1``, marked with its reason, date and changes."""
    reason = revise.strip()
    if not reason:
        raise PublishRefused([f"{out / base}: --revise needs a reason, the words printed on the revised statement"])
    if not differs:
        raise PublishRefused([f"{out / base}: nothing to revise: every requested file is the same as published"])
    revised_on = computed.period.revised_on
    if revised_on is None:
        raise InputErrors([computed.source.error(("revised_on",),
                                                 "a revision needs the date it is made (expected revised_on: "
                                                 "YYYY-MM-DD in the period file)")])
    if current.revision and revised_on < current.revision.date:
        raise InputErrors([computed.source.error(("revised_on",),
                                                 f"{revised_on.isoformat()} is before revision {latest}'s date "
                                                 f"{current.revision.date.isoformat()} (expected a later date)")])
    revision = Revision(number=latest + 1, reason=reason, date=revised_on,
                        supersedes=base if latest == 0 else f"{base}.rev{latest}", changes=changed)
    revised = dataclasses.replace(computed, revision=revision)
    # every format the statement was published in is revised, asked for or not: a workbook left
    # as published would keep the superseded figures, with no revised one beside it
    published = [n for n in fmt.FORMATS if n not in names and (out / version_name(base, latest, fmt.FORMATS[n][0])).exists()]
    return [_output(out, base, latest + 1, n, _render(revised, n, templates), "revision") for n in names + published]


def _refuse(differs: list[Path], what: list[str], adding: list[Path] = ()) -> NoReturn:
    files = ", ".join(str(p) for p in differs)
    lines = [f"{files}: already published with different content; refusing to overwrite"] if differs else []
    if adding:
        lines.append(f"{', '.join(str(p) for p in adding)}: refusing to add to a published statement whose figures "
                     "would change")
    raise PublishRefused(["\n".join([*lines, *what,
                                     '  (to publish a corrected statement: --revise "reason", with revised_on in '
                                     "the period file)"])])


def plan_all(computed: Sequence[Computed], requested: Sequence[str], out: Path,
             revise: str | None = None, templates: Path = fmt.TEMPLATES) -> list[Output]:
    """Plan every statement, collecting every refusal before raising any."""
    outputs: list[Output] = []
    problems: list[str] = []
    input_errors = []
    refused: list[Computed] = []
    for c in computed:
        try:
            outputs += plan(c, requested, out, revise, templates)
        except PublishRefused as exc:
            problems += exc.problems
            refused.append(c)
        except InputErrors as exc:
            input_errors += exc.errors
    if input_errors:
        raise InputErrors(input_errors)
    if len(refused) > 1:  # months rolled forward from a changed one: say where to look first
        first = refused[0]
        problems.append(f"{len(refused)} published statements would change; the earliest is {first.period.period}'s: "
                        f"look first at {first.source.file} (each later month starts where the one before it ended)")
    if problems:
        raise PublishRefused(problems)
    return outputs


def write(outputs: Sequence[Output]) -> None:
    """Publish what :func:`plan_all` planned: the new files of every statement planned, as one
    set (statement by statement, each one's figures record named first), never replacing a file.
    Raises :class:`generator.output.OutputError` or :class:`generator.output.AlreadyPublished`,
    with nothing written: a run of a deal's months is published whole or not at all."""
    sets: dict[str, list[Output]] = {}
    for o in outputs:
        if o.status != "unchanged":
            sets.setdefault(o.stem, []).append(o)
    output.publish([(o.path, o.data) for members in sets.values()
                    for o in sorted(members, key=lambda o: not o.record)])


__all__ = ["Output", "PublishRefused", "plan", "plan_all", "write", "read_record", "figures", "changes", "latest_version",
           "version_name", "RECORD"]
