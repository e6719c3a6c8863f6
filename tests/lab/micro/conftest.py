"""Fixtures for the micro-guest's host-side tests: a private cache, one build."""

from pathlib import Path

import pytest

from xenrr.lab.micro import builder


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty xenrr cache for one test."""
    monkeypatch.setenv("XENRR_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def built_elf(tmp_path_factory) -> Path:
    """The micro-guest ELF, built once for the session in its own cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XENRR_CACHE", str(tmp_path_factory.mktemp("cache")))
        return builder.build()
