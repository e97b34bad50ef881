"""The shipped examples run as shipped, from a foreign working directory, and print what they say.

Each example runs once per module, in a subprocess with its own store, exactly as a user would
start it (`python examples/N_name.py`, no arguments: steps run on a private local Ray).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from motools.atom import Atom, get_store

REPO = Path(__file__).resolve().parents[2]
STEPS = ["prepare_dataset", "submit_training", "wait_for_training", "evaluate_model"]


@dataclass
class Ran:
    cwd: Path
    store: Path
    code: int
    out: str
    err: str


def run_example(name: str, root: Path) -> Ran:
    cwd, store = root / "cwd", root / "store"
    cwd.mkdir()
    env = {**os.environ, "MOTOOLS_STORE": str(store)}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run([sys.executable, str(REPO / "examples" / name)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)
    return Ran(cwd, store, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def workflow_example(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    return run_example("2_workflow.py", tmp_path_factory.mktemp("workflow_example"))


@pytest.fixture(scope="module")
def sweep_example(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    return run_example("4_sweep.py", tmp_path_factory.mktemp("sweep_example"))


def section(out: str, heading: str) -> str:
    """The lines after `== heading...` up to the next `==` heading."""
    match = re.search(rf"^== {re.escape(heading)}.*?==\n(.*?)(?=^== |\Z)", out, re.M | re.S)
    assert match, f"no section {heading!r} in:\n{out}"
    return match.group(1)


def step_lines(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^  (\w+)\s+(succeeded|cached|failed|skipped)\s+[\d.]+s$", text, re.M)


# ---- examples/2_workflow.py ------------------------------------------------------------------


def test_workflow_example_exits_zero(workflow_example):
    assert workflow_example.code == 0, workflow_example.err


def test_workflow_example_first_run_executes_every_step(workflow_example):
    assert step_lines(section(workflow_example.out, "first run")) == [
        (step, "succeeded") for step in STEPS
    ]


def test_workflow_example_second_run_is_served_from_cache(workflow_example):
    second = section(workflow_example.out, "second run")
    assert step_lines(second) == [(step, "cached") for step in STEPS]
    assert "same eval atom as the first run: True" in second


def test_workflow_example_prints_a_dataset_sample_from_the_stored_atom(workflow_example):
    text = section(workflow_example.out, "dataset")
    assert "100 samples, columns ['messages']" in text
    assert re.search(r"^    user: .+$", text, re.M)
    assert "    assistant: Hello, World!" in text
    dataset_id = re.search(r"^== dataset (dataset-[0-9a-f]{64}) ==$", workflow_example.out, re.M)
    atom = Atom.load(dataset_id.group(1), store=get_store(workflow_example.store))
    assert len(atom.load()) == 100


def test_workflow_example_prints_the_model_id_and_the_eval_metrics(workflow_example):
    out = workflow_example.out
    model_line = r"^  model id: dummy/meta-llama/Llama-3\.2-1B:hello-world/dummy-\w+$"
    assert re.search(model_line, out, re.M)
    eval_id = re.search(r"^== eval results (eval-[0-9a-f]{64}) ==$", out, re.M).group(1)
    metrics = Atom.load(eval_id, store=get_store(workflow_example.store)).load().metrics
    accuracy = metrics["hello_world"]["accuracy"]
    assert f"  hello_world: accuracy={accuracy}, n=10, stderr=" in out


def test_workflow_example_traces_provenance_back_to_the_dataset(workflow_example):
    text = section(workflow_example.out, "provenance")
    assert re.search(r"eval results made from: \{'trained_model': 'model-[0-9a-f]{64}'\} "
                     r"\(user: alice\)", text)
    lineage = re.findall(r"^  (\w+)\s+<- (.+)$", text, re.M)
    assert [step for step, _ in lineage] == STEPS[::-1]
    assert lineage[-1][1] == "(no inputs)"
    assert lineage[-2][1].startswith("prepared_dataset=dataset-")


# ---- examples/4_sweep.py ---------------------------------------------------------------------


def test_sweep_example_exits_zero_with_no_failures(sweep_example):
    assert sweep_example.code == 0, sweep_example.err
    assert "failures: none" in sweep_example.out


def test_sweep_example_prints_a_row_per_grid_point(sweep_example):
    text = section(sweep_example.out, "sweep lr-by-seed")
    rows = re.findall(r"^\s+(\d+)\s+([\d.e-]+)\s+(\d)\s+([\d.]+)\s+succeeded$", text, re.M)
    assert [int(r[0]) for r in rows] == list(range(12))
    assert [(float(r[1]), int(r[2])) for r in rows] == [
        (lr, seed) for lr in (1e-5, 1e-4, 1e-3, 1e-2) for seed in (0, 1, 2)
    ]


def test_sweep_example_averages_accuracy_over_three_seeds(sweep_example):
    text = section(sweep_example.out, "accuracy by learning rate")
    counts = re.findall(r"^[\d.]+\s+[\d.]+\s+[\d.]+\s+(\d+)$", text, re.M)
    assert counts == ["3"] * 4


def test_sweep_example_writes_the_plot_under_the_working_directory(sweep_example):
    assert "plot: out/lr_sweep.png" in sweep_example.out
    data = (sweep_example.cwd / "out" / "lr_sweep.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_sweep_example_stores_its_results_table_in_the_store(sweep_example):
    uri = re.search(r"^results: (.+results\.parquet)$", sweep_example.out, re.M).group(1)
    assert Path(uri).is_relative_to(sweep_example.store)
    assert pq.read_table(uri).num_rows == 12
