"""A config's `check_ready()`: asked on the driver for the steps that have to run, never for
cached ones, before anything is recorded (an API key only execution needs); a dry run reports
what it refuses."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from motools._errors import UserError
from motools.atom import get_store
from motools.engine import RunOptions, get_ledger
from motools.workflow import AtomConstructor, Step, Workflow, dry_run_workflow, run_workflow

ASKED: list[str] = []


@dataclasses.dataclass
class NeedsKeyConfig:
    label: str = "x"

    def check_ready(self) -> None:
        ASKED.append(self.label)
        if not os.environ.get("MOTOOLS_TEST_KEY"):
            raise UserError("MOTOOLS_TEST_KEY is not set")


@dataclasses.dataclass
class PipelineConfig:
    remote: NeedsKeyConfig


def remote(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    return [AtomConstructor(name="out", path=None, type="blob", metadata={"label": config.label})]


WORKFLOW = Workflow(
    name="needs_key", input_atom_types={}, config_class=PipelineConfig,
    steps=[Step(name="remote", function=remote, config_class=NeedsKeyConfig,
                input_atom_types={}, output_atom_types={"out": "blob"})],
)


@pytest.fixture(autouse=True)
def _clear() -> None:
    ASKED.clear()


def run(store: Path) -> object:
    return run_workflow(WORKFLOW, {}, PipelineConfig(NeedsKeyConfig()),
                        options=RunOptions(executor="inline", store=store, user="t"))


def test_a_step_that_has_to_run_is_refused_naming_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOTOOLS_TEST_KEY", raising=False)
    with pytest.raises(UserError, match="^remote: MOTOOLS_TEST_KEY is not set$"):
        run(tmp_path / "store")
    assert ASKED == ["x"]
    store = get_store(tmp_path / "store")
    assert store.iter_atom_ids() == []
    ledger = get_ledger(store)
    [refused] = ledger.list_runs()
    assert ledger.step_runs_of(refused.id) == []


def test_a_cached_step_is_not_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTOOLS_TEST_KEY", "k")
    assert run(tmp_path / "store").ok  # type: ignore[attr-defined]
    ASKED.clear()
    monkeypatch.delenv("MOTOOLS_TEST_KEY")
    rerun = run(tmp_path / "store")
    assert [s.status for s in rerun.step_states] == ["cached"]  # type: ignore[attr-defined]
    assert ASKED == []


def test_a_dry_run_reports_the_refusal_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOTOOLS_TEST_KEY", raising=False)
    [counts] = dry_run_workflow(WORKFLOW, {}, PipelineConfig(NeedsKeyConfig()),
                                options=RunOptions(store=tmp_path / "store"))
    assert counts.to_run == 1
    assert counts.not_ready == ("MOTOOLS_TEST_KEY is not set",)
    assert not (tmp_path / "store").exists()


def test_a_dry_run_of_cached_work_asks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTOOLS_TEST_KEY", "k")
    run(tmp_path / "store")
    ASKED.clear()
    monkeypatch.delenv("MOTOOLS_TEST_KEY")
    [counts] = dry_run_workflow(WORKFLOW, {}, PipelineConfig(NeedsKeyConfig()),
                                options=RunOptions(store=tmp_path / "store"))
    assert (counts.cached, counts.not_ready) == (1, ())
    assert ASKED == []
