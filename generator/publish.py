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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, NoReturn, Sequence

from . import formats as fmt
from .pipeline import Computed, output_name
from .source import InputErrors
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
        return any((out / version_name(stem_, version, ext)).exists() for ext in exts)

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


def _render(computed: Computed, name: str) -> bytes:
    ext, fn = fmt.FORMATS[name]
    return fn(computed)


def _formats(requested: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*requested, RECORD]))


def _shown(changes_: Iterable[Change], limit: int = 12) -> list[str]:
    items = list(changes_)
    lines = [f"  {c.figure}: {' -> '.join(c.shown())}" for c in items[:limit]]
    if len(items) > limit:
        lines.append(f"  ... and {len(items) - limit} more")
    return lines


def plan(computed: Computed, requested: Sequence[str], out: Path, revise: str | None = None) -> list[Output]:
    """The files to write for one statement, checked against what ``out`` has published.

    Raises :class:`PublishRefused` when a published file would change without ``revise``,
    and :class:`InputErrors` when a revision lacks its date in the period file."""
    names = _formats(requested)
    base = stem(computed)
    latest = latest_version(out, base)
    if latest is None:
        if revise is not None:
            raise PublishRefused([f"{out / version_name(base, 0, 'txt')[:-4]}: nothing is published to revise; "
                                  "render it without --revise first"])
        return [Output(out / version_name(base, 0, fmt.FORMATS[n][0]), _render(computed, n), "new") for n in names]

    record_path = out / version_name(base, latest, fmt.FORMATS[RECORD][0])
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists() else None
    current = dataclasses.replace(computed, revision=revision_from_record(record) if record else None)

    # the latest version as these inputs and templates render it, next to what was published
    planned: list[Output] = []
    differs: list[Path] = []
    for n in names:
        path = out / version_name(base, latest, fmt.FORMATS[n][0])
        data = _render(current, n)
        if not path.exists():
            planned.append(Output(path, data, "new"))
        elif path.read_bytes() == data:
            planned.append(Output(path, data, "unchanged"))
        else:
            differs.append(path)

    if not differs and revise is None:
        return planned
    # figure by figure, what the published record holds against this statement's (the record
    # is the statement's JSON, so its data is the statement's plain form)
    changed = changes(record, to_plain(computed.statement)) if record is not None else ()
    if revise is None:
        what = (["figures that would change, as published -> as rendered now:", *_shown(changed)] if changed
                else ["no figure changes, but the rendered file differs (a template or layout change)"])
        _refuse(differs, what)

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
    earliest = current.revision.date if current.revision else computed.statement.record_date
    if revised_on < earliest:
        what = (f"revision {latest}'s date" if current.revision else "the statement's record date")
        raise InputErrors([computed.source.error(("revised_on",),
                                                 f"{revised_on.isoformat()} is before {what} "
                                                 f"{earliest.isoformat()} (expected a later date)")])
    revision = Revision(number=latest + 1, reason=reason, date=revised_on,
                        supersedes=base if latest == 0 else f"{base}.rev{latest}", changes=changed)
    revised = dataclasses.replace(computed, revision=revision)
    return [Output(out / version_name(base, latest + 1, fmt.FORMATS[n][0]), _render(revised, n), "revision")
            for n in names]


def _refuse(differs: list[Path], what: list[str]) -> NoReturn:
    files = ", ".join(str(p) for p in differs)
    raise PublishRefused(["\n".join([f"{files}: already published with different content; refusing to overwrite",
                                     *what,
                                     '  (to publish a corrected statement: --revise "reason", with revised_on in '
                                     "the period file)"])])


def plan_all(computed: Sequence[Computed], requested: Sequence[str], out: Path,
             revise: str | None = None) -> list[Output]:
    """Plan every statement, collecting every refusal before raising any."""
    outputs: list[Output] = []
    problems: list[str] = []
    input_errors = []
    for c in computed:
        try:
            outputs += plan(c, requested, out, revise)
        except PublishRefused as exc:
            problems += exc.problems
        except InputErrors as exc:
            input_errors += exc.errors
    if input_errors:
        raise InputErrors(input_errors)
    if problems:
        raise PublishRefused(problems)
    return outputs


__all__ = ["Output", "PublishRefused", "plan", "plan_all", "figures", "changes", "latest_version",
           "version_name", "RECORD"]
