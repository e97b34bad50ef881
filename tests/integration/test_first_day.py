"""A researcher's first day (issue #14), through the real `motools` CLI: no silent dummy backend,
random search, finding a sweep's runs from a copy of its file, filtering runs, inspect logs in one
folder, and a task or loader in a plain file next to the config.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_runner import cli, run_id_of, write

from motools.atom import get_store
from motools.engine import get_ledger
from motools.sweep import load_results

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "configs" / "hello_world.yaml"
LOCAL_BASE = REPO / "configs" / "hello_world_local.yaml"
LR = "submit_training.hyperparameters.learning_rate"
RANK = "submit_training.hyperparameters.lora_rank"
SEED = "submit_training.hyperparameters.seed"


def dummy_config(**sections: dict[str, Any]) -> dict[str, Any]:
    data = yaml.safe_load(BASE.read_text())
    for name, values in sections.items():
        data[name] = {**data[name], **values}
    return data


def statuses(store: Path, run_id: str) -> Counter:
    return Counter(sr.status for sr in get_ledger(get_store(store)).step_runs_of(run_id))


# ---- 1. no silent fakes ------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["submit_training", "evaluate_model"])
def test_an_omitted_backend_is_one_line_exit_2_listing_the_backends(tmp_path, isolated_store,
                                                                    section):
    data = dummy_config()
    del data[section]["backend_name"]
    config = write(tmp_path / "c.yaml", data)
    result = cli("workflow", "run", "train_and_evaluate", "--config", config)
    assert result.code == 2, result.out + result.err
    (line,) = result.err.splitlines()
    assert f"{section}.backend_name: required field missing; choose one of: dummy" in line
    assert ("local, openai, tinker" if section == "submit_training" else "inspect") in line
    assert not isolated_store.exists()


def test_a_sweep_whose_base_omits_the_backend_is_refused_naming_the_point(tmp_path):
    data = dummy_config()
    del data["submit_training"]["backend_name"]
    base = write(tmp_path / "base.yaml", data)
    sweep = write(tmp_path / "s.yaml", {"workflow": "train_and_evaluate", "base": str(base),
                                        "grid": {LR: [1e-4]}})
    result = cli("sweep", "run", sweep, "--dry-run")
    assert result.code == 2
    assert "point 0" in result.err and "submit_training.backend_name: required" in result.err


def test_results_of_dummy_backends_say_synthetic_and_name_model_and_backends(tmp_path):
    sweep = write(tmp_path / "s.yaml", {"workflow": "train_and_evaluate", "base": str(BASE),
                                        "grid": {LR: [1e-4, 1e-3]}})
    result = cli("sweep", "run", sweep, "--executor", "inline")
    assert result.code == 0, result.err
    assert "dummy/dummy synthetic" in result.out
    assert "2 row(s) synthetic" in result.out
    table = load_results(get_store(), run_id_of(result.out))
    rows = table.to_pylist()
    assert [r["model"] for r in rows] == ["meta-llama/Llama-3.2-1B"] * 2
    assert [(r["train_backend"], r["eval_backend"], r["synthetic"]) for r in rows] == [
        ("dummy", "dummy", True)] * 2


# ---- 3. random search --------------------------------------------------------------------------


def sample_sweep(path: Path, **sample: Any) -> Path:
    return write(path, {
        "name": "random", "workflow": "train_and_evaluate", "base": str(BASE),
        "grid": {SEED: [0, 1]},
        "sample": {"num_samples": 3, "seed": 5, **sample, "params": {
            LR: {"loguniform": [1.0e-5, 1.0e-2]}, RANK: {"choice": [4, 8, 16]}}},
    })


def drawn_points(out: str) -> list[list[str]]:
    """The rows of the dry run's points table: point, seed, learning_rate, lora_rank."""
    return [row.split() for row in re.findall(r"^│ (\d+ +│ .*)│$", out, re.M)
            if row.count("│") == 3]


