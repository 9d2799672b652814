"""The command line's usage rules, through the real command in subprocesses: a malformed
--period is a usage error (exit 2) in every command, before any file is read or written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import INPUTS, REFERENCE_DEAL, ROOT


def remit(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("period", ["2002-13", "2002-5", "2002/05", "May 2002", "2002-06..2002-05", "2002-05..",
                                    "latest..all", ""])
@pytest.mark.parametrize("command", ["render", "check", "batch", "explain"])
def test_a_malformed_period_is_a_usage_error(tmp_path, command, period):
    out = tmp_path / "out"
    args = {"render": ["render", REFERENCE_DEAL, "--period", period, "-o", out],
            "check": ["check", REFERENCE_DEAL, "--period", period],
            "batch": ["batch", "--root", INPUTS, "--period", period, "-o", out],
            "explain": ["explain", REFERENCE_DEAL, "--period", period, "A.rate"]}[command]
    done = remit(*args)
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--period' / '-p'" in done.stderr and "is not a period (expected YYYY-MM" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("period", ["2002-05", "2002-05..2002-05", "all", "latest"])
def test_well_formed_periods_are_taken(period):
    done = remit("check", REFERENCE_DEAL, "--period", period)
    assert done.returncode == 0, done.stderr


def test_version():
    done = remit("--version")
    assert done.returncode == 0 and done.stdout.strip().startswith("remit ")
    assert done.stdout.strip().split(" ")[1][0].isdigit()
