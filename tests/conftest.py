from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
GOLDEN = ROOT / "golden"
REFERENCE_DEAL = INPUTS / "new-century-2002-1"


def _decimal_representer(dumper: yaml.SafeDumper, value: Decimal):
    # golden YAML keeps the exact decimal string, never a float
    return dumper.represent_scalar("tag:yaml.org,2002:str", format(value, "f"))


yaml.SafeDumper.add_representer(Decimal, _decimal_representer)


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