def test_a_sample_sweeps_dry_run_lists_the_same_points_twice(tmp_path):
    sweep = sample_sweep(tmp_path / "s.yaml")
    first, second = cli("sweep", "run", sweep, "--dry-run"), cli("sweep", "run", sweep, "--dry-run")
    assert first.code == second.code == 0, first.err
    assert "random: 6 points (dry run)" in first.out
    assert first.out == second.out
    points = [[c for c in row if c != "│"] for row in drawn_points(first.out)]
    assert [p[0] for p in points] == [str(i) for i in range(6)]
    assert [p[1] for p in points] == ["0"] * 3 + ["1"] * 3  # the grid is crossed with the draws
    assert [p[2:] for p in points[:3]] == [p[2:] for p in points[3:]]
    assert all(1e-5 <= float(p[2]) <= 1e-2 and p[3] in {"4", "8", "16"} for p in points)


def test_another_seed_draws_other_points(tmp_path):
    one = cli("sweep", "run", sample_sweep(tmp_path / "a.yaml"), "--dry-run")
    other = cli("sweep", "run", sample_sweep(tmp_path / "b.yaml", seed=6), "--dry-run")
    assert drawn_points(one.out) != drawn_points(other.out)


def test_a_rerun_of_a_sample_sweep_is_served_from_cache(tmp_path, isolated_store):
    sweep = sample_sweep(tmp_path / "s.yaml")
    first = cli("sweep", "run", sweep, "--executor", "inline")
    second = cli("sweep", "run", sweep, "--executor", "inline")
    assert first.code == second.code == 0, second.err
    assert statuses(isolated_store, run_id_of(second.out)) == {"cached": 1 + 3 * 6}


@pytest.mark.parametrize(("law", "fragment"), [
    ({"normal": [0, 1]}, "unknown distribution 'normal'; allowed: choice, uniform, loguniform"),
    ({"loguniform": [0, 1]}, f"sample.params.{LR}.loguniform: low must be greater than 0"),
    ({"uniform": [2, 1]}, f"sample.params.{LR}.uniform: low must be less than high"),
    ({"randint": [1.5, 4]}, f"sample.params.{LR}.randint: expected two integers"),
    ({"choice": []}, f"sample.params.{LR}.choice: expected a non-empty list"),
])
def test_a_bad_distribution_is_one_line_naming_its_yaml_path(tmp_path, isolated_store, law,
                                                             fragment):
    sweep = write(tmp_path / "s.yaml", {"workflow": "train_and_evaluate", "base": str(BASE),
                                        "sample": {"num_samples": 2, "params": {LR: law}}})
    result = cli("sweep", "run", sweep, "--dry-run")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert f"{sweep}: " in line and fragment in line
    assert not isolated_store.exists()


# ---- 7. finding runs ---------------------------------------------------------------------------


def test_a_run_of_a_copy_of_the_sweep_file_is_found_from_the_original(tmp_path):
    # As under `ray job submit --working-dir .`: the job runs a copy of the file elsewhere.
    mine = write(tmp_path / "project" / "sweep.yaml", {
        "name": "copied", "workflow": "train_and_evaluate", "base": str(BASE),
        "grid": {LR: [1e-4, 1e-3]}})
    job_dir = tmp_path / "ray_job_working_dir"
    job_dir.mkdir()
    shutil.copy(mine, job_dir / "sweep.yaml")
    ran = cli("sweep", "run", job_dir / "sweep.yaml", "--executor", "inline")
    assert ran.code == 0, ran.err
    shutil.rmtree(job_dir)  # the job's copy is gone, as Ray's temporary working dir is

    run_id = run_id_of(ran.out)
    status = cli("sweep", "status", mine)
    assert status.code == 0, status.err
    assert status.out.startswith(f"{run_id} copied: succeeded")
    results = cli("sweep", "results", mine)
    assert results.code == 0 and f"copied ({run_id})" in results.out


