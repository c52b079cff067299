"""Fixtures for the tools' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import tools.stacks


@pytest.fixture
def stacks_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stack files are read from a temporary directory, so a test's broken stack file is
    never seen by the tests that run every stack of the project."""
    monkeypatch.setattr(tools.stacks, "STACKS_DIR", tmp_path)
    return tmp_path
