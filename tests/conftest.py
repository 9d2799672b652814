from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
GOLDEN = ROOT / "golden"
REFERENCE_DEAL = INPUTS / "new-century-2002-1"
SYNTHETIC = INPUTS / "synthetic-home-equity-2024-1"


@pytest.fixture
def original_datadir() -> Path:
    """pytest-regressions reads and writes approved outputs in golden/."""
    return GOLDEN


@pytest.fixture
def reference_deal(tmp_path: Path) -> Path:
    """A scratch copy of the reference deal that a test may edit."""
    import shutil

    target = tmp_path / "new-century-2002-1"
    shutil.copytree(REFERENCE_DEAL, target)
    return target


def check_golden(computed, file_regression) -> None:
    """A statement's text and JSON record against the approved ones in golden/."""
    from generator import formats

    name = f"{computed.statement.deal_id}_{computed.statement.distribution_date.isoformat()}"
    file_regression.check(formats.text(computed).decode(), basename=name, extension=".txt", newline="\n")
    file_regression.check(formats.json_(computed).decode(), basename=name, extension=".json", newline="\n")