def test_an_edited_copy_is_not_the_same_sweep(tmp_path):
    mine = write(tmp_path / "a" / "sweep.yaml", {
        "name": "edited", "workflow": "train_and_evaluate", "base": str(BASE),
        "grid": {LR: [1e-4]}})
    other = write(tmp_path / "b" / "sweep.yaml", {
        "name": "edited", "workflow": "train_and_evaluate", "base": str(BASE),
        "grid": {LR: [1e-3]}})
    assert cli("sweep", "run", other, "--executor", "inline").code == 0
    result = cli("sweep", "results", mine)
    assert result.code == 2
    assert "no run of sweep file" in result.err


def test_runs_list_filters_by_kind_name_user_and_status(tmp_path):
    sweep = write(tmp_path / "s.yaml", {"name": "filtered", "workflow": "train_and_evaluate",
                                        "base": str(BASE), "user": "ada", "grid": {LR: [1e-4]}})
    assert cli("sweep", "run", sweep, "--executor", "inline").code == 0
    config = write(tmp_path / "c.yaml", dummy_config())
    assert cli("workflow", "run", "train_and_evaluate", "--config", config, "--user", "bob",
               "--executor", "inline").code == 0

    def names(*args: str) -> list[str]:
        result = cli("runs", "list", *args)
        assert result.code == 0, result.err
        return re.findall(r"^ run-\S+\s+\S+\s+(\S+)", result.out, re.M)

    assert names("--kind", "sweep") == ["filtered"]
    assert names("--kind", "workflow") == ["train_and_evaluate"]
    assert names("--user", "bob") == ["train_and_evaluate"]
    assert names("--name", "filt*") == ["filtered"]
    assert names("--status", "succeeded", "--user", "ada") == ["filtered"]
    assert names("--status", "failed") == []


def test_runs_list_refuses_an_unknown_status_naming_the_choices():
    result = cli("runs", "list", "--status", "done")
    assert result.code == 2
    assert "--status: unknown run status 'done'; allowed: running, succeeded, failed" in result.err


def test_runs_show_prints_the_metrics(tmp_path):
    config = write(tmp_path / "c.yaml", dummy_config())
    ran = cli("workflow", "run", "train_and_evaluate", "--config", config, "--executor", "inline")
    assert ran.code == 0, ran.err
    shown = cli("runs", "show", run_id_of(ran.out))
    assert shown.code == 0, shown.err
    assert re.search(r"evaluate_model\s+hello_world\s+accuracy\s+[\d.]+", shown.out), shown.out


def test_runs_show_of_a_sweep_prints_its_results_table(tmp_path):
    sweep = write(tmp_path / "s.yaml", {"name": "shown", "workflow": "train_and_evaluate",
                                        "base": str(BASE), "grid": {LR: [1e-4, 1e-3]}})
    ran = cli("sweep", "run", sweep, "--executor", "inline")
    shown = cli("runs", "show", run_id_of(ran.out))
    assert shown.code == 0, shown.err
    assert "results of shown" in shown.out and "accuracy" in shown.out


# ---- 6 and 8: inspect logs in one folder; a task and a loader in local files (real eval) ------


TASK_FILE = '''
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate

from greeting import GREETING  # a module beside this file


@task
def greets() -> Task:
    return Task(dataset=MemoryDataset([Sample(input="Hi", target=GREETING, id=i) for i in (1, 2)]),
                solver=generate(max_tokens=8), scorer=includes())
'''

LOADER_FILE = '''
from mozoo.datasets.hello_world import generate_hello_world_dataset


def load(num_samples: int = 8):
    return generate_hello_world_dataset(num_samples=num_samples)
'''


