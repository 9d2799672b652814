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
