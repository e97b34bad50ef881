"""`--set PATH=VALUE` on `motools workflow run` and `motools sweep run` (issue #14, item 2), and the
sweep's `--name`, `--user` and `--max-parallel`, through the real CLI on the offline backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli_runner import cli, run_id_of, write

from motools.atom import get_store
from motools.engine import get_ledger

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "configs" / "hello_world.yaml"
LR = "submit_training.hyperparameters.learning_rate"
EPOCHS = "submit_training.hyperparameters.n_epochs"
NUM_SAMPLES = "prepare_dataset.loader_kwargs.num_samples"


def sweep_file(tmp_path: Path, **keys: Any) -> Path:
    return write(tmp_path / "s.yaml", {"name": "lr", "workflow": "train_and_evaluate",
                                       "base": str(BASE), "grid": {LR: [1e-4, 1e-3]}, **keys})


def step_configs(run_id: str, step: str) -> list[dict[str, Any]]:
    runs = get_ledger(get_store()).step_runs_of(run_id)
    return [sr.config for sr in runs if sr.step == step]


# ---- workflow run ------------------------------------------------------------------------------


def test_workflow_run_applies_typed_overrides_after_the_file(tmp_path):
    result = cli("workflow", "run", "train_and_evaluate", "--config", BASE, "--executor", "inline",
                 "--set", f"{NUM_SAMPLES}=7", "--set", f"{LR}=2e-3", "--set", f"{EPOCHS}=3")
    assert result.code == 0, result.err
    run_id = run_id_of(result.out)
    (prepare,) = step_configs(run_id, "prepare_dataset")
    assert prepare["loader_kwargs"]["num_samples"] == 7
    (submit,) = step_configs(run_id, "submit_training")
    hp = submit["hyperparameters"]
    assert (hp["learning_rate"], hp["n_epochs"]) == (0.002, 3)
    assert isinstance(hp["learning_rate"], float) and isinstance(hp["n_epochs"], int)


def test_a_later_override_of_the_same_path_wins(tmp_path):
    result = cli("workflow", "run", "train_and_evaluate", "-c", BASE, "--executor", "inline",
                 "--set", f"{EPOCHS}=3", "--set", f"{EPOCHS}=4")
    assert result.code == 0, result.err
    (submit,) = step_configs(run_id_of(result.out), "submit_training")
    assert submit["hyperparameters"]["n_epochs"] == 4


def test_workflow_run_refuses_an_unknown_path_in_one_line_naming_it(isolated_store):
    result = cli("workflow", "run", "train_and_evaluate", "-c", BASE,
                 "--set", "submit_training.hyperparameters.lr=1e-3")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert "--set submit_training.hyperparameters.lr: unknown config path" in line
    assert "submit_training.hyperparameters.learning_rate" in line  # the valid paths are listed
    assert not isolated_store.exists()


def test_a_badly_typed_override_is_validated_like_the_file(isolated_store):
    result = cli("workflow", "run", "train_and_evaluate", "-c", BASE, "--set", f"{EPOCHS}=many")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert f"{BASE} with --set: {EPOCHS}: " in line and "'many'" in line
    assert not isolated_store.exists()


def test_an_override_without_a_value_separator_is_one_line(isolated_store):
    result = cli("workflow", "run", "train_and_evaluate", "-c", BASE, "--set", LR)
    assert result.code == 2
    assert "expected PATH=VALUE" in result.err and len(result.err.splitlines()) == 1


def test_workflow_dry_run_takes_overrides_and_writes_nothing(isolated_store):
    result = cli("workflow", "run", "train_and_evaluate", "-c", BASE, "--dry-run",
                 "--set", f"{LR}=5e-4")
    assert result.code == 0, result.err
    assert "workflow train_and_evaluate (dry run)" in result.out
    assert result.out.count("to run") == 4
    assert not isolated_store.exists()


# ---- sweep run ---------------------------------------------------------------------------------


def test_sweep_overrides_set_the_base_of_every_point(tmp_path):
    result = cli("sweep", "run", sweep_file(tmp_path), "--executor", "inline",
                 "--set", f"{NUM_SAMPLES}=9", "--set", f"{EPOCHS}=2")
    assert result.code == 0, result.err
    run_id = run_id_of(result.out)
    (prepare,) = step_configs(run_id, "prepare_dataset")  # both points share the one dataset
    assert prepare["loader_kwargs"]["num_samples"] == 9
    submits = step_configs(run_id, "submit_training")
    assert sorted((s["hyperparameters"]["learning_rate"], s["hyperparameters"]["n_epochs"])
                  for s in submits) == [(1e-4, 2), (1e-3, 2)]
    run = get_ledger(get_store()).get_run(run_id)
    assert run.info["overrides"] == [f"{NUM_SAMPLES}=9", f"{EPOCHS}=2"]


def test_overriding_a_swept_path_is_refused_naming_the_axis(tmp_path, isolated_store):
    result = cli("sweep", "run", sweep_file(tmp_path), "--dry-run", "--set", f"{LR}=1e-2")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert f"--set {LR}: the sweep varies it (grid.{LR})" in line
    # A section holding a swept path would be overwritten by the axis too.
    section = cli("sweep", "run", sweep_file(tmp_path), "--dry-run",
                  "--set", "submit_training.hyperparameters={n_epochs: 2}")
    assert section.code == 2 and f"(grid.{LR})" in section.err
    assert not isolated_store.exists()


def test_sweep_run_refuses_an_unknown_override_path(tmp_path, isolated_store):
    result = cli("sweep", "run", sweep_file(tmp_path), "--dry-run", "--set", "evaluate.task=x")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert "--set evaluate.task: unknown config path" in line
    assert not isolated_store.exists()


def test_a_bad_override_value_names_the_point_and_field(tmp_path, isolated_store):
    result = cli("sweep", "run", sweep_file(tmp_path), "--dry-run", "--set", f"{EPOCHS}=-1")
    assert result.code == 2
    assert "point 0" in result.err and f"{EPOCHS}: " in result.err
    assert not isolated_store.exists()


def test_sweep_dry_run_shows_the_overridden_plan(tmp_path):
    first = cli("sweep", "run", sweep_file(tmp_path), "--executor", "inline")
    assert first.code == 0, first.err
    same = cli("sweep", "run", sweep_file(tmp_path), "--dry-run")
    changed = cli("sweep", "run", sweep_file(tmp_path), "--dry-run", "--set", f"{EPOCHS}=5")
    assert "│ submit_training   │ 2      │ 2     │ 0            │ 2      │ 0      │" in same.out
    # The shared dataset stays cached; training and what follows it must run again.
    assert "│ prepare_dataset   │ 2      │ 1     │ 1            │ 1      │ 0      │" in changed.out
    assert "│ submit_training   │ 2      │ 2     │ 0            │ 0      │ 2      │" in changed.out


def test_sweep_run_takes_name_user_and_max_parallel(tmp_path):
    sweep = sweep_file(tmp_path, user="ada", max_parallel=4)
    result = cli("sweep", "run", sweep, "--executor", "inline", "--name", "renamed",
                 "--user", "bob", "--max-parallel", "1")
    assert result.code == 0, result.err
    run = get_ledger(get_store()).get_run(run_id_of(result.out))
    assert (run.name, run.user) == ("renamed", "bob")
    assert "renamed (run-" in result.out
    found = cli("sweep", "results", sweep)  # the file still finds its run (by its path)
    assert found.code == 0 and f"renamed ({run.id})" in found.out


def test_sweep_run_refuses_a_max_parallel_below_one(tmp_path, isolated_store):
    result = cli("sweep", "run", sweep_file(tmp_path), "--max-parallel", "0")
    assert result.code == 2
    assert "--max-parallel" in result.err
    assert not isolated_store.exists()