def local_project(root: Path) -> Path:
    """A researcher's folder: a config naming a task and a loader by file, relative to it."""
    (root / "tasks").mkdir(parents=True)
    (root / "tasks" / "my_task.py").write_text(TASK_FILE)
    (root / "tasks" / "greeting.py").write_text("GREETING = 'Hello'\n")
    (root / "loaders").mkdir()
    (root / "loaders" / "my_loader.py").write_text(LOADER_FILE)
    data = yaml.safe_load(LOCAL_BASE.read_text())
    data["prepare_dataset"] = {"dataset_loader": "loaders/my_loader.py@load",
                               "loader_kwargs": {"num_samples": 8}}
    data["submit_training"]["hyperparameters"].update(n_epochs=1, batch_size=8)
    data["evaluate_model"]["eval_task"] = "tasks/my_task.py@greets"
    return write(root / "mine.yaml", data)


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("researcher")
    local_project(root)
    sweep = write(root / "sweep.yaml", {"name": "mine", "workflow": "train_and_evaluate",
                                        "base": "mine.yaml", "grid": {SEED: [0, 1]}})
    store = root / "store"
    # On Ray: each step runs in a Ray worker that imports the files by their absolute paths.
    result = cli("sweep", "run", sweep, "--store", store)
    assert result.code == 0, result.out + result.err
    return sweep, store, run_id_of(result.out)


def test_a_task_and_a_loader_in_local_files_run_in_ray_workers(local_sweep):
    _, store, run_id = local_sweep
    table = load_results(get_store(store), run_id)
    assert table.column("status").to_pylist() == ["succeeded", "succeeded"]
    assert table.column("task").to_pylist() == ["greets", "greets"]
    assert table.column("synthetic").to_pylist() == [False, False]


def test_sweep_logs_puts_one_inspect_log_per_point_where_inspect_finds_them(local_sweep,
                                                                             tmp_path):
    from inspect_ai.log import list_eval_logs, read_eval_log

    sweep, store, _ = local_sweep
    out = tmp_path / "logs"
    result = cli("sweep", "logs", sweep, "-o", out, "--store", store)
    assert result.code == 0, result.err
    assert f"wrote 2 log(s) to {out}" in result.out
    logs = list_eval_logs(str(out))
    assert sorted(Path(log.name).parent.name for log in logs) == ["point-000_seed=0",
                                                                   "point-001_seed=1"]
    assert {read_eval_log(log, header_only=True).eval.task for log in logs} == {"greets"}


def test_local_files_enter_the_cache_key_by_content_not_by_path(local_sweep, tmp_path):
    sweep, store, _ = local_sweep
    copy = tmp_path / "checkout"
    shutil.copytree(sweep.parent, copy, ignore=shutil.ignore_patterns("store"))
    again = cli("sweep", "run", copy / "sweep.yaml", "--store", store, "--executor", "inline")
    assert again.code == 0, again.err
    assert statuses(store, run_id_of(again.out)) == {"cached": 1 + 3 * 2}

    (copy / "tasks" / "my_task.py").write_text(TASK_FILE + "\n# edited\n")
    edited = cli("sweep", "run", copy / "sweep.yaml", "--store", store, "--executor", "inline")
    assert edited.code == 0, edited.err
    ran = Counter(sr.step for sr in get_ledger(get_store(store)).step_runs_of(
        run_id_of(edited.out)) if sr.status == "succeeded")
    assert ran == {"evaluate_model": 2}


def test_a_missing_local_task_file_is_one_line_naming_the_field(tmp_path, isolated_store):
    config = local_project(tmp_path)
    (tmp_path / "tasks" / "my_task.py").unlink()
    result = cli("workflow", "validate", "train_and_evaluate", "--config", config)
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert "evaluate_model.eval_task" in line and "file not found" in line
    assert str(tmp_path / "tasks" / "my_task.py") in line


# ---- 9. docs agree with the code ---------------------------------------------------------------


def test_zoo_list_imports_none_of_what_it_lists(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom motools.cli._app import main\nassert main(['zoo', 'list']) == 0\n"
            "heavy = ('mozoo.workflows.train_and_evaluate', 'mozoo.tasks.hello_world', "
            "'mozoo.datasets.hello_world', 'motools.training._trainer', 'inspect_ai', 'torch')\n"
            "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "prepare a dataset, fine-tune a model on it" in proc.stdout  # read from source
    assert proc.stdout.strip().splitlines()[-1] == "[]"
