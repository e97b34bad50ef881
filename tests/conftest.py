"""Test isolation: every test gets its own store; Ray starts at most once per test session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    # Ray workers of the session's local Ray inherit this environment: let them import the step
    # functions defined in test modules (pytest imports those by their folder, not as a package).
    folders = sorted({str(p.parent) for p in TESTS.rglob("test_*.py")} | {str(TESTS)})
    os.environ["PYTHONPATH"] = os.pathsep.join([*folders, os.environ.get("PYTHONPATH", "")])
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # No network in tests: nothing may try the Hugging Face hub (it would hang, then fail).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    sys.path[:0] = [f for f in folders if f not in sys.path]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3-compatible server (moto) on 127.0.0.1 with the test bucket, for the whole session."""
    pytest.importorskip("moto.server", reason="moto[server] is a dev dependency")
    from s3_server import moto_server

    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    store = tmp_path / "store"
    monkeypatch.setenv("MOTOOLS_STORE", str(store))
    monkeypatch.delenv("MOTOOLS_LEDGER", raising=False)
    monkeypatch.delenv("MOTOOLS_DEBUG", raising=False)
    yield store
    _kill_ledger_actors()


def _kill_ledger_actors() -> None:
    """Each test store gets its own detached Ledger actor; end them so processes do not pile up."""
    if "ray" not in sys.modules:
        return
    import ray

    if not ray.is_initialized():
        return
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry["namespace"] == "motools" and entry["name"].startswith("ledger-"):
            try:
                ray.kill(ray.get_actor(entry["name"], namespace="motools"), no_restart=True)
            except ValueError:
                pass
