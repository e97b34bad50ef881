"""`run_sweep`, the Python API of sweeps, on the train_and_evaluate workflow and dummy backends.

Most tests use the inline executor (Ray adds nothing to what they check); `max_parallel` is
checked on the session's real local Ray. A step "executed" when its Ledger step run says
`succeeded`; a cache hit says `cached`.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from motools.atom import Atom
from motools.engine import RunOptions, get_ledger
from motools.errors import ArgumentError, ConfigError
from motools.sweep import (
    PointFailure,
    SweepResult,
    dry_run_sweep,
    metric_columns,
    param_columns,
    run_sweep,
)
from motools.workflow import run_workflow
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig, train_and_evaluate_workflow

REPO = Path(__file__).resolve().parents[2]
STEPS = ["prepare_dataset", "submit_training", "wait_for_training", "evaluate_model"]
LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"
NUM_SAMPLES = "prepare_dataset.loader_kwargs.num_samples"
LRS = [1e-4, 1e-3]
SEEDS = [0, 1]


def hello_world() -> TrainAndEvaluateConfig:
    # The shipped config runs on the offline `dummy` backends: synthetic metrics, no API key.
    return TrainAndEvaluateConfig.from_yaml(REPO / "configs" / "hello_world.yaml")


def lr_by_seed(**options) -> SweepResult:
    options.setdefault("executor", "inline")
    return run_sweep(train_and_evaluate_workflow, hello_world(), grid={LR: LRS, SEED: SEEDS},
                     options=RunOptions(user="alice", **options))


def ledger_counts(result: SweepResult) -> Counter:
    """(step, status) -> count, over the Ledger's step runs of the sweep's run."""
    runs = get_ledger(result.store).step_runs_of(result.run_id)
    return Counter((sr.step, sr.status) for sr in runs)


def test_to_pandas_has_one_row_per_point_in_grid_order():
    frame = lr_by_seed().to_pandas()
    assert len(frame) == 4
    assert list(zip(frame[LR], frame[SEED], strict=True)) == list(itertools.product(LRS, SEEDS))
    assert list(frame["point"]) == [0, 1, 2, 3]
    assert set(frame["status"]) == {"succeeded"}
    assert frame["accuracy"].between(0, 1).all()


def test_to_arrow_is_the_same_table_with_parameter_and_metric_columns_named():
    result = lr_by_seed()
    table = result.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.to_pandas().equals(result.to_pandas())
    assert param_columns(table) == [LR, SEED]
    assert metric_columns(table) == ["accuracy", "n", "stderr"]


def test_successful_sweep_has_no_failures():
    result = lr_by_seed()
    assert result.failures == []
    assert result.ok


def test_point_results_hold_each_points_step_states():
    result = lr_by_seed()
    assert len(result.point_results) == len(result.points) == 4
    for i, point_result in enumerate(result.point_results):
        states = point_result.step_states
        assert [s.name for s in states] == STEPS
        assert {s.status for s in states} == {"succeeded"}
        eval_id = states["evaluate_model"].output_atoms["eval_results"]
        assert result.to_pandas()["eval_atom"][i] == eval_id
        assert Atom.load(eval_id).load().metrics["hello_world"]["accuracy"] == (
            result.to_pandas()["accuracy"][i]
        )


def test_points_share_the_one_dataset_they_all_prepare():
    result = lr_by_seed()
    datasets = {r.step_states["prepare_dataset"].output_atoms["prepared_dataset"]
                for r in result.point_results}
    assert len(datasets) == 1
    assert ledger_counts(result)[("prepare_dataset", "succeeded")] == 1


def test_point_overrides_reach_the_points_config():
    result = lr_by_seed()
    for point, (lr, seed) in zip(result.points, itertools.product(LRS, SEEDS), strict=True):
        assert point.overrides == {LR: lr, SEED: seed}
        hp = point.config.submit_training.hyperparameters
        assert (hp.learning_rate, hp.seed) == (lr, seed)


def test_sweep_outputs_are_recorded_as_made_by_the_user():
    result = lr_by_seed()
    eval_atom = Atom.load(result.to_pandas()["eval_atom"][0])
    assert eval_atom.user == "alice"
    assert set(eval_atom.made_from) == {"trained_model"}


def test_second_identical_sweep_is_served_from_cache():
    lr_by_seed()
    again = lr_by_seed()
    assert set(again.to_pandas()["status"]) == {"cached"}
    assert {status for (_, status) in ledger_counts(again)} == {"cached"}


def test_force_rerun_evaluate_model_re_executes_only_evaluate_model_nodes():
    first = lr_by_seed()
    forced = lr_by_seed(force_rerun=["evaluate_model"])
    assert ledger_counts(forced) == {
        ("prepare_dataset", "cached"): 1,
        ("submit_training", "cached"): 4,
        ("wait_for_training", "cached"): 4,
        ("evaluate_model", "succeeded"): 4,
    }
    # The dummy eval is deterministic: re-evaluating gives the same atoms and metrics.
    assert list(forced.to_pandas()["eval_atom"]) == list(first.to_pandas()["eval_atom"])


def test_unknown_force_rerun_step_is_a_config_error_before_anything_runs(isolated_store):
    with pytest.raises(ConfigError, match=r"force_rerun: no step\(s\) \['evaluate'\]"):
        lr_by_seed(force_rerun=["evaluate"])
    assert not (isolated_store / "atoms").exists()


def test_failing_point_is_reported_in_failures_not_raised():
    # num_samples=0 is a real mistake: the hello_world loader raises ValueError for it.
    result = run_sweep(train_and_evaluate_workflow, hello_world(), grid={NUM_SAMPLES: [5, 0]},
                       options=RunOptions(user="alice", executor="inline"))
    assert not result.ok
    assert result.failures == [
        PointFailure(index=1, overrides={NUM_SAMPLES: 0}, step="prepare_dataset",
                     error="ValueError: num_samples must be at least 1, got 0"),
    ]
    frame = result.to_pandas()
    assert list(frame["status"]) == ["succeeded", "failed"]
    assert frame["accuracy"][0] >= 0 and frame["accuracy"].isna()[1]
    states = result.point_results[1].step_states
    assert [s.status for s in states] == ["failed", "skipped", "skipped", "skipped"]


def test_run_sweep_accepts_a_registered_workflow_name_and_a_dict_config():
    config = hello_world().to_dict()
    result = run_sweep("train_and_evaluate", config, grid={LR: LRS},
                       options=RunOptions(executor="inline"))
    assert len(result.to_pandas()) == 2
    assert result.failures == []


def test_max_parallel_one_completes_on_ray_one_step_at_a_time():
    result = run_sweep(train_and_evaluate_workflow, hello_world(), grid={LR: [1e-4, 1e-3, 1e-2]},
                       options=RunOptions(user="alice", max_parallel=1))
    assert result.ok
    assert len(result.to_pandas()) == 3
    ran = sorted((sr for sr in get_ledger(result.store).step_runs_of(result.run_id)
                  if sr.status == "succeeded"), key=lambda sr: sr.started_at)
    assert len(ran) == 1 + 3 * 3
    assert os.getpid() not in {sr.pid for sr in ran}, "steps ran in the driver, not on Ray"
    for before, after in itertools.pairwise(ran):
        assert after.started_at >= before.ended_at, f"{before.step} and {after.step} overlapped"


def test_run_sweep_takes_its_run_options_as_one_object(isolated_store):
    options = RunOptions(executor="inline", user="dana", force_rerun={"evaluate_model"})
    first = run_sweep(train_and_evaluate_workflow, hello_world(), grid={LR: LRS}, options=options)
    again = run_sweep(train_and_evaluate_workflow, hello_world(), grid={LR: LRS}, options=options)
    assert first.ok and again.ok
    assert get_ledger(again.store).get_run(again.run_id).user == "dana"
    assert ledger_counts(again)[("evaluate_model", "succeeded")] == 2
    assert ledger_counts(again)[("submit_training", "cached")] == 2


def test_run_sweep_takes_a_sample_section_as_a_sweep_file_does(isolated_store):
    sample = {"num_samples": 3, "seed": 4, "params": {LR: {"loguniform": [1e-5, 1e-2]}}}
    preview = dry_run_sweep(train_and_evaluate_workflow, hello_world(), grid={SEED: SEEDS},
                            sample=sample, options=RunOptions(executor="inline"))
    assert preview.sample_seed == 4
    assert [p.overrides[SEED] for p in preview.points] == [0, 0, 0, 1, 1, 1]
    drawn = [p.overrides[LR] for p in preview.points]
    assert drawn[:3] == drawn[3:] and len(set(drawn)) == 3
    assert all(1e-5 <= lr <= 1e-2 for lr in drawn)
    result = run_sweep(train_and_evaluate_workflow, hello_world(), grid={SEED: SEEDS},
                       sample=sample, options=RunOptions(executor="inline"))
    assert sorted(result.to_pandas()[LR]) == sorted(drawn)


def test_dry_run_sweep_counts_nodes_and_runs_nothing(isolated_store):
    preview = dry_run_sweep(train_and_evaluate_workflow, hello_world(), grid={LR: LRS, SEED: SEEDS},
                            options=RunOptions(executor="inline"))
    assert len(preview.points) == 4
    assert [(c.step, c.nodes, c.to_run) for c in preview.steps] == [
        ("prepare_dataset", 1, 1), ("submit_training", 4, 4), ("wait_for_training", 4, 4),
        ("evaluate_model", 4, 4)]
    assert not isolated_store.exists()


def test_an_execution_keyword_to_run_sweep_is_refused_with_what_to_write_instead():
    with pytest.raises(ArgumentError, match=r"write options=RunOptions\(executor='inline'\)"):
        run_sweep(train_and_evaluate_workflow, hello_world(), grid={LR: LRS}, executor="inline")


def test_the_front_doors_import_from_motools_itself():
    import motools

    assert (motools.run_sweep, motools.RunOptions) == (run_sweep, RunOptions)
    assert motools.run_workflow is run_workflow
