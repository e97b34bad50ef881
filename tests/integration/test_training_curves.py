"""Training curves (issue #14, item 5) with the real `local` engine on `local/tiny-byte-lm`: the
model atom carries the loss per step and per epoch, the results table has `train_loss`, and
`motools sweep plot --y train_loss` and `motools sweep curves` draw them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_runner import cli, run_id_of, write

from motools.atom import Atom, get_store
from motools.sweep import load_results, metric_columns, training_curves

REPO = Path(__file__).resolve().parents[2]
LOCAL_BASE = REPO / "configs" / "hello_world_local.yaml"
BASE = REPO / "configs" / "hello_world.yaml"
LR = "submit_training.hyperparameters.learning_rate"
PNG = b"\x89PNG\r\n\x1a\n"
EPOCHS, STEPS_PER_EPOCH = 3, 5  # 40 samples in batches of 8


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("curves")
    sweep = write(root / "sweep.yaml", {"name": "curves", "workflow": "train_and_evaluate",
                                        "base": str(LOCAL_BASE), "grid": {LR: [3e-3, 1e-2]}})
    store = root / "store"
    result = cli("sweep", "run", sweep, "--store", store,
                 "--set", "prepare_dataset.loader_kwargs.num_samples=40",
                 "--set", f"submit_training.hyperparameters.n_epochs={EPOCHS}",
                 "--set", "submit_training.hyperparameters.batch_size=8")
    assert result.code == 0, result.out + result.err
    return sweep, store, run_id_of(result.out)


def model_infos(store: Path) -> list[dict[str, Any]]:
    st = get_store(store)
    return [Atom.load(a, store=st).metadata["info"] for a in st.iter_atom_ids()
            if a.startswith("model-")]


def test_the_model_atom_carries_the_loss_per_step_and_per_epoch(local_sweep):
    _, store, _ = local_sweep
    infos = model_infos(store)
    assert len(infos) == 2
    for info in infos:
        steps, epochs = info["loss_per_step"], info["loss_per_epoch"]
        assert len(steps) == EPOCHS * STEPS_PER_EPOCH == info["steps"]
        assert len(epochs) == EPOCHS
        assert all(isinstance(x, float) and x > 0 for x in steps)
        assert epochs[-1] < epochs[0]  # training lowered the loss overall
        assert epochs[0] == pytest.approx(sum(steps[:STEPS_PER_EPOCH]) / STEPS_PER_EPOCH)
        assert info["train_loss"] == epochs[-1]


def test_the_results_table_has_each_points_final_train_loss(local_sweep):
    _, store, run_id = local_sweep
    table = load_results(get_store(store), run_id)
    assert "train_loss" in metric_columns(table)
    assert sorted(table.column("train_loss").to_pylist()) == sorted(
        info["train_loss"] for info in model_infos(store))


def test_sweep_plot_takes_train_loss_as_y(local_sweep, tmp_path):
    sweep, store, _ = local_sweep
    out = tmp_path / "train_loss.png"
    result = cli("sweep", "plot", sweep, "--x", "learning_rate", "--y", "train_loss",
                 "-o", out, "--store", store)
    assert result.code == 0, result.err
    assert out.read_bytes().startswith(PNG)


def test_sweep_curves_draws_loss_against_step_one_line_per_point(local_sweep, tmp_path):
    sweep, store, run_id = local_sweep
    curves = training_curves(sweep, store=store)
    assert [c.index for c in curves] == [0, 1]
    assert [c.label for c in curves] == ["0 (learning_rate=0.003)", "1 (learning_rate=0.01)"]
    assert all(len(c.loss_per_step) == EPOCHS * STEPS_PER_EPOCH for c in curves)
    out = tmp_path / "plots" / "loss.png"
    result = cli("sweep", "curves", run_id, "-o", out, "--store", store)
    assert result.code == 0, result.err
    assert result.out.strip() == f"wrote {out}"
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000


def test_dummy_training_records_no_loss_and_curves_says_so(tmp_path):
    sweep = write(tmp_path / "s.yaml", {"name": "dummy", "workflow": "train_and_evaluate",
                                        "base": str(BASE), "grid": {LR: [1e-4]}})
    ran = cli("sweep", "run", sweep, "--executor", "inline")
    assert ran.code == 0, ran.err
    assert "train_loss" not in load_results(get_store(), run_id_of(ran.out)).column_names
    result = cli("sweep", "curves", sweep, "-o", tmp_path / "loss.png")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert "has recorded a training loss" in line and "dummy backend trains nothing" in line
    assert not (tmp_path / "loss.png").exists()


def test_curves_writes_png_only(local_sweep, tmp_path):
    sweep, store, _ = local_sweep
    result = cli("sweep", "curves", sweep, "-o", tmp_path / "loss.jpg", "--store", store)
    assert result.code == 2 and "must end in .png" in result.err
