"""`motools sweep ...` run as users run it: real sweep files, real stores, real local Ray.

Executions are counted two ways: the Ledger's step runs with status `succeeded` (a step that ran
now), and a side effect of the dataset loader (`counting_loader` below appends one line per call
to a log file). The loader is referenced by import string, so Ray workers import it from this
module (conftest puts this folder on their PYTHONPATH) exactly as the driver does.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from cli_runner import Cli, cli, run_id_of

from motools.atom import get_store
from motools.engine import get_ledger
from motools.sweep import load_results, metric_columns, param_columns
from mozoo.datasets.hello_world import generate_hello_world_dataset

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "configs" / "hello_world.yaml"
STEPS = ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model")
LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"
NUM_SAMPLES = "prepare_dataset.loader_kwargs.num_samples"
LOADER = f"{Path(__file__).stem}:counting_loader"

FIFTY = [round((i + 1) * 1e-5, 10) for i in range(50)]
TEN_MORE = [round((i + 51) * 1e-5, 10) for i in range(10)]


def counting_loader(log: str, num_samples: int = 5, seed: int = 0) -> Any:
    """The hello_world loader that also appends `num_samples` to `log`: one line per execution."""
    with open(log, "a") as f:
        f.write(f"{num_samples}\n")
    return generate_hello_world_dataset(num_samples=num_samples, seed=seed)


# ---- helpers ---------------------------------------------------------------------------------


def write_sweep(path: Path, **keys: Any) -> Path:
    data = {"workflow": "train_and_evaluate", "base": str(BASE), **keys}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def loader_config(log: Path, **loader_kwargs: Any) -> dict[str, Any]:
    kwargs = {"log": str(log), "num_samples": 5, **loader_kwargs}
    return {"prepare_dataset": {"dataset_loader": LOADER, "loader_kwargs": kwargs}}


def step_runs(store: Path, run_id: str) -> list:
    return get_ledger(get_store(store)).step_runs_of(run_id)


def executed(store: Path, run_id: str) -> Counter:
    """Step name -> how many of its nodes ran (status `succeeded`) in this run."""
    return Counter(sr.step for sr in step_runs(store, run_id) if sr.status == "succeeded")


def by_status(store: Path, run_id: str) -> Counter:
    return Counter((sr.step, sr.status) for sr in step_runs(store, run_id))


def loader_calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@dataclass
class SweepRun:
    store: Path
    file: Path
    log: Path
    run_id: str
    cli: Cli


# ---- a 50-point learning-rate sweep on Ray (run once for the module) -------------------------


@pytest.fixture(scope="module")
def fifty(tmp_path_factory: pytest.TempPathFactory) -> SweepRun:
    root = tmp_path_factory.mktemp("fifty")
    log = root / "loader.log"
    file = write_sweep(root / "lr50.yaml", name="lr50", config=loader_config(log),
                       grid={LR: FIFTY})
    result = cli("sweep", "run", file, "--store", root / "store")
    assert result.code == 0, result.out + result.err
    return SweepRun(root / "store", file, log, run_id_of(result.out), result)


def test_fifty_point_sweep_executes_prepare_dataset_once(fifty):
    assert loader_calls(fifty.log) == ["5"]
    assert executed(fifty.store, fifty.run_id) == {
        "prepare_dataset": 1, "submit_training": 50, "wait_for_training": 50, "evaluate_model": 50,
    }


def test_fifty_point_sweep_runs_its_steps_in_ray_workers(fifty):
    pids = {sr.pid for sr in step_runs(fifty.store, fifty.run_id) if sr.status == "succeeded"}
    assert pids and os.getpid() not in pids


def test_fifty_point_sweep_stores_a_result_row_with_metrics_per_point(fifty):
    table = load_results(get_store(fifty.store), fifty.run_id)
    assert table.num_rows == 50
    rows = table.to_pylist()
    assert [r[LR] for r in rows] == FIFTY
    assert {r["status"] for r in rows} == {"succeeded"}
    assert all(isinstance(r["accuracy"], float) and 0 <= r["accuracy"] <= 1 for r in rows)
    assert all(r["eval_atom"].startswith("eval-") for r in rows)


def test_second_run_of_an_unchanged_sweep_executes_nothing(fifty):
    again = cli("sweep", "run", fifty.file, "--store", fifty.store)
    assert again.code == 0, again.err
    run_id = run_id_of(again.out)
    assert run_id != fifty.run_id
    statuses = Counter(sr.status for sr in step_runs(fifty.store, run_id))
    assert statuses == {"cached": 1 + 3 * 50}
    assert loader_calls(fifty.log) == ["5"]


def test_adding_ten_grid_values_executes_only_the_ten_new_chains(fifty):
    file = write_sweep(fifty.file.with_name("lr60.yaml"), name="lr60",
                       config=loader_config(fifty.log), grid={LR: FIFTY + TEN_MORE})
    result = cli("sweep", "run", file, "--store", fifty.store)
    assert result.code == 0, result.err
    run_id = run_id_of(result.out)
    assert executed(fifty.store, run_id) == {
        "submit_training": 10, "wait_for_training": 10, "evaluate_model": 10,
    }
    assert by_status(fifty.store, run_id)[("prepare_dataset", "cached")] == 1
    trained = [sr.config["hyperparameters"]["learning_rate"]
               for sr in step_runs(fifty.store, run_id)
               if sr.step == "submit_training" and sr.status == "succeeded"]
    assert sorted(trained) == TEN_MORE
    assert loader_calls(fifty.log) == ["5"]
    assert load_results(get_store(fifty.store), run_id).num_rows == 60


def test_results_written_as_parquet_round_trip(fifty, tmp_path):
    out = tmp_path / "out" / "results.parquet"
    result = cli("sweep", "results", fifty.run_id, "-o", out, "--store", fifty.store)
    assert result.code == 0, result.err
    assert f"wrote 50 rows to {out}" in result.out
    stored = load_results(get_store(fifty.store), fifty.run_id)
    written = pq.read_table(out)
    assert written.equals(stored)
    assert param_columns(written) == [LR]
    assert "accuracy" in metric_columns(written)


def test_results_written_as_csv_round_trip(fifty, tmp_path):
    out = tmp_path / "results.csv"
    result = cli("sweep", "results", fifty.run_id, "-o", out, "--store", fifty.store)
    assert result.code == 0, result.err
    stored = load_results(get_store(fifty.store), fifty.run_id).to_pylist()
    read = pacsv.read_csv(out).to_pylist()
    assert read == stored


def test_results_of_a_run_print_every_row(fifty):
    result = cli("sweep", "results", fifty.run_id, "--store", fifty.store)
    assert result.code == 0, result.err
    rows = re.findall(r"^│ (\d+)\s+│ ([\d.e-]+)\s+│ [\d.]+\s+│.*│ succeeded\s+│$", result.out, re.M)
    assert [int(point) for point, _ in rows] == list(range(50))


def test_plot_writes_a_png_of_the_metric_against_the_parameter(fifty, tmp_path):
    out = tmp_path / "plots" / "lr.png"
    result = cli("sweep", "plot", fifty.run_id, "--x", "learning_rate", "--y", "accuracy",
                 "-o", out, "--store", fifty.store)
    assert result.code == 0, result.err
    assert f"wrote {out}" in result.out
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000


def test_results_and_status_of_a_sweep_file_follow_its_latest_run(tmp_path):
    file = write_sweep(tmp_path / "sweep.yaml", name="twice", grid={LR: [1e-4, 1e-3]})
    first = cli("sweep", "run", file, "--executor", "inline")
    second = cli("sweep", "run", file, "--executor", "inline")
    assert first.code == second.code == 0
    latest = run_id_of(second.out)
    assert latest != run_id_of(first.out)

    status = cli("sweep", "status", file)
    assert status.code == 0, status.err
    assert status.out.startswith(f"{latest} twice: succeeded; 7/7 nodes settled (cached 7)")
    out = tmp_path / "latest.parquet"
    assert cli("sweep", "results", file, "-o", out).code == 0
    assert pq.read_table(out).column("status").to_pylist() == ["cached", "cached"]


def test_status_of_a_finished_run_prints_its_counts(fifty):
    result = cli("sweep", "status", fifty.run_id, "--store", fifty.store)
    assert result.code == 0, result.err
    assert result.out.strip() == (
        f"{fifty.run_id} lr50: succeeded; 151/151 nodes settled (succeeded 151); 50 points\n"
        "points: succeeded 50"
    )


# ---- one point configured to fail (on Ray) --------------------------------------------------


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> SweepRun:
    # num_samples=0 is a real config mistake: the hello_world loader raises ValueError for it.
    root = tmp_path_factory.mktemp("failing")
    log = root / "loader.log"
    file = write_sweep(root / "samples.yaml", name="samples", config=loader_config(log),
                       grid={NUM_SAMPLES: [3, 0, 4]})
    result = cli("sweep", "run", file, "--store", root / "store")
    return SweepRun(root / "store", file, log, run_id_of(result.out), result)


def test_sweep_with_a_failing_point_exits_1(failing):
    assert failing.cli.code == 1
    assert "Traceback" not in failing.cli.out + failing.cli.err


def test_every_other_point_of_a_failing_sweep_has_a_result_row_with_metrics(failing):
    rows = load_results(get_store(failing.store), failing.run_id).to_pylist()
    assert [(r[NUM_SAMPLES], r["status"]) for r in rows] == [
        (3, "succeeded"), (0, "failed"), (4, "succeeded"),
    ]
    assert all(isinstance(rows[i]["accuracy"], float) for i in (0, 2))
    assert rows[1]["accuracy"] is None
    assert rows[1]["failed_step"] == "prepare_dataset"
    assert rows[1]["error"] == "ValueError: num_samples must be at least 1, got 0"


def test_failure_table_names_the_failing_point_and_its_error(failing):
    out = failing.cli.out
    assert re.search(r"^\s*failures\s*$", out, re.M), out
    rows = re.findall(r"^│ (\w+)\s+│ (.+?)\s+│ (.+?)\s+│$", out.split("failures", 1)[1], re.M)
    error = "ValueError: num_samples must be at least 1, got 0"
    assert rows == [("prepare_dataset", "1 (num_samples=0)", error)]
    assert f"tracebacks: motools runs show {failing.run_id}" in out


def test_fixing_the_failing_point_reruns_only_its_chain(failing):
    fixed = write_sweep(failing.file.with_name("fixed.yaml"), name="samples",
                        config=loader_config(failing.log), grid={NUM_SAMPLES: [3, 5, 4]})
    calls_before = loader_calls(failing.log)
    result = cli("sweep", "run", fixed, "--store", failing.store)
    assert result.code == 0, result.out + result.err
    run_id = run_id_of(result.out)
    assert executed(failing.store, run_id) == {step: 1 for step in STEPS}
    assert Counter(sr.status for sr in step_runs(failing.store, run_id)) == {
        "succeeded": 4, "cached": 8,
    }
    assert loader_calls(failing.log) == [*calls_before, "5"]
    rows = load_results(get_store(failing.store), run_id).to_pylist()
    assert [r["status"] for r in rows] == ["cached", "succeeded", "cached"]


# ---- dry run ---------------------------------------------------------------------------------

DRY_ROW = re.compile(r"^│ (\w+)\s+│ (\d+)\s+│ (\d+)\s+│ (\d+)\s+│ (\d+)\s+│ (\d+)\s+│$", re.M)


def dry_counts(out: str) -> dict[str, dict[str, int]]:
    names = ("points", "nodes", "deduplicated", "cached", "to run")
    return {m[0]: dict(zip(names, map(int, m[1:]), strict=True)) for m in DRY_ROW.findall(out)}


def test_dry_run_counts_match_what_the_real_run_then_executes(tmp_path, isolated_store):
    log = tmp_path / "loader.log"
    warm = write_sweep(tmp_path / "warm.yaml", config=loader_config(log), grid={LR: [1e-4, 1e-3]})
    assert cli("sweep", "run", warm, "--executor", "inline").code == 0
    file = write_sweep(tmp_path / "wide.yaml", config=loader_config(log),
                       grid={LR: [1e-4, 1e-3, 1e-2], SEED: [0, 1]})

    dry = cli("sweep", "run", file, "--dry-run")
    assert dry.code == 0, dry.err
    counts = dry_counts(dry.out)
    assert list(counts) == list(STEPS)
    assert counts["prepare_dataset"] == {"points": 6, "nodes": 1, "deduplicated": 5,
                                         "cached": 1, "to run": 0}
    for step in STEPS[1:]:
        assert counts[step] == {"points": 6, "nodes": 6, "deduplicated": 0,
                                "cached": 2, "to run": 4}

    real = cli("sweep", "run", file, "--executor", "inline")
    assert real.code == 0, real.err
    ran = executed(isolated_store, run_id_of(real.out))
    assert {step: ran[step] for step in STEPS} == {s: c["to run"] for s, c in counts.items()}


def test_dry_run_with_force_rerun_counts_the_forced_steps_as_to_run(tmp_path, isolated_store):
    log = tmp_path / "loader.log"
    file = write_sweep(tmp_path / "sweep.yaml", config=loader_config(log),
                       grid={LR: [1e-4, 1e-3, 1e-2]})
    assert cli("sweep", "run", file, "--executor", "inline").code == 0

    dry = cli("sweep", "run", file, "--dry-run", "--force-rerun", "evaluate_model")
    assert dry.code == 0, dry.err
    real = cli("sweep", "run", file, "--force-rerun", "evaluate_model", "--executor", "inline")
    assert real.code == 0, real.err
    ran = executed(isolated_store, run_id_of(real.out))
    assert ran == {"evaluate_model": 3}
    counts = dry_counts(dry.out)
    assert {step: counts[step]["to run"] for step in STEPS} == {step: ran[step] for step in STEPS}


def test_force_rerun_all_with_a_step_name_is_refused_so_a_typo_cannot_hide(tmp_path):
    file = write_sweep(tmp_path / "sweep.yaml", grid={LR: [1e-4]})
    result = cli("sweep", "run", file, "--dry-run", "--force-rerun", "all,evalute_model")
    assert result.code == 2
    assert "'all' already means every step" in result.err and "\n" not in result.err.strip()


def test_dry_run_writes_nothing_to_the_store(tmp_path, isolated_store):
    log = tmp_path / "loader.log"
    file = write_sweep(tmp_path / "sweep.yaml", config=loader_config(log),
                       grid={LR: [1e-4, 1e-3]})
    dry = cli("sweep", "run", file, "--dry-run")
    assert dry.code == 0, dry.err
    assert dry_counts(dry.out)["evaluate_model"]["to run"] == 2
    assert not isolated_store.exists()
    assert loader_calls(log) == []


# ---- the sweeps shipped in sweeps/ ------------------------------------------------------------


@pytest.mark.parametrize(("name", "points"), [("hello_world_dummy.yaml", 8), ("epochs_zip.yaml", 4)])
def test_shipped_sweep_runs_as_shipped(name, points):
    path = REPO / "sweeps" / name
    result = cli("sweep", "run", path)
    assert result.code == 0, result.out + result.err
    table = load_results(get_store(), run_id_of(result.out))
    assert table.num_rows == points
    assert set(table.column("status").to_pylist()) == {"succeeded"}
    assert None not in table.column("accuracy").to_pylist()


# ---- bad sweep files -------------------------------------------------------------------------

GOOD = f"workflow: train_and_evaluate\nbase: {BASE}\n"
BAD_SPECS = {
    "unknown workflow": (
        f"workflow: nosuch\nbase: {BASE}\n",
        "unknown workflow 'nosuch'; available: train_and_evaluate",
    ),
    "bad dot path": (
        GOOD + "grid:\n  submit_training.hyperparameters.learnin_rate: [0.1]\n",
        "grid.submit_training.hyperparameters.learnin_rate: unknown config path; "
        "valid: submit_training.hyperparameters.learning_rate",
    ),
    "unequal zip": (
        GOOD + f"zip:\n  {LR}: [0.1, 0.2]\n  submit_training.suffix: [a]\n",
        f"zip: lists differ in length: {LR} has 2, submit_training.suffix has 1",
    ),
    "empty grid axis": (GOOD + f"grid:\n  {LR}: []\n", f"grid.{LR}: empty list"),
    "wrong value type": (
        GOOD + f"grid:\n  {LR}: [fast]\n",
        f"point 0 (learning_rate=fast): {LR}: Input should be a valid number",
    ),
    "axis not a list": (GOOD + f"grid:\n  {LR}: 0.1\n", f"grid.{LR}: Input should be a valid list"),
    "max_parallel not an integer": (
        GOOD + "max_parallel: two\n", "max_parallel: Input should be a valid integer",
    ),
    "unknown top-level key": (
        GOOD + f"gird:\n  {LR}: [0.1]\n", "gird: unknown key; allowed: name, workflow",
    ),
    "malformed yaml": ("workflow: train_and_evaluate\ngrid: [1,\n", "invalid YAML at line"),
    "missing base file": (
        "workflow: train_and_evaluate\nbase: nope.yaml\n", "base: config file not found:",
    ),
    "empty file": ("", "empty sweep file"),
    # Resources are execution options, but a value Ray cannot take must still be a bad input,
    # caught before anything runs, on every executor.
    "negative num_cpus resource": (
        GOOD + "resources:\n  submit_training: {num_cpus: -1}\n", "num_cpus",
    ),
    "num_cpus resource not a number": (
        GOOD + "resources:\n  submit_training: {num_cpus: lots}\n", "num_cpus",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_bad_sweep_file_is_one_error_line_and_exit_2(case, tmp_path, isolated_store):
    text, expected = BAD_SPECS[case]
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    result = cli("sweep", "run", file, "--executor", "inline")
    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.out + result.err
    assert not isolated_store.exists()


def test_status_of_an_unknown_run_is_one_error_line_and_exit_2():
    result = cli("sweep", "status", "run-20000101-000000-deadbeef")
    assert result.code == 2
    assert result.err.startswith("error: no run 'run-20000101-000000-deadbeef'")
    assert len(result.err.splitlines()) == 1
