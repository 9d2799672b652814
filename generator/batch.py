"""Month end: every deal under one or more roots, rendered by parallel worker processes.

Each deal is one task: run its periods, check what is already published, write its
files atomically.  A deal that fails is reported with its errors and never stops the
others.  When every deal is done, a manifest lists each file the run produced (or found
already published, unchanged) with its SHA-256; an interrupted run writes no manifest.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import resource
import signal
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Sequence

from .factors import FACTOR_FILE, as_published, factor_file
from .factors import rows as factor_rows
from .formats import TEMPLATES, TemplateError
from .output import AlreadyPublished, OutputError, write_atomic
from .load import deal_file_values, misnamed, misnamed_folder
from .pipeline import ReconciliationError, run
from .publish import PublishRefused, plan_all, read_published, write
from .source import InputErrors, load_yaml

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Written:
    path: str  # relative to the output directory
    sha256: str
    bytes: int
    status: str  # "new" or "unchanged"


@dataclass(frozen=True, slots=True)
class DealOutcome:
    deal: str  # the deal directory as given
    statements: int
    files: tuple[Written, ...]
    errors: tuple[str, ...]
    peak_rss_kib: int  # of the process that rendered it, so far
    pid: int
    factors: tuple[tuple[str, ...], ...] = ()  # its lines of the factor file (generator.factors); a
    # failed deal's: those of what an earlier run published, once the factor file is made

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class BatchResult:
    outcomes: list[DealOutcome] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1

    @property
    def failures(self) -> list[DealOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def statements(self) -> int:
        return sum(o.statements for o in self.outcomes if o.ok)

    @property
    def files(self) -> list[Written]:
        return sorted((w for o in self.outcomes for w in o.files), key=lambda w: w.path)

    def peak_rss_kib(self) -> dict[int, int]:
        """Peak resident memory of each process that rendered deals (KiB)."""
        peaks: dict[int, int] = {}
        for o in self.outcomes:
            peaks[o.pid] = max(peaks.get(o.pid, 0), o.peak_rss_kib)
        return peaks


def _looks_like_deal(folder: Path) -> bool:
    """A folder with an entry named ``deal.yaml`` or a ``periods`` folder, or one that cannot be
    looked into (a deal whose folder the month end may not read is still one of its deals)."""
    for name in ("deal.yaml", "periods"):
        try:
            os.lstat(folder / name)
            return True
        except PermissionError:
            return True
        except OSError:
            continue
    return False


def find_deals(roots: Iterable[Path]) -> list[Path]:
    """Every directory directly under one of ``roots`` that looks like a deal's (an entry named
    ``deal.yaml``, or a ``periods`` folder), in name order.  Neither need be readable: a deal
    file that is a broken link, a FIFO, named deal.yml, or in a folder remit may not read fails
    its deal with a message, rather than leaving it out of the month end unseen.  A root given
    twice (``inputs`` and ``./inputs/``) is read once."""
    deals: list[Path] = []
    seen: set[Path] = set()
    for root in roots:
        if Path(root).resolve() not in seen:
            seen.add(Path(root).resolve())
            deals += sorted(p for p in Path(root).iterdir()
                            if not p.name.startswith(".") and p.is_dir() and _looks_like_deal(p))
    return deals


def _error_lines(exc: BaseException) -> list[str]:
    if isinstance(exc, InputErrors):
        return [str(e) for e in exc.errors]
    if isinstance(exc, ReconciliationError):
        return str(exc).splitlines()
    if isinstance(exc, PublishRefused):
        return [line for p in exc.problems for line in p.splitlines()]
    if isinstance(exc, (TemplateError, OutputError, AlreadyPublished)):
        return [str(exc)]
    # anything else is a defect; the deal still fails alone, with where it happened
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return [f"internal error{where}: {type(exc).__name__}: {exc}"]


def render_deal(deal_dir: Path, period: str, formats: Sequence[str], out: Path,
                templates: Path = TEMPLATES) -> DealOutcome:
    """Render, check and write one deal's statements (the caller holds ``out``'s publishing
    lock).  Never raises for a bad deal."""
    statements, files, errors, factors = 0, [], [], []
    try:
        try:
            computed = run(deal_dir, period)
        except InputErrors as exc:  # the folder's name is told too, when the deal file says the deal's id
            raise InputErrors(exc.errors + misnamed_folder(deal_dir)) from None
        if computed and (wrong := misnamed(computed[0].deal, computed[0].deal_source, deal_dir)):
            raise InputErrors(wrong)
        outputs = plan_all(computed, formats, out, templates=templates)
        write(outputs)
        for o in outputs:
            files.append(Written(o.path.relative_to(out).as_posix(), hashlib.sha256(o.data).hexdigest(),
                                 len(o.data), o.status))
        statements = len(computed)
        # read off each statement's figures record as published, as a failed deal's are
        factors = [line for o in outputs if o.record for line in factor_rows(json.loads(o.data))]
    except Exception as exc:  # noqa: BLE001 - every failure is reported against its deal
        errors = _error_lines(exc)
        files, factors = [], []
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return DealOutcome(str(deal_dir), statements, tuple(files), tuple(errors), peak, os.getpid(), tuple(factors))


def render_deals(deal_dirs: Sequence[Path], period: str, formats: Sequence[str], out: Path,
                 parent: int | None = None, templates: Path = TEMPLATES) -> list[DealOutcome]:
    """:func:`render_deal` for each of a few deals: one task for a worker process, so that
    handing out tasks and collecting outcomes costs the parent little beside the work.  A
    worker whose ``parent`` has gone stops at once."""
    outcomes = []
    for d in deal_dirs:
        if parent is not None and _orphaned(parent):
            os._exit(1)
        outcomes.append(render_deal(d, period, formats, out, templates))
    return outcomes


#: Most deals in one task.  A worker finishes its task before it stops on Ctrl-C, so a task
#: stays short (a few tens of milliseconds); the parent still hands out a task only every few.
MAX_TASK = 8


def task_size(deals: int, jobs: int) -> int:
    """Deals per task: about a sixteenth of each worker's share, from 1 to MAX_TASK, so that
    the workers finish together."""
    return max(1, min(MAX_TASK, deals // (jobs * 16)))


def _worker_init(parent: int) -> None:
    # Ctrl-C and SIGTERM go to the whole process group; the parent decides: workers finish
    # the task in hand (a few deals, their files complete) and take no more.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with(parent)


_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """End this worker when the batch that started it dies, however it dies (``kill -9``
    included): the kernel sends SIGKILL when the parent goes (Linux's PR_SET_PDEATHSIG).  Its
    files are written whole or not at all, so nothing half-done is left.  Where the call is
    not there, :func:`_orphaned` is checked before each deal."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(1)


def _orphaned(parent: int) -> bool:
    return os.getppid() != parent


class Interrupted(Exception):
    def __init__(self, result: BatchResult, total: int):
        self.result, self.total = result, total
        super().__init__(f"interrupted after {len(result.outcomes)} of {total} deals")


class _Signalled:
    """Whether Ctrl-C or SIGTERM came during the batch: the KeyboardInterrupt its handler raises
    can be swallowed where Python cannot raise it (a lock's release in logging, a finalizer:
    "Exception ignored in ..."), and the batch must still end as interrupted."""

    received = False


def _raise_interrupt(signum, frame):  # pragma: no cover - exercised through a subprocess
    _Signalled.received = True
    raise KeyboardInterrupt


def _lost(deal: Path) -> DealOutcome:
    """A deal whose worker process ended before it reported (killed: out of memory, kill -9).
    Each file a worker writes is put in place whole, so what it wrote is whole; whether it wrote
    all of the deal's is not known."""
    return DealOutcome(str(deal), 0, (), ("the worker process rendering this deal ended before it finished (killed: "
                                          "out of memory? kill -9?); any file it wrote is whole, but not every one "
                                          "may be written (expected: run the month end again for it)",), 0, 0)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill every worker now, however far it is in its task (the pool's workers are the batch's
    only child processes).  Each file a worker writes is put in place whole
    (:func:`generator.output.write_atomic`), so a worker killed midway leaves no partial file.
    Further signals are ignored while the workers are reaped, so a third Ctrl-C cannot leave
    the batch hanging either."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for worker in multiprocessing.active_children():
        worker.kill()
    for worker in multiprocessing.active_children():
        worker.join()
    pool.shutdown(wait=False, cancel_futures=True)


def _refuse(result: BatchResult, deals: Sequence[Path], refusals: list[DealOutcome],
            progress: Callable[[DealOutcome], None] | None) -> list[Path]:
    """The deals left once ``refusals`` (found before anything is rendered) are told."""
    result.outcomes += refusals
    for outcome in refusals:
        if progress:
            progress(outcome)
    refused = {o.deal for o in refusals}
    return [d for d in deals if str(d) not in refused]


def run_batch(deals: Sequence[Path], period: str, formats: Sequence[str], out: Path, jobs: int,
              progress: Callable[[DealOutcome], None] | None = None, templates: Path = TEMPLATES) -> BatchResult:
    """Render every deal; ``jobs`` worker processes (1: in this process).  Raises
    :class:`Interrupted` on Ctrl-C or SIGTERM, after the deals in hand are finished."""
    result = BatchResult(jobs=jobs)
    total = len(deals)
    deals = _refuse(result, deals, one_name_twice(deals), progress)
    start = time.perf_counter()
    _Signalled.received = False
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    previous_int = signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        if jobs <= 1:
            try:
                deals = _refuse(result, deals, one_cusip_twice(deals, cusips_in(deals)), progress)
                for deal in deals:
                    if _Signalled.received:  # its KeyboardInterrupt was swallowed: stop here all the same
                        raise KeyboardInterrupt
                    outcome = render_deal(deal, period, formats, out, templates)
                    result.outcomes.append(outcome)
                    if progress:
                        progress(outcome)
            except KeyboardInterrupt:
                raise Interrupted(result, total) from None
        else:
            pool: ProcessPoolExecutor | None = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init,
                                                                   initargs=(os.getpid(),))
            futures: list[Future] = []
            taken: set[Future] = set()
            size = task_size(len(deals), jobs)
            try:
                found = [c for part in pool.map(cusips_in, [deals[i:i + size] for i in range(0, len(deals), size)])
                         for c in part]
                deals = _refuse(result, deals, one_cusip_twice(deals, found), progress)
                tasks = {pool.submit(render_deals, deals[i:i + size], period, formats, out, os.getpid(), templates):
                         deals[i:i + size] for i in range(0, len(deals), size)}
                futures = list(tasks)
                broken = False
                for future in as_completed(futures):
                    if _Signalled.received:
                        raise KeyboardInterrupt
                    taken.add(future)
                    try:
                        outcomes = future.result()
                    except BrokenProcessPool:  # a worker was killed (the kernel out of memory, kill -9)
                        outcomes, broken = [_lost(d) for d in tasks[future]], True
                    for outcome in outcomes:
                        result.outcomes.append(outcome)
                        if progress:
                            progress(outcome)
                if broken:
                    _stop_workers(pool)  # the pool is broken: the other workers are of no more use
                    pool = None
            except KeyboardInterrupt:
                try:
                    pool.shutdown(wait=True, cancel_futures=True)  # tasks in hand finish; the rest never start
                except KeyboardInterrupt:  # a second Ctrl-C (or SIGTERM): stop the tasks in hand too
                    _stop_workers(pool)
                result.outcomes += [o for f in futures if f not in taken and f.done() and not f.cancelled()
                                    and f.exception() is None for o in f.result()]
                raise Interrupted(result, total) from None
            if pool is not None:
                pool.shutdown(wait=True)
        if _Signalled.received:  # its KeyboardInterrupt was swallowed on the way
            raise Interrupted(result, total)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    result.outcomes.sort(key=lambda o: o.deal)
    result.seconds = time.perf_counter() - start
    return result


