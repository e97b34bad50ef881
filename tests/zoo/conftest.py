"""Zoo tests: a cache folder per test, and a loopback server publishing generated fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from zoo_server import PublishedFiles, serve


@pytest.fixture(autouse=True)
def zoo_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh download cache; no mirror and no offline switch from the caller's environment."""
    cache = tmp_path / "zoo-cache"
    monkeypatch.setenv("MOTOOLS_ZOO_CACHE", str(cache))
    monkeypatch.delenv("MOTOOLS_ZOO_MIRROR", raising=False)
    monkeypatch.delenv("MOTOOLS_ZOO_OFFLINE", raising=False)
    return cache


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Iterator[PublishedFiles]:
    """The loopback GitHub/Hub server, with this process's endpoints pointed at it."""
    import huggingface_hub.constants

    with serve() as files:
        for name, value in files.env.items():
            monkeypatch.setenv(name, value)
        # The test session runs with HF_HUB_OFFLINE=1 (no real hub); this server is loopback.
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        yield files
