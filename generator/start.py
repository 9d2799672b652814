"""The remit command's entry point.  Loading the command line takes a moment (its imports);
Ctrl-C then ends it as Ctrl-C ends a command (exit 130, a word on stderr), not with a
traceback from whichever module was being imported."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as command
    except KeyboardInterrupt:
        sys.stderr.write("remit: interrupted while starting; nothing written\n")
        sys.exit(130)
    command(prog_name="remit")


__all__ = ["main"]