def write_factor_file(result: BatchResult, out: Path, period: str, earlier: str | None = None) -> Written:
    """The month's factor file: every class of every deal whose statement of the month is
    published in ``out`` (each failed deal's as published, its outcome told why when its
    lines cannot be listed).  Written before the manifest, which lists it: a factor file that
    cannot be written leaves no manifest.  ``earlier``: the SHA-256 of the earlier run's (its
    status is then ``unchanged`` or ``new``)."""
    result.outcomes = as_published(result.outcomes, period, out)
    path = out / FACTOR_FILE
    data = factor_file(line for o in result.outcomes for line in o.factors)
    write_atomic(path, data)
    digest = hashlib.sha256(data).hexdigest()
    return Written(FACTOR_FILE, digest, len(data), "unchanged" if digest == earlier else "new")


def manifest(result: BatchResult, roots: Sequence[Path], period: str, formats: Sequence[str],
             also: Sequence[Written] = ()) -> bytes:
    """What the run produced, deterministically: the same inputs give the same manifest.
    ``also``: the run's own files beside the statements (the factor file)."""
    doc = {
        "roots": [str(r) for r in roots],
        "period": period,
        "formats": list(formats),
        "deals": len(result.outcomes),
        "statements": result.statements,
        "failures": len(result.failures),
        "files": [{"path": w.path, "sha256": w.sha256, "bytes": w.bytes, "status": w.status}
                  for w in sorted([*result.files, *also], key=lambda w: w.path)],
        "failed": [{"deal": o.deal, "errors": list(o.errors),
                    **({"factor_lines_as_published": len(o.factors)} if o.factors else {})} for o in result.failures],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_manifest(result: BatchResult, roots: Sequence[Path], period: str, formats: Sequence[str],
                   out: Path, also: Sequence[Written] = ()) -> Path:
    path = out / MANIFEST
    write_atomic(path, manifest(result, roots, period, formats, also))
    return path


def retire_manifest(out: Path) -> str | None:
    """Remove the manifest (and factor file) of an earlier run before this one writes anything: a
    run that does not finish must not leave behind a manifest that describes other files.  The
    SHA-256 of the factor file removed (or None), to tell whether this run's is unchanged."""
    factors = None
    for name, what in ((MANIFEST, "manifest"), (FACTOR_FILE, "factor file")):
        path = out / name
        if not os.path.lexists(path):
            continue
        if name == FACTOR_FILE:
            try:
                data = read_published(path, "factor file")
            except PublishRefused:  # not a file that can be read: it is removed all the same
                data = None
            factors = hashlib.sha256(data).hexdigest() if data is not None else None
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OutputError(path, f"the earlier run's {what} cannot be removed: {exc.strerror or exc}") from None
    return factors


def one_name_twice(deals: Sequence[Path]) -> list[DealOutcome]:
    """The failures, found before anything is rendered, of deal folders that share a name (one
    under each of two roots): a month end's deal folder is named by its deal's id, so both
    would publish one deal's statements.  Neither is rendered."""
    owners: dict[str, list[Path]] = {}
    for d in deals:
        owners.setdefault(d.name, []).append(d)
    return [DealOutcome(str(d), 0, (), (f"{d}: a deal folder of this name is also under another root "
                                        f"({', '.join(str(o) for o in same if o != d)}): deal ids must be unique; "
                                        "neither is rendered",), 0, os.getpid())
            for same in owners.values() if len(same) > 1 for d in same]


class Cusip(NamedTuple):
    """A class's CUSIP as its deal file writes it, and where."""

    cusip: str
    name: str  # the class's
    index: int  # classes[index]

    def where(self, deal_dir: Path) -> str:
        """``deal.yaml:line`` of the CUSIP: asked for only when it is reported, since finding a
        file's lines means reading it again."""
        return load_yaml(Path(deal_dir) / "deal.yaml")[1].where(("classes", self.index, "cusip"))


def cusips_of(deal_dir: Path) -> list[Cusip]:
    """Each class's CUSIP in a deal file.  A deal file that does not read gives none here;
    rendering it tells its errors."""
    classes = deal_file_values(deal_dir).get("classes")
    return [Cusip(c["cusip"], str(c.get("name")), i)
            for i, c in enumerate(classes if isinstance(classes, list) else [])
            if isinstance(c, dict) and isinstance(c.get("cusip"), str)]


def cusips_in(deal_dirs: Sequence[Path]) -> list[list[Cusip]]:
    return [cusips_of(d) for d in deal_dirs]


def one_cusip_twice(deals: Sequence[Path], found: Sequence[list[Cusip]]) -> list[DealOutcome]:
    """The failures, found before anything is rendered, of deals that give a class the CUSIP of
    another deal's class: a CUSIP names one class of one deal, and investors and data vendors
    load each month's factors by it.  Which of the two is mistaken the book cannot tell, so
    neither deal is rendered.  (Two classes of one deal: the deal file's own check.)"""
    owners: dict[str, list[tuple[Path, Cusip]]] = {}
    for d, cusips in zip(deals, found):
        for c in cusips:
            owners.setdefault(c.cusip, []).append((d, c))
    errors: dict[Path, list[str]] = {}
    for holders in owners.values():
        if len({d for d, _ in holders}) < 2:
            continue
        where = [c.where(d) for d, c in holders]  # each deal file's lines read once a CUSIP it holds is reported
        for i, (d, c) in enumerate(holders):
            others = [f"class {o.name}'s of {other} ({where[j]})" for j, (other, o) in enumerate(holders) if other != d]
            if others:
                errors.setdefault(d, []).append(
                    f"{where[i]}: classes[{c.index}].cusip: class {c.name}'s CUSIP {c.cusip} is also "
                    f"{', '.join(others)} (expected a CUSIP of this deal's own: a CUSIP names one class in the whole "
                    "book); neither deal is rendered")
    return [DealOutcome(str(d), 0, (), tuple(lines), 0, os.getpid()) for d, lines in errors.items()]


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


__all__ = ["find_deals", "render_deal", "render_deals", "run_batch", "manifest", "write_manifest", "retire_manifest",
           "BatchResult",
           "DealOutcome", "Written", "Interrupted", "default_jobs", "one_name_twice", "one_cusip_twice", "MANIFEST"]
