import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT / "tests" / "fixtures"


@pytest.fixture
def project_dir() -> Path:
    return PROJECT


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
