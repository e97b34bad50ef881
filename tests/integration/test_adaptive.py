"""Adaptive sweeps on the dummy backends (instant, deterministic synthetic metrics): successive
halving, Optuna search, both together, the CLI around them, and every refusal."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from motools import RunOptions, run_sweep
from motools.engine import get_ledger
from motools.errors import ConfigError
from motools.sweep import SweepResult, run_sweep_file
from motools.sweep.adaptive import load_rungs
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig, train_and_evaluate_workflow
from tests.cli_runner import cli, write

REPO = Path(__file__).resolve().parents[2]
LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"
N_EPOCHS = "submit_training.hyperparameters.n_epochs"
LRS = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
SCHEDULE = {"metric": "accuracy", "mode": "max", "resource": N_EPOCHS, "rungs": [1, 3, 9],
            "reduction_factor": 3}
SEARCH = {"algorithm": "tpe", "metric": "accuracy", "num_samples": 6, "batch_size": 3,
          "seed": 7, "params": {LR: {"loguniform": [1e-5, 1e-1]}}}


def dummy() -> TrainAndEvaluateConfig:
    return TrainAndEvaluateConfig.from_yaml(REPO / "configs" / "hello_world.yaml")


def halving(store: Path, **axes) -> SweepResult:
    axes.setdefault("grid", {LR: LRS})
    return run_sweep(train_and_evaluate_workflow, dummy(), schedule=SCHEDULE,
                     options=RunOptions(executor="inline", store=store), **axes)


def rows(result: SweepResult) -> list[dict]:
    return result.table.select(["point", LR, "accuracy", "rung", "resource", "status"]).to_pylist()


def test_each_rung_promotes_the_top_third_by_the_metric(tmp_path):
    result = halving(tmp_path / "store")
    rungs = load_rungs(result.store, result.run_id).to_pylist()
    for r in (0, 1):
        ran = {row["point"]: row["accuracy"] for row in rungs if row["rung"] == r}
        went_on = {row["point"] for row in rungs if row["rung"] == r + 1}
        keep = math.ceil(len(ran) / 3)
        ranked = sorted(ran, key=lambda p: (-ran[p], p))
        assert went_on == set(ranked[:keep])
    assert [len([row for row in rungs if row["rung"] == r]) for r in range(3)] == [9, 3, 1]


def test_a_point_not_promoted_is_stopped_and_never_trained_again(tmp_path):
    result = halving(tmp_path / "store")
    table = rows(result)
    statuses = Counter(row["status"] for row in table)
    assert statuses == {"stopped": 8, "succeeded": 1}
    assert result.ok and result.failures == []
    trained = Counter(sr.config["hyperparameters"]["n_epochs"]
                      for sr in get_ledger(result.store).step_runs_of(result.run_id)
                      if sr.step == "submit_training" and sr.status == "succeeded")
    assert trained == {1: 9, 3: 3, 9: 1}
    for row in table:
        assert row["resource"] == [1, 3, 9][row["rung"]]


def test_the_run_says_what_it_trained_against_the_grid(tmp_path):
    result = halving(tmp_path / "store")
    assert result.summary is not None
    # The dummy backend records no epochs and never warm-starts: every rung is paid in full.
    assert (result.summary["trained"], result.summary["grid"]) == (9 * 1 + 3 * 3 + 1 * 9, 9 * 9)
    best = next(row for row in rows(result) if row["status"] == "succeeded")
    assert (result.summary["best_point"], result.summary["best"]) == (best["point"],
                                                                    best["accuracy"])
    record = get_ledger(result.store).get_run(result.run_id)
    assert record.info["adaptive"]["trained"] == result.summary["trained"]


def test_a_rerun_is_served_from_cache_and_decides_the_same(tmp_path):
    first = halving(tmp_path / "store")
    again = halving(tmp_path / "store")
    assert [(r["point"], r["rung"], r["status"]) for r in rows(first)] == [
        (r["point"], r["rung"], "stopped" if r["status"] == "stopped" else "succeeded")
        for r in rows(again)]
    assert {r["status"] for r in rows(again)} == {"stopped", "cached"}


def test_the_same_adaptive_sweep_in_two_fresh_stores_gives_identical_tables(tmp_path):
    one, two = halving(tmp_path / "a"), halving(tmp_path / "b")
    assert one.table.drop(["eval_atom"]).equals(two.table.drop(["eval_atom"]))
    assert one.table.column("eval_atom").to_pylist() == two.table.column("eval_atom").to_pylist()


def test_a_failing_point_is_not_promoted_and_the_others_go_on(tmp_path):
    points = [{LR: lr} for lr in LRS[:3]]
    points.append({LR: 1e-3, "prepare_dataset.loader_kwargs.num_samples": 0})
    result = halving(tmp_path / "store", grid={}, points=points)
    table = rows(result)
    assert table[-1]["status"] == "failed" and table[-1]["rung"] == 0
    assert [f.index for f in result.failures] == [3]
    assert {r["status"] for r in table[:-1]} == {"stopped", "succeeded"}


def test_hyperband_starts_brackets_at_successive_rungs(tmp_path):
    result = run_sweep(train_and_evaluate_workflow, dummy(), grid={LR: LRS},
                       schedule={**SCHEDULE, "kind": "hyperband"},
                       options=RunOptions(executor="inline", store=tmp_path / "store"))
    rungs = load_rungs(result.store, result.run_id).to_pylist()
    first = {}
    for row in rungs:
        first.setdefault(row["point"], row["rung"])
    assert sorted(set(first.values())) == [0, 1, 2]


def test_tpe_with_a_fixed_seed_proposes_the_same_points_twice(tmp_path):
    def proposed(store: Path) -> list[float]:
        result = run_sweep(train_and_evaluate_workflow, dummy(), search=SEARCH,
                           options=RunOptions(executor="inline", store=store))
        return result.table.column(LR).to_pylist()

    first = proposed(tmp_path / "a")
    assert len(set(first)) == 6
    assert proposed(tmp_path / "b") == first


def test_search_crossed_with_seeds_tells_the_mean_and_goes_through_the_rungs(tmp_path):
    result = run_sweep(train_and_evaluate_workflow, dummy(), grid={SEED: [0, 1]},
                       search=SEARCH, schedule={**SCHEDULE, "rungs": [1, 3]},
                       options=RunOptions(executor="inline", store=tmp_path / "store"))
    table = result.table.to_pylist()
    assert len(table) == 12
    assert [r["round"] for r in table] == [0] * 6 + [1] * 6
    for trial in range(6):  # a trial's seeds go through the rungs together
        members = [r for r in table if r["trial"] == trial]
        assert len(members) == 2 and len({(r[LR], r["rung"], r["status"]) for r in members}) == 1
    promoted = {r["trial"] for r in table if r["rung"] == 1}
    assert len(promoted) == 2  # ceil(3 / 3) per round
    for round_no in (0, 1):
        trials = {r["trial"]: [] for r in table if r["round"] == round_no}
        for row in load_rungs(result.store, result.run_id).to_pylist():
            if row["trial"] in trials and row["rung"] == 0:
                trials[row["trial"]].append(row["accuracy"])
        best = max(trials, key=lambda t: (sum(trials[t]) / 2, -t))
        assert best in promoted


def test_a_search_rerun_proposes_the_same_points_from_the_cache(tmp_path):
    options = RunOptions(executor="inline", store=tmp_path / "store")
    first = run_sweep(train_and_evaluate_workflow, dummy(), search=SEARCH, options=options)
    again = run_sweep(train_and_evaluate_workflow, dummy(), search=SEARCH, options=options)
    assert again.table.column(LR).to_pylist() == first.table.column(LR).to_pylist()
    assert set(again.table.column("status").to_pylist()) == {"cached"}


@pytest.mark.parametrize(("schedule", "error"), [
    ({**SCHEDULE, "resource": LR}, r"schedule.resource: .*learning_rate is not a positive "
                                   r"whole-number config field"),
    ({**SCHEDULE, "resource": SEED}, r"schedule.resource: .*seed is also swept \(grid\."),
    ({**SCHEDULE, "resource": "submit_training.hyperparameters.n_epoch"},
     r"schedule.resource: unknown config path"),
    ({**SCHEDULE, "rungs": [3, 1]}, r"schedule.rungs: rungs must increase"),
    ({**SCHEDULE, "metric": "status"}, r"schedule.metric: 'status' is not a metric column"),
])
def test_a_bad_schedule_is_refused_before_anything_runs(tmp_path, schedule, error):
    with pytest.raises(ConfigError, match=error):
        run_sweep(train_and_evaluate_workflow, dummy(), grid={SEED: [0, 1]}, schedule=schedule,
                  options=RunOptions(executor="inline", store=tmp_path / "store"))
    assert not (tmp_path / "store").exists()


def test_a_metric_no_step_produces_is_refused_naming_the_columns(tmp_path):
    with pytest.raises(ConfigError, match=r"schedule.metric: no step produces 'acc'; results "
                                          r"columns: accuracy"):
        run_sweep(train_and_evaluate_workflow, dummy(), grid={LR: LRS[:2]},
                  schedule={**SCHEDULE, "metric": "acc"},
                  options=RunOptions(executor="inline", store=tmp_path / "store"))


@pytest.mark.parametrize(("search", "extra", "error"), [
    ({**SEARCH, "params": {LR: {"normal": [0, 1]}}}, {}, r"search.params.*unknown distribution"),
    (SEARCH, {"grid": {LR: [1e-3]}}, r"search.params.*also swept"),
    (SEARCH, {"sample": {"num_samples": 2, "params": {SEED: {"randint": [0, 9]}}}},
     r"search: and sample: both draw points"),
    ({**SEARCH, "algorithm": "cmaes", "params": {SEED: {"choice": [0, 1]}}}, {},
     r"cmaes searches numbers only"),
])
def test_a_bad_search_is_refused_before_anything_runs(tmp_path, search, extra, error):
    with pytest.raises(ConfigError, match=error):
        run_sweep(train_and_evaluate_workflow, dummy(), search=search,
                  options=RunOptions(executor="inline", store=tmp_path / "store"), **extra)
    assert not (tmp_path / "store").exists()


def sweep_file(tmp_path: Path) -> Path:
    return write(tmp_path / "asha.yaml", {
        "name": "asha", "workflow": "train_and_evaluate",
        "base": str(REPO / "configs" / "hello_world.yaml"), "grid": {LR: LRS},
        "schedule": SCHEDULE})


def test_cli_dry_run_prints_the_rungs_and_the_worst_case(tmp_path):
    done = cli("sweep", "run", sweep_file(tmp_path), "--dry-run", "--store", tmp_path / "store")
    assert done.code == 0, done.err
    assert "worst case 21 of 81 epoch-units of the full grid (3.9x less)" in done.out
    for rung, value, points in ((0, 1, 9), (1, 3, 3), (2, 9, 1)):
        assert f"│ {rung}    │ {value} " in done.out and f"│ {points} " in done.out
    assert not (tmp_path / "store").exists()


def test_cli_run_ends_with_the_cost_line_and_exit_zero(tmp_path):
    done = cli("sweep", "run", sweep_file(tmp_path), "--store", tmp_path / "store",
               "--executor", "inline")
    assert done.code == 0, done.err
    assert "trained 27 of 81 epoch-units (3.0x less than the grid); best accuracy" in done.out
    assert done.out.count("stopped") == 8


def test_cli_status_counts_points_per_rung(tmp_path):
    path = sweep_file(tmp_path)
    cli("sweep", "run", path, "--store", tmp_path / "store", "--executor", "inline")
    done = cli("sweep", "status", path, "--store", tmp_path / "store")
    assert "rung 0: stopped 6" in done.out
    assert "rung 1: stopped 2" in done.out
    assert "rung 2: succeeded 1" in done.out


def test_cli_plot_across_rungs_draws_a_png(tmp_path):
    path = sweep_file(tmp_path)
    cli("sweep", "run", path, "--store", tmp_path / "store", "--executor", "inline")
    done = cli("sweep", "plot", path, "--store", tmp_path / "store", "--x", "rung", "--y",
               "accuracy", "-o", tmp_path / "rungs.png")
    assert done.code == 0, done.err
    assert (tmp_path / "rungs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_a_bad_resource_is_one_line_and_exit_2(tmp_path):
    path = write(tmp_path / "bad.yaml", {
        "workflow": "train_and_evaluate", "base": str(REPO / "configs" / "hello_world.yaml"),
        "grid": {LR: LRS[:2]}, "schedule": {**SCHEDULE, "resource": LR}})
    done = cli("sweep", "run", path, "--store", tmp_path / "store")
    assert done.code == 2
    assert "schedule.resource" in done.err and len(done.err.strip().splitlines()) == 1


def test_a_sweep_file_with_a_schedule_runs_like_run_sweep(tmp_path):
    result = run_sweep_file(sweep_file(tmp_path),
                            options=RunOptions(executor="inline", store=tmp_path / "store"))
    direct = halving(tmp_path / "store")
    assert rows(result) == [dict(r, status="stopped" if r["status"] == "stopped" else "succeeded")
                            for r in rows(direct)]


@pytest.mark.parametrize(("name", "points", "statuses"), [
    ("asha_dummy.yaml", 9, {"stopped": 8, "succeeded": 1}),
    ("tpe_dummy.yaml", 18, {"stopped": 12, "succeeded": 6}),
])
def test_shipped_adaptive_sweeps_run_on_the_local_ray_as_shipped(name, points, statuses):
    from motools.atom import get_store
    from motools.sweep import load_results
    from tests.cli_runner import run_id_of

    done = cli("sweep", "run", REPO / "sweeps" / name)
    assert done.code == 0, done.out + done.err
    table = load_results(get_store(), run_id_of(done.out))
    assert table.num_rows == points
    assert Counter(table.column("status").to_pylist()) == statuses


def test_an_adaptive_sweep_runs_on_an_s3_store(s3_endpoint, monkeypatch):
    import uuid

    from tests.s3_server import BUCKET, s3_env

    for key, value in s3_env(s3_endpoint).items():
        monkeypatch.setenv(key, value)
    result = halving(f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}", grid={LR: LRS[:4]})
    assert Counter(result.table.column("status").to_pylist()) == {"stopped": 3, "succeeded": 1}
    assert load_rungs(result.store, result.run_id).num_rows == 4 + 2 + 1


def test_an_adaptive_run_records_each_points_last_steps_and_reports_every_rung(tmp_path):
    from motools.report import build_report
    from motools.sweep import read_point_index

    result = halving(tmp_path / "store", grid={LR: LRS[:3]})
    entries = read_point_index(result.store, result.run_id)
    assert [len(e.nodes) for e in entries] == [4, 4, 4]
    page = build_report(result.run_id, tmp_path / "report", store=result.store)
    html = (page if page.suffix == ".html" else page / "index.html").read_text()
    assert "plot-rungs" in html and "accuracy across rungs" in html
