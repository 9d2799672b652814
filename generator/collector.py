"""Python's cycle collector, paused while a statement is made.

Making a statement allocates a great many objects that all live until it is done: the
parsed inputs, the run's figure graph (every figure keeps the figures it was made from),
and for a PDF WeasyPrint's tree of boxes.  The cycle collector runs every 700 new objects
and, as the heap grows, walks all of it: those objects and everything else the process
holds (in a month end, the other deals' work too), again and again, to find almost
nothing to free.  Reference counting frees nearly everything a statement leaves, as soon
as it is left; the few reference cycles wait for the first collection after the pause.

``scripts/bench_engine.py`` prints what the pause saves a deal's run; in
``scripts/bench_month_end.py``, PDF end to end against bare WeasyPrint (which runs with the
collector) shows it for the PDF.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """No cycle collection inside the block (nested blocks: the outermost decides)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


__all__ = ["paused"]
