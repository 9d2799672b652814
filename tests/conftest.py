from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from generator.model import cusip_check_digit

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
GOLDEN = ROOT / "golden"
REFERENCE_DEAL = INPUTS / "new-century-2002-1"
SYNTHETIC = INPUTS / "synthetic-home-equity-2024-1"


def own_cusips(deal_yaml: str, deal_id: str) -> dict[str, str]:
    """The CUSIPs a copy of a deal under ``deal_id`` takes for the deal file's (a CUSIP names one
    class in the whole book): each issue's issuer part is taken from the id's digest."""
    issuer = hashlib.sha256(deal_id.encode()).hexdigest()[:6].upper()
    return {m[0]: f"{issuer}{m[1]}{cusip_check_digit(issuer + m[1])}"
            for m in re.finditer(r"(?<=cusip: )[0-9A-Z]{6}([0-9A-Z]{2})[0-9]", deal_yaml)}


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
