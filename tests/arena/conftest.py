"""Fixtures of the arena tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.arena.helpers import make_client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A test client over an arena with three models and no queue."""
    with make_client(tmp_path) as c:
        yield c
