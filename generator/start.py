"""The remit command's entry point.  Loading the command line takes a moment (its imports);
Ctrl-C then ends it as Ctrl-C ends a command (exit 130, a word on stderr), not with a
traceback from whichever module was being imported.  Nothing is written while it loads, so
it ends at once; a KeyboardInterrupt raised there could surface as another error (pydantic
building a validator turns it into a SchemaError)."""

from __future__ import annotations

import os
import signal
import sys


def _interrupted_while_starting(signum: int, frame: object) -> None:
    sys.stderr.write("remit: interrupted while starting; nothing written\n")
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from .cli import main as command

    signal.signal(signal.SIGINT, signal.default_int_handler)  # from here, each command handles Ctrl-C
    command(prog_name="remit")


__all__ = ["main"]
