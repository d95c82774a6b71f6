"""Shared fixtures: the real data beside the repo, skipping where absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder ../shared/data; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real data folder {SHARED_DATA} is absent (it lives beside the repo)"
        )
    return SHARED_DATA


def need(path: Path) -> Path:
    """Skip the calling test with a clear reason if ``path`` does not exist."""
    if not path.exists():
        pytest.skip(f"data file {path} is absent")
    return path
