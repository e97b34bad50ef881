"""Every test gets its own store, so no test sees another's cache or writes into the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = tmp_path / "store"
    monkeypatch.setenv("MOTOOLS_STORE", str(store))
    monkeypatch.delenv("MOTOOLS_LEDGER", raising=False)
    monkeypatch.delenv("MOTOOLS_DEBUG", raising=False)
    return store
